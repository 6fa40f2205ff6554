//! The flow-level dispatch above the physics trait and its implementations: the path sample and
//! training target, and the full velocity, each through the model's fused kernel when it has one,
//! else through `path`, `loss` and `backbone`.

use crate::physics::{Modes, PathSample, Physics, State};
use crate::Result;

/// Path sample (S_t, U_t) and training target U_t − α·Δr·V_KG(S_t, r_t): the model's fused
/// kernel when it has one for these inputs, else `path::sample_path` + `loss::training_target`.
pub fn path_and_target(
    physics: &dyn Physics,
    s0: &State,
    s1: &State,
    t: &[f64],
    modes: &Modes,
) -> Result<(PathSample, State)> {
    if let Some(fused) = physics.fused_path_target(s0, s1, t, modes) {
        return fused;
    }
    let sample = crate::path::sample_path(physics, s0, s1, t)?;
    let target = crate::loss::training_target(physics, &sample, modes)?;
    Ok((sample, target))
}

/// Full t-velocity α·Δr·V_KG(S, r(t)) + residual: the model's fused kernel when it has one for
/// these inputs, else `backbone::full_velocity_t`.
pub fn velocity_t(
    physics: &dyn Physics,
    state: &State,
    t: &[f64],
    residual_t: &State,
    modes: &Modes,
) -> Result<State> {
    if let Some(fused) = physics.fused_velocity_t(state, t, residual_t, modes) {
        return fused;
    }
    crate::backbone::full_velocity_t(physics, state, t, residual_t, modes)
}
