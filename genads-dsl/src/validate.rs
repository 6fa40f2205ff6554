//! Validation: statement structure and identifiers on the syntax tree, then sweep expansion into
//! fully numeric [`ModelSpec`]s whose physics is checked (Δ > d/2, the BF bound, the warp on the
//! radial range, combinations the runtime cannot honour).
//!
//! Defaults of the optional statements: `prior phi uniform 1.0, pi uniform 0.55`,
//! `encoding propagator lift 0.1 normalisation clean`, `loss weighted`; `backbone` without a
//! variables word means `stabilised`; `path hermite` means `hermite affine`.

use crate::ast::*;
use crate::derived::{Normalisation, Prior, PriorComponent};
use crate::diagnostics::{clip, Diagnostic};
use crate::expr::{Expr, Func};
use std::collections::BTreeMap;

/// Names that parameters may not take.
pub const RESERVED: [&str; 11] = [
    "r", "pi", "exp", "log", "sqrt", "sinh", "cosh", "tanh", "coth", "sech", "csch",
];

/// The function names, as listed in diagnostics.
const FUNCTIONS: &str = "exp, log, sqrt, sinh, cosh, tanh, coth, sech, csch";

/// Most characters of a name quoted in a message (longer ones end in `…`).
pub(crate) const NAME_SHOWN: usize = 60;

/// Statements every model must state.
pub const REQUIRED: [&str; 6] = ["boundary", "warp", "radial", "field", "backbone", "path"];

/// Largest unsimplified derivative of a warp (in tree nodes) the derivation accepts.
pub const MAX_DERIVATIVE_NODES: usize = 1500;

/// Points at which the warp is checked on the closed radial range (plus both endpoints).
pub const WARP_SAMPLES: usize = 1000;

pub use crate::derived::ExactConstants;

/// One model with every parameter substituted: what the derivation consumes.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// Name (sweep members carry their parameter values).
    pub name: String,
    /// Parameter values, declaration order.
    pub params: Vec<(String, f64)>,
    /// Boundary dimension.
    pub d: u32,
    /// Scaling dimension Δ (derived from m² or massless where needed).
    pub delta: f64,
    /// m² = Δ(Δ − d).
    pub m2: f64,
    /// Whether declared massless.
    pub massless: bool,
    /// Δ, m², ν and the radial bounds as exact normal-form constants.
    pub exact: ExactConstants,
    /// The AdS radius L of the warp's boundary asymptotics (f'/f → 1/L), if it has them.
    pub ads_radius: Option<f64>,
    /// f(r) as written, parameters substituted (not simplified).
    pub warp: Expr,
    /// r_IR.
    pub r_ir: f64,
    /// r_UV.
    pub r_uv: f64,
    /// Backbone on/off and variables.
    pub backbone: BackboneDecl,
    /// Path.
    pub path: PathDecl,
    /// IR prior.
    pub prior: Prior,
    /// Propagator encoding (true) or none.
    pub propagator_encoding: bool,
    /// Lift noise σ.
    pub lift_noise: f64,
    /// Envelope normalisation.
    pub normalisation: Normalisation,
    /// ω-weighted loss.
    pub weighted: bool,
    /// Span of the `normalisation` clause, if written (for checks after derivation).
    pub normalisation_span: Option<Span>,
    /// Span of the model name.
    pub name_span: Span,
    /// Span of the warp expression.
    pub warp_span: Span,
    /// Span of the field statement.
    pub field_span: Span,
    /// Span of the radial statement.
    pub radial_span: Span,
}

/// Collects diagnostics for one source.
pub(crate) struct Sink<'a> {
    pub source: &'a str,
    pub origin: &'a str,
    pub errors: Vec<Diagnostic>,
}

impl Sink<'_> {
    pub fn error(&mut self, span: Span, message: impl Into<String>, rule: impl Into<String>) {
        let rule = rule.into();
        let rule = (!rule.is_empty()).then_some(rule);
        self.errors.push(Diagnostic::new(
            self.source,
            self.origin,
            span,
            message,
            rule,
        ));
    }
}

