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
}
