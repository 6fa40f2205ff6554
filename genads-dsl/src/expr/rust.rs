//! Machine-facing forms: lowering to typed straight-line code ([`crate::ir::Scalar`], printed as
//! Rust by `to_rust` and `to_rust_cse`) and the canonical serialisation.

use super::print::display_terms;
use super::{Expr, Func, Number};
use crate::ir::{Binding, Method, Scalar, StraightLine};
use std::collections::HashMap;

/// Lowers expressions to straight-line [`Scalar`] code; with `cse` set, compound sub-expressions
/// that occur at least twice become `__cseN` bindings, computed once.
struct Lowering<'a> {
    symbol: &'a dyn Fn(&str) -> String,
    cse: Option<Cse>,
}

struct Cse {
    counts: HashMap<String, usize>,
    names: HashMap<String, String>,
    bindings: Vec<Binding>,
}

impl Lowering<'_> {
    fn expr(&mut self, e: &Expr) -> Scalar {
        let compound = !matches!(e, Expr::Num(_) | Expr::Pi | Expr::Sym(_));
        if compound {
            if let Some(cse) = &self.cse {
                let k = key(e);
                if cse.counts.get(&k).copied().unwrap_or(0) >= 2 {
                    if let Some(name) = cse.names.get(&k) {
                        return Scalar::Var(name.clone());
                    }
                    let value = self.lower(e);
                    if let Some(cse) = &mut self.cse {
                        let name = format!("__cse{}", cse.bindings.len());
                        cse.bindings.push(Binding {
                            name: name.clone(),
                            value,
                        });
                        cse.names.insert(k, name.clone());
                        return Scalar::Var(name);
                    }
                }
            }
        }
        self.lower(e)
    }

    fn lower(&mut self, e: &Expr) -> Scalar {
        match e {
            Expr::Num(v) => Scalar::Lit(v.to_f64()),
            Expr::Pi => Scalar::Pi,
            Expr::Sym(s) => Scalar::Var((self.symbol)(s)),
            Expr::Add(ts) if ts.is_empty() => Scalar::Lit(0.0),
            Expr::Add(ts) => Scalar::Sum(
                display_terms(ts)
                    .into_iter()
                    .map(|t| self.expr(t))
                    .collect(),
            ),
            Expr::Mul(fs) => {
                // x^(−k) for a small positive integer k divides instead of multiplying.
                let mut num = Vec::new();
                let mut den = Vec::new();
                for f in fs {
                    match f {
                        Expr::Pow(b, x) if x.is_int(-1) => den.push(b.as_ref().clone()),
                        Expr::Pow(b, x)
                            if x.as_number().is_some_and(|v| {
                                v.is_negative() && v.is_integer() && v.to_f64() >= -64.0
                            }) =>
                        {
                            let k = x.as_number().map(|v| v.neg()).unwrap_or(Number::int(1));
                            den.push(Expr::Pow(b.clone(), Box::new(Expr::Num(k))));
                        }
                        other => num.push(other),
                    }
                }
                let negate = num.len() > 1 && num[0].is_int(-1);
                let mut factors: Vec<Scalar> = num
                    .iter()
                    .skip(usize::from(negate))
                    .map(|f| self.expr(f))
                    .collect();
                if factors.is_empty() {
                    factors.push(Scalar::Lit(1.0));
                }
                let divisors = den.iter().map(|d| self.expr(d)).collect();
                Scalar::Product {
                    negate,
                    factors,
                    divisors,
                }
            }
            Expr::Pow(b, x) => {
                let base = Box::new(self.expr(b));
                match x.num_value() {
                    Some(0.5) => Scalar::Sqrt(base),
                    Some(v) if v.fract() == 0.0 && v.abs() <= 64.0 => Scalar::Powi(base, v as i32),
                    _ => Scalar::Powf(base, Box::new(self.expr(x))),
                }
            }
            Expr::Func(f, a) => {
                let (method, reciprocal) = match f {
                    Func::Exp => (Method::Exp, false),
                    Func::Log => (Method::Ln, false),
                    Func::Sqrt => (Method::Sqrt, false),
                    Func::Sinh => (Method::Sinh, false),
                    Func::Cosh => (Method::Cosh, false),
                    Func::Tanh => (Method::Tanh, false),
                    Func::Coth => (Method::Tanh, true),
                    Func::Sech => (Method::Cosh, true),
                    Func::Csch => (Method::Sinh, true),
                };
                Scalar::Call {
                    method,
                    arg: Box::new(self.expr(a)),
                    reciprocal,
                }
            }
        }
    }
}

