//! A matrix of feature vectors (one row per image) in f64, with the statistics the metrics need.

use super::{MnistError, Result};
use nalgebra::{DMatrix, DVector};

/// `n` feature vectors of dimension `d`, stored as an n×d matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// The n×d matrix (row i = image i).
    pub rows: DMatrix<f64>,
}

impl Features {
    /// Builds from row-major data (`data.len() == n·d`, all finite).
    pub fn from_row_major(n: usize, d: usize, data: &[f64]) -> Result<Self> {
        if data.len() != n * d || n == 0 || d == 0 {
            return Err(MnistError::Invalid(format!(
                "features: {} values for {n}×{d}",
                data.len()
            )));
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(MnistError::Invalid(format!(
                "features: non-finite value at row {}",
                i / d
            )));
        }
        Ok(Self {
            rows: DMatrix::from_row_slice(n, d, data),
        })
    }

    /// Number of vectors.
    pub fn n(&self) -> usize {
        self.rows.nrows()
    }

    /// Dimension.
    pub fn d(&self) -> usize {
        self.rows.ncols()
    }

    /// The mean vector.
    pub fn mean(&self) -> DVector<f64> {
        self.rows.row_mean().transpose()
    }

    /// The unbiased covariance (divisor n − 1; needs n ≥ 2).
    pub fn covariance(&self) -> Result<DMatrix<f64>> {
        let n = self.n();
        if n < 2 {
            return Err(MnistError::Invalid(
                "covariance needs at least 2 vectors".into(),
            ));
        }
        let mu = self.rows.row_mean();
        let mut centred = self.rows.clone();
        for mut row in centred.row_iter_mut() {
            row -= &mu;
        }
        Ok(centred.transpose() * &centred / (n as f64 - 1.0))
    }

    /// Rows `idx` as a new feature matrix.
    pub fn select(&self, idx: &[usize]) -> Self {
        Self {
            rows: self.rows.select_rows(idx),
        }
    }
}

/// Squared Euclidean distances between rows `a_rows` of `a` and all rows of `b` (a block of the
/// distance matrix, |a_rows| × n_b), via ‖x‖² + ‖y‖² − 2x·y clamped at 0.
pub fn sq_dists_block(a: &Features, a_rows: std::ops::Range<usize>, b: &Features) -> DMatrix<f64> {
    let block = a.rows.rows(a_rows.start, a_rows.len());
    let gram = block * b.rows.transpose();
    let na: Vec<f64> = block.row_iter().map(|r| r.norm_squared()).collect();
    let nb: Vec<f64> = b.rows.row_iter().map(|r| r.norm_squared()).collect();
    DMatrix::from_fn(block.nrows(), b.n(), |i, j| {
        (na[i] + nb[j] - 2.0 * gram[(i, j)]).max(0.0)
    })
}
