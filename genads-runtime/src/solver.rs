//! ODE solvers for the sampling flow dS/dt = v(S, t), t from 0 (IR prior) to 1 (UV data).
//!
//! A [`State`] is two tensors (φ̃, π̃); the velocity is any closure `FnMut(&State, f64) ->
//! Result<State>` evaluated at one scalar t for the whole batch. Fixed-step Euler, Heun and RK4 and an
//! adaptive Dormand–Prince 5(4) with FSAL are provided. Every solve reports its number of function
//! evaluations (NFE). The tensors may be f32 (networks) or f64 (tests); the adaptive error norm is
//! always accumulated in f64.

use crate::{Error, Result, State};
use candle_core::{DType, Tensor};

/// An ODE solver with typed options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Solver {
    /// Explicit Euler, `steps` equal steps (order 1, 1 NFE per step).
    Euler {
        /// Number of steps (≥ 1).
        steps: usize,
    },
    /// Heun's method (explicit trapezoid), order 2, 2 NFE per step.
    Heun {
        /// Number of steps (≥ 1).
        steps: usize,
    },
    /// Classical Runge–Kutta, order 4, 4 NFE per step (the paper: 100 steps).
    Rk4 {
        /// Number of steps (≥ 1).
        steps: usize,
    },
    /// Adaptive Dormand–Prince 5(4) with FSAL and a standard step-size controller. On f32 states
    /// tolerances below ~1e-6 ask for more than single precision holds (expect the step budget to run out).
    Dopri5 {
        /// Relative tolerance (> 0).
        rtol: f64,
        /// Absolute tolerance (> 0).
        atol: f64,
        /// Maximum number of attempted steps (accepted + rejected) before giving up.
        max_steps: usize,
    },
}

impl Default for Solver {
    /// The paper's solver: RK4 with 100 steps.
    fn default() -> Self {
        Solver::Rk4 { steps: 100 }
    }
}

/// The solver family without its options: the typed value a CLI flag (`--solver rk4`) parses into
/// and run records store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SolverKind {
    /// [`Solver::Euler`].
    Euler,
    /// [`Solver::Heun`].
    Heun,
    /// [`Solver::Rk4`].
    Rk4,
    /// [`Solver::Dopri5`].
    Dopri5,
}

impl SolverKind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [SolverKind; 4] = [
        SolverKind::Euler,
        SolverKind::Heun,
        SolverKind::Rk4,
        SolverKind::Dopri5,
    ];

    /// The lower-case name (`euler`, `heun`, `rk4`, `dopri5`).
    pub fn name(self) -> &'static str {
        match self {
            SolverKind::Euler => "euler",
            SolverKind::Heun => "heun",
            SolverKind::Rk4 => "rk4",
            SolverKind::Dopri5 => "dopri5",
        }
    }
}

impl std::fmt::Display for SolverKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SolverKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        SolverKind::ALL
            .into_iter()
            .find(|k| k.name() == lower)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown solver {s:?}; expected one of euler, heun, rk4, dopri5"
                ))
            })
    }
}

/// What a solve did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SolveStats {
    /// Number of velocity evaluations.
    pub nfe: usize,
    /// Accepted steps.
    pub accepted: usize,
    /// Rejected steps (adaptive solver only).
    pub rejected: usize,
}

/// `a + h·b` for both components.
fn axpy(a: &State, h: f64, b: &State) -> Result<State> {
    Ok(State {
        phi: (&a.phi + b.phi.affine(h, 0.0)?)?,
        pi: (&a.pi + b.pi.affine(h, 0.0)?)?,
    })
}

/// `a + Σ cᵢ·kᵢ` (terms with cᵢ = 0 skipped).
fn combine(a: &State, terms: &[(f64, &State)]) -> Result<State> {
    let mut phi = a.phi.clone();
    let mut pi = a.pi.clone();
    for &(c, k) in terms {
        if c != 0.0 {
            phi = (phi + k.phi.affine(c, 0.0)?)?;
            pi = (pi + k.pi.affine(c, 0.0)?)?;
        }
    }
    Ok(State { phi, pi })
}

