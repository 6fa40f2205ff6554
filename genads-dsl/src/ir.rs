//! The typed intermediate form of a compiled model: everything `genads_model!` needs to write a
//! specialised physics type, with every number folded and every choice made, so that the code
//! generator (crate `genads-codegen`) only turns it into tokens and never computes.
//!
//! * the constants ([`Constants`], written as literals);
//! * the per-r coefficients (ω, ω′, friction, laplacian, mass) and the closed-form affine
//!   parameter (u, dr/du) as straight-line f64 code ([`StraightLine`]) with common
//!   subexpressions bound once; no expression tree is walked at run time;
//! * the envelope ([`Envelope`]): for a half-integer order ν = n + ½ (AdS Δ = 1.5, 2.5, …;
//!   flat-limit HSV) a polynomial times e^(−ξ) with its coefficients computed here, otherwise
//!   K_ν with ν and the normalisation 2^(1−ν)/Γ(ν) folded; the numerical family is the runtime's;
//! * the path matrix of the fused kernels ([`PathMatrix`]), with the Hermite endpoint tangents
//!   folded when the affine parameter has a closed form.

use crate::derived::{
    Affine as DerivedAffine, Constants, Derived, Normalisation, PathKind, Propagator,
};
use crate::expr::{straight_line, Expr};
use crate::special::gamma;
use std::fmt;

/// Largest n for which the half-integer envelope ν = n + ½ is written as a closed form.
const MAX_HALF_INTEGER_N: u32 = 12;

/// Gauss–Legendre panels of the numerical affine table (as the interpreter).
pub const AFFINE_PANELS: usize = 256;

/// Why a model could not be lowered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IrError {
    /// The requested type name is not a Rust identifier.
    #[error("`{0}` is not a valid Rust type name")]
    TypeName(String),
    /// A derived expression mentions a symbol other than the radial variable `r`.
    #[error("derived expression `{what}` has a free symbol `{symbol}` (only `r` is allowed)")]
    FreeSymbol {
        /// Which expression.
        what: String,
        /// The offending symbol.
        symbol: String,
    },
}

/// A scalar f64 expression of generated code.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A literal (any f64, including the non-finite ones).
    Lit(f64),
    /// π.
    Pi,
    /// A variable: `r`, a binding, or a caller's symbol.
    Var(String),
    /// A sum, evaluated left to right.
    Sum(Vec<Scalar>),
    /// (−)f₀·f₁·…/d₀/d₁/…, evaluated left to right.
    Product {
        /// Whether the first factor is negated.
        negate: bool,
        /// The factors (at least one).
        factors: Vec<Scalar>,
        /// The divisors.
        divisors: Vec<Scalar>,
    },
    /// √x.
    Sqrt(Box<Scalar>),
    /// x^k for an integer k.
    Powi(Box<Scalar>, i32),
    /// x^y.
    Powf(Box<Scalar>, Box<Scalar>),
    /// An f64 method of one argument, or its reciprocal (coth = 1/tanh, …).
    Call {
        /// The method.
        method: Method,
        /// Its argument.
        arg: Box<Scalar>,
        /// 1/method(arg) instead of method(arg).
        reciprocal: bool,
    },
}

/// The f64 methods generated code calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// e^x.
    Exp,
    /// ln x.
    Ln,
    /// √x.
    Sqrt,
    /// sinh x.
    Sinh,
    /// cosh x.
    Cosh,
    /// tanh x.
    Tanh,
}

impl Method {
    /// The method's name on f64.
    pub fn name(self) -> &'static str {
        match self {
            Method::Exp => "exp",
            Method::Ln => "ln",
            Method::Sqrt => "sqrt",
            Method::Sinh => "sinh",
            Method::Cosh => "cosh",
            Method::Tanh => "tanh",
        }
    }
}

/// `let name: f64 = value;`
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The variable.
    pub name: String,
    /// Its value.
    pub value: Scalar,
}

