//! A total order on expressions: the canonical order of terms and factors.
//!
//! Literals compare by value; powers compare as (base, exponent) against other nodes
//! taken as (node, 1), so `r`, `r^2` and `r^(-1)` sort next to each other.

use super::Expr;
use std::cmp::Ordering;

fn rank(e: &Expr) -> u8 {
    match e {
        Expr::Num(_) => 0,
        Expr::Pi => 1,
        Expr::Sym(_) => 2,
        Expr::Func(..) => 3,
        Expr::Add(_) => 4,
        Expr::Mul(_) => 5,
        Expr::Pow(..) => 6,
    }
}

/// Base and exponent of a node seen as a power (`x` is `x^1`).
fn as_power<'a>(e: &'a Expr, one: &'a Expr) -> (&'a Expr, &'a Expr) {
    match e {
        Expr::Pow(b, x) => (b, x),
        _ => (e, one),
    }
}

/// The canonical total order.
pub(crate) fn cmp_expr(a: &Expr, b: &Expr) -> Ordering {
    if matches!(a, Expr::Pow(..)) || matches!(b, Expr::Pow(..)) {
        let one = Expr::int(1);
        let (ab, ae) = as_power(a, &one);
        let (bb, be) = as_power(b, &one);
        if matches!(a, Expr::Pow(..)) && matches!(b, Expr::Pow(..)) {
            return cmp_expr(ab, bb).then_with(|| cmp_expr(ae, be));
        }
        return cmp_expr(ab, bb)
            .then_with(|| cmp_expr(ae, be))
            .then_with(|| rank(a).cmp(&rank(b)));
    }
    match (a, b) {
        (Expr::Num(x), Expr::Num(y)) => {
            x.cmp_value(y).then_with(|| x.is_exact().cmp(&y.is_exact()))
        }
        (Expr::Pi, Expr::Pi) => Ordering::Equal,
        (Expr::Sym(x), Expr::Sym(y)) => x.cmp(y),
        (Expr::Func(f, x), Expr::Func(g, y)) => f.cmp(g).then_with(|| cmp_expr(x, y)),
        (Expr::Add(xs), Expr::Add(ys)) | (Expr::Mul(xs), Expr::Mul(ys)) => cmp_slices(xs, ys),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn cmp_slices(xs: &[Expr], ys: &[Expr]) -> Ordering {
    for (x, y) in xs.iter().zip(ys) {
        match cmp_expr(x, y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    xs.len().cmp(&ys.len())
}
