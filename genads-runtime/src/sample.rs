//! Sampling (PAPER.md §5.5, Algorithm 2): draw S₀ ~ μ_IR, integrate the flow's t-velocity
//! dS/dt = α·Δr·V_KG(S, r(t)) + R_θ(S, t) from t = 0 to t = 1 with an ODE [`Solver`], in batches
//! so that memory stays bounded. The readout (decoding φ̃(r_UV)) is the codec's job.

use crate::nn::VelocityNet;
use crate::solver::Solver;
use crate::{Error, Modes, Physics, Result, State};
use candle_core::Tensor;
use rand_chacha::ChaCha8Rng;

/// A source of IR-prior batches: `(rng, batch size) → S₀` (the trainer's `Sampler` shape).
pub type PriorFn<'a> = dyn FnMut(&mut ChaCha8Rng, usize) -> Result<State> + 'a;

/// The flow's t-velocity at one scalar time t for a whole batch: the network's residual plus the
/// backbone, `flow::velocity_t(physics, S, t, net(S, t), modes)` (the model's fused kernel
/// when it has one). The residual is [`network_residual`], the same call the training objective
/// fits, so the sampler integrates exactly the field that was trained.
pub fn flow_velocity(
    physics: &dyn Physics,
    net: &dyn VelocityNet,
    modes: &Modes,
    state: &State,
    t: f64,
) -> Result<State> {
    let b = state.phi.dims().first().copied().unwrap_or(0);
    let times = vec![t; b];
    let out = network_residual(physics, net, modes, state, &times)?;
    // Detached: the network's weights are variables, so its output would otherwise carry the
    // autograd graph, and every solver stage would chain onto it — memory (and page faults) grew
    // with each velocity evaluation (2.2 GB for 2,000 points × 80 evaluations).
    let residual = State {
        phi: out.phi.detach(),
        pi: out.pi.detach(),
    };
    crate::flow::velocity_t(physics, state, &times, &residual, modes)
}

/// The network's residual t-velocity R_θ(S, t) at per-sample times `t`, given the backbone's
/// velocity when the network asks for it (a gated network), still attached to autograd. This is
/// the one entry point of a network into the flow: the training objective compares it with the
/// target U_t − α·Δr·V_KG, and [`flow_velocity`] adds it to α·Δr·V_KG when sampling.
pub fn network_residual(
    physics: &dyn Physics,
    net: &dyn VelocityNet,
    modes: &Modes,
    state: &State,
    t: &[f64],
) -> Result<State> {
    let t32: Vec<f32> = t.iter().map(|&x| x as f32).collect();
    let t_tensor = Tensor::from_vec(t32, t.len(), state.phi.device())?;
    let backbone = crate::backbone::backbone_for_net(net, physics, state, t, modes)?;
    Ok(net.forward_with_backbone(state, &t_tensor, backbone.as_ref())?)
}

/// Draws `n` samples in batches of at most `batch`: each batch takes S₀ from `prior` and is
/// integrated from t = 0 to 1 with `velocity`; `on_batch` receives each final state (e.g. to decode
/// it at once). Returns the total number of velocity evaluations (summed over batches).
pub fn sample_each<V, C>(
    prior: &mut PriorFn<'_>,
    mut velocity: V,
    n: usize,
    batch: usize,
    solver: &Solver,
    rng: &mut ChaCha8Rng,
    mut on_batch: C,
) -> Result<usize>
where
    V: FnMut(&State, f64) -> Result<State>,
    C: FnMut(State) -> Result<()>,
{
    if n == 0 || batch == 0 {
        return Err(Error::Invalid(format!(
            "sampling needs n ≥ 1 and batch ≥ 1 (got n = {n}, batch = {batch})"
        )));
    }
    solver.validate()?;
    let mut done = 0;
    let mut nfe = 0;
    while done < n {
        let b = batch.min(n - done);
        let s0 = prior(rng, b)?;
        let got = s0.phi.dims().first().copied().unwrap_or(0);
        if got != b {
            return Err(Error::Invalid(format!(
                "prior returned a batch of {got} for a requested {b}"
            )));
        }
        let (s1, k) = solver.solve(s0, &mut velocity)?;
        nfe += k;
        on_batch(s1)?;
        done += b;
    }
    Ok(nfe)
}

/// Like [`sample_each`] but collects the final states into one state of `n` rows.
pub fn sample_with<V>(
    prior: &mut PriorFn<'_>,
    velocity: V,
    n: usize,
    batch: usize,
    solver: &Solver,
    rng: &mut ChaCha8Rng,
) -> Result<(State, usize)>
where
    V: FnMut(&State, f64) -> Result<State>,
{
    let (mut phis, mut pis) = (Vec::new(), Vec::new());
    let nfe = sample_each(prior, velocity, n, batch, solver, rng, |s| {
        phis.push(s.phi);
        pis.push(s.pi);
        Ok(())
    })?;
    Ok((
        State {
            phi: Tensor::cat(&phis, 0)?,
            pi: Tensor::cat(&pis, 0)?,
        },
        nfe,
    ))
}

/// Samples `n` final bulk states S(t = 1) of a trained model (PAPER.md §5.5): S₀ from `prior`,
/// velocity = [`flow_velocity`] (backbone + network residual), integrated by `solver` in batches of
/// at most `batch`. Returns the states (n rows) and the total NFE.
#[allow(clippy::too_many_arguments)]
pub fn sample_states(
    physics: &dyn Physics,
    net: &dyn VelocityNet,
    prior: &mut PriorFn<'_>,
    n: usize,
    batch: usize,
    solver: &Solver,
    rng: &mut ChaCha8Rng,
    modes: &Modes,
) -> Result<(State, usize)> {
    sample_with(
        prior,
        |s: &State, t: f64| flow_velocity(physics, net, modes, s, t),
        n,
        batch,
        solver,
        rng,
    )
}
