//! Sliced Wasserstein-2 distance between two empirical measures in ℝᵈ, in f64.
//!
//! Definition. Draw L directions θ₁…θ_L uniformly on the unit sphere S^{d−1} (normalised standard
//! Gaussian vectors from a ChaCha8 generator seeded with `seed`, so the directions are a fixed
//! function of (d, L, seed)). For each θ, project both sets, μ_θ = θ#μ and ν_θ = θ#ν, and take the
//! exact 1-D Wasserstein-2 distance between the two empirical measures (uniform weights 1/n and
//! 1/m) through their quantile functions:
//!
//! W₂²(μ_θ, ν_θ) = ∫₀¹ (F⁻¹_{μ_θ}(u) − F⁻¹_{ν_θ}(u))² du
//!
//! (for n = m this is the mean squared difference of the sorted projections). Then
//!
//! SW₂ = ( (1/L) Σ_l W₂²(μ_{θ_l}, ν_{θ_l}) )^{1/2},
//!
//! the Monte-Carlo estimate of (E_θ W₂²)^{1/2}. Also returned is the mean of the per-direction W₂,
//! (1/L) Σ_l W₂(μ_{θ_l}, ν_{θ_l}): the "SWD" of the reference code's MNIST metrics (PAPER.md §7.2:
//! RMS difference of sorted projections, averaged over projections).

use crate::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Result of a sliced Wasserstein computation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlicedW2 {
    /// SW₂ = √(mean over directions of W₂²).
    pub sw2: f64,
    /// Mean over directions of W₂ (the §7.2 "SWD").
    pub mean_w2: f64,
    /// Number of directions used.
    pub projections: usize,
}

/// Exact W₂² between two 1-D empirical measures with uniform weights, given sorted samples.
pub fn w2_sq_sorted_1d(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return f64::NAN;
    }
    if n == m {
        return a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / n as f64;
    }
    // Merge the breakpoints i/n and j/m of the two piecewise-constant quantile functions; compare
    // with integer cross-multiplication (i·m vs j·n) so equal breakpoints are detected exactly.
    let (mut i, mut j) = (0usize, 0usize);
    let mut u_prev = 0.0;
    let mut total = 0.0;
    while i < n && j < m {
        let (next_a, next_b) = ((i + 1) * m, (j + 1) * n);
        let u_next = next_a.min(next_b) as f64 / (n * m) as f64;
        let d = a[i] - b[j];
        total += d * d * (u_next - u_prev);
        u_prev = u_next;
        if next_a <= next_b {
            i += 1;
        }
        if next_b <= next_a {
            j += 1;
        }
    }
    total
}

/// Sliced W₂ between `x` (n rows) and `y` (m rows) of dimension `dim`, stored row-major in flat
/// slices; `projections` directions from `seed` (see the module doc for the exact definition).
pub fn sliced_w2(
    x: &[f64],
    y: &[f64],
    dim: usize,
    projections: usize,
    seed: u64,
) -> Result<SlicedW2> {
    if dim == 0 || projections == 0 {
        return Err(Error::Invalid(
            "sliced W2 needs dim ≥ 1 and ≥ 1 projection".into(),
        ));
    }
    if !x.len().is_multiple_of(dim) || !y.len().is_multiple_of(dim) || x.is_empty() || y.is_empty()
    {
        return Err(Error::Invalid(format!(
            "sliced W2: point arrays of length {} and {} are not non-empty multiples of dim {dim}",
            x.len(),
            y.len()
        )));
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(Error::Invalid("sliced W2: non-finite coordinates".into()));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut theta = vec![0.0; dim];
    let mut px = vec![0.0; x.len() / dim];
    let mut py = vec![0.0; y.len() / dim];
    let (mut sum_sq, mut sum) = (0.0, 0.0);
    for _ in 0..projections {
        loop {
            for t in theta.iter_mut() {
                *t = StandardNormal.sample(&mut rng);
            }
            let norm = theta.iter().map(|t| t * t).sum::<f64>().sqrt();
            if norm > 1e-12 {
                theta.iter_mut().for_each(|t| *t /= norm);
                break;
            }
        }
        for (p, row) in px.iter_mut().zip(x.chunks_exact(dim)) {
            *p = row.iter().zip(&theta).map(|(a, b)| a * b).sum();
        }
        for (p, row) in py.iter_mut().zip(y.chunks_exact(dim)) {
            *p = row.iter().zip(&theta).map(|(a, b)| a * b).sum();
        }
        px.sort_unstable_by(f64::total_cmp);
        py.sort_unstable_by(f64::total_cmp);
        let w2sq = w2_sq_sorted_1d(&px, &py);
        sum_sq += w2sq;
        sum += w2sq.sqrt();
    }
    let l = projections as f64;
    Ok(SlicedW2 {
        sw2: (sum_sq / l).sqrt(),
        mean_w2: sum / l,
        projections,
    })
}

/// [`sliced_w2`] for 2-D point pairs.
pub fn sliced_w2_points(
    x: &[[f64; 2]],
    y: &[[f64; 2]],
    projections: usize,
    seed: u64,
) -> Result<SlicedW2> {
    let flat = |p: &[[f64; 2]]| {
        p.iter()
            .flat_map(|q| q.iter().copied())
            .collect::<Vec<f64>>()
    };
    sliced_w2(&flat(x), &flat(y), 2, projections, seed)
}
