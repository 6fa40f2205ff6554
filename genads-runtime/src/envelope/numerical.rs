//! Numerical envelopes for warps without a closed-form propagator.
//!
//! The radial mode equation in the model's own variables (stabilised or not) is the backbone of
//! `RadialCoefficients`: φ'' = F(r) φ' + (L(r)|k|² + M(r)) φ. We integrate the Riccati form
//! y = φ'/φ, y' = F y + L|k|² + M − y², together with ln φ (so nothing overflows), with an adaptive
//! Dormand–Prince 5(4) integrator in f64:
//!
//! 1. **Deep IR start.** From r_UV we walk in the IR direction until the WKB optical depth
//!    ∫ 2 sqrt(max(F²/4 + L|k|² + M, 0)) dr reaches 60 (the irregular solution is then suppressed by
//!    e^(−60) relative to the regular one at r_UV), and start from the WKB root
//!    y = F/2 ± sqrt(F²/4 + L|k|² + M) of the growing-toward-the-UV branch. Integrating toward the UV
//!    the regular solution dominates, so the Riccati variable is attracted to it.
//! 2. **UV normalisation (cutoff).** The envelope is normalised so that φ → 1 at the UV boundary.
//!    The boundary is r = 0 when 0 lies beyond r_UV in the UV direction (hyperscaling-violating
//!    warps, f ~ r^(−γ)), and ±∞ otherwise (AdS-like). We integrate past r_UV until the
//!    log-derivative is negligible (|y| < 1e-13 for ±∞; |y·r| < 1e-13 toward r = 0) or a hard
//!    cutoff is met (`uv_span` units of r beyond r_UV, or r = r_UV·1e-12 toward 0), then add the
//!    tail ∫ y dr estimated from the local decay rate (exponential for ±∞, power law toward 0).
//!    The normalisation is only meaningful if the model's variables are UV-finite (stabilised or
//!    massless fields); otherwise the tail does not converge and an error is returned.
//! 3. k = 0 returns (1, 0) by convention (the zero mode is the source itself, exact for stabilised
//!    AdS and for massless fields).
//!
//! **IR tip.** A warp that vanishes beyond r_IR (f → 0 at r_tip, as in global-type slicings) ends
//! the space there; the walk of step 1 never crosses r_tip ([`NumericalOptions::ir_tip`], found
//! by the derivation). Near a tip the mode equation is regular-singular, φ ~ ρ^α with ρ the
//! distance from the tip and α² − (1 + A)α − B = 0 (A = ρ·F toward the UV, B = ρ²·(L|k|² + M)):
//! one branch α₊ > 0 has finite action ∫ω(φ'² + |k|² f^(−2) φ²) at the tip, the other diverges.
//! When the walk reaches the tip before its optical depth, the integration starts a small
//! distance from the tip on the regular branch, y = α₊/ρ; integrating toward the UV the regular
//! solution is the growing one, so the start's error decays. (Tips where f vanishes faster than
//! linearly have a divergent optical depth: the WKB start is reached before the tip.)

use crate::{Error, Physics, Result};

/// The radial mode equation φ'' = F(r) φ' + (L(r)|k|² + M(r)) φ of one model.
pub trait ModeEquation {
    /// (F, L, M) at r: friction, Laplacian coefficient (f^(−2) up to the model's variables), mass.
    fn coefficients(&self, r: f64) -> (f64, f64, f64);
}

impl<T: Fn(f64) -> (f64, f64, f64)> ModeEquation for T {
    fn coefficients(&self, r: f64) -> (f64, f64, f64) {
        self(r)
    }
}

/// A [`Physics`] model's backbone as a mode equation.
struct PhysicsModes<'a, P: ?Sized>(&'a P);

impl<P: Physics + ?Sized> ModeEquation for PhysicsModes<'_, P> {
    fn coefficients(&self, r: f64) -> (f64, f64, f64) {
        let c = self.0.radial(r);
        (c.friction, c.laplacian, c.mass)
    }
}

/// Options of the numerical envelope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumericalOptions {
    /// Relative tolerance of the adaptive integrator.
    pub rtol: f64,
    /// Absolute tolerance of the adaptive integrator.
    pub atol: f64,
    /// WKB optical depth of the deep-IR start.
    pub ir_depth: f64,
    /// Largest distance in r walked into the IR.
    pub ir_span: f64,
    /// Largest distance in r integrated beyond r_UV toward a boundary at ±∞.
    pub uv_span: f64,
    /// Step budget of each integration leg.
    pub max_steps: usize,
    /// Where the space ends beyond r_IR (f → 0), if it does: the IR walk stops there and starts
    /// on the regular branch.
    pub ir_tip: Option<f64>,
}

impl Default for NumericalOptions {
    fn default() -> Self {
        Self {
            rtol: 1e-11,
            atol: 1e-14,
            ir_depth: 60.0,
            ir_span: 400.0,
            uv_span: 400.0,
            max_steps: 200_000,
            ir_tip: None,
        }
    }
}

