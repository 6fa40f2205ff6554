//! Sliced Wasserstein-2 against closed forms.

use genads_runtime::metrics::{sliced_w2, sliced_w2_points, w2_sq_sorted_1d};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn gaussian_cloud(n: usize, dim: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n * dim)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect()
}

#[test]
fn one_dimensional_shift_is_exact() {
    // In 1-D every direction is ±1 and a shifted copy has W₂ = |shift| exactly.
    let x = gaussian_cloud(500, 1, 1);
    let y: Vec<f64> = x.iter().map(|v| v - 0.7).collect();
    let r = sliced_w2(&x, &y, 1, 16, 3).unwrap();
    assert!(
        (r.sw2 - 0.7).abs() < 1e-12 && (r.mean_w2 - 0.7).abs() < 1e-12,
        "{r:?}"
    );
}

#[test]
fn two_dimensional_shift_gives_half_the_squared_norm() {
    // W₂(θ#μ, θ#(μ + v)) = |v·θ|; E_θ (v·θ)² = |v|²/2 on the circle, E|v·θ| = 2|v|/π.
    let x = gaussian_cloud(300, 2, 2);
    let v = [0.6, -0.8];
    let y: Vec<f64> = x
        .chunks(2)
        .flat_map(|p| [p[0] + v[0], p[1] + v[1]])
        .collect();
    let r = sliced_w2(&x, &y, 2, 4000, 5).unwrap();
    // Monte-Carlo error of the mean of cos² over 4000 directions: √(1/8)/√4000 ≈ 0.0056.
    assert!(
        (r.sw2 * r.sw2 - 0.5).abs() < 0.02,
        "SW2² = {}",
        r.sw2 * r.sw2
    );
    assert!(
        (r.mean_w2 - 2.0 / std::f64::consts::PI).abs() < 0.02,
        "mean W2 {}",
        r.mean_w2
    );
}

#[test]
fn unequal_sizes_use_the_quantile_functions() {
    // F⁻¹ of {0, 1}: 0 on [0, ½), 1 on [½, 1); of {0, ½, 1}: thirds. They differ by ½ on [⅓, ⅔):
    // W₂² = ¼·⅓ = 1/12.
    assert!((w2_sq_sorted_1d(&[0.0, 1.0], &[0.0, 0.5, 1.0]) - 1.0 / 12.0).abs() < 1e-15);
    // A point mass against two points: W₂² = mean squared distance.
    assert!((w2_sq_sorted_1d(&[0.0], &[1.0, 3.0]) - 5.0).abs() < 1e-15);
    // Resampling the same set (each point twice) leaves the measure, hence W₂, unchanged.
    let x = gaussian_cloud(50, 2, 8);
    let doubled: Vec<f64> = x.iter().chain(x.iter()).copied().collect();
    assert!(sliced_w2(&x, &doubled, 2, 32, 1).unwrap().sw2 < 1e-12);
}

#[test]
fn deterministic_per_seed_and_rotation_invariant_in_distribution() {
    let x = gaussian_cloud(200, 3, 1);
    let y = gaussian_cloud(300, 3, 2);
    let a = sliced_w2(&x, &y, 3, 64, 7).unwrap();
    assert_eq!(a, sliced_w2(&x, &y, 3, 64, 7).unwrap());
    assert_ne!(a.sw2, sliced_w2(&x, &y, 3, 64, 8).unwrap().sw2);
    // Two samples of N(0, I): small, positive.
    assert!(a.sw2 > 0.0 && a.sw2 < 0.3, "{a:?}");
}

#[test]
fn bad_inputs_are_errors() {
    assert!(sliced_w2(&[0.0, 1.0, 2.0], &[0.0, 1.0], 2, 4, 0).is_err());
    assert!(sliced_w2(&[], &[0.0], 1, 4, 0).is_err());
    assert!(sliced_w2(&[0.0], &[0.0], 1, 0, 0).is_err());
    assert!(sliced_w2(&[f64::NAN], &[0.0], 1, 4, 0).is_err());
    assert!(sliced_w2_points(&[[0.0, 0.0]], &[[1.0, 0.0]], 4, 0).is_ok());
}
