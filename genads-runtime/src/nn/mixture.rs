//! The source-mixture network for point-source spectral states: the default network of the
//! checkerboard's holographic models.
//!
//! A point-source state holds, per channel and mode k, env(k)·e^(−i k·(x* − x_min)) (PAPER.md
//! §4.1). For a path affine in its endpoints with Gaussian noise and a backbone linear per mode,
//! the exact flow-matching velocity is affine per mode in the state and in the posterior mean of
//! the source's phase factor ū(k) = E[e^(−i k·(x* − x_min)) | S_t] (the characteristic function of
//! the posterior over the source position). This network has that form with every ingredient
//! learned and nothing taken from the data:
//!
//! * a time MLP gives per-(channel, mode) gains γ^φ, γ^π and affine heads A, B (and the optional
//!   backbone gate β);
//! * the gains weight the state into one spectrum y = Σ_c γ^φ_c φ̃_c + γ^π_c π̃_c, whose
//!   correlation with the point-source templates on a G×G grid of positions (the pixel-space view
//!   of the state) is standardised per sample and read by an MLP;
//! * the MLP outputs a Gaussian mixture over the source position: M weights, continuous means
//!   and widths; ū is its characteristic function, Σ_m w_m e^(−i k·(μ_m − x_min)) e^(−|k|²σ_m²/2),
//!   in closed form;
//! * optionally (`anchored`, from `anchor_from` on) some components are placed relative to the
//!   likelihood's peak x̂ ([`super::peak`]): late in the flow the posterior is a narrow peak at x̂,
//!   which an MLP regressing positions from a coarse image only approximates (it pulls samples
//!   towards the cell centres), while early on x̂ is a peak of the noise, so those components are
//!   switched off before `anchor_from`;
//! * velocity_{X,c,k} = A^{Xφ}_{c,k}(t) φ̃_{c,k} + A^{Xπ}_{c,k}(t) π̃_{c,k} + B^X_{c,k}(t) ū_k
//!   for X ∈ {φ̃, π̃} (Hermite paths: π̃ only), minus β ⊙ the backbone's velocity with the gate.
//!
//! The grid only samples the network's input features; where samples land is decided by the
//! mixture's continuous means. The affine and ū heads start at zero, so the untrained residual
//! is zero and the flow starts as the model's own physics (the backbone, if any); the gate β
//! starts at 0 (no cancellation) and `genads eval` prints what it learned. The heads are
//! preconditioned by the linear path's time structure (A, B like 1/(1 − t), the gains like
//! t/(1 − t)²), which other paths only reshape. Measurements behind the preset: docs/networks.md.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder};
use serde::{Deserialize, Serialize};

use super::activation::silu;
use super::layers::linear;
use super::mode_mix::{mode_affine, weighted_spectrum};
use super::peak::{image_maxima, PeakFinder};
use super::source::{correlation, softmax_composed, Factors};
use super::time_embedding::{SinusoidalEmbedding, MAX_PERIOD};
use super::VelocityNet;
use crate::spectral::fft_indices;
use crate::State;

/// Regularises 1/(1 − t) at t = 1 in the velocity coefficients.
const SINGULAR_EPS: f64 = 0.01;

/// Regularises t/(1 − t)² in the gains.
const GAIN_EPS: f64 = 0.1;

/// Largest log-gain (γ = exp(g) with g clamped to ±`MAX_LOG_GAIN`).
const MAX_LOG_GAIN: f64 = 20.0;

/// Component widths σ = `WIDTH_SCALE`·exp(s), s clamped to ±`MAX_LOG_WIDTH`, as fractions of the box.
const WIDTH_SCALE: f64 = 0.05;
const MAX_LOG_WIDTH: f64 = 4.0;

/// Largest move of a component mean per Bayes update and axis, as a fraction of the box: a quarter
/// of the shortest template period on the 16-mode checkerboard grid (1/16 of the box), inside the
/// basin of the likelihood peak the update is aimed at.
const MAX_REFINE_STEP: f64 = 1.0 / 64.0;

/// The log-prior's coefficients are stored divided by this, so that AdamW's ≈ lr-sized steps move
/// the prior by log-density ratios of order one within a few hundred steps.
const PRIOR_SCALE: f64 = 5.0;

/// Component means μ = ½ + `MEAN_SCALE`·m as fractions of the box.
const MEAN_SCALE: f64 = 0.25;

/// Floor of the per-sample standard deviation of the correlation image.
const STD_FLOOR: f64 = 1e-6;

/// Bounds of the anchor's Laplace width σ_L (box fractions): below the finest template period by
/// far, above it the likelihood no longer localises the source.
const MIN_ANCHOR_WIDTH: f64 = 1e-4;
const MAX_ANCHOR_WIDTH: f64 = 0.25;

/// How far the anchored logits are lowered before `anchor_from`, and over how much time the
/// lowering ramps out.
const ANCHOR_OFF: f64 = 30.0;

/// The local posterior's stencil spans ± this many Laplace widths with unit spacing.
const STENCIL_RADIUS: usize = 4;

/// The prior table is stored divided by this (see `PRIOR_SCALE`).
const PRIOR_GRID_SCALE: f64 = 25.0;
const ANCHOR_RAMP: f64 = 0.05;

/// The MLP reads (ln σ_L − centre)/spread and the peak's standardised height / spread, O(1) over
/// the range of σ_L and heights of a flow.
const LOG_WIDTH_CENTRE: f64 = -5.0;
const LOG_WIDTH_SPREAD: f64 = 3.0;
const HEIGHT_SPREAD: f64 = 4.0;

/// Coefficient planes per (channel, mode): γ^φ, γ^π, A^φφ, A^φπ, B^φ, A^πφ, A^ππ, B^π.
const HEADS: usize = 8;

/// Parameters per mixture component: weight logit, mean (x, y), log-width.
const PER_COMPONENT: usize = 4;

/// Hyper-parameters of [`MixtureNet`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MixtureConfig {
    /// Mixture components M.
    pub components: usize,
    /// Width of the posterior MLP.
    pub hidden: usize,
    /// Hidden layers of the posterior MLP (≥ 1).
    pub depth: usize,
    /// Positions per axis G at which the correlation image is read.
    pub feature_grid: usize,
    /// The feature grid spans this central percentage of the box per axis.
    pub support_percent: u32,
    /// Width of the time MLP that produces the per-mode coefficients.
    pub time_hidden: usize,
    /// The per-mode coefficient heads read a linear bottleneck of this width of the time MLP
    /// (0: no bottleneck). The coefficients are smooth in t and depend on the mode mostly
    /// through its envelope, so a low rank suffices, and the heads are most of a training step's
    /// cost when every sample has its own time.
    #[serde(default)]
    pub head_rank: usize,
    /// Sinusoidal time-embedding dimension.
    pub time_dim: usize,
    /// The embedding sees `time_scale·t`.
    pub time_scale: u32,
    /// Models with a Klein–Gordon backbone: the residual subtracts β ⊙ the backbone's velocity,
    /// β learned per (channel, mode) and time, starting at 0.
    #[serde(default)]
    pub backbone_gate: bool,
    /// The gate is β = tanh(head) ∈ (−1, 1) instead of the head's raw output: the residual
    /// cancels at most the whole backbone (still 0 at the start). Off in runs made before it.
    #[serde(default)]
    pub gate_bound: bool,
    /// Bayes updates of each component by the local quadratic model of the likelihood (see
    /// [`MixtureNet`]'s `characteristic`); 0: none.
    #[serde(default)]
    pub refine_steps: u32,
    /// A learned log-prior over the source position, band-limited to the state's modes
    /// (Re Σ_k c_k e^(i k·(x − x_min)), c starting at 0, independent of the data), added to the
    /// likelihood wherever the network reads or refines it.
    #[serde(default)]
    pub prior_spectrum: bool,
    /// The first `anchored` components are placed relative to the likelihood's peak x̂ (found
    /// continuously by [`super::peak::PeakFinder`] on the weighted spectrum): mean x̂ + σ_L·d and
    /// width σ_L·e^s, with σ_L the peak's Laplace width and (d, s) from the MLP. Late in the flow
    /// the posterior is a narrow peak at x̂, which these components hit exactly whatever the MLP's
    /// precision; 0: every component is placed by the MLP alone.
    #[serde(default)]
    pub anchored: usize,
    /// With anchored components or `anchor_octaves` > 0, the MLP also reads sin/cos(2π 2^j x̂) for
    /// j < `anchor_octaves` per axis, the peak's log Laplace width and its standardised height.
    #[serde(default)]
    pub anchor_octaves: usize,
    /// Anchored components take part only from this time on (their weight logits are lowered by
    /// up to `ANCHOR_OFF` before it, ramping over `ANCHOR_RAMP`): early in the flow the likelihood's
    /// peak is a peak of the noise. 0: from the start.
    #[serde(default)]
    pub anchor_from: f64,
    /// One more component (with the anchored ones' time gate): the posterior near the likelihood's
    /// peak computed by quadrature, learned log-prior × the exact likelihood exp C on a stencil of
    /// (2·`STENCIL_RADIUS` + 1)² points spanning ± `STENCIL_RADIUS` Laplace widths around x̂. The
    /// log-prior is a `prior_grid` × `prior_grid` table over the feature support (bilinear,
    /// starting at 0: uniform), so the component can hold the posterior inside an edge the
    /// likelihood's peak lies beyond. 0: none.
    #[serde(default)]
    pub prior_grid: usize,
}

