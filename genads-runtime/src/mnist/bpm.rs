//! Likelihood by the instantaneous change of variables, and bits per mode (PAPER.md §7.2).
//!
//! Sign. A flow dS/dt = v(S, t) transports its density by the continuity equation
//! ∂ₜp + ∇·(p v) = 0. Along a trajectory, d/dt log p(S_t, t) = ∂ₜ log p + v·∇log p = −∇·v. Hence
//!
//!   log p₁(S₁) = log p₀(S₀) − ∫₀¹ (∇·v)(S_t, t) dt,
//!
//! where S₀ is found by integrating the ODE backward from the data S₁ at t = 1 to t = 0. The
//! backward pass accumulates I = ∫₀¹ ∇·v dt (each step of size |dt| adds ∇·v·|dt|) and returns
//! log p₀(S₀) − I. (The authors' code adds I instead; PAPER.md §10 item 12. A linear flow with a
//! known Gaussian push-forward pins the sign in the tests.) The divergence comes from a
//! vector-Jacobian product: ∇·v ≈ εᵀ(∂v/∂S)ε = ∇_S(ε·v)·ε (Hutchinson, E[εεᵀ] = I), or exactly
//! with one VJP per component for small states.
//!
//! BPM = −log p / (D ln 2), with D the number of real components of φ̃ (the paper: 2·28·28 = 1568,
//! although the density is over the whole phase space (φ̃, π̃)).

use super::{MnistError, Result};
use crate::rng::{seeded, Rng};
use candle_core::{DType, Tensor, Var};
use rand::Rng as _;

/// A velocity field in flow time: (S of shape (B, …), t) ↦ dS/dt of the same shape. Samples must
/// not interact (no batch statistics), so that the divergence of the summed field is per sample.
pub type Field<'a> = dyn Fn(&Tensor, f64) -> candle_core::Result<Tensor> + 'a;

/// How ∇·v is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Divergence {
    /// Hutchinson's estimator with this many Rademacher probes per evaluation (the paper: 1).
    Hutchinson {
        /// Probes averaged per evaluation.
        probes: usize,
    },
    /// The exact trace, one VJP per component (small states only).
    Exact,
}

/// Fixed-step integrator of the augmented ODE (S, I).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stepper {
    /// Explicit Euler (the paper's choice for BPM).
    Euler,
    /// Classical Runge-Kutta 4 (the probes are held fixed within a step).
    Rk4,
}

/// Settings of the likelihood integration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LikelihoodConfig {
    /// Steps from t = 1 to t = 0 (the paper: 100).
    pub steps: usize,
    /// Integrator.
    pub stepper: Stepper,
    /// Divergence computation.
    pub divergence: Divergence,
    /// Seed of the probes.
    pub seed: u64,
}

impl Default for LikelihoodConfig {
    /// The paper's settings: Euler, 100 steps, one Hutchinson probe, seed 0.
    fn default() -> Self {
        Self {
            steps: 100,
            stepper: Stepper::Euler,
            divergence: Divergence::Hutchinson { probes: 1 },
            seed: 0,
        }
    }
}

fn rademacher(rng: &mut Rng, like: &Tensor) -> Result<Tensor> {
    let n = like.elem_count();
    let v: Vec<f32> = (0..n)
        .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
        .collect();
    Ok(Tensor::from_vec(v, like.shape(), like.device())?)
}

/// Per-sample sum over all non-batch axes, as f64.
fn per_sample_sum(x: &Tensor) -> Result<Vec<f64>> {
    Ok(x.flatten_from(1)?
        .sum(1)?
        .to_dtype(DType::F64)?
        .to_vec1::<f64>()?)
}

/// v(S, t) and the per-sample divergence estimate with the given probes (empty = exact).
fn field_and_div(
    field: &Field<'_>,
    s: &Tensor,
    t: f64,
    probes: &[Tensor],
) -> Result<(Tensor, Vec<f64>)> {
    let var = Var::from_tensor(&s.detach())?;
    let v = field(var.as_tensor(), t)?;
    if v.shape() != s.shape() {
        return Err(MnistError::Invalid(format!(
            "velocity shape {:?} differs from the state shape {:?}",
            v.dims(),
            s.dims()
        )));
    }
    let b = s.dim(0)?;
    let mut div = vec![0.0; b];
    let vjp = |eps: &Tensor| -> Result<Vec<f64>> {
        let grads = (&v * eps)?.sum_all()?.backward()?;
        let g = grads.get(var.as_tensor()).ok_or_else(|| {
            MnistError::Invalid("the velocity does not depend on the state".into())
        })?;
        per_sample_sum(&(g * eps)?)
    };
    if probes.is_empty() {
        let d = s.elem_count() / b;
        for j in 0..d {
            let mut e = vec![0f32; s.elem_count()];
            for i in 0..b {
                e[i * d + j] = 1.0;
            }
            let eps = Tensor::from_vec(e, s.shape(), s.device())?;
            for (acc, x) in div.iter_mut().zip(vjp(&eps)?) {
                *acc += x;
            }
        }
    } else {
        for eps in probes {
            for (acc, x) in div.iter_mut().zip(vjp(eps)?) {
                *acc += x / probes.len() as f64;
            }
        }
    }
    Ok((v.detach(), div))
}

