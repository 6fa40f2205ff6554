//! Human-facing printers: plain text (`Display`, valid `.genads` expression syntax) and LaTeX.
//!
//! Exact numbers print exactly: integers as digits (`1e9`-style when they end in many zeros),
//! fractions as `p/q` (a coefficient as `3*r^2/4`), tiny or huge terminating decimals in
//! scientific form; inexact numbers as their shortest round-trip decimal.

use super::number::Number;
use super::{Expr, Func};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, Zero};
use std::fmt;

// Precedence levels of printed forms.
const ADD: u8 = 1;
const MUL: u8 = 2;
const POW: u8 = 3;
const ATOM: u8 = 4;

/// Shortest round-trip decimal form of an f64; integers without `.0`.
pub(crate) fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    format!("{v:?}")
}

/// An integer as `m e k` (mantissa with at most 6 significant digits) when it has at least 6
/// trailing zeros, else as digits.
fn fmt_int(n: &BigInt) -> (String, Option<(String, i64)>) {
    let digits = n.abs().to_string();
    let trimmed = digits.trim_end_matches('0');
    let zeros = digits.len() - trimmed.len();
    let sign = if n.is_negative() { "-" } else { "" };
    if zeros >= 6 && trimmed.len() <= 6 {
        let k = (digits.len() - 1) as i64;
        let mantissa = if trimmed.len() == 1 {
            trimmed.to_string()
        } else {
            format!("{}.{}", &trimmed[..1], &trimmed[1..])
        };
        return (
            format!("{sign}{mantissa}e{k}"),
            Some((format!("{sign}{mantissa}"), k)),
        );
    }
    (format!("{sign}{digits}"), None)
}

/// If q = ±m·10^k with a short mantissa and |q| < 1e-4: (mantissa, k).
fn tiny_decimal(n: &BigInt, d: &BigInt) -> Option<(String, i64)> {
    let (mut two, mut five, mut rest) = (0i64, 0i64, d.clone());
    let (b2, b5) = (BigInt::from(2), BigInt::from(5));
    while rest.is_even() {
        rest /= &b2;
        two += 1;
    }
    while (&rest % &b5).is_zero() {
        rest /= &b5;
        five += 1;
    }
    if !rest.is_one() {
        return None;
    }
    let k = two.max(five);
    // n/d = n·2^(k−two)·5^(k−five) / 10^k
    let m = n * num_traits::pow(b2, (k - two) as usize) * num_traits::pow(b5, (k - five) as usize);
    let digits = m.abs().to_string();
    let trimmed = digits.trim_end_matches('0');
    let k = k - (digits.len() - trimmed.len()) as i64;
    if trimmed.len() > 6 {
        return None;
    }
    // value = trimmed · 10^(−k); as mantissa d.ddd · 10^e
    let e = trimmed.len() as i64 - 1 - k;
    if e >= -4 {
        return None;
    }
    let sign = if n.is_negative() { "-" } else { "" };
    let mantissa = if trimmed.len() == 1 {
        trimmed.to_string()
    } else {
        format!("{}.{}", &trimmed[..1], &trimmed[1..])
    };
    Some((format!("{sign}{mantissa}"), e))
}

/// How a number prints: plain (integer or decimal), scientific (mantissa, exponent), or a
/// fraction (numerator, denominator).
enum NumForm {
    Plain(String),
    Sci(String, i64),
    Frac(BigInt, BigInt),
}

fn num_form(n: &Number) -> NumForm {
    match n {
        Number::F(v) => {
            let s = fmt_num(*v);
            match s.split_once('e') {
                Some((m, e)) => NumForm::Sci(m.to_string(), e.parse().unwrap_or(0)),
                None => NumForm::Plain(s),
            }
        }
        Number::Q(q) if q.is_integer() => match fmt_int(q.numer()) {
            (_, Some((m, k))) => NumForm::Sci(m, k),
            (s, None) => NumForm::Plain(s),
        },
        Number::Q(q) => match tiny_decimal(q.numer(), q.denom()) {
            Some((m, e)) => NumForm::Sci(m, e),
            None => NumForm::Frac(q.numer().clone(), q.denom().clone()),
        },
    }
}

