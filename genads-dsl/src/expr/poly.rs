//! Univariate polynomials with exact rational coefficients and the integration of rational
//! functions: Hermite reduction (Mack's linear version, Bronstein, *Symbolic Integration I*,
//! §2.2) for the rational part, and logarithms over the rational roots of the squarefree
//! remainder. Used by [`super::integrate`] for integrands that are rational functions of r or
//! of e^(s·r).

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// A polynomial, coefficients from degree 0 up, without trailing zeros.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Poly(pub Vec<BigRational>);

/// Most coefficient bits a computation may reach before it gives up.
const MAX_COEF_BITS: u64 = 2048;
/// Largest degree handled.
pub(crate) const MAX_DEGREE: usize = 40;

fn q(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

impl Poly {
    pub fn zero() -> Poly {
        Poly(Vec::new())
    }
    pub fn constant(c: BigRational) -> Poly {
        Poly(vec![c]).trim()
    }
    pub fn one() -> Poly {
        Poly::constant(q(1))
    }
    /// x^k.
    pub fn monomial(k: usize, c: BigRational) -> Poly {
        let mut v = vec![BigRational::zero(); k];
        v.push(c);
        Poly(v).trim()
    }
    fn trim(mut self) -> Poly {
        while self.0.last().is_some_and(Zero::is_zero) {
            self.0.pop();
        }
        self
    }
    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }
    /// Degree (0 for the zero polynomial too).
    pub fn deg(&self) -> usize {
        self.0.len().saturating_sub(1)
    }
    pub fn lead(&self) -> BigRational {
        self.0.last().cloned().unwrap_or_else(BigRational::zero)
    }
    /// Whether any coefficient has grown past the size limit.
    pub fn too_big(&self) -> bool {
        self.0.len() > MAX_DEGREE + 1
            || self
                .0
                .iter()
                .any(|c| c.numer().bits() + c.denom().bits() > MAX_COEF_BITS)
    }
    pub fn add(&self, o: &Poly) -> Poly {
        let n = self.0.len().max(o.0.len());
        let z = BigRational::zero();
        Poly(
            (0..n)
                .map(|i| self.0.get(i).unwrap_or(&z) + o.0.get(i).unwrap_or(&z))
                .collect(),
        )
        .trim()
    }
    pub fn neg(&self) -> Poly {
        Poly(self.0.iter().map(|c| -c).collect())
    }
    pub fn sub(&self, o: &Poly) -> Poly {
        self.add(&o.neg())
    }
    pub fn scale(&self, c: &BigRational) -> Poly {
        Poly(self.0.iter().map(|x| x * c).collect()).trim()
    }
    pub fn mul(&self, o: &Poly) -> Poly {
        if self.is_zero() || o.is_zero() {
            return Poly::zero();
        }
        let mut v = vec![BigRational::zero(); self.0.len() + o.0.len() - 1];
        for (i, a) in self.0.iter().enumerate() {
            for (j, b) in o.0.iter().enumerate() {
                v[i + j] += a * b;
            }
        }
        Poly(v).trim()
    }
    pub fn pow(&self, k: usize) -> Poly {
        (0..k).fold(Poly::one(), |acc, _| acc.mul(self))
    }
    /// Quotient and remainder (`d ≠ 0`).
    pub fn divrem(&self, d: &Poly) -> (Poly, Poly) {
        let mut r = self.clone();
        if d.is_zero() || r.0.len() < d.0.len() {
            return (Poly::zero(), r);
        }
        let mut quo = vec![BigRational::zero(); r.0.len() - d.0.len() + 1];
        let ld = d.lead();
        while !r.is_zero() && r.0.len() >= d.0.len() {
            let shift = r.0.len() - d.0.len();
            let c = r.lead() / &ld;
            for (i, dc) in d.0.iter().enumerate() {
                r.0[i + shift] -= &c * dc;
            }
            quo[shift] = c;
            r = r.trim();
        }
        (Poly(quo).trim(), r)
    }
    pub fn derivative(&self) -> Poly {
        Poly(
            self.0
                .iter()
                .enumerate()
                .skip(1)
                .map(|(i, c)| c * q(i as i64))
                .collect(),
        )
        .trim()
    }
    pub fn monic(&self) -> Poly {
        if self.is_zero() {
            return self.clone();
        }
        let l = self.lead().recip();
        self.scale(&l)
    }
    /// Monic greatest common divisor.
    pub fn gcd(&self, o: &Poly) -> Poly {
        let (mut a, mut b) = (self.clone(), o.clone());
        while !b.is_zero() {
            let (_, r) = a.divrem(&b);
            a = b;
            b = r;
        }
        a.monic()
    }
    pub fn eval(&self, x: &BigRational) -> BigRational {
        self.0
            .iter()
            .rev()
            .fold(BigRational::zero(), |acc, c| acc * x + c)
    }
}

