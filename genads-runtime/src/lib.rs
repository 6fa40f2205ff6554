//! The shared flow-matching runtime of GenAdS: spectral physics, encoders, paths, networks,
//! training, ODE sampling, metrics, checkpoints.

pub mod backbone;
pub mod checkpoint;
pub mod ema;
pub mod envelope;
pub mod prior;
pub mod encode;
pub mod error;
pub mod interpreter;
pub mod loss;
pub mod mnist;
pub mod path;
pub mod nn;
pub mod optim;
pub mod physics;
pub mod special;
pub mod spectral;
pub mod rng;
pub mod solver;
pub mod train;
pub mod data;
pub mod metrics;
pub mod sample;
pub mod plot;
pub mod experiment;

pub use candle_core;
pub use error::{Error, Result};
pub use physics::{Constants, Modes, Physics, RadialCoefficients, State};
