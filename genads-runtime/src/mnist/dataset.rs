//! The MNIST-format data set in memory: splits, the paper's seeded 10 000-image training subset,
//! pixels mapped to [−1, 1] (PAPER.md §4.2 step 1) and the scalar normalisation statistics.

use super::fetch::{require, DatasetKind};
use super::idx::{read_images, read_labels, IdxImages};
use super::{MnistError, Result};
use crate::rng::seeded;
use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use std::path::Path;

/// Which split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The 60 000 training images.
    Train,
    /// The 10 000 test images.
    Test,
}

impl Split {
    fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

/// Images with labels, pixels as f32 in [−1, 1] (`2·p/255 − 1`), row-major 28×28.
#[derive(Debug, Clone)]
pub struct ImageSet {
    /// Rows (28).
    pub rows: usize,
    /// Columns (28).
    pub cols: usize,
    /// `len · rows · cols` pixels in [−1, 1].
    pub pixels: Vec<f32>,
    /// One label per image, in 0..10.
    pub labels: Vec<u8>,
}

impl ImageSet {
    /// Builds a set from IDX images and labels (counts must agree).
    pub fn from_idx(images: &IdxImages, labels: Vec<u8>) -> Result<Self> {
        if images.count != labels.len() {
            return Err(MnistError::Invalid(format!(
                "{} images but {} labels",
                images.count,
                labels.len()
            )));
        }
        Ok(Self {
            rows: images.rows,
            cols: images.cols,
            pixels: images
                .pixels
                .iter()
                .map(|&p| p as f32 * (2.0 / 255.0) - 1.0)
                .collect(),
            labels,
        })
    }

    /// Reads a split from a directory holding the four IDX files (raw or `.gz`).
    pub fn load_dir(dir: &Path, split: Split) -> Result<Self> {
        let find = |stem: String| {
            let raw = dir.join(&stem);
            if raw.is_file() {
                raw
            } else {
                dir.join(format!("{stem}.gz"))
            }
        };
        let images = read_images(&find(format!("{}-images-idx3-ubyte", split.prefix())))?;
        let labels = read_labels(&find(format!("{}-labels-idx1-ubyte", split.prefix())), 10)?;
        Self::from_idx(&images, labels)
    }

    /// Reads a split of an installed data set; the error says what to run when it is missing.
    pub fn load(kind: DatasetKind, split: Split) -> Result<Self> {
        Self::load_dir(&require(kind)?, split)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn dim(&self) -> usize {
        self.rows * self.cols
    }

    /// A new set with the images at `indices` (out-of-range indices are an error).
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        let d = self.dim();
        let mut pixels = Vec::with_capacity(indices.len() * d);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            if i >= self.len() {
                return Err(MnistError::Invalid(format!(
                    "index {i} out of range for {} images",
                    self.len()
                )));
            }
            pixels.extend_from_slice(&self.pixels[i * d..(i + 1) * d]);
            labels.push(self.labels[i]);
        }
        Ok(Self {
            rows: self.rows,
            cols: self.cols,
            pixels,
            labels,
        })
    }

    /// The first `n` images (all when `n` exceeds the size).
    pub fn head(&self, n: usize) -> Self {
        let n = n.min(self.len());
        let idx: Vec<usize> = (0..n).collect();
        self.select(&idx).expect("indices are in range")
    }

    /// A seeded random subset of `n` distinct images (the paper trains on 10 000 of the 60 000).
    pub fn random_subset(&self, n: usize, seed: u64) -> Result<Self> {
        if n > self.len() {
            return Err(MnistError::Invalid(format!(
                "subset of {n} requested from {} images",
                self.len()
            )));
        }
        let mut idx: Vec<usize> = (0..self.len()).collect();
        let mut rng = seeded(seed);
        let (chosen, _) = idx.partial_shuffle(&mut rng, n);
        let chosen = chosen.to_vec();
        self.select(&chosen)
    }

    /// Images `[start, start + n)` as an f32 tensor of shape (n, 1, rows, cols).
    pub fn batch_tensor(&self, start: usize, n: usize, device: &Device) -> Result<Tensor> {
        let d = self.dim();
        if start + n > self.len() {
            return Err(MnistError::Invalid(format!(
                "batch [{start}, {}) out of range for {} images",
                start + n,
                self.len()
            )));
        }
        let data = self.pixels[start * d..(start + n) * d].to_vec();
        Ok(Tensor::from_vec(
            data,
            (n, 1, self.rows, self.cols),
            device,
        )?)
    }

