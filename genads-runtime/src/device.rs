//! Where the networks run: the host CPU (the default) or a CUDA device (cargo feature `cuda`).
//!
//! Only the networks move. The physics (envelopes, coefficients in f64), the encoders, the prior,
//! the path and the solvers' states stay on the host; a network on another device gets its inputs
//! moved there and its outputs moved back ([`OnDevice`]), and candle's `to_device` carries the
//! gradients back across. The custom CPU kernels (convolution, GroupNorm, SiLU, softmax, mode
//! mixing, the fused physics) take candle's own operations for tensors that are not on the CPU.

use crate::nn::VelocityNet;
use crate::{Error, Result, State};
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A device named on the command line: `cpu`, `cuda` (= `cuda:0`) or `cuda:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DeviceChoice {
    /// The host CPU.
    #[default]
    Cpu,
    /// CUDA device N.
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceChoice::Cuda)
                .ok_or_else(|| {
                    format!(
                        "unknown device `{other}` (cpu, cuda, or cuda:N with N a device number)"
                    )
                }),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl DeviceChoice {
    /// Whether this build can open the device at all (CUDA needs the `cuda` feature).
    pub fn supported(self) -> bool {
        match self {
            DeviceChoice::Cpu => true,
            DeviceChoice::Cuda(_) => cfg!(feature = "cuda"),
        }
    }

    /// Opens the device. Without the `cuda` feature a CUDA device is an error that says how to
    /// build with it.
    pub fn open(self) -> Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Cuda(n) => open_cuda(n),
        }
    }
}

#[cfg(feature = "cuda")]
fn open_cuda(n: usize) -> Result<Device> {
    Device::new_cuda(n).map_err(|e| {
        // The driver's reason, without the backtrace candle attaches to it.
        let reason = match e {
            candle_core::Error::WithBacktrace { inner, .. } => inner.to_string(),
            other => other.to_string(),
        };
        Error::Invalid(format!(
            "--device cuda:{n}: cannot open the device (is there an NVIDIA GPU and driver?): {reason}"
        ))
    })
}

#[cfg(not(feature = "cuda"))]
fn open_cuda(n: usize) -> Result<Device> {
    Err(Error::Invalid(format!(
        "--device cuda:{n}: this genads was built without CUDA support; build it with \
         `cargo build --release --features cuda` (docs/gpu.md)"
    )))
}

/// A network whose variables live on `device`, used from host states: inputs are moved to the
/// device, outputs back to the device the inputs came from.
pub struct OnDevice {
    net: Box<dyn VelocityNet>,
    device: Device,
}

impl OnDevice {
    /// Wraps `net`, whose variables are on `device`.
    pub fn new(net: Box<dyn VelocityNet>, device: Device) -> Self {
        Self { net, device }
    }

    /// `net` as it is on the CPU, else wrapped.
    pub fn wrap(net: Box<dyn VelocityNet>, device: &Device) -> Box<dyn VelocityNet> {
        if device.is_cpu() {
            net
        } else {
            Box::new(Self::new(net, device.clone()))
        }
    }

    fn there(&self, state: &State) -> candle_core::Result<State> {
        Ok(State {
            phi: state.phi.to_device(&self.device)?,
            pi: state.pi.to_device(&self.device)?,
        })
    }
}

fn back(state: State, host: &Device) -> candle_core::Result<State> {
    Ok(State {
        phi: state.phi.to_device(host)?,
        pi: state.pi.to_device(host)?,
    })
}

impl VelocityNet for OnDevice {
    fn forward(&self, state: &State, t: &Tensor) -> candle_core::Result<State> {
        let host = state.phi.device().clone();
        let out = self
            .net
            .forward(&self.there(state)?, &t.to_device(&self.device)?)?;
        back(out, &host)
    }

    fn wants_backbone(&self) -> bool {
        self.net.wants_backbone()
    }

    fn forward_with_backbone(
        &self,
        state: &State,
        t: &Tensor,
        backbone: Option<&State>,
    ) -> candle_core::Result<State> {
        let host = state.phi.device().clone();
        let backbone = backbone.map(|b| self.there(b)).transpose()?;
        let out = self.net.forward_with_backbone(
            &self.there(state)?,
            &t.to_device(&self.device)?,
            backbone.as_ref(),
        )?;
        back(out, &host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse_and_print() {
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceChoice::Cuda(3)));
        for bad in ["gpu", "cuda:", "cuda:x", "cuda:-1", "CPU", ""] {
            let err = bad.parse::<DeviceChoice>().unwrap_err();
            assert!(err.contains("cpu, cuda, or cuda:N"), "{bad}: {err}");
        }
        assert_eq!(DeviceChoice::Cuda(2).to_string(), "cuda:2");
        assert_eq!(DeviceChoice::Cpu.to_string(), "cpu");
        assert!(DeviceChoice::Cpu.open().is_ok_and(|d| d.is_cpu()));
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn a_cuda_device_without_the_feature_says_how_to_build_it() {
        assert!(!DeviceChoice::Cuda(0).supported());
        let err = DeviceChoice::Cuda(1).open().unwrap_err().to_string();
        assert!(
            err.contains("--device cuda:1") && err.contains("--features cuda"),
            "{err}"
        );
    }
}
