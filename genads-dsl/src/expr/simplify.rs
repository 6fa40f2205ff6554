//! The canonical normal form.
//!
//! A normal-form expression is a sum of terms, each term a coefficient (an exact rational, or a
//! float where an inexact number entered) times a monomial: at most one exponential `exp(L)` and
//! powers `b^e` of distinct *kernels* b — symbols (`r`, parameters), π, primes (numeric radicals
//! such as `2^(1/2)`), logarithms, and sums that cannot be expanded (a sum under a negative or
//! fractional power, normalised so that its smallest term is 1). Every `mk_*` smart constructor
//! takes normal-form children and returns a normal-form node. Rules (every symbol and every base of
//! a non-integer power is taken to be a positive real):
//!
//! * exact rational arithmetic; integer powers and rational roots of rationals stay exact,
//!   irrational roots are split into prime radicals (`8^(1/2) = 2·2^(1/2)`); floats fold only to
//!   finite values;
//! * products of sums and positive integer powers of sums are expanded (up to [`MAX_TERMS`] terms
//!   and powers up to [`MAX_EXPAND_POW`]), then like terms are collected;
//! * like factors merge (`x·x² = x³`, `exp(a)·exp(b) = exp(a + b)`, `(a^b)^c = a^(bc)`,
//!   `(ab)^c = a^c b^c` unless a negative literal sits under a fractional power);
//! * a sum under a non-positive-integer power is written `c·m·B` with B's leading term 1 (in the
//!   monomial order below), so that `(2 + 2r)^(-1) = (1/2)(r + 1)^(-1)` and equal sums cancel;
//! * `sqrt(x) = x^(1/2)`; `sinh, cosh, tanh, coth, sech, csch` are written with exponentials;
//! * `exp(log a) = a`, `exp(c·log a + …) = a^c·exp(…)` (c a number, or a non-numeric a),
//!   `b^x = exp(x·log b)` for a numeric b and non-numeric x, `log(exp a) = a`, `log(a^b) = b·log a`,
//!   `log(ab) = log a + log b` (a logarithm of a sum or of a rational stays one kernel);
//! * terms are sorted by a monomial order (exponentials by the coefficients of their linear
//!   argument, then powers by exponent, descending); factors by the canonical order.
//!
//! The form is canonical for Laurent polynomials in the kernels with rational exponents (which
//! includes every exponential polynomial in r and every hyperbolic polynomial) and for quotients
//! whose numerator and denominator share syntactically equal sums. Not done: polynomial gcds
//! between different sums (`(e^(2r) - 1)/(e^r - 1)` stays a quotient) and factoring.

use super::number::factor;
use super::order::cmp_expr;
use super::{Expr, Func, Number};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;

/// Most terms an expansion may produce (beyond, the product stays unexpanded).
pub const MAX_TERMS: usize = 256;
/// Largest positive integer power of a sum that is expanded.
pub const MAX_EXPAND_POW: i64 = 12;
/// Trial-division bound of numeric factorisations.
const FACTOR_LIMIT: u64 = 1000;

impl Expr {
    /// The canonical normal form (see the module rules). Idempotent.
    pub fn simplify(&self) -> Expr {
        let mut cur = simp(self);
        for _ in 0..4 {
            let next = simp(&cur);
            if next == cur {
                break;
            }
            cur = next;
        }
        cur
    }
}

fn simp(e: &Expr) -> Expr {
    match e {
        Expr::Num(v) => num(v.clone()),
        Expr::Pi | Expr::Sym(_) => e.clone(),
        Expr::Add(xs) => mk_add(xs.iter().map(simp).collect()),
        Expr::Mul(xs) => mk_mul(xs.iter().map(simp).collect()),
        Expr::Pow(b, x) => match b.as_ref() {
            // (b^y)^x: combine the exponents before the inner power is expanded, so that
            // 1/(r - c)^2 keeps the kernel r - c.
            Expr::Pow(b2, y) => {
                let x = simp(x);
                if x.as_number().is_some_and(Number::is_integer)
                    || !matches!(b2.as_ref(), Expr::Num(v) if v.is_negative())
                {
                    mk_pow(simp(b2), mk_mul(vec![simp(y), x]))
                } else {
                    mk_pow(mk_pow(simp(b2), simp(y)), x)
                }
            }
            _ => mk_pow(simp(b), simp(x)),
        },
        Expr::Func(f, a) => mk_func(*f, simp(a)),
    }
}

