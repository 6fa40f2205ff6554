//! Closed-form antiderivatives, for the affine parameter ∫ds/ω(s).
//!
//! The class handled (after the normal form):
//!
//! * **rational functions of e^(s·r)** — every integrand built from exponentials e^(q·r) with
//!   rational q and from hyperbolic functions of rational multiples of r (sinh, cosh, tanh, coth,
//!   sech, csch, their products, powers and quotients): with x = e^(s·r), dr = dx/(s·x), the
//!   integrand is a rational function of x, integrated exactly (polynomial part, Hermite
//!   reduction for the rational part, logarithms at rational roots of the squarefree rest);
//! * **rational functions of r** with integer powers, the same way;
//! * **sums of terms** `c`, `c·r^q` (q rational or symbolic), `c·r^n·e^(a·r + b)` (n a
//!   non-negative integer), `c·(a·r + b)^q` (a log for q = −1), `c·k^(a·r + b)` for a numeric k.
//!
//! Anything else (an irreducible quadratic in x needing arctan, mixed r and e^r in a quotient,
//! inexact coefficients in a quotient) is `None`: the runtime integrates numerically.

use super::poly::{integrate_rational, Poly, RationalIntegral, MAX_DEGREE};
use super::simplify::{mk_add, mk_mul, terms_of};
use super::{Expr, Func, Number};
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

impl Expr {
    /// An antiderivative with respect to `var` (simplified, integration constant 0), or `None`
    /// outside the class in the module doc. Logarithms are written for positive arguments; use
    /// [`Expr::integrate_on`] to fix their signs on an interval.
    pub fn integrate(&self, var: &str) -> Option<Expr> {
        self.integrate_with(var, None)
    }

    /// Like [`Expr::integrate`], with every logarithm log|g| written with the sign g has at the
    /// midpoint of [a, b] (`None` if g vanishes in the interval, where the integrand has a pole).
    pub fn integrate_on(&self, var: &str, a: f64, b: f64) -> Option<Expr> {
        self.integrate_with(var, Some((a, b)))
    }

    fn integrate_with(&self, var: &str, range: Option<(f64, f64)>) -> Option<Expr> {
        let e = self.simplify();
        if let Some(f) = rational_route(&e, var, range) {
            return Some(f);
        }
        let mut out = Vec::new();
        for t in terms_of(&e) {
            out.push(integrate_term(t, var)?);
        }
        Some(mk_add(out).simplify())
    }
}

/// How the integrand is a rational function: of x = var, or of x = e^(s·var).
#[derive(Clone)]
enum Variable {
    Identity,
    Exp(BigRational),
}

/// The rational gcd of two positive rationals.
fn rational_gcd(a: &BigRational, b: &BigRational) -> BigRational {
    BigRational::new(a.numer().gcd(b.numer()), a.denom().lcm(b.denom()))
}

