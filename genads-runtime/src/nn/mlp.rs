//! The MLP velocity network `ResidualVelocityNet` (PAPER.md §6.2), over flattened states.
//!
//! Input [flatten(φ̃), flatten(π̃), sinusoidal t-embedding] → Linear → SiLU, then
//! (depth − 1) × [Linear → SiLU], then Linear to 2n (n = elements of one component per sample; n for
//! Hermite paths). The paper's baseline: points of dimension 2, hidden 1442, depth 6, time 128
//! (10,601,588 parameters). The same network serves spectral states by flattening them.
//!
//! Optional Fourier features (`fourier_octaves = m > 0`, CPU presets for point states): every input
//! coordinate x is also fed as sin(2^j π x), cos(2^j π x) for j < m. A plain MLP on raw 2-D
//! coordinates is spectrally biased towards smooth fields and learns the sharp cell edges of the
//! checkerboard slowly; with these features the same width reaches a given boundary violation in a
//! fraction of the steps (measured in the presets' documentation).

use candle_core::{Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder};
use serde::{Deserialize, Serialize};

use super::activation::silu;
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
    /// Octaves of input Fourier features (0: raw inputs only, as in the paper).
    #[serde(default)]
    pub fourier_octaves: u32,
}

impl MlpConfig {
    /// The paper's parameter-matched MLP baseline.
    pub const PAPER: MlpConfig = MlpConfig {
        hidden: 1442,
        depth: 6,
        time_dim: 128,
        time_scale: 1,
        fourier_octaves: 0,
    };

    /// Checks the configuration.
    pub fn validate(&self) -> std::result::Result<(), String> {
        super::check_sizes(
            "MLP",
            &[
                ("hidden width", self.hidden, super::MAX_WIDTH),
                ("depth", self.depth, super::MAX_DEPTH),
                ("time-embedding size", self.time_dim, super::MAX_WIDTH),
            ],
        )?;
        if self.hidden == 0 || self.depth == 0 {
            return Err("MLP hidden width and depth must be positive".into());
        }
        if self.time_scale == 0 {
            return Err("time scale must be positive".into());
        }
        if self.fourier_octaves > 16 {
            return Err(format!(
                "at most 16 Fourier-feature octaves (2^16 π is far beyond f32 resolution), got {}",
                self.fourier_octaves
            ));
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
    /// Fourier-feature frequencies 2^j π, each repeated for the 2n inputs: (1, octaves·2n), or None.
    fourier: Option<Tensor>,
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
        let octaves = cfg.fourier_octaves as usize;
        let fourier = if octaves == 0 {
            None
        } else {
            let freqs: Vec<f32> = (0..octaves)
                .flat_map(|j| {
                    std::iter::repeat_n((std::f64::consts::PI * 2f64.powi(j as i32)) as f32, 2 * n)
                })
                .collect();
            Some(Tensor::from_vec(freqs, (1, octaves * 2 * n), vb.device())?)
        };
        let mut width = 2 * n * (1 + 2 * octaves) + cfg.time_dim;
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
            fourier,
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
        let mut h = match &self.fourier {
            None => Tensor::cat(&[&phi, &pi, &temb], 1)?,
            Some(freqs) => {
                let x = Tensor::cat(&[&phi, &pi], 1)?;
                let octaves = freqs.dim(1)? / x.dim(1)?;
                let args = x.repeat((1, octaves))?.broadcast_mul(freqs)?;
                Tensor::cat(&[&x, &args.sin()?, &args.cos()?, &temb], 1)?
            }
        };
        for layer in &self.layers {
            h = silu(&layer.forward(&h)?)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    fn net(octaves: u32) -> (MlpNet, VarMap) {
        let cfg = MlpConfig {
            hidden: 8,
            depth: 1,
            time_dim: 4,
            time_scale: 1,
            fourier_octaves: octaves,
        };
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        (MlpNet::new(&cfg, 2, false, vb).unwrap(), vm)
    }

    /// The first layer sees 2n·(1 + 2m) + time_dim inputs; the features are sin/cos(2^j π x).
    #[test]
    fn fourier_features_widen_the_input_with_octave_frequencies() {
        let (plain, _) = net(0);
        let (ff, _) = net(3);
        assert_eq!(plain.layers[0].weight().dims(), &[8, 4 + 4]);
        assert_eq!(ff.layers[0].weight().dims(), &[8, 4 * 7 + 4]);
        // Frequencies 2^j π for octave j, one per input coordinate (φ̃ and π̃, n = 2 each).
        let freqs = ff.fourier.as_ref().unwrap().to_vec2::<f32>().unwrap();
        let expected: Vec<f32> = (0..3)
            .flat_map(|j| [std::f32::consts::PI * (1 << j) as f32; 4])
            .collect();
        assert_eq!(freqs[0], expected);
        let cfg_err = MlpConfig {
            hidden: 8,
            depth: 1,
            time_dim: 4,
            time_scale: 1,
            fourier_octaves: 17,
        };
        assert!(cfg_err.validate().is_err());
    }
}
