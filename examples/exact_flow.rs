//! The exact flow of a linear-path holographic checkerboard model, and how far a trained network is
//! from it.
//!
//! For point sources on the linear path every ingredient of the optimal velocity
//! E[U_t | S_t] is Gaussian algebra except one: the posterior over the source position x*, which is
//! the data density times a likelihood exp C(x) whose log is the correlation of the state with the
//! point-source templates (PAPER.md §4.1, docs/networks.md). The checkerboard's density is known
//! exactly, so this example computes that posterior by quadrature (a grid over the data's support
//! while the likelihood is broad, a grid around its peak once it is sharp) and with it
//!
//! * `sample`: samples of the exact flow with the model's solver, decoded and scored like a trained
//!   run's (the ceiling any network of this model can reach with that solver);
//! * `gap RUN`: the excess loss of a trained run's EMA network per time bin, E ω(r_t)‖R_θ − R*‖²
//!   over training states (R* the exact residual): where in the flow the network falls short.
//!
//! Run: `cargo run --release --example exact_flow -- sample models/ads_linear.genads [N] [STEPS] [SEED]`
//! or `cargo run --release --example exact_flow -- gap RUN [STATES PER BIN]`.

use std::collections::BTreeMap;

use anyhow::{bail, ensure, Context};
use genads::runtime::candle_core::{Device, Tensor};
use genads::runtime::data::checkerboard::Checkerboard;
use genads::runtime::encode::DataBatch;
use genads::runtime::experiment::{score_points, Experiment, ExperimentConfig, PointExperiment};
use genads::runtime::nn::peak::PeakFinder;
use genads::runtime::physics::{PathKind, Physics, State};
use genads::runtime::rng::{self, ChaCha8Rng};
use genads::runtime::sample::{network_residual, sample_each};
use genads::runtime::solver::Solver;
use genads::runtime::spectral::fft_indices;
use rayon::prelude::*;

/// Grid points per axis over the support while the likelihood is broad.
const GLOBAL_GRID: usize = 160;
/// Grid points per axis around the peak once the likelihood is sharp, spanning ± `LOCAL_SPAN` σ.
const LOCAL_GRID: usize = 48;
const LOCAL_SPAN: f64 = 7.0;
/// The local grid is used once the Laplace width is below this many global grid spacings.
const LOCAL_BELOW: f64 = 3.0;
/// The velocity is evaluated at t ≤ 1 − `T_MAX_GAP` (it is 0/0 at t = 1).
const T_MAX_GAP: f64 = 1e-4;

/// The exact posterior and velocity of a linear-path point-source model on the checkerboard.
struct ExactFlow {
    k: usize,
    channels: usize,
    env_phi: Vec<f64>,
    env_pi: Vec<f64>,
    theta: Vec<f64>,
    var_phi: f64,
    var_pi: f64,
    lift: f64,
    /// Global grid: positions per axis (box fractions) and the data density's support on it.
    grid: Vec<f64>,
    support: Vec<bool>,
    /// Data coordinates of a box fraction: x = origin + scale·u per axis.
    origin: [f64; 2],
    scale: [f64; 2],
    peaks: PeakFinder,
}

type C64 = (f64, f64);

