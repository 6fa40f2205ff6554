//! `explain`: the derivation of a model printed as text, LaTeX or Rust.

use crate::derived::*;
use crate::expr::Expr;
use std::fmt::Write;

/// Output format of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text (Unicode symbols, expressions in the text printer's notation).
    Text,
    /// A LaTeX fragment (`align*` blocks).
    Latex,
    /// The derived expressions as Rust functions of `r` (the CLI adds the generated type).
    Rust,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Format::Text),
            "latex" => Ok(Format::Latex),
            "rust" => Ok(Format::Rust),
            other => Err(format!("unknown format `{other}` (text, latex, rust)")),
        }
    }
}

/// Render the derivation of one model.
pub fn render(m: &Derived, format: Format) -> String {
    match format {
        Format::Text => text(m),
        Format::Latex => latex(m),
        // The derived expressions; `genads explain` appends the type `genads_model!` generates
        // (crate `genads-codegen`, which depends on this one).
        Format::Rust => rust(m),
    }
}

fn n(v: f64) -> String {
    format!("{v}")
}

fn path_name(p: PathKind) -> &'static str {
    match p {
        PathKind::Linear => "linear: S_t = (1-t) S0 + t S1",
        PathKind::HermiteAffine => "cubic Hermite in the affine parameter u(r)",
        PathKind::HermiteRadial => "cubic Hermite in radial time u = t (dr/du = Δr)",
    }
}

fn prior_text(c: PriorComponent) -> String {
    if c.sobolev_power == 0.0 {
        format!("N(0, {})", n(c.scale))
    } else {
        format!("N(0, {} (1 + |k|²)^-{})", n(c.scale), n(c.sobolev_power))
    }
}

fn field_line(m: &Derived) -> String {
    if m.massless {
        "massless (Δ = d)".to_string()
    } else {
        format!("Δ = {}", n(m.constants.delta))
    }
}

/// The AdS radius when it is not 1 (it moves the BF bound and the mass).
fn radius(m: &Derived) -> Option<f64> {
    m.ads_radius.filter(|l| (l - 1.0).abs() > 1e-9)
}

/// An exact constant with its value when the exact form is not a plain number.
fn exact(e: &Expr, v: f64) -> String {
    let s = e.to_string();
    if e.as_number().is_some_and(|x| x.is_exact()) || s == n(v) {
        s
    } else {
        format!("{s} = {}", n(v))
    }
}

fn bf_line(m: &Derived) -> String {
    let l = radius(m).unwrap_or(1.0);
    let bf = -(m.constants.d as f64).powi(2) / (4.0 * l * l);
    let ok = m.constants.m2 >= bf && m.constants.delta > m.constants.d as f64 / 2.0;
    let bound = match radius(m) {
        Some(l) => format!("-d²/(4L²) = {} (BF bound, AdS radius L = {})", n(bf), n(l)),
        None => format!("-d²/4 = {} (BF bound)", n(bf)),
    };
    format!(
        "m² = {} ≥ {bound} and Δ > d/2 = {}: {}",
        m.exact.m2,
        n(m.constants.d as f64 / 2.0),
        if ok { "ok" } else { "VIOLATED" }
    )
}

fn encoding_text(m: &Derived) -> String {
    let kind = match m.constants.encoding {
        Encoding::Propagator => "propagator envelope × source",
        Encoding::None => "none (φ̃ = data, physics-free)",
    };
    let norm = match (m.constants.encoding, m.normalisation) {
        (Encoding::Propagator, Normalisation::Reference) => ", reference DC normalisation",
        (Encoding::Propagator, Normalisation::Clean) => ", clean normalisation",
        _ => "",
    };
    format!("{kind}, lift noise σ = {}{norm}", n(m.constants.lift_noise))
}

fn propagator_text(p: &Propagator) -> String {
    match p {
        Propagator::Ads { nu } => format!(
            "AdS: κ̃ = (2/Γ(ν)) (ξ/2)^ν K_ν(ξ), ξ = |k| e^(-r), ν = {}",
            n(*nu)
        ),
        Propagator::PowerLaw { p, beta } => format!(
            "power law (hyperscaling violating): K̂ = (|k|u)^β K_β(|k|u) / (2^(β-1) Γ(β)), u = (p r)^(1/p), p = {}, β = {}",
            n(*p),
            n(*beta)
        ),
        Propagator::Flat { mass2 } => format!(
            "flat: exp(-μ r), μ = sqrt(|k|² f^-2 + max(m², 0)), m² = {}",
            n(*mass2)
        ),
        Propagator::Numerical => "numerical (no closed form: radial mode ODE solved numerically)".to_string(),
    }
}

