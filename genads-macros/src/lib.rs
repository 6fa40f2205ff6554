//! `genads_model!`: compiles a `.genads` model into a specialised type implementing the runtime's
//! physics trait (`genads::runtime::Physics`).
//!
//! All mathematics comes from `genads-dsl` (parsing, validation, derivation, and the lowering to
//! the typed IR `genads_dsl::ir`); `genads-codegen` writes the IR as tokens with `quote!`. This
//! crate only reads the input, maps errors to spans and adds the `CompiledModel` impl.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2, TokenTree};

mod inline;
mod options;

use options::Options;

/// Compiles a GenAdS model into a unit struct implementing the runtime's `Physics` trait.
///
/// Two forms:
///
/// ```ignore
/// // A file, relative to the calling crate's CARGO_MANIFEST_DIR; editing it rebuilds the crate.
/// genads_model!(file = "models/ads_kg_hermite.genads");
/// // One model of a file with several (e.g. a sweep), with an explicit type name.
/// genads_model!(file = "models/delta_sweep.genads", model = "delta_sweep_delta2", name = Delta2);
/// // Inline source: the same syntax as a .genads file.
/// genads_model! {
///     model tiny { boundary 2 warp exp(r) radial 0 -> 1 field delta 1.5
///                  backbone klein_gordon stabilised path linear }
/// }
/// ```
///
/// Options, written `key = value` and separated by `,` (file form) or `;` (inline form, before
/// the first `model`):
///
/// * `file = "path"`: the model file (file form only).
/// * `model = "NAME"`: which model when the source defines several (required then).
/// * `name = TypeName`: the generated type's name; default: the model name in UpperCamelCase
///   (`ads_kg_hermite` → `AdsKgHermite`, `hsv_p0.25` → `HsvP0_25`).
/// * `crate = path`: where the runtime crate is; default `::genads::runtime` (the facade).
///   Use `crate = ::genads_runtime` from a crate that depends on the runtime directly.
///
/// The type has associated consts `SIGNATURE` (the derived signature, equal to
/// `Derived::signature`) and `NAME`. DSL errors become `compile_error!`s: at the offending token
/// for inline source, at the `file = "…"` literal (with file:line:col) for files.
#[proc_macro]
pub fn genads_model(input: TokenStream) -> TokenStream {
    match expand(input.into()) {
        Ok(ts) => ts.into(),
        Err(errors) => errors.into(),
    }
}

/// A `compile_error!` at `span`.
fn error_at(span: Span, message: &str) -> TokenStream2 {
    syn::Error::new(span, message).to_compile_error()
}

fn expand(input: TokenStream2) -> Result<TokenStream2, TokenStream2> {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let (options, rest) = options::parse(&tokens).map_err(|e| e.to_compile_error())?;
    match &options.file {
        Some(file) => {
            if let Some(first) = rest.first() {
                return Err(error_at(
                    first.span(),
                    "unexpected tokens after the options of `genads_model!(file = \"…\")`",
                ));
            }
            expand_file(&options, file)
        }
        None => {
            if rest.is_empty() {
                return Err(error_at(
                    Span::call_site(),
                    "genads_model! needs `file = \"path.genads\"` or inline model source",
                ));
            }
            expand_inline(&options, rest)
        }
    }
}

