//! Numerical evaluation, free symbols and constant detection.

use super::Expr;
use std::collections::BTreeSet;

/// Why an expression could not be evaluated to a finite number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// A symbol had no value.
    #[error("unknown symbol `{0}`")]
    UnknownSymbol(String),
    /// A sub-expression evaluated to NaN or ±∞.
    #[error("`{expr}` evaluates to {value} (not finite)")]
    NonFinite {
        /// The innermost sub-expression that produced the non-finite value (plain text).
        expr: String,
        /// The value it produced.
        value: f64,
    },
}

impl Expr {
    /// Evaluates with symbol values from `vars`. Fails on a symbol `vars` does not know and on the
    /// innermost sub-expression whose value is not finite (log of a negative number, overflow, ...).
    pub fn eval(&self, vars: &dyn Fn(&str) -> Option<f64>) -> Result<f64, EvalError> {
        let value = match self {
            Expr::Num(v) => v.to_f64(),
            Expr::Pi => std::f64::consts::PI,
            Expr::Sym(s) => vars(s).ok_or_else(|| EvalError::UnknownSymbol(s.clone()))?,
            Expr::Add(xs) => {
                let mut acc = 0.0;
                for x in xs {
                    acc += x.eval(vars)?;
                }
                acc
            }
            Expr::Mul(xs) => {
                let mut acc = 1.0;
                for x in xs {
                    acc *= x.eval(vars)?;
                }
                acc
            }
            Expr::Pow(b, e) => {
                let b = b.eval(vars)?;
                let e = e.eval(vars)?;
                if e.fract() == 0.0 && e.abs() <= i32::MAX as f64 {
                    b.powi(e as i32)
                } else {
                    b.powf(e)
                }
            }
            Expr::Func(f, a) => f.apply(a.eval(vars)?),
        };
        if value.is_finite() {
            Ok(value)
        } else {
            Err(EvalError::NonFinite {
                expr: self.to_string(),
                value,
            })
        }
    }

    /// Evaluates an expression whose only free symbol is the radial variable `r`.
    pub fn eval_r(&self, r: f64) -> Result<f64, EvalError> {
        self.eval(&|s| (s == "r").then_some(r))
    }

    /// The names of all symbols occurring in the expression.
    pub fn free_symbols(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_symbols(&mut out);
        out
    }

    fn collect_symbols(&self, out: &mut BTreeSet<String>) {
        match self {
            Expr::Num(_) | Expr::Pi => {}
            Expr::Sym(s) => {
                out.insert(s.clone());
            }
            Expr::Add(xs) | Expr::Mul(xs) => xs.iter().for_each(|x| x.collect_symbols(out)),
            Expr::Pow(b, e) => {
                b.collect_symbols(out);
                e.collect_symbols(out);
            }
            Expr::Func(_, a) => a.collect_symbols(out),
        }
    }

    /// The value of the expression if it is closed after simplification (no symbols left; π
    /// allowed), e.g. `2·exp(r)·exp(-r)` gives `Some(2.0)`; `None` otherwise or if not finite.
    pub fn as_constant(&self) -> Option<f64> {
        let s = self.simplify();
        if !s.free_symbols().is_empty() {
            return None;
        }
        s.eval(&|_| None).ok()
    }
}