/// The statements of one model, each at most once (params by name).
struct Statements<'m> {
    params: Vec<&'m Param>,
    boundary: Option<&'m AstExpr>,
    warp: Option<&'m AstExpr>,
    radial: Option<(&'m AstExpr, &'m AstExpr, Span)>,
    field: Option<(&'m FieldDecl, Span)>,
    backbone: Option<BackboneDecl>,
    path: Option<PathDecl>,
    prior: Option<&'m PriorDecl>,
    encoding: Option<&'m EncodingDecl>,
    loss: Option<bool>,
}

/// A number for messages: its shortest round-trip decimal, in scientific form when large or tiny
/// (`1e308`, not 309 digits), and 0 without a sign.
fn fmt(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if v.is_finite() && (v.abs() >= 1e16 || v.abs() < 1e-6) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Check one model's structure and identifiers, expand its sweeps and check each member's
/// physics. Returns the members that passed.
pub(crate) fn expand_model(model: &ModelAst, sink: &mut Sink) -> Vec<ModelSpec> {
    let before = sink.errors.len();
    let Some(st) = structure(model, sink) else {
        return Vec::new();
    };
    identifiers(&st, sink);
    if sink.errors.len() > before {
        return Vec::new();
    }
    let mut members = Vec::new();
    for env in environments(model, &st, sink) {
        if let Some(spec) = member(model, &st, env, sink) {
            members.push(spec);
        }
    }
    members
}

fn structure<'m>(model: &'m ModelAst, sink: &mut Sink) -> Option<Statements<'m>> {
    let mut st = Statements {
        params: Vec::new(),
        boundary: None,
        warp: None,
        radial: None,
        field: None,
        backbone: None,
        path: None,
        prior: None,
        encoding: None,
        loss: None,
    };
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for s in &model.statements {
        let kw = s.value.keyword();
        if let Statement::Param(p) = &s.value {
            if RESERVED.contains(&p.name.value.as_str()) {
                sink.error(
                    p.name.span.clone(),
                    format!(
                        "`{}` cannot be a parameter name",
                        clip(&p.name.value, NAME_SHOWN)
                    ),
                    format!("reserved names: r, pi, {FUNCTIONS}"),
                );
            } else if let Some(q) = st.params.iter().find(|q| q.name.value == p.name.value) {
                let (l, _) = line_col(sink.source, q.name.span.start);
                sink.error(
                    p.name.span.clone(),
                    format!(
                        "parameter `{}` is declared twice",
                        clip(&p.name.value, NAME_SHOWN)
                    ),
                    format!("each parameter is declared once (first at line {l})"),
                );
            }
            if let ParamValue::Sweep(values) = &p.value {
                if values.is_empty() {
                    sink.error(
                        s.span.clone(),
                        format!("sweep `{}` has no values", clip(&p.name.value, NAME_SHOWN)),
                        "a sweep `param x in [a, b, ...]` needs at least one value",
                    );
                }
            }
            st.params.push(p);
            continue;
        }
        if let Some(first) = seen.get(kw) {
            let (l, _) = line_col(sink.source, first.start);
            sink.error(
                s.span.clone(),
                format!(
                    "duplicate `{kw}` statement in model `{}`",
                    clip(&model.name.value, NAME_SHOWN)
                ),
                format!("each statement appears once per model (first at line {l})"),
            );
            continue;
        }
        seen.insert(kw, s.span.clone());
        match &s.value {
            Statement::Boundary(e) => st.boundary = Some(e),
            Statement::Warp(e) => st.warp = Some(e),
            Statement::Radial(a, b) => st.radial = Some((a, b, s.span.clone())),
            Statement::Field(f) => st.field = Some((f, s.span.clone())),
            Statement::Backbone(b) => st.backbone = Some(*b),
            Statement::Path(p) => st.path = Some(*p),
            Statement::Prior(p) => {
                if let Some(dup) = &p.duplicate {
                    sink.error(
                        dup.clone(),
                        "prior component given twice",
                        "the prior states one law for phi and one for pi",
                    );
                } else if p.phi.is_none() || p.pi.is_none() {
                    sink.error(
                        s.span.clone(),
                        "prior needs a law for both phi and pi",
                        "the prior states one law for phi and one for pi",
                    );
                }
                st.prior = Some(p)
            }
            Statement::Encoding(e) => st.encoding = Some(e),
            Statement::Loss(w) => st.loss = Some(*w),
            Statement::Param(_) => {}
        }
    }
    for kw in REQUIRED {
        if !seen.contains_key(kw) {
            sink.error(
                model.name.span.clone(),
                format!(
                    "model `{}` has no `{kw}` statement",
                    clip(&model.name.value, NAME_SHOWN)
                ),
                "every model states boundary, warp, radial, field, backbone and path",
            );
        }
    }

    Some(st)
}

