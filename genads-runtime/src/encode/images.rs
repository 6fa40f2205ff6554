//! Images as the boundary source (PAPER.md §4.2) and the plain-FFT baseline (§4.3).

use super::{add_lift_noise, read_tensor, Codec, DataBatch, DataScaling, ImageBatch};
use crate::envelope::EnvelopeGrid;
use crate::rng::ChaCha8Rng;
use crate::spectral::{complex_to_interleaved, Complex64, ComplexBatch, Fft2, FftNorm, ModeGrid};
use crate::{Error, Modes, Result, State};
use candle_core::{Device, Tensor};

/// φ̃ = env_φ(k)·FFT2_ortho(image), π̃ = env_π(k)·FFT2_ortho(image) (+ σ noise), shape (B, 2, H, W),
/// with k = 2π·fftfreq(n) per axis (unit pixel spacing, L = H, W). Decoding divides by env_φ and
/// takes the real part of the orthonormal inverse FFT (exact up to f32 rounding).
#[derive(Debug, Clone)]
pub struct ImageSpectralCodec {
    grid: ModeGrid,
    env: EnvelopeGrid,
    scaling: DataScaling,
    fft: Fft2,
}

impl ImageSpectralCodec {
    /// The pixel mode grid of (h, w) images: k = 2π·fftfreq(n), unit spacing.
    pub fn mode_grid(h: usize, w: usize) -> Result<ModeGrid> {
        ModeGrid::new(h, w, h as f64, w as f64)
    }

    /// Image-as-source codec with envelopes tabulated on [`Self::mode_grid`].
    pub fn new(h: usize, w: usize, env: EnvelopeGrid, scaling: DataScaling) -> Result<Self> {
        let grid = Self::mode_grid(h, w)?;
        if env.h != h || env.w != w || env.phi.len() != h * w || env.pi.len() != h * w {
            return Err(Error::Invalid(format!(
                "envelope grid {}×{} does not match {h}×{w} images",
                env.h, env.w
            )));
        }
        if env.phi.iter().any(|v| !(v.is_finite() && v.abs() > 1e-300))
            || env.pi.iter().any(|v| !v.is_finite())
        {
            return Err(Error::Invalid(
                "image envelopes must be finite with env_φ ≠ 0 (the decoder divides by it)".into(),
            ));
        }
        Ok(Self {
            grid,
            env,
            scaling,
            fft: Fft2::new(h, w)?,
        })
    }

    /// The physics-free "vanilla" baseline: φ̃ = FFT2_ortho(normalised image), π̃ = σ·noise.
    pub fn plain(h: usize, w: usize, scaling: DataScaling) -> Result<Self> {
        Self::new(h, w, EnvelopeGrid::identity(h, w), scaling)
    }

    /// The mode grid.
    pub fn grid(&self) -> &ModeGrid {
        &self.grid
    }

    /// The envelopes.
    pub fn envelope(&self) -> &EnvelopeGrid {
        &self.env
    }

    fn check(&self, img: &ImageBatch) -> Result<()> {
        if img.n == 0 {
            return Err(Error::Invalid("empty batch of images".into()));
        }
        if img.h != self.grid.h || img.w != self.grid.w || img.pixels.len() != img.n * img.h * img.w
        {
            return Err(Error::Invalid(format!(
                "expected {} images of {}×{} ({} pixels), got {}×{} with {} pixels",
                img.n,
                self.grid.h,
                self.grid.w,
                img.n * self.grid.h * self.grid.w,
                img.h,
                img.w,
                img.pixels.len()
            )));
        }
        if img.pixels.iter().any(|v| !v.is_finite()) {
            return Err(Error::Invalid(
                "images contain NaN or infinite pixels".into(),
            ));
        }
        Ok(())
    }
}

impl Codec for ImageSpectralCodec {
    fn state_shape(&self, batch: usize) -> Vec<usize> {
        vec![batch, 2, self.grid.h, self.grid.w]
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
        let img = batch.images()?;
        self.check(img)?;
        let (h, w) = (img.h, img.w);
        let hw = h * w;
        let mut spec: Vec<Complex64> = img
            .pixels
            .iter()
            .map(|&p| Complex64::new(self.scaling.apply(p as f64), 0.0))
            .collect();
        self.fft.forward(&mut spec, FftNorm::Ortho)?;
        let mut phi = ComplexBatch::zeros(img.n, 1, h, w);
        let mut pi = ComplexBatch::zeros(img.n, 1, h, w);
        for (idx, z) in spec.iter().enumerate() {
            let m = idx % hw;
            phi.data[idx] = z * self.env.phi[m];
            pi.data[idx] = z * self.env.pi[m];
        }
        let phi = complex_to_interleaved(&phi, &Device::Cpu)?;
        let pi = if noise.is_some() {
            // Noise on every real component of π̃ (interleaved layout).
            let mut flat: Vec<f64> = Vec::with_capacity(2 * pi.data.len());
            for s in 0..img.n {
                let chunk = &pi.data[s * hw..(s + 1) * hw];
                flat.extend(chunk.iter().map(|z| z.re));
                flat.extend(chunk.iter().map(|z| z.im));
            }
            add_lift_noise(&mut flat, noise)?;
            let flat: Vec<f32> = flat.into_iter().map(|v| v as f32).collect();
            Tensor::from_vec(flat, (img.n, 2, h, w), &Device::Cpu)?
        } else {
            complex_to_interleaved(&pi, &Device::Cpu)?
        };
        Ok(State { phi, pi })
    }

    fn decode(&self, phi: &Tensor) -> Result<DataBatch> {
        let (h, w) = (self.grid.h, self.grid.w);
        let b = phi.dims().first().copied().unwrap_or(0);
        let v = read_tensor(phi, &[b, 2, h, w], "image decode")?;
        let hw = h * w;
        let mut spec = Vec::with_capacity(b * hw);
        for s in 0..b {
            let re = &v[2 * s * hw..(2 * s + 1) * hw];
            let im = &v[(2 * s + 1) * hw..(2 * s + 2) * hw];
            for m in 0..hw {
                spec.push(Complex64::new(re[m], im[m]) / self.env.phi[m]);
            }
        }
        self.fft.inverse(&mut spec, FftNorm::Ortho)?;
        let pixels = spec
            .iter()
            .map(|z| self.scaling.invert(z.re) as f32)
            .collect();
        Ok(DataBatch::Images(ImageBatch { pixels, n: b, h, w }))
    }
}
