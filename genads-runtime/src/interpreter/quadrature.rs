//! A numerical table of the affine integral I(r) = ∫_{r₀}^{r} ds/ω(s), for warps whose ∫ds/ω is
//! not elementary: composite 10-point Gauss–Legendre on a uniform grid, then quintic Hermite
//! interpolation between the nodes using the exact derivatives I′ = g and I″ = g′ (g = 1/ω).
//! The quintic keeps the *relative* error of I(r) near r₀, where I → 0, at ~h⁵ (a cubic gives
//! only ~h³ there).

use crate::{Error, Result};

/// Nodes and weights of 10-point Gauss–Legendre on [−1, 1] (positive half; symmetric).
const GL_X: [f64; 5] = [
    0.148_874_338_981_631_2,
    0.433_395_394_129_247_2,
    0.679_409_568_299_024_4,
    0.865_063_366_688_984_5,
    0.973_906_528_517_171_7,
];
const GL_W: [f64; 5] = [
    0.295_524_224_714_752_9,
    0.269_266_719_309_996_4,
    0.219_086_362_515_982,
    0.149_451_349_150_580_6,
    0.066_671_344_308_688_1,
];

/// ∫_a^b g by 10-point Gauss–Legendre.
pub fn gauss_legendre(g: &dyn Fn(f64) -> Result<f64>, a: f64, b: f64) -> Result<f64> {
    let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
    let mut acc = 0.0;
    for (x, w) in GL_X.iter().zip(GL_W) {
        acc += w * (g(mid - half * x)? + g(mid + half * x)?);
    }
    Ok(acc * half)
}

/// I(r) = ∫_{r₀}^{r} g(s) ds tabulated on a uniform grid of [r₀, r₁] (r₁ < r₀ allowed).
#[derive(Debug, Clone)]
pub struct IntegralTable {
    r0: f64,
    h: f64,
    /// I at the nodes.
    value: Vec<f64>,
    /// g = I′ at the nodes.
    slope: Vec<f64>,
    /// g′ = I″ at the nodes.
    curve: Vec<f64>,
}

impl IntegralTable {
    /// Tabulates ∫ g with `segments` Gauss–Legendre panels, estimating g′ at the nodes by
    /// fourth-order central differences (step 10⁻³·|r₁ − r₀|, so g must be defined slightly
    /// beyond the range). Prefer [`IntegralTable::with_derivative`] when g′ is known.
    pub fn new(g: &dyn Fn(f64) -> Result<f64>, r0: f64, r1: f64, segments: usize) -> Result<Self> {
        let step = 1e-3 * (r1 - r0).abs();
        let dg = |x: f64| -> Result<f64> {
            let f = |k: f64| g(x + k * step);
            Ok((f(-2.0)? - 8.0 * f(-1.0)? + 8.0 * f(1.0)? - f(2.0)?) / (12.0 * step))
        };
        Self::with_derivative(g, &dg, r0, r1, segments)
    }

    /// Tabulates ∫ g with `segments` Gauss–Legendre panels; `dg` is g′ (errors if g or g′ fail
    /// or are not finite).
    pub fn with_derivative(
        g: &dyn Fn(f64) -> Result<f64>,
        dg: &dyn Fn(f64) -> Result<f64>,
        r0: f64,
        r1: f64,
        segments: usize,
    ) -> Result<Self> {
        if !(r0.is_finite() && r1.is_finite()) || r0 == r1 || segments == 0 {
            return Err(Error::Invalid(format!(
                "cannot tabulate an integral over [{r0}, {r1}] with {segments} panels"
            )));
        }
        let h = (r1 - r0) / segments as f64;
        let mut value = Vec::with_capacity(segments + 1);
        let mut slope = Vec::with_capacity(segments + 1);
        let mut curve = Vec::with_capacity(segments + 1);
        let mut acc = 0.0;
        for i in 0..=segments {
            let a = r0 + i as f64 * h;
            if i > 0 {
                acc += gauss_legendre(g, a - h, a)?;
            }
            let (s, c) = (g(a)?, dg(a)?);
            if !(s.is_finite() && c.is_finite() && acc.is_finite()) {
                return Err(Error::Invalid(format!("integrand not finite near r = {a}")));
            }
            value.push(acc);
            slope.push(s);
            curve.push(c);
        }
        Ok(Self {
            r0,
            h,
            value,
            slope,
            curve,
        })
    }

