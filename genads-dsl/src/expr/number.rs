//! Numbers of the symbolic core: exact rationals, or f64 where a value is inexact.
//!
//! Decimal literals are exact (`0.1` is 1/10, `1e-3` is 1/1000) when they have at most
//! [`EXACT_DIGITS`] significant digits; a longer literal (a typed-out float such as
//! `0.43233235838169365`) is taken as the f64 it denotes. Arithmetic on two rationals stays exact
//! (integer powers too, and roots when the root is rational); anything touching a float is a float.
//! A rational whose numerator and denominator together exceed [`MAX_BITS`] bits is rounded to a
//! float, so no input can make the core allocate without bound.

use num_bigint::BigInt;
use num_integer::{Integer, Roots};
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;

/// Most significant digits of a decimal literal that is taken as exact.
pub const EXACT_DIGITS: usize = 15;

/// Largest size (numerator bits + denominator bits) of an exact rational.
pub const MAX_BITS: u64 = 4096;

/// A number: an exact rational or an (inexact, finite) f64.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    /// An exact rational.
    Q(BigRational),
    /// An inexact value.
    F(f64),
}

impl Number {
    /// The integer `n`.
    pub fn int(n: i64) -> Number {
        Number::Q(BigRational::from_integer(BigInt::from(n)))
    }

    /// The rational `n/d` (`d ≠ 0`).
    pub fn ratio(n: i64, d: i64) -> Number {
        Number::Q(BigRational::new(BigInt::from(n), BigInt::from(d)))
    }

    /// The number an f64 denotes when written out: the shortest round-trip decimal of `v`, exact
    /// if it has at most [`EXACT_DIGITS`] significant digits (`0.1` → 1/10), else `v` itself.
    pub fn from_f64(v: f64) -> Number {
        if !v.is_finite() {
            return Number::F(v);
        }
        if v == 0.0 {
            return Number::int(0);
        }
        Number::parse_decimal(&format!("{v:?}")).unwrap_or(Number::F(v))
    }

    /// Parses a decimal literal `[-]digits[.digits][e[+-]digits]` by the exactness rule above.
    pub fn parse_decimal(text: &str) -> Option<Number> {
        let (neg, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], body[i + 1..].parse::<i64>().ok()?),
            None => (body, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !frac_part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = format!("{int_part}{frac_part}");
        let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
        let float = || text.parse::<f64>().ok().map(Number::F);
        if significant > EXACT_DIGITS {
            return float();
        }
        let scale = exponent - frac_part.len() as i64;
        // 10^|scale| beyond the size limit: the float it denotes (0 or ∞ when out of range).
        if scale.unsigned_abs() > MAX_BITS / 3 {
            return float();
        }
        let mantissa: BigInt = digits.parse().ok()?;
        let ten = BigInt::from(10);
        let pow = num_traits::pow(ten, scale.unsigned_abs() as usize);
        let mut q = if scale >= 0 {
            BigRational::from_integer(mantissa * pow)
        } else {
            BigRational::new(mantissa, pow)
        };
        if neg {
            q = -q;
        }
        Some(Number::Q(q))
    }

    /// The value as an f64 (rationals rounded to nearest; ±∞ when out of range).
    pub fn to_f64(&self) -> f64 {
        match self {
            Number::F(v) => *v,
            Number::Q(q) => q_to_f64(q),
        }
    }

    /// Whether the number is exact.
    pub fn is_exact(&self) -> bool {
        matches!(self, Number::Q(_))
    }

    /// Whether it is 0.
    pub fn is_zero(&self) -> bool {
        match self {
            Number::Q(q) => q.is_zero(),
            Number::F(v) => *v == 0.0,
        }
    }

    /// Whether it is 1.
    pub fn is_one(&self) -> bool {
        match self {
            Number::Q(q) => q.is_one(),
            Number::F(v) => *v == 1.0,
        }
    }

    /// Whether it equals the integer `n` (exactly, for rationals).
    pub fn is_int(&self, n: i64) -> bool {
        match self {
            Number::Q(q) => q.is_integer() && *q.numer() == BigInt::from(n),
            Number::F(v) => *v == n as f64,
        }
    }

    /// Whether it is negative.
    pub fn is_negative(&self) -> bool {
        match self {
            Number::Q(q) => q.is_negative(),
            Number::F(v) => *v < 0.0,
        }
    }

    /// The integer value, if this is an exact integer or an integral float.
    pub fn as_integer(&self) -> Option<BigInt> {
        match self {
            Number::Q(q) if q.is_integer() => Some(q.numer().clone()),
            Number::F(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Some(BigInt::from(*v as i64)),
            _ => None,
        }
    }

    /// The integer value as i64, if an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_integer().and_then(|i| i.to_i64())
    }

    /// Whether this is an integer (exact or integral float).
    pub fn is_integer(&self) -> bool {
        self.as_integer().is_some()
    }