impl MixtureConfig {
    /// The `quick` preset's configuration (chosen by measurement: docs/networks.md).
    pub const QUICK: MixtureConfig = MixtureConfig {
        components: 32,
        hidden: 256,
        depth: 3,
        feature_grid: 16,
        support_percent: 60,
        time_hidden: 128,
        head_rank: 32,
        time_dim: 64,
        time_scale: 1000,
        backbone_gate: false,
        gate_bound: false,
        refine_steps: 0,
        prior_spectrum: true,
        anchored: 16,
        anchor_octaves: 6,
        prior_grid: 0,
        anchor_from: 0.5,
    };

    /// Checks the configuration.
    pub fn validate(&self) -> std::result::Result<(), String> {
        super::check_sizes(
            "mixture net",
            &[
                ("components", self.components, 1024),
                ("hidden width", self.hidden, super::MAX_WIDTH),
                ("depth", self.depth, super::MAX_DEPTH),
                ("feature grid", self.feature_grid, 1024),
                ("time width", self.time_hidden, super::MAX_WIDTH),
                ("head rank", self.head_rank, super::MAX_WIDTH),
                ("time-embedding size", self.time_dim, super::MAX_WIDTH),
                ("refinement steps", self.refine_steps as usize, 1000),
            ],
        )?;
        if self.components == 0 || self.hidden == 0 || self.depth == 0 || self.time_hidden == 0 {
            return Err(
                "mixture net components, hidden width, depth and time width must be positive"
                    .into(),
            );
        }
        if self.anchored > self.components {
            return Err(format!(
                "mixture net: {} anchored components but only {} components",
                self.anchored, self.components
            ));
        }
        if self.prior_grid == 1 || self.prior_grid > 1024 {
            return Err(format!(
                "mixture net: the prior grid needs 2–1024 points per axis, got {}",
                self.prior_grid
            ));
        }
        if self.anchor_octaves > 16 {
            return Err(format!(
                "mixture net: at most 16 anchor octaves, got {}",
                self.anchor_octaves
            ));
        }
        if self.feature_grid < 2 {
            return Err(format!(
                "mixture net feature grid needs ≥ 2 points per axis, got {}",
                self.feature_grid
            ));
        }
        if self.support_percent == 0 || self.support_percent > 100 {
            return Err(format!(
                "feature support must be 1–100 % of the box, got {}",
                self.support_percent
            ));
        }
        if self.time_scale == 0 || self.time_dim == 0 || !self.time_dim.is_multiple_of(2) {
            return Err(format!(
                "time-embedding size must be even and the time scale positive, got {} and {}",
                self.time_dim, self.time_scale
            ));
        }
        Ok(())
    }

    /// Feature positions per axis as fractions of the box, evenly spaced over the support.
    pub fn positions(&self) -> Vec<f64> {
        let half = f64::from(self.support_percent) / 200.0;
        let (lo, hi) = (0.5 - half, 0.5 + half);
        (0..self.feature_grid)
            .map(|j| lo + (hi - lo) * j as f64 / (self.feature_grid - 1) as f64)
            .collect()
    }
}

/// The source-mixture network (see the module documentation).
pub struct MixtureNet {
    embedding: SinusoidalEmbedding,
    time_layers: [Linear; 2],
    /// Linear bottleneck between the time MLP and the heads (`head_rank`).
    bottleneck: Option<Linear>,
    heads: Linear,
    gate: Option<Linear>,
    /// β = tanh(gate head) (`gate_bound`).
    gate_bound: bool,
    factors: Factors,
    /// Time features into the posterior MLP's first layer.
    time_in: Linear,
    /// Posterior MLP: first layer over [standardised image, log std], then hidden layers.
    layers: Vec<Linear>,
    out: Linear,
    /// 2π n per mode index (K,), f32.
    two_pi_n: Tensor,
    /// 2π² n² per mode index (K,), f32.
    two_pi2_n2: Tensor,
    channels: usize,
    modes: usize,
    components: usize,
    refine_steps: u32,
    /// The log-prior's coefficients [Re, Im], (1, 2, K²) (`prior_spectrum`).
    prior: Option<Tensor>,
    hermite: bool,
    /// Components placed at the likelihood's peak (`anchored`).
    anchored: usize,
    anchor_octaves: usize,
    anchor_from: f64,
    /// The local-posterior component's log-prior table (G_q, G_q) (`prior_grid` > 0) and the box
    /// fractions its first and last points sit at.
    prior_grid: Option<(Tensor, f64, f64)>,
    /// Locates the likelihood's peak, with the feature grid's positions for its coarse start.
    peaks: PeakFinder,
    positions: Vec<f64>,
}

/// The likelihood's peak per sample, as the network uses it.
struct Anchor {
    /// x̂ in box fractions, (B, 1, 2).
    position: Tensor,
    /// The Laplace width σ_L in box fractions, (B, 1, 1).
    width: Tensor,
    /// The MLP's extra inputs (B, 4·octaves + 2).
    features: Tensor,
}

