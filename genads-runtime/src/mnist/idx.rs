//! The IDX file format of MNIST (raw or gzip-compressed), read strictly.
//!
//! Layout: two zero bytes, a type byte (0x08 = unsigned byte, the only type MNIST uses), the number
//! of dimensions, then one big-endian u32 per dimension, then the data. The reader rejects a wrong
//! magic, an unexpected rank or dimension, a length that does not match the header exactly
//! (truncated or trailing bytes), a broken gzip stream and labels outside `0..classes`.

use super::{io_err, MnistError, Result};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

/// Upper bound on a decompressed IDX file (guards against gzip bombs and absurd headers).
pub const MAX_IDX_BYTES: usize = 256 << 20;

/// A stack of grey-scale images, row-major, one byte per pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// `count · rows · cols` pixel bytes.
    pub pixels: Vec<u8>,
}

impl IdxImages {
    /// The pixels of image `i` (`None` when out of range).
    pub fn image(&self, i: usize) -> Option<&[u8]> {
        let n = self.rows * self.cols;
        (i < self.count).then(|| &self.pixels[i * n..(i + 1) * n])
    }
}

fn bad(file: &str, reason: impl Into<String>) -> MnistError {
    MnistError::Idx {
        file: file.to_string(),
        reason: reason.into(),
    }
}

