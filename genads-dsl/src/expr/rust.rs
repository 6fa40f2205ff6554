//! Machine-facing printers: Rust source (`to_rust`, `to_rust_cse`) and the canonical serialisation.

use super::print::display_terms;
use super::{Expr, Func, Number};
use std::collections::HashMap;

// Precedence of emitted Rust expressions.
const ADD: u8 = 1;
const MUL: u8 = 2;
const UNARY: u8 = 3;
const PRIMARY: u8 = 4;

/// An f64 literal that type-checks as f64 (`2.0_f64`, `1.5_f64`, `1e-7_f64`).
fn rust_lit(v: f64) -> (String, u8) {
    if v.is_nan() {
        return ("f64::NAN".into(), PRIMARY);
    }
    if v.is_infinite() {
        let s = if v > 0.0 {
            "f64::INFINITY"
        } else {
            "f64::NEG_INFINITY"
        };
        return (s.into(), PRIMARY);
    }
    let v = if v == 0.0 { 0.0 } else { v };
    let body = if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{:.1}_f64", v)
    } else {
        format!("{v:?}_f64")
    };
    (body, if v < 0.0 { UNARY } else { PRIMARY })
}

fn paren((s, p): (String, u8), need: u8) -> String {
    if p < need {
        format!("({s})")
    } else {
        s
    }
}

/// The Rust printer; with `cse` set, shared sub-expressions become `let` bindings.
struct RustPrinter<'a> {
    symbol: &'a dyn Fn(&str) -> String,
    cse: Option<Cse>,
}

struct Cse {
    counts: HashMap<String, usize>,
    names: HashMap<String, String>,
    lets: Vec<String>,
}

impl RustPrinter<'_> {
    fn expr(&mut self, e: &Expr) -> (String, u8) {
        let compound = !matches!(e, Expr::Num(_) | Expr::Pi | Expr::Sym(_));
        if compound {
            if let Some(cse) = &self.cse {
                let k = key(e);
                if cse.counts.get(&k).copied().unwrap_or(0) >= 2 {
                    if let Some(name) = cse.names.get(&k) {
                        return (name.clone(), PRIMARY);
                    }
                    let code = self.render(e).0;
                    if let Some(cse) = &mut self.cse {
                        let name = format!("__cse{}", cse.lets.len());
                        cse.lets.push(format!("let {name}: f64 = {code};"));
                        cse.names.insert(k, name.clone());
                        return (name, PRIMARY);
                    }
                }
            }
        }
        self.render(e)
    }

    fn render(&mut self, e: &Expr) -> (String, u8) {
        match e {
            Expr::Num(v) => rust_lit(v.to_f64()),
            Expr::Pi => ("std::f64::consts::PI".into(), PRIMARY),
            Expr::Sym(s) => ((self.symbol)(s), PRIMARY),
            Expr::Add(ts) if ts.is_empty() => rust_lit(0.0),
            Expr::Add(ts) => {
                let mut out = String::new();
                for (i, t) in display_terms(ts).into_iter().enumerate() {
                    let code = self.expr(t);
                    if i == 0 {
                        out.push_str(&paren(code, ADD));
                    } else if let Some(rest) = code.0.strip_prefix('-').filter(|_| code.1 >= MUL) {
                        // `a + -b` reads as `a - b`; safe because `rest` binds at least as tightly
                        // as a product (a leading unary minus applies to its first factor).
                        out.push_str(" - ");
                        out.push_str(rest);
                    } else {
                        out.push_str(" + ");
                        out.push_str(&paren(code, MUL));
                    }
                }
                (out, ADD)
            }
            Expr::Mul(fs) => {
                let mut num = Vec::new();
                let mut den = Vec::new();
                let mut den_pows: Vec<Expr> = Vec::new();
                for f in fs {
                    match f {
                        Expr::Pow(b, x) if x.is_int(-1) => den.push(b.as_ref()),
                        Expr::Pow(b, x)
                            if x.as_number().is_some_and(|v| {
                                v.is_negative() && v.is_integer() && v.to_f64() >= -64.0
                            }) =>
                        {
                            let k = x.as_number().map(|v| v.neg()).unwrap_or(Number::int(1));
                            den_pows.push(Expr::Pow(b.clone(), Box::new(Expr::Num(k))));
                        }
                        other => num.push(other),
                    }
                }
                let den_pows_ref: Vec<&Expr> = den_pows.iter().collect();
                den.extend(den_pows_ref);
                let mut out = String::new();
                let mut neg = false;
                let mut first = true;
                for (i, f) in num.iter().enumerate() {
                    if i == 0 && f.is_int(-1) && num.len() > 1 {
                        neg = true;
                        continue;
                    }
                    let code = self.expr(f);
                    if !first {
                        out.push_str(" * ");
                    }
                    out.push_str(&paren(code, if first { UNARY } else { UNARY + 1 }));
                    first = false;
                }
                if first {
                    out.push_str("1.0_f64");
                }
                for b in den {
                    let code = self.expr(b);
                    out.push_str(" / ");
                    out.push_str(&paren(code, PRIMARY));
                }
                if neg {
                    out.insert(0, '-');
                }
                (out, MUL)
            }
            Expr::Pow(b, x) => {
                let base = self.expr(b);
                let base = paren(base, PRIMARY);
                match x.num_value() {
                    Some(0.5) => (format!("{base}.sqrt()"), PRIMARY),
                    Some(v) if v.fract() == 0.0 && v.abs() <= 64.0 => {
                        (format!("{base}.powi({})", v as i32), PRIMARY)
                    }
                    _ => {
                        let exp = self.expr(x).0;
                        (format!("{base}.powf({exp})"), PRIMARY)
                    }
                }
            }
            Expr::Func(f, a) => {
                let arg = self.expr(a);
                let arg = paren(arg, PRIMARY);
                let (m, reciprocal) = match f {
                    Func::Exp => ("exp", false),
                    Func::Log => ("ln", false),
                    Func::Sqrt => ("sqrt", false),
                    Func::Sinh => ("sinh", false),
                    Func::Cosh => ("cosh", false),
                    Func::Tanh => ("tanh", false),
                    Func::Coth => ("tanh", true),
                    Func::Sech => ("cosh", true),
                    Func::Csch => ("sinh", true),
                };
                if reciprocal {
                    (format!("(1.0_f64 / {arg}.{m}())"), PRIMARY)
                } else {
                    (format!("{arg}.{m}()"), PRIMARY)
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
        RustPrinter { symbol, cse: None }.expr(self).0
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

/// Straight-line Rust code for several outputs: `let __cseN: f64 = ...;` for every compound
/// sub-expression that occurs at least twice (across all outputs), then `let <name>: f64 = ...;`
/// per output, one statement per line. The expressions are printed as given (simplify first).
pub fn to_rust_cse(exprs: &[(&str, &Expr)], symbol: &dyn Fn(&str) -> String) -> String {
    let mut counts = HashMap::new();
    for (_, e) in exprs {
        count(e, &mut counts);
    }
    let mut printer = RustPrinter {
        symbol,
        cse: Some(Cse {
            counts,
            names: HashMap::new(),
            lets: Vec::new(),
        }),
    };
    let mut outputs = Vec::new();
    for (name, e) in exprs {
        let code = printer.expr(e).0;
        outputs.push(format!("let {name}: f64 = {code};"));
    }
    let mut lines = printer.cse.map(|c| c.lets).unwrap_or_default();
    lines.extend(outputs);
    let mut out = lines.join("\n");
    out.push('\n');
    out
}