/// log p₁(x) for data states `x1` (B, …) under the flow `field` with prior log-density `log_prior`
/// (per sample), by integrating backward from t = 1 to t = 0. Returns one value per sample.
pub fn log_likelihood(
    field: &Field<'_>,
    x1: &Tensor,
    log_prior: &dyn Fn(&Tensor) -> Result<Vec<f64>>,
    cfg: &LikelihoodConfig,
) -> Result<Vec<f64>> {
    if cfg.steps == 0 {
        return Err(MnistError::Invalid(
            "likelihood needs at least one step".into(),
        ));
    }
    if let Divergence::Hutchinson { probes: 0 } = cfg.divergence {
        return Err(MnistError::Invalid(
            "Hutchinson needs at least one probe".into(),
        ));
    }
    let mut rng = seeded(cfg.seed);
    let b = x1.dim(0)?;
    let h = 1.0 / cfg.steps as f64; // |dt|
    let mut s = x1.to_dtype(DType::F32)?.detach();
    let mut integral = vec![0.0f64; b];
    for k in 0..cfg.steps {
        let t = 1.0 - k as f64 * h;
        let probes: Vec<Tensor> = match cfg.divergence {
            Divergence::Exact => Vec::new(),
            Divergence::Hutchinson { probes } => (0..probes)
                .map(|_| rademacher(&mut rng, &s))
                .collect::<Result<_>>()?,
        };
        // backward in time: dS = −v·h
        match cfg.stepper {
            Stepper::Euler => {
                let (v, div) = field_and_div(field, &s, t, &probes)?;
                s = (&s - (v * h)?)?;
                for (acc, d) in integral.iter_mut().zip(div) {
                    *acc += h * d;
                }
            }
            Stepper::Rk4 => {
                let (k1, d1) = field_and_div(field, &s, t, &probes)?;
                let s2 = (&s - (&k1 * (h / 2.0))?)?;
                let (k2, d2) = field_and_div(field, &s2, t - h / 2.0, &probes)?;
                let s3 = (&s - (&k2 * (h / 2.0))?)?;
                let (k3, d3) = field_and_div(field, &s3, t - h / 2.0, &probes)?;
                let s4 = (&s - (&k3 * h)?)?;
                let (k4, d4) = field_and_div(field, &s4, t - h, &probes)?;
                let incr = ((k1 + (k2 * 2.0)?)? + ((k3 * 2.0)? + k4)?)?;
                s = (&s - (incr * (h / 6.0))?)?;
                for i in 0..b {
                    integral[i] += h / 6.0 * (d1[i] + 2.0 * d2[i] + 2.0 * d3[i] + d4[i]);
                }
            }
        }
    }
    let lp0 = log_prior(&s)?;
    if lp0.len() != b {
        return Err(MnistError::Invalid(format!(
            "prior returned {} values for {b} samples",
            lp0.len()
        )));
    }
    Ok(lp0.iter().zip(&integral).map(|(l, i)| l - i).collect())
}

/// Log-density of independent centred Gaussians with per-component variances `var` (one per
/// non-batch element), per sample.
pub fn gaussian_log_density(x: &Tensor, var: &[f64]) -> Result<Vec<f64>> {
    let b = x.dim(0)?;
    let d = x.elem_count() / b.max(1);
    if var.len() != d || var.iter().any(|v| v.is_nan() || *v <= 0.0) {
        return Err(MnistError::Invalid(format!(
            "prior: {} positive variances needed, got {}",
            d,
            var.len()
        )));
    }
    let xs = x.to_dtype(DType::F64)?.flatten_from(1)?.to_vec2::<f64>()?;
    let norm: f64 = var
        .iter()
        .map(|v| (2.0 * std::f64::consts::PI * v).ln())
        .sum();
    Ok(xs
        .iter()
        .map(|row| -0.5 * (row.iter().zip(var).map(|(x, v)| x * x / v).sum::<f64>() + norm))
        .collect())
}

/// Bits per mode of log-likelihoods: mean of −log p / (D ln 2).
pub fn bits_per_mode(log_p: &[f64], modes: usize) -> Result<f64> {
    if log_p.is_empty() || modes == 0 {
        return Err(MnistError::Invalid("bits per mode of nothing".into()));
    }
    let mean = log_p.iter().sum::<f64>() / log_p.len() as f64;
    Ok(-mean / (modes as f64 * std::f64::consts::LN_2))
}

/// Joins a phase-space state (φ̃, π̃) into one tensor along axis 1, so a [`Field`] can act on it.
pub fn join_state(s: &crate::State) -> Result<Tensor> {
    Ok(Tensor::cat(&[&s.phi, &s.pi], 1)?)
}

/// Splits a tensor made by [`join_state`] back into (φ̃, π̃) halves of axis 1.
pub fn split_state(x: &Tensor) -> Result<crate::State> {
    let c = x.dim(1)?;
    if c % 2 != 0 {
        return Err(MnistError::Invalid(format!(
            "a joined state needs an even axis 1, got {c}"
        )));
    }
    Ok(crate::State {
        phi: x.narrow(1, 0, c / 2)?,
        pi: x.narrow(1, c / 2, c / 2)?,
    })
}