impl ExactFlow {
    fn new(experiment: &PointExperiment) -> anyhow::Result<Self> {
        let c = experiment.physics().constants();
        ensure!(
            c.path == PathKind::Linear,
            "the exact flow is implemented for the linear path only ({} uses {:?})",
            c.name,
            c.path
        );
        ensure!(
            c.prior.phi.sobolev_power == 0.0 && c.prior.pi.sobolev_power == 0.0,
            "the exact flow needs the uniform IR prior"
        );
        let shape = experiment.codec().state_shape(1);
        ensure!(
            shape.len() == 4,
            "not a point-source model (state shape {shape:?})"
        );
        let (channels, k) = (shape[1] / 2, shape[2]);
        // Box fractions of two data points give the affine map between the coordinates.
        let u = experiment
            .codec()
            .box_fractions(&[[0.0, 0.0], [1.0, 1.0]])
            .context("not a point-source codec")?;
        let slope = [u[1][0] - u[0][0], u[1][1] - u[0][1]];
        let scale = [1.0 / slope[0], 1.0 / slope[1]];
        let origin = [-u[0][0] * scale[0], -u[0][1] * scale[1]];
        // The envelopes: the state of the source at the box corner (u = 0) is env(k) in every mode.
        let corner = DataBatch::Points(vec![origin]);
        let s = experiment.codec().encode(&corner, None)?;
        let read = |t: &Tensor| -> anyhow::Result<Vec<f64>> {
            let v = t.flatten_all()?.to_vec1::<f32>()?;
            Ok(v[..k * k].iter().map(|&x| f64::from(x)).collect())
        };
        let (env_phi, env_pi) = (read(&s.phi)?, read(&s.pi)?);
        // The support's bounding box in box fractions: the domain [−4, 4]².
        let lo = (-4.0 - origin[0]) / scale[0];
        let hi = (4.0 - origin[0]) / scale[0];
        let grid: Vec<f64> = (0..GLOBAL_GRID)
            .map(|i| lo + (hi - lo) * (i as f64 + 0.5) / GLOBAL_GRID as f64)
            .collect();
        let mut flow = Self {
            k,
            channels,
            env_phi,
            env_pi,
            theta: fft_indices(k)
                .iter()
                .map(|&n| 2.0 * std::f64::consts::PI * n as f64)
                .collect(),
            var_phi: c.prior.phi.scale,
            var_pi: c.prior.pi.scale,
            lift: c.lift_noise,
            grid,
            support: Vec::new(),
            origin,
            scale,
            peaks: PeakFinder::new(k),
        };
        flow.support = (0..GLOBAL_GRID * GLOBAL_GRID)
            .map(|ij| flow.valid([flow.grid[ij % GLOBAL_GRID], flow.grid[ij / GLOBAL_GRID]]))
            .collect();
        Ok(flow)
    }

    fn valid(&self, u: [f64; 2]) -> bool {
        Checkerboard::is_valid(
            self.origin[0] + self.scale[0] * u[0],
            self.origin[1] + self.scale[1] * u[1],
        )
    }

    /// ū(a, b) = Σ_p w_p e^(−iθ_a u_x,p) e^(−iθ_b u_y,p) for weighted points.
    fn characteristic(&self, points: &[([f64; 2], f64)]) -> Vec<C64> {
        let k = self.k;
        let mut out = vec![(0.0, 0.0); k * k];
        let mut ey = vec![(0.0, 0.0); k];
        for &(u, w) in points {
            for (e, th) in ey.iter_mut().zip(&self.theta) {
                let (s, c) = (th * u[1]).sin_cos();
                *e = (c, -s);
            }
            for (a, th) in self.theta.iter().enumerate() {
                let (s, c) = (th * u[0]).sin_cos();
                let ex = (c * w, -s * w);
                for (b, e) in ey.iter().enumerate() {
                    let o = &mut out[a * k + b];
                    o.0 += ex.0 * e.0 - ex.1 * e.1;
                    o.1 += ex.0 * e.1 + ex.1 * e.0;
                }
            }
        }
        out
    }

    /// C(u) = Re Σ y_ab e^(i(θ_a u_x + θ_b u_y)) at the points of a separable grid (xs × ys),
    /// row-major with y along rows.
    fn correlation_grid(&self, re: &[f32], im: &[f32], xs: &[f64], ys: &[f64]) -> Vec<f64> {
        let k = self.k;
        // W[a][j] = Σ_b y_ab e^(iθ_b y_j).
        let mut w = vec![(0.0, 0.0); k * ys.len()];
        for (j, y) in ys.iter().enumerate() {
            for (b, th) in self.theta.iter().enumerate() {
                let (s, c) = (th * y).sin_cos();
                for a in 0..k {
                    let (yr, yi) = (f64::from(re[a * k + b]), f64::from(im[a * k + b]));
                    let o = &mut w[a * ys.len() + j];
                    o.0 += yr * c - yi * s;
                    o.1 += yr * s + yi * c;
                }
            }
        }
        let mut out = vec![0.0; xs.len() * ys.len()];
        for (i, x) in xs.iter().enumerate() {
            for (a, th) in self.theta.iter().enumerate() {
                let (s, c) = (th * x).sin_cos();
                for j in 0..ys.len() {
                    let v = w[a * ys.len() + j];
                    out[j * xs.len() + i] += c * v.0 - s * v.1;
                }
            }
        }
        out
    }

