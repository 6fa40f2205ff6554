//! Rule-based simplification to a canonical form.
//!
//! Every `mk_*` smart constructor takes *simplified* children and returns a simplified node.
//! Rules (all symbols and all bases of non-integer powers are taken to be positive reals):
//!
//! * constant folding of literals (π stays symbolic; a fold that would give NaN/∞ is not done);
//! * flattening of nested sums and products; `0`/`1` identities; `0·x = 0`;
//! * like terms `2x + 3x = 5x`; like factors `x·x² = x³`; a numeric coefficient is distributed
//!   over a single sum factor, `2(x + 1) = 2x + 2`;
//! * `(a^b)^c = a^(bc)`, `(ab)^c = a^c b^c` (only when the product's literal factors are positive
//!   or `c` is an integer), `sqrt(x) = x^0.5`;
//! * `exp(a)·exp(b) = exp(a + b)`, `exp(a)^c = exp(ac)`, `exp(log a) = a`,
//!   `exp(c·log a + …) = a^c·exp(…)`, `log(exp a) = a`, `log(a^b) = b·log a`,
//!   `log(ab) = log a + log b`;
//! * terms and factors sorted by the canonical order, so equal expressions print identically.
//!
//! Not done: expanding products of sums, factoring, or any polynomial normal form. Two trees equal
//! only through such identities (`(p - 1)·x` and `-(1 - p)·x`) may keep different forms.

use super::order::cmp_expr;
use super::{Expr, Func};

impl Expr {
    /// The canonical simplified form (see the module rules). Idempotent.
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
        Expr::Num(v) => lit(*v),
        Expr::Pi | Expr::Sym(_) => e.clone(),
        Expr::Add(xs) => mk_add(xs.iter().map(simp).collect()),
        Expr::Mul(xs) => mk_mul(xs.iter().map(simp).collect()),
        Expr::Pow(b, x) => mk_pow(simp(b), simp(x)),
        Expr::Func(Func::Exp, a) => mk_exp(simp(a)),
        Expr::Func(Func::Log, a) => mk_log(simp(a)),
        Expr::Func(Func::Sqrt, a) => mk_pow(simp(a), Expr::Num(0.5)),
    }
}

/// A literal with `-0.0` normalised to `0.0`.
fn lit(v: f64) -> Expr {
    Expr::Num(if v == 0.0 { 0.0 } else { v })
}

/// A folded literal if finite.
fn fold(v: f64) -> Option<Expr> {
    v.is_finite().then(|| lit(v))
}

fn is_integer(e: &Expr) -> bool {
    matches!(e, Expr::Num(v) if v.fract() == 0.0)
}

fn is_num(e: &Expr, v: f64) -> bool {
    matches!(e, Expr::Num(x) if *x == v)
}

/// Splits a simplified term into its numeric coefficient and the rest.
fn split_coef(term: Expr) -> (f64, Expr) {
    match term {
        Expr::Num(v) => (v, Expr::Num(1.0)),
        Expr::Mul(mut fs) => match fs.first() {
            Some(Expr::Num(c)) => {
                let c = *c;
                fs.remove(0);
                let rest = if fs.len() == 1 {
                    fs.pop().unwrap_or(Expr::Num(1.0))
                } else {
                    Expr::Mul(fs)
                };
                (c, rest)
            }
            _ => (1.0, Expr::Mul(fs)),
        },
        other => (1.0, other),
    }
}

/// `coef · mono` for a simplified monomial (never a sum).
fn scale(coef: f64, mono: Expr) -> Expr {
    if coef == 1.0 {
        return mono;
    }
    match mono {
        Expr::Num(v) => lit(coef * v),
        Expr::Mul(mut fs) => {
            fs.insert(0, lit(coef));
            Expr::Mul(fs)
        }
        Expr::Add(ts) => mk_add(ts.into_iter().map(|t| mk_mul(vec![lit(coef), t])).collect()),
        other => Expr::Mul(vec![lit(coef), other]),
    }
}

pub(crate) fn mk_add(terms: Vec<Expr>) -> Expr {
    let mut flat = Vec::with_capacity(terms.len());
    for t in terms {
        match t {
            Expr::Add(ts) => flat.extend(ts),
            other => flat.push(other),
        }
    }
    let mut constant = 0.0;
    let mut groups: Vec<(Expr, f64)> = Vec::new();
    for t in flat {
        if let Expr::Num(v) = t {
            constant += v;
            continue;
        }
        let (c, mono) = split_coef(t);
        match groups.iter_mut().find(|(m, _)| *m == mono) {
            Some(g) => g.1 += c,
            None => groups.push((mono, c)),
        }
    }
    groups.retain(|(_, c)| *c != 0.0);
    groups.sort_by(|(m1, c1), (m2, c2)| cmp_expr(m1, m2).then_with(|| c1.total_cmp(c2)));
    let mut out: Vec<Expr> = groups.into_iter().map(|(m, c)| scale(c, m)).collect();
    // `scale` may produce a sum (coefficient over a sum monomial): flatten once more.
    if out.iter().any(|t| matches!(t, Expr::Add(_))) {
        if constant != 0.0 {
            out.push(lit(constant));
        }
        return mk_add(out);
    }
    if constant != 0.0 || out.is_empty() {
        out.push(lit(constant));
    }
    if out.len() == 1 {
        out.pop().unwrap_or(Expr::Num(0.0))
    } else {
        Expr::Add(out)
    }
}