/// One term `prefix · coefficient · var` of a right-hand side; `None` when the coefficient is 0.
fn term(
    coef: &Expr,
    prefix: &str,
    var: &str,
    show: &dyn Fn(&Expr) -> String,
    times: &str,
) -> Option<String> {
    // The coefficient as derived (presented); its normal form decides 0 and ±1.
    let c = coef.clone();
    let pre = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}{times}")
    };
    match c.as_constant() {
        Some(0.0) => None,
        Some(1.0) => Some(format!("{pre}{var}")),
        Some(-1.0) => Some(format!("-{pre}{var}")),
        _ => {
            let s = show(&c);
            let s = if matches!(c, Expr::Add(_)) {
                format!("({s})")
            } else {
                s
            };
            match (prefix.is_empty(), s.strip_prefix('-')) {
                (false, Some(rest)) => Some(format!("-{pre}{rest}{times}{var}")),
                _ => Some(format!("{pre}{s}{times}{var}")),
            }
        }
    }
}

fn join_terms(terms: Vec<String>, minus: &str) -> String {
    if terms.is_empty() {
        return "0".to_string();
    }
    let mut out = String::new();
    for (i, t) in terms.into_iter().enumerate() {
        if i == 0 {
            out.push_str(&t);
        } else if let Some(rest) = t.strip_prefix('-') {
            let _ = write!(out, " {minus} {rest}");
        } else {
            let _ = write!(out, " + {t}");
        }
    }
    out
}

/// dπ/dr of a backbone: laplacian·|k|² φ + mass φ + friction π.
fn rhs(
    b: &Backbone,
    phi: &str,
    pi: &str,
    k2: &str,
    show: &dyn Fn(&Expr) -> String,
    times: &str,
    minus: &str,
) -> String {
    let mut terms = Vec::new();
    terms.extend(term(&b.laplacian, k2, phi, show, times));
    terms.extend(term(&b.mass, "", phi, show, times));
    terms.extend(term(&b.friction, "", pi, show, times));
    join_terms(terms, minus)
}

fn text(m: &Derived) -> String {
    let show = |e: &Expr| e.to_string();
    let mut s = String::new();
    let span = m.constants.r_uv - m.constants.r_ir;
    let _ = writeln!(s, "model {}", m.constants.name);
    if !m.params.is_empty() {
        let ps: Vec<String> = m
            .params
            .iter()
            .map(|(k, v)| format!("{k} = {}", n(*v)))
            .collect();
        let _ = writeln!(s, "  parameters     {}", ps.join(", "));
    }
    let _ = writeln!(s, "constants");
    let _ = writeln!(s, "  d              {}", m.constants.d);
    let _ = writeln!(s, "  field          {}", field_line(m));
    let _ = writeln!(
        s,
        "  Δ              {}",
        exact(&m.exact.delta, m.constants.delta)
    );
    let _ = writeln!(s, "  ν = Δ - d/2    {}", exact(&m.exact.nu, m.constants.nu));
    match radius(m) {
        Some(l) => {
            let _ = writeln!(
                s,
                "  m² = Δ(Δ-d)/L² {} (L = {})",
                exact(&m.exact.m2, m.constants.m2),
                n(l)
            );
        }
        None => {
            let _ = writeln!(s, "  m² = Δ(Δ - d)  {}", exact(&m.exact.m2, m.constants.m2));
        }
    }
    let _ = writeln!(s, "  BF check       {}", bf_line(m));
    let _ = writeln!(
        s,
        "  radial range   r_IR = {} -> r_UV = {}",
        n(m.constants.r_ir),
        n(m.constants.r_uv)
    );
    let _ = writeln!(s, "  span Δr        {}", n(span));
    let _ = writeln!(
        s,
        "  α              {} (Klein-Gordon backbone {})",
        n(m.constants.alpha),
        if m.constants.alpha != 0.0 {
            "on"
        } else {
            "off"
        }
    );
    let _ = writeln!(
        s,
        "  variables      {}",
        if m.constants.stabilised {
            "stabilised: φ̃ = e^((d-Δ)r) φ"
        } else {
            "raw (unstabilised)"
        }
    );
    let _ = writeln!(s, "  path           {}", path_name(m.constants.path));
    let _ = writeln!(
        s,
        "  prior          φ̃ ~ {}, π̃ ~ {}",
        prior_text(m.constants.prior.phi),
        prior_text(m.constants.prior.pi)
    );
    let _ = writeln!(s, "  encoding       {}", encoding_text(m));
    let _ = writeln!(
        s,
        "  loss           {}",
        if m.constants.omega_weighting {
            "weighted by ω(r_t)"
        } else {
            "unweighted"
        }
    );
    let _ = writeln!(s, "geometry  ds² = dr² + f(r)² dx²");
    let _ = writeln!(s, "  f(r)           {}", m.warp);
    let _ = writeln!(s, "  ω = f^d        {}", m.omega);
    let _ = writeln!(s, "  ω'             {}", m.omega_prime);
    let _ = writeln!(s, "  d f'/f         {}", m.friction);
    let _ = writeln!(s, "  f^-2           {}", m.inv_f2);
    let (phi, pi) = if m.constants.stabilised {
        ("φ̃", "π̃")
    } else {
        ("φ", "π")
    };
    let _ = writeln!(
        s,
        "backbone ({}, per Fourier mode)",
        if m.constants.stabilised {
            "stabilised variables"
        } else {
            "raw variables"
        }
    );
    let _ = writeln!(s, "  d{phi}/dr = {pi}");
    let _ = writeln!(
        s,
        "  d{pi}/dr = {}",
        rhs(&m.backbone, phi, pi, "|k|²", &show, " ", "-")
    );
    if m.constants.stabilised {
        let _ = writeln!(s, "backbone (raw variables)");
        let _ = writeln!(s, "  dφ/dr = π");
        let _ = writeln!(
            s,
            "  dπ/dr = {}",
            rhs(&m.backbone_unstabilised, "φ", "π", "|k|²", &show, " ", "-")
        );
    }
    let _ = writeln!(s, "affine parameter  u(r) = ∫_(r_IR)^r ds/ω / Z");
    match &m.affine {
        Affine::ClosedForm {
            u,
            dr_du,
            z,
            z_exact,
            ..
        } => {
            let _ = writeln!(s, "  Z              {}", exact(z_exact, *z));
            let _ = writeln!(s, "  u(r)           {u}");
            let _ = writeln!(s, "  dr/du = Z ω    {dr_du}");
        }
        Affine::Numerical => {
            let _ = writeln!(s, "  numerical (∫ds/ω is not elementary)");
        }
    }
    let _ = writeln!(
        s,
        "propagator  {}",
        propagator_text(&m.constants.propagator)
    );
    let _ = writeln!(s, "signature  {}", m.constants.signature);
    s
}

