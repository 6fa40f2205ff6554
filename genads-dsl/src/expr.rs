//! The symbolic core: an expression tree of one radial variable and named parameters.
//!
//! Construction ([`Expr::num`], [`Expr::sym`], operators, [`Expr::pow`], ...), differentiation
//! ([`Expr::diff`]), substitution ([`Expr::subst`], [`Expr::subst_all`]), simplification
//! ([`Expr::simplify`]), evaluation ([`Expr::eval`], [`Expr::eval_r`]), antiderivatives
//! ([`Expr::integrate`]) and printers (plain text via `Display`, [`Expr::to_latex`],
//! [`Expr::to_rust`], [`to_rust_cse`], [`Expr::canonical`]) live in the submodules of `expr/`.
//!
//! Domain assumption: the simplifier treats every symbol and every base of a non-integer power as a
//! *positive real* quantity (the radial variable of the models we handle, couplings, |k|²). See
//! [`Expr::simplify`] for the list of rules this licenses.

use serde::{Deserialize, Serialize};

mod diff;
mod eval;
mod integrate;
mod ops;
mod order;
mod print;
mod rust;
mod simplify;

pub use eval::EvalError;
pub use rust::to_rust_cse;

/// An elementary function applied to one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Func {
    /// e^x
    Exp,
    /// natural logarithm
    Log,
    /// square root (kept distinct from `x^(1/2)` only for printing; simplification may normalise it)
    Sqrt,
}

/// A symbolic expression. Subtraction is `a + (-1)·b`, division is `a · b^(-1)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// A real literal.
    Num(f64),
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
