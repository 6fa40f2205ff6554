//! Spectral point-source encoding of 2-D points and the soft-argmax decoder (PAPER.md §4.1).

use super::{add_lift_noise, check_points, read_tensor, Codec, DataBatch, DataScaling};
use crate::envelope::EnvelopeGrid;
use crate::rng::ChaCha8Rng;
use crate::spectral::{fft_indices, Complex64, Fft2, ModeGrid};
use crate::{Error, Modes, Result, State};
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Soft-argmax readout parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SoftArgmax {
    /// Side of the zero-padded image (paper: 128).
    pub grid: usize,
    /// Softmax sharpness on the standardised image (paper: 4).
    pub sharpness: f64,
}

impl Default for SoftArgmax {
    fn default() -> Self {
        Self {
            grid: 128,
            sharpness: 4.0,
        }
    }
}

/// Configuration of [`PointSourceCodec`] (paper: K = 16, C = 2, box [−4, 4]²).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PointSourceConfig {
    /// Modes per axis K.
    pub modes: usize,
    /// Complex channels C (identical copies of the same source).
    pub channels: usize,
    /// Box corner (x_min, y_min), in normalised coordinates.
    pub box_min: [f64; 2],
    /// Opposite corner (x_max, y_max).
    pub box_max: [f64; 2],
    /// Data normalisation.
    pub scaling: DataScaling,
    /// Decoder parameters.
    pub decoder: SoftArgmax,
}

impl Default for PointSourceConfig {
    fn default() -> Self {
        Self {
            modes: 16,
            channels: 2,
            box_min: [-4.0, -4.0],
            box_max: [4.0, 4.0],
            scaling: DataScaling::IDENTITY,
            decoder: SoftArgmax::default(),
        }
    }
}

impl PointSourceConfig {
    /// The K×K mode grid of the box (x along tensor dim 2, y along dim 3).
    pub fn mode_grid(&self) -> Result<ModeGrid> {
        ModeGrid::new(
            self.modes,
            self.modes,
            self.box_max[0] - self.box_min[0],
            self.box_max[1] - self.box_min[1],
        )
    }
}

/// Point sources on a periodic box: φ̂_c(k) = env_φ(k) e^(−i k·(x* − x_min)), likewise π̂ with env_π.
#[derive(Debug, Clone)]
pub struct PointSourceCodec {
    config: PointSourceConfig,
    grid: ModeGrid,
    env: EnvelopeGrid,
    ifft: Fft2,
}

