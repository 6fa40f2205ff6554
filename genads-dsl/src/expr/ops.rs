//! Constructors and arithmetic operators. Constructors build trees as written (no simplification);
//! call [`Expr::simplify`] for a normal form.

use super::{Expr, Func};
use std::ops::{Add, Div, Mul, Neg, Sub};

impl Expr {
    /// A real literal.
    pub fn num(value: f64) -> Expr {
        Expr::Num(value)
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
            Expr::Num(v) => Some(*v),
            _ => None,
        }
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
        Expr::Mul(vec![self, rhs.pow(Expr::Num(-1.0))])
    }
}

impl Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Mul(vec![Expr::Num(-1.0), self])
    }
}
