//! Human-facing printers: plain text (`Display`) and LaTeX.

use super::{Expr, Func};
use std::fmt;

// Precedence levels of printed forms.
const ADD: u8 = 1;
const MUL: u8 = 2;
const POW: u8 = 3;
const ATOM: u8 = 4;

/// Shortest round-trip decimal form of a number; integers without `.0`.
pub(crate) fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    format!("{v:?}")
}

/// The numeric coefficient of a product, if any.
fn coefficient(e: &Expr) -> Option<f64> {
    match e {
        Expr::Num(v) => Some(*v),
        Expr::Mul(fs) => fs.first().and_then(Expr::num_value),
        _ => None,
    }
}

/// Whether a term prints with a leading minus sign.
fn is_negative(e: &Expr) -> bool {
    coefficient(e).is_some_and(|c| c < 0.0)
}

/// The term with its leading sign flipped (only called on negative terms).
fn negated(e: &Expr) -> Expr {
    match e {
        Expr::Num(v) => Expr::Num(-v),
        Expr::Mul(fs) => {
            let c = fs[0].num_value().unwrap_or(-1.0);
            let mut rest = fs[1..].to_vec();
            if c != -1.0 {
                rest.insert(0, Expr::Num(-c));
            }
            match rest.len() {
                0 => Expr::Num(1.0),
                1 => rest.pop().unwrap_or(Expr::Num(1.0)),
                _ => Expr::Mul(rest),
            }
        }
        other => other.clone(),
    }
}

/// Terms of a sum in display order: a leading negative term swaps with the first positive one,
/// so `-a + b` prints as `b - a` (the canonical order itself is unchanged).
pub(crate) fn display_terms(ts: &[Expr]) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = ts.iter().collect();
    if out.first().is_some_and(|t| is_negative(t)) {
        if let Some(i) = out.iter().position(|t| !is_negative(t)) {
            let t = out.remove(i);
            out.insert(0, t);
        }
    }
    out
}

fn is_half(e: &Expr) -> bool {
    matches!(e, Expr::Num(v) if *v == 0.5)
}

fn text(e: &Expr) -> (String, u8) {
    match e {
        Expr::Add(ts) if ts.is_empty() => ("0".into(), ATOM),
        Expr::Mul(fs) if fs.is_empty() => ("1".into(), ATOM),
        Expr::Num(v) => (fmt_num(*v), if *v < 0.0 { MUL } else { ATOM }),
        Expr::Pi => ("pi".into(), ATOM),
        Expr::Sym(s) => (s.clone(), ATOM),
        Expr::Add(ts) => {
            let mut out = String::new();
            for (i, t) in display_terms(ts).into_iter().enumerate() {
                if i > 0 && is_negative(t) {
                    out.push_str(" - ");
                    out.push_str(&wrap(text(&negated(t)), MUL));
                } else {
                    if i > 0 {
                        out.push_str(" + ");
                    }
                    out.push_str(&wrap(text(t), MUL));
                }
            }
            (out, ADD)
        }
        Expr::Mul(fs) => {
            let (prefix, rest) = match fs.first() {
                Some(Expr::Num(c)) if *c == -1.0 && fs.len() > 1 => ("-", &fs[1..]),
                _ => ("", &fs[..]),
            };
            let parts: Vec<String> = rest
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let need = if i == 0 && prefix.is_empty() {
                        MUL
                    } else {
                        POW
                    };
                    wrap(text(f), need)
                })
                .collect();
            (format!("{prefix}{}", parts.join("*")), MUL)
        }
        Expr::Pow(b, x) if is_half(x) => (format!("sqrt({})", text(b).0), ATOM),
        Expr::Pow(b, x) => {
            let base = wrap(text(b), ATOM);
            let exp = match x.as_ref() {
                Expr::Num(v) if *v >= 0.0 => fmt_num(*v),
                Expr::Sym(_) | Expr::Pi => text(x).0,
                _ => format!("({})", text(x).0),
            };
            (format!("{base}^{exp}"), POW)
        }
        Expr::Func(f, a) => {
            let name = match f {
                Func::Exp => "exp",
                Func::Log => "log",
                Func::Sqrt => "sqrt",
            };
            (format!("{name}({})", text(a).0), ATOM)
        }
    }
}

fn wrap((s, prec): (String, u8), need: u8) -> String {
    if prec < need {
        format!("({s})")
    } else {
        s
    }
}

impl fmt::Display for Expr {
    /// Plain text with minimal parentheses, e.g. `k2*exp(-2*r)`, `-r^(-1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text(self).0)
    }
}

const GREEK: [&str; 24] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Delta", "Gamma",
];

