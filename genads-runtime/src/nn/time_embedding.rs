//! Sinusoidal time embedding (PAPER.md §6.1): half sines, half cosines of t·ωᵢ with
//! ωᵢ = exp(−ln(max_period)·i/half), i = 0..half, applied to raw t ∈ [0, 1].

use candle_core::{DType, Device, Result, Tensor};

/// The paper's max period (10⁴).
pub const MAX_PERIOD: f64 = 1.0e4;

/// Sinusoidal embedding of a time batch.
#[derive(Debug, Clone)]
pub struct SinusoidalEmbedding {
    dim: usize,
    /// t is multiplied by this before embedding (1 in the paper).
    scale: f64,
    /// Frequencies, shape (1, dim/2), f32.
    freqs: Tensor,
}

impl SinusoidalEmbedding {
    /// An embedding of even dimension `dim` with the given max period (of raw t).
    pub fn new(dim: usize, max_period: f64, device: &Device) -> Result<Self> {
        Self::scaled(dim, max_period, 1.0, device)
    }

    /// Like [`SinusoidalEmbedding::new`] but embeds `scale·t`: the highest frequency becomes
    /// `scale` (the paper's raw t ∈ [0, 1] leaves most channels nearly constant, PAPER.md §10.9).
    pub fn scaled(dim: usize, max_period: f64, scale: f64, device: &Device) -> Result<Self> {
        if !(scale.is_finite() && scale > 0.0) {
            candle_core::bail!("time-embedding scale must be positive, got {scale}");
        }
        if dim == 0 || !dim.is_multiple_of(2) {
            candle_core::bail!("time-embedding dimension must be even and positive, got {dim}");
        }
        let half = dim / 2;
        let freqs: Vec<f32> = (0..half)
            .map(|i| (-(max_period.ln()) * i as f64 / half as f64).exp() as f32)
            .collect();
        let freqs = Tensor::from_vec(freqs, (1, half), device)?;
        Ok(Self { dim, scale, freqs })
    }

    /// Embedding dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Embeds `t` of shape (B,) into (B, dim) = [sin(t·ω), cos(t·ω)].
    pub fn forward(&self, t: &Tensor) -> Result<Tensor> {
        let mut t = t.to_dtype(DType::F32)?.flatten_all()?.unsqueeze(1)?;
        if self.scale != 1.0 {
            t = (t * self.scale)?;
        }
        let args = t.broadcast_mul(&self.freqs)?;
        Tensor::cat(&[args.sin()?, args.cos()?], 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let e = SinusoidalEmbedding::new(8, MAX_PERIOD, &Device::Cpu).unwrap();
        let t = Tensor::new(&[0.0f32, 0.5], &Device::Cpu).unwrap();
        let v = e.forward(&t).unwrap().to_vec2::<f32>().unwrap();
        // t = 0: sines 0, cosines 1.
        assert_eq!(&v[0][..4], &[0.0; 4]);
        assert_eq!(&v[0][4..], &[1.0; 4]);
        // t = 0.5, i = 0: ω = 1; i = 2: ω = 1e4^(-1/2) = 0.01.
        assert!((v[1][0] - 0.5f32.sin()).abs() < 1e-6);
        assert!((v[1][2] - 0.005f32.sin()).abs() < 1e-7);
        assert!((v[1][6] - 0.005f32.cos()).abs() < 1e-6);
        assert!(SinusoidalEmbedding::new(7, MAX_PERIOD, &Device::Cpu).is_err());
        // Scaled: embedding of t under scale 10 equals the unscaled embedding of 10·t.
        let s = SinusoidalEmbedding::scaled(8, MAX_PERIOD, 10.0, &Device::Cpu).unwrap();
        let a = s
            .forward(&Tensor::new(&[0.05f32], &Device::Cpu).unwrap())
            .unwrap();
        let b = e
            .forward(&Tensor::new(&[0.5f32], &Device::Cpu).unwrap())
            .unwrap();
        assert!(crate::nn::max_abs_diff(&a, &b) < 1e-6);
    }
}