fn num(v: Number) -> Expr {
    match v {
        Number::F(0.0) => Expr::Num(Number::F(0.0)),
        other => Expr::Num(other),
    }
}

fn int(n: i64) -> Expr {
    Expr::int(n)
}

fn neg(e: Expr) -> Expr {
    mk_mul(vec![int(-1), e])
}

/// A function applied to a normal-form argument.
pub(crate) fn mk_func(f: Func, a: Expr) -> Expr {
    let half = || Expr::ratio(1, 2);
    let sinh = |a: &Expr| {
        mk_mul(vec![
            half(),
            mk_add(vec![mk_exp(a.clone()), neg(mk_exp(neg(a.clone())))]),
        ])
    };
    let cosh = |a: &Expr| {
        mk_mul(vec![
            half(),
            mk_add(vec![mk_exp(a.clone()), mk_exp(neg(a.clone()))]),
        ])
    };
    let inv = |e: Expr| mk_pow(e, int(-1));
    // Hyperbolic functions of a polynomial argument are written with exponentials; of anything
    // else (an exponential, another hyperbolic function, a quotient) they stay kernels, which
    // keeps nested functions from blowing up under expansion.
    let hyperbolic = !matches!(f, Func::Exp | Func::Log | Func::Sqrt);
    if hyperbolic && !is_polynomial(&a) {
        return Expr::Func(f, Box::new(a));
    }
    match f {
        Func::Exp => mk_exp(a),
        Func::Log => mk_log(a),
        Func::Sqrt => mk_pow(a, half()),
        Func::Sinh => sinh(&a),
        Func::Cosh => cosh(&a),
        Func::Tanh => mk_mul(vec![sinh(&a), inv(cosh(&a))]),
        Func::Coth => mk_mul(vec![cosh(&a), inv(sinh(&a))]),
        Func::Sech => inv(cosh(&a)),
        Func::Csch => inv(sinh(&a)),
    }
}

/// Whether a normal-form expression is a polynomial (with rational exponents) in symbols, π
/// and numeric radicals.
fn is_polynomial(e: &Expr) -> bool {
    terms_of(e).iter().all(|t| {
        let t = Term::of(t);
        t.exp.is_int(0)
            && t.pows.iter().all(|(b, x)| {
                matches!(b, Expr::Sym(_) | Expr::Pi | Expr::Num(_)) && matches!(x, Expr::Num(_))
            })
    })
}

/// A normal-form term split into coefficient, exponential argument (0 if none) and kernel powers
/// (sorted by base).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Term {
    pub coef: Number,
    pub exp: Expr,
    pub pows: Vec<(Expr, Expr)>,
}

impl Term {
    pub(crate) fn of(e: &Expr) -> Term {
        let mut t = Term {
            coef: Number::int(1),
            exp: int(0),
            pows: Vec::new(),
        };
        let push = |f: &Expr, t: &mut Term| match f {
            Expr::Num(v) => t.coef = t.coef.mul(v),
            Expr::Func(Func::Exp, a) => t.exp = a.as_ref().clone(),
            Expr::Pow(b, x) => t.pows.push((b.as_ref().clone(), x.as_ref().clone())),
            other => t.pows.push((other.clone(), int(1))),
        };
        match e {
            Expr::Mul(fs) => fs.iter().for_each(|f| push(f, &mut t)),
            other => push(other, &mut t),
        }
        t.pows.sort_by(|a, b| cmp_expr(&a.0, &b.0));
        t
    }