impl MixtureNet {
    /// Builds the network for spectral states of `channels` real channels (Re/Im pairs) and
    /// `modes`×`modes` modes.
    pub fn new(
        cfg: &MixtureConfig,
        channels: usize,
        modes: usize,
        hermite: bool,
        vb: VarBuilder,
    ) -> Result<Self> {
        if channels == 0 || !channels.is_multiple_of(2) {
            candle_core::bail!(
                "the mixture net needs Re/Im channel pairs, got {channels} channels"
            );
        }
        let complex = channels / 2;
        let device = vb.device().clone();
        let embedding = SinusoidalEmbedding::scaled(
            cfg.time_dim,
            MAX_PERIOD,
            f64::from(cfg.time_scale),
            &device,
        )?;
        let time_layers = [
            linear(vb.pp("time.0"), cfg.time_dim, cfg.time_hidden)?,
            linear(vb.pp("time.1"), cfg.time_hidden, cfg.time_hidden)?,
        ];
        // One set of coefficients for all channels: the channels are exchangeable copies of one
        // source, so the optimal coefficients are the same for each.
        let bottleneck = if cfg.head_rank > 0 {
            Some(linear(vb.pp("time.rank"), cfg.time_hidden, cfg.head_rank)?)
        } else {
            None
        };
        let head_in = if cfg.head_rank > 0 {
            cfg.head_rank
        } else {
            cfg.time_hidden
        };
        let heads = linear(vb.pp("heads.zero_init"), head_in, HEADS * modes * modes)?;
        let gate = if cfg.backbone_gate {
            Some(linear(vb.pp("gate.zero_init"), head_in, modes * modes)?)
        } else {
            None
        };
        let g2 = cfg.feature_grid * cfg.feature_grid;
        let time_in = linear(vb.pp("posterior.time"), cfg.time_hidden, cfg.hidden)?;
        let anchor_inputs = if cfg.anchored > 0 || cfg.anchor_octaves > 0 || cfg.prior_grid > 0 {
            4 * cfg.anchor_octaves + 2
        } else {
            0
        };
        let mut layers = vec![linear(
            vb.pp("posterior.0"),
            g2 + 1 + anchor_inputs,
            cfg.hidden,
        )?];
        for i in 1..cfg.depth {
            layers.push(linear(
                vb.pp(format!("posterior.{i}")),
                cfg.hidden,
                cfg.hidden,
            )?);
        }
        let out = linear(
            vb.pp("posterior.out"),
            cfg.hidden,
            PER_COMPONENT * cfg.components + usize::from(cfg.prior_grid > 0),
        )?;
        let prior_grid = if cfg.prior_grid > 0 {
            let positions = cfg.positions();
            Some((
                vb.pp("prior_grid.zero_init").get_with_hints(
                    (cfg.prior_grid, cfg.prior_grid),
                    "log_prior",
                    candle_nn::Init::Const(0.0),
                )?,
                positions[0],
                positions[positions.len() - 1],
            ))
        } else {
            None
        };
        let n: Vec<f64> = fft_indices(modes).iter().map(|&n| n as f64).collect();
        let two_pi_n: Vec<f32> = n
            .iter()
            .map(|n| (2.0 * std::f64::consts::PI * n) as f32)
            .collect();
        let two_pi2_n2: Vec<f32> = n
            .iter()
            .map(|n| (2.0 * std::f64::consts::PI.powi(2) * n * n) as f32)
            .collect();
        let prior = if cfg.prior_spectrum {
            Some(vb.pp("prior.zero_init").get_with_hints(
                (1, 2, modes * modes),
                "spectrum",
                candle_nn::Init::Const(0.0),
            )?)
        } else {
            None
        };
        Ok(Self {
            embedding,
            time_layers,
            bottleneck,
            heads,
            gate,
            gate_bound: cfg.gate_bound,
            factors: Factors::new(modes, &cfg.positions(), &device)?,
            time_in,
            layers,
            out,
            two_pi_n: Tensor::from_vec(two_pi_n, modes, &device)?,
            two_pi2_n2: Tensor::from_vec(two_pi2_n2, modes, &device)?,
            channels: complex,
            modes,
            components: cfg.components,
            refine_steps: cfg.refine_steps,
            prior,
            hermite,
            anchored: cfg.anchored,
            anchor_octaves: cfg.anchor_octaves,
            anchor_from: cfg.anchor_from,
            prior_grid,
            peaks: PeakFinder::new(modes),
            positions: cfg.positions(),
        })
    }

    /// The time features and per-mode coefficients for times `t` (B,): one row when the whole
    /// batch shares one time (sampling), else one per sample.
    fn coefficients(&self, t: &Tensor) -> Result<Coefficients> {
        let b = t.dim(0)?;
        let n = self.modes * self.modes;
        let shared = b > 1 && {
            let times = t.to_vec1::<f32>()?;
            times.iter().all(|&x| x == times[0])
        };
        let t = if shared {
            t.narrow(0, 0, 1)?
        } else {
            t.clone()
        };
        let rows = t.dim(0)?;
        let mut h = self.embedding.forward(&t)?;
        for layer in &self.time_layers {
            h = silu(&layer.forward(&h)?)?;
        }
        let column = |x: Tensor| x.reshape((rows, 1, 1, 1));
        let scale_v = column(((t.neg()? + (1.0 + SINGULAR_EPS))?).recip()?)?;
        let log_sharp =
            column((t.clamp(1e-6, 1.0)?.log()? - ((t.neg()? + (1.0 + GAIN_EPS))?.log()? * 2.0)?)?)?;
        let head_in = match &self.bottleneck {
            Some(layer) => layer.forward(&h)?,
            None => h.clone(),
        };
        let heads = self.heads.forward(&head_in)?.reshape((rows, HEADS, 1, n))?;
        let gains = heads
            .narrow(1, 0, 2)?
            .broadcast_add(&log_sharp)?
            .clamp(-MAX_LOG_GAIN, MAX_LOG_GAIN)?
            .exp()?;
        // Planes 2..8: (A^φφ, A^φπ, B^φ), (A^πφ, A^ππ, B^π), as (rows, O, 3, C, N).
        let linear = heads.narrow(1, 2, 6)?.broadcast_mul(&scale_v)?;
        let linear = if self.hermite {
            linear.narrow(1, 3, 3)?.reshape((rows, 1, 3, 1, n))?
        } else {
            linear.reshape((rows, 2, 3, 1, n))?
        };
        let gate = match &self.gate {
            Some(layer) => {
                let raw = layer.forward(&head_in)?.reshape((rows, 1, 1, 1, n))?;
                Some(if self.gate_bound { raw.tanh()? } else { raw })
            }
            None => None,
        };
        let gated = self.anchored > 0 || self.prior_grid.is_some();
        let (anchor_shift, anchor_gate) = if gated && self.anchor_from > 0.0 {
            let off = ((t.neg()? + self.anchor_from)? / ANCHOR_RAMP)?
                .clamp(0.0, 1.0)?
                .reshape((rows, 1))?;
            (Some((&off * -ANCHOR_OFF)?), Some((off.neg()? + 1.0)?))
        } else {
            (None, None)
        };
        Ok(Coefficients {
            anchor_shift,
            anchor_gate,
            time_features: self.time_in.forward(&h)?,
            gains,
            linear,
            gate,
        })
    }

    /// For the correlation L(μ) = Re Σ_k y_k e^(i k·(μ − x_min)) of the weighted spectrum y (Re,
    /// Im, each (B, K, K)) with the template at each component mean: its gradient in μ (x, y) and
    /// its mean curvature −(∂²_x + ∂²_y)L/2, each (B, M), given cos/sin(2π n μ) per axis ((B, M, K)
    /// each). The template sums are separable: one batched product over the y modes for the three
    /// y-axis factors (1, iθ, −θ²), then sums over the x modes.
    fn likelihood_slope(
        &self,
        y_re: &Tensor,
        y_im: &Tensor,
        (cx, sx): (&Tensor, &Tensor),
        (cy, sy): (&Tensor, &Tensor),
    ) -> Result<[Tensor; 3]> {
        let (m, k) = (self.components, self.modes);
        let theta = self.two_pi_n.reshape((1, k, 1))?;
        let theta2 = theta.sqr()?;
        // The y-axis factors e^(iθ_b μ_y)·(1, iθ_b, −θ_b²), stacked along the component axis:
        // (B, K, 3M) real and imaginary parts.
        let (cy_t, sy_t) = (cy.transpose(1, 2)?, sy.transpose(1, 2)?);
        let e_re = Tensor::cat(
            &[
                &cy_t,
                &sy_t.broadcast_mul(&theta)?.neg()?,
                &cy_t.broadcast_mul(&theta2)?.neg()?,
            ],
            2,
        )?
        .contiguous()?;
        let e_im = Tensor::cat(
            &[
                &sy_t,
                &cy_t.broadcast_mul(&theta)?,
                &sy_t.broadcast_mul(&theta2)?.neg()?,
            ],
            2,
        )?
        .contiguous()?;
        // P = Y·E over the y modes: (B, K_x, 3M), then as (B, 3M, K_x).
        let p_re = (y_re.matmul(&e_re)? - y_im.matmul(&e_im)?)?.transpose(1, 2)?;
        let p_im = (y_re.matmul(&e_im)? + y_im.matmul(&e_re)?)?.transpose(1, 2)?;
        let part = |p: &Tensor, i: usize| p.narrow(1, i * m, m);
        let theta_x = self.two_pi_n.reshape((1, 1, k))?;
        let theta_x2 = theta_x.sqr()?;
        // Re Σ_a e^(iθ_a μ_x)·c_a·P_a for the x-axis factor c_a ∈ {1, iθ_a, −θ_a²}.
        let real_sum =
            |pr: &Tensor, pi: &Tensor| -> Result<Tensor> { ((cx * pr)? - (sx * pi)?)?.sum(2) };
        let (p0r, p0i) = (part(&p_re, 0)?, part(&p_im, 0)?);
        let (p1r, p1i) = (part(&p_re, 1)?, part(&p_im, 1)?);
        let (p2r, p2i) = (part(&p_re, 2)?, part(&p_im, 2)?);
        // Re(iθ e P) = −θ (s P_re + c P_im).
        let grad_x = ((sx * &p0r)? + (cx * &p0i)?)?
            .broadcast_mul(&theta_x)?
            .sum(2)?
            .neg()?;
        let grad_y = real_sum(&p1r, &p1i)?;
        let curv_xx = ((cx * &p0r)? - (sx * &p0i)?)?
            .broadcast_mul(&theta_x2)?
            .sum(2)?
            .neg()?;
        let curv_yy = real_sum(&p2r, &p2i)?;
        let curvature = ((curv_xx + curv_yy)? * -0.5)?;
        Ok([grad_x, grad_y, curvature])
    }

