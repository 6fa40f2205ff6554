//! The §7.1 checkerboard metrics against distributions with known answers.

use genads_runtime::data::{Checkerboard, Dataset};
use genads_runtime::metrics::{
    checkerboard_metrics, energy_distance_sq, CheckerboardMetrics, MetricOptions, Points2,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn metrics(real: &[[f64; 2]], generated: &[[f64; 2]]) -> CheckerboardMetrics {
    checkerboard_metrics(real, generated, &MetricOptions::default()).unwrap()
}

/// A k×k midpoint grid over valid cell `c`.
fn cell_grid(c: usize, k: usize) -> Vec<[f64; 2]> {
    let ([x0, y0], _) = Checkerboard::cell_rect(c);
    let h = 2.0 / k as f64;
    let mut out = Vec::with_capacity(k * k);
    for a in 0..k {
        for b in 0..k {
            out.push([x0 + (a as f64 + 0.5) * h, y0 + (b as f64 + 0.5) * h]);
        }
    }
    out
}

#[test]
fn true_distribution_scores_zero_violation_and_small_wed() {
    let real = Dataset::checkerboard(4000, 1);
    let generated = Dataset::checkerboard(4000, 2);
    let m = metrics(&real.points, &generated.points);
    eprintln!("true vs true (4000 vs 4000): {m:?}");
    assert_eq!(m.bv, 0.0);
    assert_eq!(m.cells_used, 8);
    // JS of two multinomial samples from the same 8 cells: E[JS] ≈ 7/(4·4000)·½ ≈ 4e-4.
    assert!(m.js_cell < 3e-3, "JS {}", m.js_cell);
    // Sampling error only: ≈ 500 points per cell and side gives ED ≈ 0.01–0.02.
    assert!(m.wed_norm < 0.02, "WED_norm {}", m.wed_norm);
    assert!(m.sw2 < 0.15, "SW2 {}", m.sw2);
    assert!((m.cqs - (m.js_cell + m.bv + m.wed_norm)).abs() < 1e-15);
}

#[test]
fn identical_sets_score_exactly_zero() {
    let real = Dataset::checkerboard(800, 5);
    let m = metrics(&real.points, &real.points);
    assert_eq!(m.bv, 0.0);
    assert!(m.js_cell.abs() < 1e-15);
    // Cross V-statistic of a set with itself is smaller than its U-statistic: ED² < 0, clamped.
    assert_eq!(m.wed, 0.0);
    assert!(m.sw2.abs() < 1e-12);
}

#[test]
fn uniform_noise_violates_half_the_domain() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let noise: Vec<[f64; 2]> = (0..20_000)
        .map(|_| [rng.random_range(-4.0..4.0), rng.random_range(-4.0..4.0)])
        .collect();
    let real = Dataset::checkerboard(4000, 1);
    let m = metrics(&real.points, &noise);
    // Half of [−4,4)² is invalid: BV = 0.5 ± 3σ (σ = √(0.25/20000) ≈ 0.0035).
    assert!((m.bv - 0.5).abs() < 0.011, "BV {}", m.bv);
    // Inside the valid cells the noise is uniform again: JS and WED stay at sampling level.
    assert!(m.js_cell < 3e-3 && m.wed_norm < 0.02, "{m:?}");
}

#[test]
fn boundary_violation_counts_each_kind_of_miss() {
    let real = Dataset::checkerboard(100, 1);
    let generated = [
        [0.5, 0.5],           // valid
        [4.0, 0.5],           // on the excluded upper edge: outside
        [-3.0, -1.0],         // odd tile
        [f64::NAN, 0.0],      // not a point
        [-4.0, -4.0],         // lower corner: valid
        [1e9, f64::INFINITY], // far away
        [-3.9, 3.9],          // tile (0, 3): odd
        [2.5, 2.5],           // tile (3, 3): valid
    ];
    let m = metrics(&real.points, &generated);
    assert!((m.bv - 5.0 / 8.0).abs() < 1e-15, "BV {}", m.bv);
}

/// 16 real points in each of the 8 valid cells (uniform occupancy).
fn uniform_real() -> Vec<[f64; 2]> {
    (0..8).flat_map(|c| cell_grid(c, 4)).collect()
}

#[test]
fn js_of_a_single_cell_against_uniform_matches_the_closed_form() {
    // p = (1, 0, …, 0), q = (1/8, …, 1/8), m = (9/16, 1/16, …):
    // KL(p‖m) = ln(16/9); KL(q‖m) = (1/8)·ln(2/9) + (7/8)·ln 2.
    let expected =
        0.5 * (16.0f64 / 9.0).ln() + 0.5 * (0.125 * (2.0f64 / 9.0).ln() + 0.875 * 2f64.ln());
    let generated = cell_grid(3, 10);
    let m = metrics(&uniform_real(), &generated);
    assert!(
        (m.js_cell - expected).abs() < 1e-6,
        "JS {} vs {expected}",
        m.js_cell
    );
    assert_eq!(m.bv, 0.0);
    assert_eq!(m.cells_used, 1);
}