    /// The coefficient-free monomial as an expression (1 when empty).
    pub(crate) fn monomial(&self) -> Expr {
        Term {
            coef: Number::int(1),
            ..self.clone()
        }
        .to_expr()
    }

    pub(crate) fn to_expr(&self) -> Expr {
        let mut fs: Vec<Expr> = self
            .pows
            .iter()
            .map(|(b, x)| {
                if x.is_int(1) {
                    b.clone()
                } else {
                    Expr::Pow(Box::new(b.clone()), Box::new(x.clone()))
                }
            })
            .collect();
        if !self.exp.is_int(0) {
            fs.push(Expr::Func(Func::Exp, Box::new(self.exp.clone())));
        }
        fs.sort_by(cmp_expr);
        if fs.is_empty() {
            return num(self.coef.clone());
        }
        if !self.coef.is_one() {
            fs.insert(0, num(self.coef.clone()));
        }
        if fs.len() == 1 {
            fs.pop().unwrap_or(int(1))
        } else {
            Expr::Mul(fs)
        }
    }
}

/// The terms of a normal-form expression (a non-sum is one term; 0 is none).
pub(crate) fn terms_of(e: &Expr) -> Vec<Expr> {
    match e {
        Expr::Add(ts) => ts.clone(),
        Expr::Num(v) if v.is_zero() => Vec::new(),
        other => vec![other.clone()],
    }
}

/// Compares two normal-form expressions as vectors of coefficients over their monomials
/// (the constant monomial last): a translation-invariant order, used for exponential arguments
/// and for exponents.
fn cmp_linear(a: &Expr, b: &Expr) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let split = |e: &Expr| -> Vec<(Expr, Number)> {
        terms_of(e)
            .iter()
            .map(|t| {
                let t = Term::of(t);
                (t.monomial(), t.coef)
            })
            .collect()
    };
    let (xa, xb) = (split(a), split(b));
    let mut keys: Vec<&Expr> = xa.iter().chain(xb.iter()).map(|(m, _)| m).collect();
    keys.sort_by(|p, q| {
        let (pc, qc) = (p.is_int(1), q.is_int(1));
        pc.cmp(&qc).then_with(|| cmp_expr(p, q))
    });
    keys.dedup();
    let zero = Number::int(0);
    for k in keys {
        let ca = xa.iter().find(|(m, _)| m == k).map_or(&zero, |(_, c)| c);
        let cb = xb.iter().find(|(m, _)| m == k).map_or(&zero, |(_, c)| c);
        match ca.cmp_value(cb) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}