    /// The mixture's characteristic function ū (Re, Im), each (B, K, K), from the MLP's raw output
    /// (B, M·4) and the weighted spectrum y (Re, Im), each (B, K, K).
    ///
    /// With `refine`, each component is first updated by Bayes' rule under a local quadratic model
    /// of the likelihood L (the correlation of y with the templates): with gradient g and mean
    /// curvature h ≥ 0 of L at the component's mean μ and its width s, the precision becomes
    /// Λ = 1/s² + h, the mean μ + g/Λ (each coordinate step bounded by 2s) and the width Λ^(−1/2).
    /// Late in the flow the likelihood is a sharp peak at the position the state encodes, which
    /// this places the component on, to any precision; early on it is flat and the update small.
    fn characteristic(
        &self,
        raw: &Tensor,
        anchor: Option<&Anchor>,
        anchor_shift: Option<&Tensor>,
        y_re: &Tensor,
        y_im: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let k = self.modes;
        let (weights, mut mean, mut width) = self.mixture_parameters(raw, anchor, anchor_shift)?;
        let n = self.two_pi_n.reshape((1, 1, k))?;
        let n2 = self.two_pi2_n2.reshape((1, 1, k))?;
        // cos/sin of 2π n μ per axis, (B, M, K) each.
        let phase = |mean: &Tensor, i: usize| -> Result<(Tensor, Tensor)> {
            let angle = mean.narrow(2, i, 1)?.broadcast_mul(&n)?;
            Ok((angle.cos()?, angle.sin()?))
        };
        for _ in 0..self.refine_steps {
            let (cx, sx) = phase(&mean, 0)?;
            let (cy, sy) = phase(&mean, 1)?;
            let [gx, gy, h] = self.likelihood_slope(y_re, y_im, (&cx, &sx), (&cy, &sy))?;
            let s = width.squeeze(2)?;
            let precision = (s.sqr()?.recip()? + h.relu()?)?;
            let bound = (&s * 2.0)?.clamp(0.0, MAX_REFINE_STEP)?;
            let step = |g: &Tensor| -> Result<Tensor> {
                // bound · tanh(g / (Λ · bound)): ≈ g/Λ for small steps, at most `bound`.
                (g / (&precision * &bound)?)?.tanh()? * &bound
            };
            let delta = Tensor::stack(&[step(&gx)?, step(&gy)?], 2)?;
            mean = (mean + delta)?;
            width = precision.sqrt()?.recip()?.unsqueeze(2)?;
        }
        let m = self.components;
        let local_weight = match (&self.prior_grid, anchor) {
            (Some(_), Some(_)) => Some(weights.narrow(1, m, 1)?),
            _ => None,
        };
        let weights = weights.narrow(1, 0, m)?;
        let (cx, sx) = phase(&mean, 0)?;
        let (cy, sy) = phase(&mean, 1)?;
        let variance = width.sqr()?;
        // Per axis: a_m(n) = e^(−2π²n²σ²) e^(−i 2π n μ); the x factor carries w.
        let damp = variance.broadcast_mul(&n2)?.neg()?.exp()?;
        let damp_x = damp.broadcast_mul(&weights.unsqueeze(2)?)?;
        let (xr, xi) = ((&damp_x * &cx)?, (&damp_x * &sx)?.neg()?);
        let (yr, yi) = ((&damp * &cy)?, (&damp * &sy)?.neg()?);
        // ū(a, b) = Σ_m x_m(a) y_m(b): (B, K, M)·(B, M, K), complex.
        let xr_t = xr.transpose(1, 2)?.contiguous()?;
        let xi_t = xi.transpose(1, 2)?.contiguous()?;
        let (yr, yi) = (yr.contiguous()?, yi.contiguous()?);
        let re = (xr_t.matmul(&yr)? - xi_t.matmul(&yi)?)?;
        let im = (xr_t.matmul(&yi)? + xi_t.matmul(&yr)?)?;
        match (local_weight, anchor) {
            (Some(w), Some(anchor)) => {
                let (lr, li) = self.local_posterior(y_re, y_im, anchor)?;
                let w = w.unsqueeze(2)?;
                Ok(((re + lr.broadcast_mul(&w)?)?, (im + li.broadcast_mul(&w)?)?))
            }
            _ => Ok((re, im)),
        }
    }

    /// The characteristic function (Re, Im, each (B, K, K)) of the posterior near the likelihood's
    /// peak: on the stencil u_ij = x̂ + σ_L·(z_i, z_j), weights ∝ e^(C(u_ij)) q(u_ij) with the
    /// exact correlation C of the weighted spectrum and the learned log-prior table q (bilinear).
    fn local_posterior(
        &self,
        y_re: &Tensor,
        y_im: &Tensor,
        anchor: &Anchor,
    ) -> Result<(Tensor, Tensor)> {
        let Some((table, lo, hi)) = &self.prior_grid else {
            candle_core::bail!("the local posterior needs the prior table");
        };
        let (b, k) = (y_re.dim(0)?, self.modes);
        let side = 2 * STENCIL_RADIUS + 1;
        let device = y_re.device();
        let offsets: Vec<f32> = (0..side)
            .map(|i| (i as f64 - STENCIL_RADIUS as f64) as f32)
            .collect();
        let offsets = Tensor::from_vec(offsets, (1, side), device)?;
        // Stencil coordinates per axis, (B, S).
        let width = anchor.width.reshape((b, 1))?;
        let axis = |i: usize| -> Result<Tensor> {
            anchor
                .position
                .narrow(2, i, 1)?
                .reshape((b, 1))?
                .broadcast_add(&offsets.broadcast_mul(&width)?)
        };
        let (xs, ys) = (axis(0)?, axis(1)?);
        // θ_a·u per axis, (B, K, S), and its cos/sin.
        let theta = self.two_pi_n.reshape((1, k, 1))?;
        let trig = |u: &Tensor| -> Result<(Tensor, Tensor)> {
            let angle = theta.broadcast_mul(&u.unsqueeze(1)?)?;
            Ok((angle.cos()?, angle.sin()?))
        };
        let ((cx, sx), (cy, sy)) = (trig(&xs)?, trig(&ys)?);
        // W_aj = Σ_b y_ab e^(iθ_b y_j), then C_ij = Re Σ_a e^(iθ_a x_i) W_aj: (B, S_x, S_y).
        let w_re = (y_re.matmul(&cy)? - y_im.matmul(&sy)?)?;
        let w_im = (y_re.matmul(&sy)? + y_im.matmul(&cy)?)?;
        let (cx_t, sx_t) = (cx.transpose(1, 2)?, sx.transpose(1, 2)?);
        let correlation = (cx_t.matmul(&w_re)? - sx_t.matmul(&w_im)?)?;
        let logits = (correlation + self.log_prior_on(table, (*lo, *hi), &xs, &ys)?)?
            .reshape((b, side * side))?;
        let weights = softmax_composed(&logits)?.reshape((b, side, side))?;
        // ū_ab = Σ_ij w_ij e^(−iθ_a x_i) e^(−iθ_b y_j) = (C_x − i S_x) W (C_y − i S_y)ᵀ.
        let t_re = cx.matmul(&weights)?;
        let t_im = sx.matmul(&weights)?.neg()?;
        let (cy_t, sy_t) = (cy.transpose(1, 2)?, sy.transpose(1, 2)?);
        let re = (t_re.matmul(&cy_t)? + t_im.matmul(&sy_t)?)?;
        let im = (t_im.matmul(&cy_t)? - t_re.matmul(&sy_t)?)?;
        Ok((re, im))
    }

