//! The `.genads` language: grammar, validation with diagnostics, a small symbolic core and the
//! derivation of everything a holographic flow needs. No tensors here.

pub mod codegen;
pub mod derived;
pub mod expr;

pub use derived::Derived;
pub use expr::{Expr, Func};