    /// −self.
    pub fn neg(&self) -> Number {
        match self {
            Number::Q(q) => Number::Q(-q),
            Number::F(v) => Number::F(-v),
        }
    }

    /// |self|.
    pub fn abs(&self) -> Number {
        match self {
            Number::Q(q) => Number::Q(q.abs()),
            Number::F(v) => Number::F(v.abs()),
        }
    }

    /// self + other (a float result may be non-finite; evaluation reports it).
    pub fn add(&self, other: &Number) -> Number {
        match (self, other) {
            (Number::Q(a), Number::Q(b)) => bounded(a + b),
            _ => float(self.to_f64() + other.to_f64()),
        }
    }

    /// self · other (a float result may be non-finite; evaluation reports it).
    pub fn mul(&self, other: &Number) -> Number {
        match (self, other) {
            (Number::Q(a), Number::Q(b)) => bounded(a * b),
            _ => float(self.to_f64() * other.to_f64()),
        }
    }

    /// Whether the value is finite.
    pub fn is_finite(&self) -> bool {
        match self {
            Number::Q(_) => true,
            Number::F(v) => v.is_finite(),
        }
    }

    /// floor(self) for an exact rational.
    pub(crate) fn floor(&self) -> Option<BigInt> {
        match self {
            Number::Q(q) => Some(q.floor().to_integer()),
            Number::F(_) => None,
        }
    }

    /// 1/self; `None` for 0.
    pub fn recip(&self) -> Option<Number> {
        if self.is_zero() {
            return None;
        }
        match self {
            Number::Q(q) => Some(Number::Q(q.recip())),
            Number::F(v) => finite(1.0 / v),
        }
    }

    /// self^e for an integer e; `None` for 0^(negative), a result beyond the size limit that is
    /// not finite as a float either.
    pub fn powi(&self, e: &BigInt) -> Option<Number> {
        match self {
            Number::Q(q) => {
                if q.is_zero() {
                    return if e.is_negative() {
                        None
                    } else if e.is_zero() {
                        Some(Number::int(1))
                    } else {
                        Some(Number::int(0))
                    };
                }
                let bits = q.numer().bits() + q.denom().bits();
                let small = e
                    .abs()
                    .to_u64()
                    .filter(|m| m.saturating_mul(bits) <= MAX_BITS);
                match small {
                    Some(m) => {
                        let p = num_traits::pow(q.clone(), m as usize);
                        Some(Number::Q(if e.is_negative() { p.recip() } else { p }))
                    }
                    None => finite(q_to_f64(q).powf(e.to_f64()?)),
                }
            }
            Number::F(v) => finite(v.powf(e.to_f64()?)),
        }
    }

    /// The exact q-th root (q ≥ 2) of a non-negative rational, when it is rational.
    pub fn exact_root(&self, q: u32) -> Option<Number> {
        let Number::Q(x) = self else { return None };
        if x.is_negative() || q < 2 {
            return None;
        }
        let n = x.numer().nth_root(q);
        let d = x.denom().nth_root(q);
        let back = BigRational::new(
            num_traits::pow(n.clone(), q as usize),
            num_traits::pow(d.clone(), q as usize),
        );
        (back == *x).then(|| Number::Q(BigRational::new(n, d)))
    }

