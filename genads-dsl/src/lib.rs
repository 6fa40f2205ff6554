//! The `.genads` language: grammar, validation with diagnostics, a small symbolic core and the
//! derivation of everything a holographic flow needs. No tensors here.

pub mod ast;
mod compile;
pub mod derive;
pub mod derived;
pub mod diagnostics;
pub mod explain;
pub mod expr;
pub mod ir;
mod lexical;
pub mod parser;
pub mod signature;
pub mod special;
pub mod validate;

pub use compile::{compile, compile_file, select};
pub use derived::Derived;
pub use diagnostics::{Diagnostic, Diagnostics};
pub use expr::{Expr, Func};
