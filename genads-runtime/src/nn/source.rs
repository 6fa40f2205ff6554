//! The boundary-source posterior network (`--preset lattice`, opt-in): a softmax posterior over
//! a fixed lattice of candidate sources for point-source spectral states. Its prior starts at the
//! training data's log histogram and its samples sit on the lattice; docs/networks.md has what it
//! measured and why it is no longer the default.
//!
//! A point-source state holds, per channel and mode k, env(k)·e^(−i k·(x* − x_min)) (PAPER.md §4.1):
//! the data manifold is the set of encoded boundary points. For any path that is affine in its
//! endpoints with Gaussian noise, and any backbone that is linear per mode (Klein-Gordon), the
//! optimal velocity is affine per mode in the current state and in the posterior mean of the
//! source's phase factor, ū(k) = E[e^(−i k·(x* − x_min)) | S_t]; and the posterior over x* has logits
//! log p(x*) + Σ_k γ_k(t) Re(ẑ_k e^(i k·(x* − x_min))), a correlation of the state with the source's
//! templates. This network has exactly that form, with learned ingredients:
//!
//! * candidate sources x*_j on a G×G grid over the central `support_percent` of the periodic box;
//! * logits = b_j + Re Σ_k (γ^φ_{c,k}(t) φ̃_{c,k} + γ^π_{c,k}(t) π̃_{c,k}) e^(i k·(x*_j − x_min)),
//!   summed over channels c, with a learned grid bias b (stored scaled down so that it learns
//!   fast; [`SourceConfig::grid_bias_scale`]) and positive gains γ = exp(·) from a small time MLP;
//! * w = softmax(logits) over the grid, ū_k = Σ_j w_j e^(−i k·(x*_j − x_min));
//! * velocity_{X,c,k} = A^{Xφ}_{c,k}(t) φ̃_{c,k} + A^{Xπ}_{c,k}(t) π̃_{c,k} + B^X_{c,k}(t) ū_k for
//!   X ∈ {φ̃, π̃} (real coefficients on the Re and Im parts alike; Hermite paths: π̃ only).
//!
//! The heads are preconditioned by the linear path's time structure (A, B scale like 1/(1 − t),
//! the gains like t/(1 − t)²); the softmax is an own op with a backward pass (candle-nn's CPU
//! softmax has none). With a Klein–Gordon backbone (`backbone_gate`) the residual subtracts
//! β ⊙ V_KG with a learned gate β per (channel, mode) starting at 1, because the backbone reaches
//! |k|²·α·Δr ≈ 80 on the highest checkerboard modes, far beyond what O(1) heads learn in minutes.
//!
//! Both Fourier sums are separable in x and y, so they cost O(B·G·K·(G + K)) as small GEMMs inside
//! autograd. The box only enters through the integer mode numbers n (k·(x − x_min) = 2π n·u with
//! u the position as a fraction of the box), so the network needs no box size. The `sub_cell`
//! option places each candidate's weight at its cell's centroid under a local quadratic model of
//! the correlation (no snapping, but no better within-cell error; off in the presets). Sources
//! outside the support cannot be generated.

use candle_core::{Device, Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder};
use serde::{Deserialize, Serialize};

use super::activation::{exp_nonpositive, silu};
use super::layers::linear;
use super::time_embedding::{SinusoidalEmbedding, MAX_PERIOD};
use super::VelocityNet;
use crate::spectral::fft_indices;
use crate::State;

/// [`SourceConfig::grid_bias_scale`] of configurations written before it was a setting.
fn legacy_grid_bias_scale() -> f64 {
    25.0
}

/// Name of the grid-bias variable.
pub const GRID_BIAS: &str = "grid_bias";

/// Regularises 1/(1 − t) at t = 1 in the velocity coefficients.
const SINGULAR_EPS: f64 = 0.01;

/// Regularises t/(1 − t)² in the posterior gains, more strongly: the candidates are a lattice, and
/// a posterior much sharper than one lattice spacing snaps samples onto it (within-cell energy
/// distance of 10,000 checkerboard samples after 3 minutes: 0.020 with 0.1, 0.024 with 0.3,
/// 0.023 with 1.0, 0.024 without the factor; 0.027 with 0.01 after 5 minutes). Larger values do
/// not help: the heads learn the sharp late posterior anyway.
const GAIN_EPS: f64 = 0.1;

/// The backbone gate β at initialisation (plus the gate head's initial output).
const GATE_START: f64 = 1.0;

/// Largest log-gain (γ = exp(g) with g clamped to ±`MAX_LOG_GAIN`): keeps the logits finite.
const MAX_LOG_GAIN: f64 = 20.0;

/// Hyper-parameters of [`SourceNet`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SourceConfig {
    /// Candidate source positions per axis G.
    pub grid: usize,
    /// The grid spans this central percentage of the box per axis (the data live in the middle
    /// of the paper's box: normalised points within ±1.8 of a box of side 8).
    pub support_percent: u32,
    /// Width of the time MLP that produces the per-mode coefficients.
    pub hidden: usize,
    /// Sinusoidal time-embedding dimension.
    pub time_dim: usize,
    /// The embedding sees `time_scale·t`.
    pub time_scale: u32,
    /// Models with a Klein–Gordon backbone: the residual subtracts β ⊙ the backbone's velocity,
    /// β learned per (channel, mode) and time, starting at 1 (see [`SourceNet`]). Off in
    /// configurations written before it existed.
    #[serde(default)]
    pub backbone_gate: bool,
    /// Sub-cell posterior: each candidate's weight sits at the centroid of its cell under a local
    /// quadratic model of the correlation instead of at the lattice point, so that a sharp posterior
    /// does not snap samples onto the lattice. Off in the presets (it did not lower the
    /// within-cell energy distance; see the module documentation) and in configurations written
    /// before it existed.
    #[serde(default)]
    pub sub_cell: bool,
    /// The grid bias (the log-prior over the candidates) is stored divided by this factor. AdamW
    /// moves a parameter by about the learning rate per step whatever its gradient's scale, so
    /// this sets how fast the log-prior moves: 25 (configurations written before it was a setting)
    /// lets a bias that starts at zero reach log-density ratios of tens in a few hundred steps, but
    /// once the bias starts at the data's log histogram it turns the minibatch noise into a random
    /// walk of the prior (relative spread of e^bias over a cell's interior sites 0.6 after 1,248
    /// steps, against 0.21 for the histogram it started from), which the samples inherit. The
    /// presets use 2.5 (see `presets.rs` for the measurements).
    #[serde(default = "legacy_grid_bias_scale")]
    pub grid_bias_scale: f64,
}

