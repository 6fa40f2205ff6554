//! Encoders (data → bulk state S = (φ̃, π̃) at r_UV) and decoders (φ̃ → data), PAPER.md §4:
//!
//! * [`PointSourceCodec`]: 2-D points as point sources, K×K modes on a periodic box, phase by the
//!   shift theorem, soft-argmax decoder (§4.1);
//! * [`ImageSpectralCodec`]: images as the boundary source, orthonormal FFT × envelopes, exact
//!   decoder (§4.2); with unit envelopes ([`ImageSpectralCodec::plain`]) it is the physics-free
//!   "vanilla" Fourier baseline (§4.3);
//! * [`RawPointCodec`]: the physics-free point baseline, φ̃ = normalised point (§4.3).
//!
//! All of them implement [`Codec`], so the trainer uses them uniformly. Lift noise σ·N(0, 1) is added
//! to π̃ only, drawn from the caller's seeded generator. Output tensors are f32 on the CPU.

mod images;
mod points;
mod raw;

pub use images::ImageSpectralCodec;
pub use points::{PointSourceCodec, PointSourceConfig, SoftArgmax};
pub use raw::RawPointCodec;

use crate::rng::{normal_vec, ChaCha8Rng};
use crate::{Error, Modes, Result, State};
use candle_core::Tensor;
use serde::{Deserialize, Serialize};

/// A batch of data in its natural (boundary) form.
#[derive(Debug, Clone, PartialEq)]
pub enum DataBatch {
    /// 2-D points.
    Points(Vec<[f64; 2]>),
    /// Images.
    Images(ImageBatch),
}

/// A batch of single-channel images, row-major (n, h, w).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageBatch {
    /// Pixel values, length n·h·w.
    pub pixels: Vec<f32>,
    /// Number of images.
    pub n: usize,
    /// Rows.
    pub h: usize,
    /// Columns.
    pub w: usize,
}

impl DataBatch {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            DataBatch::Points(p) => p.len(),
            DataBatch::Images(i) => i.n,
        }
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The points, or an error naming what was expected.
    pub fn points(&self) -> Result<&[[f64; 2]]> {
        match self {
            DataBatch::Points(p) => Ok(p),
            DataBatch::Images(_) => Err(Error::Invalid(
                "this codec encodes 2-D points, got images".into(),
            )),
        }
    }

    /// The images, or an error naming what was expected.
    pub fn images(&self) -> Result<&ImageBatch> {
        match self {
            DataBatch::Images(i) => Ok(i),
            DataBatch::Points(_) => Err(Error::Invalid(
                "this codec encodes images, got points".into(),
            )),
        }
    }
}

/// Scalar data normalisation y ← (y − mean)/std (one mean and std over all coordinates/pixels).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DataScaling {
    /// Mean subtracted.
    pub mean: f64,
    /// Standard deviation divided by (> 0).
    pub std: f64,
}

impl Default for DataScaling {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl DataScaling {
    /// No scaling.
    pub const IDENTITY: Self = Self {
        mean: 0.0,
        std: 1.0,
    };

    /// A validated scaling.
    pub fn new(mean: f64, std: f64) -> Result<Self> {
        if !(mean.is_finite() && std.is_finite() && std > 0.0) {
            return Err(Error::Invalid(format!(
                "data scaling needs finite mean and std > 0, got {mean}, {std}"
            )));
        }
        Ok(Self { mean, std })
    }

    /// Fits the scalar mean and (population) std of `values`.
    pub fn fit(values: impl IntoIterator<Item = f64>) -> Result<Self> {
        let (mut n, mut sum, mut sum2) = (0usize, 0.0, 0.0);
        for v in values {
            if !v.is_finite() {
                return Err(Error::Invalid(
                    "cannot fit a scaling to non-finite data".into(),
                ));
            }
            n += 1;
            sum += v;
            sum2 += v * v;
        }
        if n == 0 {
            return Err(Error::Invalid("cannot fit a scaling to empty data".into()));
        }
        let mean = sum / n as f64;
        let var = (sum2 / n as f64 - mean * mean).max(0.0);
        Self::new(mean, var.sqrt().max(1e-12))
    }

