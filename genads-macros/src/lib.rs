//! `genads_model!`: compiles a `.genads` model into a specialised type implementing the runtime's
//! physics trait.

use proc_macro::TokenStream;

/// Compile a model (`file = "…"` or inline source) into a physics type. Not implemented yet:
/// expands to a compile error saying so.
#[proc_macro]
pub fn genads_model(_input: TokenStream) -> TokenStream {
    "compile_error!(\"genads_model! is not implemented yet\");".parse().unwrap()
}