/// Every expression with the identifiers it may use: `r` only in the warp; parameters only
/// where declared (any order outside `param`, earlier ones inside).
fn identifiers(st: &Statements, sink: &mut Sink) {
    let all: Vec<&str> = st.params.iter().map(|p| p.name.value.as_str()).collect();
    for (i, p) in st.params.iter().enumerate() {
        let earlier = &all[..i];
        match &p.value {
            ParamValue::Fixed(e) => check_idents(e, earlier, false, sink),
            ParamValue::Sweep(vs) => vs
                .iter()
                .for_each(|e| check_idents(e, earlier, false, sink)),
        }
    }
    let mut constants: Vec<&AstExpr> = Vec::new();
    constants.extend(st.boundary);
    if let Some((a, b, _)) = st.radial {
        constants.push(a);
        constants.push(b);
    }
    if let Some((f, _)) = st.field {
        match f {
            FieldDecl::Delta(e) | FieldDecl::Mass2(e) => constants.push(e),
            FieldDecl::Massless => {}
        }
    }
    if let Some(p) = st.prior {
        for law in [&p.phi, &p.pi].into_iter().flatten() {
            match &law.value {
                PriorLaw::Uniform(e) => constants.push(e),
                PriorLaw::Sobolev(c, s) => {
                    constants.push(c);
                    constants.push(s);
                }
            }
        }
    }
    if let Some(e) = st.encoding.and_then(|e| e.lift.as_ref()) {
        constants.push(e);
    }
    for e in constants {
        check_idents(e, &all, false, sink);
    }
    if let Some(w) = st.warp {
        check_idents(w, &all, true, sink);
    }
}

fn check_idents(e: &AstExpr, params: &[&str], allow_r: bool, sink: &mut Sink) {
    match &e.value {
        AstExprKind::Num(v) => {
            if !v.is_finite() || v.to_f64().is_nan() {
                sink.error(
                    e.span.clone(),
                    "number out of range",
                    "numbers must be finite",
                );
            }
        }
        AstExprKind::Ident(name) => {
            if name == "pi" || params.contains(&name.as_str()) {
                return;
            }
            if name == "r" {
                if !allow_r {
                    sink.error(
                        e.span.clone(),
                        "`r` is not allowed here",
                        "only the warp depends on r; other values are constants of the parameters",
                    );
                }
                return;
            }
            let rule = if allow_r {
                format!("known names: r, pi, declared params; functions {FUNCTIONS}")
            } else {
                format!("known names: pi and params declared before use; functions {FUNCTIONS}")
            };
            sink.error(
                e.span.clone(),
                format!("unknown identifier `{}`", clip(name, NAME_SHOWN)),
                rule,
            );
        }
        AstExprKind::Neg(a) => check_idents(a, params, allow_r, sink),
        AstExprKind::Bin(_, a, b) => {
            check_idents(a, params, allow_r, sink);
            check_idents(b, params, allow_r, sink);
        }
        AstExprKind::Call(name, a) => {
            if Func::from_name(&name.value).is_none() {
                sink.error(
                    name.span.clone(),
                    format!("unknown function `{}`", clip(&name.value, NAME_SHOWN)),
                    format!("functions: {FUNCTIONS} (powers with ^)"),
                );
            }
            check_idents(a, params, allow_r, sink);
        }
    }
}

/// Symbolic form of an AST expression with parameter values substituted (not simplified).
pub(crate) fn to_expr(e: &AstExpr, env: &BTreeMap<String, Expr>) -> Expr {
    match &e.value {
        AstExprKind::Num(v) => Expr::number(v.clone()),
        AstExprKind::Ident(n) if n == "pi" => Expr::pi(),
        AstExprKind::Ident(n) => match env.get(n) {
            Some(v) => v.clone(),
            None => Expr::sym(n),
        },
        AstExprKind::Neg(a) => -to_expr(a, env),
        AstExprKind::Bin(op, a, b) => {
            let (a, b) = (to_expr(a, env), to_expr(b, env));
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                BinOp::Pow => a.pow(b),
            }
        }
        AstExprKind::Call(f, a) => {
            let a = to_expr(a, env);
            a.apply(Func::from_name(&f.value).unwrap_or(Func::Sqrt))
        }
    }
}

