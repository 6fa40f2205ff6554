//! The energy distance between two 2-D point sets (Székely–Rizzo), in f64.
//!
//! ED² = 2·E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖, estimated with a V-statistic for the cross term (all
//! n·m pairs) and U-statistics for the within terms (pairs i ≠ j). ED = √max(0, ED²).

use crate::{Error, Result};

/// Points as separate coordinate arrays (structure of arrays, so the inner loops vectorise).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points2 {
    /// x coordinates.
    pub x: Vec<f64>,
    /// y coordinates.
    pub y: Vec<f64>,
}

impl Points2 {
    /// An empty set with room for `n` points.
    pub fn with_capacity(n: usize) -> Self {
        Points2 {
            x: Vec::with_capacity(n),
            y: Vec::with_capacity(n),
        }
    }
    /// From pairs.
    pub fn from_pairs(p: &[[f64; 2]]) -> Self {
        Points2 {
            x: p.iter().map(|q| q[0]).collect(),
            y: p.iter().map(|q| q[1]).collect(),
        }
    }
    /// Appends a point.
    pub fn push(&mut self, p: [f64; 2]) {
        self.x.push(p[0]);
        self.y.push(p[1]);
    }
    /// Number of points.
    pub fn len(&self) -> usize {
        self.x.len()
    }
    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
    /// Removes all points (keeps the allocation).
    pub fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
    }
}

/// Σ over all (i, j) of ‖aᵢ − bⱼ‖.
fn cross_sum(a: &Points2, b: &Points2) -> f64 {
    let mut total = 0.0;
    for (&ax, &ay) in a.x.iter().zip(&a.y) {
        let mut row = 0.0;
        for (&bx, &by) in b.x.iter().zip(&b.y) {
            let (dx, dy) = (ax - bx, ay - by);
            row += (dx * dx + dy * dy).sqrt();
        }
        total += row;
    }
    total
}

/// Σ over i < j of ‖aᵢ − aⱼ‖.
fn half_within_sum(a: &Points2) -> f64 {
    let n = a.len();
    let mut total = 0.0;
    for i in 0..n {
        let (ax, ay) = (a.x[i], a.y[i]);
        let mut row = 0.0;
        for (&bx, &by) in a.x[i + 1..].iter().zip(&a.y[i + 1..]) {
            let (dx, dy) = (ax - bx, ay - by);
            row += (dx * dx + dy * dy).sqrt();
        }
        total += row;
    }
    total
}

/// The energy-distance estimate ED² (may be slightly negative from sampling noise).
/// Both sets need at least 2 points (the U-statistics are undefined otherwise).
pub fn energy_distance_sq(a: &Points2, b: &Points2) -> Result<f64> {
    let (n, m) = (a.len(), b.len());
    if n < 2 || m < 2 {
        return Err(Error::Invalid(format!(
            "energy distance needs ≥ 2 points per set (got {n} and {m})"
        )));
    }
    let cross = cross_sum(a, b) / (n as f64 * m as f64);
    let within_a = 2.0 * half_within_sum(a) / (n as f64 * (n - 1) as f64);
    let within_b = 2.0 * half_within_sum(b) / (m as f64 * (m - 1) as f64);
    Ok(2.0 * cross - within_a - within_b)
}

/// ED = √max(0, ED²).
pub fn energy_distance(a: &Points2, b: &Points2) -> Result<f64> {
    Ok(energy_distance_sq(a, b)?.max(0.0).sqrt())
}
