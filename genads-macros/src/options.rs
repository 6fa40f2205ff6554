//! The `key = value` options in front of a `genads_model!` invocation.

use proc_macro2::{Delimiter, TokenStream as TokenStream2, TokenTree};

/// Options of one invocation (see the macro's documentation).
#[derive(Default)]
pub(crate) struct Options {
    /// `file = "…"`.
    pub file: Option<syn::LitStr>,
    /// `model = "…"`.
    pub model: Option<syn::LitStr>,
    /// `name = TypeName`.
    pub name: Option<syn::Ident>,
    /// `crate = path`.
    pub runtime: Option<TokenStream2>,
}

fn is_punct(t: Option<&TokenTree>, c: char) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// Parses leading options; returns them and the remaining tokens (inline source, if any).
pub(crate) fn parse(tokens: &[TokenTree]) -> syn::Result<(Options, &[TokenTree])> {
    let mut options = Options::default();
    let mut i = 0;
    while let Some(TokenTree::Ident(key)) = tokens.get(i) {
        let key_name = key.to_string();
        if !is_punct(tokens.get(i + 1), '=')
            || !matches!(key_name.as_str(), "file" | "model" | "name" | "crate")
        {
            if is_punct(tokens.get(i + 1), '=') {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown option `{key_name}` (expected `file`, `model`, `name` or `crate`)"
                    ),
                ));
            }
            break;
        }
        let value_at = i + 2;
        let Some(value) = tokens.get(value_at) else {
            return Err(syn::Error::new(
                key.span(),
                format!("option `{key_name}` needs a value"),
            ));
        };
        let duplicate = || syn::Error::new(key.span(), format!("option `{key_name}` given twice"));
        i = value_at + 1;
        match key_name.as_str() {
            "file" | "model" => {
                let lit: syn::LitStr = syn::parse2(value.clone().into())?;
                let slot = if key_name == "file" {
                    &mut options.file
                } else {
                    &mut options.model
                };
                if slot.replace(lit).is_some() {
                    return Err(duplicate());
                }
            }
            "name" => {
                let ident: syn::Ident = syn::parse2(value.clone().into())?;
                if options.name.replace(ident).is_some() {
                    return Err(duplicate());
                }
            }
            _ => {
                // crate = a path: tokens up to `,` / `;` (a `::` is two joint `:`).
                let mut end = value_at;
                while let Some(t) = tokens.get(end) {
                    if is_punct(Some(t), ',') || is_punct(Some(t), ';') {
                        break;
                    }
                    if let TokenTree::Group(g) = t {
                        if g.delimiter() == Delimiter::Brace {
                            break;
                        }
                    }
                    end += 1;
                }
                let path: TokenStream2 = tokens[value_at..end].iter().cloned().collect();
                syn::parse2::<syn::Path>(path.clone())?;
                if options.runtime.replace(path).is_some() {
                    return Err(duplicate());
                }
                i = end;
            }
        }
        if is_punct(tokens.get(i), ',') || is_punct(tokens.get(i), ';') {
            i += 1;
        }
    }
    Ok((options, &tokens[i..]))
}