/// A parameter environment with the name suffix it contributes.
struct Env {
    /// Exact values (normal-form constants) for substitution.
    values: BTreeMap<String, Expr>,
    ordered: Vec<(String, f64)>,
    suffix: String,
}

fn environments(model: &ModelAst, st: &Statements, sink: &mut Sink) -> Vec<Env> {
    let mut envs = vec![Env {
        values: BTreeMap::new(),
        ordered: Vec::new(),
        suffix: String::new(),
    }];
    for p in &st.params {
        let mut next = Vec::new();
        for env in envs {
            let exprs: Vec<&AstExpr> = match &p.value {
                ParamValue::Fixed(e) => vec![e],
                ParamValue::Sweep(vs) => vs.iter().collect(),
            };
            for e in exprs {
                let Some((v, exact)) = constant_exact(e, &env, "", sink) else {
                    continue;
                };
                let mut values = env.values.clone();
                values.insert(p.name.value.clone(), exact);
                let mut ordered = env.ordered.clone();
                ordered.push((p.name.value.clone(), v));
                let suffix = match p.value {
                    ParamValue::Sweep(_) => format!("{}_{}{}", env.suffix, p.name.value, fmt(v)),
                    ParamValue::Fixed(_) => env.suffix.clone(),
                };
                next.push(Env {
                    values,
                    ordered,
                    suffix,
                });
            }
        }
        envs = next;
        if envs.len() > 10_000 {
            sink.error(
                model.name.span.clone(),
                "sweeps expand to more than 10000 models",
                "keep sweeps small",
            );
            return Vec::new();
        }
    }
    envs
}

fn context(env: &Env) -> String {
    if env.suffix.is_empty() {
        String::new()
    } else {
        let vals: Vec<String> = env
            .ordered
            .iter()
            .map(|(n, v)| format!("{n} = {}", fmt(*v)))
            .collect();
        format!(" (with {})", vals.join(", "))
    }
}

fn constant(e: &AstExpr, env: &Env, what: &str, sink: &mut Sink) -> Option<f64> {
    constant_exact(e, env, what, sink).map(|(v, _)| v)
}

/// A constant's value and its exact normal form (`None`, with a diagnostic, unless finite).
fn constant_exact(e: &AstExpr, env: &Env, what: &str, sink: &mut Sink) -> Option<(f64, Expr)> {
    let raw = to_expr(e, &env.values);
    let exact = raw.simplify();
    match raw.eval(&|_| None) {
        Ok(v) => Some((exact.eval(&|_| None).unwrap_or(v), exact)),
        Err(err) => {
            let what = if what.is_empty() { "value" } else { what };
            sink.error(
                e.span.clone(),
                format!("{what} is not a finite number{}", context(env)),
                format!("{err}"),
            );
            None
        }
    }
}