    /// The learned log-prior (`PRIOR_GRID_SCALE` × the table, bilinear between its points, the
    /// border value beyond them) at the stencil points (xs_i, ys_j), (B, S, S).
    fn log_prior_on(
        &self,
        table: &Tensor,
        (lo, hi): (f64, f64),
        xs: &Tensor,
        ys: &Tensor,
    ) -> Result<Tensor> {
        let g = table.dim(0)?;
        let (b, side) = xs.dims2()?;
        let (xs, ys) = (xs.to_vec2::<f32>()?, ys.to_vec2::<f32>()?);
        let corner = |u: f32| -> (usize, f32) {
            let f = ((f64::from(u) - lo) / (hi - lo) * (g - 1) as f64).clamp(0.0, (g - 1) as f64);
            let i = (f.floor() as usize).min(g - 2);
            (i, (f - i as f64) as f32)
        };
        let mut index = Vec::with_capacity(b * side * side * 4);
        let mut weight = Vec::with_capacity(b * side * side * 4);
        for s in 0..b {
            for &x in &xs[s] {
                let (i, fx) = corner(x);
                for &y in &ys[s] {
                    let (j, fy) = corner(y);
                    for (di, dj, w) in [
                        (0, 0, (1.0 - fx) * (1.0 - fy)),
                        (1, 0, fx * (1.0 - fy)),
                        (0, 1, (1.0 - fx) * fy),
                        (1, 1, fx * fy),
                    ] {
                        // The table's rows are x, its columns y.
                        index.push(((i + di) * g + j + dj) as u32);
                        weight.push(w);
                    }
                }
            }
        }
        let n = index.len();
        let device = table.device();
        let values = table
            .reshape(g * g)?
            .index_select(&Tensor::from_vec(index, n, device)?, 0)?;
        (values * Tensor::from_vec(weight, n, device)?)?
            .reshape((b, side, side, 4))?
            .sum(3)?
            * PRIOR_GRID_SCALE
    }

    /// The likelihood's peak for each sample's weighted spectrum y (Re, Im, each (B, K, K)),
    /// started from the best point of its correlation image (B, G·G), whose per-sample mean and
    /// standard deviation (B, 1) standardise the peak's height. Constant in the weights: the peak
    /// is where the network reads and places, not something it is trained through.
    fn anchor(
        &self,
        (y_re, y_im): (&Tensor, &Tensor),
        image: &Tensor,
        (mean, std): (&Tensor, &Tensor),
    ) -> Result<Anchor> {
        let b = y_re.dim(0)?;
        let values = |t: &Tensor| t.flatten_all()?.to_vec1::<f32>();
        let starts = image_maxima(&values(image)?, &self.positions);
        let spacing = self.positions[1] - self.positions[0];
        let peaks = self
            .peaks
            .find(&values(y_re)?, &values(y_im)?, &starts, spacing / 2.0);
        let (mean, std) = (values(mean)?, values(std)?);
        let per_row = 4 * self.anchor_octaves + 2;
        let mut position = Vec::with_capacity(2 * b);
        let mut width = Vec::with_capacity(b);
        let mut features = Vec::with_capacity(per_row * b);
        for (i, peak) in peaks.iter().enumerate() {
            let sigma = peak
                .curvature
                .max(f64::MIN_POSITIVE)
                .sqrt()
                .recip()
                .clamp(MIN_ANCHOR_WIDTH, MAX_ANCHOR_WIDTH);
            position.extend(peak.position.map(|u| u as f32));
            width.push(sigma as f32);
            for j in 0..self.anchor_octaves {
                let frequency = 2.0 * std::f64::consts::PI * f64::from(1u32 << j);
                for u in peak.position {
                    let (s, c) = (frequency * u).sin_cos();
                    features.extend([s as f32, c as f32]);
                }
            }
            let height = (peak.height - f64::from(mean[i])) / f64::from(std[i]);
            features.push(((sigma.ln() - LOG_WIDTH_CENTRE) / LOG_WIDTH_SPREAD) as f32);
            features.push((height / HEIGHT_SPREAD) as f32);
        }
        let device = y_re.device();
        Ok(Anchor {
            position: Tensor::from_vec(position, (b, 1, 2), device)?,
            width: Tensor::from_vec(width, (b, 1, 1), device)?,
            features: Tensor::from_vec(features, (b, per_row), device)?,
        })
    }

    /// The posterior MLP's raw mixture parameters (B, M·4) for the weighted spectrum y, and the
    /// likelihood's peak when components are anchored to it.
    fn posterior(
        &self,
        y_re: &Tensor,
        y_im: &Tensor,
        coefficients: &Coefficients,
    ) -> Result<(Tensor, Option<Anchor>)> {
        let time_features = &coefficients.time_features;
        let b = y_re.dim(0)?;
        let image = correlation(&self.factors, y_re, y_im)?.reshape((b, ()))?;
        let mean = image.mean_keepdim(1)?;
        let centred = image.broadcast_sub(&mean)?;
        let std = (centred.sqr()?.mean_keepdim(1)? + STD_FLOOR)?.sqrt()?;
        let mut features = vec![centred.broadcast_div(&std)?, std.log()?];
        let anchor = if self.anchored > 0 || self.anchor_octaves > 0 || self.prior_grid.is_some() {
            let anchor = self.anchor((y_re, y_im), &image, (&mean, &std))?;
            features.push(match &coefficients.anchor_gate {
                Some(gate) => anchor.features.broadcast_mul(gate)?,
                None => anchor.features.clone(),
            });
            Some(anchor)
        } else {
            None
        };
        let features = Tensor::cat(&features, 1)?;
        let mut h = self.layers[0]
            .forward(&features)?
            .broadcast_add(time_features)?;
        h = silu(&h)?;
        for layer in &self.layers[1..] {
            h = silu(&layer.forward(&h)?)?;
        }
        Ok((self.out.forward(&h)?, anchor))
    }

    /// Weights (B, M), means (B, M, 2) as box fractions and widths (B, M, 1) of the mixture from
    /// the MLP's raw output (B, M·4): free components at ½ + `MEAN_SCALE`·m with width
    /// `WIDTH_SCALE`·e^s, anchored ones at x̂ + σ_L·d with width σ_L·e^s.
    fn mixture_parameters(
        &self,
        raw: &Tensor,
        anchor: Option<&Anchor>,
        anchor_shift: Option<&Tensor>,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let (b, m) = (raw.dim(0)?, self.components);
        let gaussian = raw
            .narrow(1, 0, m * PER_COMPONENT)?
            .reshape((b, m, PER_COMPONENT))?;
        let mut logits = gaussian.narrow(2, 0, 1)?.squeeze(2)?;
        if self.prior_grid.is_some() {
            logits = Tensor::cat(&[logits, raw.narrow(1, m * PER_COMPONENT, 1)?], 1)?;
        }
        if let Some(shift) = anchor_shift {
            // The time gate lowers the anchored components' logits and the local component's.
            let gated: Vec<f32> = (0..logits.dim(1)?)
                .map(|j| f32::from(u8::from(j < self.anchored || j >= m)))
                .collect();
            let gated = Tensor::from_vec(gated, (1, logits.dim(1)?), logits.device())?;
            logits = logits.broadcast_add(&shift.broadcast_mul(&gated)?)?;
        }
        let weights = softmax_composed(&logits)?;
        let offset = gaussian.narrow(2, 1, 2)?;
        let log_width = gaussian
            .narrow(2, 3, 1)?
            .clamp(-MAX_LOG_WIDTH, MAX_LOG_WIDTH)?
            .exp()?;
        let free = |x: Tensor, from: usize| x.narrow(1, from, m - self.anchored);
        let free_mean = (free(offset.clone(), self.anchored)? * MEAN_SCALE)? + 0.5;
        let free_width = free(log_width.clone(), self.anchored)? * WIDTH_SCALE;
        let Some(anchor) = anchor.filter(|_| self.anchored > 0) else {
            return Ok((weights, free_mean?, free_width?));
        };
        let anchored_mean = offset
            .narrow(1, 0, self.anchored)?
            .broadcast_mul(&anchor.width)?
            .broadcast_add(&anchor.position)?;
        let anchored_width = log_width
            .narrow(1, 0, self.anchored)?
            .broadcast_mul(&anchor.width)?;
        if self.anchored == m {
            return Ok((weights, anchored_mean, anchored_width));
        }
        Ok((
            weights,
            Tensor::cat(&[anchored_mean, free_mean?], 1)?,
            Tensor::cat(&[anchored_width, free_width?], 1)?,
        ))
    }

