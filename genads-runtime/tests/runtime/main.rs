//! The runtime's integration tests, in one binary (one link instead of twenty: CI disk and time).

mod abi;
mod conv_group_norm;
mod conv_kernels;
mod metrics_checkerboard;
mod metrics_plot;
mod metrics_wasserstein;
mod mnist_bpm;
mod mnist_classifier;
mod mnist_experiment;
mod mnist_metrics;
mod mnist_unet_step;
mod numerics_codec;
mod numerics_envelope;
mod numerics_special;
mod numerics_spectral;
mod physics_common;
mod physics_flow;
mod physics_models;
mod physics_path;
mod solver_convergence;
mod solver_sampling;
mod train_resume;
mod velocity_entry;