/// Straight-line code: shared bindings, then one binding per output.
#[derive(Debug, Clone, PartialEq)]
pub struct StraightLine {
    /// Common subexpressions (`__cseN`), each computed once.
    pub bindings: Vec<Binding>,
    /// The outputs, in the order asked for.
    pub outputs: Vec<Binding>,
}

/// The affine parameter of the Hermite path.
#[derive(Debug, Clone, PartialEq)]
pub enum Affine {
    /// u(r) and dr/du(r) in closed form (outputs `u`, `dr_du`); Z = ∫ds/ω over the range.
    ClosedForm {
        /// The normalisation Z.
        z: f64,
        /// Code computing `u` and `dr_du` from `r`.
        code: StraightLine,
    },
    /// A quadrature table of ∫ds/ω from r_IR to r_UV (built once, at first use).
    Numerical {
        /// r_IR.
        r_ir: f64,
        /// r_UV.
        r_uv: f64,
        /// Gauss–Legendre panels.
        panels: usize,
    },
}

/// (g, h) = ((2^(1−ν)/Γ(ν)) x^ν K_ν(x), (2^(1−ν)/Γ(ν)) x^(ν+1) K_(ν−1)(x)) at x ≥ 0.
#[derive(Debug, Clone, PartialEq)]
pub enum BesselPair {
    /// ν = n + ½: g = c e^(−x) P_n(x), h = c x² e^(−x) P_(n−1)(x) (h = x e^(−x) for n = 0),
    /// P_n(x) = Σ_j a_j x^(n−j), coefficients highest power first.
    HalfInteger {
        /// n.
        n: u32,
        /// c = 2^n n!/(2n)!.
        c: f64,
        /// Coefficients of P_n.
        g_poly: Vec<f64>,
        /// Coefficients of P_(n−1) (empty for n = 0).
        h_poly: Vec<f64>,
    },
    /// Any other order: the runtime's K_ν.
    General {
        /// c = 2^(1−ν)/Γ(ν).
        c: f64,
        /// ν.
        nu: f64,
        /// |ν − 1|.
        lower: f64,
    },
}

/// How the envelope (κ̃(|k|), ∂_r κ̃(|k|)) at r_UV is computed.
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope {
    /// The authors' AdS normalisation (DC-mode quirk), by the runtime.
    AdsReference {
        /// ν.
        nu: f64,
        /// r_UV.
        r_uv: f64,
    },
    /// The authors' flat normalisation, by the runtime.
    FlatReference {
        /// m².
        mass2: f64,
        /// f^−2 at r_UV.
        inv_f2: f64,
        /// r_UV.
        r_uv: f64,
    },
    /// AdS or power law: x = |k|·`x_scale`, (κ̃, ∂_r κ̃) = (g, `h_factor`·h).
    Bessel {
        /// x per |k|.
        x_scale: f64,
        /// g and h.
        pair: BesselPair,
        /// Factor of h (AdS: none).
        h_factor: Option<f64>,
    },
    /// Flat: μ = √(|k|² `inv_f2` + `mass2`), κ̃ = e^((μ − √mass2)·`minus_r_uv`), ∂_r κ̃ = −μ κ̃.
    Flat {
        /// f^−2 at r_UV.
        inv_f2: f64,
        /// max(m², 0).
        mass2: f64,
        /// √max(m², 0).
        mass: f64,
        /// −r_UV.
        minus_r_uv: f64,
    },
    /// No closed form: the runtime integrates the radial mode equation.
    Numerical,
}

/// Endpoint tangents dr/du of the affine Hermite path.
#[derive(Debug, Clone, PartialEq)]
pub enum Tangents {
    /// Folded to literals (closed-form affine parameter).
    Folded(f64, f64),
    /// Evaluated from the affine parameter at r_IR and r_UV at run time.
    AtEndpoints {
        /// r_IR.
        r_ir: f64,
        /// r_UV.
        r_uv: f64,
    },
}

