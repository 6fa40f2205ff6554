//! The symbolic core: an expression tree of one radial variable and named parameters.
//!
//! Owned by the symbolic-core work: differentiation, substitution, constant folding,
//! simplification, evaluation and printers live in the submodules of `expr/`.

use serde::{Deserialize, Serialize};

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
