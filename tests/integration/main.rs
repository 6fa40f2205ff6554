//! The CLI's, DSL's, macro's and studies' integration tests, in one
//! binary (one link instead of eleven).

mod bad_inputs;
mod cli_robustness;
mod dsl_cli;
mod dsl_explain_snapshots;
mod dsl_zoo;
mod geometry_identity;
mod library_api;
mod macro_common;
mod macro_equivalence;
mod macro_inline;
mod macro_training;
mod mnist_cli;
mod study_collect;
mod study_e2e;
mod study_spec;