    /// The components (φ̃, π̃) of `state` as (B, 2, C, 2, K²).
    fn components(&self, state: &State) -> Result<Tensor> {
        let (b, c, n) = (state.phi.dim(0)?, self.channels, self.modes * self.modes);
        Tensor::stack(
            &[
                &state.phi.reshape((b, c, 2, n))?,
                &state.pi.reshape((b, c, 2, n))?,
            ],
            1,
        )
    }

    /// The weighted spectrum y (Re, Im), each (B, K, K).
    fn spectrum(&self, x: &Tensor, coefficients: &Coefficients) -> Result<(Tensor, Tensor)> {
        let (b, k) = (x.dim(0)?, self.modes);
        let mut y = weighted_spectrum(x, &coefficients.gains)?;
        if let Some(prior) = &self.prior {
            y = y.broadcast_add(&(prior * PRIOR_SCALE)?)?;
        }
        Ok((
            y.narrow(1, 0, 1)?.reshape((b, k, k))?,
            y.narrow(1, 1, 1)?.reshape((b, k, k))?,
        ))
    }

    /// The velocity of `state`, minus β ⊙ `backbone` when the network gates it.
    fn velocity(
        &self,
        state: &State,
        coefficients: &Coefficients,
        backbone: Option<&State>,
    ) -> Result<State> {
        let (b, n) = (state.phi.dim(0)?, self.modes * self.modes);
        let x = self.components(state)?;
        let (y_re, y_im) = self.spectrum(&x, coefficients)?;
        let (raw, anchor) = self.posterior(&y_re, &y_im, coefficients)?;
        let (u_re, u_im) = self.characteristic(
            &raw,
            anchor.as_ref(),
            coefficients.anchor_shift.as_ref(),
            &y_re,
            &y_im,
        )?;
        let u = Tensor::stack(&[&u_re, &u_im], 1)?.reshape((b, 2, n))?;
        let linear = &coefficients.linear;
        let (inputs, w) = match (&coefficients.gate, backbone) {
            (Some(beta), Some(backbone)) => {
                state
                    .check_same_shape(backbone, "state and backbone velocity")
                    .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
                let inputs = Tensor::cat(&[&x, &self.components(backbone)?], 1)?;
                // −β on each output's own backbone component: planes (A, A, −β, 0, B) for φ̃ and
                // (A, A, 0, −β, B) for π̃.
                let rows = linear.dim(0)?;
                let (minus, zero) = (beta.neg()?, beta.zeros_like()?);
                let plane = |o: usize, i: usize| linear.narrow(1, o, 1)?.narrow(2, i, 1);
                let output = |o: usize, cancel: [&Tensor; 2]| -> Result<Tensor> {
                    Tensor::cat(
                        &[
                            &plane(o, 0)?,
                            &plane(o, 1)?,
                            cancel[0],
                            cancel[1],
                            &plane(o, 2)?,
                        ],
                        2,
                    )
                };
                let w = if self.hermite {
                    output(0, [&zero, &minus])?
                } else {
                    Tensor::cat(
                        &[&output(0, [&minus, &zero])?, &output(1, [&zero, &minus])?],
                        1,
                    )?
                };
                (inputs, w.reshape((rows, (), 5, 1, n))?)
            }
            _ => (x, linear.clone()),
        };
        let out = mode_affine(&inputs, &u, &w)?;
        let shape = state.phi.shape();
        if self.hermite {
            return Ok(State {
                phi: state.phi.zeros_like()?,
                pi: out.reshape(shape)?,
            });
        }
        Ok(State {
            phi: out.narrow(1, 0, 1)?.reshape(shape)?,
            pi: out.narrow(1, 1, 1)?.reshape(shape)?,
        })
    }

    /// The mixture (weights (B, M), means (B, M, 2) as box fractions, widths (B, M)) the network
    /// predicts for `state` at times `t`: what it believes about the boundary source.
    pub fn mixture(&self, state: &State, t: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let coefficients = self.coefficients(t)?;
        let b = state.phi.dim(0)?;
        let (y_re, y_im) = self.spectrum(&self.components(state)?, &coefficients)?;
        let (raw, anchor) = self.posterior(&y_re, &y_im, &coefficients)?;
        let (weights, mean, width) =
            self.mixture_parameters(&raw, anchor.as_ref(), coefficients.anchor_shift.as_ref())?;
        Ok((weights, mean, width.reshape((b, self.components))?))
    }
}

/// The coefficients of one call for `rows` rows (1: one shared time; else one per sample).
struct Coefficients {
    /// Time features of the posterior MLP's first layer, (rows, H).
    time_features: Tensor,
    /// γ^φ, γ^π, (rows, 2, 1, K²) (shared by the channels).
    gains: Tensor,
    /// (A^Xφ, A^Xπ, B^X) per output X, (rows, O, 3, 1, K²); O = 1 (π̃ only) for Hermite paths.
    linear: Tensor,
    /// β, (rows, 1, 1, 1, K²), with the backbone gate.
    gate: Option<Tensor>,
    /// Added to the anchored components' logits, (rows, 1), with `anchor_from` > 0.
    anchor_shift: Option<Tensor>,
    /// 0 before `anchor_from`, 1 after (the same ramp): multiplies the anchor's MLP inputs.
    anchor_gate: Option<Tensor>,
}

impl VelocityNet for MixtureNet {
    fn forward(&self, state: &State, t: &Tensor) -> Result<State> {
        self.forward_with_backbone(state, t, None)
    }

    fn wants_backbone(&self) -> bool {
        self.gate.is_some()
    }