    /// Numerical comparison (rationals exactly, floats by value).
    pub fn cmp_value(&self, other: &Number) -> Ordering {
        match (self, other) {
            (Number::Q(a), Number::Q(b)) => a.cmp(b),
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }

    /// Numerator and denominator of an exact rational as i64, if they fit.
    pub fn as_ratio_i64(&self) -> Option<(i64, i64)> {
        match self {
            Number::Q(q) => Some((q.numer().to_i64()?, q.denom().to_i64()?)),
            Number::F(_) => None,
        }
    }

    /// The exact rational, if any.
    pub fn as_rational(&self) -> Option<&BigRational> {
        match self {
            Number::Q(q) => Some(q),
            Number::F(_) => None,
        }
    }

    /// A stable, unambiguous key (signatures): `q<n>/<d>` or `f<shortest f64>`.
    pub fn key(&self) -> String {
        match self {
            Number::Q(q) => format!("q{}/{}", q.numer(), q.denom()),
            Number::F(v) => format!("f{:?}", if *v == 0.0 { 0.0 } else { *v }),
        }
    }
}

fn finite(v: f64) -> Option<Number> {
    v.is_finite().then_some(float(v))
}

fn float(v: f64) -> Number {
    Number::F(if v == 0.0 { 0.0 } else { v })
}

fn bounded(q: BigRational) -> Number {
    if q.numer().bits() + q.denom().bits() > MAX_BITS {
        Number::F(q_to_f64(&q))
    } else {
        Number::Q(q)
    }
}

/// Nearest f64 of a rational (±∞ beyond the f64 range, 0 below it).
pub(crate) fn q_to_f64(q: &BigRational) -> f64 {
    if let Some(v) = q.to_f64().filter(|v| !v.is_nan()) {
        return v;
    }
    // Fallback: scale into range by powers of two.
    let (n, d) = (q.numer(), q.denom());
    let shift = n.bits() as i64 - d.bits() as i64;
    if shift > 1100 {
        return if q.is_negative() {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    if shift < -1100 {
        return 0.0;
    }
    let (nn, dd) = if shift > 0 {
        (n.clone(), d << (shift as usize))
    } else {
        (n << ((-shift) as usize), d.clone())
    };
    let m = BigRational::new(nn, dd).to_f64().unwrap_or(f64::NAN);
    m * 2f64.powi(shift as i32)
}

/// Prime factorisation of a positive integer by trial division up to `limit`: the prime powers
/// found and the unfactored cofactor (1 when complete).
pub(crate) fn factor(n: &BigInt, limit: u64) -> (Vec<(u64, u64)>, BigInt) {
    let mut n = n.clone();
    let mut out = Vec::new();
    let mut p = 2u64;
    while p <= limit && !n.is_one() {
        let bp = BigInt::from(p);
        if &bp * &bp > n {
            break;
        }
        let mut k = 0;
        loop {
            let (q, r) = n.div_rem(&bp);
            if !r.is_zero() {
                break;
            }
            n = q;
            k += 1;
        }
        if k > 0 {
            out.push((p, k));
        }
        p += if p == 2 { 1 } else { 2 };
    }
    // What is left is 1, a prime (when its square root is below the limit), or unfactored.
    if !n.is_one() {
        if let Some(v) = n.to_u64() {
            let root = v.sqrt();
            if root < p || root <= limit {
                out.push((v, 1));
                n = BigInt::one();
            }
        }
    }
    (out, n)
}

#[derive(Serialize, Deserialize)]
enum Repr {
    Q(String),
    F(f64),
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Number::Q(q) => Repr::Q(format!("{}/{}", q.numer(), q.denom())),
            Number::F(v) => Repr::F(*v),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
        match Repr::deserialize(d)? {
            Repr::F(v) => Ok(Number::F(v)),
            Repr::Q(s) => {
                let (n, m) = s.split_once('/').unwrap_or((&s, "1"));
                let n: BigInt = n.parse().map_err(serde::de::Error::custom)?;
                let m: BigInt = m.parse().map_err(serde::de::Error::custom)?;
                if m.is_zero() {
                    return Err(serde::de::Error::custom("zero denominator"));
                }
                Ok(Number::Q(BigRational::new(n, m)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_up_to_fifteen_digits() {
        assert_eq!(Number::parse_decimal("0.1"), Some(Number::ratio(1, 10)));
        assert_eq!(Number::parse_decimal("1.5"), Some(Number::ratio(3, 2)));
        assert_eq!(Number::parse_decimal("1e-3"), Some(Number::ratio(1, 1000)));
        assert_eq!(Number::parse_decimal("2.50E2"), Some(Number::int(250)));
        assert_eq!(
            Number::parse_decimal("0.43233235838169365"),
            Some(Number::F(0.43233235838169365))
        );
        assert_eq!(Number::from_f64(0.25), Number::ratio(1, 4));
        assert_eq!(Number::from_f64(1.0 / 3.0), Number::F(1.0 / 3.0));
        assert!(Number::parse_decimal("1e308").is_some_and(|n| n.is_exact()));
        assert_eq!(
            Number::parse_decimal("1e5000"),
            Some(Number::F(f64::INFINITY))
        );
        assert_eq!(Number::parse_decimal("x"), None);
    }

    #[test]
    fn exact_arithmetic_and_roots() {
        let tenth = Number::ratio(1, 10);
        assert_eq!(
            tenth.powi(&BigInt::from(-9)),
            Some(Number::int(1_000_000_000))
        );
        assert_eq!(Number::ratio(1, 4).exact_root(2), Some(Number::ratio(1, 2)));
        assert_eq!(Number::int(2).exact_root(2), None);
        let d = Number::ratio(3, 2);
        let m2 = d.mul(&d.add(&Number::int(-2)));
        assert_eq!(m2, Number::ratio(-3, 4));
        assert_eq!(Number::int(0).recip(), None);
        // Beyond the size limit: a float.
        let big = Number::int(3).powi(&BigInt::from(100_000));
        assert_eq!(big, None, "3^100000 overflows f64");
        assert!(matches!(
            Number::ratio(3, 2).powi(&BigInt::from(1500)),
            Some(Number::F(_))
        ));
    }

    #[test]
    fn factorisation() {
        let (f, rest) = factor(&BigInt::from(360), 1000);
        assert_eq!(f, vec![(2, 3), (3, 2), (5, 1)]);
        assert!(rest.is_one());
        let (f, rest) = factor(&BigInt::from(1_000_003u64 * 1_000_033), 1000);
        assert!(f.is_empty() && rest == BigInt::from(1_000_003u64 * 1_000_033));
    }
}