fn member(model: &ModelAst, st: &Statements, env: Env, sink: &mut Sink) -> Option<ModelSpec> {
    let before = sink.errors.len();
    let ctx = context(&env);
    let name = format!("{}{}", model.name.value, env.suffix);

    // Boundary dimension: a positive integer, and 2 for the runtime.
    let b = st.boundary?;
    let d = constant(b, &env, "boundary dimension", sink)?;
    if d.fract() != 0.0 || d < 1.0 {
        sink.error(
            b.span.clone(),
            format!(
                "boundary dimension {} is not a positive integer{ctx}",
                fmt(d)
            ),
            "d counts the boundary directions: 1, 2, 3, ...",
        );
        return None;
    }
    if d != 2.0 {
        sink.error(
            b.span.clone(),
            format!("boundary dimension {} is not supported{ctx}", fmt(d)),
            "the runtime's data are 2-D points and 2-D images: it needs d = 2",
        );
    }
    let d_u = d as u32;

    // Radial range.
    let (a, b_expr, radial_span) = st.radial.clone()?;
    let (r_ir, r_ir_exact) = constant_exact(a, &env, "r_IR", sink)?;
    let (r_uv, r_uv_exact) = constant_exact(b_expr, &env, "r_UV", sink)?;
    if r_ir == r_uv {
        sink.error(
            radial_span.clone(),
            format!("empty radial range{ctx}"),
            format!(
                "r_IR = r_UV = {}: the flow needs a non-zero radial span",
                fmt(r_ir)
            ),
        );
        return None;
    }
    if !(r_uv - r_ir).is_finite() {
        sink.error(
            radial_span.clone(),
            format!("radial range too wide{ctx}"),
            format!(
                "r_UV - r_IR = {} - ({}) is beyond the f64 range: the radial span must be a finite number",
                fmt(r_uv),
                fmt(r_ir)
            ),
        );
        return None;
    }

    // Warp on the closed range.
    let warp_ast = st.warp?;
    let warp = to_expr(warp_ast, &env.values);
    let size = warp.derivative_size("r");
    if size > MAX_DERIVATIVE_NODES {
        sink.error(
            warp_ast.span.clone(),
            format!("warp factor is too large to derive ({size} nodes in f'(r)){ctx}"),
            format!(
                "limits: f'(r) may have at most {MAX_DERIVATIVE_NODES} nodes before simplification"
            ),
        );
        return None;
    }
    let warp_ok = check_warp(&warp, d, r_ir, r_uv, warp_ast.span.clone(), &ctx, sink);
    let ads_radius = if warp_ok {
        effective_ads_radius(&warp, r_ir, r_uv)
    } else {
        None
    };

    // Field, with the bounds of the warp's AdS radius L (1 unless f'/f → 1/L ≠ 1 at the boundary).
    let (field_decl, field_span) = st.field.clone()?;
    let l = ads_radius.unwrap_or(1.0);
    let unit = (l - 1.0).abs() <= 1e-9;
    let radius_note = if unit {
        String::new()
    } else {
        format!(
            " for the warp's AdS radius L = {} (f'/f → {} at the boundary)",
            short(l),
            short(1.0 / l)
        )
    };
    let dn = Expr::int(d as i64);
    let half_d = Expr::ratio(d as i64, 2);
    let (delta, delta_exact, m2, m2_exact, massless) = match field_decl {
        FieldDecl::Delta(e) => {
            let (delta, dx) = constant_exact(e, &env, "Δ", sink)?;
            if delta < d / 2.0 {
                sink.error(
                    e.span.clone(),
                    format!("scaling dimension too small{ctx}"),
                    format!(
                        "Δ = {} is below d/2 = {}: standard quantisation needs Δ > d/2",
                        fmt(delta),
                        fmt(d / 2.0)
                    ),
                );
            } else if delta == d / 2.0 {
                sink.error(
                    e.span.clone(),
                    format!("scaling dimension too small{ctx}"),
                    format!(
                        "Δ = {} must be above d/2 = {}: standard quantisation needs Δ > d/2 \
                         strictly (at Δ = d/2, ν = 0: the two boundary falloffs merge into \
                         z^(d/2) and z^(d/2) log z, and the envelope ξ^ν K_ν(ξ) has no finite \
                         boundary value to normalise by)",
                        fmt(delta),
                        fmt(d / 2.0)
                    ),
                );
            }
            // m² L² = Δ(Δ − d)
            let mut m2x = (dx.clone() * (dx.clone() - dn.clone())).simplify();
            if !unit {
                m2x = (m2x * Expr::float(l).pow(Expr::int(-2))).simplify();
            }
            let m2 = value_of(&m2x);
            (delta, dx, m2, m2x, false)
        }
        FieldDecl::Mass2(e) => {
            let (m2, m2x) = constant_exact(e, &env, "m²", sink)?;
            let bf = -d * d / (4.0 * l * l);
            let bound = if unit {
                format!("-d²/4 = {}", fmt(bf))
            } else {
                format!("-d²/(4L²) = {}", short(bf))
            };
            if m2 < bf {
                sink.error(
                    e.span.clone(),
                    format!("mass below the Breitenlohner-Freedman bound{ctx}"),
                    format!(
                        "m² = {} is below the BF bound {bound}{radius_note}: the field is unstable",
                        fmt(m2),
                    ),
                );
            } else if m2 == bf {
                sink.error(
                    e.span.clone(),
                    format!("mass at the Breitenlohner-Freedman bound{ctx}"),
                    format!(
                        "m² = {} gives Δ = d/2 = {}{radius_note}: standard quantisation needs Δ > d/2",
                        fmt(m2),
                        fmt(d / 2.0)
                    ),
                );
            }
            // Δ = d/2 + sqrt(d²/4 + m² L²)
            let ml2 = if unit {
                m2x.clone()
            } else {
                (m2x.clone() * Expr::float(l * l)).simplify()
            };
            let disc = (half_d.clone().pow(Expr::int(2)) + ml2).simplify();
            let disc = if value_of(&disc) < 0.0 {
                Expr::int(0)
            } else {
                disc
            };
            let dx = (half_d.clone() + disc.sqrt()).simplify();
            (value_of(&dx), dx, m2, m2x, false)
        }
        FieldDecl::Massless => (d, dn.clone(), 0.0, Expr::int(0), true),
    };
    let nu_exact = (delta_exact.clone() - half_d).simplify();
    for (what, v, formula) in [
        ("Δ", delta, "Δ"),
        ("m²", m2, "Δ(Δ - d)"),
        ("ν", value_of(&nu_exact), "Δ - d/2"),
    ] {
        if !v.is_finite() {
            sink.error(
                field_span.clone(),
                format!("derived constant {what} is not finite{ctx}"),
                format!(
                    "{what} = {formula} evaluates to {v}: every derived constant must be a finite number"
                ),
            );
            return None;
        }
    }

    // Optional statements and their defaults.
    let backbone = st.backbone?;
    let path = st.path?;
    let prior = match st.prior {
        Some(p) => Prior {
            phi: prior_component(p.phi.as_ref()?, &env, sink)?,
            pi: prior_component(p.pi.as_ref()?, &env, sink)?,
        },
        None => Prior {
            phi: PriorComponent {
                scale: 1.0,
                sobolev_power: 0.0,
            },
            pi: PriorComponent {
                scale: 0.55,
                sobolev_power: 0.0,
            },
        },
    };
    let (propagator_encoding, lift_noise, normalisation, normalisation_span) = match st.encoding {
        Some(enc) => {
            let lift = match &enc.lift {
                Some(e) => {
                    let v = constant(e, &env, "lift noise", sink)?;
                    if v < 0.0 {
                        sink.error(
                            e.span.clone(),
                            format!("negative lift noise{ctx}"),
                            format!("lift σ = {} must be ≥ 0", fmt(v)),
                        );
                    }
                    v
                }
                None => 0.1,
            };
            let (norm, span) = match &enc.reference {
                Some(s) if s.value => (Normalisation::Reference, Some(s.span.clone())),
                Some(s) => (Normalisation::Clean, Some(s.span.clone())),
                None => (Normalisation::Clean, None),
            };
            if norm == Normalisation::Reference && !enc.propagator {
                sink.error(
                    span.clone().unwrap_or(radial_span.clone()),
                    "`normalisation reference` without propagator encoding",
                    "the reference DC normalisation applies to propagator envelopes only",
                );
            }
            (enc.propagator, lift, norm, span)
        }
        None => (true, 0.1, Normalisation::Clean, None),
    };

    // Where the UV end lies: toward the conformal boundary, where the warp grows. A reversed range
    // (r_UV < r_IR) is fine when the warp grows toward smaller r (HSV), wrong for AdS.
    if propagator_encoding || backbone.on {
        if let (Ok(f_ir), Ok(f_uv)) = (warp.eval_r(r_ir), warp.eval_r(r_uv)) {
            if f_uv < f_ir * (1.0 - 1e-12) {
                sink.error(
                    radial_span.clone(),
                    format!("the UV end of the radial range is on the wrong side{ctx}"),
                    format!(
                        "f(r_UV) = {} < f(r_IR) = {}: the data (UV) end must lie toward the \
                         conformal boundary, where the warp grows; swap the bounds",
                        short(f_uv),
                        short(f_ir)
                    ),
                );
            }
        }
    }

    if sink.errors.len() > before {
        return None;
    }
    Some(ModelSpec {
        name,
        params: env.ordered,
        d: d_u,
        delta,
        m2,
        massless,
        exact: ExactConstants {
            delta: delta_exact,
            m2: m2_exact,
            nu: nu_exact,
            r_ir: r_ir_exact,
            r_uv: r_uv_exact,
        },
        ads_radius,
        warp,
        r_ir,
        r_uv,
        backbone,
        path,
        prior,
        propagator_encoding,
        lift_noise,
        normalisation,
        weighted: st.loss.unwrap_or(true),
        normalisation_span,
        name_span: model.name.span.clone(),
        warp_span: warp_ast.span.clone(),
        field_span,
        radial_span,
    })
}