/// The path matrix M(t) at r = r(t) of the fused kernels.
#[derive(Debug, Clone, PartialEq)]
pub enum PathMatrix {
    /// Linear path.
    Linear,
    /// Cubic Hermite in the affine parameter u(r).
    HermiteAffine {
        /// Δr.
        span: f64,
        /// The endpoint tangents.
        tangents: Tangents,
    },
    /// Cubic Hermite in radial time (u = t, dr/du = Δr).
    HermiteRadial {
        /// Δr.
        span: f64,
    },
}

/// The constants a generated model folds into the runtime's fused kernels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Folded {
    /// r at t = 0.
    pub r_ir: f64,
    /// Δr = r_UV − r_IR.
    pub span: f64,
    /// α·Δr, the backbone's scale in the t-velocity (0: no backbone).
    pub scale: f64,
    /// Interpolation path.
    pub path: PathKind,
}

/// A model lowered for code generation.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelIr {
    /// The generated type's name (a Rust identifier).
    pub type_name: String,
    /// The model's constants.
    pub constants: Constants,
    /// Code computing `omega`, `omega_prime`, `friction`, `laplacian`, `mass` from `r`.
    pub radial: StraightLine,
    /// The affine parameter.
    pub affine: Affine,
    /// The envelope.
    pub envelope: Envelope,
    /// The fused kernels' constants.
    pub folded: Folded,
    /// The fused kernels' path matrix.
    pub path_matrix: PathMatrix,
    /// Whether the model has a backbone (α ≠ 0), hence a fused velocity.
    pub has_backbone: bool,
}

/// Lowers `derived` for a type named `type_name`.
pub fn lower(derived: &Derived, type_name: &str) -> Result<ModelIr, IrError> {
    if !is_identifier(type_name) {
        return Err(IrError::TypeName(type_name.to_string()));
    }
    let c = &derived.constants;
    let radial = [
        ("omega", &derived.omega),
        ("omega_prime", &derived.omega_prime),
        ("friction", &derived.backbone.friction),
        ("laplacian", &derived.backbone.laplacian),
        ("mass", &derived.backbone.mass),
    ];
    check_symbols(&radial)?;
    let affine = match &derived.affine {
        DerivedAffine::ClosedForm { u, dr_du, z, .. } => {
            let exprs = [("u", u), ("dr_du", dr_du)];
            check_symbols(&exprs)?;
            Affine::ClosedForm {
                z: *z,
                code: straight_line(&exprs, &|s| s.to_string()),
            }
        }
        DerivedAffine::Numerical => Affine::Numerical {
            r_ir: c.r_ir,
            r_uv: c.r_uv,
            panels: AFFINE_PANELS,
        },
    };
    let span = c.r_uv - c.r_ir;
    Ok(ModelIr {
        type_name: type_name.to_string(),
        constants: c.clone(),
        radial: straight_line(&radial, &|s| s.to_string()),
        affine,
        envelope: envelope(derived),
        folded: Folded {
            r_ir: c.r_ir,
            span,
            scale: c.alpha * span,
            path: c.path,
        },
        path_matrix: path_matrix(derived),
        has_backbone: c.alpha != 0.0,
    })
}

