//! The checkerboard CNN `ResidualVelocityNet2DSimple` (PAPER.md §6.1), with its width, depth and
//! time-embedding size as parameters (the paper: hidden 64, depth 3, time embedding 128).
//!
//! concat[φ̃, π̃] → Conv3×3(2c_in → h) + time MLP(t) → encoder blocks (Conv3×3 s2 → GN → SiLU →
//! Conv3×3 → GN → SiLU, channels doubling, spatial halving; each block's input is kept as a skip)
//! → middle (Conv3×3 → GN → SiLU) → decoder blocks (ConvT k4 s2 p1 → GN → SiLU → Conv3×3 → GN →
//! SiLU, + skip) → Conv3×3(h → 2c_in, or c_in for Hermite paths).

use candle_core::{Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder};
use serde::{Deserialize, Serialize};

use super::activation::silu;
use super::conv::{Conv2d, ConvTranspose2d};
use super::group_norm::GroupNorm;
use super::layers::{conv2d, conv_transpose2d, group_norm, linear};
use super::time_embedding::{SinusoidalEmbedding, MAX_PERIOD};
use super::{split_output, VelocityNet};
use crate::State;

/// Hyper-parameters of the CNN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CnnConfig {
    /// Hidden width h of the first level (channels double per encoder level).
    pub hidden: usize,
    /// Number of encoder (and decoder) blocks.
    pub depth: usize,
    /// Sinusoidal time-embedding dimension.
    pub time_dim: usize,
    /// The embedding sees `time_scale·t` (paper: 1).
    #[serde(default = "super::one")]
    pub time_scale: u32,
    /// GroupNorm groups.
    pub groups: usize,
}

impl CnnConfig {
    /// The paper's checkerboard CNN (10.6M parameters).
    pub const PAPER: CnnConfig = CnnConfig {
        hidden: 64,
        depth: 3,
        time_dim: 128,
        time_scale: 1,
        groups: 8,
    };