/// The f64 value of a closed normal-form constant (NaN if it has none).
fn value_of(e: &Expr) -> f64 {
    match e.eval(&|_| None) {
        Ok(v) => v,
        Err(crate::expr::EvalError::NonFinite { value, .. }) => value,
        Err(_) => f64::NAN,
    }
}

/// A number with 6 significant digits, for messages.
pub(crate) fn short(v: f64) -> String {
    if v == 0.0 {
        // -0 prints as 0: the sign of a zero says nothing to the reader.
        "0".to_string()
    } else if (1e-4..1e6).contains(&v.abs()) {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{v:.5e}")
    }
}

fn prior_component(law: &Spanned<PriorLaw>, env: &Env, sink: &mut Sink) -> Option<PriorComponent> {
    let (scale_e, power) = match &law.value {
        PriorLaw::Uniform(e) => (e, None),
        PriorLaw::Sobolev(c, s) => (c, Some(s)),
    };
    let scale = constant(scale_e, env, "prior variance", sink)?;
    if scale <= 0.0 {
        sink.error(
            scale_e.span.clone(),
            format!("non-positive prior variance{}", context(env)),
            format!("variance scale {} must be > 0", fmt(scale)),
        );
    }
    let sobolev_power = match power {
        Some(s) => {
            let v = constant(s, env, "Sobolev power", sink)?;
            if v < 0.0 {
                sink.error(
                    s.span.clone(),
                    format!("negative Sobolev power{}", context(env)),
                    format!("s = {} must be ≥ 0 (variance decays with |k|)", fmt(v)),
                );
            }
            v
        }
        None => 0.0,
    };
    Some(PriorComponent {
        scale,
        sobolev_power,
    })
}

