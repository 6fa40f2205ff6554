//! FID, KID and improved precision/recall against closed forms and constructed cases.

use genads_runtime::mnist::features::Features;
use genads_runtime::mnist::fid::{fid, frechet_distance};
use genads_runtime::mnist::kid::{kid, mmd2_unbiased};
use genads_runtime::mnist::precision_recall::precision_recall;
use genads_runtime::rng::{normal_vec, seeded};
use nalgebra::{DMatrix, DVector};

/// n samples of a correlated Gaussian in d dims (x = L z + m), row-major.
fn gaussian(n: usize, d: usize, shift: f64, seed: u64) -> Vec<f64> {
    let mut rng = seeded(seed);
    let z = normal_vec(&mut rng, n * d, 1.0);
    let mut out = vec![0.0; n * d];
    for i in 0..n {
        for j in 0..d {
            // lower-triangular mixing
            let mut v = shift;
            for k in 0..=j {
                v += z[i * d + k] * (1.0 + 0.3 * (j as f64 - k as f64)).recip();
            }
            out[i * d + j] = v;
        }
    }
    out
}

fn feats(n: usize, d: usize, data: &[f64]) -> Features {
    Features::from_row_major(n, d, data).unwrap()
}

#[test]
fn fid_of_a_sample_with_itself_is_zero() {
    let x = gaussian(500, 6, 0.0, 1);
    let f = fid(&feats(500, 6, &x), &feats(500, 6, &x)).unwrap();
    assert!(f.abs() < 1e-9, "{f}");
}

#[test]
fn fid_of_shifted_and_scaled_copies_is_the_closed_form() {
    let (n, d) = (400, 5);
    let x = gaussian(n, d, 0.0, 2);
    let delta: Vec<f64> = (0..d).map(|j| 0.5 - 0.2 * j as f64).collect();
    let shifted: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| v + delta[i % d])
        .collect();
    let norm2: f64 = delta.iter().map(|v| v * v).sum();
    let f = fid(&feats(n, d, &x), &feats(n, d, &shifted)).unwrap();
    assert!((f - norm2).abs() < 1e-9 * (1.0 + norm2), "{f} vs {norm2}");

    // y = a x + δ: Σ_y = a² Σ_x, so FID = ‖(1 − a) μ_x − δ‖² + (1 − a)² Tr Σ_x.
    let a = 1.7;
    let scaled: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| a * v + delta[i % d])
        .collect();
    let mean: Vec<f64> = (0..d)
        .map(|j| (0..n).map(|i| x[i * d + j]).sum::<f64>() / n as f64)
        .collect();
    let trace: f64 = (0..d)
        .map(|j| {
            (0..n)
                .map(|i| (x[i * d + j] - mean[j]).powi(2))
                .sum::<f64>()
                / (n - 1) as f64
        })
        .sum();
    let mean_term: f64 = (0..d)
        .map(|j| ((1.0 - a) * mean[j] - delta[j]).powi(2))
        .sum();
    let want = mean_term + (1.0 - a).powi(2) * trace;
    let f = fid(&feats(n, d, &x), &feats(n, d, &scaled)).unwrap();
    assert!((f - want).abs() < 1e-8 * (1.0 + want), "{f} vs {want}");
}

#[test]
fn frechet_distance_of_non_commuting_2x2_covariances() {
    // For 2×2 M with positive eigenvalues: Tr √M = √(Tr M + 2√det M).
    let s1: DMatrix<f64> = DMatrix::from_row_slice(2, 2, &[2.0, 0.6, 0.6, 1.0]);
    let s2: DMatrix<f64> = DMatrix::from_row_slice(2, 2, &[0.5, -0.3, -0.3, 3.0]);
    let m = &s1 * &s2;
    let tr_sqrt = (m.trace() + 2.0 * m.determinant().sqrt()).sqrt();
    let mu1 = DVector::from_vec(vec![1.0, -2.0]);
    let mu2 = DVector::from_vec(vec![0.5, 0.0]);
    let want: f64 = 0.25 + 4.0 + s1.trace() + s2.trace() - 2.0 * tr_sqrt;
    let got = frechet_distance(&mu1, &s1, &mu2, &s2).unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}

#[test]
fn kid_of_point_masses_is_the_kernel_closed_form() {
    // d = 1, k(x, y) = (xy + 1)³; all-equal samples: MMD² = k(a,a) + k(b,b) − 2k(a,b).
    let (a, b) = (0.7, -0.4);
    let k = |x: f64, y: f64| (x * y + 1.0).powi(3);
    let want = k(a, a) + k(b, b) - 2.0 * k(a, b);
    let x = feats(10, 1, &[a; 10]);
    let y = feats(12, 1, &[b; 12]);
    assert!((mmd2_unbiased(&x, &y).unwrap() - want).abs() < 1e-12);
    let blocks = kid(&x, &y, 5, 4, 0).unwrap();
    assert!((blocks.mean - want).abs() < 1e-12 && blocks.std < 1e-12);
}

#[test]
fn kid_is_unbiased_for_equal_distributions() {
    let (n, d, reps) = (100, 4, 40);
    let vals: Vec<f64> = (0..reps)
        .map(|r| {
            let x = gaussian(n, d, 0.0, 100 + 2 * r);
            let y = gaussian(n, d, 0.0, 101 + 2 * r);
            mmd2_unbiased(&feats(n, d, &x), &feats(n, d, &y)).unwrap()
        })
        .collect();
    let mean = vals.iter().sum::<f64>() / reps as f64;
    let sd = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (reps - 1) as f64).sqrt();
    let se = sd / (reps as f64).sqrt();
    assert!(mean.abs() < 3.5 * se, "mean {mean}, se {se}");
    // a shifted distribution is clearly detected
    let x = gaussian(n, d, 0.0, 7);
    let y = gaussian(n, d, 1.0, 8);
    let shifted = mmd2_unbiased(&feats(n, d, &x), &feats(n, d, &y)).unwrap();
    assert!(shifted > 20.0 * se, "{shifted} vs se {se}");
}

#[test]
fn precision_recall_constructed_cases() {
    let x = gaussian(50, 3, 0.0, 3);
    let f = feats(50, 3, &x);
    let pr = precision_recall(&f, &f, 3).unwrap();
    assert_eq!((pr.precision, pr.recall), (1.0, 1.0));
    let far: Vec<f64> = x.iter().map(|v| v + 1e3).collect();
    let pr = precision_recall(&f, &feats(50, 3, &far), 3).unwrap();
    assert_eq!((pr.precision, pr.recall), (0.0, 0.0));
    // 1-D, k = 1: real {0,1,2,3} has radii 1; generated {0.5, 10} has radii 9.5.
    let real = feats(4, 1, &[0.0, 1.0, 2.0, 3.0]);
    let gen = feats(2, 1, &[0.5, 10.0]);
    let pr = precision_recall(&real, &gen, 1).unwrap();
    assert_eq!((pr.precision, pr.recall), (0.5, 1.0));
    // k = 2 around real {0,1,2,3}: radii 2,1,1,2; generated {5.5, -2.5, 6}: precision 0.
    let gen = feats(3, 1, &[5.5, -2.5, 6.0]);
    let pr = precision_recall(&real, &gen, 2).unwrap();
    assert_eq!(pr.precision, 0.0);
    assert!(precision_recall(&real, &gen, 4).is_err());
}
