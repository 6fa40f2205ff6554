//! Training objectives: what one step minimises. The flow-matching objective of PAPER.md §5.5
//! draws S₁ from the data, S₀ from the IR prior, t ~ U[0, 1], builds the path sample and the
//! backbone-subtracted target and returns the (ω-weighted) loss of the network's prediction.

use candle_core::Tensor;
use rand_chacha::ChaCha8Rng;

use crate::flow::path_and_target;
use crate::nn::VelocityNet;
use crate::physics::{Modes, Physics, State};
use crate::{Error, Result};

/// The loss of one training step. All randomness must come from `rng` (it is checkpointed, so a
/// resumed run draws the same batches).
pub trait Objective {
    /// A scalar loss tensor, differentiable with respect to the network's variables.
    fn loss(&mut self, net: &dyn VelocityNet, rng: &mut ChaCha8Rng, batch: usize)
        -> Result<Tensor>;
}

impl<F> Objective for F
where
    F: FnMut(&dyn VelocityNet, &mut ChaCha8Rng, usize) -> Result<Tensor>,
{
    fn loss(
        &mut self,
        net: &dyn VelocityNet,
        rng: &mut ChaCha8Rng,
        batch: usize,
    ) -> Result<Tensor> {
        self(net, rng, batch)
    }
}

/// A batch source: `(rng, batch size) → State`.
pub type Sampler<'a> = Box<dyn FnMut(&mut ChaCha8Rng, usize) -> Result<State> + 'a>;

/// Flow matching against a physics model (PAPER.md §5.5).
pub struct FlowObjective<'a> {
    /// The model.
    pub physics: &'a dyn Physics,
    /// |k|² of the state's modes.
    pub modes: &'a Modes,
    /// Encoded data S₁ (the caller encodes).
    pub data: Sampler<'a>,
    /// IR prior S₀.
    pub prior: Sampler<'a>,
}

impl FlowObjective<'_> {
    /// The same draw as [`Objective::loss`], without the network: (path sample state, t, target
    /// U_t − α·Δr·V_KG, r).
    #[allow(clippy::type_complexity)]
    pub fn draw(
        &mut self,
        rng: &mut ChaCha8Rng,
        batch: usize,
    ) -> Result<(State, Vec<f64>, State, Vec<f64>)> {
        let s1 = (self.data)(rng, batch)?;
        let s0 = (self.prior)(rng, batch)?;
        if s1.batch_size()? != batch || s0.batch_size()? != batch {
            return Err(Error::Invalid(format!(
                "data/prior returned batches of {} and {} for a requested {batch}",
                s1.batch_size()?,
                s0.batch_size()?
            )));
        }
        let t = crate::rng::uniform_vec(rng, batch, 0.0, 1.0);
        let (sample, target) = path_and_target(self.physics, &s0, &s1, &t, self.modes)?;
        Ok((sample.state, sample.t, target, sample.r))
    }
}

impl Objective for FlowObjective<'_> {
    fn loss(
        &mut self,
        net: &dyn VelocityNet,
        rng: &mut ChaCha8Rng,
        batch: usize,
    ) -> Result<Tensor> {
        let (state, t, target, r) = self.draw(rng, batch)?;
        let pred = crate::sample::network_residual(self.physics, net, self.modes, &state, &t)?;
        crate::loss::flow_loss(self.physics, &pred, &target, &r)
    }
}