impl SourceConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> std::result::Result<(), String> {
        super::check_sizes(
            "source net",
            &[
                ("grid", self.grid, 1024),
                ("hidden width", self.hidden, super::MAX_WIDTH),
                ("time-embedding size", self.time_dim, super::MAX_WIDTH),
            ],
        )?;
        if self.grid < 2 {
            return Err(format!(
                "source grid needs ≥ 2 points per axis, got {}",
                self.grid
            ));
        }
        if self.support_percent == 0 || self.support_percent > 100 {
            return Err(format!(
                "source support must be 1–100 % of the box, got {}",
                self.support_percent
            ));
        }
        if self.hidden == 0 || self.time_scale == 0 {
            return Err("source net hidden width and time scale must be positive".into());
        }
        if !(self.grid_bias_scale.is_finite() && self.grid_bias_scale > 0.0) {
            return Err(format!(
                "grid-bias scale must be positive and finite, got {}",
                self.grid_bias_scale
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

    /// The initial grid bias estimated from training data: ln of the nearest-grid-point histogram of
    /// `fractions` (positions as fractions of the box), floored at 10⁻⁴ of the uniform density,
    /// row-major (y, x) and divided by the bias scale (the stored form). The flow-matching loss
    /// only constrains the bias through the few training times at which the posterior is still
    /// broad, so it starts at the data's log-density (3-minute main job: BV 0.026 with this start,
    /// 0.126 from a random one). `None` if no point lies on the grid or the configuration is
    /// invalid.
    pub fn grid_prior(&self, fractions: &[[f64; 2]]) -> Option<Vec<f32>> {
        self.validate().ok()?;
        let g = self.grid;
        let u = self.positions();
        let (lo, step) = (u[0], u[1] - u[0]);
        let cell = |v: f64| -> Option<usize> {
            let i = ((v - lo) / step).round();
            (i >= 0.0 && i < g as f64).then_some(i as usize)
        };
        let mut counts = vec![0f64; g * g];
        let mut total = 0.0;
        for f in fractions {
            if let (Some(i), Some(j)) = (cell(f[0]), cell(f[1])) {
                counts[j * g + i] += 1.0;
                total += 1.0;
            }
        }
        if total == 0.0 {
            return None;
        }
        let floor = 1e-4 / (g * g) as f64;
        Some(
            counts
                .iter()
                .map(|c| ((c / total).max(floor).ln() / self.grid_bias_scale) as f32)
                .collect(),
        )
    }

    /// Candidate positions per axis as fractions of the box, evenly spaced over the support.
    pub fn positions(&self) -> Vec<f64> {
        let half = f64::from(self.support_percent) / 200.0;
        let (lo, hi) = (0.5 - half, 0.5 + half);
        (0..self.grid)
            .map(|j| lo + (hi - lo) * j as f64 / (self.grid - 1) as f64)
            .collect()
    }
}

/// Fixed Fourier factors of the grid: for mode numbers n_a and positions u_j, cos/sin(2π n_a u_j).
pub(super) struct Factors {
    /// (2K, 2G) = [[C, S], [−S, C]] with C, S of shape (K, G): [y_re, y_im]·this = [Re, Im] of
    /// Σ_b y_b e^(+iθ_bj).
    forward_pair: Tensor,
    /// (2K, G) = [[C], [−S]]: [W_re, W_im]·this = Re Σ_a W_a e^(+iθ_ai).
    forward_real: Tensor,
    /// (G, 2K) = [Cᵀ, −Sᵀ]: w·this = [Re, Im] of Σ_i w_i e^(−iθ_ai).
    backward_pair: Tensor,
    /// (G, 2K) = [Cᵀ, Sᵀ] (second stage of the backward transform).
    backward_mix: Tensor,
    /// 2π n_a Δu per mode (K,): the phase of a shift by one lattice spacing Δu.
    spacing_phase: Tensor,
}

impl Factors {
    pub(super) fn new(modes: usize, positions: &[f64], device: &Device) -> Result<Self> {
        let (k, g) = (modes, positions.len());
        let n = fft_indices(modes);
        let angle = |a: usize, j: usize| 2.0 * std::f64::consts::PI * n[a] as f64 * positions[j];
        let mut forward_pair = vec![0f32; 2 * k * 2 * g];
        let mut forward_real = vec![0f32; 2 * k * g];
        let mut backward_pair = vec![0f32; g * 2 * k];
        let mut backward_mix = vec![0f32; g * 2 * k];
        for a in 0..k {
            for j in 0..g {
                let (s, c) = angle(a, j).sin_cos();
                let (s, c) = (s as f32, c as f32);
                forward_pair[a * 2 * g + j] = c;
                forward_pair[a * 2 * g + g + j] = s;
                forward_pair[(k + a) * 2 * g + j] = -s;
                forward_pair[(k + a) * 2 * g + g + j] = c;
                forward_real[a * g + j] = c;
                forward_real[(k + a) * g + j] = -s;
                backward_pair[j * 2 * k + a] = c;
                backward_pair[j * 2 * k + k + a] = -s;
                backward_mix[j * 2 * k + a] = c;
                backward_mix[j * 2 * k + k + a] = s;
            }
        }
        let spacing = if g > 1 {
            positions[1] - positions[0]
        } else {
            0.0
        };
        let spacing_phase: Vec<f32> = n
            .iter()
            .map(|&na| (2.0 * std::f64::consts::PI * na as f64 * spacing) as f32)
            .collect();
        Ok(Self {
            spacing_phase: Tensor::from_vec(spacing_phase, k, device)?,
            forward_pair: Tensor::from_vec(forward_pair, (2 * k, 2 * g), device)?,
            forward_real: Tensor::from_vec(forward_real, (2 * k, g), device)?,
            backward_pair: Tensor::from_vec(backward_pair, (g, 2 * k), device)?,
            backward_mix: Tensor::from_vec(backward_mix, (g, 2 * k), device)?,
        })
    }
}

/// Re Σ_k y_k e^(i k·(x_j − x_min)) at the G×G positions of `factors`, (B, G_y, G_x), for a
/// spectrum `y` given as its Re and Im parts (B, K, K) (x modes along dim 1, y modes along dim 2):
/// the correlation of the spectrum with the point-source template of each position.
pub(super) fn correlation(factors: &Factors, y_re: &Tensor, y_im: &Tensor) -> Result<Tensor> {
    let (b, k) = (y_re.dim(0)?, y_re.dim(1)?);
    let g = factors.forward_real.dim(1)?;
    // Σ over y modes: W[a, j] = Σ_b y_ab e^(iθ_bj), as [W_re | W_im] (B·K, 2G).
    let w = Tensor::cat(&[y_re, y_im], 2)?
        .reshape((b * k, 2 * k))?
        .matmul(&factors.forward_pair)?
        .reshape((b, k, 2, g))?;
    // Σ over x modes: Re Σ_a W[a, j] e^(iθ_ai), rows j: (B·G, 2K) · (2K, G).
    let w = w
        .permute((0, 3, 2, 1))?
        .contiguous()?
        .reshape((b * g, 2 * k))?;
    w.matmul(&factors.forward_real)?.reshape((b, g, g))
}

/// The boundary-source posterior network (see the module documentation).
pub struct SourceNet {
    embedding: SinusoidalEmbedding,
    time_layers: [Linear; 2],
    heads: Linear,
    grid_bias: Tensor,
    /// [`SourceConfig::grid_bias_scale`].
    grid_bias_scale: f64,
    factors: Factors,
    /// Head of the backbone gate β (with `backbone_gate`).
    gate: Option<Linear>,
    sub_cell: bool,
    channels: usize,
    modes: usize,
    grid: usize,
    hermite: bool,
}

/// Coefficient heads per (channel, mode): γ^φ, γ^π, A^φφ, A^φπ, A^πφ, A^ππ, B^φ, B^π.
const HEADS: usize = 8;

impl SourceNet {
    /// Builds the network for spectral states of `channels` real channels (Re/Im pairs) and
    /// `modes`×`modes` modes.
    pub fn new(
        cfg: &SourceConfig,
        channels: usize,
        modes: usize,
        hermite: bool,
        vb: VarBuilder,
    ) -> Result<Self> {
        if channels == 0 || !channels.is_multiple_of(2) {
            candle_core::bail!("the source net needs Re/Im channel pairs, got {channels} channels");
        }
        let complex = channels / 2;
        let embedding = SinusoidalEmbedding::scaled(
            cfg.time_dim,
            MAX_PERIOD,
            f64::from(cfg.time_scale),
            vb.device(),
        )?;
        let time_layers = [
            linear(vb.pp("time.0"), cfg.time_dim, cfg.hidden)?,
            linear(vb.pp("time.1"), cfg.hidden, cfg.hidden)?,
        ];
        let heads = linear(vb.pp("heads"), cfg.hidden, HEADS * complex * modes * modes)?;
        let grid_bias =
            vb.get_with_hints((cfg.grid, cfg.grid), GRID_BIAS, candle_nn::Init::Const(0.0))?;
        let factors = Factors::new(modes, &cfg.positions(), vb.device())?;
        let gate = if cfg.backbone_gate {
            Some(linear(vb.pp("gate"), cfg.hidden, complex * modes * modes)?)
        } else {
            None
        };
        Ok(Self {
            embedding,
            time_layers,
            heads,
            grid_bias,
            grid_bias_scale: cfg.grid_bias_scale,
            factors,
            gate,
            sub_cell: cfg.sub_cell,
            channels: complex,
            modes,
            grid: cfg.grid,
            hermite,
        })
    }

    /// Posterior logits over the grid, (B, G_y, G_x), for the γ-weighted spectrum `y` given as its
    /// Re and Im parts (B, K, K) (x modes along dim 1, y modes along dim 2).
    #[cfg(test)]
    fn logits(&self, y_re: &Tensor, y_im: &Tensor) -> Result<Tensor> {
        self.score(y_re, y_im)?
            .broadcast_add(&(&self.grid_bias * self.grid_bias_scale)?)
    }

    /// The correlation part of [`SourceNet::logits`] (without the grid bias), (B, G_y, G_x).
    fn score(&self, y_re: &Tensor, y_im: &Tensor) -> Result<Tensor> {
        correlation(&self.factors, y_re, y_im)
    }

    /// ū_k = Σ_j w_j e^(−iθ_k(j)) for posterior weights (B, G_y, G_x): (Re, Im), each (B, K, K).
    fn phase_mean(&self, weights: &Tensor) -> Result<(Tensor, Tensor)> {
        let (b, k, g) = (weights.dim(0)?, self.modes, self.grid);
        // Σ over x positions: P[j, a] = Σ_i w_ji e^(−iθ_ai), as [P_re | P_im] (B, G, 2K).
        let p = weights
            .reshape((b * g, g))?
            .matmul(&self.factors.backward_pair)?
            .reshape((b, g, 2 * k))?;
        // Σ over y positions with e^(−iθ_bj): rows (Re_a…, Im_a…) against [C | S] (G, 2K).
        let q = p
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b * 2 * k, g))?
            .matmul(&self.factors.backward_mix)?
            .reshape((b, 2, k, 2, k))?;
        let (pr_c, pr_s) = (q.i_part(0, 0)?, q.i_part(0, 1)?);
        let (pi_c, pi_s) = (q.i_part(1, 0)?, q.i_part(1, 1)?);
        Ok(((pr_c + pi_s)?, (pi_c - pr_s)?))
    }
}

impl SourceNet {
    /// ū_k = Σ_j w_j e^(−ik·(x_j + δ_j)) to first order in the sub-cell offsets δ_j of
    /// [`sub_cell_moments`]: Σ_j w_j e^(−iθ_k(j)) (1 − iθ^x_k δ^x_j − iθ^y_k δ^y_j), with θ^x_k,
    /// θ^y_k the phases of one lattice spacing (|θδ| ≤ π n_max Δu ≈ 0.16 rad with the quick
    /// preset). The correction terms are computed outside autograd (gradients flow through the
    /// lattice term only): inside it, candle's backward pass of the two extra transforms and
    /// products of (B, G, G) tensors nearly doubled the training step (488 vs 273 ms at batch
    /// 256, `cargo bench -p genads-runtime --bench train -- quick_spectral`, one thread).
    fn phase_mean_sub_cell(&self, weights: &Tensor, score: &Tensor) -> Result<(Tensor, Tensor)> {
        let b = weights.dim(0)?;
        let (re0, im0) = self.phase_mean(weights)?;
        let (re, im) = self.phase_mean(&sub_cell_moments(score, weights)?)?;
        let part = |x: &Tensor, i: usize| x.narrow(0, i * b, b);
        let k = self.modes;
        let theta_x = self.factors.spacing_phase.reshape((1, k, 1))?;
        let theta_y = self.factors.spacing_phase.reshape((1, 1, k))?;
        let corr_re =
            (part(&im, 0)?.broadcast_mul(&theta_x)? + part(&im, 1)?.broadcast_mul(&theta_y)?)?;
        let corr_im = (part(&re, 0)?.broadcast_mul(&theta_x)?
            + part(&re, 1)?.broadcast_mul(&theta_y)?)?
        .neg()?;
        Ok(((re0 + corr_re)?, (im0 + corr_im)?))
    }
}

/// The offset of a cell's centroid along one axis, in lattice spacings, from the correlation at
/// the cell and its two neighbours (see [`sub_cell_moments`]).
#[inline(always)]
fn sub_cell_offset(minus: f32, centre: f32, plus: f32) -> f32 {
    let slope = 0.5 * (plus - minus);
    let curvature = (2.0 * centre - plus - minus).max(0.0);
    let d = slope / (curvature + 12.0);
    if d.is_finite() {
        d.clamp(-0.5, 0.5)
    } else {
        0.0
    }
}

/// The weighted sub-cell offsets [w ⊙ δ^x; w ⊙ δ^y], (2B, G_y, G_x), detached, for posterior
/// weights `weights` and correlation `score`, both (B, G_y, G_x). δ is the offset, in lattice
/// spacings, of each cell's centroid under the local model f(x) = a x − ½ c x² of the correlation
/// on the cell x ∈ [−½, ½]: a and c from central differences, δ = a / (max(c, 0) + 12) clipped to
/// ±½. This is exact in both limits that matter: a posterior broad on the lattice scale
/// (δ → a·Var(U[−½, ½]) = a/12) and a sharp peak inside the cell (δ → a/c, the peak); a peak
/// outside the cell puts the weight at the cell's edge nearest to it. Border cells (no neighbour
/// on a side) keep δ = 0 along that axis.
fn sub_cell_moments(score: &Tensor, weights: &Tensor) -> Result<Tensor> {
    let (b, gy, gx) = score.dims3()?;
    let data = |x: &Tensor| -> Result<Vec<f32>> {
        x.detach()
            .to_dtype(candle_core::DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()
    };
    let (s, w) = (data(score)?, data(weights)?);
    if w.len() != s.len() {
        candle_core::bail!(
            "sub-cell moments: weights {:?} vs score {:?}",
            weights.dims(),
            score.dims()
        );
    }
    let plane = gy * gx;
    let mut out = vec![0f32; 2 * s.len()];
    let (mx, my) = out.split_at_mut(s.len());
    for p in 0..b {
        let (sp, wp) = (
            &s[p * plane..(p + 1) * plane],
            &w[p * plane..(p + 1) * plane],
        );
        let (xp, yp) = (
            &mut mx[p * plane..(p + 1) * plane],
            &mut my[p * plane..(p + 1) * plane],
        );
        for j in 0..gy {
            let row = &sp[j * gx..(j + 1) * gx];
            for i in 1..gx.saturating_sub(1) {
                let at = j * gx + i;
                xp[at] = wp[at] * sub_cell_offset(row[i - 1], row[i], row[i + 1]);
            }
            if j > 0 && j + 1 < gy {
                let (up, down) = (&sp[(j - 1) * gx..j * gx], &sp[(j + 1) * gx..(j + 2) * gx]);
                for i in 0..gx {
                    let at = j * gx + i;
                    yp[at] = wp[at] * sub_cell_offset(up[i], row[i], down[i]);
                }
            }
        }
    }
    Tensor::from_vec(out, (2 * b, gy, gx), score.device())?.to_dtype(weights.dtype())
}

/// Softmax over the last axis of a matrix, with gradients. Contiguous f32 CPU matrices take one
/// custom op, one pass per row with a vectorisable exponential ([`exp_nonpositive`]); anything
/// else takes [`softmax_composed`]. candle-nn's CPU softmax is not used: it has no backward pass,
/// and gradients silently stop at it.
fn softmax_rows(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 && x.rank() == 2 {
        x.contiguous()?.apply_op1(SoftmaxRows)
    } else {
        softmax_composed(x)
    }
}

/// Softmax over the last axis from candle's differentiable primitives: e^(x − max) / Σ.
pub(super) fn softmax_composed(x: &Tensor) -> Result<Tensor> {
    let last = x.rank().saturating_sub(1);
    let e = x.broadcast_sub(&x.max_keepdim(last)?.detach())?.exp()?;
    e.broadcast_div(&e.sum_keepdim(last)?)
}

struct SoftmaxRows;

impl candle_core::CustomOp1 for SoftmaxRows {
    fn name(&self) -> &'static str {
        "genads-softmax-rows"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> Result<(candle_core::CpuStorage, candle_core::Shape)> {
        use rayon::prelude::*;
        let x = super::cpu_f32::storage_slice(storage, layout)?;
        let n = layout.dims()[1];
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(n.max(1))
            .zip(x.par_chunks(n.max(1)))
            .for_each(|(yr, xr)| {
                let max = xr
                    .iter()
                    .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
                for (o, &v) in yr.iter_mut().zip(xr) {
                    *o = exp_nonpositive(v - max);
                }
                // Eight partial sums, so that the reduction vectorises.
                let mut lanes = [0f32; 8];
                let mut chunks = yr.chunks_exact(8);
                for c in &mut chunks {
                    for (l, v) in lanes.iter_mut().zip(c) {
                        *l += v;
                    }
                }
                let sum = lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>();
                let inv = 1.0 / sum;
                yr.iter_mut().for_each(|o| *o *= inv);
            });
        Ok((candle_core::CpuStorage::F32(y), layout.shape().clone()))
    }

    /// dx = y ⊙ (dy − Σ y·dy) per row.
    fn bwd(&self, _arg: &Tensor, res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let dot = (res * grad)?.sum_keepdim(1)?;
        Ok(Some((res * grad.broadcast_sub(&dot)?)?))
    }
}

/// Indexing helper for the (B, 2, K, 2, K) product of [`SourceNet::phase_mean`].
trait PartIndex {
    fn i_part(&self, row: usize, col: usize) -> Result<Tensor>;
}

impl PartIndex for Tensor {
    fn i_part(&self, row: usize, col: usize) -> Result<Tensor> {
        self.narrow(1, row, 1)?
            .narrow(3, col, 1)?
            .squeeze(3)?
            .squeeze(1)
    }
}

impl VelocityNet for SourceNet {
    fn forward(&self, state: &State, t: &Tensor) -> Result<State> {
        self.forward_with_backbone(state, t, None)
    }

    fn wants_backbone(&self) -> bool {
        self.gate.is_some()
    }

    /// With `backbone_gate` and a backbone: the posterior velocity minus β ⊙ backbone, β from
    /// the gate head (one per complex channel and mode, shared by Re/Im and by φ̃/π̃).
    fn forward_with_backbone(
        &self,
        state: &State,
        t: &Tensor,
        backbone: Option<&State>,
    ) -> Result<State> {
        let coefficients = self.coefficients(t)?;
        let v = self.velocity(state, &coefficients)?;
        let (Some(beta), Some(backbone)) = (&coefficients.gate, backbone) else {
            return Ok(v);
        };
        state
            .check_same_shape(backbone, "state and backbone velocity")
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        let (b, c, k) = (state.phi.dim(0)?, self.channels, self.modes);
        let cancel = |x: &Tensor, v: Tensor| -> Result<Tensor> {
            let x = x.reshape((b, c, 2, k, k))?.broadcast_mul(beta)?;
            v - x.reshape(state.phi.shape())?
        };
        let phi = if self.hermite {
            v.phi
        } else {
            cancel(&backbone.phi, v.phi)?
        };
        Ok(State {
            phi,
            pi: cancel(&backbone.pi, v.pi)?,
        })
    }
}

/// The per-(channel, mode) coefficients of one call, each (rows, C, 1, K, K) (broadcast over
/// Re/Im): rows = 1 when the whole batch shares one time (sampling), else one per sample.
struct Coefficients {
    /// γ^φ, γ^π (exponentiated).
    gains: [Tensor; 2],
    /// A^φφ, A^φπ, A^πφ, A^ππ, B^φ, B^π.
    linear: [Tensor; 6],
    /// β, the gate coefficient on the backbone (with `backbone_gate`).
    gate: Option<Tensor>,
}

impl SourceNet {
    /// The coefficients for times `t` (B,), from the time MLP and the preconditioned heads.
    fn coefficients(&self, t: &Tensor) -> Result<Coefficients> {
        let b = t.dim(0)?;
        let (c, k) = (self.channels, self.modes);
        // The coefficients depend on t only: when the whole batch shares one time (sampling),
        // compute them once and broadcast.
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
        // Preconditioning by the linear path's time structure: E[v | S_t] = (E[S_1 | S_t] − S_t)/(1 − t)
        // and the posterior sharpens like t/(1 − t)², so the heads learn O(1) functions of t. Other
        // paths and backbones only change what the heads learn.
        let column = |x: Tensor| x.reshape((rows, 1, 1, 1, 1));
        let scale_v = column(((t.neg()? + (1.0 + SINGULAR_EPS))?).recip()?)?;
        let log_sharp =
            column((t.clamp(1e-6, 1.0)?.log()? - ((t.neg()? + (1.0 + GAIN_EPS))?.log()? * 2.0)?)?)?;
        let heads = self.heads.forward(&h)?.reshape((rows, HEADS, c, 1, k, k))?;
        let head = |i: usize| -> Result<Tensor> { heads.narrow(1, i, 1)?.squeeze(1) };
        let gain = |i: usize| -> Result<Tensor> {
            head(i)?
                .broadcast_add(&log_sharp)?
                .clamp(-MAX_LOG_GAIN, MAX_LOG_GAIN)?
                .exp()
        };
        let linear = |i: usize| -> Result<Tensor> { head(i)?.broadcast_mul(&scale_v) };
        // β starts near 1: the residual first cancels the backbone (whose velocity reaches
        // |k|²·α·Δr ≈ 80 on the highest checkerboard modes, far beyond what O(1) heads learn in
        // minutes) and learns how much of it to subtract.
        let gate = match &self.gate {
            Some(layer) => Some((layer.forward(&h)?.reshape((rows, c, 1, k, k))? + GATE_START)?),
            None => None,
        };
        Ok(Coefficients {
            gate,
            gains: [gain(0)?, gain(1)?],
            linear: [
                linear(2)?,
                linear(3)?,
                linear(4)?,
                linear(5)?,
                linear(6)?,
                linear(7)?,
            ],
        })
    }

    /// The velocity of `state` given the coefficients of its times.
    fn velocity(&self, state: &State, coefficients: &Coefficients) -> Result<State> {
        let (b, c, k) = (state.phi.dim(0)?, self.channels, self.modes);
        let [gain_phi, gain_pi] = &coefficients.gains;
        let [a_phi_phi, a_phi_pi, a_pi_phi, a_pi_pi, b_phi, b_pi] = &coefficients.linear;
        // States as (B, C, 2, K, K): [Re, Im] per complex channel.
        let phi = state.phi.reshape((b, c, 2, k, k))?;
        let pi = state.pi.reshape((b, c, 2, k, k))?;
        let y = (phi.broadcast_mul(gain_phi)? + pi.broadcast_mul(gain_pi)?)?.sum(1)?;
        let y_re = y.narrow(1, 0, 1)?.squeeze(1)?;
        let y_im = y.narrow(1, 1, 1)?.squeeze(1)?;
        let score = self.score(&y_re, &y_im)?;
        let logits = score.broadcast_add(&(&self.grid_bias * self.grid_bias_scale)?)?;
        let (g, g2) = (self.grid, self.grid * self.grid);
        let weights = softmax_rows(&logits.reshape((b, g2))?)?.reshape((b, g, g))?;
        let (u_re, u_im) = if self.sub_cell {
            self.phase_mean_sub_cell(&weights, &score)?
        } else {
            self.phase_mean(&weights)?
        };
        // ū as (B, 1, 2, K, K), shared by every channel.
        let u = Tensor::stack(&[&u_re, &u_im], 1)?.unsqueeze(1)?;
        let velocity = |a_phi: &Tensor, a_pi: &Tensor, b_u: &Tensor| -> Result<Tensor> {
            let v = (phi.broadcast_mul(a_phi)? + pi.broadcast_mul(a_pi)?)?;
            (v + u.broadcast_mul(b_u)?)?.reshape(state.phi.shape())
        };
        let v_pi = velocity(a_pi_phi, a_pi_pi, b_pi)?;
        let v_phi = if self.hermite {
            state.phi.zeros_like()?
        } else {
            velocity(a_phi_phi, a_phi_pi, b_phi)?
        };
        Ok(State {
            phi: v_phi,
            pi: v_pi,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{Codec, DataBatch, PointSourceCodec, PointSourceConfig};
    use crate::envelope::EnvelopeGrid;
    use candle_core::DType;
    use candle_nn::VarMap;

    const K: usize = 8;

    fn config(grid: usize) -> SourceConfig {
        SourceConfig {
            grid,
            support_percent: 50,
            hidden: 8,
            time_dim: 8,
            time_scale: 1,
            backbone_gate: false,
            sub_cell: false,
            grid_bias_scale: 3.0,
        }
    }

    fn net(grid: usize, hermite: bool) -> (SourceNet, VarMap) {
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let net = SourceNet::new(&config(grid), 4, K, hermite, vb).unwrap();
        super::super::init_seeded(&vm, 5).unwrap();
        (net, vm)
    }

    /// A network whose grid bias is zero, so that its logits are the bare correlation.
    fn net_without_bias(grid: usize) -> SourceNet {
        let (net, vm) = net(grid, false);
        vm.data().lock().unwrap()[GRID_BIAS]
            .set(&Tensor::zeros((grid, grid), DType::F32, &Device::Cpu).unwrap())
            .unwrap();
        net
    }

    /// A codec on the box [−4, 4]² with unit envelopes: it encodes a point as its bare phase
    /// factor e^(−i k·(x − x_min)), so it is an independent oracle for the network's templates.
    fn unit_codec() -> PointSourceCodec {
        let config = PointSourceConfig {
            modes: K,
            ..PointSourceConfig::default()
        };
        let grid = config.mode_grid().unwrap();
        let env = EnvelopeGrid::from_fn(&grid, |_| Ok((1.0, 1.0))).unwrap();
        PointSourceCodec::new(config, env).unwrap()
    }

    /// The point of the box at grid cell (row j = y, column i = x).
    fn grid_point(cfg: &SourceConfig, j: usize, i: usize) -> [f64; 2] {
        let u = cfg.positions();
        [-4.0 + 8.0 * u[i], -4.0 + 8.0 * u[j]]
    }

    /// Channel 0 of the φ̃ encoding of `p` as (Re, Im) tensors of shape (1, K, K).
    fn encoded(codec: &PointSourceCodec, p: [f64; 2]) -> (Tensor, Tensor) {
        let s = codec.encode(&DataBatch::Points(vec![p]), None).unwrap();
        (
            s.phi.narrow(1, 0, 1).unwrap().squeeze(1).unwrap(),
            s.phi.narrow(1, 1, 1).unwrap().squeeze(1).unwrap(),
        )
    }

    #[test]
    fn logits_are_the_direct_template_correlation() {
        let net = net_without_bias(5);
        let codec = unit_codec();
        let cfg = config(5);
        let u = cfg.positions();
        // An arbitrary spectrum: a sum of two encoded points with complex weights.
        let (ar, ai) = encoded(&codec, [0.3, -1.1]);
        let (br, bi) = encoded(&codec, [-0.7, 0.9]);
        let y_re = ((&ar * 0.8).unwrap() - (&bi * 0.5).unwrap()).unwrap();
        let y_im = ((&ai * 0.8).unwrap() + (&br * 0.5).unwrap()).unwrap();
        let logits = net.logits(&y_re, &y_im).unwrap().to_vec3::<f32>().unwrap();
        let yr = y_re.to_vec3::<f32>().unwrap();
        let yi = y_im.to_vec3::<f32>().unwrap();
        let n = fft_indices(K);
        for j in 0..5 {
            for i in 0..5 {
                // Re Σ_ab y_ab e^(2πi (n_a u_i + n_b u_j)), summed directly in f64.
                let mut direct = 0.0;
                for a in 0..K {
                    for b in 0..K {
                        let th =
                            2.0 * std::f64::consts::PI * (n[a] as f64 * u[i] + n[b] as f64 * u[j]);
                        direct += yr[0][a][b] as f64 * th.cos() - yi[0][a][b] as f64 * th.sin();
                    }
                }
                assert!((logits[0][j][i] as f64 - direct).abs() < 1e-4, "({j},{i})");
            }
        }
    }

    #[test]
    fn an_encoded_grid_point_peaks_at_its_cell_and_a_point_mass_maps_back_to_it() {
        let net = net_without_bias(7);
        let codec = unit_codec();
        let cfg = config(7);
        for (j, i) in [(0, 0), (2, 5), (6, 3)] {
            let (re, im) = encoded(&codec, grid_point(&cfg, j, i));
            let logits = net.logits(&re, &im).unwrap().flatten_all().unwrap();
            let best = logits.argmax(0).unwrap().to_scalar::<u32>().unwrap() as usize;
            assert_eq!(best, j * 7 + i);
            // The correlation with the own template is Σ_k |e^(−iθ)|² = K².
            let peak = logits.max(0).unwrap().to_scalar::<f32>().unwrap();
            assert!((peak - (K * K) as f32).abs() < 1e-3);
            // A posterior concentrated on the cell gives back the point's phase factors.
            let mut w = vec![0f32; 49];
            w[j * 7 + i] = 1.0;
            let w = Tensor::from_vec(w, (1, 7, 7), &Device::Cpu).unwrap();
            let (ur, ui) = net.phase_mean(&w).unwrap();
            let err = ((ur - &re).unwrap().abs().unwrap().max_all().unwrap())
                .maximum(&(ui - &im).unwrap().abs().unwrap().max_all().unwrap())
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(err < 1e-5, "cell ({j},{i}): {err}");
        }
    }

    #[test]
    fn shapes_hermite_zeros_and_validation() {
        for hermite in [false, true] {
            let (net, _) = net(6, hermite);
            let dev = Device::Cpu;
            let phi = Tensor::randn(0f32, 1.0, (3, 4, K, K), &dev).unwrap();
            let pi = Tensor::randn(0f32, 1.0, (3, 4, K, K), &dev).unwrap();
            let t = Tensor::new(&[0.0f32, 0.5, 1.0], &dev).unwrap();
            let v = net.forward(&State { phi, pi }, &t).unwrap();
            assert_eq!(v.phi.dims(), &[3, 4, K, K]);
            assert_eq!(v.pi.dims(), &[3, 4, K, K]);
            let phi_abs = v
                .phi
                .abs()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert_eq!(phi_abs == 0.0, hermite);
            let finite = v.pi.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert!(finite.iter().all(|x| x.is_finite()));
        }
        assert!(config(1).validate().is_err());
        assert!(SourceConfig {
            support_percent: 0,
            ..config(4)
        }
        .validate()
        .is_err());
        for scale in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let cfg = SourceConfig {
                grid_bias_scale: scale,
                ..config(4)
            };
            assert!(cfg.validate().is_err(), "grid-bias scale {scale}");
        }
        assert!(SourceConfig {
            support_percent: 101,
            ..config(4)
        }
        .validate()
        .is_err());
        assert!(SourceConfig {
            time_dim: 3,
            ..config(4)
        }
        .validate()
        .is_err());
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        assert!(SourceNet::new(&config(4), 3, K, false, vb).is_err());
    }

    #[test]
    fn grid_prior_is_the_log_histogram_of_the_points_on_the_grid() {
        let cfg = config(5); // positions 0.25, 0.375, 0.5, 0.625, 0.75
                             // Three points nearest to cell (y 1, x 3), one to (y 4, x 0), one off the grid.
        let pts = [
            [0.63, 0.37],
            [0.61, 0.38],
            [0.625, 0.375],
            [0.26, 0.74],
            [0.95, 0.5],
        ];
        let prior = cfg.grid_prior(&pts).unwrap();
        let ln = |v: f64| (v.ln() / cfg.grid_bias_scale) as f32;
        assert!((prior[5 + 3] - ln(0.75)).abs() < 1e-6);
        assert!((prior[4 * 5] - ln(0.25)).abs() < 1e-6);
        assert!((prior[0] - ln(1e-4 / 25.0)).abs() < 1e-6);
        assert!(cfg.grid_prior(&[[0.0, 0.0]]).is_none());
        assert!(config(1).grid_prior(&pts).is_none());
    }

    /// A batch that shares one time takes the shared-coefficient path; it must agree with
    /// evaluating each sample alone.
    #[test]
    fn a_shared_time_gives_the_per_sample_result() {
        let (net, _) = net(6, false);
        let dev = Device::Cpu;
        let phi = Tensor::randn(0f32, 1.0, (3, 4, K, K), &dev).unwrap();
        let pi = Tensor::randn(0f32, 1.0, (3, 4, K, K), &dev).unwrap();
        let t = Tensor::new(&[0.3f32, 0.3, 0.3], &dev).unwrap();
        let all = net
            .forward(
                &State {
                    phi: phi.clone(),
                    pi: pi.clone(),
                },
                &t,
            )
            .unwrap();
        for i in 0..3 {
            let one = net
                .forward(
                    &State {
                        phi: phi.narrow(0, i, 1).unwrap(),
                        pi: pi.narrow(0, i, 1).unwrap(),
                    },
                    &t.narrow(0, i, 1).unwrap(),
                )
                .unwrap();
            for (a, b) in [(&all.phi, &one.phi), (&all.pi, &one.pi)] {
                let d = max_abs(&a.narrow(0, i, 1).unwrap(), b);
                assert!(d < 1e-4, "sample {i}: {d}");
            }
        }
    }

    /// The fused softmax against the one composed of candle's differentiable primitives (the
    /// fallback for other devices and dtypes), forward and backward through a weighted sum.
    #[test]
    fn fused_softmax_matches_candle() {
        let dev = Device::Cpu;
        let x = (Tensor::randn(0f32, 1.0, (3, 50), &dev).unwrap() * 30.0).unwrap();
        let w = Tensor::randn(0f32, 1.0, (3, 50), &dev).unwrap();
        let var = candle_core::Var::from_tensor(&x).unwrap();
        let ours = softmax_rows(var.as_tensor()).unwrap();
        let theirs = softmax_composed(var.as_tensor()).unwrap();
        assert!(max_abs(&ours, &theirs) < 1e-6);
        let g1 = (ours * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (theirs * &w)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert!(max_abs(g1.get(&var).unwrap(), g2.get(&var).unwrap()) < 1e-5);
        // The fallback (here: f64) carries gradients too.
        let var64 = candle_core::Var::from_tensor(&x.to_dtype(DType::F64).unwrap()).unwrap();
        let y64 = softmax_rows(var64.as_tensor()).unwrap();
        let g = (y64 * w.to_dtype(DType::F64).unwrap())
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert!(g.get(&var64).is_some());
    }

    #[test]
    fn positions_span_the_central_support() {
        let p = config(5).positions();
        assert_eq!(p.len(), 5);
        assert!((p[0] - 0.25).abs() < 1e-12 && (p[4] - 0.75).abs() < 1e-12);
        assert!((p[2] - 0.5).abs() < 1e-12);
    }

    use crate::nn::max_abs_diff as max_abs;

    /// A (1, G, G) score sampled from −½ c |x − peak|² (lattice units, x = (row, column)).
    fn quadratic_score(g: usize, peak: [f64; 2], c: f64) -> Tensor {
        let mut v = Vec::with_capacity(g * g);
        for j in 0..g {
            for i in 0..g {
                let (dy, dx) = (j as f64 - peak[0], i as f64 - peak[1]);
                v.push((-0.5 * c * (dy * dy + dx * dx)) as f32);
            }
        }
        Tensor::from_vec(v, (1, g, g), &Device::Cpu).unwrap()
    }

    /// (δ^y, δ^x) of every cell: the moments of unit weights.
    fn sub_cell_offsets(score: &Tensor) -> Result<(Tensor, Tensor)> {
        let b = score.dim(0)?;
        let m = sub_cell_moments(score, &score.ones_like()?)?;
        Ok((m.narrow(0, b, b)?, m.narrow(0, 0, b)?))
    }

    #[test]
    fn sub_cell_offsets_find_sharp_peaks_and_the_broad_limit() {
        // A sharp peak at (4.3, 5.8): the peak's cell (4, 6) gets the peak's offset to within the
        // model's 12/(c + 12) shrinkage; a cell two spacings away clips at its edge.
        let (dy, dx) = sub_cell_offsets(&quadratic_score(9, [4.3, 5.8], 2000.0)).unwrap();
        let (dy, dx) = (dy.to_vec3::<f32>().unwrap(), dx.to_vec3::<f32>().unwrap());
        assert!((dy[0][4][6] - 0.3).abs() < 0.003, "{}", dy[0][4][6]);
        assert!((dx[0][4][6] + 0.2).abs() < 0.003, "{}", dx[0][4][6]);
        assert_eq!(dx[0][4][3], 0.5);
        assert_eq!(dy[0][7][6], -0.5);
        // Border cells have no offset along the axis they border.
        assert_eq!(dx[0][4][0], 0.0);
        assert_eq!(dy[0][8][6], 0.0);
        // A gentle linear slope a per spacing: the centroid of e^(a x) on a cell is a/12 to
        // first order (the variance of U[−½, ½]).
        let a = 0.05f32;
        let ramp: Vec<f32> = (0..25).map(|n| a * (n % 5) as f32).collect();
        let ramp = Tensor::from_vec(ramp, (1, 5, 5), &Device::Cpu).unwrap();
        let (dy, dx) = sub_cell_offsets(&ramp).unwrap();
        let exact = 0.5 / (a as f64 / 2.0).tanh() - 1.0 / a as f64; // coth(a/2)/2 − 1/a
        let dx = dx.to_vec3::<f32>().unwrap();
        assert!((dx[0][2][2] as f64 - exact).abs() < 1e-4 * exact);
        assert_eq!(
            dy.abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap(),
            0.0
        );
    }

    #[test]
    fn a_sub_cell_posterior_mean_is_the_template_of_the_continuous_peak() {
        // A fine grid (33 points over half the box) so that the first-order phase expansion is
        // accurate: |θδ| ≤ 2π·4·(0.2 + 0.3)·(0.5/32) ≈ 0.20 rad, second-order error ≤ θ²/2 ≈ 0.019.
        let g = 33;
        let cfg = config(g);
        let net = SourceNet::new(
            &cfg,
            4,
            K,
            false,
            VarBuilder::from_varmap(&VarMap::new(), DType::F32, &Device::Cpu),
        )
        .unwrap();
        let codec = unit_codec();
        let (j, i) = (12, 20);
        let (oy, ox) = (0.3, -0.2);
        let score = quadratic_score(g, [j as f64 + oy, i as f64 + ox], 5000.0);
        let mut w = vec![0f32; g * g];
        w[j * g + i] = 1.0;
        let w = Tensor::from_vec(w, (1, g, g), &Device::Cpu).unwrap();
        let (ur, ui) = net.phase_mean_sub_cell(&w, &score).unwrap();
        let u = cfg.positions();
        let step = 8.0 * (u[1] - u[0]);
        let lattice = grid_point(&cfg, j, i);
        let (er, ei) = encoded(&codec, [lattice[0] + ox * step, lattice[1] + oy * step]);
        let err = max_abs(&ur, &er).max(max_abs(&ui, &ei));
        // The lattice point's own template misses by the shift's phase (up to ≈ 0.20).
        let (lr, li) = encoded(&codec, lattice);
        let lattice_err = max_abs(&lr, &er).max(max_abs(&li, &ei));
        assert!(err < 0.02, "sub-cell error {err}");
        assert!(lattice_err > 0.15, "lattice error {lattice_err}");
    }

    #[test]
    fn the_backbone_gate_subtracts_beta_times_the_backbone() {
        let vm = VarMap::new();
        let cfg = SourceConfig {
            backbone_gate: true,
            ..config(6)
        };
        for hermite in [false, true] {
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
            let net = SourceNet::new(&cfg, 4, K, hermite, vb.pp(hermite)).unwrap();
            super::super::init_seeded(&vm, 3).unwrap();
            assert!(net.wants_backbone());
            let dev = Device::Cpu;
            let state = State {
                phi: Tensor::randn(0f32, 1.0, (3, 4, K, K), &dev).unwrap(),
                pi: Tensor::randn(0f32, 1.0, (3, 4, K, K), &dev).unwrap(),
            };
            let backbone = State {
                phi: Tensor::randn(0f32, 5.0, (3, 4, K, K), &dev).unwrap(),
                pi: Tensor::randn(0f32, 5.0, (3, 4, K, K), &dev).unwrap(),
            };
            let t = Tensor::new(&[0.1f32, 0.5, 0.9], &dev).unwrap();
            let bare = net.forward(&state, &t).unwrap();
            let gated = net
                .forward_with_backbone(&state, &t, Some(&backbone))
                .unwrap();
            let double = State {
                phi: (&backbone.phi * 2.0).unwrap(),
                pi: (&backbone.pi * 2.0).unwrap(),
            };
            let gated2 = net
                .forward_with_backbone(&state, &t, Some(&double))
                .unwrap();
            // Linear in the backbone: twice the backbone subtracts twice as much.
            let once = (&gated.pi - &bare.pi).unwrap();
            let twice = (&gated2.pi - &bare.pi).unwrap();
            assert!(max_abs(&(once * 2.0).unwrap(), &twice) < 1e-3);
            // Hermite paths: the φ̃ part stays zero.
            if hermite {
                assert_eq!(max_abs(&gated.phi, &bare.phi), 0.0);
            }
            // With the gate head zeroed, β = 1: the residual cancels the backbone exactly.
            for name in ["gate.weight", "gate.bias"] {
                let key = format!("{hermite}.{name}");
                let data = vm.data().lock().unwrap();
                let var = &data[&key];
                var.set(&var.as_tensor().zeros_like().unwrap()).unwrap();
            }
            let cancelled = net
                .forward_with_backbone(&state, &t, Some(&backbone))
                .unwrap();
            let expected = (&bare.pi - &backbone.pi).unwrap();
            assert!(max_abs(&cancelled.pi, &expected) < 1e-4);
            // The probe `genads eval` prints reads β = 1 back from the network.
            let kind = super::super::StateKind::Spectral {
                channels: 4,
                modes: K,
            };
            let beta = super::super::backbone_gate_coefficients(&net, kind, 0.3, &dev)
                .unwrap()
                .unwrap();
            assert_eq!(beta.len(), 4 * K * K);
            assert!(beta.iter().all(|b| (b - 1.0).abs() < 1e-5));
            if !hermite {
                let expected = (&bare.phi - &backbone.phi).unwrap();
                assert!(max_abs(&cancelled.phi, &expected) < 1e-4);
            }
            // Without a backbone (α = 0 models) the gate is not applied, and a network without
            // a gate has no β to report.
            let none = net.forward_with_backbone(&state, &t, None).unwrap();
            assert_eq!(max_abs(&none.pi, &bare.pi), 0.0);
            let (plain, _) = self::net(6, hermite);
            assert!(
                super::super::backbone_gate_coefficients(&plain, kind, 0.3, &dev)
                    .unwrap()
                    .is_none()
            );
        }
    }
}
