//! Network and training presets.
//!
//! * `Paper`: the published architectures (PAPER.md §6.1/6.2) and hyper-parameters (§6.4).
//! * `Quick` (the default) and `Small`: CPU presets with higher learning rates; EMA starts early
//!   with a short horizon because quick runs are only thousands of steps long.
//!   - Point states (the physics-free baseline): an MLP over the point and its Fourier features,
//!     batch 1024, lr 3e-3.
//!   - Spectral point-source states (the checkerboard's holographic models): `Quick` uses the
//!     source-mixture network ([`super::mixture`], [`MixtureConfig::QUICK`]), batch 64.
//!   - Image states: the U-Net, in pixel space for the CPU presets.
//! * `Lattice`: `Quick` with the boundary-source posterior network ([`super::source`]) for
//!   spectral point-source states; opt-in, since its prior starts at the data's histogram and its
//!   samples sit on its lattice.
//!
//! Models with a Klein–Gordon backbone get the network's backbone gate
//! ([`NetConfig::for_backbone`], set by `genads train`). The measurements behind each choice, with
//! their commands, are in docs/networks.md (the holographic checkerboard networks, and the
//! baseline's MLP under "The physics-free baseline") and docs/mnist.md (images).

use serde::{Deserialize, Serialize};

use super::cnn::CnnConfig;
use super::mixture::MixtureConfig;
use super::mlp::MlpConfig;
use super::source::SourceConfig;
use super::StateKind;
use crate::nn::unet::UNetConfig;

/// A named network + training preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Minutes on a CPU (default).
    #[default]
    Quick,
    /// A bigger CPU preset (tens of minutes).
    Small,
    /// The paper's architectures and settings (10.6M parameters, batch 64).
    Paper,
    /// `quick` with the boundary-source posterior network ([`super::source`]) for point-source
    /// states: a softmax over a fixed 96 × 96 lattice of candidate sources whose prior is
    /// initialised from the training data's histogram, so its samples sit on the lattice. Opt-in
    /// only: not a neural velocity field in the sense of the other presets, and not used by any
    /// study. Other states get `quick`'s networks.
    Lattice,
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Preset::Quick => "quick",
            Preset::Small => "small",
            Preset::Paper => "paper",
            Preset::Lattice => "lattice",
        })
    }
}

impl std::str::FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "quick" => Ok(Preset::Quick),
            "small" => Ok(Preset::Small),
            "paper" => Ok(Preset::Paper),
            "lattice" => Ok(Preset::Lattice),
            other => Err(format!(
                "unknown preset `{other}` (expected quick, small, paper or lattice)"
            )),
        }
    }
}

/// A velocity-network architecture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum NetConfig {
    /// The residual CNN (spectral states only).
    Cnn(CnnConfig),
    /// The MLP over flattened states.
    Mlp(MlpConfig),
    /// The MNIST U-Net (PAPER.md §6.3; spectral image states only).
    #[serde(rename = "unet")]
    UNet(UNetConfig),
    /// The boundary-source posterior network (point-source spectral states only).
    Source(SourceConfig),
    /// The source-mixture network (point-source spectral states only).
    Mixture(MixtureConfig),
}

impl NetConfig {
    /// The architecture's name, as its `kind` in JSON (mlp, cnn, unet, source, mixture).
    pub fn kind_name(&self) -> &'static str {
        match self {
            NetConfig::Cnn(_) => "cnn",
            NetConfig::Mlp(_) => "mlp",
            NetConfig::UNet(_) => "unet",
            NetConfig::Source(_) => "source",
            NetConfig::Mixture(_) => "mixture",
        }
    }

    /// This architecture for a model with (`true`) or without a Klein–Gordon backbone: the source
    /// network gates the backbone ([`SourceConfig::backbone_gate`]) exactly when there is one;
    /// other networks are unchanged.
    pub fn for_backbone(self, backbone: bool) -> NetConfig {
        match self {
            NetConfig::Source(cfg) => NetConfig::Source(SourceConfig {
                backbone_gate: backbone,
                ..cfg
            }),
            NetConfig::Mixture(cfg) => NetConfig::Mixture(MixtureConfig {
                backbone_gate: backbone,
                ..cfg
            }),
            other => other,
        }
    }
}

/// Training hyper-parameters a preset recommends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PresetTraining {
    /// Batch size.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// EMA decay.
    pub ema_decay: f64,
    /// First step at which the EMA averages (before: it copies the weights).
    pub ema_start: u64,
}

