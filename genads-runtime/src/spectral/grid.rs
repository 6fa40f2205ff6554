//! Mode grids on a periodic box.

use crate::{Error, Result};
use candle_core::{Device, Tensor};
use std::f64::consts::PI;

/// The integer frequencies of numpy's `fftfreq(n)·n`: {0, 1, …, ⌈n/2⌉−1, −⌊n/2⌋, …, −1}.
pub fn fft_indices(n: usize) -> Vec<i64> {
    let n_i = n as i64;
    (0..n_i)
        .map(|i| if i < (n_i + 1) / 2 { i } else { i - n_i })
        .collect()
}

/// Angular wavenumbers k_i = 2π n_i / L of an axis of `n` points on a period `length`.
pub fn wavenumbers(n: usize, length: f64) -> Vec<f64> {
    fft_indices(n)
        .into_iter()
        .map(|m| 2.0 * PI * m as f64 / length)
        .collect()
}

/// A 2-D mode grid of shape (h, w) on a periodic box of side lengths (lx, ly).
#[derive(Debug, Clone, PartialEq)]
pub struct ModeGrid {
    /// Number of modes along x (tensor dim 2).
    pub h: usize,
    /// Number of modes along y (tensor dim 3).
    pub w: usize,
    /// Period along x.
    pub lx: f64,
    /// Period along y.
    pub ly: f64,
    /// k_x per row index.
    pub kx: Vec<f64>,
    /// k_y per column index.
    pub ky: Vec<f64>,
}

impl ModeGrid {
    /// A grid of `h × w` modes on an `lx × ly` periodic box.
    pub fn new(h: usize, w: usize, lx: f64, ly: f64) -> Result<Self> {
        if h == 0 || w == 0 {
            return Err(Error::Invalid(format!(
                "mode grid must be non-empty, got {h}×{w}"
            )));
        }
        if !(lx.is_finite() && ly.is_finite() && lx > 0.0 && ly > 0.0) {
            return Err(Error::Invalid(format!(
                "box lengths must be positive and finite, got {lx}×{ly}"
            )));
        }
        Ok(Self {
            h,
            w,
            lx,
            ly,
            kx: wavenumbers(h, lx),
            ky: wavenumbers(w, ly),
        })
    }

    /// Number of modes h·w.
    pub fn len(&self) -> usize {
        self.h * self.w
    }

    /// Always false (grids are non-empty by construction).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// |k|² per mode, row-major (index i·w + j).
    pub fn k2(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.len());
        for kx in &self.kx {
            for ky in &self.ky {
                out.push(kx * kx + ky * ky);
            }
        }
        out
    }

    /// |k| per mode, row-major.
    pub fn k_abs(&self) -> Vec<f64> {
        self.k2().into_iter().map(f64::sqrt).collect()
    }

    /// The regularised |k|_reg = sqrt(|k|² + ε²) per mode, row-major.
    pub fn k_abs_reg(&self, eps: f64) -> Vec<f64> {
        self.k2()
            .into_iter()
            .map(|k2| (k2 + eps * eps).sqrt())
            .collect()
    }

    /// |k|² as an f32 tensor of shape (1, 1, h, w), broadcastable against a state component.
    pub fn k2_tensor(&self, device: &Device) -> Result<Tensor> {
        let data: Vec<f32> = self.k2().into_iter().map(|v| v as f32).collect();
        Ok(Tensor::from_vec(data, (1, 1, self.h, self.w), device)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_fftfreq_convention() {
        assert_eq!(fft_indices(4), vec![0, 1, -2, -1]);
        assert_eq!(fft_indices(5), vec![0, 1, 2, -2, -1]);
        let idx = fft_indices(16);
        assert_eq!(&idx[..9], &[0, 1, 2, 3, 4, 5, 6, 7, -8]);
        let k = wavenumbers(16, 8.0);
        assert!((k[1] - 2.0 * PI / 8.0).abs() < 1e-15);
        assert!((k[8] + PI * 2.0).abs() < 1e-14);
    }

    #[test]
    fn grid_values() {
        let g = ModeGrid::new(16, 16, 8.0, 8.0).unwrap();
        let k2 = g.k2();
        // (n_x, n_y) = (1, 1): |k|² = 2 (2π/8)².
        assert!((k2[16 + 1] - 2.0 * (PI / 4.0).powi(2)).abs() < 1e-14);
        let reg = g.k_abs_reg(0.01);
        assert!((reg[0] - 0.01).abs() < 1e-16);
        assert_eq!(g.k2_tensor(&Device::Cpu).unwrap().dims(), &[1, 1, 16, 16]);
        assert!(ModeGrid::new(0, 3, 1.0, 1.0).is_err());
        assert!(ModeGrid::new(3, 3, f64::NAN, 1.0).is_err());
    }
}