    /// Checks that the network fits a state of `modes`×`modes` spatial points.
    pub fn validate(&self, modes: usize) -> std::result::Result<(), String> {
        super::check_sizes(
            "CNN",
            &[
                ("hidden width", self.hidden, super::MAX_WIDTH),
                ("depth", self.depth, super::MAX_DEPTH),
                ("time-embedding size", self.time_dim, super::MAX_WIDTH),
            ],
        )?;
        if self.hidden == 0 || self.depth == 0 || self.groups == 0 {
            return Err("CNN hidden width, depth and groups must be positive".into());
        }
        if !self.hidden.is_multiple_of(self.groups) {
            return Err(format!(
                "CNN hidden width {} is not divisible by the {} GroupNorm groups",
                self.hidden, self.groups
            ));
        }
        let scale = 1usize << self.depth.min(20);
        if modes == 0 || !modes.is_multiple_of(scale) {
            return Err(format!(
                "a CNN of depth {} needs the mode count to be a multiple of {scale}, got {modes}",
                self.depth
            ));
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

struct EncoderBlock {
    down: Conv2d,
    gn1: GroupNorm,
    conv: Conv2d,
    gn2: GroupNorm,
}

impl EncoderBlock {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = silu(&self.gn1.forward(&self.down.forward(x)?)?)?;
        silu(&self.gn2.forward(&self.conv.forward(&x)?)?)
    }
}

struct DecoderBlock {
    up: ConvTranspose2d,
    gn1: GroupNorm,
    conv: Conv2d,
    gn2: GroupNorm,
}

impl DecoderBlock {
    fn forward(&self, x: &Tensor, skip: &Tensor) -> Result<Tensor> {
        let x = silu(&self.gn1.forward(&self.up.forward(x)?)?)?;
        let x = silu(&self.gn2.forward(&self.conv.forward(&x)?)?)?;
        x + skip
    }
}

/// The residual velocity CNN over spectral states (B, c_in, K, K) per component.
pub struct CnnNet {
    embedding: SinusoidalEmbedding,
    time1: Linear,
    time2: Linear,
    input: Conv2d,
    encoder: Vec<EncoderBlock>,
    middle: Conv2d,
    middle_gn: GroupNorm,
    decoder: Vec<DecoderBlock>,
    output: Conv2d,
    hidden: usize,
    hermite: bool,
}

impl CnnNet {
    /// Builds the network for `channels` channels per component (2C, Re/Im interleaved).
    /// The configuration must have been validated against the mode count.
    pub fn new(cfg: &CnnConfig, channels: usize, hermite: bool, vb: VarBuilder) -> Result<Self> {
        let h = cfg.hidden;
        let g = cfg.groups;
        let embedding = SinusoidalEmbedding::scaled(
            cfg.time_dim,
            MAX_PERIOD,
            f64::from(cfg.time_scale),
            vb.device(),
        )?;
        let time1 = linear(vb.pp("time.0"), cfg.time_dim, 4 * h)?;
        let time2 = linear(vb.pp("time.1"), 4 * h, h)?;
        let input = conv2d(vb.pp("input"), 2 * channels, h, 3, 1, 1)?;
        let mut encoder = Vec::with_capacity(cfg.depth);
        let mut c = h;
        for i in 0..cfg.depth {
            let vb = vb.pp(format!("enc.{i}"));
            encoder.push(EncoderBlock {
                down: conv2d(vb.pp("down"), c, 2 * c, 3, 2, 1)?,
                gn1: group_norm(vb.pp("gn1"), g, 2 * c)?,
                conv: conv2d(vb.pp("conv"), 2 * c, 2 * c, 3, 1, 1)?,
                gn2: group_norm(vb.pp("gn2"), g, 2 * c)?,
            });
            c *= 2;
        }
        let middle = conv2d(vb.pp("mid.conv"), c, c, 3, 1, 1)?;
        let middle_gn = group_norm(vb.pp("mid.gn"), g, c)?;
        let mut decoder = Vec::with_capacity(cfg.depth);
        for i in 0..cfg.depth {
            let vb = vb.pp(format!("dec.{i}"));
            decoder.push(DecoderBlock {
                up: conv_transpose2d(vb.pp("up"), c, c / 2, 4, 2, 1)?,
                gn1: group_norm(vb.pp("gn1"), g, c / 2)?,
                conv: conv2d(vb.pp("conv"), c / 2, c / 2, 3, 1, 1)?,
                gn2: group_norm(vb.pp("gn2"), g, c / 2)?,
            });
            c /= 2;
        }
        let out_ch = if hermite { channels } else { 2 * channels };
        let output = conv2d(vb.pp("output"), h, out_ch, 3, 1, 1)?;
        Ok(Self {
            embedding,
            time1,
            time2,
            input,
            encoder,
            middle,
            middle_gn,
            decoder,
            output,
            hidden: h,
            hermite,
        })
    }
}

impl VelocityNet for CnnNet {
    fn forward(&self, state: &State, t: &Tensor) -> Result<State> {
        let b = state.phi.dim(0)?;
        let temb = self.embedding.forward(t)?;
        let temb = self.time2.forward(&silu(&self.time1.forward(&temb)?)?)?;
        let x = Tensor::cat(&[&state.phi, &state.pi], 1)?;
        let mut h =
            self.input
                .forward(&x)?
                .broadcast_add(&temb.reshape((b, self.hidden, 1, 1))?)?;
        let mut skips = Vec::with_capacity(self.encoder.len());
        for block in &self.encoder {
            let next = block.forward(&h)?;
            skips.push(h);
            h = next;
        }
        h = silu(&self.middle_gn.forward(&self.middle.forward(&h)?)?)?;
        for (block, skip) in self.decoder.iter().zip(skips.iter().rev()) {
            h = block.forward(&h, skip)?;
        }
        let out = self.output.forward(&h)?;
        split_output(out, &state.phi, self.hermite)
    }
}