impl Preset {
    /// The architecture of this preset for a state kind.
    pub fn net_config(self, kind: StateKind) -> NetConfig {
        match (self, kind) {
            (Preset::Paper, StateKind::Spectral { .. }) => NetConfig::Cnn(CnnConfig::PAPER),
            (Preset::Paper, StateKind::Points { .. }) => NetConfig::Mlp(MlpConfig::PAPER),
            (Preset::Small, StateKind::Spectral { .. }) => NetConfig::Cnn(CnnConfig {
                hidden: 32,
                depth: 2,
                time_dim: 64,
                time_scale: 1000,
                groups: 8,
            }),
            (Preset::Small, StateKind::Points { .. }) => NetConfig::Mlp(MlpConfig {
                hidden: 512,
                depth: 4,
                time_dim: 64,
                time_scale: 1000,
                fourier_octaves: 0,
            }),
            (Preset::Quick, StateKind::Spectral { .. }) => NetConfig::Mixture(MixtureConfig::QUICK),
            (Preset::Lattice, StateKind::Spectral { .. }) => NetConfig::Source(SourceConfig {
                grid: 96,
                support_percent: 60,
                hidden: 256,
                time_dim: 64,
                time_scale: 1000,
                backbone_gate: false,
                sub_cell: false,
                grid_bias_scale: 2.5,
            }),
            (Preset::Quick | Preset::Lattice, StateKind::Points { .. }) => {
                NetConfig::Mlp(MlpConfig {
                    hidden: 128,
                    depth: 4,
                    time_dim: 64,
                    time_scale: 1000,
                    fourier_octaves: 4,
                })
            }
        }
    }

    /// The training hyper-parameters of this preset for a state kind: point states are cheap per
    /// sample, so the CPU presets train them with a wider batch.
    pub fn training_for(self, kind: StateKind) -> PresetTraining {
        let base = self.training();
        match (self, kind) {
            (Preset::Quick, StateKind::Spectral { .. }) => PresetTraining {
                batch_size: 64,
                ..base
            },
            (Preset::Quick | Preset::Small | Preset::Lattice, StateKind::Points { .. }) => {
                PresetTraining {
                    batch_size: 1024,
                    lr: 3e-3,
                    ..base
                }
            }
            _ => base,
        }
    }

    /// The training hyper-parameters of this preset (spectral states).
    pub fn training(self) -> PresetTraining {
        match self {
            Preset::Paper => PresetTraining {
                batch_size: 64,
                lr: 3e-4,
                ema_decay: 0.9999,
                ema_start: 1000,
            },
            Preset::Small => PresetTraining {
                batch_size: 256,
                lr: 1e-3,
                ema_decay: 0.999,
                ema_start: 500,
            },
            Preset::Quick | Preset::Lattice => PresetTraining {
                batch_size: 256,
                lr: 2e-3,
                ema_decay: 0.995,
                ema_start: 200,
            },
        }
    }
}

/// Image presets (MNIST, Fashion-MNIST: spectral image states (B, 2, 28, 28)).
///
/// * `Paper`: the paper's U-Net (13,449,668 parameters), batch 128, lr 3e-4, EMA 0.9999 from step
///   1000, 1500 epochs (PAPER.md §6.3/6.4). It convolves over the Fourier-mode grid, as published.
/// * `Quick` (default): the U-Net of width 16, depth 2 (`UNetConfig::preset(Quick)`, 215,604
///   parameters) in pixel space ([`UNetConfig::pixel`]), batch 32, lr 1e-3.
/// * `Small`: the U-Net of width 32, depth 3 (`UNetConfig::preset(Small)`) in pixel space, batch
///   32, lr 1e-3.
///
/// Chosen by measurement on the 2-core machine (docs/mnist.md): in 10 minutes of one thread the
/// pixel-space width-16 U-Net (≈ 2,850 steps of batch 32) reaches classifier-FID ≈ 225 on 500
/// samples, where the previous default, an MLP 1024 × 3 over the flattened spectral state, was at
/// FID 600–950 after 1,500 steps of batch 128 (15 minutes); convolutions over the Fourier-mode grid
/// have no useful locality for images.
impl Preset {
    /// The architecture of this preset for 28×28 image states.
    pub fn image_net_config(self) -> NetConfig {
        match self {
            Preset::Paper => NetConfig::UNet(UNetConfig::PAPER),
            Preset::Small => NetConfig::UNet(UNetConfig {
                pixel: true,
                ..UNetConfig::preset(Preset::Small)
            }),
            Preset::Quick | Preset::Lattice => NetConfig::UNet(UNetConfig {
                pixel: true,
                ..UNetConfig::preset(Preset::Quick)
            }),
        }
    }

    /// The training hyper-parameters of this preset for images.
    pub fn image_training(self) -> PresetTraining {
        match self {
            Preset::Paper => PresetTraining {
                batch_size: 128,
                lr: 3e-4,
                ema_decay: 0.9999,
                ema_start: 1000,
            },
            Preset::Small => PresetTraining {
                batch_size: 32,
                lr: 1e-3,
                ema_decay: 0.995,
                ema_start: 100,
            },
            Preset::Quick | Preset::Lattice => PresetTraining {
                batch_size: 32,
                lr: 1e-3,
                ema_decay: 0.995,
                ema_start: 100,
            },
        }
    }
}