#[test]
fn js_of_disjoint_cells_is_ln_2() {
    let real = cell_grid(0, 5);
    let generated = cell_grid(7, 5);
    let m = metrics(&real, &generated);
    assert!((m.js_cell - 2f64.ln()).abs() < 1e-6, "JS {}", m.js_cell);
    // No cell holds both enough real and generated points.
    assert_eq!(m.cells_used, 0);
    assert!(m.wed.is_nan() && m.cqs.is_nan());
}

/// E|X − Y| for X ~ U[0,1], Y ~ U[s, s+1]: s + (1−s)³/3 for 0 ≤ s ≤ 1 (triangular difference
/// density), s for s ≥ 1; E|X − X′| = 1/3. Hence ED² = 2s + 2(1−s)³/3 − 2/3 (s ≤ 1), 2s − 2/3 (s ≥ 1).
fn ed_sq_uniform_shift(s: f64) -> f64 {
    if s <= 1.0 {
        2.0 * s + 2.0 * (1.0 - s).powi(3) / 3.0 - 2.0 / 3.0
    } else {
        2.0 * s - 2.0 / 3.0
    }
}

#[test]
fn energy_distance_of_shifted_uniforms_matches_the_closed_form() {
    let n = 600;
    // Points on a line embedded in 2-D (rotated by 30°, distances are Euclidean).
    let (c, s30) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
    let line = |shift: f64| {
        let pairs: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let u = shift + (i as f64 + 0.5) / n as f64;
                [c * u + 1.0, s30 * u - 2.0]
            })
            .collect();
        Points2::from_pairs(&pairs)
    };
    for shift in [0.0, 0.25, 0.5, 1.0, 2.5] {
        let got = energy_distance_sq(&line(0.0), &line(shift)).unwrap();
        let want = ed_sq_uniform_shift(shift);
        // Grid quadrature: the U-statistic over a midpoint grid is (n+1)/(3n) instead of 1/3.
        assert!(
            (got - want).abs() < 3.0 / n as f64,
            "shift {shift}: {got} vs {want}"
        );
    }
    assert!(energy_distance_sq(&line(0.0), &Points2::from_pairs(&[[0.0, 0.0]])).is_err());
}

#[test]
fn wed_of_collapsed_cells_matches_square_closed_forms() {
    // Generated points all at the centre of every valid cell (2 copies each), real points uniform
    // in every cell. Square of side a: E|X − centre| = a(√2 + ln(1+√2))/6 and
    // E|X − X′| = a(2 + √2 + 5 ln(1+√2))/15. ED² = 2E|X − c| − E|X − X′| − 0.
    let a = 2.0;
    let l = (1.0 + 2f64.sqrt()).ln();
    let ed_expected =
        (2.0 * a * (2f64.sqrt() + l) / 6.0 - a * (2.0 + 2f64.sqrt() + 5.0 * l) / 15.0).sqrt();
    let real: Vec<[f64; 2]> = (0..8).flat_map(|c| cell_grid(c, 30)).collect();
    let generated: Vec<[f64; 2]> = (0..8)
        .flat_map(|c| {
            let ([x0, y0], _) = Checkerboard::cell_rect(c);
            [[x0 + 1.0, y0 + 1.0]; 2]
        })
        .collect();
    let m = metrics(&real, &generated);
    eprintln!("collapsed: WED {} vs closed form {ed_expected}", m.wed);
    assert_eq!(m.cells_used, 8);
    assert!(
        (m.wed - ed_expected).abs() < 5e-3,
        "WED {} vs {ed_expected}",
        m.wed
    );
    assert!((m.wed_norm - m.wed / 2.0).abs() < 1e-15);
}

#[test]
fn invalid_inputs_are_errors() {
    let real = Dataset::checkerboard(50, 1).points;
    let opts = MetricOptions::default();
    assert!(checkerboard_metrics(&real, &[], &opts).is_err());
    assert!(checkerboard_metrics(&[], &real, &opts).is_err());
    assert!(checkerboard_metrics(&[[f64::NAN, 0.0]], &real, &opts).is_err());
    let bad = MetricOptions { clip: 0.0, ..opts };
    assert!(checkerboard_metrics(&real, &real, &bad).is_err());
}