fn latex_num(v: f64) -> String {
    Expr::num(v).to_latex()
}

fn latex(m: &Derived) -> String {
    let show = |e: &Expr| e.to_latex();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "% model {}  (signature {})",
        m.constants.name, m.constants.signature
    );
    let _ = writeln!(s, "\\begin{{align*}}");
    let _ = writeln!(
        s,
        "d &= {}, & \\Delta &= {}, & \\nu &= \\Delta - \\tfrac{{d}}{{2}} = {}, & m^2 &= \\Delta(\\Delta - d) = {} \\geq -\\tfrac{{d^2}}{{4}} = {} \\\\",
        m.constants.d,
        m.exact.delta.to_latex(),
        m.exact.nu.to_latex(),
        m.exact.m2.to_latex(),
        latex_num(-(m.constants.d as f64).powi(2) / 4.0)
    );
    let _ = writeln!(
        s,
        "r_{{\\mathrm{{IR}}}} &= {}, & r_{{\\mathrm{{UV}}}} &= {}, & \\Delta r &= {}, & \\alpha &= {} \\\\",
        latex_num(m.constants.r_ir),
        latex_num(m.constants.r_uv),
        latex_num(m.constants.r_uv - m.constants.r_ir),
        latex_num(m.constants.alpha)
    );
    let _ = writeln!(s, "f(r) &= {} \\\\", m.warp.to_latex());
    let _ = writeln!(s, "\\omega(r) = f^d &= {} \\\\", m.omega.to_latex());
    let _ = writeln!(s, "\\omega'(r) &= {} \\\\", m.omega_prime.to_latex());
    let _ = writeln!(s, "d\\,\\frac{{f'}}{{f}} &= {} \\\\", m.friction.to_latex());
    let _ = writeln!(s, "f^{{-2}} &= {} \\\\", m.inv_f2.to_latex());
    let (phi, pi) = if m.constants.stabilised {
        ("\\tilde\\phi", "\\tilde\\pi")
    } else {
        ("\\phi", "\\pi")
    };
    let _ = writeln!(s, "\\frac{{d{phi}}}{{dr}} &= {pi} \\\\");
    let _ = writeln!(
        s,
        "\\frac{{d{pi}}}{{dr}} &= {} \\\\",
        rhs(&m.backbone, phi, pi, "|k|^2", &show, " \\, ", "-")
    );
    if m.constants.stabilised {
        let _ = writeln!(
            s,
            "\\frac{{d\\pi}}{{dr}} &= {} \\quad \\text{{(raw variables)}} \\\\",
            rhs(
                &m.backbone_unstabilised,
                "\\phi",
                "\\pi",
                "|k|^2",
                &show,
                " \\, ",
                "-"
            )
        );
    }
    match &m.affine {
        Affine::ClosedForm {
            u,
            dr_du,
            z,
            z_exact,
            ..
        } => {
            if z_exact.as_number().is_some() {
                let _ = writeln!(s, "Z &= {} \\\\", z_exact.to_latex());
            } else {
                let _ = writeln!(s, "Z &= {} = {} \\\\", z_exact.to_latex(), latex_num(*z));
            }
            let _ = writeln!(s, "u(r) &= {} \\\\", u.to_latex());
            let _ = writeln!(s, "\\frac{{dr}}{{du}} &= {}", dr_du.to_latex());
        }
        Affine::Numerical => {
            let _ = writeln!(s, "u(r) &= \\text{{numerical}}");
        }
    }
    let _ = writeln!(s, "\\end{{align*}}");
    let prop = match &m.constants.propagator {
        Propagator::Ads { nu } => format!(
            "AdS: $\\tilde\\kappa = \\frac{{2}}{{\\Gamma(\\nu)}} (\\xi/2)^\\nu K_\\nu(\\xi)$, $\\xi = |k| e^{{-r}}$, $\\nu = {}$",
            latex_num(*nu)
        ),
        Propagator::PowerLaw { p, beta } => format!(
            "power law: $\\hat K = \\frac{{(|k|u)^\\beta K_\\beta(|k|u)}}{{2^{{\\beta-1}}\\Gamma(\\beta)}}$, $u = (p r)^{{1/p}}$, $p = {}$, $\\beta = {}$",
            latex_num(*p),
            latex_num(*beta)
        ),
        Propagator::Flat { mass2 } => format!(
            "flat: $e^{{-\\mu r}}$, $\\mu = \\sqrt{{|k|^2 f^{{-2}} + \\max(m^2, 0)}}$, $m^2 = {}$",
            latex_num(*mass2)
        ),
        Propagator::Numerical => "numerical".to_string(),
    };
    let _ = writeln!(s, "% propagator: {prop}");
    s
}