pub(crate) fn mk_mul(factors: Vec<Expr>) -> Expr {
    let mut coef = 1.0;
    let mut exp_args: Vec<Expr> = Vec::new();
    let mut groups: Vec<(Expr, Vec<Expr>)> = Vec::new();
    let mut stack = factors;
    while let Some(f) = stack.pop() {
        match f {
            Expr::Mul(fs) => stack.extend(fs),
            Expr::Num(v) => coef *= v,
            Expr::Func(Func::Exp, a) => exp_args.push(*a),
            other => {
                let (b, x) = match other {
                    Expr::Pow(b, x) => (*b, *x),
                    o => (o, Expr::Num(1.0)),
                };
                match groups.iter_mut().find(|(gb, _)| *gb == b) {
                    Some(g) => g.1.push(x),
                    None => groups.push((b, vec![x])),
                }
            }
        }
    }
    if coef == 0.0 {
        return Expr::Num(0.0);
    }
    let mut out: Vec<Expr> = Vec::new();
    let absorb = |e: Expr, coef: &mut f64, out: &mut Vec<Expr>| match e {
        Expr::Num(v) => *coef *= v,
        Expr::Mul(fs) => {
            for f in fs {
                match f {
                    Expr::Num(v) => *coef *= v,
                    o => out.push(o),
                }
            }
        }
        o => out.push(o),
    };
    if !exp_args.is_empty() {
        absorb(mk_exp(mk_add(exp_args)), &mut coef, &mut out);
    }
    for (b, mut xs) in groups {
        let x = if xs.len() == 1 {
            xs.pop().unwrap_or(Expr::Num(1.0))
        } else {
            mk_add(xs)
        };
        absorb(mk_pow(b, x), &mut coef, &mut out);
    }
    if coef == 0.0 {
        return Expr::Num(0.0);
    }
    out.sort_by(cmp_expr);
    if out.is_empty() {
        return lit(coef);
    }
    if coef != 1.0 && out.len() == 1 {
        if let Expr::Add(_) = out[0] {
            return scale(coef, out.pop().unwrap_or(Expr::Num(0.0)));
        }
    }
    if coef != 1.0 {
        out.insert(0, lit(coef));
    }
    if out.len() == 1 {
        out.pop().unwrap_or(Expr::Num(1.0))
    } else {
        Expr::Mul(out)
    }
}

pub(crate) fn mk_pow(base: Expr, x: Expr) -> Expr {
    if is_num(&x, 0.0) || is_num(&base, 1.0) {
        return Expr::Num(1.0);
    }
    if is_num(&x, 1.0) {
        return base;
    }
    if let (Expr::Num(b), Expr::Num(e)) = (&base, &x) {
        if *b == 0.0 && *e > 0.0 {
            return Expr::Num(0.0);
        }
        if let Some(v) = fold(b.powf(*e)) {
            return v;
        }
        return Expr::Pow(Box::new(base), Box::new(x));
    }
    match base {
        // (b^e)^x = b^(e·x): for b > 0, or any b when x is an integer.
        Expr::Pow(b, e) if is_integer(&x) || b.num_value().is_none_or(|v| v > 0.0) => {
            mk_pow(*b, mk_mul(vec![*e, x]))
        }
        Expr::Func(Func::Exp, a) => mk_exp(mk_mul(vec![*a, x])),
        Expr::Mul(fs) => {
            let integer = is_integer(&x);
            let positive_literals = fs.iter().all(|f| f.num_value().is_none_or(|v| v > 0.0));
            if integer || positive_literals {
                mk_mul(fs.into_iter().map(|f| mk_pow(f, x.clone())).collect())
            } else {
                Expr::Pow(Box::new(Expr::Mul(fs)), Box::new(x))
            }
        }
        b => Expr::Pow(Box::new(b), Box::new(x)),
    }
}

pub(crate) fn mk_exp(a: Expr) -> Expr {
    match a {
        Expr::Num(v) => fold(v.exp()).unwrap_or_else(|| Expr::Num(v).exp()),
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
                return Expr::Add(rest).exp();
            }
            factors.push(mk_exp(mk_add(rest)));
            mk_mul(factors)
        }
        t => match log_term(&t) {
            Some((x, c)) => mk_pow(x, c),
            None => t.exp(),
        },
    }
}

/// `c · log(x)` as `(x, c)`.
fn log_term(t: &Expr) -> Option<(Expr, Expr)> {
    match t {
        Expr::Func(Func::Log, x) => Some((x.as_ref().clone(), Expr::Num(1.0))),
        Expr::Mul(fs) => {
            let logs: Vec<usize> = (0..fs.len())
                .filter(|&i| matches!(fs[i], Expr::Func(Func::Log, _)))
                .collect();
            if logs.len() != 1 {
                return None;
            }
            let mut rest = fs.clone();
            let log = rest.remove(logs[0]);
            match log {
                Expr::Func(Func::Log, x) => Some((*x, mk_mul(rest))),
                _ => None,
            }
        }
        _ => None,
    }
}

pub(crate) fn mk_log(a: Expr) -> Expr {
    match a {
        Expr::Num(v) if v > 0.0 => fold(v.ln()).unwrap_or_else(|| Expr::Num(v).log()),
        Expr::Func(Func::Exp, x) => *x,
        Expr::Pow(b, x) => mk_mul(vec![*x, mk_log(*b)]),
        Expr::Mul(fs) => {
            if fs.iter().any(|f| f.num_value().is_some_and(|v| v <= 0.0)) {
                return Expr::Mul(fs).log();
            }
            mk_add(fs.into_iter().map(mk_log).collect())
        }
        other => other.log(),
    }
}
