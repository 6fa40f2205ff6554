//! The checkerboard metrics of PAPER.md §7.1, in f64: Boundary Violation, JS over the 8 valid cells,
//! the within-cell energy distance (WED, WED_norm), CQS, and the sliced Wasserstein-2 distance.

use super::energy::{energy_distance, Points2};
use super::wasserstein::sliced_w2_points;
use crate::data::Checkerboard;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Options of the checkerboard metrics (defaults = the paper's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricOptions {
    /// Dirichlet pseudo-count added to every cell count (paper: 1e-6).
    pub alpha: f64,
    /// Lower clip of the cell probabilities before the logarithms (paper: 1e-12).
    pub clip: f64,
    /// Minimum real points in a cell for it to enter the WED (paper: 5).
    pub min_real: usize,
    /// Minimum generated points in a cell for it to enter the WED (paper: 2).
    pub min_generated: usize,
    /// Directions of the sliced W₂ (0 skips it).
    pub sw2_projections: usize,
    /// Seed of the sliced-W₂ directions.
    pub sw2_seed: u64,
}

impl Default for MetricOptions {
    fn default() -> Self {
        MetricOptions {
            alpha: 1e-6,
            clip: 1e-12,
            min_real: 5,
            min_generated: 2,
            sw2_projections: 128,
            sw2_seed: 0,
        }
    }
}

/// The checkerboard metrics of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckerboardMetrics {
    /// Boundary Violation: 1 − fraction of generated points inside [−4,4)² and in a valid cell.
    pub bv: f64,
    /// Jensen–Shannon divergence (natural log) between the generated and real occupancy of the 8
    /// valid cells.
    pub js_cell: f64,
    /// Within-cell energy distance Σ_c w_c ED_c (NaN when no cell qualifies).
    pub wed: f64,
    /// WED / cell_size (what the paper's scripts aggregate).
    pub wed_norm: f64,
    /// CQS = JS_cell + BV + WED_norm.
    pub cqs: f64,
    /// Sliced W₂ between all real and all generated points (NaN when skipped or undefined).
    pub sw2: f64,
    /// Number of cells that entered the WED.
    pub cells_used: usize,
    /// Number of real points.
    pub n_real: usize,
    /// Number of generated points.
    pub n_generated: usize,
}

/// Per-cell occupancy: smoothed, normalised and clipped probabilities over the 8 valid cells.
fn occupancy(counts: &[usize; 8], alpha: f64, clip: f64) -> [f64; 8] {
    let total: f64 = counts.iter().map(|&c| c as f64 + alpha).sum();
    let mut p = [0.0; 8];
    for (pc, &c) in p.iter_mut().zip(counts) {
        *pc = ((c as f64 + alpha) / total).max(clip);
    }
    p
}

/// Jensen–Shannon divergence ½KL(p‖m) + ½KL(q‖m), m = (p + q)/2, natural log. Entries must be > 0.
pub fn js_divergence(p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q)
        .map(|(&a, &b)| {
            let m = 0.5 * (a + b);
            0.5 * (a * (a / m).ln() + b * (b / m).ln())
        })
        .sum()
}

/// Splits points into the 8 valid cells (points outside the domain or in odd tiles dropped).
fn bin(points: &[[f64; 2]]) -> [Points2; 8] {
    let mut cells: [Points2; 8] = Default::default();
    for p in points {
        if let Some(c) = Checkerboard::valid_cell(p[0], p[1]) {
            cells[c].push(*p);
        }
    }
    cells
}

/// Computes the §7.1 metrics of `generated` against `real` (the paper: the first 10 000 training
/// points vs 10 000 samples). Non-finite generated points count as boundary violations; non-finite
/// real points are an error. Errors on an empty set.
pub fn checkerboard_metrics(
    real: &[[f64; 2]],
    generated: &[[f64; 2]],
    opts: &MetricOptions,
) -> Result<CheckerboardMetrics> {
    if real.is_empty() || generated.is_empty() {
        return Err(Error::Invalid(format!(
            "checkerboard metrics need non-empty sets (real {}, generated {})",
            real.len(),
            generated.len()
        )));
    }
    if real.iter().any(|p| !(p[0].is_finite() && p[1].is_finite())) {
        return Err(Error::Invalid("real points contain NaN or Inf".into()));
    }
    if !(opts.alpha >= 0.0 && opts.clip > 0.0 && opts.alpha.is_finite() && opts.clip.is_finite()) {
        return Err(Error::Invalid(
            "metric options: alpha must be ≥ 0 and clip > 0".into(),
        ));
    }
    let real_cells = bin(real);
    let gen_cells = bin(generated);
    let count = |cells: &[Points2; 8]| -> [usize; 8] { std::array::from_fn(|c| cells[c].len()) };
    let (real_counts, gen_counts) = (count(&real_cells), count(&gen_cells));

    let gen_valid: usize = gen_counts.iter().sum();
    let bv = 1.0 - gen_valid as f64 / generated.len() as f64;

    let p_real = occupancy(&real_counts, opts.alpha, opts.clip);
    let p_gen = occupancy(&gen_counts, opts.alpha, opts.clip);
    let js_cell = js_divergence(&p_gen, &p_real);

    let min_real = opts.min_real.max(2);
    let min_gen = opts.min_generated.max(2);
    let (mut weighted, mut weight_sum, mut cells_used) = (0.0, 0.0, 0);
    for c in 0..8 {
        if real_counts[c] >= min_real && gen_counts[c] >= min_gen {
            let ed = energy_distance(&real_cells[c], &gen_cells[c])?;
            weighted += p_real[c] * ed;
            weight_sum += p_real[c];
            cells_used += 1;
        }
    }
    let wed = if cells_used > 0 {
        weighted / weight_sum
    } else {
        f64::NAN
    };
    let wed_norm = wed / Checkerboard::CELL_SIZE;

    let finite_gen: Vec<[f64; 2]> = generated
        .iter()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
        .copied()
        .collect();
    let sw2 = if opts.sw2_projections > 0 && !finite_gen.is_empty() {
        sliced_w2_points(real, &finite_gen, opts.sw2_projections, opts.sw2_seed)?.sw2
    } else {
        f64::NAN
    };

    Ok(CheckerboardMetrics {
        bv,
        js_cell,
        wed,
        wed_norm,
        cqs: js_cell + bv + wed_norm,
        sw2,
        cells_used,
        n_real: real.len(),
        n_generated: generated.len(),
    })
}
