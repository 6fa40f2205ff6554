//! Compile-fail tests pinning the error messages of `genads_model!` (trybuild). Each case file
//! holds several invocations, to keep the number of compiled crates (and CI time) small.
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p genads-macros --test macro_ui`. They live in genads-macros so that
//! trybuild compiles only the light front-end dependencies, not candle.

#[test]
fn macro_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