fn envelope(d: &Derived) -> Envelope {
    let c = &d.constants;
    let inv_f2 = || d.inv_f2.eval_r(c.r_uv).unwrap_or(1.0);
    if d.normalisation == Normalisation::Reference {
        match &c.propagator {
            Propagator::Ads { nu } => {
                return Envelope::AdsReference {
                    nu: *nu,
                    r_uv: c.r_uv,
                }
            }
            Propagator::Flat { mass2 } => {
                return Envelope::FlatReference {
                    mass2: *mass2,
                    inv_f2: inv_f2(),
                    r_uv: c.r_uv,
                }
            }
            _ => {}
        }
    }
    match &c.propagator {
        // ξ = |k| e^(−r_UV); (κ̃(ξ), ∂_r κ̃) = (g_ν(ξ), h_ν(ξ)).
        Propagator::Ads { nu } => Envelope::Bessel {
            x_scale: (-c.r_uv).exp(),
            pair: bessel_pair(*nu),
            h_factor: None,
        },
        // K̂ = (|k|u)^β K_β(|k|u)/(2^(β−1)Γ(β)), u = (p r_UV)^(1/p).
        Propagator::PowerLaw { p, beta } => {
            let u = (p * c.r_uv).powf(1.0 / p);
            Envelope::Bessel {
                x_scale: u,
                pair: bessel_pair(*beta),
                h_factor: Some(-u.powf(-p)),
            }
        }
        Propagator::Flat { mass2 } => {
            let m = mass2.max(0.0);
            Envelope::Flat {
                inv_f2: inv_f2(),
                mass2: m,
                mass: m.sqrt(),
                minus_r_uv: -c.r_uv,
            }
        }
        Propagator::Numerical => Envelope::Numerical,
    }
}

/// g and h of order ν: a closed form for ν = n + ½ with n ≤ [`MAX_HALF_INTEGER_N`], where
/// x^ν K_ν(x) = sqrt(π/2) e^(−x) P_n(x), P_n(x) = Σ_j a_j x^(n−j),
/// a_j = (n+j)!/(j!(n−j)!) 2^(−j), and 2^(1−ν) sqrt(π/2)/Γ(ν) = 2^n n!/(2n)!.
fn bessel_pair(nu: f64) -> BesselPair {
    let twice = 2.0 * nu;
    let n_half = (twice - 1.0) / 2.0;
    let half_integer = twice.fract() == 0.0 && n_half.fract() == 0.0;
    if half_integer && (0.0..=MAX_HALF_INTEGER_N as f64).contains(&n_half) {
        let n = n_half as u32;
        BesselPair::HalfInteger {
            n,
            c: 2f64.powi(n as i32) * factorial(n) / factorial(2 * n),
            g_poly: half_integer_poly(n),
            h_poly: if n == 0 {
                Vec::new()
            } else {
                half_integer_poly(n - 1)
            },
        }
    } else {
        BesselPair::General {
            c: 2f64.powf(1.0 - nu) / gamma(nu),
            nu,
            lower: (nu - 1.0).abs(),
        }
    }
}

/// Coefficients a_0..a_n of P_n, a_j = (n+j)!/(j!(n−j)!) 2^(−j) (highest power of x first).
fn half_integer_poly(n: u32) -> Vec<f64> {
    (0..=n)
        .map(|j| factorial(n + j) / (factorial(j) * factorial(n - j)) * 0.5f64.powi(j as i32))
        .collect()
}

fn path_matrix(d: &Derived) -> PathMatrix {
    let c = &d.constants;
    let span = c.r_uv - c.r_ir;
    match c.path {
        PathKind::Linear => PathMatrix::Linear,
        PathKind::HermiteRadial => PathMatrix::HermiteRadial { span },
        PathKind::HermiteAffine => {
            let folded = match &d.affine {
                DerivedAffine::ClosedForm { dr_du, .. } => {
                    match (dr_du.eval_r(c.r_ir), dr_du.eval_r(c.r_uv)) {
                        (Ok(a0), Ok(a1)) if a0.is_finite() && a1.is_finite() => Some((a0, a1)),
                        _ => None,
                    }
                }
                DerivedAffine::Numerical => None,
            };
            PathMatrix::HermiteAffine {
                span,
                tangents: match folded {
                    Some((a0, a1)) => Tangents::Folded(a0, a1),
                    None => Tangents::AtEndpoints {
                        r_ir: c.r_ir,
                        r_uv: c.r_uv,
                    },
                },
            }
        }
    }
}