    /// The posterior characteristic function ū for one sample's likelihood spectrum y.
    fn posterior(&self, re: &[f32], im: &[f32]) -> Vec<C64> {
        let g = GLOBAL_GRID;
        let c = self.correlation_grid(re, im, &self.grid, &self.grid);
        let (mut best, mut at) = (f64::NEG_INFINITY, 0);
        for (i, (&v, &ok)) in c.iter().zip(&self.support).enumerate() {
            if ok && v > best {
                best = v;
                at = i;
            }
        }
        let spacing = self.grid[1] - self.grid[0];
        let start = [self.grid[at % g], self.grid[at / g]];
        let peak = self.peaks.find(re, im, &[start], spacing / 2.0)[0];
        let sigma = peak.curvature.max(f64::MIN_POSITIVE).sqrt().recip();
        if sigma < LOCAL_BELOW * spacing {
            let axis = |centre: f64| -> Vec<f64> {
                (0..LOCAL_GRID)
                    .map(|i| {
                        centre
                            + LOCAL_SPAN
                                * sigma
                                * (2.0 * (i as f64 + 0.5) / LOCAL_GRID as f64 - 1.0)
                    })
                    .collect()
            };
            // The peak of the unconstrained likelihood may sit outside the support: centre the
            // local grid on the best supported point when that is far from it.
            let centre = if self.valid(peak.position) {
                peak.position
            } else {
                start
            };
            let (xs, ys) = (axis(centre[0]), axis(centre[1]));
            let local = self.correlation_grid(re, im, &xs, &ys);
            let top = local.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let points: Vec<([f64; 2], f64)> = local
                .iter()
                .enumerate()
                .filter_map(|(p, &v)| {
                    let u = [xs[p % LOCAL_GRID], ys[p / LOCAL_GRID]];
                    self.valid(u).then(|| (u, (v - top).exp()))
                })
                .collect();
            let mass: f64 = points.iter().map(|p| p.1).sum();
            if mass > 1e-6 {
                let points: Vec<_> = points.into_iter().map(|(u, w)| (u, w / mass)).collect();
                return self.characteristic(&points);
            }
        }
        let points: Vec<([f64; 2], f64)> = c
            .iter()
            .zip(&self.support)
            .enumerate()
            .filter(|(_, (_, &ok))| ok)
            .map(|(p, (&v, _))| ([self.grid[p % g], self.grid[p / g]], (v - best).exp()))
            .collect();
        let mass: f64 = points.iter().map(|p| p.1).sum();
        let points: Vec<_> = points.into_iter().map(|(u, w)| (u, w / mass)).collect();
        self.characteristic(&points)
    }

    /// The exact t-velocity E[S₁ − S₀ | S_t] of a batch at time t.
    fn velocity(&self, state: &State, t: f64) -> anyhow::Result<State> {
        let t = t.min(1.0 - T_MAX_GAP);
        let (k, ch) = (self.k, self.channels);
        let kk = k * k;
        let phi = state.phi.flatten_all()?.to_vec1::<f32>()?;
        let pi = state.pi.flatten_all()?.to_vec1::<f32>()?;
        let per = 2 * ch * kk;
        let b = phi.len() / per;
        let var_phi = (1.0 - t).powi(2) * self.var_phi;
        let var_pi = (1.0 - t).powi(2) * self.var_pi + t * t * self.lift * self.lift;
        let rows: Vec<(Vec<f32>, Vec<f32>)> = (0..b)
            .into_par_iter()
            .map(|s| {
                let (p, q) = (&phi[s * per..(s + 1) * per], &pi[s * per..(s + 1) * per]);
                let (mut re, mut im) = (vec![0f32; kk], vec![0f32; kk]);
                for c in 0..ch {
                    for m in 0..kk {
                        let gp = t * self.env_phi[m] / var_phi;
                        let gq = t * self.env_pi[m] / var_pi;
                        let (r0, i0) = ((2 * c) * kk + m, (2 * c + 1) * kk + m);
                        re[m] += (gp * f64::from(p[r0]) + gq * f64::from(q[r0])) as f32;
                        im[m] += (gp * f64::from(p[i0]) + gq * f64::from(q[i0])) as f32;
                    }
                }
                let u = self.posterior(&re, &im);
                let (mut vp, mut vq) = (vec![0f32; per], vec![0f32; per]);
                let noise_gain = t * self.lift * self.lift / var_pi;
                for c in 0..ch {
                    for (m, &(ur, ui)) in u.iter().enumerate() {
                        for (idx, part) in [((2 * c) * kk + m, ur), ((2 * c + 1) * kk + m, ui)] {
                            let e_phi = self.env_phi[m] * part;
                            let e_pi = self.env_pi[m] * part;
                            let pt = f64::from(q[idx]);
                            let pi1 = e_pi + noise_gain * (pt - t * e_pi);
                            vp[idx] = ((e_phi - f64::from(p[idx])) / (1.0 - t)) as f32;
                            vq[idx] = ((pi1 - pt) / (1.0 - t)) as f32;
                        }
                    }
                }
                (vp, vq)
            })
            .collect();
        let shape = state.phi.shape().clone();
        let (vp, vq): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
        Ok(State {
            phi: Tensor::from_vec(vp.concat(), shape.clone(), &Device::Cpu)?,
            pi: Tensor::from_vec(vq.concat(), shape, &Device::Cpu)?,
        })
    }
}