fn rust(m: &Derived) -> String {
    let sym = |s: &str| s.to_string();
    let mut s = String::new();
    let module = m
        .constants
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>();
    let _ = writeln!(
        s,
        "/// Derived expressions of model `{}` (signature {}).",
        m.constants.name, m.constants.signature
    );
    let _ = writeln!(s, "#[allow(clippy::all, unused)]");
    let _ = writeln!(s, "pub mod {module} {{");
    let _ = writeln!(s, "    pub const D: u32 = {};", m.constants.d);
    let _ = writeln!(s, "    pub const DELTA: f64 = {:?};", m.constants.delta);
    let _ = writeln!(s, "    pub const M2: f64 = {:?};", m.constants.m2);
    let _ = writeln!(s, "    pub const R_IR: f64 = {:?};", m.constants.r_ir);
    let _ = writeln!(s, "    pub const R_UV: f64 = {:?};", m.constants.r_uv);
    let _ = writeln!(s, "    pub const ALPHA: f64 = {:?};", m.constants.alpha);
    let mut func = |name: &str, doc: &str, e: &Expr| {
        let _ = writeln!(s, "    /// {doc}");
        let _ = writeln!(s, "    pub fn {name}(r: f64) -> f64 {{");
        let _ = writeln!(s, "        {}", e.to_rust(&sym));
        let _ = writeln!(s, "    }}");
    };
    func("warp", "f(r)", &m.warp);
    func("omega", "ω(r) = f^d", &m.omega);
    func("omega_prime", "ω'(r)", &m.omega_prime);
    func("friction", "d f'/f", &m.friction);
    func("inv_f2", "f^-2", &m.inv_f2);
    func(
        "backbone_friction",
        "coefficient of π in dπ/dr",
        &m.backbone.friction,
    );
    func(
        "backbone_laplacian",
        "coefficient of |k|² φ in dπ/dr",
        &m.backbone.laplacian,
    );
    func(
        "backbone_mass",
        "coefficient of φ in dπ/dr",
        &m.backbone.mass,
    );
    if let Affine::ClosedForm { u, dr_du, .. } = &m.affine {
        func("affine_u", "u(r)", u);
        func("dr_du", "dr/du = Z ω(r)", dr_du);
    }
    if let Affine::ClosedForm { z, .. } = &m.affine {
        let _ = writeln!(s, "    pub const Z: f64 = {z:?};");
    }
    let _ = writeln!(s, "}}");
    s
}