impl Expr {
    /// Rust source of an f64 expression. `symbol` maps a symbol name to a Rust primary expression
    /// (an identifier or field access) of type f64, e.g. `|s| s.to_string()`.
    /// Example: `k2*exp(-2*r)` prints as `k2 * (-2.0_f64 * r).exp()`.
    pub fn to_rust(&self, symbol: &dyn Fn(&str) -> String) -> String {
        self.to_scalar(symbol).to_string()
    }

    /// The expression as a typed f64 expression tree (no shared bindings); `symbol` names the
    /// variable each symbol becomes.
    pub fn to_scalar(&self, symbol: &dyn Fn(&str) -> String) -> Scalar {
        Lowering { symbol, cse: None }.expr(self)
    }

    /// A stable, unambiguous serialisation of the simplified form, for hashing into signatures.
    /// Prefix notation; literals as shortest round-trip decimals; symbols length-prefixed.
    pub fn canonical(&self) -> String {
        key(&self.simplify())
    }
}

/// Serialisation of a tree as it is (no simplification).
fn key(e: &Expr) -> String {
    let mut out = String::new();
    write_key(e, &mut out);
    out
}

fn write_key(e: &Expr, out: &mut String) {
    match e {
        Expr::Num(v) => out.push_str(&v.key()),
        Expr::Pi => out.push_str("pi"),
        Expr::Sym(s) => out.push_str(&format!("s{}:{s}", s.len())),
        Expr::Add(xs) | Expr::Mul(xs) => {
            out.push_str(if matches!(e, Expr::Add(_)) {
                "(+"
            } else {
                "(*"
            });
            for x in xs {
                out.push(' ');
                write_key(x, out);
            }
            out.push(')');
        }
        Expr::Pow(b, x) => {
            out.push_str("(^ ");
            write_key(b, out);
            out.push(' ');
            write_key(x, out);
            out.push(')');
        }
        Expr::Func(f, a) => {
            out.push('(');
            out.push_str(f.name());
            out.push(' ');
            write_key(a, out);
            out.push(')');
        }
    }
}

fn count(e: &Expr, counts: &mut HashMap<String, usize>) {
    if matches!(e, Expr::Num(_) | Expr::Pi | Expr::Sym(_)) {
        return;
    }
    let n = counts.entry(key(e)).or_insert(0);
    *n += 1;
    if *n > 1 {
        // Children of a repeated node are computed once, inside its binding.
        return;
    }
    match e {
        Expr::Add(xs) | Expr::Mul(xs) => xs.iter().for_each(|x| count(x, counts)),
        Expr::Pow(b, x) => {
            count(b, counts);
            count(x, counts);
        }
        Expr::Func(_, a) => count(a, counts),
        _ => {}
    }
}

/// Straight-line code for several outputs: a `__cseN` binding for every compound sub-expression
/// that occurs at least twice (across all outputs), then one binding per output, in order. The
/// expressions are lowered as given (simplify first).
pub fn straight_line(exprs: &[(&str, &Expr)], symbol: &dyn Fn(&str) -> String) -> StraightLine {
    let mut counts = HashMap::new();
    for (_, e) in exprs {
        count(e, &mut counts);
    }
    let mut lowering = Lowering {
        symbol,
        cse: Some(Cse {
            counts,
            names: HashMap::new(),
            bindings: Vec::new(),
        }),
    };
    let outputs = exprs
        .iter()
        .map(|(name, e)| Binding {
            name: (*name).to_string(),
            value: lowering.expr(e),
        })
        .collect();
    StraightLine {
        bindings: lowering.cse.map(|c| c.bindings).unwrap_or_default(),
        outputs,
    }
}

/// [`straight_line`] as Rust source: `let NAME: f64 = …;` per binding, one per line.
pub fn to_rust_cse(exprs: &[(&str, &Expr)], symbol: &dyn Fn(&str) -> String) -> String {
    straight_line(exprs, symbol).to_string()
}