/// Sum of all entries of a tensor, in f64.
fn sum_f64(t: &Tensor) -> Result<f64> {
    Ok(t.to_dtype(DType::F64)?.sum_all()?.to_scalar::<f64>()?)
}

/// Whether every entry of both components is finite.
pub fn state_is_finite(s: &State) -> Result<bool> {
    // 0·x is 0 for finite x and NaN for ±∞/NaN, so the sum is finite iff every entry is.
    let f = |t: &Tensor| -> Result<bool> { Ok(sum_f64(&t.affine(0.0, 0.0)?)?.is_finite()) };
    Ok(f(&s.phi)? && f(&s.pi)?)
}

fn check_finite(s: &State, what: &str) -> Result<()> {
    if state_is_finite(s)? {
        Ok(())
    } else {
        Err(Error::Invalid(format!("{what} contains NaN or Inf")))
    }
}

fn check_shapes(s: &State) -> Result<()> {
    if s.phi.dims() != s.pi.dims() {
        return Err(Error::Invalid(format!(
            "state components differ in shape: φ {:?} vs π {:?}",
            s.phi.dims(),
            s.pi.dims()
        )));
    }
    Ok(())
}

/// Calls the velocity, counts the evaluation and checks the result's shape.
fn eval<F>(f: &mut F, s: &State, t: f64, nfe: &mut usize) -> Result<State>
where
    F: FnMut(&State, f64) -> Result<State>,
{
    *nfe += 1;
    let v = f(s, t)?;
    if v.phi.dims() != s.phi.dims() || v.pi.dims() != s.pi.dims() {
        return Err(Error::Invalid(format!(
            "velocity shape {:?}/{:?} does not match state shape {:?}/{:?}",
            v.phi.dims(),
            v.pi.dims(),
            s.phi.dims(),
            s.pi.dims()
        )));
    }
    Ok(v)
}

impl Solver {
    /// Builds a solver from a kind and the CLI's options: `steps` for the fixed-step kinds, `tol`
    /// (used as both rtol and atol) and `max_steps` for Dopri5. The result is validated.
    pub fn from_kind(kind: SolverKind, steps: usize, tol: f64, max_steps: usize) -> Result<Self> {
        let s = match kind {
            SolverKind::Euler => Solver::Euler { steps },
            SolverKind::Heun => Solver::Heun { steps },
            SolverKind::Rk4 => Solver::Rk4 { steps },
            SolverKind::Dopri5 => Solver::Dopri5 {
                rtol: tol,
                atol: tol,
                max_steps,
            },
        };
        s.validate()?;
        Ok(s)
    }

    /// The solver's kind.
    pub fn kind(&self) -> SolverKind {
        match self {
            Solver::Euler { .. } => SolverKind::Euler,
            Solver::Heun { .. } => SolverKind::Heun,
            Solver::Rk4 { .. } => SolverKind::Rk4,
            Solver::Dopri5 { .. } => SolverKind::Dopri5,
        }
    }

