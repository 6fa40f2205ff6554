//! The paper's 2-D checkerboard (PAPER.md §7.1): 4×4 tiles of size 2 on [−4, 4)²; a point is valid
//! iff ⌊(x+4)/2⌋ + ⌊(y+4)/2⌋ is even, which leaves 8 valid cells. The density is uniform on the valid
//! cells: 1/32 there (8 cells of area 4), 0 elsewhere.

use crate::{Error, Result};
use candle_core::{Device, Tensor};
use rand::Rng as _;
use rand_chacha::ChaCha8Rng;

/// The checkerboard's geometry and exact density.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Checkerboard;

impl Checkerboard {
    /// Lower corner of the domain (both axes).
    pub const LO: f64 = -4.0;
    /// Upper edge of the domain (exclusive, both axes).
    pub const HI: f64 = 4.0;
    /// Side of a tile.
    pub const CELL_SIZE: f64 = 2.0;
    /// Tiles per axis.
    pub const TILES: usize = 4;
    /// Number of valid cells.
    pub const N_VALID: usize = 8;

    /// The tile (i, j) (i along x) containing (x, y), or `None` outside [−4, 4)² (or for NaN).
    pub fn tile(x: f64, y: f64) -> Option<(usize, usize)> {
        let inside = |v: f64| (Self::LO..Self::HI).contains(&v);
        if !(inside(x) && inside(y)) {
            return None;
        }
        let i = ((x - Self::LO) / Self::CELL_SIZE).floor() as usize;
        let j = ((y - Self::LO) / Self::CELL_SIZE).floor() as usize;
        // Guard against rounding at the upper edge.
        Some((i.min(Self::TILES - 1), j.min(Self::TILES - 1)))
    }

    /// Index 0..8 of the valid cell containing (x, y), or `None` if the point is outside the domain
    /// or in an invalid (odd) tile. Valid cells are numbered in row-major order of (j, i).
    pub fn valid_cell(x: f64, y: f64) -> Option<usize> {
        let (i, j) = Self::tile(x, y)?;
        if (i + j) % 2 == 0 {
            Some((j * Self::TILES + i) / 2)
        } else {
            None
        }
    }

    /// Whether (x, y) lies in a valid cell of the domain.
    pub fn is_valid(x: f64, y: f64) -> bool {
        Self::valid_cell(x, y).is_some()
    }

    /// The tile (i, j) of valid cell `c` (0..8).
    pub fn cell_tile(c: usize) -> (usize, usize) {
        let j = (2 * c) / Self::TILES;
        let i = (2 * c) % Self::TILES + (j % 2);
        (i, j)
    }

    /// Lower-left corner and upper-right corner of valid cell `c` (0..8).
    pub fn cell_rect(c: usize) -> ([f64; 2], [f64; 2]) {
        let (i, j) = Self::cell_tile(c);
        let x0 = Self::LO + i as f64 * Self::CELL_SIZE;
        let y0 = Self::LO + j as f64 * Self::CELL_SIZE;
        ([x0, y0], [x0 + Self::CELL_SIZE, y0 + Self::CELL_SIZE])
    }

    /// The exact density: 1/32 on the valid cells, 0 elsewhere.
    pub fn density(x: f64, y: f64) -> f64 {
        if Self::is_valid(x, y) {
            1.0 / (Self::N_VALID as f64 * Self::CELL_SIZE * Self::CELL_SIZE)
        } else {
            0.0
        }
    }

    /// `n` points from the checkerboard, drawn as the reference code does: uniform in [0, 4)²,
    /// reject points whose unit tiles ⌊x⌋ + ⌊y⌋ are odd, map (v − 2)·2. The map sends unit tile k to
    /// tile k of size 2, so the accepted set is exactly the valid cells with uniform density. A mapped
    /// point that floating-point rounding pushed across a tile edge (probability ~1e-16) is rejected too.
    pub fn sample(n: usize, rng: &mut ChaCha8Rng) -> Vec<[f64; 2]> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let x: f64 = rng.random_range(0.0..4.0);
            let y: f64 = rng.random_range(0.0..4.0);
            if (x.floor() as i64 + y.floor() as i64) % 2 != 0 {
                continue;
            }
            let (mx, my) = ((x - 2.0) * 2.0, (y - 2.0) * 2.0);
            if Self::is_valid(mx, my) {
                out.push([mx, my]);
            }
        }
        out
    }
}

/// A fixed set of 2-D training points (the same seed always gives the same points).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The points, in generation order (the paper evaluates against the first 10 000).
    pub points: Vec<[f64; 2]>,
    /// The seed that generated them.
    pub seed: u64,
}

