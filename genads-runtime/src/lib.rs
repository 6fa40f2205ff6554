//! The shared flow-matching runtime of GenAdS: spectral physics, encoders, paths, networks,
//! training, ODE sampling, metrics, checkpoints.

pub mod backbone;
pub mod checkpoint;
pub mod ema;
pub mod envelope;
pub mod error;
pub mod interpreter;
pub mod loss;
pub mod mnist;
pub mod nn;
pub mod path;
pub mod optim;
pub mod physics;
pub mod rng;
pub mod special;
pub mod spectral;
pub mod solver;
pub mod train;
pub mod data;
pub mod metrics;
pub mod sample;

pub use candle_core;
pub use error::{Error, Result};
pub use physics::{Constants, Modes, Physics, RadialCoefficients, State};
