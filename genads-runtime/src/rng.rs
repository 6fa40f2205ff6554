//! Seeded randomness. ALL randomness in GenAdS goes through an explicit [`ChaCha8Rng`]
//! (serialisable, so checkpoints can store the generator state); candle's `randn` is never used.

use crate::{Error, Result};
use candle_core::{Device, Tensor};
use rand::{Rng as _, SeedableRng};
pub use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The project's random generator type.
pub type Rng = ChaCha8Rng;

/// A generator seeded from `seed` (the same seed always gives the same stream).
pub fn seeded(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `n` independent N(0, std²) samples in f64.
pub fn normal_vec(rng: &mut ChaCha8Rng, n: usize, std: f64) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let z: f64 = StandardNormal.sample(rng);
            std * z
        })
        .collect()
}

/// `n` independent U[lo, hi) samples in f64 (returns `lo` repeated when `hi <= lo`).
pub fn uniform_vec(rng: &mut ChaCha8Rng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    if hi <= lo {
        return vec![lo; n];
    }
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// An f32 tensor of the given shape with independent N(0, std²) entries, on the CPU.
pub fn normal_tensor(rng: &mut ChaCha8Rng, shape: &[usize], std: f64) -> Result<Tensor> {
    normal_tensor_on(rng, shape, std, &Device::Cpu)
}

/// Like [`normal_tensor`] but placed on `device` (the samples are always drawn on the host, so the
/// stream does not depend on the device).
pub fn normal_tensor_on(
    rng: &mut ChaCha8Rng,
    shape: &[usize],
    std: f64,
    device: &Device,
) -> Result<Tensor> {
    if !std.is_finite() {
        return Err(Error::Invalid(format!(
            "normal_tensor: std must be finite, got {std}"
        )));
    }
    let n: usize = shape.iter().product();
    let data: Vec<f32> = normal_vec(rng, n, std)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    Ok(Tensor::from_vec(data, shape, device)?)
}

/// An f32 tensor of the given shape with independent U[lo, hi) entries, on the CPU.
pub fn uniform_tensor(rng: &mut ChaCha8Rng, shape: &[usize], lo: f64, hi: f64) -> Result<Tensor> {
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(Error::Invalid(
            "uniform_tensor: bounds must be finite".into(),
        ));
    }
    let n: usize = shape.iter().product();
    let data: Vec<f32> = uniform_vec(rng, n, lo, hi)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    Ok(Tensor::from_vec(data, shape, &Device::Cpu)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let a = normal_vec(&mut seeded(7), 16, 1.0);
        let b = normal_vec(&mut seeded(7), 16, 1.0);
        let c = normal_vec(&mut seeded(8), 16, 1.0);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn normal_moments() {
        let v = normal_vec(&mut seeded(1), 20_000, 2.0);
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        // Standard error of the mean is 2/sqrt(20000) ≈ 0.014; of the variance ≈ 4·sqrt(2/n) ≈ 0.04.
        assert!(mean.abs() < 0.06, "mean {mean}");
        assert!((var - 4.0).abs() < 0.2, "var {var}");
    }

    #[test]
    fn uniform_in_range() {
        let v = uniform_vec(&mut seeded(3), 1000, -4.0, 4.0);
        assert!(v.iter().all(|x| (-4.0..4.0).contains(x)));
        let t = uniform_tensor(&mut seeded(3), &[10, 100], -4.0, 4.0).unwrap();
        assert_eq!(t.dims(), &[10, 100]);
    }

    #[test]
    fn tensor_shape_and_serde_roundtrip() {
        let mut rng = seeded(5);
        let t = normal_tensor(&mut rng, &[2, 3, 4], 1.0).unwrap();
        assert_eq!(t.dims(), &[2, 3, 4]);
        let saved = serde_json::to_string(&rng).unwrap();
        let mut restored: ChaCha8Rng = serde_json::from_str(&saved).unwrap();
        assert_eq!(
            normal_vec(&mut rng, 5, 1.0),
            normal_vec(&mut restored, 5, 1.0)
        );
        assert!(normal_tensor(&mut rng, &[2], f64::NAN).is_err());
    }
}
