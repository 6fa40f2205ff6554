//! Velocity networks (candle-nn): the paper's checkerboard CNN and MLP, CPU presets, seeded init.
//!
//! A network maps a state S_t = (φ̃, π̃) and normalised times t ∈ [0, 1] to t-velocities of the
//! same shapes. For Hermite paths the network only predicts the π̃ velocity and returns zeros for
//! φ̃ (PAPER.md §5.3). Build one with [`build_net`] over a `VarBuilder` of a `VarMap`, then call
//! [`init_seeded`] on the `VarMap` (candle's own initialisers are not seedable on CPU).

pub mod activation;
pub mod cnn;
pub mod conv;
mod cpu_f32;
pub mod group_norm;
pub mod layers;
pub mod mixture;
pub mod mlp;
pub mod mode_mix;
pub mod peak;
pub mod presets;
pub mod source;
pub mod time_embedding;
pub mod unet;

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

pub use cnn::{CnnConfig, CnnNet};
pub use layers::{init_seeded, parameter_count};
pub use mixture::{MixtureConfig, MixtureNet};
pub use mlp::{MlpConfig, MlpNet};
pub use presets::{NetConfig, Preset, PresetTraining};
pub use source::{SourceConfig, SourceNet};
pub use time_embedding::SinusoidalEmbedding;

use crate::State;

/// Serde default of the time scales.
fn one() -> u32 {
    1
}

/// A velocity network: (S_t, t) ↦ t-velocity of S.
pub trait VelocityNet: Send {
    /// `state` components of shape (B, …), `t` of shape (B,) f32 in [0, 1]; returns the predicted
    /// t-velocities (φ̃ part all zeros for Hermite paths).
    fn forward(&self, state: &State, t: &Tensor) -> Result<State>;

    /// Whether [`VelocityNet::forward_with_backbone`] uses the backbone's velocity (callers skip
    /// computing it otherwise).
    fn wants_backbone(&self) -> bool {
        false
    }

    /// [`VelocityNet::forward`] given the backbone's t-velocity α·Δr·V_KG(S_t, r(t)) at the same
    /// state (`None` for models without a backbone). The default ignores it.
    fn forward_with_backbone(
        &self,
        state: &State,
        t: &Tensor,
        backbone: Option<&State>,
    ) -> Result<State> {
        let _ = backbone;
        self.forward(state, t)
    }
}

/// The shape of the states a network sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StateKind {
    /// Spectral states (B, channels, modes, modes) per component; `channels` = 2C (Re/Im).
    Spectral {
        /// Channels of one component (Re/Im interleaved), 4 for the checkerboard.
        channels: usize,
        /// Modes per spatial dimension K.
        modes: usize,
    },
    /// Point states (B, dim) per component.
    Points {
        /// Dimension of one component.
        dim: usize,
    },
}

impl StateKind {
    /// Elements of one component per sample.
    pub fn component_len(&self) -> usize {
        match *self {
            StateKind::Spectral { channels, modes } => channels * modes * modes,
            StateKind::Points { dim } => dim,
        }
    }

    /// The shape of one component of a batch of `b` states.
    pub fn batch_shape(&self, b: usize) -> Vec<usize> {
        match *self {
            StateKind::Spectral { channels, modes } => vec![b, channels, modes, modes],
            StateKind::Points { dim } => vec![b, dim],
        }
    }
}

/// Largest layer width (hidden units, channels, embedding sizes) a network configuration accepts:
/// 32× the widest preset (256), and small enough that a mistyped `--net` is refused before it
/// allocates gigabytes.
pub const MAX_WIDTH: usize = 8_192;
/// Deepest network a configuration accepts (the presets use at most 6 layers).
pub const MAX_DEPTH: usize = 64;