impl PointSourceCodec {
    /// A codec from its configuration and the envelopes tabulated on `config.mode_grid()`.
    pub fn new(config: PointSourceConfig, env: EnvelopeGrid) -> Result<Self> {
        let grid = config.mode_grid()?;
        if config.channels == 0 {
            return Err(Error::Invalid(
                "point codec needs at least one channel".into(),
            ));
        }
        if env.h != grid.h
            || env.w != grid.w
            || env.phi.len() != grid.len()
            || env.pi.len() != grid.len()
        {
            return Err(Error::Invalid(format!(
                "envelope grid {}×{} does not match the {}×{} mode grid",
                env.h, env.w, grid.h, grid.w
            )));
        }
        let dec = config.decoder;
        if dec.grid < config.modes || !(dec.sharpness.is_finite() && dec.sharpness > 0.0) {
            return Err(Error::Invalid(format!(
                "soft-argmax needs grid ≥ K = {} and sharpness > 0, got {} and {}",
                config.modes, dec.grid, dec.sharpness
            )));
        }
        if config
            .box_min
            .iter()
            .chain(&config.box_max)
            .any(|v| !v.is_finite())
        {
            return Err(Error::Invalid("box corners must be finite".into()));
        }
        let ifft = Fft2::new(dec.grid, dec.grid)?;
        Ok(Self {
            config,
            grid,
            env,
            ifft,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PointSourceConfig {
        &self.config
    }

    /// The mode grid.
    pub fn grid(&self) -> &ModeGrid {
        &self.grid
    }

    /// The envelopes.
    pub fn envelope(&self) -> &EnvelopeGrid {
        &self.env
    }

    /// The soft-argmax read-out of one summed-channel spectrum (K×K complex, row-major), returning
    /// the point in normalised coordinates.
    fn soft_argmax(&self, spec: &[Complex64], scratch: &mut [Complex64]) -> Result<[f64; 2]> {
        let k = self.config.modes;
        let m = self.config.decoder.grid;
        // Zero-pad: copy each of the four corner blocks to the same corner of the M×M spectrum.
        let idx: Vec<usize> = fft_indices(k)
            .into_iter()
            .map(|n| {
                if n >= 0 {
                    n as usize
                } else {
                    (m as i64 + n) as usize
                }
            })
            .collect();
        let gain = (m as f64 / k as f64).powi(2);
        // Sparse 2-D inverse FFT of the zero-padded spectrum: only K of the M rows are non-zero, so
        // transform those K rows along y, then all M columns along x (K + M transforms, not 2M).
        let (rows, cols) = scratch.split_at_mut(k * m);
        rows.iter_mut().for_each(|v| *v = Complex64::new(0.0, 0.0));
        for a in 0..k {
            for b in 0..k {
                rows[a * m + idx[b]] = spec[a * k + b] * gain;
            }
        }
        self.ifft.inverse_rows_unnormalised(rows)?;
        cols.iter_mut().for_each(|v| *v = Complex64::new(0.0, 0.0));
        for j in 0..m {
            for a in 0..k {
                cols[j * m + idx[a]] = rows[a * m + j];
            }
        }
        self.ifft.inverse_rows_unnormalised(cols)?;
        // cols[j·M + i] is M²·image(x_i, y_j) (the 1/N of the backward inverse is applied below).
        let n = (m * m) as f64;
        let inv_n = 1.0 / n;
        let mean = cols.iter().map(|v| v.re).sum::<f64>() * inv_n / n;
        // Unbiased std (torch's default), clamped at 1e-6.
        let var = cols
            .iter()
            .map(|v| (v.re * inv_n - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0).max(1.0);
        let std = var.sqrt().max(1e-6);
        let beta = self.config.decoder.sharpness / std * inv_n;
        let zmax = cols.iter().map(|v| v.re).fold(f64::NEG_INFINITY, f64::max);
        let (mut wsum, mut ex, mut ey) = (0.0, 0.0, 0.0);
        for j in 0..m {
            for i in 0..m {
                let wgt = (beta * (cols[j * m + i].re - zmax)).exp();
                wsum += wgt;
                ex += wgt * i as f64;
                ey += wgt * j as f64;
            }
        }
        let [x0, y0] = self.config.box_min;
        let lx = self.grid.lx / m as f64;
        let ly = self.grid.ly / m as f64;
        Ok([x0 + ex / wsum * lx, y0 + ey / wsum * ly])
    }
}

impl Codec for PointSourceCodec {
    fn state_shape(&self, batch: usize) -> Vec<usize> {
        vec![batch, 2 * self.config.channels, self.grid.h, self.grid.w]
    }

    fn modes(&self) -> Result<Modes> {
        Ok(Modes {
            k2: self.grid.k2_tensor(&Device::Cpu)?,
        })
    }

    fn prior_k2(&self) -> Option<Vec<f64>> {
        Some(self.grid.k2())
    }

    fn encode(&self, batch: &DataBatch, noise: Option<(&mut ChaCha8Rng, f64)>) -> Result<State> {
        let pts = batch.points()?;
        check_points(pts)?;
        let (k, c) = (self.config.modes, self.config.channels);
        let kk = k * k;
        let per_sample = 2 * c * kk;
        let mut phi = vec![0.0f64; pts.len() * per_sample];
        let mut pi = vec![0.0f64; pts.len() * per_sample];
        let (kx, ky) = (&self.grid.kx, &self.grid.ky);
        let mut ex = vec![Complex64::new(0.0, 0.0); k];
        let mut ey = vec![Complex64::new(0.0, 0.0); k];
        for (s, p) in pts.iter().enumerate() {
            let x = self.config.scaling.apply(p[0]) - self.config.box_min[0];
            let y = self.config.scaling.apply(p[1]) - self.config.box_min[1];
            // Separable shift-theorem phase: e^(−i(k_x x + k_y y)) = e^(−i k_x x) e^(−i k_y y).
            for (e, kx) in ex.iter_mut().zip(kx) {
                let (sx, cx) = (kx * x).sin_cos();
                *e = Complex64::new(cx, -sx);
            }
            for (e, ky) in ey.iter_mut().zip(ky) {
                let (sy, cy) = (ky * y).sin_cos();
                *e = Complex64::new(cy, -sy);
            }
            let base = s * per_sample;
            for (i, exi) in ex.iter().enumerate() {
                for (j, eyj) in ey.iter().enumerate() {
                    let m = i * k + j;
                    let z = exi * eyj;
                    for ch in 0..c {
                        let re = base + 2 * ch * kk + m;
                        let im = re + kk;
                        phi[re] = self.env.phi[m] * z.re;
                        phi[im] = self.env.phi[m] * z.im;
                        pi[re] = self.env.pi[m] * z.re;
                        pi[im] = self.env.pi[m] * z.im;
                    }
                }
            }
        }
        add_lift_noise(&mut pi, noise)?;
        let shape = (pts.len(), 2 * c, k, k);
        Ok(State {
            phi: Tensor::from_vec(
                phi.into_iter().map(|v| v as f32).collect::<Vec<_>>(),
                shape,
                &Device::Cpu,
            )?,
            pi: Tensor::from_vec(
                pi.into_iter().map(|v| v as f32).collect::<Vec<_>>(),
                shape,
                &Device::Cpu,
            )?,
        })
    }

    fn box_fractions(&self, points: &[[f64; 2]]) -> Option<Vec<[f64; 2]>> {
        let [x0, y0] = self.config.box_min;
        Some(
            points
                .iter()
                .map(|p| {
                    [
                        (self.config.scaling.apply(p[0]) - x0) / self.grid.lx,
                        (self.config.scaling.apply(p[1]) - y0) / self.grid.ly,
                    ]
                })
                .collect(),
        )
    }

    /// Soft-argmax readout (PAPER.md §4.1 "Decoding"): zero-pad to M×M, × (M/K)², real part of the
    /// 1/N inverse FFT summed over channels, per-sample standardisation, softmax(sharpness·z),
    /// expectation over pixel corners (first axis x), de-normalisation.
    fn decode(&self, phi: &Tensor) -> Result<DataBatch> {
        let (k, c) = (self.config.modes, self.config.channels);
        let b = phi.dims().first().copied().unwrap_or(0);
        let v = read_tensor(phi, &[b, 2 * c, k, k], "point decode")?;
        let kk = k * k;
        let m = self.config.decoder.grid;
        let mut scratch = vec![Complex64::new(0.0, 0.0); (k + m) * m];
        let mut spec = vec![Complex64::new(0.0, 0.0); kk];
        let mut out = Vec::with_capacity(b);
        for s in 0..b {
            spec.iter_mut().for_each(|z| *z = Complex64::new(0.0, 0.0));
            for ch in 0..c {
                let re = &v[(s * 2 * c + 2 * ch) * kk..][..kk];
                let im = &v[(s * 2 * c + 2 * ch + 1) * kk..][..kk];
                for mode in 0..kk {
                    spec[mode] += Complex64::new(re[mode], im[mode]);
                }
            }
            let [x, y] = self.soft_argmax(&spec, &mut scratch)?;
            out.push([self.config.scaling.invert(x), self.config.scaling.invert(y)]);
        }
        Ok(DataBatch::Points(out))
    }
}