    /// Checks the options.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Solver::Euler { steps } | Solver::Heun { steps } | Solver::Rk4 { steps } => {
                if steps == 0 {
                    return Err(Error::Invalid("solver steps must be ≥ 1".into()));
                }
            }
            Solver::Dopri5 {
                rtol,
                atol,
                max_steps,
            } => {
                if !(rtol.is_finite() && rtol > 0.0 && atol.is_finite() && atol > 0.0) {
                    return Err(Error::Invalid(format!(
                        "dopri5 tolerances must be finite and > 0 (rtol {rtol}, atol {atol})"
                    )));
                }
                if max_steps == 0 {
                    return Err(Error::Invalid("dopri5 max_steps must be ≥ 1".into()));
                }
            }
        }
        Ok(())
    }

    /// Integrates dS/dt = v(S, t) from t = 0 to t = 1; returns the final state and the NFE.
    pub fn solve<F>(&self, s0: State, f: F) -> Result<(State, usize)>
    where
        F: FnMut(&State, f64) -> Result<State>,
    {
        let (s, stats) = self.integrate(s0, 0.0, 1.0, f)?;
        Ok((s, stats.nfe))
    }

    /// Integrates dS/dt = v(S, t) from `t0` to `t1` (t1 < t0 integrates backwards) and returns the
    /// final state with the solve's statistics. Errors on invalid options, a non-finite initial or
    /// final state, a velocity of the wrong shape, or (adaptive) a step budget exhausted.
    pub fn integrate<F>(&self, s0: State, t0: f64, t1: f64, mut f: F) -> Result<(State, SolveStats)>
    where
        F: FnMut(&State, f64) -> Result<State>,
    {
        self.validate()?;
        if !(t0.is_finite() && t1.is_finite()) {
            return Err(Error::Invalid(format!(
                "integration bounds must be finite ({t0}, {t1})"
            )));
        }
        check_shapes(&s0)?;
        check_finite(&s0, "initial state")?;
        // Stage times are clamped to the interval so rounding never asks for t slightly past t1.
        let (lo, hi) = (t0.min(t1), t0.max(t1));
        let mut f = |s: &State, t: f64| f(s, t.clamp(lo, hi));
        let (s, stats) = match *self {
            Solver::Euler { steps } => fixed(s0, t0, t1, steps, &mut f, euler_step)?,
            Solver::Heun { steps } => fixed(s0, t0, t1, steps, &mut f, heun_step)?,
            Solver::Rk4 { steps } => fixed(s0, t0, t1, steps, &mut f, rk4_step)?,
            Solver::Dopri5 {
                rtol,
                atol,
                max_steps,
            } => dopri5(s0, t0, t1, rtol, atol, max_steps, &mut f)?,
        };
        check_finite(&s, "final state")?;
        Ok((s, stats))
    }
}

type Step<F> = fn(&State, f64, f64, &mut F, &mut usize) -> Result<State>;

fn fixed<F>(
    s0: State,
    t0: f64,
    t1: f64,
    steps: usize,
    f: &mut F,
    step: Step<F>,
) -> Result<(State, SolveStats)>
where
    F: FnMut(&State, f64) -> Result<State>,
{
    let h = (t1 - t0) / steps as f64;
    let mut s = s0;
    let mut nfe = 0;
    for i in 0..steps {
        // t from the index (not accumulated) so the last step ends exactly at t1.
        let t = t0 + i as f64 * h;
        s = step(&s, t, h, f, &mut nfe)?;
    }
    Ok((
        s,
        SolveStats {
            nfe,
            accepted: steps,
            rejected: 0,
        },
    ))
}

fn euler_step<F>(s: &State, t: f64, h: f64, f: &mut F, nfe: &mut usize) -> Result<State>
where
    F: FnMut(&State, f64) -> Result<State>,
{
    let k1 = eval(f, s, t, nfe)?;
    axpy(s, h, &k1)
}

fn heun_step<F>(s: &State, t: f64, h: f64, f: &mut F, nfe: &mut usize) -> Result<State>
where
    F: FnMut(&State, f64) -> Result<State>,
{
    let k1 = eval(f, s, t, nfe)?;
    let k2 = eval(f, &axpy(s, h, &k1)?, t + h, nfe)?;
    combine(s, &[(0.5 * h, &k1), (0.5 * h, &k2)])
}

fn rk4_step<F>(s: &State, t: f64, h: f64, f: &mut F, nfe: &mut usize) -> Result<State>
where
    F: FnMut(&State, f64) -> Result<State>,
{
    let k1 = eval(f, s, t, nfe)?;
    let k2 = eval(f, &axpy(s, 0.5 * h, &k1)?, t + 0.5 * h, nfe)?;
    let k3 = eval(f, &axpy(s, 0.5 * h, &k2)?, t + 0.5 * h, nfe)?;
    let k4 = eval(f, &axpy(s, h, &k3)?, t + h, nfe)?;
    combine(
        s,
        &[
            (h / 6.0, &k1),
            (h / 3.0, &k2),
            (h / 3.0, &k3),
            (h / 6.0, &k4),
        ],
    )
}

