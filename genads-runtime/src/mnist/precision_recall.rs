//! Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of
//! balls around its points with radius the distance to the k-th nearest neighbour in the same set.
//! Precision = fraction of generated points inside the real manifold; recall = fraction of real
//! points inside the generated manifold.

use super::features::{sq_dists_block, Features};
use super::{MnistError, Result};

/// Precision and recall in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrecisionRecall {
    /// Fraction of generated samples on the real manifold.
    pub precision: f64,
    /// Fraction of real samples on the generated manifold.
    pub recall: f64,
}

const BLOCK: usize = 1024;

/// Squared k-NN radius of every point of `set` within the set itself (the point excluded).
pub fn knn_radii_sq(set: &Features, k: usize) -> Result<Vec<f64>> {
    if k == 0 || k >= set.n() {
        return Err(MnistError::Invalid(format!(
            "k = {k} needs 1 ≤ k < {} points",
            set.n()
        )));
    }
    let mut radii = Vec::with_capacity(set.n());
    let mut start = 0;
    while start < set.n() {
        let end = (start + BLOCK).min(set.n());
        let d = sq_dists_block(set, start..end, set);
        for (i, row) in d.row_iter().enumerate() {
            let mut v: Vec<f64> = row.iter().copied().collect();
            v[start + i] = f64::INFINITY; // exclude the point itself
            let (_, kth, _) = v.select_nth_unstable_by(k - 1, f64::total_cmp);
            radii.push(*kth);
        }
        start = end;
    }
    Ok(radii)
}

/// Fraction of `query` points within the k-NN ball of at least one `manifold` point.
fn coverage(manifold: &Features, radii_sq: &[f64], query: &Features) -> f64 {
    let mut inside = 0usize;
    let mut start = 0;
    while start < query.n() {
        let end = (start + BLOCK).min(query.n());
        let d = sq_dists_block(query, start..end, manifold);
        inside += d
            .row_iter()
            .filter(|row| row.iter().zip(radii_sq).any(|(dist, r)| dist <= r))
            .count();
        start = end;
    }
    inside as f64 / query.n() as f64
}

/// Improved precision and recall with k nearest neighbours (the standard choice is k = 3).
pub fn precision_recall(
    real: &Features,
    generated: &Features,
    k: usize,
) -> Result<PrecisionRecall> {
    if real.d() != generated.d() {
        return Err(MnistError::Invalid(
            "precision/recall: feature dimensions differ".into(),
        ));
    }
    let rr = knn_radii_sq(real, k)?;
    let rg = knn_radii_sq(generated, k)?;
    Ok(PrecisionRecall {
        precision: coverage(real, &rr, generated),
        recall: coverage(generated, &rg, real),
    })
}
