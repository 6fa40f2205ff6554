//! Kernel Inception Distance (Bińkowski et al. 2018) on any features: the unbiased estimator of
//! MMD² with the cubic polynomial kernel k(x, y) = (x·y/d + 1)³, averaged over random blocks.

use super::features::Features;
use super::{MnistError, Result};
use crate::rng::seeded;
use rand::seq::index::sample;

/// KID estimate: the mean and standard deviation of the per-block unbiased MMD² values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kid {
    /// Mean over blocks.
    pub mean: f64,
    /// Standard deviation over blocks (0 for a single block).
    pub std: f64,
}

/// Unbiased MMD² of the cubic polynomial kernel between two whole sets (each of size ≥ 2).
pub fn mmd2_unbiased(x: &Features, y: &Features) -> Result<f64> {
    let (m, n, d) = (x.n(), y.n(), x.d());
    if m < 2 || n < 2 || y.d() != d {
        return Err(MnistError::Invalid(
            "kid: needs two sets of at least 2 vectors of equal dimension".into(),
        ));
    }
    let k = |g: f64| (g / d as f64 + 1.0).powi(3);
    let kxx = &x.rows * x.rows.transpose();
    let kyy = &y.rows * y.rows.transpose();
    let kxy = &x.rows * y.rows.transpose();
    let off_diag_sum = |g: &nalgebra::DMatrix<f64>| {
        let total: f64 = g.iter().map(|&v| k(v)).sum();
        let diag: f64 = g.diagonal().iter().map(|&v| k(v)).sum();
        total - diag
    };
    let sxx = off_diag_sum(&kxx) / (m * (m - 1)) as f64;
    let syy = off_diag_sum(&kyy) / (n * (n - 1)) as f64;
    let sxy: f64 = kxy.iter().map(|&v| k(v)).sum::<f64>() / (m * n) as f64;
    Ok(sxx + syy - 2.0 * sxy)
}

/// KID with `blocks` random blocks of `block_size` vectors drawn without replacement from each set
/// (block size capped at the smaller set), seeded.
pub fn kid(
    real: &Features,
    generated: &Features,
    block_size: usize,
    blocks: usize,
    seed: u64,
) -> Result<Kid> {
    let bs = block_size.min(real.n()).min(generated.n());
    if bs < 2 || blocks == 0 {
        return Err(MnistError::Invalid(format!(
            "kid: block size {bs} and {blocks} blocks are too small"
        )));
    }
    let mut rng = seeded(seed);
    let mut vals = Vec::with_capacity(blocks);
    for _ in 0..blocks {
        let ir = sample(&mut rng, real.n(), bs).into_vec();
        let ig = sample(&mut rng, generated.n(), bs).into_vec();
        vals.push(mmd2_unbiased(&real.select(&ir), &generated.select(&ig))?);
    }
    let mean = vals.iter().sum::<f64>() / blocks as f64;
    let std = if blocks > 1 {
        (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (blocks - 1) as f64).sqrt()
    } else {
        0.0
    };
    Ok(Kid { mean, std })
}
