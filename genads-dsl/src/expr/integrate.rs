//! Closed-form antiderivatives for the elementary patterns of the affine parameter ∫ds/ω(s).

use super::simplify::{mk_add, mk_mul};
use super::{Expr, Func};

impl Expr {
    /// An antiderivative with respect to `var` (simplified, integration constant 0), or `None`
    /// when the integrand is not a sum of the handled patterns: constants, `c·var^q`,
    /// `c·exp(a·var + b)`, `c·k^(a·var + b)` (k > 0), `c·(a·var + b)^q` (for `q = -1`: `c·log(a·var + b)/a`, valid where
    /// `a·var + b > 0`), where `a, b, c, q` do not depend on `var` and `a ≠ 0`.
    pub fn integrate(&self, var: &str) -> Option<Expr> {
        let e = self.simplify();
        let terms = match e {
            Expr::Add(ts) => ts,
            other => vec![other],
        };
        let mut out = Vec::with_capacity(terms.len());
        for t in terms {
            out.push(integrate_term(t, var)?);
        }
        Some(mk_add(out).simplify())
    }
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
    let [f] = <[Expr; 1]>::try_from(dependent).ok()?;
    let prim = primitive(f, var)?;
    let mut all = constant;
    all.push(prim);
    Some(mk_mul(all))
}

/// The slope `a` if `e` is affine in `var` (`a·var + b` with `a ≠ 0` free of `var`).
fn slope(e: &Expr, var: &str) -> Option<Expr> {
    let a = e.diff(var);
    if a.depends_on(var) || matches!(a, Expr::Num(v) if v == 0.0) {
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
            Some(mk_mul(vec![Expr::Func(Func::Exp, arg), a.pow(Expr::Num(-1.0))]).simplify())
        }
        // b^(a·x + c) = exp((a·x + c)·log b), b > 0 free of x
        Expr::Pow(base, x) if !base.depends_on(var) => {
            let a = slope(&x, var)?;
            let log_b = base.as_ref().clone().log();
            Some((Expr::Pow(base, x) / (a * log_b)).simplify())
        }
        Expr::Pow(base, q) if !q.depends_on(var) => {
            let a = slope(&base, var)?;
            if matches!(q.as_ref(), Expr::Num(v) if *v == -1.0) {
                Some((base.log() / a).simplify())
            } else {
                let q1 = (*q + Expr::Num(1.0)).simplify();
                if matches!(q1, Expr::Num(v) if v == 0.0) {
                    return Some((base.log() / a).simplify());
                }
                Some((base.pow(q1.clone()) / (a * q1)).simplify())
            }
        }
        other => {
            // `other` itself affine: ∫(a·x + b) = (a·x + b)²/(2a)
            let a = slope(&other, var)?;
            Some((other.pow(Expr::Num(2.0)) / (Expr::Num(2.0) * a)).simplify())
        }
    }
}
