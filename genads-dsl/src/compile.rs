//! The front door: source text to derived models, with every error as a [`Diagnostic`].

use crate::derive::derive;
use crate::derived::{Derived, Encoding, Normalisation, Propagator};
use crate::diagnostics::{clip, Diagnostic, Diagnostics};
use crate::parser::parse;
use crate::validate::{expand_model, Sink, NAME_SHOWN};
use std::collections::BTreeMap;
use std::path::Path;

/// Parse, validate, expand sweeps and derive every model of `source`. `origin` names the source
/// in diagnostics (usually the file path).
pub fn compile(source: &str, origin: &str) -> Result<Vec<Derived>, Diagnostics> {
    let file = parse(source, origin)?;
    let mut sink = Sink {
        source,
        origin,
        errors: Vec::new(),
    };
    if file.models.is_empty() {
        sink.error(
            0..0,
            "no model in this source",
            "a .genads file holds one or more `model name { ... }` blocks",
        );
    }
    let mut out = Vec::new();
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    for model in &file.models {
        for spec in expand_model(model, &mut sink) {
            if let Some(first) = taken.get(&spec.name) {
                let (line, _) = crate::validate::line_col(source, *first);
                sink.error(
                    spec.name_span.clone(),
                    format!("model name `{}` is already taken", clip(&spec.name, NAME_SHOWN)),
                    format!("model names are unique in a file, sweep members included (first at line {line})"),
                );
                continue;
            }
            taken.insert(spec.name.clone(), spec.name_span.start);
            let derived = derive(&spec);
            if derived.normalisation == Normalisation::Reference
                && !matches!(derived.constants.propagator, Propagator::Ads { .. })
            {
                sink.error(
                    spec.normalisation_span.clone().unwrap_or(spec.name_span.clone()),
                    format!("`normalisation reference` needs an AdS warp (model `{}`)", clip(&spec.name, NAME_SHOWN)),
                    "the authors' DC normalisation quirk is defined for the AdS envelope ξ^ν K_ν(ξ) only",
                );
                continue;
            }
            if let Some((span, message, rule)) = uv_finite(&derived) {
                sink.error(span, message, rule);
                continue;
            }
            out.push(derived);
        }
    }
    if sink.errors.is_empty() {
        Ok(out)
    } else {
        sink.errors.sort_by_key(|d| d.span.start);
        Err(Diagnostics(sink.errors))
    }
}

/// The numerical propagator normalises the mode function at the UV boundary, which needs model
/// variables that stay finite there: a massless field, or stabilised variables
/// φ̃ = e^((d−Δ)r) φ on a warp with AdS asymptotics of radius L = 1 (for L ≠ 1 the field falls
/// off as e^(−(d−Δ)r/L) and φ̃ still grows or decays). What training would refuse with "the mode
/// function does not settle at the UV boundary" is refused here, at the field statement.
fn uv_finite(m: &Derived) -> Option<(std::ops::Range<usize>, String, String)> {
    if m.constants.encoding != Encoding::Propagator
        || m.constants.propagator != Propagator::Numerical
        || m.constants.m2 == 0.0
    {
        return None;
    }
    let unit = m.ads_radius.is_some_and(|l| (l - 1.0).abs() <= 1e-9);
    if m.constants.stabilised && unit {
        return None;
    }
    let why = match (m.constants.stabilised, m.ads_radius) {
        (false, _) => "raw variables of a massive field fall off or grow at the boundary".to_string(),
        (true, Some(l)) => format!(
            "the warp's AdS radius is L = {} (f'/f → {} at the boundary): φ̃ = e^((d-Δ)r) φ is finite at the boundary only for L = 1",
            crate::validate::short(l),
            crate::validate::short(1.0 / l)
        ),
        (true, None) => "the warp has no AdS boundary (f'/f does not settle to a positive limit): φ̃ = e^((d-Δ)r) φ does not settle there".to_string(),
    };
    Some((
        m.spans.field.clone(),
        format!("the numerical propagator of model `{}` cannot be normalised at the UV boundary", clip(&m.constants.name, NAME_SHOWN)),
        format!("{why}; use a massless field, or stabilised variables on a warp with f'/f → 1 (rescale r)"),
    ))
}

/// [`compile`] the file at `path`; an unreadable file becomes a diagnostic too.
pub fn compile_file(path: &Path) -> Result<Vec<Derived>, Diagnostics> {
    let origin = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(source) => compile(&source, &origin),
            Err(e) => Err(Diagnostic::whole_file(
                &origin,
                format!(
                    "file is not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
            .into()),
        },
        Err(e) => Err(Diagnostic::whole_file(&origin, format!("cannot read file: {e}")).into()),
    }
}

/// Pick one model: the named one, or the only one. The error lists the available names.
pub fn select(models: Vec<Derived>, name: Option<&str>) -> Result<Derived, String> {
    let names = || {
        models
            .iter()
            .map(|m| m.constants.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(n) => match models.iter().position(|m| m.constants.name == n) {
            Some(i) => Ok(models.into_iter().nth(i).ok_or_else(String::new)?),
            None => Err(format!("no model named `{n}`; available: {}", names())),
        },
        None if models.len() == 1 => models.into_iter().next().ok_or_else(String::new),
        None if models.is_empty() => Err("no models".to_string()),
        None => Err(format!(
            "several models, choose one with --model: {}",
            names()
        )),
    }
}
