//! Interval arithmetic: an enclosure of an expression's values over an interval of `r`, used to
//! prove that the warp factor is finite and positive on the whole radial range (not only at
//! sample points).
//!
//! Each operation is evaluated on the interval bounds and widened outward by a few ulps, so the
//! enclosure holds despite rounding. Where an operation leaves its domain on part of the interval
//! (a logarithm of an interval reaching 0, a division by an interval containing 0) the result is
//! `None`: the caller subdivides, and reports the point where subdivision cannot prove the
//! property.

use super::{Expr, Func};

/// A closed interval [lo, hi] (lo ≤ hi, both finite).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

fn down(x: f64) -> f64 {
    if x.is_finite() {
        x - (x.abs() * (4.0 * f64::EPSILON) + f64::MIN_POSITIVE)
    } else {
        x
    }
}

fn up(x: f64) -> f64 {
    if x.is_finite() {
        x + (x.abs() * (4.0 * f64::EPSILON) + f64::MIN_POSITIVE)
    } else {
        x
    }
}

impl Interval {
    /// [lo, hi], widened outward; `None` unless finite and ordered.
    pub fn new(lo: f64, hi: f64) -> Option<Interval> {
        let (lo, hi) = (down(lo), up(hi));
        (lo.is_finite() && hi.is_finite() && lo <= hi).then_some(Interval { lo, hi })
    }

    /// The degenerate interval [x, x].
    pub fn point(x: f64) -> Option<Interval> {
        x.is_finite().then_some(Interval { lo: x, hi: x })
    }

    /// Whether 0 lies in the interval.
    pub fn contains_zero(&self) -> bool {
        self.lo <= 0.0 && self.hi >= 0.0
    }

    fn add(self, o: Interval) -> Option<Interval> {
        Interval::new(self.lo + o.lo, self.hi + o.hi)
    }

    fn mul(self, o: Interval) -> Option<Interval> {
        let c = [
            self.lo * o.lo,
            self.lo * o.hi,
            self.hi * o.lo,
            self.hi * o.hi,
        ];
        Interval::new(
            c.iter().copied().fold(f64::INFINITY, f64::min),
            c.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    }

    fn recip(self) -> Option<Interval> {
        if self.contains_zero() {
            return None;
        }
        Interval::new(1.0 / self.hi, 1.0 / self.lo)
    }

    /// A monotone function applied to the bounds (increasing when `inc`).
    fn mono(self, f: impl Fn(f64) -> f64, inc: bool) -> Option<Interval> {
        let (a, b) = (f(self.lo), f(self.hi));
        if inc {
            Interval::new(a, b)
        } else {
            Interval::new(b, a)
        }
    }

    fn powi(self, n: i32) -> Option<Interval> {
        if n == 0 {
            return Interval::point(1.0);
        }
        if n < 0 {
            return self.powi(-n)?.recip();
        }
        let (a, b) = (self.lo.powi(n), self.hi.powi(n));
        if n % 2 == 0 && self.contains_zero() {
            Interval::new(0.0, a.max(b))
        } else if n % 2 == 0 && self.hi < 0.0 {
            Interval::new(b, a)
        } else {
            Interval::new(a, b)
        }
    }

    fn powf(self, e: f64) -> Option<Interval> {
        if self.lo < 0.0 || (self.lo == 0.0 && e < 0.0) {
            return None;
        }
        self.mono(|x| x.powf(e), e >= 0.0)
    }

    /// An enclosure of cosh (minimum 1 at 0).
    fn cosh(self) -> Option<Interval> {
        let (a, b) = (self.lo.cosh(), self.hi.cosh());
        if self.contains_zero() {
            Interval::new(1.0, a.max(b))
        } else {
            Interval::new(a.min(b), a.max(b))
        }
    }
}

impl Expr {
    /// An enclosure of the values over `r ∈ [lo, hi]` (other symbols unknown → `None`);
    /// `None` also where an operation leaves its domain or overflows on part of the interval.
    pub fn eval_interval(&self, r: Interval) -> Option<Interval> {
        match self {
            Expr::Num(v) => Interval::new(v.to_f64(), v.to_f64()),
            Expr::Pi => Interval::new(std::f64::consts::PI, std::f64::consts::PI),
            Expr::Sym(s) if s == "r" => Some(r),
            Expr::Sym(_) => None,
            Expr::Add(xs) => xs
                .iter()
                .try_fold(Interval::point(0.0)?, |acc, x| acc.add(x.eval_interval(r)?)),
            Expr::Mul(xs) => xs
                .iter()
                .try_fold(Interval::point(1.0)?, |acc, x| acc.mul(x.eval_interval(r)?)),
            Expr::Pow(b, e) => {
                let b = b.eval_interval(r)?;
                match e.as_number().map(|n| n.to_f64()) {
                    Some(k) if k.fract() == 0.0 && k.abs() <= i32::MAX as f64 => b.powi(k as i32),
                    Some(k) => b.powf(k),
                    None => {
                        // b^e = exp(e·log b) for b > 0
                        let e = e.eval_interval(r)?;
                        if b.lo <= 0.0 {
                            return None;
                        }
                        e.mul(b.mono(f64::ln, true)?)?.mono(f64::exp, true)
                    }
                }
            }
            Expr::Func(f, a) => {
                let a = a.eval_interval(r)?;
                match f {
                    Func::Exp => a.mono(f64::exp, true),
                    Func::Log if a.lo > 0.0 => a.mono(f64::ln, true),
                    Func::Sqrt if a.lo >= 0.0 => a.mono(f64::sqrt, true),
                    Func::Log | Func::Sqrt => None,
                    Func::Sinh => a.mono(f64::sinh, true),
                    Func::Cosh => a.cosh(),
                    Func::Tanh => a.mono(f64::tanh, true),
                    Func::Coth => a.mono(f64::tanh, true)?.recip(),
                    Func::Sech => a.cosh()?.recip(),
                    Func::Csch => a.mono(f64::sinh, true)?.recip(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enclosures_contain_sampled_values() {
        let r = Expr::sym("r");
        let cases = [
            (
                r.clone().apply(Func::Sinh) - r.clone().pow(Expr::int(2)),
                0.2,
                1.7,
            ),
            (
                r.clone().apply(Func::Cosh).log() * r.clone().apply(Func::Sech),
                -1.0,
                2.0,
            ),
            (
                (r.clone() + Expr::int(3)).pow(Expr::ratio(-3, 2)) * r.clone().exp(),
                -2.0,
                1.0,
            ),
            (
                r.clone().apply(Func::Coth) + r.clone().pow(r.clone()),
                0.3,
                2.0,
            ),
        ];
        for (e, lo, hi) in cases {
            let iv = e.eval_interval(Interval::new(lo, hi).unwrap()).unwrap();
            for k in 0..=200 {
                let x = lo + (hi - lo) * k as f64 / 200.0;
                let v = e.eval_r(x).unwrap();
                assert!(iv.lo <= v && v <= iv.hi, "{e} at {x}: {v} ∉ {iv:?}");
            }
        }
    }

    #[test]
    fn domain_errors_are_none() {
        let r = Expr::sym("r");
        let iv = Interval::new(-0.5, 0.5).unwrap();
        assert!(r.clone().log().eval_interval(iv).is_none());
        assert!(r.clone().pow(Expr::int(-1)).eval_interval(iv).is_none());
        assert!(r.clone().apply(Func::Csch).eval_interval(iv).is_none());
        assert!(r
            .apply(Func::Cosh)
            .pow(Expr::int(-1))
            .eval_interval(iv)
            .is_some());
    }
}