    /// The images at `indices` as an f32 tensor (n, 1, rows, cols) and their labels as u32 (n,).
    pub fn gather(&self, indices: &[usize], device: &Device) -> Result<(Tensor, Tensor)> {
        let sub = self.select(indices)?;
        let n = sub.len();
        let x = Tensor::from_vec(sub.pixels, (n, 1, self.rows, self.cols), device)?;
        let labels: Vec<u32> = sub.labels.iter().map(|&l| l as u32).collect();
        Ok((x, Tensor::from_vec(labels, n, device)?))
    }
}

/// The paper's training subset size (PAPER.md §6.4: a random 10 000 of the 60 000 images).
pub const PAPER_SUBSET: usize = 10_000;

/// The training images of an installed data set: all 60 000, or a seeded random subset of
/// `subset` images (`Some(PAPER_SUBSET)` reproduces the paper's setting).
pub fn training_set(kind: DatasetKind, subset: Option<usize>, seed: u64) -> Result<ImageSet> {
    let all = ImageSet::load(kind, Split::Train)?;
    match subset {
        Some(n) => all.random_subset(n, seed),
        None => Ok(all),
    }
}

impl ImageSet {
    /// The images at `indices` as the codec's image batch (pixels in [−1, 1]).
    pub fn image_batch(&self, indices: &[usize]) -> Result<crate::encode::ImageBatch> {
        let sub = self.select(indices)?;
        Ok(crate::encode::ImageBatch {
            n: sub.len(),
            h: self.rows,
            w: self.cols,
            pixels: sub.pixels,
        })
    }
}

/// Scalar normalisation `(x − mean)/std` with statistics from the first `n` images (the paper
/// uses the first 1000 images of the training subset), computed in f64.
pub fn normalisation_stats(set: &ImageSet, n: usize) -> Result<(f64, f64)> {
    let n = n.min(set.len());
    let vals = &set.pixels[..n * set.dim()];
    if vals.is_empty() {
        return Err(MnistError::Invalid("normalisation of an empty set".into()));
    }
    let m = vals.iter().map(|&v| v as f64).sum::<f64>() / vals.len() as f64;
    let var = vals.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / vals.len() as f64;
    if var <= 0.0 {
        return Err(MnistError::Invalid(
            "normalisation: the images are constant".into(),
        ));
    }
    Ok((m, var.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(n: usize) -> ImageSet {
        let images = IdxImages {
            count: n,
            rows: 2,
            cols: 2,
            pixels: (0..4 * n).map(|i| (i % 256) as u8).collect(),
        };
        ImageSet::from_idx(&images, (0..n).map(|i| (i % 10) as u8).collect()).unwrap()
    }

    #[test]
    fn pixel_range_and_subset() {
        let images = IdxImages {
            count: 1,
            rows: 1,
            cols: 2,
            pixels: vec![0, 255],
        };
        let s = ImageSet::from_idx(&images, vec![3]).unwrap();
        assert_eq!(s.pixels, vec![-1.0, 1.0]);
        let big = set(50);
        let a = big.random_subset(10, 7).unwrap();
        let b = big.random_subset(10, 7).unwrap();
        let c = big.random_subset(10, 8).unwrap();
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.pixels, b.pixels);
        assert_ne!(a.pixels, c.pixels);
        // distinct images
        let mut firsts: Vec<i64> = (0..10).map(|i| (a.pixels[4 * i] * 1e4) as i64).collect();
        firsts.sort();
        firsts.dedup();
        assert_eq!(firsts.len(), 10);
        assert!(big.random_subset(51, 0).is_err());
        assert_eq!(
            big.batch_tensor(3, 4, &Device::Cpu).unwrap().dims(),
            &[4, 1, 2, 2]
        );
        assert!(big.batch_tensor(48, 4, &Device::Cpu).is_err());
    }

    #[test]
    fn normalisation_matches_direct() {
        let s = set(5);
        let (m, sd) = normalisation_stats(&s, 2).unwrap();
        let v: Vec<f64> = s.pixels[..8].iter().map(|&x| x as f64).collect();
        let mean = v.iter().sum::<f64>() / 8.0;
        assert!((m - mean).abs() < 1e-12);
        let z: f64 = v.iter().map(|x| ((x - m) / sd).powi(2)).sum::<f64>() / 8.0;
        assert!((z - 1.0).abs() < 1e-9);
    }
}