fn expand_file(options: &Options, file: &syn::LitStr) -> Result<TokenStream2, TokenStream2> {
    let relative = file.value();
    let path = resolve(&relative).ok_or_else(|| {
        error_at(
            file.span(),
            &format!(
                "cannot read `{relative}`: no such file relative to CARGO_MANIFEST_DIR or to the invoking source file"
            ),
        )
    })?;
    let source = std::fs::read_to_string(&path)
        .map_err(|e| error_at(file.span(), &format!("cannot read `{relative}`: {e}")))?;
    let models = genads_dsl::compile(&source, &relative).map_err(|diagnostics| {
        let mut errors = TokenStream2::new();
        for d in diagnostics.iter() {
            // `file:line:col: message`, then the source line with a caret and the rule.
            let rendered = d.to_string();
            let detail = rendered.split_once('\n').map_or("", |(_, rest)| rest);
            let detail: Vec<&str> = detail.lines().skip(1).collect();
            let message = format!("{}\n{}", d.short(), detail.join("\n"));
            errors.extend(error_at(file.span(), message.trim_end()));
        }
        errors
    })?;
    let model_span = options.model.as_ref().map_or(file.span(), |m| m.span());
    let derived = select(models, options.model.as_ref(), model_span)?;
    let code = generate(options, &derived, &source, &relative)?;
    let absolute = path.canonicalize().unwrap_or(path);
    let absolute = absolute.to_string_lossy();
    Ok(quote::quote! {
        const _: &str = ::core::include_str!(#absolute);
        #code
    })
}

/// `relative` resolved against CARGO_MANIFEST_DIR of the calling crate, else against the directory
/// of the source file holding the invocation (e.g. trybuild's copies of test crates); `None` when
/// neither exists.
fn resolve(relative: &str) -> Option<std::path::PathBuf> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(std::path::PathBuf::from);
    let first = manifest
        .unwrap_or_else(|| std::path::PathBuf::from("."))
        .join(relative);
    if first.is_file() {
        return Some(first);
    }
    let local = Span::call_site().unwrap().local_file()?;
    let second = local.parent()?.join(relative);
    second.is_file().then_some(second)
}

fn expand_inline(options: &Options, rest: &[TokenTree]) -> Result<TokenStream2, TokenStream2> {
    let rebuilt = inline::Rebuilt::new(rest);
    let origin = rest
        .first()
        .map(|t| t.span().unwrap().file())
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "<inline>".to_string());
    let models = genads_dsl::compile(&rebuilt.source, &origin).map_err(|diagnostics| {
        let mut errors = TokenStream2::new();
        for d in diagnostics.iter() {
            let span = rebuilt.span_at(d.span.start);
            let mut message = d.message.clone();
            if let Some(rule) = &d.rule {
                message.push_str(&format!("\n  = rule: {rule}"));
            }
            errors.extend(error_at(span, &message));
        }
        if errors.is_empty() {
            errors = error_at(Span::call_site(), &diagnostics.to_string());
        }
        errors
    })?;
    let model_span = options
        .model
        .as_ref()
        .map_or(Span::call_site(), |m| m.span());
    let derived = select(models, options.model.as_ref(), model_span)?;
    generate(options, &derived, &rebuilt.source, "<inline>")
}

fn select(
    models: Vec<genads_dsl::Derived>,
    model: Option<&syn::LitStr>,
    span: Span,
) -> Result<genads_dsl::Derived, TokenStream2> {
    let name = model.map(|m| m.value());
    if name.is_none() && models.len() > 1 {
        let names: Vec<&str> = models.iter().map(|m| m.constants.name.as_str()).collect();
        return Err(error_at(
            span,
            &format!(
                "the source defines several models ({}): choose one with `model = \"NAME\"`",
                names.join(", ")
            ),
        ));
    }
    genads_dsl::select(models, name.as_deref()).map_err(|e| error_at(span, &e))
}

/// The physics impl of `derived`, and its `CompiledModel` impl carrying `source` (the text it was
/// compiled from) and `origin`.
fn generate(
    options: &Options,
    derived: &genads_dsl::Derived,
    source: &str,
    origin: &str,
) -> Result<TokenStream2, TokenStream2> {
    let type_name = options.name.as_ref().map_or_else(
        || genads_dsl::ir::type_name_for(&derived.constants.name),
        |n| n.to_string(),
    );
    let runtime = options
        .runtime
        .clone()
        .unwrap_or_else(|| quote::quote!(::genads::runtime));
    let span = options
        .name
        .as_ref()
        .map_or(Span::call_site(), |n| n.span());
    let ir =
        genads_dsl::ir::lower(derived, &type_name).map_err(|e| error_at(span, &e.to_string()))?;
    let code = genads_codegen::model_tokens(&ir, &runtime);
    let ty = syn::Ident::new(&type_name, span);
    let (name, signature) = (&derived.constants.name, &derived.constants.signature);
    Ok(quote::quote! {
        #code
        impl #runtime::abi::CompiledModel for #ty {
            const NAME: &'static str = #name;
            const SIGNATURE: &'static str = #signature;
            const SOURCE: &'static str = #source;
            const ORIGIN: &'static str = #origin;
        }
    })
}