/// f, f′ and ω = f^d finite and f > 0 on [min, max] of the range: first at dense samples (clear
/// messages for gross failures), then proved on the whole interval by interval arithmetic with
/// bisection, which finds zeros and poles between the samples. Returns whether the warp passed.
fn check_warp(
    warp: &Expr,
    d: f64,
    r_ir: f64,
    r_uv: f64,
    span: Span,
    ctx: &str,
    sink: &mut Sink,
) -> bool {
    let (lo, hi) = (r_ir.min(r_uv), r_ir.max(r_uv));
    let rule = format!(
        "f(r) must be finite and positive on the whole radial range [{}, {}]",
        short(lo),
        short(hi)
    );
    let fp = warp.diff("r");
    let at = |r: f64| -> Result<(), String> {
        let f = warp
            .eval_r(r)
            .map_err(|_| format!("warp factor is not finite at r = {}{ctx}", short(r)))?;
        if f <= 0.0 {
            return Err(format!(
                "warp factor f({}) = {} is not positive{ctx}",
                short(r),
                short(f)
            ));
        }
        let omega = f.powf(d);
        if !omega.is_finite() || omega == 0.0 {
            return Err(format!(
                "ω = f^d {} at r = {}{ctx}: f({}) = {}",
                if omega == 0.0 {
                    "underflows to 0"
                } else {
                    "overflows"
                },
                short(r),
                short(r),
                short(f)
            ));
        }
        if fp.eval_r(r).is_err() {
            return Err(format!(
                "the warp's derivative f'(r) is not finite at r = {}{ctx}",
                short(r)
            ));
        }
        Ok(())
    };
    for i in 0..=WARP_SAMPLES {
        let r = if i == WARP_SAMPLES {
            hi
        } else {
            lo + (hi - lo) * (i as f64 / WARP_SAMPLES as f64)
        };
        if let Err(message) = at(r) {
            sink.error(span, message, rule);
            return false;
        }
    }
    match prove_positive(warp, &fp, &warp.diff_unsimplified("r"), d, lo, hi) {
        Ok(()) => true,
        Err(r) => {
            let message = match at(r) {
                Err(m) => m,
                Ok(()) => format!(
                    "warp factor cannot be proven finite and positive near r = {}{ctx}: f({}) = {} \
                     (a zero or a pole between the sample points?)",
                    short(r),
                    short(r),
                    short(warp.eval_r(r).unwrap_or(f64::NAN))
                ),
            };
            sink.error(span, message, rule);
            false
        }
    }
}

