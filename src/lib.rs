//! GenAdS: holographic generative flows. Facade re-exporting the language, the runtime and the macro.

pub use genads_dsl as dsl;
pub use genads_macros::genads_model;
pub use genads_runtime as runtime;

pub mod run;

/// Ablation studies: study files, cells, local runs, Slurm scripts, aggregation and reports.
pub mod study;