/// The envelope of a [`Physics`] model by the numerical method, at its r_UV, with the UV direction
/// sign(r_UV − r_IR). This is what generated code calls for `Propagator::Numerical`.
pub fn numerical_envelope_of<P: Physics + ?Sized>(model: &P, k_abs: f64) -> Result<(f64, f64)> {
    let c = model.constants();
    let dir = if c.r_uv >= c.r_ir { 1.0 } else { -1.0 };
    numerical_envelope(
        &PhysicsModes(model),
        k_abs,
        c.r_uv,
        dir,
        &NumericalOptions {
            ir_tip: c.ir_tip,
            ..NumericalOptions::default()
        },
    )
}

/// (env_φ, env_π) = (φ(r_UV), φ'(r_UV)) of the IR-regular solution of `eq`, normalised to φ → 1 at
/// the UV boundary. `uv_direction` is +1 if the UV lies at larger r (AdS), −1 if at smaller r (HSV).
pub fn numerical_envelope(
    eq: &dyn ModeEquation,
    k_abs: f64,
    r_uv: f64,
    uv_direction: f64,
    opts: &NumericalOptions,
) -> Result<(f64, f64)> {
    if !(k_abs.is_finite() && k_abs >= 0.0) {
        return Err(Error::Invalid(format!(
            "envelope: |k| = {k_abs} is not a finite non-negative number"
        )));
    }
    if !r_uv.is_finite() || uv_direction == 0.0 || !uv_direction.is_finite() {
        return Err(Error::Invalid(format!(
            "numerical envelope: bad r_UV = {r_uv} or direction {uv_direction}"
        )));
    }
    if k_abs == 0.0 {
        return Ok((1.0, 0.0));
    }
    let s = uv_direction.signum();
    let k2 = k_abs * k_abs;
    let coeffs = |r: f64| -> Option<(f64, f64)> {
        let (f, l, m) = eq.coefficients(r);
        let g = l * k2 + m;
        (f.is_finite() && g.is_finite()).then_some((f, g))
    };
    coeffs(r_uv)
        .ok_or_else(|| Error::Invalid(format!("mode equation is not finite at r_UV = {r_uv}")))?;

    // 1. Walk into the IR accumulating the optical depth, never past an IR tip.
    let tip = opts
        .ir_tip
        .filter(|t| t.is_finite() && s * (r_uv - t) > 0.0);
    let rho0 = tip.map(|t| (1e-6 * (r_uv - t).abs()).max(1e-12));
    let mut r_start = r_uv;
    let mut depth = 0.0;
    let mut h = 0.01;
    let mut at_tip = false;
    while depth < opts.ir_depth && (r_start - r_uv).abs() < opts.ir_span {
        let mut r_next = r_start - s * h;
        if let (Some(t), Some(rho)) = (tip, rho0) {
            if s * (r_next - t) <= rho {
                r_next = t + s * rho;
                at_tip = true;
            }
        }
        match coeffs(r_next) {
            Some((f, g)) => {
                depth += 2.0 * (0.25 * f * f + g).max(0.0).sqrt() * (r_next - r_start).abs();
                r_start = r_next;
                h = (h * 1.1).min(0.5);
            }
            None => break, // IR singularity: start just inside it.
        }
        if at_tip {
            break;
        }
    }
    let (f0, g0) = coeffs(r_start)
        .ok_or_else(|| Error::Invalid("mode equation not finite in the IR".into()))?;
    let y0 = match (tip, at_tip && depth < opts.ir_depth) {
        (Some(t), true) => {
            // Regular (finite-action) Frobenius branch at the tip.
            let rho = s * (r_start - t);
            let (a, b) = (s * f0 * rho, g0 * rho * rho);
            let alpha = 0.5 * ((1.0 + a) + ((1.0 + a) * (1.0 + a) + 4.0 * b).max(0.0).sqrt());
            s * alpha / rho
        }
        _ => {
            let disc = (0.25 * f0 * f0 + g0).max(0.0).sqrt();
            0.5 * f0 + s * disc
        }
    };

    // 2. Integrate (y, ln φ) from r_start to r_uv.
    let rhs = |r: f64, st: [f64; 2]| -> [f64; 2] {
        let (f, l, m) = eq.coefficients(r);
        let y = st[0];
        [f * y + l * k2 + m - y * y, y]
    };
    let mut st = [y0, 0.0];
    integrate(&rhs, r_start, r_uv, &mut st, opts)?;
    let (y_uv, ln_uv) = (st[0], st[1]);

    // 3. Continue to the UV boundary.
    let toward_zero = (s > 0.0 && r_uv < 0.0) || (s < 0.0 && r_uv > 0.0);
    let mut r = r_uv;
    let mut prev: Option<(f64, f64)> = None; // (r, y)
    let mut tail = 0.0;
    let mut converged = false;
    for _ in 0..10_000 {
        let small = if toward_zero {
            (st[0] * r).abs() < 1e-13
        } else {
            st[0].abs() < 1e-13
        };
        if small {
            converged = true;
            break;
        }
        let r_next = if toward_zero {
            if r.abs() < r_uv.abs() * 1e-12 {
                break;
            }
            r * 0.5
        } else {
            if (r - r_uv).abs() >= opts.uv_span {
                break;
            }
            r + s * 1.0
        };
        prev = Some((r, st[0]));
        integrate(&rhs, r, r_next, &mut st, opts)?;
        r = r_next;
    }
    let y_end = st[0];
    if !converged && y_end != 0.0 {
        // Tail estimate from the local decay of y.
        if let Some((r_prev, y_prev)) = prev {
            if y_prev != 0.0 && y_end / y_prev > 0.0 && (y_end / y_prev).abs() < 1.0 {
                if toward_zero {
                    // y ~ C r^α with α > −1: ∫_0^r y = y r/(α + 1).
                    let alpha = (y_end / y_prev).ln() / (r / r_prev).ln();
                    if alpha > -1.0 {
                        // ln φ(0) − ln φ(r) = −∫_0^r y dr.
                        tail = -y_end * r / (alpha + 1.0);
                        converged = true;
                    }
                } else {
                    // y ~ C e^(−λ s (r − r₀)): ∫_r^{±∞} y dr = s·y/λ.
                    let lambda = -(y_end / y_prev).ln() / (r - r_prev).abs();
                    if lambda > 0.0 {
                        tail = s * y_end / lambda;
                        converged = true;
                    }
                }
            }
        }
        if !converged {
            return Err(Error::Invalid(format!(
                "numerical envelope: the mode function does not settle at the UV boundary (φ'/φ = {y_end} at r = {r}); \
                 the model's variables must be UV-finite (stabilised or massless)"
            )));
        }
    }
    let ln_boundary = st[1] + tail;
    let phi = (ln_uv - ln_boundary).exp();
    let pi = phi * y_uv;
    if !(phi.is_finite() && pi.is_finite()) {
        return Err(Error::Invalid(format!(
            "numerical envelope is not finite at |k| = {k_abs}"
        )));
    }
    Ok((phi, pi))
}

