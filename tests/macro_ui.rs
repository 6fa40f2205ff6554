//! Compile-fail tests pinning the error messages of `genads_model!` (trybuild). Each case file
//! holds several invocations, to keep the number of compiled crates (and CI time) small.
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test macro_ui`.

#[test]
fn macro_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