/// The Dormand–Prince 5(4) tableau (Hairer, Nørsett & Wanner, Solving ODEs I, Table II.5.2),
/// shared by the state solver here and the numerical envelope's f64 integrator.
pub(crate) mod dopri5 {
    pub const C: [f64; 7] = [0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0];
    pub const A2: [f64; 1] = [1.0 / 5.0];
    pub const A3: [f64; 2] = [3.0 / 40.0, 9.0 / 40.0];
    pub const A4: [f64; 3] = [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0];
    pub const A5: [f64; 4] = [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
    ];
    pub const A6: [f64; 5] = [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
    ];
    /// 5th-order weights (also row 7 of A: FSAL).
    pub const B: [f64; 7] = [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
        0.0,
    ];
    /// B − B̂ (5th minus embedded 4th order weights): the local error estimate's weights.
    pub const E: [f64; 7] = [
        71.0 / 57600.0,
        0.0,
        -71.0 / 16695.0,
        71.0 / 1920.0,
        -17253.0 / 339200.0,
        22.0 / 525.0,
        -1.0 / 40.0,
    ];

    /// Row `i` of A (the weights of stages 0..i for stage i; row 6 is B without its last entry:
    /// FSAL).
    pub fn row(i: usize) -> &'static [f64] {
        match i {
            0 => &[],
            1 => &A2,
            2 => &A3,
            3 => &A4,
            4 => &A5,
            5 => &A6,
            _ => &B[..6],
        }
    }
}
use dopri5::{A2, A3, A4, A5, A6, B, C, E};

/// RMS over all entries of err / (atol + rtol·max(|y0|, |y1|)), in f64.
fn error_norm(err: &State, y0: &State, y1: &State, rtol: f64, atol: f64) -> Result<f64> {
    let mut sum = 0.0;
    let mut count = 0usize;
    for (e, a, b) in [(&err.phi, &y0.phi, &y1.phi), (&err.pi, &y0.pi, &y1.pi)] {
        let e = e.to_dtype(DType::F64)?;
        let a = a.to_dtype(DType::F64)?.abs()?;
        let b = b.to_dtype(DType::F64)?.abs()?;
        let sc = a.maximum(&b)?.affine(rtol, atol)?;
        count += e.elem_count();
        sum += (e / sc)?.sqr()?.sum_all()?.to_scalar::<f64>()?;
    }
    Ok((sum / count.max(1) as f64).sqrt())
}

/// RMS of a state scaled by atol + rtol·|y0| (for the initial step heuristic).
fn scaled_norm(v: &State, y0: &State, rtol: f64, atol: f64) -> Result<f64> {
    error_norm(v, y0, y0, rtol, atol)
}