fn experiment_of(path: &str) -> anyhow::Result<PointExperiment> {
    let source = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let models = genads::dsl::compile(&source, path).map_err(|d| anyhow::anyhow!("{d}"))?;
    ensure!(
        models.len() == 1,
        "{path} holds {} models; use a file with one",
        models.len()
    );
    let name = models[0].constants.name.clone();
    Ok(PointExperiment::new(ExperimentConfig::checkerboard(
        source,
        path.to_string(),
        name,
    ))?)
}

fn sample(args: &[String]) -> anyhow::Result<()> {
    let model = args
        .first()
        .context("usage: exact_flow sample MODEL.genads [N] [STEPS] [SEED]")?;
    let n: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(2000);
    let steps: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(25);
    let seed: u64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(1);
    let experiment = experiment_of(model)?;
    let flow = ExactFlow::new(&experiment)?;
    let solver = Solver::Rk4 { steps };
    let mut rng = rng::seeded(seed);
    let mut prior = |r: &mut ChaCha8Rng, b: usize| experiment.prior(r, b);
    let mut points = Vec::with_capacity(n);
    let start = std::time::Instant::now();
    let nfe = sample_each(
        &mut prior,
        |s: &State, t: f64| {
            flow.velocity(s, t)
                .map_err(|e| genads::runtime::Error::Invalid(e.to_string()))
        },
        n,
        500,
        &solver,
        &mut rng,
        |s: State| {
            points.extend_from_slice(experiment.codec().decode(&s.phi)?.points()?);
            Ok(())
        },
    )?;
    let metrics = score_points(experiment.reference_points(n.min(10_000)), &points)?;
    println!(
        "exact flow of {model}: {n} samples, RK4-{steps} ({nfe} evaluations), seed {seed}, {:.1} s",
        start.elapsed().as_secs_f64()
    );
    for (name, value) in &metrics {
        println!("  {name:<10} {value:.6}");
    }
    Ok(())
}

