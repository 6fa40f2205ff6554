//! The MLP velocity network `ResidualVelocityNet` (PAPER.md §6.2), over flattened states.
//!
//! Input [flatten(φ̃), flatten(π̃), sinusoidal t-embedding] → Linear → SiLU, then
//! (depth − 1) × [Linear → SiLU], then Linear to 2n (n = elements of one component per sample; n for
//! Hermite paths). The paper's baseline: points of dimension 2, hidden 1442, depth 6, time 128
//! (10,601,588 parameters). The same network serves spectral states by flattening them.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder};
use serde::{Deserialize, Serialize};

use super::layers::linear;
use super::time_embedding::{SinusoidalEmbedding, MAX_PERIOD};
use super::VelocityNet;
use crate::State;

/// Hyper-parameters of the MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Hidden width.
    pub hidden: usize,
    /// Number of hidden layers (each Linear → SiLU), the first one included.
    pub depth: usize,
    /// Sinusoidal time-embedding dimension.
    pub time_dim: usize,
    /// The embedding sees `time_scale·t` (paper: 1).
    #[serde(default = "super::one")]
    pub time_scale: u32,
}

impl MlpConfig {
    /// The paper's parameter-matched MLP baseline.
    pub const PAPER: MlpConfig = MlpConfig {
        hidden: 1442,
        depth: 6,
        time_dim: 128,
        time_scale: 1,
    };

    /// Checks the configuration.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.hidden == 0 || self.depth == 0 {
            return Err("MLP hidden width and depth must be positive".into());
        }
        if self.time_scale == 0 {
            return Err("time scale must be positive".into());
        }
        if self.time_dim == 0 || !self.time_dim.is_multiple_of(2) {
            return Err(format!(
                "time-embedding size must be even, got {}",
                self.time_dim
            ));
        }
        Ok(())
    }
}

/// The MLP velocity network.
pub struct MlpNet {
    embedding: SinusoidalEmbedding,
    layers: Vec<Linear>,
    output: Linear,
    /// Elements of one state component per sample.
    n: usize,
    hermite: bool,
}

impl MlpNet {
    /// Builds the MLP for states whose components hold `n` elements per sample.
    pub fn new(cfg: &MlpConfig, n: usize, hermite: bool, vb: VarBuilder) -> Result<Self> {
        let embedding = SinusoidalEmbedding::scaled(
            cfg.time_dim,
            MAX_PERIOD,
            f64::from(cfg.time_scale),
            vb.device(),
        )?;
        let mut layers = Vec::with_capacity(cfg.depth);
        let mut width = 2 * n + cfg.time_dim;
        for i in 0..cfg.depth {
            layers.push(linear(vb.pp(format!("layers.{i}")), width, cfg.hidden)?);
            width = cfg.hidden;
        }
        let out = if hermite { n } else { 2 * n };
        let output = linear(vb.pp("output"), width, out)?;
        Ok(Self {
            embedding,
            layers,
            output,
            n,
            hermite,
        })
    }
}

impl VelocityNet for MlpNet {
    fn forward(&self, state: &State, t: &Tensor) -> Result<State> {
        let b = state.phi.dim(0)?;
        let phi = state.phi.reshape((b, self.n))?;
        let pi = state.pi.reshape((b, self.n))?;
        let temb = self.embedding.forward(t)?;
        let mut h = Tensor::cat(&[&phi, &pi, &temb], 1)?;
        for layer in &self.layers {
            h = layer.forward(&h)?.silu()?;
        }
        let out = self.output.forward(&h)?;
        let shape = state.phi.shape();
        if self.hermite {
            Ok(State {
                phi: state.phi.zeros_like()?,
                pi: out.reshape(shape)?,
            })
        } else {
            Ok(State {
                phi: out.narrow(1, 0, self.n)?.reshape(shape)?,
                pi: out.narrow(1, self.n, self.n)?.reshape(shape)?,
            })
        }
    }
}
