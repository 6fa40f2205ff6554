//! Constructors and arithmetic operators. Constructors build trees as written (no simplification);
//! call [`Expr::simplify`] for a normal form.

use super::{Expr, Func, Number};
use std::ops::{Add, Div, Mul, Neg, Sub};

impl Expr {
    /// The number an f64 denotes when written out ([`Number::from_f64`]: `0.1` is exactly 1/10,
    /// an f64 needing more than 15 significant digits stays inexact).
    pub fn num(value: f64) -> Expr {
        Expr::Num(Number::from_f64(value))
    }

    /// An exact integer.
    pub fn int(n: i64) -> Expr {
        Expr::Num(Number::int(n))
    }

    /// The exact rational n/d.
    pub fn ratio(n: i64, d: i64) -> Expr {
        Expr::Num(Number::ratio(n, d))
    }

    /// An inexact number.
    pub fn float(value: f64) -> Expr {
        Expr::Num(Number::F(value))
    }

    /// A number node.
    pub fn number(n: Number) -> Expr {
        Expr::Num(n)
    }

    /// `f(self)`.
    pub fn apply(self, f: Func) -> Expr {
        Expr::Func(f, Box::new(self))
    }

    /// A named symbol.
    pub fn sym(name: &str) -> Expr {
        Expr::Sym(name.to_string())
    }

    /// The constant π.
    pub fn pi() -> Expr {
        Expr::Pi
    }

    /// `self ^ exponent`.
    pub fn pow(self, exponent: Expr) -> Expr {
        Expr::Pow(Box::new(self), Box::new(exponent))
    }

    /// e^self.
    pub fn exp(self) -> Expr {
        Expr::Func(Func::Exp, Box::new(self))
    }

    /// Natural logarithm of self.
    pub fn log(self) -> Expr {
        Expr::Func(Func::Log, Box::new(self))
    }

    /// Square root of self.
    pub fn sqrt(self) -> Expr {
        Expr::Func(Func::Sqrt, Box::new(self))
    }

    /// The literal value if this node is a literal.
    pub(crate) fn num_value(&self) -> Option<f64> {
        match self {
            Expr::Num(v) => Some(v.to_f64()),
            _ => None,
        }
    }

    /// The number if this node is a literal.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Expr::Num(v) => Some(v),
            _ => None,
        }
    }

    /// Whether this node is the literal integer `n`.
    pub(crate) fn is_int(&self, n: i64) -> bool {
        matches!(self, Expr::Num(v) if v.is_int(n))
    }

    /// Whether `var` occurs in this expression.
    pub fn depends_on(&self, var: &str) -> bool {
        match self {
            Expr::Num(_) | Expr::Pi => false,
            Expr::Sym(s) => s == var,
            Expr::Add(xs) | Expr::Mul(xs) => xs.iter().any(|x| x.depends_on(var)),
            Expr::Pow(b, e) => b.depends_on(var) || e.depends_on(var),
            Expr::Func(_, a) => a.depends_on(var),
        }
    }
}

impl Add for Expr {
    type Output = Expr;
    fn add(self, rhs: Expr) -> Expr {
        Expr::Add(vec![self, rhs])
    }
}

impl Sub for Expr {
    type Output = Expr;
    fn sub(self, rhs: Expr) -> Expr {
        Expr::Add(vec![self, -rhs])
    }
}

impl Mul for Expr {
    type Output = Expr;
    fn mul(self, rhs: Expr) -> Expr {
        Expr::Mul(vec![self, rhs])
    }
}

impl Div for Expr {
    type Output = Expr;
    fn div(self, rhs: Expr) -> Expr {
        Expr::Mul(vec![self, rhs.pow(Expr::int(-1))])
    }
}

impl Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Mul(vec![Expr::int(-1), self])
    }
}