/// Type name of a model: UpperCamelCase of its name (`ads_kg_hermite` → `AdsKgHermite`,
/// `hsv_p0.25` → `HsvP0_25`): split at `_`/`-`, capitalise each part, other non-identifier
/// characters become `_`, a leading digit gets a `M` prefix.
pub fn type_name_for(model_name: &str) -> String {
    let mut out = String::new();
    for part in model_name.split(['_', '-']).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.extend(chars);
        }
    }
    let mut out: String = out
        .chars()
        .map(|c| {
            if unicode_ident::is_xid_continue(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| unicode_ident::is_xid_start(c) || c == '_') {
        out.insert(0, 'M');
    }
    out
}

/// Whether `s` can name the generated type: a Rust identifier (Unicode XID rules, as the
/// language's own identifiers) that is not `_` or a keyword the name could collide with.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if unicode_ident::is_xid_start(c) || c == '_')
        && chars.all(unicode_ident::is_xid_continue)
        && s != "_"
        && !matches!(
            s,
            "Self" | "self" | "crate" | "super" | "struct" | "impl" | "fn"
        )
}

fn check_symbols(exprs: &[(&str, &Expr)]) -> Result<(), IrError> {
    for (what, e) in exprs {
        if let Some(symbol) = e.free_symbols().into_iter().find(|s| s != "r") {
            return Err(IrError::FreeSymbol {
                what: (*what).to_string(),
                symbol,
            });
        }
    }
    Ok(())
}

fn factorial(n: u32) -> f64 {
    (1..=n).map(f64::from).product()
}

// Precedence of printed Rust expressions.
const ADD: u8 = 1;
const MUL: u8 = 2;
const UNARY: u8 = 3;
const PRIMARY: u8 = 4;

/// An f64 literal that type-checks as f64 (`2.0_f64`, `1.5_f64`, `1e-7_f64`).
fn rust_lit(v: f64) -> (String, u8) {
    if v.is_nan() {
        return ("f64::NAN".into(), PRIMARY);
    }
    if v.is_infinite() {
        let s = if v > 0.0 {
            "f64::INFINITY"
        } else {
            "f64::NEG_INFINITY"
        };
        return (s.into(), PRIMARY);
    }
    let v = if v == 0.0 { 0.0 } else { v };
    let body = if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}_f64")
    } else {
        format!("{v:?}_f64")
    };
    (body, if v < 0.0 { UNARY } else { PRIMARY })
}

fn paren((s, p): (String, u8), need: u8) -> String {
    if p < need {
        format!("({s})")
    } else {
        s
    }
}

impl Scalar {
    /// Rust source with the fewest parentheses, and its precedence.
    fn print(&self) -> (String, u8) {
        match self {
            Scalar::Lit(v) => rust_lit(*v),
            Scalar::Pi => ("std::f64::consts::PI".into(), PRIMARY),
            Scalar::Var(name) => (name.clone(), PRIMARY),
            Scalar::Sum(terms) => {
                let mut out = String::new();
                for (i, t) in terms.iter().enumerate() {
                    let code = t.print();
                    if i == 0 {
                        out.push_str(&paren(code, ADD));
                    } else if let Some(rest) = code.0.strip_prefix('-').filter(|_| code.1 >= MUL) {
                        // `a + -b` reads as `a - b`; safe because `rest` binds at least as tightly
                        // as a product (a leading unary minus applies to its first factor).
                        out.push_str(" - ");
                        out.push_str(rest);
                    } else {
                        out.push_str(" + ");
                        out.push_str(&paren(code, MUL));
                    }
                }
                (out, ADD)
            }
            Scalar::Product {
                negate,
                factors,
                divisors,
            } => {
                let mut out = String::new();
                for (i, f) in factors.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" * ");
                    }
                    out.push_str(&paren(f.print(), if i == 0 { UNARY } else { PRIMARY }));
                }
                for d in divisors {
                    out.push_str(" / ");
                    out.push_str(&paren(d.print(), PRIMARY));
                }
                if *negate {
                    out.insert(0, '-');
                }
                (out, MUL)
            }
            Scalar::Sqrt(x) => (format!("{}.sqrt()", paren(x.print(), PRIMARY)), PRIMARY),
            Scalar::Powi(x, k) => (format!("{}.powi({k})", paren(x.print(), PRIMARY)), PRIMARY),
            Scalar::Powf(x, y) => (
                format!("{}.powf({})", paren(x.print(), PRIMARY), y.print().0),
                PRIMARY,
            ),
            Scalar::Call {
                method,
                arg,
                reciprocal,
            } => {
                let arg = paren(arg.print(), PRIMARY);
                let m = method.name();
                if *reciprocal {
                    (format!("(1.0_f64 / {arg}.{m}())"), PRIMARY)
                } else {
                    (format!("{arg}.{m}()"), PRIMARY)
                }
            }
        }
    }
}