/// Refuses a size of a network configuration above its bound, naming the field, the bound and why.
pub fn check_sizes(net: &str, sizes: &[(&str, usize, usize)]) -> std::result::Result<(), String> {
    for &(field, value, max) in sizes {
        if value > max {
            return Err(format!(
                "{net}: {field} {value} is above the limit of {max} (sizes far beyond the presets' would allocate gigabytes)"
            ));
        }
    }
    Ok(())
}

/// The gate coefficient β with which a network's residual subtracts the backbone at time `t`, per
/// element of the π̃ component (the residual is R − β ⊙ V_KG): probed as R(0, t) − R(0, t; V_KG = 1),
/// exact for networks affine in the backbone they are given. `None` for networks that take no
/// backbone ([`VelocityNet::wants_backbone`]).
pub fn backbone_gate_coefficients(
    net: &dyn VelocityNet,
    kind: StateKind,
    t: f32,
    device: &candle_core::Device,
) -> Result<Option<Vec<f32>>> {
    if !net.wants_backbone() {
        return Ok(None);
    }
    let shape = kind.batch_shape(1);
    let zeros = Tensor::zeros(shape.as_slice(), candle_core::DType::F32, device)?;
    let ones = Tensor::ones(shape.as_slice(), candle_core::DType::F32, device)?;
    let state = State {
        phi: zeros.clone(),
        pi: zeros,
    };
    let unit = State {
        phi: ones.clone(),
        pi: ones,
    };
    let t = Tensor::new(&[t], device)?;
    let bare = net.forward(&state, &t)?;
    let gated = net.forward_with_backbone(&state, &t, Some(&unit))?;
    Ok(Some((bare.pi - gated.pi)?.flatten_all()?.to_vec1::<f32>()?))
}

/// Why a network could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The architecture does not fit the state kind.
    #[error("network {net:?} does not fit states {kind:?}: {reason}")]
    Mismatch {
        /// The architecture.
        net: Box<NetConfig>,
        /// The states.
        kind: StateKind,
        /// What is wrong.
        reason: String,
    },
    /// The architecture is invalid whatever the states (a zero or oversized width, …).
    #[error("invalid network configuration: {0}")]
    Invalid(String),
    /// A tensor operation failed while building.
    #[error("building the network: {0}")]
    Tensor(#[from] candle_core::Error),
}

/// Builds the network of `preset` for `kind`.
pub fn build_net(
    preset: Preset,
    kind: StateKind,
    hermite: bool,
    vb: VarBuilder,
) -> std::result::Result<Box<dyn VelocityNet>, NetError> {
    build_from_config(&preset.net_config(kind), kind, hermite, vb)
}

