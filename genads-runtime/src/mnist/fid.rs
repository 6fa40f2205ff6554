//! Fréchet distance between Gaussians fitted to two feature sets (FID when the features are a
//! network's penultimate activations), in f64:
//! ‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr sqrtm(Σ₁ Σ₂), with
//! Tr sqrtm(Σ₁Σ₂) = Σᵢ √λᵢ(Σ₁^{1/2} Σ₂ Σ₁^{1/2}) (symmetric eigen-decompositions only).

use super::features::Features;
use super::{MnistError, Result};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Symmetric positive semi-definite square root (negative round-off eigenvalues clamped to 0).
pub fn sqrtm_psd(m: &DMatrix<f64>) -> DMatrix<f64> {
    let eig = SymmetricEigen::new(m.clone());
    let s = eig.eigenvalues.map(|l| l.max(0.0).sqrt());
    &eig.eigenvectors * DMatrix::from_diagonal(&s) * eig.eigenvectors.transpose()
}

/// Tr sqrtm(Σ₁ Σ₂) for symmetric PSD Σ₁, Σ₂.
pub fn trace_sqrt_product(s1: &DMatrix<f64>, s2: &DMatrix<f64>) -> f64 {
    let r = sqrtm_psd(s1);
    let mut m = &r * s2 * &r;
    // symmetrise away round-off before the symmetric solver
    m = (&m + m.transpose()) * 0.5;
    SymmetricEigen::new(m)
        .eigenvalues
        .iter()
        .map(|l| l.max(0.0).sqrt())
        .sum()
}

/// Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂).
pub fn frechet_distance(
    mu1: &DVector<f64>,
    s1: &DMatrix<f64>,
    mu2: &DVector<f64>,
    s2: &DMatrix<f64>,
) -> Result<f64> {
    let d = mu1.len();
    if mu2.len() != d || s1.shape() != (d, d) || s2.shape() != (d, d) {
        return Err(MnistError::Invalid(
            "frechet_distance: dimension mismatch".into(),
        ));
    }
    let diff = (mu1 - mu2).norm_squared();
    Ok(diff + s1.trace() + s2.trace() - 2.0 * trace_sqrt_product(s1, s2))
}

/// FID between two feature sets (Gaussian fits with unbiased covariances).
pub fn fid(real: &Features, generated: &Features) -> Result<f64> {
    if real.d() != generated.d() {
        return Err(MnistError::Invalid(format!(
            "fid: feature dimensions {} and {} differ",
            real.d(),
            generated.d()
        )));
    }
    frechet_distance(
        &real.mean(),
        &real.covariance()?,
        &generated.mean(),
        &generated.covariance()?,
    )
}

/// Bootstrap resamples of [`fid_standard_error`].
pub const FID_BOOTSTRAP: usize = 50;

/// The bootstrap standard error of `fid(real, generated)` from the finite generated set: the
/// standard deviation of the FID over `resamples` sets drawn with replacement from `generated`
/// (the real features fixed). It says how far another draw of as many images would move the
/// score, which is what two models' FIDs are compared against.
pub fn fid_standard_error(
    real: &Features,
    generated: &Features,
    resamples: usize,
    seed: u64,
) -> Result<f64> {
    use rand::Rng;
    if resamples < 2 {
        return Err(MnistError::Invalid(
            "fid_standard_error: at least 2 resamples".into(),
        ));
    }
    let mu_r = real.mean();
    let s_r = real.covariance()?;
    let root_r = sqrtm_psd(&s_r);
    let mut rng = crate::rng::seeded(seed ^ 0xf1d_b007);
    let n = generated.n();
    let mut values = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let idx: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
        let g = generated.select(&idx);
        let s_g = g.covariance()?;
        let mut m = &root_r * &s_g * &root_r;
        m = (&m + m.transpose()) * 0.5;
        let tr_sqrt: f64 = SymmetricEigen::new(m)
            .eigenvalues
            .iter()
            .map(|l| l.max(0.0).sqrt())
            .sum();
        values.push((&mu_r - g.mean()).norm_squared() + s_r.trace() + s_g.trace() - 2.0 * tr_sqrt);
    }
    let mean = values.iter().sum::<f64>() / resamples as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (resamples - 1) as f64;
    Ok(var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrtm_squares_back() {
        let a = DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0]);
        let r = sqrtm_psd(&a);
        assert!((&r * &r - &a).abs().max() < 1e-12);
    }

    #[test]
    fn trace_sqrt_of_commuting_diagonals() {
        // diag(a)·diag(b) = diag(ab): Tr sqrt = Σ √(a_i b_i)
        let a = DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 4.0, 9.0]));
        let b = DMatrix::from_diagonal(&DVector::from_vec(vec![16.0, 1.0, 0.25]));
        assert!((trace_sqrt_product(&a, &b) - (4.0 + 2.0 + 1.5)).abs() < 1e-12);
    }

    /// Gaussian features from a fixed generator.
    fn gaussian(n: usize, d: usize, shift: f64, seed: u64) -> Features {
        use rand::Rng;
        let mut rng = crate::rng::seeded(seed);
        let data: Vec<f64> = (0..n * d)
            .map(|_| {
                let (u, v): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random_range(0.0..1.0));
                (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos() + shift
            })
            .collect();
        Features::from_row_major(n, d, &data).unwrap()
    }

    #[test]
    fn bootstrap_error_matches_the_spread_over_independent_draws() {
        // Oracle: the standard deviation of the FID over independent generated sets of the same
        // size. The bootstrap, from one set, must estimate it within a factor of 2.
        let (n, d) = (400, 4);
        let real = gaussian(4000, d, 0.0, 1);
        let draws: Vec<f64> = (0..30)
            .map(|k| fid(&real, &gaussian(n, d, 0.3, 100 + k)).unwrap())
            .collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let sd = (draws.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (draws.len() - 1) as f64)
            .sqrt();
        let se = fid_standard_error(&real, &gaussian(n, d, 0.3, 7), FID_BOOTSTRAP, 3).unwrap();
        assert!(
            se > sd / 2.0 && se < sd * 2.0,
            "bootstrap {se} vs spread {sd}"
        );
        // A larger generated set has a smaller error.
        let se_big =
            fid_standard_error(&real, &gaussian(4 * n, d, 0.3, 8), FID_BOOTSTRAP, 3).unwrap();
        assert!(se_big < se, "{se_big} vs {se}");
    }
}