/// The rational slope q of an exponential argument q·var (no constant part).
fn exp_slope(arg: &Expr, var: &str) -> Option<BigRational> {
    match arg {
        Expr::Sym(s) if s == var => Some(BigRational::one()),
        Expr::Mul(fs) if fs.len() == 2 => match (&fs[0], &fs[1]) {
            (Expr::Num(Number::Q(q)), Expr::Sym(s)) if s == var => Some(q.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Walks the normal form: which variable makes it rational (`None` if none does).
fn choose_variable(e: &Expr, var: &str) -> Option<Variable> {
    let mut slopes: Vec<BigRational> = Vec::new();
    let mut plain = false;
    let mut ok = true;
    scan(e, var, &mut slopes, &mut plain, &mut ok);
    if !ok || (plain && !slopes.is_empty()) || (!plain && slopes.is_empty()) {
        return None;
    }
    if plain {
        return Some(Variable::Identity);
    }
    let mut s = slopes[0].abs();
    for q in &slopes[1..] {
        s = rational_gcd(&s, &q.abs());
    }
    Some(Variable::Exp(s))
}

fn scan(e: &Expr, var: &str, slopes: &mut Vec<BigRational>, plain: &mut bool, ok: &mut bool) {
    if !e.depends_on(var) {
        return;
    }
    match e {
        Expr::Sym(_) => *plain = true,
        Expr::Add(xs) | Expr::Mul(xs) => xs.iter().for_each(|x| scan(x, var, slopes, plain, ok)),
        Expr::Pow(b, x) => {
            if x.depends_on(var)
                || !x
                    .as_number()
                    .is_some_and(|n| n.is_exact() && n.is_integer())
            {
                *ok = false;
            }
            scan(b, var, slopes, plain, ok);
        }
        Expr::Func(Func::Exp, a) => match exp_slope(a, var) {
            Some(q) => slopes.push(q),
            None => *ok = false,
        },
        _ => *ok = false,
    }
}

/// A rational function num/den of x.
type Rat = (Poly, Poly);

fn rat_mul(a: &Rat, b: &Rat) -> Rat {
    (a.0.mul(&b.0), a.1.mul(&b.1))
}

fn reduce(r: Rat) -> Option<Rat> {
    if r.1.is_zero() {
        return None;
    }
    let g = r.0.gcd(&r.1);
    let r = if g.is_zero() || g.deg() == 0 {
        r
    } else {
        (r.0.divrem(&g).0, r.1.divrem(&g).0)
    };
    (!r.0.too_big() && !r.1.too_big()).then_some(r)
}

/// x^k as a rational function (k may be negative).
fn x_pow(k: i64) -> Rat {
    let m = Poly::monomial(k.unsigned_abs() as usize, BigRational::one());
    if k >= 0 {
        (m, Poly::one())
    } else {
        (Poly::one(), m)
    }
}

fn to_rat(e: &Expr, var: &str, v: &Variable) -> Option<Rat> {
    if !e.depends_on(var) {
        return match e {
            Expr::Num(Number::Q(q)) => Some((Poly::constant(q.clone()), Poly::one())),
            _ => None,
        };
    }
    match e {
        Expr::Sym(_) => Some(x_pow(1)),
        Expr::Add(xs) => {
            let mut acc: Rat = (Poly::zero(), Poly::one());
            for x in xs {
                let r = to_rat(x, var, v)?;
                acc = reduce((acc.0.mul(&r.1).add(&r.0.mul(&acc.1)), acc.1.mul(&r.1)))?;
            }
            Some(acc)
        }
        Expr::Mul(xs) => {
            let mut acc: Rat = (Poly::one(), Poly::one());
            for x in xs {
                acc = reduce(rat_mul(&acc, &to_rat(x, var, v)?))?;
            }
            Some(acc)
        }
        Expr::Pow(b, k) => {
            let k = k.as_number()?.as_i64()?;
            if k.unsigned_abs() as usize > MAX_DEGREE {
                return None;
            }
            let r = to_rat(b, var, v)?;
            let (n, d) = (
                r.0.pow(k.unsigned_abs() as usize),
                r.1.pow(k.unsigned_abs() as usize),
            );
            reduce(if k >= 0 { (n, d) } else { (d, n) })
        }
        Expr::Func(Func::Exp, a) => {
            let Variable::Exp(s) = v else { return None };
            let q = exp_slope(a, var)? / s;
            if !q.is_integer() || q.numer().abs() > BigInt::from(MAX_DEGREE) {
                return None;
            }
            Some(x_pow(q.to_integer().to_i64()?))
        }
        _ => None,
    }
}

fn poly_expr(p: &Poly, x: &Expr) -> Expr {
    let terms: Vec<Expr> =
        p.0.iter()
            .enumerate()
            .filter(|(_, c)| !c.is_zero())
            .map(|(k, c)| {
                mk_mul(vec![
                    Expr::Num(Number::Q(c.clone())),
                    super::simplify::mk_pow(x.clone(), Expr::int(k as i64)),
                ])
            })
            .collect();
    mk_add(terms)
}

/// ∫ e d(var) for integrands that are rational in var or in e^(s·var).
fn rational_route(e: &Expr, var: &str, range: Option<(f64, f64)>) -> Option<Expr> {
    let v = choose_variable(e, var)?;
    let (num, den) = to_rat(e, var, &v)?;
    let r = Expr::sym(var);
    let (a, d, x) = match &v {
        Variable::Identity => (num, den, r.clone()),
        // dr = dx / (s·x)
        Variable::Exp(s) => (
            num,
            den.mul(&Poly::monomial(1, s.clone())),
            Expr::Func(
                Func::Exp,
                Box::new(mk_mul(vec![Expr::Num(Number::Q(s.clone())), r.clone()])),
            ),
        ),
    };
    let RationalIntegral {
        polynomial,
        rational: (gn, gd),
        logs,
    } = integrate_rational(&a, &d)?;
    let mut out = vec![poly_expr(&polynomial, &x)];
    if !gn.is_zero() {
        out.push(mk_mul(vec![
            poly_expr(&gn, &x),
            super::simplify::mk_pow(poly_expr(&gd, &x), Expr::int(-1)),
        ]));
    }
    for (c, alpha) in logs {
        // log|x − α|: the sign of x − α on the interval decides the argument's orientation.
        let arg = if alpha.is_zero() {
            match &v {
                Variable::Exp(s) => {
                    out.push(mk_mul(vec![Expr::Num(Number::Q(c * s)), r.clone()]));
                    continue;
                }
                Variable::Identity => x.clone(),
            }
        } else {
            mk_add(vec![x.clone(), Expr::Num(Number::Q(-alpha.clone()))])
        };
        let arg = match range {
            Some((lo, hi)) => {
                let sign_at = |t: f64| arg.eval(&|s| (s == var).then_some(t)).ok();
                let (sa, sb, sm) = (sign_at(lo)?, sign_at(hi)?, sign_at(0.5 * (lo + hi))?);
                if sa.signum() != sb.signum() || sa == 0.0 || sb == 0.0 {
                    return None;
                }
                if sm < 0.0 {
                    mk_mul(vec![Expr::int(-1), arg])
                } else {
                    arg
                }
            }
            None => arg,
        };
        out.push(mk_mul(vec![
            Expr::Num(Number::Q(c)),
            Expr::Func(Func::Log, Box::new(arg)),
        ]));
    }
    Some(mk_add(out).simplify())
}

fn integrate_term(t: Expr, var: &str) -> Option<Expr> {
    let x = Expr::sym(var);
    if !t.depends_on(var) {
        return Some(mk_mul(vec![t, x]));
    }
    let factors = match t {
        Expr::Mul(fs) => fs,
        other => vec![other],
    };
    let (constant, dependent): (Vec<Expr>, Vec<Expr>) =
        factors.into_iter().partition(|f| !f.depends_on(var));
    let prim = match dependent.as_slice() {
        [f] => primitive(f.clone(), var)?,
        [a, b] => poly_times_exp(a, b, var).or_else(|| poly_times_exp(b, a, var))?,
        _ => return None,
    };
    let mut all = constant;
    all.push(prim);
    Some(mk_mul(all))
}

/// ∫ var^n·e^(a·var + b) = e^(a·var + b) Σ_k (−1)^k n!/(n−k)! var^(n−k)/a^(k+1), n ≥ 0 integer.
fn poly_times_exp(p: &Expr, e: &Expr, var: &str) -> Option<Expr> {
    let Expr::Func(Func::Exp, arg) = e else {
        return None;
    };
    let n = match p {
        Expr::Sym(s) if s == var => 1,
        Expr::Pow(b, k) if matches!(b.as_ref(), Expr::Sym(s) if s == var) => k
            .as_number()
            .filter(|k| k.is_exact())?
            .as_i64()
            .filter(|k| (1..=20).contains(k))?,
        _ => return None,
    };
    let a = slope(arg, var)?;
    let x = Expr::sym(var);
    let mut terms = Vec::new();
    let mut falling = 1i64;
    for k in 0..=n {
        if k > 0 {
            falling *= n - k + 1;
        }
        let sign = if k % 2 == 0 { 1 } else { -1 };
        terms.push(mk_mul(vec![
            Expr::int(sign * falling),
            super::simplify::mk_pow(x.clone(), Expr::int(n - k)),
            super::simplify::mk_pow(a.clone(), Expr::int(-(k + 1))),
        ]));
    }
    Some(mk_mul(vec![e.clone(), mk_add(terms)]).simplify())
}

/// The slope `a` if `e` is affine in `var` (`a·var + b` with `a ≠ 0` free of `var`).
fn slope(e: &Expr, var: &str) -> Option<Expr> {
    let a = e.diff(var);
    if a.depends_on(var) || a.is_int(0) || a.as_number().is_some_and(Number::is_zero) {
        None
    } else {
        Some(a)
    }
}

/// Antiderivative of one factor that depends on `var`.
fn primitive(f: Expr, var: &str) -> Option<Expr> {
    match f {
        Expr::Func(Func::Exp, arg) => {
            let a = slope(&arg, var)?;
            Some(mk_mul(vec![Expr::Func(Func::Exp, arg), a.pow(Expr::int(-1))]).simplify())
        }
        Expr::Pow(base, q) if !q.depends_on(var) => {
            let a = slope(&base, var)?;
            let q1 = (*q + Expr::int(1)).simplify();
            if q1.is_int(0) || q1.as_number().is_some_and(Number::is_zero) {
                return Some((base.log() / a).simplify());
            }
            Some((base.pow(q1.clone()) / (a * q1)).simplify())
        }
        other => {
            // `other` itself affine: ∫(a·x + b) = (a·x + b)²/(2a)
            let a = slope(&other, var)?;
            Some((other.pow(Expr::int(2)) / (Expr::int(2) * a)).simplify())
        }
    }
}