    fn forward_with_backbone(
        &self,
        state: &State,
        t: &Tensor,
        backbone: Option<&State>,
    ) -> Result<State> {
        let coefficients = self.coefficients(t)?;
        self.velocity(state, &coefficients, backbone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;
    use rand::{Rng, SeedableRng};

    const K: usize = 8;

    fn config(components: usize) -> MixtureConfig {
        MixtureConfig {
            components,
            hidden: 8,
            depth: 1,
            feature_grid: 4,
            support_percent: 60,
            time_hidden: 8,
            head_rank: 0,
            time_dim: 8,
            time_scale: 1,
            backbone_gate: false,
            gate_bound: false,
            refine_steps: 0,
            prior_spectrum: false,
            anchored: 0,
            anchor_octaves: 0,
            prior_grid: 0,
            anchor_from: 0.0,
        }
    }

    fn net(cfg: &MixtureConfig) -> MixtureNet {
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let net = MixtureNet::new(cfg, 4, K, false, vb).unwrap();
        super::super::init_seeded(&vm, 2).unwrap();
        net
    }

    fn tensor(v: Vec<f32>, shape: &[usize]) -> Tensor {
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    /// With `gate_bound`, β = tanh(head) stays within [−1, 1] however large the gate head's
    /// output; without it the same weights give |β| far above 1.
    #[test]
    fn a_bounded_gate_cancels_at_most_the_whole_backbone() {
        for bound in [false, true] {
            let cfg = MixtureConfig {
                backbone_gate: true,
                gate_bound: bound,
                ..config(3)
            };
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
            let net = MixtureNet::new(&cfg, 4, K, false, vb).unwrap();
            super::super::init_seeded(&vm, 2).unwrap();
            for (name, var) in vm.data().lock().unwrap().iter() {
                if name.starts_with("gate.") {
                    let big = Tensor::full(10f32, var.shape(), &Device::Cpu).unwrap();
                    var.set(&big).unwrap();
                }
            }
            let kind = super::super::StateKind::Spectral {
                channels: 4,
                modes: K,
            };
            let beta = super::super::backbone_gate_coefficients(&net, kind, 0.5, &Device::Cpu)
                .unwrap()
                .unwrap();
            let largest = beta.iter().fold(0f32, |m, b| m.max(b.abs()));
            if bound {
                // tanh saturates to exactly 1 in f32 for large heads.
                assert!(largest <= 1.0, "bounded gate reached {largest}");
                assert!(
                    largest > 0.99,
                    "bounded gate saturates near 1, got {largest}"
                );
            } else {
                assert!(largest > 5.0, "unbounded gate only reached {largest}");
            }
        }
    }

    /// L(μ) = Re Σ_k y_k e^(i 2π n·μ), summed directly in f64.
    fn correlation_at(y_re: &[f32], y_im: &[f32], mu: [f64; 2]) -> f64 {
        let n = fft_indices(K);
        let mut total = 0.0;
        for a in 0..K {
            for b in 0..K {
                let angle =
                    2.0 * std::f64::consts::PI * (n[a] as f64 * mu[0] + n[b] as f64 * mu[1]);
                let (re, im) = (f64::from(y_re[a * K + b]), f64::from(y_im[a * K + b]));
                total += re * angle.cos() - im * angle.sin();
            }
        }
        total
    }

    /// The analytic slope and curvature of the likelihood against central finite differences of
    /// the directly summed correlation.
    #[test]
    fn likelihood_slope_matches_finite_differences() {
        let cfg = config(3);
        let net = net(&cfg);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let mut draw = |n: usize, lo: f32, hi: f32| -> Vec<f32> {
            (0..n).map(|_| rng.random_range(lo..hi)).collect()
        };
        let (y_re, y_im) = (draw(K * K, -1.0, 1.0), draw(K * K, -1.0, 1.0));
        let means = draw(3 * 2, 0.3, 0.7);
        let mean = tensor(means.clone(), &[1, 3, 2]);
        let n = net.two_pi_n.reshape((1, 1, K)).unwrap();
        let phase = |i: usize| {
            let angle = mean.narrow(2, i, 1).unwrap().broadcast_mul(&n).unwrap();
            (angle.cos().unwrap(), angle.sin().unwrap())
        };
        let ((cx, sx), (cy, sy)) = (phase(0), phase(1));
        let [gx, gy, h] = net
            .likelihood_slope(
                &tensor(y_re.clone(), &[1, K, K]),
                &tensor(y_im.clone(), &[1, K, K]),
                (&cx, &sx),
                (&cy, &sy),
            )
            .unwrap();
        let row = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let (gx, gy, h) = (row(&gx), row(&gy), row(&h));
        let e = 1e-4;
        for m in 0..3 {
            let mu = [f64::from(means[2 * m]), f64::from(means[2 * m + 1])];
            let at = |dx: f64, dy: f64| correlation_at(&y_re, &y_im, [mu[0] + dx, mu[1] + dy]);
            let fd_x = (at(e, 0.0) - at(-e, 0.0)) / (2.0 * e);
            let fd_y = (at(0.0, e) - at(0.0, -e)) / (2.0 * e);
            let fd_xx = (at(e, 0.0) - 2.0 * at(0.0, 0.0) + at(-e, 0.0)) / (e * e);
            let fd_yy = (at(0.0, e) - 2.0 * at(0.0, 0.0) + at(0.0, -e)) / (e * e);
            let scale = fd_x.abs().max(fd_y.abs()).max(1.0);
            assert!(
                (f64::from(gx[m]) - fd_x).abs() < 1e-3 * scale,
                "∂x, component {m}"
            );
            assert!(
                (f64::from(gy[m]) - fd_y).abs() < 1e-3 * scale,
                "∂y, component {m}"
            );
            let curvature = -(fd_xx + fd_yy) / 2.0;
            assert!(
                (f64::from(h[m]) - curvature).abs() < 2e-3 * curvature.abs().max(100.0),
                "curvature, component {m}: {} vs {curvature}",
                h[m]
            );
        }
    }

    /// A state that is a clean point-source template at x* (both channels, φ̃ and π̃ alike).
    fn template_state(x: [f64; 2], gain: f64) -> State {
        let n = fft_indices(K);
        let kk = K * K;
        let mut v = vec![0f32; 4 * kk];
        for a in 0..K {
            for b in 0..K {
                let angle = -2.0 * std::f64::consts::PI * (n[a] as f64 * x[0] + n[b] as f64 * x[1]);
                for c in 0..2 {
                    v[2 * c * kk + a * K + b] = (gain * angle.cos()) as f32;
                    v[(2 * c + 1) * kk + a * K + b] = (gain * angle.sin()) as f32;
                }
            }
        }
        let t = tensor(v, &[1, 4, K, K]);
        State {
            phi: t.clone(),
            pi: t,
        }
    }

    /// With the MLP's output zeroed (d = s = 0, equal logits), every anchored component sits on the
    /// likelihood's peak, which for a clean template is the source position, continuous (not a
    /// feature-grid point); free components sit at the box centre.
    #[test]
    fn anchored_components_sit_on_the_likelihood_peak() {
        let mut cfg = config(3);
        cfg.anchored = 2;
        cfg.anchor_octaves = 2;
        cfg.feature_grid = 8;
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let net = MixtureNet::new(&cfg, 4, K, false, vb).unwrap();
        super::super::init_seeded(&vm, 2).unwrap();
        for (name, var) in vm.data().lock().unwrap().iter() {
            if name.starts_with("posterior.out") {
                var.set(&var.as_tensor().zeros_like().unwrap()).unwrap();
            }
        }
        let source = [0.4321, 0.5678];
        let t = tensor(vec![0.8], &[1]);
        let (weights, means, widths) = net.mixture(&template_state(source, 2.0), &t).unwrap();
        let means = means.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for m in 0..2 {
            for axis in 0..2 {
                let got = f64::from(means[2 * m + axis]);
                assert!(
                    (got - source[axis]).abs() < 1e-4,
                    "component {m}, axis {axis}: {got} vs {}",
                    source[axis]
                );
            }
        }
        assert_eq!(&means[4..6], &[0.5, 0.5], "the free component");
        let weights = weights.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(weights.iter().all(|w| (w - 1.0 / 3.0).abs() < 1e-6));
        let widths = widths.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(widths[0] > 0.0 && widths[0] == widths[1] && widths[0] < 0.05);
    }

    /// Before `anchor_from` the anchored components carry no weight and their MLP inputs are zero;
    /// after the ramp they take part as without the gate.
    #[test]
    fn anchor_gate_switches_the_anchored_components_on_at_its_time() {
        let mut cfg = config(4);
        cfg.anchored = 2;
        cfg.anchor_octaves = 1;
        cfg.feature_grid = 8;
        let gated = MixtureConfig {
            anchor_from: 0.5,
            ..cfg
        };
        let (open, closed) = (net(&cfg), net(&gated));
        let state = template_state([0.45, 0.55], 1.0);
        let anchored_weight = |net: &MixtureNet, t: f32| -> f32 {
            let (w, _, _) = net.mixture(&state, &tensor(vec![t], &[1])).unwrap();
            let w = w.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            w[0] + w[1]
        };
        assert!(anchored_weight(&closed, 0.3) < 1e-9);
        assert!(anchored_weight(&open, 0.3) > 1e-3);
        let (a, b) = (anchored_weight(&open, 0.8), anchored_weight(&closed, 0.8));
        assert!((a - b).abs() < 1e-6, "after the ramp: {a} vs {b}");
    }

    /// The local posterior's characteristic function against a direct sum: weights
    /// ∝ e^(C(u) + log q(u)) on the stencil around the peak, with C summed mode by mode and the
    /// learned log-prior table set to a known ramp (read back bilinearly by hand).
    #[test]
    fn local_posterior_is_the_stencil_quadrature() {
        let mut cfg = config(2);
        cfg.anchored = 1;
        cfg.feature_grid = 8;
        cfg.prior_grid = 5;
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let net = MixtureNet::new(&cfg, 4, K, false, vb).unwrap();
        super::super::init_seeded(&vm, 2).unwrap();
        let (lo, hi) = (cfg.positions()[0], cfg.positions()[cfg.feature_grid - 1]);
        // log q = PRIOR_GRID_SCALE · (0.3·row − 0.2·column) on the table's points.
        let ramp: Vec<f32> = (0..25)
            .map(|i| (0.3 * (i / 5) as f64 - 0.2 * (i % 5) as f64) as f32)
            .collect();
        for (name, var) in vm.data().lock().unwrap().iter() {
            if name.starts_with("prior_grid") {
                var.set(&tensor(ramp.clone(), &[5, 5])).unwrap();
            }
        }
        let state = template_state([0.46, 0.53], 0.3);
        let coefficients = net.coefficients(&tensor(vec![0.6], &[1])).unwrap();
        let (y_re, y_im) = net
            .spectrum(&net.components(&state).unwrap(), &coefficients)
            .unwrap();
        let (_, anchor) = net.posterior(&y_re, &y_im, &coefficients).unwrap();
        let anchor = anchor.unwrap();
        let (re, im) = net.local_posterior(&y_re, &y_im, &anchor).unwrap();
        let row = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let (re, im, yr, yi) = (row(&re), row(&im), row(&y_re), row(&y_im));
        let centre = row(&anchor.position);
        let sigma = f64::from(row(&anchor.width)[0]);
        let log_prior = |u: [f64; 2]| -> f64 {
            let f = |v: f64| ((v - lo) / (hi - lo) * 4.0).clamp(0.0, 4.0);
            (0.3 * f(u[0]) - 0.2 * f(u[1])) * PRIOR_GRID_SCALE
        };
        let r = STENCIL_RADIUS as i64;
        let mut points = Vec::new();
        for i in -r..=r {
            for j in -r..=r {
                let u = [
                    f64::from(centre[0]) + sigma * i as f64,
                    f64::from(centre[1]) + sigma * j as f64,
                ];
                points.push((u, correlation_at(&yr, &yi, u) + log_prior(u)));
            }
        }
        let top = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = points.iter().map(|p| (p.1 - top).exp()).sum();
        let n = fft_indices(K);
        for (a, b) in [(0usize, 0usize), (1, 0), (0, 1), (3, 5), (7, 7)] {
            let (mut er, mut ei) = (0.0, 0.0);
            for &(u, l) in &points {
                let w = (l - top).exp() / total;
                let angle = 2.0 * std::f64::consts::PI * (n[a] as f64 * u[0] + n[b] as f64 * u[1]);
                er += w * angle.cos();
                ei -= w * angle.sin();
            }
            assert!(
                (f64::from(re[a * K + b]) - er).abs() < 2e-4,
                "Re at ({a}, {b})"
            );
            assert!(
                (f64::from(im[a * K + b]) - ei).abs() < 2e-4,
                "Im at ({a}, {b})"
            );
        }
    }

    /// One component of weight 1: ū is the characteristic function of N(μ, σ²I) on the box, checked
    /// against a direct quadrature of E[e^(−i 2π n·u)] over a fine grid.
    #[test]
    fn characteristic_function_of_one_gaussian() {
        let cfg = config(1);
        let net = net(&cfg);
        let (mu, log_width) = ([0.42f64, 0.57f64], -0.5f64);
        let sigma = WIDTH_SCALE * log_width.exp();
        // raw = (logit, (μ − ½)/MEAN_SCALE per axis, log-width).
        let raw = tensor(
            vec![
                0.0,
                ((mu[0] - 0.5) / MEAN_SCALE) as f32,
                ((mu[1] - 0.5) / MEAN_SCALE) as f32,
                log_width as f32,
            ],
            &[1, 4],
        );
        let zero = Tensor::zeros((1, K, K), DType::F32, &Device::Cpu).unwrap();
        let (re, im) = net.characteristic(&raw, None, None, &zero, &zero).unwrap();
        let (re, im) = (
            re.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            im.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        );
        let n = fft_indices(K);
        let steps = 400;
        let h = 10.0 * sigma / steps as f64;
        for (a, b) in [(0usize, 1usize), (1, 0), (3, 2), (7, 5), (4, 4)] {
            let (mut qr, mut qi, mut mass) = (0.0, 0.0, 0.0);
            for i in 0..steps {
                for j in 0..steps {
                    let dx = -5.0 * sigma + (i as f64 + 0.5) * h;
                    let dy = -5.0 * sigma + (j as f64 + 0.5) * h;
                    let w = (-(dx * dx + dy * dy) / (2.0 * sigma * sigma)).exp();
                    let angle = 2.0
                        * std::f64::consts::PI
                        * (n[a] as f64 * (mu[0] + dx) + n[b] as f64 * (mu[1] + dy));
                    qr += w * angle.cos();
                    qi -= w * angle.sin();
                    mass += w;
                }
            }
            let (qr, qi) = (qr / mass, qi / mass);
            assert!(
                (f64::from(re[a * K + b]) - qr).abs() < 1e-4,
                "Re at ({a}, {b})"
            );
            assert!(
                (f64::from(im[a * K + b]) - qi).abs() < 1e-4,
                "Im at ({a}, {b})"
            );
        }
    }

    /// Late in the flow the Bayes update moves a component onto the peak of a sharp likelihood: a
    /// spectrum that is the template of a point x* (times a large gain) pulls a nearby mean to x*.
    #[test]
    fn refinement_finds_the_likelihood_peak() {
        let mut cfg = config(1);
        cfg.refine_steps = 1;
        let net = net(&cfg);
        let n = fft_indices(K);
        let target = [0.47f64, 0.53f64];
        let gain = 50.0;
        let (mut y_re, mut y_im) = (vec![0f32; K * K], vec![0f32; K * K]);
        for a in 0..K {
            for b in 0..K {
                let angle = -2.0
                    * std::f64::consts::PI
                    * (n[a] as f64 * target[0] + n[b] as f64 * target[1]);
                y_re[a * K + b] = (gain * angle.cos()) as f32;
                y_im[a * K + b] = (gain * angle.sin()) as f32;
            }
        }
        let start = [0.475f64, 0.525f64];
        let raw = tensor(
            vec![
                0.0,
                ((start[0] - 0.5) / MEAN_SCALE) as f32,
                ((start[1] - 0.5) / MEAN_SCALE) as f32,
                0.0,
            ],
            &[1, 4],
        );
        let (re, im) = net
            .characteristic(
                &raw,
                None,
                None,
                &tensor(y_re, &[1, K, K]),
                &tensor(y_im, &[1, K, K]),
            )
            .unwrap();
        // The phase of mode (1, 0) and (0, 1) is −2π μ: read the refined mean back.
        let (re, im) = (
            re.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            im.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        );
        let read = |at: usize| {
            (-f64::from(im[at]).atan2(f64::from(re[at])) / (2.0 * std::f64::consts::PI))
                .rem_euclid(1.0)
        };
        let (mx, my) = (read(K), read(1));
        assert!(
            (mx - target[0]).abs() < 1e-3 && (my - target[1]).abs() < 1e-3,
            "refined to ({mx}, {my})"
        );
    }
}