/// Rust source of the expression.
impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.print().0)
    }
}

/// Rust source: `let NAME: f64 = …;` per binding, one per line.
impl fmt::Display for StraightLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.bindings.iter().chain(&self.outputs) {
            writeln!(f, "let {}: f64 = {};", b.name, b.value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_known_values() {
        let pi = std::f64::consts::PI;
        for (x, want) in [
            (0.5, pi.sqrt()),
            (1.0, 1.0),
            (1.5, pi.sqrt() / 2.0),
            (5.0, 24.0),
            (0.1, 9.513_507_698_668_732),
            (2.5, 0.75 * pi.sqrt()),
        ] {
            assert!(
                (gamma(x) - want).abs() <= 1e-13 * want,
                "Γ({x}) = {}",
                gamma(x)
            );
        }
    }

    #[test]
    fn half_integer_closed_form_is_bessel_product() {
        // ν = n + ½ closed form vs x^ν K_ν(x)·2^(1−ν)/Γ(ν) with K_ν from the upward recurrence
        // K_{ν+1} = K_{ν−1} + (2ν/x) K_ν started at K_{±1/2} = sqrt(π/2x) e^(−x) (independent route).
        let x = 0.83_f64;
        let k_half = (std::f64::consts::PI / (2.0 * x)).sqrt() * (-x).exp();
        let mut ks = vec![k_half, k_half * (1.0 + 1.0 / x)];
        for m in 1..6 {
            let nu = m as f64 + 0.5;
            ks.push(ks[m - 1] + 2.0 * nu / x * ks[m]);
        }
        for n in 0..5u32 {
            let nu = n as f64 + 0.5;
            let BesselPair::HalfInteger { c, g_poly, .. } = bessel_pair(nu) else {
                panic!("ν = {nu} is half-integer");
            };
            let poly = g_poly.iter().fold(0.0, |acc, a| acc * x + a);
            let closed = c * (-x).exp() * poly;
            let direct = 2f64.powf(1.0 - nu) / gamma(nu) * x.powf(nu) * ks[n as usize];
            assert!(
                (closed - direct).abs() < 1e-13,
                "n = {n}: {closed} vs {direct}"
            );
        }
        assert!(matches!(bessel_pair(1.0), BesselPair::General { .. }));
    }

    #[test]
    fn type_names() {
        assert_eq!(type_name_for("ads_kg_hermite"), "AdsKgHermite");
        assert_eq!(type_name_for("hsv_p0.25"), "HsvP0_25");
        assert_eq!(type_name_for("1x"), "M1x");
        assert!(is_identifier("AdsKgHermite"));
        assert!(!is_identifier("a b"));
        assert!(!is_identifier("9a"));
        // Unicode names stay Unicode where Rust allows it; anything else becomes `_`.
        assert_eq!(type_name_for("größe_a"), "GrößeA");
        assert!(is_identifier(&type_name_for("größe_a")));
        assert_eq!(type_name_for("a²"), "A_");
        assert!(!is_identifier("A²"));
        assert!(!is_identifier("self"));
    }
}
