//! The syntax tree of a `.genads` file, every node carrying its byte span in the source.

use crate::expr::Number;
use std::ops::Range;

/// A byte range in the source text.
pub type Span = Range<usize>;

/// A value with the span it was written at.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

/// A binary operator of the expression language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
}

/// An expression as written (before parameters are substituted).
#[derive(Debug, Clone, PartialEq)]
pub enum AstExprKind {
    /// A numeric literal (exact unless it has more than 15 significant digits).
    Num(Number),
    /// An identifier: `r`, `pi` or a parameter.
    Ident(String),
    /// Unary minus.
    Neg(Box<AstExpr>),
    /// A binary operation.
    Bin(BinOp, Box<AstExpr>, Box<AstExpr>),
    /// A function call `name(arg)`; the name keeps its own span.
    Call(Spanned<String>, Box<AstExpr>),
}

/// An expression node with its span.
pub type AstExpr = Spanned<AstExprKind>;

/// How a parameter is given.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// `param x = expr`.
    Fixed(AstExpr),
    /// `param x in [a, b, ...]`: one model per value.
    Sweep(Vec<AstExpr>),
}

/// A `param` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The parameter's name.
    pub name: Spanned<String>,
    /// Its value or values.
    pub value: ParamValue,
}

/// The field statement.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldDecl {
    /// `field delta <expr>`: the scaling dimension Δ.
    Delta(AstExpr),
    /// `field mass2 <expr>`: the mass squared m².
    Mass2(AstExpr),
    /// `field massless`.
    Massless,
}

/// The backbone statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackboneDecl {
    /// `klein_gordon` (true) or `off` (false).
    pub on: bool,
    /// `stabilised` (default) or `raw`.
    pub stabilised: bool,
}

/// The path statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathDecl {
    /// `path linear`.
    Linear,
    /// `path hermite` or `path hermite affine`.
    HermiteAffine,
    /// `path hermite radial`.
    HermiteRadial,
}

/// One component of the prior statement.
#[derive(Debug, Clone, PartialEq)]
pub enum PriorLaw {
    /// `uniform <variance>`.
    Uniform(AstExpr),
    /// `sobolev(c = <scale>, s = <power>)`.
    Sobolev(AstExpr, AstExpr),
}

/// The prior statement: laws for φ̃ and π̃.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorDecl {
    /// Law of φ̃ (with the span of its `phi` keyword).
    pub phi: Option<Spanned<PriorLaw>>,
    /// Law of π̃ (with the span of its `pi` keyword).
    pub pi: Option<Spanned<PriorLaw>>,
    /// Span of a component given twice (`phi ... phi ...`), an error.
    pub duplicate: Option<Span>,
}

/// The encoding statement.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodingDecl {
    /// `propagator` (true) or `none` (false).
    pub propagator: bool,
    /// `lift <sigma>`.
    pub lift: Option<AstExpr>,
    /// `normalisation reference` (true) or `normalisation clean` (false), with its span.
    pub reference: Option<Spanned<bool>>,
}

/// One statement of a model, with the span of the whole statement in the enclosing `Spanned`.
// Expressions carry exact numbers inline; a handful of statements per model, not worth boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `param ...`.
    Param(Param),
    /// `boundary <d>`.
    Boundary(AstExpr),
    /// `warp <f(r)>`.
    Warp(AstExpr),
    /// `radial <r_IR> -> <r_UV>`.
    Radial(AstExpr, AstExpr),
    /// `field ...`.
    Field(FieldDecl),
    /// `backbone ...`.
    Backbone(BackboneDecl),
    /// `path ...`.
    Path(PathDecl),
    /// `prior ...`.
    Prior(PriorDecl),
    /// `encoding ...`.
    Encoding(EncodingDecl),
    /// `loss weighted|unweighted` (true = weighted by ω).
    Loss(bool),
}

impl Statement {
    /// The statement's keyword, used in messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            Statement::Param(_) => "param",
            Statement::Boundary(_) => "boundary",
            Statement::Warp(_) => "warp",
            Statement::Radial(..) => "radial",
            Statement::Field(_) => "field",
            Statement::Backbone(_) => "backbone",
            Statement::Path(_) => "path",
            Statement::Prior(_) => "prior",
            Statement::Encoding(_) => "encoding",
            Statement::Loss(_) => "loss",
        }
    }
}

/// A `model name { ... }` block.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAst {
    /// The model's name.
    pub name: Spanned<String>,
    /// Its statements in source order.
    pub statements: Vec<Spanned<Statement>>,
    /// Span of the whole block.
    pub span: Span,
}

/// A parsed `.genads` file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileAst {
    /// The models in source order.
    pub models: Vec<ModelAst>,
}