    /// The integral over the whole table, ∫_{r₀}^{r₁} g.
    pub fn total(&self) -> f64 {
        self.value.last().copied().unwrap_or(0.0)
    }

    /// I(r) by quintic Hermite interpolation (the end panels' polynomials extrapolate outside
    /// [r₀, r₁]).
    pub fn eval(&self, r: f64) -> f64 {
        let n = self.value.len() - 1;
        let x = (r - self.r0) / self.h;
        let i = if x.is_nan() {
            0
        } else {
            (x.floor().max(0.0) as usize).min(n - 1)
        };
        let s = x - i as f64;
        let (s2, s3) = (s * s, s * s * s);
        let (s4, s5) = (s3 * s, s3 * s2);
        let h = self.h;
        let h0 = 1.0 - 10.0 * s3 + 15.0 * s4 - 6.0 * s5;
        let h1 = s - 6.0 * s3 + 8.0 * s4 - 3.0 * s5;
        let h2 = 0.5 * (s2 - 3.0 * s3 + 3.0 * s4 - s5);
        let h3 = 0.5 * (s3 - 2.0 * s4 + s5);
        let h4 = -4.0 * s3 + 7.0 * s4 - 3.0 * s5;
        let h5 = 10.0 * s3 - 15.0 * s4 + 6.0 * s5;
        h0 * self.value[i]
            + h1 * h * self.slope[i]
            + h2 * h * h * self.curve[i]
            + h5 * self.value[i + 1]
            + h4 * h * self.slope[i + 1]
            + h3 * h * h * self.curve[i + 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_integral_matches_closed_form() {
        // ∫_0^r e^{-2s} ds = (1 − e^{−2r})/2, also on a reversed interval.
        let g = |s: f64| -> Result<f64> { Ok((-2.0 * s).exp()) };
        let dg = |s: f64| -> Result<f64> { Ok(-2.0 * (-2.0 * s).exp()) };
        let exact_dg = IntegralTable::with_derivative(&g, &dg, 0.0, 1.0, 64).unwrap();
        let fd_dg = IntegralTable::new(&g, 0.0, 1.0, 64).unwrap();
        for tab in [exact_dg, fd_dg] {
            for k in 0..=997 {
                let r = k as f64 / 997.0;
                let exact = (1.0 - (-2.0 * r).exp()) / 2.0;
                assert!((tab.eval(r) - exact).abs() <= 1e-11 * exact, "r = {r}");
            }
        }
        let rev = IntegralTable::with_derivative(&g, &dg, 1.0, 0.25, 64).unwrap();
        let exact = ((-2.0f64).exp() - (-0.5f64).exp()) / 2.0;
        assert!((rev.total() - exact).abs() < 1e-14);
    }

    #[test]
    fn bad_integrands_are_errors() {
        let g = |s: f64| -> Result<f64> { Ok(1.0 / s) };
        let dg = |s: f64| -> Result<f64> { Ok(-1.0 / (s * s)) };
        assert!(IntegralTable::with_derivative(&g, &dg, 0.0, 1.0, 8).is_err());
        assert!(IntegralTable::new(&g, 0.0, 1.0, 8).is_err());
        assert!(IntegralTable::with_derivative(&g, &dg, 1.0, 1.0, 8).is_err());
        assert!(IntegralTable::new(&g, 1.0, 1.0, 8).is_err());
        assert!(IntegralTable::with_derivative(&g, &dg, 1.0, f64::NAN, 8).is_err());
        assert!(IntegralTable::with_derivative(&g, &dg, 1.0, 2.0, 0).is_err());
    }
}