/// Plain-text form of a number, with its precedence.
fn text_num(n: &Number) -> (String, u8) {
    let neg = n.is_negative();
    match num_form(n) {
        NumForm::Plain(s) => (s, if neg { MUL } else { ATOM }),
        NumForm::Sci(m, k) => (format!("{m}e{k}"), if neg { MUL } else { ATOM }),
        NumForm::Frac(p, q) => (format!("{}/{}", fmt_int(&p).0, fmt_int(&q).0), MUL),
    }
}

/// The numeric coefficient of a product, if any.
fn coefficient(e: &Expr) -> Option<&Number> {
    match e {
        Expr::Num(v) => Some(v),
        Expr::Mul(fs) => fs.first().and_then(Expr::as_number),
        _ => None,
    }
}

/// Whether a term prints with a leading minus sign.
fn is_negative(e: &Expr) -> bool {
    coefficient(e).is_some_and(Number::is_negative)
}

/// The term with its leading sign flipped (only called on negative terms).
fn negated(e: &Expr) -> Expr {
    match e {
        Expr::Num(v) => Expr::Num(v.neg()),
        Expr::Mul(fs) => {
            let c = fs[0].as_number().cloned().unwrap_or(Number::int(-1));
            let mut rest = fs[1..].to_vec();
            if !c.is_int(-1) {
                rest.insert(0, Expr::Num(c.neg()));
            }
            match rest.len() {
                0 => Expr::int(1),
                1 => rest.pop().unwrap_or(Expr::int(1)),
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
    matches!(e, Expr::Num(v) if v.cmp_value(&Number::ratio(1, 2)).is_eq())
}

/// Splits a product's leading coefficient into numerator and denominator when it is an exact
/// non-integer rational (`3/4·x` → (3, 4, [x])).
fn rational_coefficient(fs: &[Expr]) -> Option<(BigInt, BigInt, &[Expr])> {
    match fs.first() {
        Some(Expr::Num(Number::Q(q))) if !q.is_integer() && fs.len() > 1 => {
            // Tiny terminating decimals print as scientific coefficients instead.
            if tiny_decimal(q.numer(), q.denom()).is_some() {
                return None;
            }
            Some((q.numer().clone(), q.denom().clone(), &fs[1..]))
        }
        _ => None,
    }
}

/// A product as `[-]num/den`: negative literal powers and a rational coefficient's denominator
/// go below the line (`exp(r)/2`, `3*r^2/4`, `-18/r`, `exp(r)/(2*r^2)`).
fn text_product(fs: &[Expr]) -> (String, u8) {
    let mut num: Vec<Expr> = Vec::new();
    let mut den: Vec<Expr> = Vec::new();
    let mut negative = false;
    for (i, f) in fs.iter().enumerate() {
        match f {
            Expr::Num(v) if i == 0 && fs.len() > 1 => {
                let v = if v.is_negative() {
                    negative = true;
                    v.neg()
                } else {
                    v.clone()
                };
                match (&v, rational_coefficient(fs)) {
                    (Number::Q(q), Some(_)) => {
                        if !q.numer().is_one() {
                            num.push(Expr::Num(Number::Q(
                                num_rational::BigRational::from_integer(q.numer().clone()),
                            )));
                        }
                        den.push(Expr::Num(Number::Q(
                            num_rational::BigRational::from_integer(q.denom().clone()),
                        )));
                    }
                    _ if v.is_one() => {}
                    _ => num.push(Expr::Num(v)),
                }
            }
            Expr::Pow(b, x) if x.as_number().is_some_and(Number::is_negative) => {
                let v = x.as_number().cloned().unwrap_or(Number::int(-1)).neg();
                den.push(if v.is_one() {
                    b.as_ref().clone()
                } else {
                    Expr::Pow(b.clone(), Box::new(Expr::Num(v)))
                });
            }
            other => num.push(other.clone()),
        }
    }
    let sign = if negative { "-" } else { "" };
    let top = if num.is_empty() {
        "1".to_string()
    } else {
        text_factors(&num, if negative { POW } else { MUL })
    };
    if den.is_empty() {
        return (format!("{sign}{top}"), MUL);
    }
    let bottom = if den.len() == 1 {
        wrap(text(&den[0]), POW)
    } else {
        format!("({})", text_factors(&den, POW))
    };
    (format!("{sign}{top}/{bottom}"), MUL)
}

fn text_factors(rest: &[Expr], first_need: u8) -> String {
    rest.iter()
        .enumerate()
        .map(|(i, f)| wrap(text(f), if i == 0 { first_need } else { POW }))
        .collect::<Vec<_>>()
        .join("*")
}

fn text(e: &Expr) -> (String, u8) {
    match e {
        Expr::Add(ts) if ts.is_empty() => ("0".into(), ATOM),
        Expr::Mul(fs) if fs.is_empty() => ("1".into(), ATOM),
        Expr::Num(v) => text_num(v),
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
        Expr::Mul(fs) => text_product(fs),
        Expr::Pow(_, x) if x.as_number().is_some_and(Number::is_negative) => {
            text_product(std::slice::from_ref(e))
        }
        Expr::Pow(b, x) if is_half(x) => (format!("sqrt({})", text(b).0), ATOM),
        Expr::Pow(b, x) => {
            let base = wrap(text(b), ATOM);
            let exp = match x.as_ref() {
                Expr::Num(v) if !v.is_negative() && matches!(num_form(v), NumForm::Plain(_)) => {
                    text_num(v).0
                }
                Expr::Sym(_) | Expr::Pi => text(x).0,
                _ => format!("({})", text(x).0),
            };
            (format!("{base}^{exp}"), POW)
        }
        Expr::Func(f, a) => (format!("{}({})", f.name(), text(a).0), ATOM),
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
    /// Plain text with minimal parentheses, e.g. `k2*exp(-2*r)`, `-r^(-1)`, `exp(r)/2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text(self).0)
    }
}

const GREEK: [&str; 24] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Delta", "Gamma",
];

/// Escapes what TeX treats specially in `\mathrm{…}`.
fn tex_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '_' => "\\_".to_string(),
            c if c.is_ascii_alphanumeric() => c.to_string(),
            c => format!("\\text{{{c}}}"),
        })
        .collect()
}

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
    } else if head.chars().count() <= 1 && head.chars().all(|c| c.is_ascii_alphabetic()) {
        head.to_string()
    } else {
        format!("\\mathrm{{{}}}", tex_escape(head))
    };
    match sub {
        Some(t) => format!("{head}_{{\\mathrm{{{}}}}}", tex_escape(t)),
        None => head,
    }
}