/// Builds a network from an explicit architecture.
pub fn build_from_config(
    net: &NetConfig,
    kind: StateKind,
    hermite: bool,
    vb: VarBuilder,
) -> std::result::Result<Box<dyn VelocityNet>, NetError> {
    let mismatch = |reason: String| NetError::Mismatch {
        net: Box::new(*net),
        kind,
        reason,
    };
    if kind.component_len() == 0 {
        return Err(mismatch("the state has no elements".into()));
    }
    match (net, kind) {
        (NetConfig::Cnn(cfg), StateKind::Spectral { channels, modes }) => {
            cfg.validate(modes).map_err(mismatch)?;
            Ok(Box::new(CnnNet::new(cfg, channels, hermite, vb)?))
        }
        (NetConfig::Cnn(_), StateKind::Points { .. }) => Err(mismatch(
            "the CNN needs spectral states; use an MLP for point states".into(),
        )),
        (NetConfig::UNet(cfg), StateKind::Spectral { channels, .. }) => {
            cfg.validate().map_err(NetError::Invalid)?;
            if !channels.is_multiple_of(2) {
                return Err(mismatch(format!(
                    "the U-Net needs Re/Im channel pairs, got {channels} channels"
                )));
            }
            Ok(Box::new(crate::nn::unet::UNet::new(
                cfg, channels, hermite, vb,
            )?))
        }
        (NetConfig::UNet(_), StateKind::Points { .. }) => Err(mismatch(
            "the U-Net needs spectral image states; use an MLP for point states".into(),
        )),
        (NetConfig::Source(cfg), StateKind::Spectral { channels, modes }) => {
            cfg.validate().map_err(NetError::Invalid)?;
            if channels == 0 || !channels.is_multiple_of(2) {
                return Err(mismatch(format!(
                    "the source net needs Re/Im channel pairs, got {channels} channels"
                )));
            }
            Ok(Box::new(SourceNet::new(cfg, channels, modes, hermite, vb)?))
        }
        (NetConfig::Mixture(cfg), StateKind::Spectral { channels, modes }) => {
            cfg.validate().map_err(NetError::Invalid)?;
            if channels == 0 || !channels.is_multiple_of(2) {
                return Err(mismatch(format!(
                    "the mixture net needs Re/Im channel pairs, got {channels} channels"
                )));
            }
            Ok(Box::new(MixtureNet::new(
                cfg, channels, modes, hermite, vb,
            )?))
        }
        (NetConfig::Mixture(_), StateKind::Points { .. }) => Err(mismatch(
            "the mixture net needs point-source spectral states; use an MLP for point states"
                .into(),
        )),
        (NetConfig::Source(_), StateKind::Points { .. }) => Err(mismatch(
            "the source net needs point-source spectral states; use an MLP for point states".into(),
        )),
        (NetConfig::Mlp(cfg), kind) => {
            cfg.validate().map_err(NetError::Invalid)?;
            Ok(Box::new(MlpNet::new(
                cfg,
                kind.component_len(),
                hermite,
                vb,
            )?))
        }
    }
}

/// Splits a (B, 2c, …) network output into (φ̃, π̃) halves along axis 1, or, for Hermite paths,
/// returns (0, output).
pub(crate) fn split_output(out: Tensor, phi: &Tensor, hermite: bool) -> Result<State> {
    if hermite {
        return Ok(State {
            phi: phi.zeros_like()?,
            pi: out,
        });
    }
    let c = out.dim(1)? / 2;
    Ok(State {
        phi: out.narrow(1, 0, c)?,
        pi: out.narrow(1, c, c)?,
    })
}