/// Decompresses `bytes` when they start with the gzip magic, else returns them unchanged.
pub fn maybe_gunzip(bytes: Vec<u8>, file: &str) -> Result<Vec<u8>> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::new();
        let mut decoder = GzDecoder::new(&bytes[..]).take(MAX_IDX_BYTES as u64 + 1);
        decoder
            .read_to_end(&mut out)
            .map_err(|e| bad(file, format!("corrupt gzip stream: {e}")))?;
        if out.len() > MAX_IDX_BYTES {
            return Err(bad(file, "decompressed size exceeds 256 MiB"));
        }
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Parses an IDX header of unsigned bytes with rank `rank`; returns the dimensions and the offset
/// of the data, after checking that the data length matches the header exactly.
fn parse_header(bytes: &[u8], rank: u8, file: &str) -> Result<(Vec<usize>, usize)> {
    if bytes.len() < 4 {
        return Err(bad(
            file,
            format!("{} bytes is too short for an IDX header", bytes.len()),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(
            file,
            format!(
                "bad magic {:02x}{:02x}{:02x}{:02x}: not an IDX file",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    if bytes[2] != 0x08 {
        return Err(bad(
            file,
            format!(
                "IDX element type 0x{:02x} is not unsigned byte (0x08)",
                bytes[2]
            ),
        ));
    }
    if bytes[3] != rank {
        return Err(bad(
            file,
            format!(
                "IDX rank {} where {rank} was expected (magic 0x0000080{rank}: {})",
                bytes[3],
                if rank == 1 { "labels" } else { "images" }
            ),
        ));
    }
    let header = 4 + 4 * rank as usize;
    if bytes.len() < header {
        return Err(bad(file, "truncated IDX header"));
    }
    let dims: Vec<usize> = (0..rank as usize)
        .map(|i| {
            let b = &bytes[4 + 4 * i..8 + 4 * i];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_IDX_BYTES)
        .ok_or_else(|| bad(file, format!("absurd IDX dimensions {dims:?}")))?;
    let got = bytes.len() - header;
    if got < expected {
        return Err(bad(
            file,
            format!("truncated: header {dims:?} needs {expected} data bytes, file has {got}"),
        ));
    }
    if got > expected {
        return Err(bad(
            file,
            format!(
                "{} trailing bytes after the {expected} data bytes of header {dims:?}",
                got - expected
            ),
        ));
    }
    Ok((dims, header))
}

/// Parses an image file (magic 0x00000803). `file` names the source in error messages.
pub fn parse_images(bytes: &[u8], file: &str) -> Result<IdxImages> {
    let (dims, off) = parse_header(bytes, 3, file)?;
    if dims[1] == 0 || dims[2] == 0 {
        return Err(bad(
            file,
            format!("empty image size {}×{}", dims[1], dims[2]),
        ));
    }
    Ok(IdxImages {
        count: dims[0],
        rows: dims[1],
        cols: dims[2],
        pixels: bytes[off..].to_vec(),
    })
}

/// Parses a label file (magic 0x00000801) and checks every label is below `classes`.
pub fn parse_labels(bytes: &[u8], classes: u8, file: &str) -> Result<Vec<u8>> {
    let (_, off) = parse_header(bytes, 1, file)?;
    let labels = bytes[off..].to_vec();
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l >= classes) {
        return Err(bad(
            file,
            format!("label {l} at index {i} is outside 0..{classes}"),
        ));
    }
    Ok(labels)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(io_err(format!("reading {}", path.display())))?;
    if meta.len() > MAX_IDX_BYTES as u64 {
        return Err(bad(&path.display().to_string(), "file exceeds 256 MiB"));
    }
    let bytes = std::fs::read(path).map_err(io_err(format!("reading {}", path.display())))?;
    maybe_gunzip(bytes, &path.display().to_string())
}

/// Reads an image file, raw or gzip-compressed.
pub fn read_images(path: &Path) -> Result<IdxImages> {
    parse_images(&read_bytes(path)?, &path.display().to_string())
}

/// Reads a label file, raw or gzip-compressed, with labels in `0..classes`.
pub fn read_labels(path: &Path, classes: u8) -> Result<Vec<u8>> {
    parse_labels(&read_bytes(path)?, classes, &path.display().to_string())
}

/// Encodes images as an IDX byte buffer (used to build test files and subsets).
pub fn encode_images(images: &IdxImages) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, 3];
    for d in [images.count, images.rows, images.cols] {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(&images.pixels);
    out
}

/// Encodes labels as an IDX byte buffer.
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, 1];
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> IdxImages {
        IdxImages {
            count: 3,
            rows: 2,
            cols: 4,
            pixels: (0..24).map(|i| (i * 10) as u8).collect(),
        }
    }

    #[test]
    fn round_trip_images_and_labels() {
        let img = tiny();
        let parsed = parse_images(&encode_images(&img), "t").unwrap();
        assert_eq!(parsed, img);
        assert_eq!(parsed.image(1).unwrap(), &img.pixels[8..16]);
        assert!(parsed.image(3).is_none());
        assert_eq!(
            parse_labels(&encode_labels(&[0, 9, 3]), 10, "t").unwrap(),
            vec![0, 9, 3]
        );
    }

    #[test]
    fn rejects_bad_files() {
        let good = encode_images(&tiny());
        let msg = |r: Result<IdxImages>| r.unwrap_err().to_string();
        assert!(msg(parse_images(&good[..good.len() - 1], "f")).contains("truncated"));
        let mut long = good.clone();
        long.push(0);
        assert!(msg(parse_images(&long, "f")).contains("trailing"));
        let mut magic = good.clone();
        magic[0] = 1;
        assert!(msg(parse_images(&magic, "f")).contains("bad magic"));
        let mut ty = good.clone();
        ty[2] = 0x0d;
        assert!(msg(parse_images(&ty, "f")).contains("element type"));
        // a label file where images are expected
        assert!(msg(parse_images(&encode_labels(&[1, 2]), "f")).contains("rank"));
        assert!(msg(parse_images(&good[..10], "f")).contains("header"));
        assert!(parse_labels(&encode_labels(&[1, 10]), 10, "f")
            .unwrap_err()
            .to_string()
            .contains("label 10 at index 1"));
        // absurd dimensions do not allocate
        let mut huge = vec![0, 0, 8, 3];
        for _ in 0..3 {
            huge.extend_from_slice(&u32::MAX.to_be_bytes());
        }
        assert!(msg(parse_images(&huge, "f")).contains("absurd"));
    }

    #[test]
    fn gzip_is_transparent_and_corruption_detected() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let raw = encode_images(&tiny());
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(&raw).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(maybe_gunzip(gz.clone(), "g").unwrap(), raw);
        let mut broken = gz.clone();
        let n = broken.len();
        broken[n - 6] ^= 0xff; // CRC/size trailer
        assert!(maybe_gunzip(broken, "g").is_err());
        assert!(maybe_gunzip(gz[..gz.len() / 2].to_vec(), "g").is_err());
    }
}