/// Adaptive Dormand–Prince 5(4) from r0 to r1 (either direction), in place.
fn integrate(
    rhs: &dyn Fn(f64, [f64; 2]) -> [f64; 2],
    r0: f64,
    r1: f64,
    st: &mut [f64; 2],
    opts: &NumericalOptions,
) -> Result<()> {
    use crate::solver::dopri5::{row, B, C, E};
    let span = r1 - r0;
    if span == 0.0 {
        return Ok(());
    }
    let dir = span.signum();
    let mut r = r0;
    let mut h = (span.abs() * 1e-3).clamp(1e-8, 0.05) * dir;
    for _ in 0..opts.max_steps {
        if (r1 - r) * dir <= 0.0 {
            return Ok(());
        }
        if (r + h - r1) * dir > 0.0 {
            h = r1 - r;
        }
        let mut k = [[0.0f64; 2]; 7];
        for i in 0..7 {
            let mut y = *st;
            for (a, kj) in row(i).iter().zip(&k) {
                y[0] += h * a * kj[0];
                y[1] += h * a * kj[1];
            }
            k[i] = rhs(r + C[i] * h, y);
        }
        let mut y5 = *st;
        let mut err = 0.0f64;
        for c in 0..2 {
            let mut d5 = 0.0;
            let mut d5_minus_d4 = 0.0;
            for i in 0..7 {
                d5 += B[i] * k[i][c];
                d5_minus_d4 += E[i] * k[i][c];
            }
            y5[c] += h * d5;
            let scale = opts.atol + opts.rtol * st[c].abs().max(y5[c].abs());
            err = err.max((h * d5_minus_d4).abs() / scale);
        }
        if !(err.is_finite() && y5[0].is_finite() && y5[1].is_finite()) {
            h *= 0.25;
            if h.abs() < 1e-14 * (1.0 + r.abs()) {
                return Err(Error::Invalid(format!(
                    "numerical envelope: the mode function has a zero or blows up near r = {r} (oscillatory mode?)"
                )));
            }
            continue;
        }
        if err <= 1.0 {
            r += h;
            *st = y5;
        }
        let factor = if err == 0.0 {
            5.0
        } else {
            (0.9 * err.powf(-0.2)).clamp(0.2, 5.0)
        };
        h *= factor;
        if h.abs() < 1e-14 * (1.0 + r.abs()) {
            return Err(Error::Invalid(format!(
                "numerical envelope: step size underflow near r = {r} (mode function has a zero?)"
            )));
        }
    }
    Err(Error::Invalid(
        "numerical envelope: step budget exhausted".into(),
    ))
}