fn gap(args: &[String]) -> anyhow::Result<()> {
    let run = std::path::PathBuf::from(args.first().context("usage: exact_flow gap RUN [STATES]")?);
    let per_bin: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(256);
    let opened = genads::run::Run::open(&run, None, genads::run::DeviceChoice::Cpu)?;
    let experiment = opened
        .experiment
        .as_points()
        .context("the exact flow is defined for point runs")?;
    let flow = ExactFlow::new(experiment)?;
    let net = opened.trainer.ema_net();
    let physics = experiment.physics();
    let c = physics.constants();
    let dr = c.r_uv - c.r_ir;
    let mut rng = rng::seeded(7);
    let bins = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 0.9, 0.97];
    let mut table = BTreeMap::new();
    println!(
        "excess loss of {} (EMA) against the exact residual, {per_bin} states per time",
        run.display()
    );
    println!(
        "  {:>5}  {:>12}  {:>12}  {:>12}",
        "t", "excess", "phi part", "pi part"
    );
    for &t in &bins {
        let s0 = experiment.prior(&mut rng, per_bin)?;
        let s1 = experiment.data_batch(&mut rng, per_bin)?;
        let st = State {
            phi: ((&s0.phi * (1.0 - t))? + (&s1.phi * t)?)?,
            pi: ((&s0.pi * (1.0 - t))? + (&s1.pi * t)?)?,
        };
        let times = vec![t; per_bin];
        let residual = network_residual(physics, net, experiment.modes(), &st, &times)?;
        // The exact residual: the exact velocity minus the backbone's share α·Δr·V_KG.
        let exact = flow.velocity(&st, t)?;
        let zero = State {
            phi: st.phi.zeros_like()?,
            pi: st.pi.zeros_like()?,
        };
        let backbone =
            genads::runtime::flow::velocity_t(physics, &st, &times, &zero, experiment.modes())?;
        let target_phi = (&exact.phi - &backbone.phi)?;
        let target_pi = (&exact.pi - &backbone.pi)?;
        let omega = physics.radial(c.r_ir + t * dr).omega;
        let part = |a: &Tensor, b: &Tensor| -> anyhow::Result<f64> {
            let d = (a - b)?.sqr()?.sum_all()?.to_scalar::<f32>()?;
            Ok(f64::from(d) * omega / per_bin as f64)
        };
        let hermite = c.path != PathKind::Linear;
        let p = if hermite {
            0.0
        } else {
            part(&residual.phi, &target_phi)?
        };
        let q = part(&residual.pi, &target_pi)?;
        println!("  {t:>5.2}  {:>12.4}  {p:>12.4}  {q:>12.4}", p + q);
        table.insert(format!("{t}"), p + q);
    }
    Ok(())
}

/// Samples a trained run's flow with the exact velocity on one side of a switch time: `exact-early`
/// uses the exact velocity for t < T and the network after, `exact-late` the reverse. Shows which
/// part of the flow the network's errors that reach the samples come from.
fn hybrid(args: &[String], exact_early: bool) -> anyhow::Result<()> {
    let run = std::path::PathBuf::from(
        args.first()
            .context("usage: exact_flow exact-early|exact-late RUN T [N] [STEPS]")?,
    );
    let switch: f64 = args.get(1).context("the switch time T")?.parse()?;
    let n: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(2000);
    let steps: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(25);
    let opened = genads::run::Run::open(&run, None, genads::run::DeviceChoice::Cpu)?;
    let experiment = opened
        .experiment
        .as_points()
        .context("the exact flow is defined for point runs")?;
    let flow = ExactFlow::new(experiment)?;
    let net = opened.trainer.ema_net();
    let mut rng = rng::seeded(1);
    let mut prior = |r: &mut ChaCha8Rng, b: usize| experiment.prior(r, b);
    let mut points = Vec::with_capacity(n);
    sample_each(
        &mut prior,
        |s: &State, t: f64| {
            if (t < switch) == exact_early {
                flow.velocity(s, t)
                    .map_err(|e| genads::runtime::Error::Invalid(e.to_string()))
            } else {
                genads::runtime::sample::flow_velocity(
                    experiment.physics(),
                    net,
                    experiment.modes(),
                    s,
                    t,
                )
            }
        },
        n,
        500,
        &Solver::Rk4 { steps },
        &mut rng,
        |s: State| {
            points.extend_from_slice(experiment.codec().decode(&s.phi)?.points()?);
            Ok(())
        },
    )?;
    let metrics = score_points(experiment.reference_points(n.min(10_000)), &points)?;
    let side = if exact_early {
        "exact before, network after"
    } else {
        "network before, exact after"
    };
    println!(
        "{}: {side} t = {switch}, {n} samples, RK4-{steps}",
        run.display()
    );
    for (name, value) in &metrics {
        println!("  {name:<10} {value:.6}");
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("sample") => sample(&args[1..]),
        Some("gap") => gap(&args[1..]),
        Some("exact-early") => hybrid(&args[1..], true),
        Some("exact-late") => hybrid(&args[1..], false),
        _ => bail!("usage: exact_flow sample MODEL.genads [N] [STEPS] [SEED] | exact_flow gap RUN [STATES]"),
    }
}
