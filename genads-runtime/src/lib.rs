//! The shared flow-matching runtime of GenAdS: spectral physics, encoders, paths, networks,
//! training, ODE sampling, metrics, checkpoints.

pub mod abi;
pub mod backbone;
pub mod checkpoint;
pub mod data;
pub mod device;
pub mod ema;
pub mod encode;
pub mod envelope;
pub mod error;
pub mod experiment;
pub mod flow;
pub mod interpreter;
pub mod loss;
pub mod metrics;
pub mod mnist;
pub mod nn;
pub mod optim;
pub mod path;
pub mod physics;
pub mod plot;
pub mod prior;
pub mod rng;
pub mod sample;
pub mod solver;
pub mod special;
pub mod spectral;
pub mod train;

pub use candle_core;
pub use error::{Error, Result};
pub use physics::{Constants, Modes, Physics, RadialCoefficients, State};