fn dopri5<F>(
    s0: State,
    t0: f64,
    t1: f64,
    rtol: f64,
    atol: f64,
    max_steps: usize,
    f: &mut F,
) -> Result<(State, SolveStats)>
where
    F: FnMut(&State, f64) -> Result<State>,
{
    let mut stats = SolveStats::default();
    let span = t1 - t0;
    if span == 0.0 {
        return Ok((s0, stats));
    }
    let dir = span.signum();
    let mut y = s0;
    let mut t = t0;
    let mut k1 = eval(f, &y, t, &mut stats.nfe)?;

    // Initial step (Hairer–Wanner II.4 heuristic), one extra evaluation.
    let d0 = scaled_norm(&y, &y, rtol, atol)?;
    let d1 = scaled_norm(&k1, &y, rtol, atol)?;
    let h0 = if d0 < 1e-5 || d1 < 1e-5 {
        1e-6
    } else {
        0.01 * d0 / d1
    };
    let h0 = h0.min(span.abs());
    let y_probe = axpy(&y, dir * h0, &k1)?;
    let k_probe = eval(f, &y_probe, t + dir * h0, &mut stats.nfe)?;
    let diff = combine(&k_probe, &[(-1.0, &k1)])?;
    let d2 = scaled_norm(&diff, &y, rtol, atol)? / h0;
    let h1 = if d1.max(d2) <= 1e-15 {
        (h0 * 1e-3).max(1e-6)
    } else {
        (0.01 / d1.max(d2)).powf(1.0 / 5.0)
    };
    let mut h = (100.0 * h0).min(h1).min(span.abs());
    if !h.is_finite() || h <= 0.0 {
        return Err(Error::Invalid(
            "dopri5: could not choose an initial step (NaN velocity?)".into(),
        ));
    }

    const SAFETY: f64 = 0.9;
    const FAC_MIN: f64 = 0.2;
    const FAC_MAX: f64 = 10.0;
    let mut last_rejected = false;
    loop {
        let remaining = (t1 - t) * dir;
        if remaining <= 1e-14 * span.abs().max(1.0) {
            break;
        }
        if stats.accepted + stats.rejected >= max_steps {
            return Err(Error::Invalid(format!(
                "dopri5: step budget of {max_steps} exhausted at t = {t:.6} (rtol {rtol}, atol {atol})"
            )));
        }
        let hs = dir * h.min(remaining);
        let k2 = eval(
            f,
            &combine(&y, &[(hs * A2[0], &k1)])?,
            t + C[1] * hs,
            &mut stats.nfe,
        )?;
        let k3 = eval(
            f,
            &combine(&y, &[(hs * A3[0], &k1), (hs * A3[1], &k2)])?,
            t + C[2] * hs,
            &mut stats.nfe,
        )?;
        let k4 = eval(
            f,
            &combine(
                &y,
                &[(hs * A4[0], &k1), (hs * A4[1], &k2), (hs * A4[2], &k3)],
            )?,
            t + C[3] * hs,
            &mut stats.nfe,
        )?;
        let k5 = eval(
            f,
            &combine(
                &y,
                &[
                    (hs * A5[0], &k1),
                    (hs * A5[1], &k2),
                    (hs * A5[2], &k3),
                    (hs * A5[3], &k4),
                ],
            )?,
            t + C[4] * hs,
            &mut stats.nfe,
        )?;
        let k6 = eval(
            f,
            &combine(
                &y,
                &[
                    (hs * A6[0], &k1),
                    (hs * A6[1], &k2),
                    (hs * A6[2], &k3),
                    (hs * A6[3], &k4),
                    (hs * A6[4], &k5),
                ],
            )?,
            t + C[5] * hs,
            &mut stats.nfe,
        )?;
        let y_new = combine(
            &y,
            &[
                (hs * B[0], &k1),
                (hs * B[2], &k3),
                (hs * B[3], &k4),
                (hs * B[4], &k5),
                (hs * B[5], &k6),
            ],
        )?;
        let k7 = eval(f, &y_new, t + hs, &mut stats.nfe)?;
        let ks = [&k1, &k2, &k3, &k4, &k5, &k6, &k7];
        let zero = State {
            phi: y.phi.zeros_like()?,
            pi: y.pi.zeros_like()?,
        };
        let terms: Vec<(f64, &State)> = E.iter().zip(ks).map(|(&e, k)| (hs * e, k)).collect();
        let err = combine(&zero, &terms)?;
        let en = error_norm(&err, &y, &y_new, rtol, atol)?;
        if !en.is_finite() {
            return Err(Error::Invalid(format!(
                "dopri5: non-finite error estimate at t = {t:.6} (NaN or Inf in the velocity)"
            )));
        }
        if en <= 1.0 {
            stats.accepted += 1;
            t += hs;
            y = y_new;
            k1 = k7; // FSAL
            let mut fac = if en == 0.0 {
                FAC_MAX
            } else {
                SAFETY * en.powf(-0.2)
            };
            fac = fac.clamp(FAC_MIN, FAC_MAX);
            if last_rejected {
                fac = fac.min(1.0);
            }
            h = hs.abs() * fac;
            last_rejected = false;
        } else {
            stats.rejected += 1;
            h = hs.abs() * (SAFETY * en.powf(-0.2)).max(FAC_MIN);
            last_rejected = true;
        }
    }
    Ok((y, stats))
}