/// The monomial order: exponential arguments first, then kernel exponents (bases in canonical
/// order). Compatible with multiplication.
pub(crate) fn cmp_mono(a: &Term, b: &Term) -> Ordering {
    cmp_linear(&a.exp, &b.exp).then_with(|| {
        let mut bases: Vec<&Expr> = a.pows.iter().chain(b.pows.iter()).map(|(x, _)| x).collect();
        bases.sort_by(|p, q| cmp_expr(p, q));
        bases.dedup();
        let zero = int(0);
        for base in bases {
            let ea = a
                .pows
                .iter()
                .find(|(x, _)| x == base)
                .map_or(&zero, |(_, e)| e);
            let eb = b
                .pows
                .iter()
                .find(|(x, _)| x == base)
                .map_or(&zero, |(_, e)| e);
            match cmp_linear(ea, eb) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        Ordering::Equal
    })
}

pub(crate) fn mk_add(terms: Vec<Expr>) -> Expr {
    let mut flat = Vec::with_capacity(terms.len());
    for t in terms {
        match t {
            Expr::Add(ts) => flat.extend(ts),
            other => flat.push(other),
        }
    }
    let mut groups: Vec<Term> = Vec::new();
    let mut float_zero = false;
    for t in flat {
        let t = Term::of(&t);
        match groups
            .iter_mut()
            .find(|g| g.exp == t.exp && g.pows == t.pows)
        {
            Some(g) => g.coef = g.coef.add(&t.coef),
            None => groups.push(t),
        }
    }
    groups.retain(|g| {
        let z = g.coef.is_zero();
        float_zero |= z && !g.coef.is_exact();
        !z
    });
    groups.sort_by(|a, b| cmp_mono(b, a));
    let mut out: Vec<Expr> = groups.iter().map(Term::to_expr).collect();
    match out.len() {
        0 if float_zero => Expr::Num(Number::F(0.0)),
        0 => int(0),
        1 => out.pop().unwrap_or(int(0)),
        _ => cancel_kernel(out),
    }
}

/// A sum whose terms share a sum kernel B^(−k) and are together c·m·B: written c·m·B^(1−k)
/// (`e^6/(e^6 + 1) + 1/(e^6 + 1)` is 1), which keeps quotients of equal sums canonical.
fn cancel_kernel(terms: Vec<Expr>) -> Expr {
    let kernels: Vec<Expr> = terms
        .iter()
        .flat_map(|t| Term::of(t).pows)
        .filter(|(b, x)| {
            matches!(b, Expr::Add(_)) && x.as_number().is_some_and(Number::is_negative)
        })
        .map(|(b, _)| b)
        .collect();
    if kernels.is_empty() {
        return Expr::Add(terms);
    }
    let (c, m, b) = normalize_sum(&terms, true);
    if !kernels.contains(&b) {
        return Expr::Add(terms);
    }
    // m contains B^(−k); multiplying by B^1 lowers that power, with no expansion.
    let mut t = Term::of(&m);
    t.coef = c;
    for (base, x) in t.pows.iter_mut() {
        if *base == b {
            *x = mk_add(vec![x.clone(), int(1)]);
        }
    }
    t.pows.retain(|(_, x)| !x.is_int(0));
    if t.pows.iter().any(|(base, x)| {
        matches!(base, Expr::Add(_)) && small_positive_integer(x, MAX_EXPAND_POW).is_some()
    }) {
        return Expr::Add(terms);
    }
    t.to_expr()
}

/// The componentwise minimum of linear forms (coefficient vectors over their monomials).
fn linear_min(forms: &[&Expr]) -> Expr {
    let split: Vec<Vec<(Expr, Number)>> = forms
        .iter()
        .map(|e| {
            terms_of(e)
                .iter()
                .map(|t| {
                    let t = Term::of(t);
                    (t.monomial(), t.coef)
                })
                .collect()
        })
        .collect();
    let mut keys: Vec<Expr> = split.iter().flatten().map(|(m, _)| m.clone()).collect();
    keys.sort_by(cmp_expr);
    keys.dedup();
    let zero = Number::int(0);
    let mut out = Vec::new();
    for k in keys {
        let min = split
            .iter()
            .map(|v| v.iter().find(|(m, _)| *m == k).map_or(&zero, |(_, c)| c))
            .min_by(|a, b| a.cmp_value(b))
            .cloned()
            .unwrap_or(Number::int(0));
        if !min.is_zero() {
            out.push(mk_mul(vec![num(min), k]));
        }
    }
    mk_add(out)
}

/// A sum written as `c · m · B`: m the greatest common monomial of its terms (componentwise
/// smallest exponents and exponential arguments), c the coefficient of its leading (largest)
/// term (its absolute value unless `signed`), B the sum divided by them: `2 + 2r = 2(r + 1)`,
/// `e^r/2 − e^(−r)/2 = (1/2)·e^(−r)·(e^(2r) − 1)`.
pub(crate) fn normalize_sum(terms: &[Expr], signed: bool) -> (Number, Expr, Expr) {
    let ts: Vec<Term> = terms.iter().map(Term::of).collect();
    let Some(pivot) = ts.iter().max_by(|a, b| cmp_mono(a, b)) else {
        return (Number::int(1), int(1), mk_add(terms.to_vec()));
    };
    let c = if signed {
        pivot.coef.clone()
    } else {
        pivot.coef.abs()
    };
    let zero = int(0);
    let exp_min = linear_min(&ts.iter().map(|t| &t.exp).collect::<Vec<_>>());
    let mut bases: Vec<&Expr> = ts
        .iter()
        .flat_map(|t| t.pows.iter().map(|(b, _)| b))
        .collect();
    bases.sort_by(|p, q| cmp_expr(p, q));
    bases.dedup();
    let mut common: Vec<(Expr, Expr)> = Vec::new();
    for b in bases {
        let exps: Vec<&Expr> = ts
            .iter()
            .map(|t| {
                t.pows
                    .iter()
                    .find(|(x, _)| x == b)
                    .map_or(&zero, |(_, e)| e)
            })
            .collect();
        // Only numeric exponents are compared (a symbolic one keeps its kernel in B).
        if exps.iter().all(|e| matches!(e, Expr::Num(_))) {
            let m = linear_min(&exps);
            if !m.is_int(0) {
                common.push((b.clone(), m));
            }
        }
    }
    if c.is_one() && exp_min.is_int(0) && common.is_empty() {
        return (c, int(1), Expr::Add(terms.to_vec()));
    }
    let Some(c_inv) = c.recip() else {
        return (Number::int(1), int(1), Expr::Add(terms.to_vec()));
    };
    // A sum kernel's power stays a power (not expanded), so that it cancels against the terms'.
    let power = |b: &Expr, x: Expr| match b {
        Expr::Add(_) => Expr::Pow(Box::new(b.clone()), Box::new(x)),
        _ => mk_pow(b.clone(), x),
    };
    let mut inv_m: Vec<Expr> = common
        .iter()
        .map(|(b, x)| power(b, neg(x.clone())))
        .collect();
    let mut m_factors: Vec<Expr> = common.iter().map(|(b, x)| power(b, x.clone())).collect();
    if !exp_min.is_int(0) {
        inv_m.push(mk_exp(neg(exp_min.clone())));
        m_factors.push(mk_exp(exp_min));
    }
    let b: Vec<Expr> = terms
        .iter()
        .map(|t| {
            let mut fs = inv_m.clone();
            fs.push(t.clone());
            fs.push(num(c_inv.clone()));
            mk_mul(fs)
        })
        .collect();
    (c, mk_mul(m_factors), mk_add(b))
}

/// Whether a number is a positive integer no larger than `max`.
fn small_positive_integer(x: &Expr, max: i64) -> Option<i64> {
    match x {
        Expr::Num(v) if v.is_exact() => v.as_i64().filter(|n| *n >= 1 && *n <= max),
        _ => None,
    }
}

pub(crate) fn mk_mul(factors: Vec<Expr>) -> Expr {
    let mut coef = Number::int(1);
    let mut exp_args: Vec<Expr> = Vec::new();
    let mut groups: Vec<(Expr, Vec<Expr>)> = Vec::new();
    let add_group = |groups: &mut Vec<(Expr, Vec<Expr>)>, b: Expr, x: Expr| match groups
        .iter_mut()
        .find(|(gb, _)| *gb == b)
    {
        Some(g) => g.1.push(x),
        None => groups.push((b, vec![x])),
    };
    let mut stack = factors;
    while let Some(f) = stack.pop() {
        match f {
            Expr::Mul(fs) => stack.extend(fs),
            Expr::Num(v) => coef = coef.mul(&v),
            Expr::Func(Func::Exp, a) => exp_args.push(*a),
            Expr::Add(ts) => {
                let (c, m, b) = normalize_sum(&ts, true);
                coef = coef.mul(&c);
                if !m.is_int(1) {
                    stack.push(m);
                }
                match b {
                    Expr::Add(_) => add_group(&mut groups, b, int(1)),
                    other => stack.push(other),
                }
            }
            Expr::Pow(b, x) => add_group(&mut groups, *b, *x),
            other => add_group(&mut groups, other, int(1)),
        }
    }
    if coef.is_zero() {
        return num(coef);
    }
    let mut exp = int(0);
    let absorb =
        |e: Expr, coef: &mut Number, exp: &mut Expr, groups: &mut Vec<(Expr, Vec<Expr>)>| {
            let t = Term::of(&e);
            *coef = coef.mul(&t.coef);
            if !t.exp.is_int(0) {
                *exp = t.exp;
            }
            for (b, x) in t.pows {
                add_group(groups, b, x);
            }
        };
    if !exp_args.is_empty() {
        let e = mk_exp(mk_add(exp_args));
        absorb(e, &mut coef, &mut exp, &mut groups);
    }
    let mut pows: Vec<(Expr, Expr)> = Vec::new();
    let mut sums: Vec<(Vec<Expr>, i64)> = Vec::new();
    for (b, xs) in groups {
        let x = if xs.len() == 1 {
            xs.into_iter().next().unwrap_or(int(1))
        } else {
            mk_add(xs)
        };
        if x.is_int(0) {
            continue;
        }
        if let Expr::Add(ts) = &b {
            // Normalised sums: expanded for small positive integer powers, else kernels.
            match small_positive_integer(&x, MAX_EXPAND_POW) {
                Some(n) => sums.push((ts.clone(), n)),
                None => pows.push((b, x)),
            }
            continue;
        }
        let t = Term::of(&mk_pow(b, x));
        coef = coef.mul(&t.coef);
        if !t.exp.is_int(0) {
            // Only a symbolic power of a number gives an exponential here; merge it.
            exp = mk_add(vec![exp, t.exp]);
        }
        pows.extend(t.pows);
    }
    if coef.is_zero() {
        return num(coef);
    }
    pows.sort_by(|a, b| cmp_expr(&a.0, &b.0));
    let head = Term { coef, exp, pows };
    if sums.is_empty() {
        return head.to_expr();
    }
    expand(head, sums)
}

/// head · Π sum^n, expanded; unexpanded when it would exceed [`MAX_TERMS`] terms.
fn expand(head: Term, sums: Vec<(Vec<Expr>, i64)>) -> Expr {
    let mut acc: Vec<Expr> = vec![head.to_expr()];
    for (ts, n) in &sums {
        for _ in 0..*n {
            let mut next = Vec::with_capacity(acc.len() * ts.len());
            for a in &acc {
                for t in ts {
                    next.push(mk_mul(vec![a.clone(), t.clone()]));
                }
            }
            acc = terms_of(&mk_add(next));
            if acc.len() > MAX_TERMS {
                let mut fs = vec![head.to_expr()];
                for (ts, n) in sums {
                    fs.push(Expr::Pow(Box::new(Expr::Add(ts)), Box::new(int(n))));
                }
                fs.sort_by(cmp_expr);
                return Expr::Mul(fs);
            }
        }
    }
    mk_add(acc)
}

/// Whether an NF base is taken positive for `(b^e)^x = b^(ex)` (logarithms may be negative).
fn positive_domain(b: &Expr) -> bool {
    match b {
        Expr::Num(v) => !v.is_negative(),
        Expr::Func(Func::Log, _) => false,
        _ => true,
    }
}

pub(crate) fn mk_pow(base: Expr, x: Expr) -> Expr {
    if x.is_int(0) || base.is_int(1) {
        return int(1);
    }
    if x.is_int(1) {
        return base;
    }
    match (base, x) {
        (Expr::Num(b), Expr::Num(e)) => num_pow(b, e),
        (Expr::Num(b), x) if !b.is_negative() && !b.is_zero() => {
            mk_exp(mk_mul(vec![x, mk_log(Expr::Num(b))]))
        }
        (Expr::Pow(b, e), x)
            if x.as_number().is_some_and(Number::is_integer) || positive_domain(&b) =>
        {
            mk_pow(*b, mk_mul(vec![*e, x]))
        }
        (Expr::Func(Func::Exp, a), x) => mk_exp(mk_mul(vec![*a, x])),
        (Expr::Mul(fs), x) => {
            let integer = x.as_number().is_some_and(Number::is_integer);
            let positive = fs
                .iter()
                .all(|f| f.as_number().is_none_or(|v| !v.is_negative()));
            if integer || positive {
                mk_mul(fs.into_iter().map(|f| mk_pow(f, x.clone())).collect())
            } else {
                Expr::Pow(Box::new(Expr::Mul(fs)), Box::new(x))
            }
        }
        (Expr::Add(ts), x) => {
            if small_positive_integer(&x, MAX_EXPAND_POW).is_some() {
                let n = x.as_number().and_then(Number::as_i64).unwrap_or(1);
                return mk_mul(vec![Expr::Add(ts); n as usize]);
            }
            let signed = x.as_number().is_some_and(Number::is_integer);
            let (c, m, b) = normalize_sum(&ts, signed);
            if c.is_one() && m.is_int(1) {
                return match b {
                    Expr::Add(_) => Expr::Pow(Box::new(b), Box::new(x)),
                    other => mk_pow(other, x),
                };
            }
            let cx = match x.as_number() {
                Some(e) => num_pow(c, e.clone()),
                None => mk_pow(Expr::Num(c), x.clone()),
            };
            // B is normalised: its power is a kernel (normalising it again could cycle).
            let bx = match b {
                Expr::Add(_) => Expr::Pow(Box::new(b), Box::new(x.clone())),
                other => mk_pow(other, x.clone()),
            };
            mk_mul(vec![cx, mk_pow(m, x), bx])
        }
        (b, x) => Expr::Pow(Box::new(b), Box::new(x)),
    }
}

/// b^e for numbers: exact for integer e and for rational roots; irrational roots of rationals
/// become prime radicals with exponents in (0, 1); floats fold when finite.
fn num_pow(b: Number, e: Number) -> Expr {
    let raw = |b: Number, e: Number| Expr::Pow(Box::new(Expr::Num(b)), Box::new(Expr::Num(e)));
    if e.is_zero() {
        return int(1);
    }
    if let Some(k) = e.as_integer().filter(|_| e.is_exact() || !b.is_exact()) {
        return match b.powi(&k) {
            Some(v) if v.is_finite() => num(v),
            _ => raw(b, e),
        };
    }
    match (&b, &e) {
        (Number::Q(q), Number::Q(ex)) if !q.is_negative() => {
            if q.is_zero() {
                return if ex.is_positive() { int(0) } else { raw(b, e) };
            }
            let mut coef = Number::int(1);
            let mut kernels: Vec<Expr> = Vec::new();
            let put = |base: BigInt, k: Number, coef: &mut Number, kernels: &mut Vec<Expr>| {
                // base^k = base^floor(k) · base^(k − floor(k))
                let Some(fl) = k.floor() else { return };
                let base_n = Number::Q(BigRational::from_integer(base));
                if let Some(v) = base_n.powi(&fl) {
                    *coef = coef.mul(&v);
                }
                let frac = k.add(&Number::Q(BigRational::from_integer(-fl)));
                if !frac.is_zero() {
                    kernels.push(Expr::Pow(
                        Box::new(Expr::Num(base_n)),
                        Box::new(Expr::Num(frac)),
                    ));
                }
            };
            for (part, sign) in [(q.numer(), 1i64), (q.denom(), -1)] {
                if part.is_one() {
                    continue;
                }
                let ek = e.mul(&Number::int(sign));
                let (primes, rest) = factor(part, FACTOR_LIMIT);
                for (p, k) in primes {
                    put(
                        BigInt::from(p),
                        ek.mul(&Number::int(k as i64)),
                        &mut coef,
                        &mut kernels,
                    );
                }
                if !rest.is_one() {
                    // An exact root of the unfactored rest, else a kernel.
                    let rest_n = Number::Q(BigRational::from_integer(rest.clone()));
                    let exact = ex
                        .denom()
                        .to_u32()
                        .and_then(|q| rest_n.exact_root(q))
                        .and_then(|root| root.powi(&(ex.numer() * BigInt::from(sign))));
                    match exact {
                        Some(v) => coef = coef.mul(&v),
                        None => put(rest, ek, &mut coef, &mut kernels),
                    }
                }
            }
            kernels.sort_by(cmp_expr);
            let mut t = Term {
                coef,
                exp: int(0),
                pows: kernels
                    .into_iter()
                    .filter_map(|k| match k {
                        Expr::Pow(b, x) => Some((*b, *x)),
                        _ => None,
                    })
                    .collect(),
            };
            t.pows.sort_by(|a, b| cmp_expr(&a.0, &b.0));
            t.to_expr()
        }
        _ if !b.is_negative() || e.is_integer() => {
            let v = b.to_f64().powf(e.to_f64());
            if v.is_finite() {
                num(Number::F(v))
            } else {
                raw(b, e)
            }
        }
        _ => raw(b, e),
    }
}

pub(crate) fn mk_exp(a: Expr) -> Expr {
    match a {
        Expr::Num(v) if v.is_zero() => int(1),
        Expr::Num(Number::F(v)) => {
            let x = v.exp();
            if x.is_finite() {
                num(Number::F(x))
            } else {
                Expr::Func(Func::Exp, Box::new(Expr::Num(Number::F(v))))
            }
        }
        Expr::Func(Func::Log, x) => *x,
        Expr::Add(ts) => {
            // exp(c·log a + rest) = a^c · exp(rest)
            let mut factors = Vec::new();
            let mut rest = Vec::new();
            for t in ts {
                match log_term(&t) {
                    Some((x, c)) => factors.push(mk_pow(x, c)),
                    None => rest.push(t),
                }
            }
            if factors.is_empty() {
                return Expr::Func(Func::Exp, Box::new(Expr::Add(rest)));
            }
            factors.push(mk_exp(mk_add(rest)));
            mk_mul(factors)
        }
        t => match log_term(&t) {
            Some((x, c)) => mk_pow(x, c),
            None => Expr::Func(Func::Exp, Box::new(t)),
        },
    }
}

/// `c · log(x)` as `(x, c)`, when c is a number or x is not a number (a numeric base with a
/// symbolic power stays an exponential: its normal form).
fn log_term(t: &Expr) -> Option<(Expr, Expr)> {
    match t {
        Expr::Func(Func::Log, x) => Some((x.as_ref().clone(), int(1))),
        Expr::Mul(fs) => {
            let logs: Vec<usize> = (0..fs.len())
                .filter(|&i| matches!(fs[i], Expr::Func(Func::Log, _)))
                .collect();
            if logs.len() != 1 {
                return None;
            }
            let mut rest = fs.clone();
            let log = rest.remove(logs[0]);
            let Expr::Func(Func::Log, x) = log else {
                return None;
            };
            let c = mk_mul(rest);
            if matches!(x.as_ref(), Expr::Num(_)) && !matches!(c, Expr::Num(_)) {
                return None;
            }
            Some((*x, c))
        }
        _ => None,
    }
}

pub(crate) fn mk_log(a: Expr) -> Expr {
    match a {
        Expr::Num(Number::Q(q)) if q.is_positive() && q.is_one() => int(0),
        Expr::Num(Number::F(v)) if v > 0.0 => {
            let x = v.ln();
            if x.is_finite() {
                num(Number::F(x))
            } else {
                Expr::Func(Func::Log, Box::new(Expr::Num(Number::F(v))))
            }
        }
        Expr::Func(Func::Exp, x) => *x,
        Expr::Pow(b, x) => mk_mul(vec![*x, mk_log(*b)]),
        Expr::Mul(fs) => {
            if fs.iter().any(|f| {
                f.as_number()
                    .is_some_and(|v| v.is_negative() || v.is_zero())
            }) {
                return Expr::Func(Func::Log, Box::new(Expr::Mul(fs)));
            }
            mk_add(fs.into_iter().map(mk_log).collect())
        }
        other => Expr::Func(Func::Log, Box::new(other)),
    }
}
