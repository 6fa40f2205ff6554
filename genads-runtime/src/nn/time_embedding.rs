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

    /// Embeds `t` of shape (B,) into (B, dim) = [sin(t·ω), cos(t·ω)]. When all B times are equal
    /// (every sampling step), the row is computed once and repeated.
    pub fn forward(&self, t: &Tensor) -> Result<Tensor> {
        let t = t.to_dtype(DType::F32)?.flatten_all()?;
        let b = t.dim(0)?;
        if b > 1 && t.device().is_cpu() {
            let values = t.to_vec1::<f32>()?;
            if values.iter().all(|v| v.to_bits() == values[0].to_bits()) {
                let row = self.embed(&t.narrow(0, 0, 1)?)?;
                return row.broadcast_as((b, self.dim))?.contiguous();
            }
        }
        self.embed(&t)
    }

    /// [`SinusoidalEmbedding::forward`] row by row, for flattened f32 times.
    fn embed(&self, t: &Tensor) -> Result<Tensor> {
        let mut t = t.unsqueeze(1)?;
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

    /// Equal times (the shortcut that embeds one row) give exactly the rows of the general path.
    #[test]
    fn equal_times_embed_like_distinct_ones() {
        let e = SinusoidalEmbedding::scaled(16, MAX_PERIOD, 1000.0, &Device::Cpu).unwrap();
        let same = e
            .forward(&Tensor::new(&[0.37f32; 5], &Device::Cpu).unwrap())
            .unwrap();
        let mixed = e
            .forward(&Tensor::new(&[0.37f32, 0.9], &Device::Cpu).unwrap())
            .unwrap();
        assert_eq!(same.dims(), &[5, 16]);
        let first = mixed.narrow(0, 0, 1).unwrap();
        for i in 0..5 {
            let row = same.narrow(0, i, 1).unwrap();
            assert_eq!(crate::nn::max_abs_diff(&row, &first), 0.0, "row {i}");
        }
    }
}