/// LaTeX form of a number, with its precedence.
fn latex_num(n: &Number) -> (String, u8) {
    let neg = n.is_negative();
    match num_form(n) {
        NumForm::Plain(s) => (s, if neg { MUL } else { ATOM }),
        NumForm::Sci(m, k) => {
            let s = match m.as_str() {
                "1" => format!("10^{{{k}}}"),
                "-1" => format!("-10^{{{k}}}"),
                _ => format!("{m} \\cdot 10^{{{k}}}"),
            };
            (s, MUL)
        }
        NumForm::Frac(p, q) => {
            let sign = if p.is_negative() { "-" } else { "" };
            (
                format!("{sign}\\frac{{{}}}{{{q}}}", p.abs()),
                if neg { MUL } else { ATOM },
            )
        }
    }
}

/// Factors of a product split into numerator and denominator (negative literal exponents and a
/// rational coefficient's denominator).
fn frac_parts(fs: &[Expr]) -> (Vec<Expr>, Vec<Expr>) {
    let mut num = Vec::new();
    let mut den = Vec::new();
    for f in fs {
        match f {
            Expr::Pow(b, x) if x.as_number().is_some_and(Number::is_negative) => {
                let v = x.as_number().cloned().unwrap_or(Number::int(-1));
                if v.is_int(-1) {
                    den.push(b.as_ref().clone());
                } else {
                    den.push(Expr::Pow(b.clone(), Box::new(Expr::Num(v.neg()))));
                }
            }
            Expr::Num(Number::Q(q))
                if !q.is_integer() && tiny_decimal(q.numer(), q.denom()).is_none() =>
            {
                let p = Number::Q(num_rational::BigRational::from_integer(q.numer().clone()));
                if !p.is_one() {
                    num.insert(0, Expr::Num(p));
                }
                den.insert(
                    0,
                    Expr::Num(Number::Q(num_rational::BigRational::from_integer(
                        q.denom().clone(),
                    ))),
                );
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

fn latex_func(f: Func) -> &'static str {
    match f {
        Func::Exp => "\\exp",
        Func::Log => "\\log",
        Func::Sqrt => "\\sqrt",
        Func::Sinh => "\\sinh",
        Func::Cosh => "\\cosh",
        Func::Tanh => "\\tanh",
        Func::Coth => "\\coth",
        Func::Sech => "\\operatorname{sech}",
        Func::Csch => "\\operatorname{csch}",
    }
}

fn latex(e: &Expr) -> (String, u8) {
    match e {
        Expr::Add(ts) if ts.is_empty() => ("0".into(), ATOM),
        Expr::Mul(fs) if fs.is_empty() => ("1".into(), ATOM),
        Expr::Num(v) => latex_num(v),
        Expr::Pi => ("\\pi".into(), ATOM),
        Expr::Sym(s) if s == "k2" => (latex_sym(s), POW),
        Expr::Sym(s) => (latex_sym(s), ATOM),
        Expr::Add(ts) => {
            let mut out = String::new();
            for (i, t) in display_terms(ts).into_iter().enumerate() {
                if i > 0 && is_negative(t) {
                    out.push_str(" - ");
                    let (s, p) = latex(&negated(t));
                    out.push_str(&if p < MUL {
                        format!("\\left({s}\\right)")
                    } else {
                        s
                    });
                } else {
                    if i > 0 {
                        out.push_str(" + ");
                    }
                    let (s, p) = latex(t);
                    out.push_str(&if p < MUL {
                        format!("\\left({s}\\right)")
                    } else {
                        s
                    });
                }
            }
            (out, ADD)
        }
        Expr::Mul(_) if is_negative(e) => {
            let (s, p) = latex(&negated(e));
            let s = if p < MUL {
                format!("\\left({s}\\right)")
            } else {
                s
            };
            (format!("-{s}"), MUL)
        }
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
        Expr::Pow(_, x) if x.as_number().is_some_and(Number::is_negative) => {
            (latex(&Expr::Mul(vec![e.clone()])).0, ATOM)
        }
        Expr::Pow(b, x) => {
            // sinh^{2}\left(r\right): a positive integer power of a named function.
            if let (Expr::Func(f, a), Some(n)) =
                (b.as_ref(), x.as_number().and_then(Number::as_i64))
            {
                if *f != Func::Exp
                    && *f != Func::Sqrt
                    && n > 0
                    && x.as_number().is_some_and(Number::is_exact)
                {
                    return (
                        format!("{}^{{{n}}}\\left({}\\right)", latex_func(*f), latex(a).0),
                        ATOM,
                    );
                }
            }
            let (bs, bp) = latex(b);
            let base = if bp < ATOM || matches!(b.as_ref(), Expr::Func(..)) {
                format!("\\left({bs}\\right)")
            } else {
                bs
            };
            (format!("{base}^{{{}}}", latex(x).0), POW)
        }
        Expr::Func(Func::Exp, a) => (format!("e^{{{}}}", latex(a).0), POW),
        Expr::Func(Func::Sqrt, a) => (format!("\\sqrt{{{}}}", latex(a).0), ATOM),
        Expr::Func(f, a) => (
            format!("{}\\left({}\\right)", latex_func(*f), latex(a).0),
            ATOM,
        ),
    }
}

impl Expr {
    /// LaTeX form, e.g. `|k|^2 e^{-2 r}`, `\frac{1}{r}`, `\sqrt{x}`, `\pi`, `\coth\left(r\right)`.
    pub fn to_latex(&self) -> String {
        latex(self).0
    }
}