/// Proves f > 0 with f, f′ and f^d finite on [lo, hi] by interval arithmetic and bisection;
/// on failure, the point where the proof gets stuck (a zero, a pole, or an enclosure too wide to
/// decide at the finest width).
fn prove_positive(f: &Expr, fp: &Expr, fp_raw: &Expr, d: f64, lo: f64, hi: f64) -> Result<(), f64> {
    use crate::expr::interval::Interval;
    let finest = 1e-10 * (hi - lo).abs().max(1e-3 * hi.abs().max(lo.abs()).max(1.0));
    // The as-written form and the normal form: either enclosure may be the tighter one (the
    // normal form removes cancellations such as cosh² − sinh²).
    let nf = f.simplify();
    let ok = |a: f64, b: f64| -> bool {
        let Some(iv) = Interval::new(a, b) else {
            return false;
        };
        let enclose = |e: &Expr| e.eval_interval(iv).filter(|v| v.lo > 0.0);
        let Some(fv) = enclose(f).or_else(|| enclose(&nf)) else {
            return false;
        };
        fv.lo > 0.0
            && fv.hi.powf(d).is_finite()
            && fv.lo.powf(d) > 0.0
            && (fp_raw.eval_interval(iv).is_some() || fp.eval_interval(iv).is_some())
    };
    let pieces = 64;
    let mut stack: Vec<(f64, f64)> = (0..pieces)
        .rev()
        .map(|i| {
            let a = lo + (hi - lo) * (i as f64 / pieces as f64);
            let b = if i + 1 == pieces {
                hi
            } else {
                lo + (hi - lo) * ((i + 1) as f64 / pieces as f64)
            };
            (a, b)
        })
        .collect();
    let mut budget = 200_000usize;
    while let Some((a, b)) = stack.pop() {
        if ok(a, b) {
            continue;
        }
        let m = 0.5 * (a + b);
        budget = budget.saturating_sub(1);
        if b - a <= finest || budget == 0 {
            // Where is it stuck? A point with a non-finite or non-positive value, if any.
            return Err([a, m, b]
                .into_iter()
                .find(|&x| f.eval_r(x).is_err_and(|_| true) || f.eval_r(x).is_ok_and(|v| v <= 0.0))
                .unwrap_or(m));
        }
        stack.push((m, b));
        stack.push((a, m));
    }
    Ok(())
}

/// The AdS radius of the warp's boundary asymptotics: L = 1/lim f'/f toward the UV boundary
/// (r → +∞ when r_UV > r_IR, −∞ otherwise), when f'/f settles to a non-zero limit of the
/// right sign; `None` for other asymptotics (flat, power law) or when the limit cannot be
/// evaluated.
pub(crate) fn effective_ads_radius(warp: &Expr, r_ir: f64, r_uv: f64) -> Option<f64> {
    let s = if r_uv > r_ir { 1.0 } else { -1.0 };
    let kappa = (warp.diff("r") / warp.clone()).simplify();
    let at = |t: f64| kappa.eval_r(r_uv + s * t).ok();
    let (k1, k2, k3) = (at(20.0)?, at(40.0)?, at(80.0)?);
    let settled = (k3 - k2).abs() <= 1e-7 * k3.abs().max(1e-300)
        && (k2 - k1).abs() <= 1e-3 * k3.abs().max(1e-300);
    (settled && s * k3 > 1e-6).then(|| 1.0 / (s * k3))
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(source: &str, at: usize) -> (usize, usize) {
    let d = Diagnostic::new(source, "", at..at, "", None);
    (d.line, d.column)
}