/// (s, t) with s·a + t·b = g = gcd(a, b) (g monic).
fn ext_gcd(a: &Poly, b: &Poly) -> (Poly, Poly, Poly) {
    let (mut r0, mut r1) = (a.clone(), b.clone());
    let (mut s0, mut s1) = (Poly::one(), Poly::zero());
    let (mut t0, mut t1) = (Poly::zero(), Poly::one());
    while !r1.is_zero() {
        let (qu, r) = r0.divrem(&r1);
        r0 = std::mem::replace(&mut r1, r);
        let s = s0.sub(&qu.mul(&s1));
        s0 = std::mem::replace(&mut s1, s);
        let t = t0.sub(&qu.mul(&t1));
        t0 = std::mem::replace(&mut t1, t);
    }
    if r0.is_zero() {
        return (s0, t0, r0);
    }
    let l = r0.lead().recip();
    (s0.scale(&l), t0.scale(&l), r0.scale(&l))
}

/// (s, t) with s·a + t·b = c and s = 0 or deg s < deg b; `None` when gcd(a, b) ∤ c.
fn diophantine(a: &Poly, b: &Poly, c: &Poly) -> Option<(Poly, Poly)> {
    let (s, t, g) = ext_gcd(a, b);
    if g.is_zero() {
        return None;
    }
    let (qu, r) = c.divrem(&g);
    if !r.is_zero() {
        return None;
    }
    let (mut s, mut t) = (qu.mul(&s), qu.mul(&t));
    if !s.is_zero() && !b.is_zero() && s.deg() >= b.deg() {
        let (q2, r2) = s.divrem(b);
        s = r2;
        t = t.add(&q2.mul(a));
    }
    Some((s, t))
}

/// The antiderivative of a rational function a/d: polynomial part, rational part g_num/g_den
/// and logarithmic part Σ c_i log(x − α_i) (α_i the rational roots of the squarefree rest).
#[derive(Debug, Clone)]
pub(crate) struct RationalIntegral {
    pub polynomial: Poly,
    pub rational: (Poly, Poly),
    pub logs: Vec<(BigRational, BigRational)>,
}

/// ∫ a/d dx, or `None` when the logarithmic part needs irrational roots or the coefficients grow
/// past the size limit.
pub(crate) fn integrate_rational(a: &Poly, d: &Poly) -> Option<RationalIntegral> {
    if d.is_zero() || a.too_big() || d.too_big() {
        return None;
    }
    // Reduce a/d, then split off the polynomial part.
    let g = a.gcd(d);
    let (a, _) = a.divrem(&g);
    let (d, _) = d.divrem(&g);
    let (p, mut a) = a.divrem(&d);
    let polynomial = integrate_poly(&p);
    // Hermite reduction.
    let mut g_num = Poly::zero();
    let mut g_den = Poly::one();
    let mut dm = d.gcd(&d.derivative());
    let (ds, _) = d.divrem(&dm);
    while dm.deg() > 0 {
        let dm2 = dm.gcd(&dm.derivative());
        let (dms, _) = dm.divrem(&dm2);
        let (t, _) = ds.mul(&dm.derivative()).divrem(&dm);
        let (b, c) = diophantine(&t.neg(), &dms, &a)?;
        let (u, _) = b.derivative().mul(&ds).divrem(&dms);
        a = c.sub(&u);
        // g += b/dm
        g_num = g_num.mul(&dm).add(&b.mul(&g_den));
        g_den = g_den.mul(&dm);
        let gg = g_num.gcd(&g_den);
        if !gg.is_zero() && gg.deg() > 0 {
            g_num = g_num.divrem(&gg).0;
            g_den = g_den.divrem(&gg).0;
        }
        dm = dm2;
        if a.too_big() || g_num.too_big() || g_den.too_big() {
            return None;
        }
    }
    // ∫ a/ds with ds squarefree: logarithms at its rational roots.
    let mut logs = Vec::new();
    if !a.is_zero() {
        let roots = rational_roots(&ds)?;
        if roots.len() != ds.deg() {
            return None;
        }
        let dsp = ds.derivative();
        for r in roots {
            let c = a.eval(&r) / dsp.eval(&r);
            if !c.is_zero() {
                logs.push((c, r));
            }
        }
    }
    Some(RationalIntegral {
        polynomial,
        rational: (g_num, g_den),
        logs,
    })
}