/// Largest absolute element-wise difference of two f32 tensors (unit tests).
#[cfg(test)]
pub(crate) fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_configurations_are_refused_before_anything_is_allocated() {
        let dev = Device::Cpu;
        let spectral = StateKind::Spectral {
            channels: 4,
            modes: 16,
        };
        let huge = 10_000_000;
        let cases = [
            (
                NetConfig::Mlp(MlpConfig {
                    hidden: huge,
                    ..MlpConfig::PAPER
                }),
                StateKind::Points { dim: 2 },
            ),
            (
                NetConfig::Mixture(MixtureConfig {
                    components: huge,
                    ..MixtureConfig::QUICK
                }),
                spectral,
            ),
            (
                NetConfig::UNet(crate::nn::unet::UNetConfig {
                    time_dim: huge,
                    ..crate::nn::unet::UNetConfig::PAPER
                }),
                spectral,
            ),
        ];
        for (cfg, kind) in cases {
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
            match build_from_config(&cfg, kind, false, vb) {
                Err(NetError::Invalid(reason)) => {
                    assert!(reason.contains("above the limit"), "{reason}")
                }
                Err(e) => panic!("{cfg:?}: wrong error {e}"),
                Ok(_) => panic!("{cfg:?} was built"),
            }
            assert!(vm.all_vars().is_empty(), "{cfg:?} allocated variables");
        }
    }
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    fn count(net: NetConfig, kind: StateKind, hermite: bool) -> usize {
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        build_from_config(&net, kind, hermite, vb).unwrap();
        parameter_count(&vm)
    }

    #[test]
    fn paper_parameter_counts() {
        let spectral = StateKind::Spectral {
            channels: 4,
            modes: 16,
        };
        let points = StateKind::Points { dim: 2 };
        assert_eq!(
            count(Preset::Paper.net_config(spectral), spectral, false),
            10_599_176
        );
        assert_eq!(
            count(Preset::Paper.net_config(spectral), spectral, true),
            10_596_868
        );
        assert_eq!(
            count(Preset::Paper.net_config(points), points, false),
            10_601_588
        );
    }

    #[test]
    fn shapes_and_hermite_zeros() {
        let dev = Device::Cpu;
        let kind = StateKind::Spectral {
            channels: 4,
            modes: 8,
        };
        let cfg = NetConfig::Cnn(CnnConfig {
            hidden: 8,
            depth: 2,
            time_dim: 8,
            time_scale: 1,
            groups: 4,
        });
        for hermite in [false, true] {
            let vm = VarMap::new();
            let net = build_from_config(
                &cfg,
                kind,
                hermite,
                VarBuilder::from_varmap(&vm, DType::F32, &dev),
            )
            .unwrap();
            init_seeded(&vm, 3).unwrap();
            let phi = Tensor::ones((2, 4, 8, 8), DType::F32, &dev).unwrap();
            let s = State {
                phi: phi.clone(),
                pi: phi,
            };
            let t = Tensor::new(&[0.1f32, 0.9], &dev).unwrap();
            let v = net.forward(&s, &t).unwrap();
            assert_eq!(v.phi.dims(), &[2, 4, 8, 8]);
            assert_eq!(v.pi.dims(), &[2, 4, 8, 8]);
            let phi_abs = v
                .phi
                .abs()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert_eq!(phi_abs == 0.0, hermite);
        }
        // Mode count not divisible by 2^depth, CNN on points: typed errors.
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
        let bad = StateKind::Spectral {
            channels: 4,
            modes: 6,
        };
        assert!(matches!(
            build_from_config(&cfg, bad, false, vb.clone()),
            Err(NetError::Mismatch { .. })
        ));
        assert!(build_from_config(&cfg, StateKind::Points { dim: 2 }, false, vb).is_err());
    }

    #[test]
    fn seeded_init_is_deterministic_and_pytorch_like() {
        let kind = StateKind::Points { dim: 2 };
        let cfg = NetConfig::Mlp(MlpConfig {
            hidden: 16,
            depth: 2,
            time_dim: 8,
            time_scale: 1,
            fourier_octaves: 0,
        });
        let values = |seed| {
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
            build_from_config(&cfg, kind, false, vb).unwrap();
            init_seeded(&vm, seed).unwrap();
            let data = vm.data().lock().unwrap();
            data["layers.0.weight"]
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        let a = values(7);
        assert_eq!(a, values(7));
        assert_ne!(a, values(8));
        // fan_in = 2 + 2 + 8 = 12: every weight in ±1/√12 and the spread fills the interval.
        let bound = 1.0 / 12f32.sqrt();
        assert!(a.iter().all(|w| w.abs() <= bound));
        let max = a.iter().fold(0f32, |m, w| m.max(w.abs()));
        assert!(max > 0.8 * bound);
    }

    #[test]
    fn mlp_points_forward() {
        let dev = Device::Cpu;
        let kind = StateKind::Points { dim: 2 };
        let vm = VarMap::new();
        let net = build_net(
            Preset::Quick,
            kind,
            false,
            VarBuilder::from_varmap(&vm, DType::F32, &dev),
        )
        .unwrap();
        init_seeded(&vm, 1).unwrap();
        let phi = Tensor::zeros((3, 2), DType::F32, &dev).unwrap();
        let s = State {
            phi: phi.clone(),
            pi: phi,
        };
        let t = Tensor::zeros(3, DType::F32, &dev).unwrap();
        let v = net.forward(&s, &t).unwrap();
        assert_eq!(v.phi.dims(), &[3, 2]);
        assert_eq!(v.pi.dims(), &[3, 2]);
    }
}