    /// Fits to all coordinates of a set of points.
    pub fn fit_points(points: &[[f64; 2]]) -> Result<Self> {
        Self::fit(points.iter().flat_map(|p| p.iter().copied()))
    }

    /// (y − mean)/std.
    pub fn apply(&self, y: f64) -> f64 {
        (y - self.mean) / self.std
    }

    /// y·std + mean.
    pub fn invert(&self, y: f64) -> f64 {
        y * self.std + self.mean
    }
}

/// A data codec: lifts boundary data into the bulk state at r_UV and reads it back.
pub trait Codec: Send + Sync {
    /// Shape of φ̃ (and π̃) for a batch of `batch` samples: (B, 2C, H, W) or (B, C).
    fn state_shape(&self, batch: usize) -> Vec<usize>;
    /// |k|² of the state's modes (see [`Modes`]): (1, 1, H, W), or (1, 1) zeros for point states.
    fn modes(&self) -> Result<Modes>;
    /// |k|² per (H, W) mode, row-major, for a Sobolev IR prior; `None` for point states.
    fn prior_k2(&self) -> Option<Vec<f64>>;
    /// Encodes a batch; `noise = Some((rng, σ))` adds σ·N(0, 1) lift noise to π̃.
    fn encode(&self, batch: &DataBatch, noise: Option<(&mut ChaCha8Rng, f64)>) -> Result<State>;
    /// Decodes φ̃ back into data.
    fn decode(&self, phi: &Tensor) -> Result<DataBatch>;
    /// For point sources on a periodic box: each point's position as a fraction of the box per
    /// axis (what the source network's grid prior is estimated from); `None` for other codecs.
    fn box_fractions(&self, _points: &[[f64; 2]]) -> Option<Vec<[f64; 2]>> {
        None
    }
}

/// Adds σ·N(0, 1) to `pi` in place (no-op for `None` or σ = 0).
pub(crate) fn add_lift_noise(pi: &mut [f64], noise: Option<(&mut ChaCha8Rng, f64)>) -> Result<()> {
    if let Some((rng, sigma)) = noise {
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(Error::Invalid(format!(
                "lift noise σ must be finite and ≥ 0, got {sigma}"
            )));
        }
        if sigma > 0.0 {
            let z = normal_vec(rng, pi.len(), sigma);
            for (v, z) in pi.iter_mut().zip(z) {
                *v += z;
            }
        }
    }
    Ok(())
}

/// Reads a float tensor of exactly `want` dims into f64, rejecting non-finite values.
pub(crate) fn read_tensor(t: &Tensor, want: &[usize], what: &str) -> Result<Vec<f64>> {
    if want.iter().product::<usize>() == 0 || t.dims().iter().product::<usize>() == 0 {
        return Err(Error::Invalid(format!(
            "{what}: empty batch (shape {:?})",
            t.dims()
        )));
    }
    if t.dims() != want {
        return Err(Error::Invalid(format!(
            "{what}: expected shape {want:?}, got {:?}",
            t.dims()
        )));
    }
    let v: Vec<f64> = t
        .to_dtype(candle_core::DType::F64)?
        .flatten_all()?
        .to_vec1()?;
    if v.iter().any(|x| !x.is_finite()) {
        return Err(Error::Invalid(format!(
            "{what}: tensor contains NaN or infinite values"
        )));
    }
    Ok(v)
}

/// Validates a batch of points (non-empty, finite).
pub(crate) fn check_points(points: &[[f64; 2]]) -> Result<()> {
    if points.is_empty() {
        return Err(Error::Invalid("empty batch of points".into()));
    }
    if points.iter().flatten().any(|v| !v.is_finite()) {
        return Err(Error::Invalid(
            "points contain NaN or infinite coordinates".into(),
        ));
    }
    Ok(())
}