fn latex_sym(s: &str) -> String {
    if s == "k2" {
        return "|k|^2".into();
    }
    let (head, sub) = match s.split_once('_') {
        Some((h, t)) => (h, Some(t)),
        None => (s, None),
    };
    let head = if GREEK.contains(&head) {
        format!("\\{head}")
    } else if head.chars().count() <= 1 {
        head.to_string()
    } else {
        format!("\\mathrm{{{head}}}")
    };
    match sub {
        Some(t) => format!("{head}_{{\\mathrm{{{t}}}}}"),
        None => head,
    }
}

fn latex_num(v: f64) -> String {
    let s = fmt_num(v);
    match s.split_once('e') {
        Some((m, e)) => format!("{m} \\cdot 10^{{{e}}}"),
        None => s,
    }
}

/// Factors of a product split into numerator and denominator (negative literal exponents).
fn frac_parts(fs: &[Expr]) -> (Vec<Expr>, Vec<Expr>) {
    let mut num = Vec::new();
    let mut den = Vec::new();
    for f in fs {
        match f {
            Expr::Pow(b, x) if x.num_value().is_some_and(|v| v < 0.0) => {
                let v = x.num_value().unwrap_or(-1.0);
                if v == -1.0 {
                    den.push(b.as_ref().clone());
                } else {
                    den.push(Expr::Pow(b.clone(), Box::new(Expr::Num(-v))));
                }
            }
            other => num.push(other.clone()),
        }
    }
    (num, den)
}

fn latex_product(fs: &[Expr]) -> String {
    if let [single] = fs {
        return latex(single).0;
    }
    let mut out = String::new();
    for (i, f) in fs.iter().enumerate() {
        let (s, p) = latex(f);
        let is_num = matches!(f, Expr::Num(_));
        if i > 0 {
            out.push_str(if is_num { " \\cdot " } else { " " });
        }
        out.push_str(&if p < POW {
            format!("\\left({s}\\right)")
        } else {
            s
        });
    }
    out
}

fn latex(e: &Expr) -> (String, u8) {
    match e {
        Expr::Add(ts) if ts.is_empty() => ("0".into(), ATOM),
        Expr::Mul(fs) if fs.is_empty() => ("1".into(), ATOM),
        Expr::Num(v) => (latex_num(*v), if *v < 0.0 { MUL } else { ATOM }),
        Expr::Pi => ("\\pi".into(), ATOM),
        Expr::Sym(s) if s == "k2" => (latex_sym(s), POW),
        Expr::Sym(s) => (latex_sym(s), ATOM),
        Expr::Add(ts) => {
            let mut out = String::new();
            for (i, t) in display_terms(ts).into_iter().enumerate() {
                if i > 0 && is_negative(t) {
                    out.push_str(" - ");
                    out.push_str(&latex(&negated(t)).0);
                } else {
                    if i > 0 {
                        out.push_str(" + ");
                    }
                    out.push_str(&latex(t).0);
                }
            }
            (out, ADD)
        }
        Expr::Mul(_) if is_negative(e) => (format!("-{}", latex(&negated(e)).0), MUL),
        Expr::Mul(fs) => {
            let (num, den) = frac_parts(fs);
            if den.is_empty() {
                return (latex_product(fs), MUL);
            }
            let top = if num.is_empty() {
                "1".to_string()
            } else {
                latex_product(&num)
            };
            (format!("\\frac{{{top}}}{{{}}}", latex_product(&den)), ATOM)
        }
        Expr::Pow(b, x) if is_half(x) => (format!("\\sqrt{{{}}}", latex(b).0), ATOM),
        Expr::Pow(_, x) if x.num_value().is_some_and(|v| v < 0.0) => {
            (latex(&Expr::Mul(vec![e.clone()])).0, ATOM)
        }
        Expr::Pow(b, x) => {
            let (bs, bp) = latex(b);
            let base = if bp < ATOM || matches!(b.as_ref(), Expr::Func(Func::Exp, _)) {
                format!("\\left({bs}\\right)")
            } else {
                bs
            };
            (format!("{base}^{{{}}}", latex(x).0), POW)
        }
        Expr::Func(Func::Exp, a) => (format!("e^{{{}}}", latex(a).0), POW),
        Expr::Func(Func::Log, a) => (format!("\\log\\left({}\\right)", latex(a).0), ATOM),
        Expr::Func(Func::Sqrt, a) => (format!("\\sqrt{{{}}}", latex(a).0), ATOM),
    }
}

impl Expr {
    /// LaTeX form, e.g. `|k|^2 e^{-2 r}`, `\frac{1}{r}`, `\sqrt{x}`, `\pi`.
    pub fn to_latex(&self) -> String {
        latex(self).0
    }
}