impl Dataset {
    /// `n` checkerboard points from `seed` (ChaCha8, see [`crate::rng`]).
    pub fn checkerboard(n: usize, seed: u64) -> Self {
        use rand::SeedableRng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Dataset {
            points: Checkerboard::sample(n, &mut rng),
            seed,
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The first `n` points (all if fewer): the paper's evaluation reference.
    pub fn head(&self, n: usize) -> &[[f64; 2]] {
        &self.points[..n.min(self.points.len())]
    }

    /// Scalar mean and standard deviation over all coordinates (PAPER.md §4.1 normalisation).
    pub fn scalar_mean_std(&self) -> Result<(f64, f64)> {
        if self.points.is_empty() {
            return Err(Error::Invalid("empty data set has no mean/std".into()));
        }
        let n = 2.0 * self.points.len() as f64;
        let mean = self.points.iter().map(|p| p[0] + p[1]).sum::<f64>() / n;
        let var = self
            .points
            .iter()
            .map(|p| (p[0] - mean).powi(2) + (p[1] - mean).powi(2))
            .sum::<f64>()
            / n;
        Ok((mean, var.sqrt()))
    }

    /// The points at `indices` as an f32 tensor of shape (len, 2) on the CPU.
    pub fn batch(&self, indices: &[usize]) -> Result<Tensor> {
        let mut data = Vec::with_capacity(2 * indices.len());
        for &i in indices {
            let p = self.points.get(i).ok_or_else(|| {
                Error::Invalid(format!(
                    "index {i} out of range for {} points",
                    self.points.len()
                ))
            })?;
            data.push(p[0] as f32);
            data.push(p[1] as f32);
        }
        Ok(Tensor::from_vec(data, (indices.len(), 2), &Device::Cpu)?)
    }
}

/// Converts an (N, 2) tensor of points to f64 pairs.
pub fn points_from_tensor(t: &Tensor) -> Result<Vec<[f64; 2]>> {
    let dims = t.dims();
    if dims.len() != 2 || dims[1] != 2 {
        return Err(Error::Invalid(format!(
            "expected points of shape (N, 2), got {dims:?}"
        )));
    }
    let v: Vec<Vec<f64>> = t.to_dtype(candle_core::DType::F64)?.to_vec2()?;
    Ok(v.into_iter().map(|r| [r[0], r[1]]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn valid_cells_enumerate_the_even_tiles() {
        let mut seen = [false; 8];
        for (c, seen_c) in seen.iter_mut().enumerate() {
            let (i, j) = Checkerboard::cell_tile(c);
            assert_eq!((i + j) % 2, 0, "cell {c} maps to odd tile ({i}, {j})");
            let ([x0, y0], [x1, y1]) = Checkerboard::cell_rect(c);
            assert_eq!((x1 - x0, y1 - y0), (2.0, 2.0));
            let centre = (0.5 * (x0 + x1), 0.5 * (y0 + y1));
            assert_eq!(Checkerboard::valid_cell(centre.0, centre.1), Some(c));
            *seen_c = true;
        }
        assert!(seen.iter().all(|&s| s));
        // Hand-checked points: the origin's tile (2, 2) is even; (−3, −1) is tile (0, 1): odd.
        assert!(Checkerboard::is_valid(0.5, 0.5));
        assert!(Checkerboard::is_valid(-3.5, -3.5));
        assert!(!Checkerboard::is_valid(-3.0, -1.0));
        assert!(!Checkerboard::is_valid(4.0, 0.5)); // upper edge excluded
        assert!(Checkerboard::is_valid(-4.0, -4.0)); // lower edge included
        assert!(!Checkerboard::is_valid(f64::NAN, 0.0));
    }

    #[test]
    fn density_integrates_to_one() {
        // Midpoint rule on a 160×160 grid over [−5, 5]² (tile edges fall on grid lines).
        let n = 160;
        let h = 10.0 / n as f64;
        let mut total = 0.0;
        for a in 0..n {
            for b in 0..n {
                let x = -5.0 + (a as f64 + 0.5) * h;
                let y = -5.0 + (b as f64 + 0.5) * h;
                total += Checkerboard::density(x, y) * h * h;
            }
        }
        assert!((total - 1.0).abs() < 1e-12, "∫ρ = {total}");
    }

    #[test]
    fn samples_are_valid_and_uniform() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let n = 32_000;
        let pts = Checkerboard::sample(n, &mut rng);
        assert_eq!(pts.len(), n);
        // Histogram on a grid of 1×1 sub-squares (64 of them): each valid one expects n/32 points.
        let mut counts = [[0usize; 8]; 8];
        for p in &pts {
            assert!(Checkerboard::is_valid(p[0], p[1]), "invalid sample {p:?}");
            counts[(p[0] + 4.0).floor() as usize][(p[1] + 4.0).floor() as usize] += 1;
        }
        let expected = n as f64 / 32.0;
        let mut chi2 = 0.0;
        for (a, row) in counts.iter().enumerate() {
            for (b, &c) in row.iter().enumerate() {
                let x = -4.0 + a as f64 + 0.5;
                let y = -4.0 + b as f64 + 0.5;
                if Checkerboard::density(x, y) > 0.0 {
                    chi2 += (c as f64 - expected).powi(2) / expected;
                } else {
                    assert_eq!(c, 0);
                }
            }
        }
        // 31 degrees of freedom: mean 31, sd ≈ 7.9; 70 is a ~5σ bound.
        assert!(chi2 < 70.0, "chi² = {chi2}");
    }

    #[test]
    fn dataset_is_fixed_per_seed() {
        let a = Dataset::checkerboard(100, 3);
        assert_eq!(a, Dataset::checkerboard(100, 3));
        assert_ne!(a.points, Dataset::checkerboard(100, 4).points);
        let t = a.batch(&[0, 5, 7]).unwrap();
        assert_eq!(t.dims(), &[3, 2]);
        let back = points_from_tensor(&t).unwrap();
        assert!((back[1][0] - a.points[5][0]).abs() < 1e-6);
        assert!(a.batch(&[100]).is_err());
        assert_eq!(a.head(1000).len(), 100);
        let (mean, std) = Dataset::checkerboard(50_000, 1).scalar_mean_std().unwrap();
        // Uniform over the valid cells: mean 0, std 8/√12 ≈ 2.309 (PAPER.md §4.1).
        assert!(
            mean.abs() < 0.03 && (std - 8.0 / 12f64.sqrt()).abs() < 0.02,
            "{mean} {std}"
        );
    }
}