fn integrate_poly(p: &Poly) -> Poly {
    let mut v = vec![BigRational::zero()];
    for (i, c) in p.0.iter().enumerate() {
        v.push(c / q(i as i64 + 1));
    }
    Poly(v).trim()
}

/// Positive divisors of |n| (n ≠ 0) when n is small enough to enumerate them.
fn divisors(n: &BigInt) -> Option<Vec<BigInt>> {
    let n = n.abs().to_u64().filter(|v| *v <= 1 << 40)?;
    let mut out = Vec::new();
    let mut i = 1u64;
    while i * i <= n {
        if n % i == 0 {
            out.push(BigInt::from(i));
            if i * i != n {
                out.push(BigInt::from(n / i));
            }
        }
        i += 1;
        if i > 2_000_000 {
            return None;
        }
    }
    Some(out)
}

/// The distinct rational roots of p (rational root theorem); `None` when the coefficients are too
/// large to enumerate the candidates.
pub(crate) fn rational_roots(p: &Poly) -> Option<Vec<BigRational>> {
    let mut p = p.clone();
    let mut roots = Vec::new();
    if p.deg() == 0 {
        return Some(roots);
    }
    // x = 0
    if p.0.first().is_some_and(Zero::is_zero) {
        roots.push(BigRational::zero());
        while p.0.first().is_some_and(Zero::is_zero) {
            p.0.remove(0);
        }
    }
    if p.deg() == 0 {
        return Some(roots);
    }
    // Integer coefficients.
    let lcm = p.0.iter().fold(BigInt::one(), |acc, c| acc.lcm(c.denom()));
    let ints: Vec<BigInt> = p.0.iter().map(|c| (c * &lcm).to_integer()).collect();
    let a0 = ints.first()?.clone();
    let an = ints.last()?.clone();
    let ps = divisors(&a0)?;
    let qs = divisors(&an)?;
    for num in &ps {
        for den in &qs {
            for sign in [1, -1] {
                let r = BigRational::new(num * BigInt::from(sign), den.clone());
                if !roots.contains(&r) && p.eval(&r).is_zero() {
                    roots.push(r);
                }
            }
        }
    }
    Some(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[i64]) -> Poly {
        Poly(v.iter().map(|&c| q(c)).collect()).trim()
    }

    #[test]
    fn division_and_gcd() {
        // (x² − 1) = (x − 1)(x + 1)
        let (quo, r) = p(&[-1, 0, 1]).divrem(&p(&[-1, 1]));
        assert_eq!((quo, r), (p(&[1, 1]), Poly::zero()));
        assert_eq!(p(&[-1, 0, 1]).gcd(&p(&[1, 2, 1])), p(&[1, 1]));
    }

    #[test]
    fn hermite_rational_part_of_inverse_square() {
        // ∫ 4x/(1 − x²)² dx = 2/(1 − x²): no logarithms.
        let res = integrate_rational(&p(&[0, 4]), &p(&[1, 0, -2, 0, 1])).unwrap();
        assert!(res.logs.is_empty());
        let (n, d) = res.rational;
        // Check g' = integrand at a few rationals: g = n/d.
        for x in [2, 3, 5] {
            let x = q(x);
            let h = BigRational::new(BigInt::from(1), BigInt::from(1_000_000));
            let g = |x: &BigRational| n.eval(x) / d.eval(x);
            let fd = (g(&(&x + &h)) - g(&(&x - &h))) / (q(2) * &h);
            let f = q(4) * &x / (q(1) - &x * &x).pow(2);
            let err = ((fd - &f) / f).abs();
            assert!(err < BigRational::new(BigInt::from(1), BigInt::from(1_000_000)));
        }
    }

    #[test]
    fn logarithms_at_rational_roots() {
        // ∫ 1/(x² − 1) = ½ log(x − 1) − ½ log(x + 1)
        let res = integrate_rational(&p(&[1]), &p(&[-1, 0, 1])).unwrap();
        assert!(res.rational.0.is_zero());
        let mut logs = res.logs.clone();
        logs.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(logs, vec![(q(-1) / q(2), q(-1)), (q(1) / q(2), q(1))]);
        // Irreducible quadratic: no rational roots, no closed form here.
        assert!(integrate_rational(&p(&[1]), &p(&[1, 0, 1])).is_none());
    }
}
