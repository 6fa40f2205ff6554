//! The symbolic core: an expression tree of one radial variable and named parameters.
//!
//! Construction ([`Expr::num`], [`Expr::sym`], operators, [`Expr::pow`], ...), differentiation
//! ([`Expr::diff`]), substitution ([`Expr::subst`], [`Expr::subst_all`]), the canonical normal
//! form ([`Expr::simplify`]) and its readable presentation ([`Expr::present`]), evaluation
//! ([`Expr::eval`], [`Expr::eval_r`], interval bounds in [`interval`]), antiderivatives
//! ([`Expr::integrate`], [`Expr::integrate_on`]) and printers (plain text via `Display`,
//! [`Expr::to_latex`], [`Expr::to_rust`], [`to_rust_cse`], [`Expr::canonical`]) live in the
//! submodules of `expr/`. Numbers are exact rationals unless inexact ([`Number`]).
//!
//! Domain assumption: the simplifier treats every symbol and every base of a non-integer power as a
//! *positive real* quantity (the radial variable of the models we handle, couplings, |k|²). See
//! [`Expr::simplify`] for the list of rules this licenses.

use serde::{Deserialize, Serialize};

mod diff;
mod eval;
mod integrate;
pub mod interval;
mod number;
mod ops;
mod order;
mod poly;
mod present;
mod print;
mod rust;
mod simplify;

pub use eval::EvalError;
pub use number::{Number, EXACT_DIGITS, MAX_BITS};
pub use rust::{straight_line, to_rust_cse};

/// An elementary function applied to one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Func {
    /// e^x
    Exp,
    /// natural logarithm
    Log,
    /// square root (kept distinct from `x^(1/2)` only for printing; simplification may normalise it)
    Sqrt,
    /// hyperbolic sine (the normal form writes it with exponentials; presentation folds it back)
    Sinh,
    /// hyperbolic cosine
    Cosh,
    /// hyperbolic tangent
    Tanh,
    /// hyperbolic cotangent 1/tanh
    Coth,
    /// hyperbolic secant 1/cosh
    Sech,
    /// hyperbolic cosecant 1/sinh
    Csch,
}

impl Func {
    /// Every function, in the order the language documents them.
    pub const ALL: [Func; 9] = [
        Func::Exp,
        Func::Log,
        Func::Sqrt,
        Func::Sinh,
        Func::Cosh,
        Func::Tanh,
        Func::Coth,
        Func::Sech,
        Func::Csch,
    ];

    /// The name in source text and in the plain-text printer.
    pub fn name(self) -> &'static str {
        match self {
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Sinh => "sinh",
            Func::Cosh => "cosh",
            Func::Tanh => "tanh",
            Func::Coth => "coth",
            Func::Sech => "sech",
            Func::Csch => "csch",
        }
    }

    /// The function of a source name.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Its value at `x` in f64.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Func::Exp => x.exp(),
            Func::Log => x.ln(),
            Func::Sqrt => x.sqrt(),
            Func::Sinh => x.sinh(),
            Func::Cosh => x.cosh(),
            Func::Tanh => x.tanh(),
            Func::Coth => 1.0 / x.tanh(),
            Func::Sech => 1.0 / x.cosh(),
            Func::Csch => 1.0 / x.sinh(),
        }
    }
}

/// A symbolic expression. Subtraction is `a + (-1)·b`, division is `a · b^(-1)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// A number (exact rational or inexact f64).
    Num(Number),
    /// The constant π.
    Pi,
    /// A named symbol: the radial variable `r`, a model parameter, or `k2` (|k|²) in backbone terms.
    Sym(String),
    /// A sum of terms.
    Add(Vec<Expr>),
    /// A product of factors.
    Mul(Vec<Expr>),
    /// base ^ exponent.
    Pow(Box<Expr>, Box<Expr>),
    /// An elementary function of one argument.
    Func(Func, Box<Expr>),
}
