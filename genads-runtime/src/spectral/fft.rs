//! Batched 2-D complex FFTs (f64) over the last two axes of (…, H, W) row-major data.

use crate::{Error, Result};
use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Normalisation convention of a transform pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FftNorm {
    /// 1/sqrt(N) both ways (numpy `norm="ortho"`): unitary.
    Ortho,
    /// Unnormalised forward, 1/N inverse (numpy's default `norm="backward"`).
    Backward,
}

/// Planned 2-D FFTs for images of shape (h, w); cheap to clone and shareable across threads.
#[derive(Clone)]
pub struct Fft2 {
    h: usize,
    w: usize,
    row_fwd: Arc<dyn Fft<f64>>,
    row_inv: Arc<dyn Fft<f64>>,
    col_fwd: Arc<dyn Fft<f64>>,
    col_inv: Arc<dyn Fft<f64>>,
}

impl std::fmt::Debug for Fft2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fft2")
            .field("h", &self.h)
            .field("w", &self.w)
            .finish()
    }
}

impl Fft2 {
    /// Plans transforms for (h, w) images.
    pub fn new(h: usize, w: usize) -> Result<Self> {
        if h == 0 || w == 0 {
            return Err(Error::Invalid(format!(
                "FFT size must be non-zero, got {h}×{w}"
            )));
        }
        let mut planner = FftPlanner::<f64>::new();
        Ok(Self {
            h,
            w,
            row_fwd: planner.plan_fft_forward(w),
            row_inv: planner.plan_fft_inverse(w),
            col_fwd: planner.plan_fft_forward(h),
            col_inv: planner.plan_fft_inverse(h),
        })
    }

    /// Image shape (h, w).
    pub fn shape(&self) -> (usize, usize) {
        (self.h, self.w)
    }

    /// In-place forward transform of every h·w image in `data` (length a multiple of h·w):
    /// X[k] = s Σ_n x[n] e^(−2πi k·n/N), s = 1 (backward) or 1/sqrt(N) (ortho).
    pub fn forward(&self, data: &mut [Complex64], norm: FftNorm) -> Result<()> {
        let s = match norm {
            FftNorm::Ortho => 1.0 / ((self.h * self.w) as f64).sqrt(),
            FftNorm::Backward => 1.0,
        };
        self.run(data, false, s)
    }

    /// In-place inverse transform: x[n] = s Σ_k X[k] e^(+2πi k·n/N), s = 1/N (backward) or
    /// 1/sqrt(N) (ortho).
    pub fn inverse(&self, data: &mut [Complex64], norm: FftNorm) -> Result<()> {
        let n = (self.h * self.w) as f64;
        let s = match norm {
            FftNorm::Ortho => 1.0 / n.sqrt(),
            FftNorm::Backward => 1.0 / n,
        };
        self.run(data, true, s)
    }

    /// Unnormalised 1-D inverse transform of every contiguous row of length w in `data` (a building
    /// block for sparse/zero-padded 2-D transforms).
    pub fn inverse_rows_unnormalised(&self, data: &mut [Complex64]) -> Result<()> {
        if !data.len().is_multiple_of(self.w) {
            return Err(Error::Invalid(format!(
                "row FFT buffer of length {} is not a whole number of rows of {}",
                data.len(),
                self.w
            )));
        }
        if !data.is_empty() {
            self.row_inv.process(data);
        }
        Ok(())
    }

    fn run(&self, data: &mut [Complex64], inverse: bool, scale: f64) -> Result<()> {
        let (h, w) = (self.h, self.w);
        let n = h * w;
        if !data.len().is_multiple_of(n) {
            return Err(Error::Invalid(format!(
                "FFT buffer of length {} is not a whole number of {h}×{w} images",
                data.len()
            )));
        }
        if data.is_empty() {
            return Ok(());
        }
        let (row, col) = if inverse {
            (&self.row_inv, &self.col_inv)
        } else {
            (&self.row_fwd, &self.col_fwd)
        };
        // Rows are contiguous: one call transforms every row of every image.
        row.process(data);
        if h > 1 {
            let mut scratch = vec![Complex64::new(0.0, 0.0); n];
            for img in data.chunks_exact_mut(n) {
                transpose(img, &mut scratch, h, w);
                col.process(&mut scratch);
                transpose(&scratch, img, w, h);
            }
        }
        if scale != 1.0 {
            for v in data.iter_mut() {
                *v *= scale;
            }
        }
        Ok(())
    }
}

/// out (cols × rows) = transpose of src (rows × cols).
fn transpose(src: &[Complex64], out: &mut [Complex64], rows: usize, cols: usize) {
    for i in 0..rows {
        for j in 0..cols {
            out[j * rows + i] = src[i * cols + j];
        }
    }
}
