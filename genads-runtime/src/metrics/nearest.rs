//! Nearest-neighbour spacing of a sample set: detects samples stacked on a lattice or collapsed
//! onto a few points, which the checkerboard's cell metrics cannot see (DESIGN.md, Testing).
//!
//! `nn_ratio` = median nearest-neighbour distance among the first n generated points / the same
//! among the first n real points, n = min(`NN_POINTS`, both sizes). Points drawn from the true
//! distribution read ≈ 1; points snapped to a grid finer than their typical spacing read the
//! grid's share of exact duplicates (a median of 0 when over half of them coincide); a collapse
//! onto few points reads ≈ 0.

use crate::{Error, Result};

/// Points per set the statistic uses (the definition: 2,000 samples).
pub const NN_POINTS: usize = 2000;

/// The median distance from each point to its nearest other point (n ≥ 2), exact (O(n²)). A
/// non-finite point is nobody's neighbour and has no neighbour (distance +∞).
pub fn median_nearest_neighbour(points: &[[f64; 2]]) -> Result<f64> {
    if points.len() < 2 {
        return Err(Error::Invalid(format!(
            "nearest-neighbour spacing needs ≥ 2 points, got {}",
            points.len()
        )));
    }
    let finite = |p: &[f64; 2]| p[0].is_finite() && p[1].is_finite();
    let mut nearest: Vec<f64> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if !finite(p) {
                return f64::INFINITY;
            }
            points
                .iter()
                .enumerate()
                .filter(|&(j, q)| j != i && finite(q))
                .map(|(_, q)| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2))
                .fold(f64::INFINITY, f64::min)
                .sqrt()
        })
        .collect();
    nearest.sort_by(f64::total_cmp);
    let m = nearest.len();
    Ok(if m % 2 == 1 {
        nearest[m / 2]
    } else {
        0.5 * (nearest[m / 2 - 1] + nearest[m / 2])
    })
}

/// (median NN distance of the generated points, `nn_ratio`) over the first
/// min(`NN_POINTS`, sizes) points of each set; `None` with fewer than 2 points in either set.
/// Errors if a real point is not finite or the real spacing is zero.
pub fn nearest_neighbour_ratio(
    real: &[[f64; 2]],
    generated: &[[f64; 2]],
) -> Result<Option<(f64, f64)>> {
    let n = NN_POINTS.min(real.len()).min(generated.len());
    if n < 2 {
        return Ok(None);
    }
    if real[..n].iter().flatten().any(|v| !v.is_finite()) {
        return Err(Error::Invalid("real points contain NaN or Inf".into()));
    }
    let generated_median = median_nearest_neighbour(&generated[..n])?;
    let real_median = median_nearest_neighbour(&real[..n])?;
    if real_median <= 0.0 {
        return Err(Error::Invalid(
            "the real points' nearest-neighbour spacing is zero (duplicate reference points)"
                .into(),
        ));
    }
    Ok(Some((generated_median, generated_median / real_median)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::checkerboard::Checkerboard;

    fn true_points(seed: u64, n: usize) -> Vec<[f64; 2]> {
        Checkerboard::sample(n, &mut crate::rng::seeded(seed))
    }

    /// Exact on a case worked by hand: collinear points 0, 1, 3, 7 have nearest distances
    /// 1, 1, 2, 4 and median 1.5.
    #[test]
    fn median_of_a_worked_case() {
        let pts = [[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [7.0, 0.0]];
        assert_eq!(median_nearest_neighbour(&pts).unwrap(), 1.5);
        assert!(median_nearest_neighbour(&pts[..1]).is_err());
        // A non-finite point has no neighbour and is nobody's: 0 and 1 are each other's (1, 1),
        // NaN gets +∞; the median of (1, 1, ∞) is 1.
        let with_nan = [[0.0, 0.0], [f64::NAN, 0.0], [1.0, 0.0]];
        assert_eq!(median_nearest_neighbour(&with_nan).unwrap(), 1.0);
    }

    /// True points read ≈ 1; the same points snapped to the source network's lattice (spacing
    /// 0.12) or collapsed onto 16 points read far below the 0.8 the honest-network issue asks.
    #[test]
    fn known_sample_sets() {
        let real = true_points(1, 2000);
        let (_, honest) = nearest_neighbour_ratio(&real, &true_points(2, 2000))
            .unwrap()
            .unwrap();
        assert!((0.85..1.15).contains(&honest), "true points: {honest}");
        let snap = |p: &[f64; 2]| [(p[0] / 0.12).round() * 0.12, (p[1] / 0.12).round() * 0.12];
        let lattice: Vec<[f64; 2]> = true_points(2, 2000).iter().map(snap).collect();
        let (_, snapped) = nearest_neighbour_ratio(&real, &lattice).unwrap().unwrap();
        assert!(snapped < 0.3, "lattice: {snapped}");
        let collapsed: Vec<[f64; 2]> = true_points(2, 2000)
            .iter()
            .map(|p| [p[0].round(), p[1].round()])
            .collect();
        let (_, collapsed) = nearest_neighbour_ratio(&real, &collapsed).unwrap().unwrap();
        assert!(collapsed < 0.05, "collapsed: {collapsed}");
        assert!(nearest_neighbour_ratio(&real, &real[..1])
            .unwrap()
            .is_none());
    }
}
