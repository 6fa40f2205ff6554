//! Closed-form envelopes.

use crate::special::{bessel_k_scaled, ln_gamma};
use crate::{Error, Result};

fn check_k(k_abs: f64) -> Result<()> {
    if k_abs.is_finite() && k_abs >= 0.0 {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "envelope: |k| = {k_abs} is not a finite non-negative number"
        )))
    }
}

fn check_finite(name: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "envelope: {name} = {v} is not finite"
        )))
    }
}

/// c · x^p K_q(x) for x > 0, q ≥ 0, computed in logs (no overflow/underflow of the pieces); the
/// small-x limit is used where K_q(x) overflows (c·2^(q−1)Γ(q) if p = q > 0, else 0 for p > q).
/// `ln_c` is ln c.
fn scaled_power_k(ln_c: f64, p: f64, q: f64, x: f64) -> f64 {
    let ks = bessel_k_scaled(q, x);
    if ks.is_finite() && ks > 0.0 {
        (ln_c + p * x.ln() - x + ks.ln()).exp()
    } else if ks == 0.0 {
        0.0
    } else if (p - q).abs() < 1e-15 && q > 0.0 {
        (ln_c + (q - 1.0) * std::f64::consts::LN_2 + ln_gamma(q)).exp()
    } else {
        0.0
    }
}

/// Clean AdS envelope at r_UV: (κ̃(ξ), ∂_rκ̃(ξ)) with ξ = |k| e^(−r_UV),
/// κ̃ = (2^(1−ν)/Γ(ν)) ξ^ν K_ν(ξ) → 1 as ξ → 0, ∂_rκ̃ = (2^(1−ν)/Γ(ν)) ξ^(ν+1) K_|ν−1|(ξ).
/// Requires ν > 0 (Δ > d/2). k = 0 gives (1, 0).
pub fn ads_envelope(nu: f64, k_abs: f64, r_uv: f64) -> Result<(f64, f64)> {
    check_k(k_abs)?;
    check_finite("r_UV", r_uv)?;
    if !(nu.is_finite() && nu > 0.0) {
        return Err(Error::Invalid(format!(
            "AdS envelope needs ν = Δ − d/2 > 0, got ν = {nu}"
        )));
    }
    let xi = k_abs * (-r_uv).exp();
    if xi == 0.0 {
        return Ok((1.0, 0.0));
    }
    let ln_c = (1.0 - nu) * std::f64::consts::LN_2 - ln_gamma(nu);
    Ok((
        scaled_power_k(ln_c, nu, nu, xi),
        scaled_power_k(ln_c, nu + 1.0, (nu - 1.0).abs(), xi),
    ))
}

/// The authors' AdS envelope with the DC-mode quirk (PAPER.md §4.1 item 5):
/// ξ = |k|_reg e^(−r_UV) with |k|_reg = sqrt(|k|² + ε²), Bessel argument clamped at ε,
/// env_φ = ξ^ν K_ν(max(ξ, ε))/N, env_π = ξ^(ν+1) K_|ν−1|(max(ξ, ε))/N,
/// N = ξ₀^ν K_ν(max(ξ₀, ε)) with ξ₀ = ε e^(−r_UV) (power unclamped).
pub fn ads_envelope_reference(nu: f64, k_abs: f64, r_uv: f64, eps: f64) -> Result<(f64, f64)> {
    check_k(k_abs)?;
    check_finite("r_UV", r_uv)?;
    if !(nu.is_finite() && nu >= 0.0) {
        return Err(Error::Invalid(format!(
            "AdS envelope needs ν ≥ 0, got ν = {nu}"
        )));
    }
    if !(eps.is_finite() && eps > 0.0) {
        return Err(Error::Invalid(format!(
            "reference envelope needs ε > 0, got {eps}"
        )));
    }
    let damp = (-r_uv).exp();
    let xi = (k_abs * k_abs + eps * eps).sqrt() * damp;
    let xi0 = eps * damp;
    // ξ^a K_b(max(ξ, ε)) = exp(a ln ξ − X + ln(e^X K_b(X))), X = max(ξ, ε) ≥ ε: never overflows
    // for the orders the models use, so the ratio is taken in logs.
    let term = |a: f64, b: f64, x: f64| -> f64 {
        let xc = x.max(eps);
        a * x.ln() - xc + bessel_k_scaled(b, xc).ln()
    };
    let ln_n = term(nu, nu, xi0);
    let phi = (term(nu, nu, xi) - ln_n).exp();
    let pi = (term(nu + 1.0, (nu - 1.0).abs(), xi) - ln_n).exp();
    check_finite("env_φ", phi)?;
    check_finite("env_π", pi)?;
    Ok((phi, pi))
}

/// Power-law (hyperscaling-violating, massless) envelope at r_UV (PAPER.md §3.4):
/// K̂ = (|k|u)^β K_β(|k|u)/(2^(β−1)Γ(β)), ∂_r K̂ = −|k| (|k|u)^β K_(β−1)(|k|u) u^(1−p)/(2^(β−1)Γ(β)),
/// u = (p r_UV)^(1/p). Requires p ∈ (0, 1], β > 0, r_UV > 0. k = 0 gives (1, 0).
pub fn power_law_envelope(p: f64, beta: f64, k_abs: f64, r_uv: f64) -> Result<(f64, f64)> {
    check_k(k_abs)?;
    if !(p.is_finite() && p > 0.0 && p <= 1.0) {
        return Err(Error::Invalid(format!(
            "power-law envelope needs p ∈ (0, 1], got {p}"
        )));
    }
    if !(beta.is_finite() && beta > 0.0) {
        return Err(Error::Invalid(format!(
            "power-law envelope needs β > 0, got {beta}"
        )));
    }
    if !(r_uv.is_finite() && r_uv > 0.0) {
        return Err(Error::Invalid(format!(
            "power-law envelope needs r_UV > 0, got {r_uv}"
        )));
    }
    let u = (p * r_uv).powf(1.0 / p);
    let x = k_abs * u;
    if x == 0.0 {
        return Ok((1.0, 0.0));
    }
    let ln_c = (1.0 - beta) * std::f64::consts::LN_2 - ln_gamma(beta);
    let phi = scaled_power_k(ln_c, beta, beta, x);
    // −|k| x^β K_(β−1)(x) u^(1−p) c = −(x^(β+1) K_|β−1|(x) c) · u^(−p).
    let pi = -scaled_power_k(ln_c, beta + 1.0, (beta - 1.0).abs(), x) * u.powf(-p);
    check_finite("env_π", pi)?;
    Ok((phi, pi))
}

/// Flat-geometry envelope: (e^(−μ r_UV), −μ e^(−μ r_UV)) / e^(−μ₀ r_UV) with
/// μ = sqrt(|k|² f^(−2) + max(m², 0)), μ₀ its k = 0 value. Not a stabilised envelope; an ablation.
pub fn flat_envelope(mass2: f64, inv_f2: f64, k_abs: f64, r_uv: f64) -> Result<(f64, f64)> {
    flat_impl(mass2, inv_f2, k_abs, r_uv, 0.0)
}

/// The authors' flat envelope: as [`flat_envelope`] with ε² added under the square root of μ
/// (and of μ₀).
pub fn flat_envelope_reference(
    mass2: f64,
    inv_f2: f64,
    k_abs: f64,
    r_uv: f64,
    eps: f64,
) -> Result<(f64, f64)> {
    flat_impl(mass2, inv_f2, k_abs, r_uv, eps)
}

fn flat_impl(mass2: f64, inv_f2: f64, k_abs: f64, r_uv: f64, eps: f64) -> Result<(f64, f64)> {
    check_k(k_abs)?;
    check_finite("r_UV", r_uv)?;
    check_finite("m²", mass2)?;
    if !(inv_f2.is_finite() && inv_f2 > 0.0) {
        return Err(Error::Invalid(format!(
            "flat envelope needs f^−2 > 0, got {inv_f2}"
        )));
    }
    let m2 = mass2.max(0.0) + eps * eps;
    let mu = (k_abs * k_abs * inv_f2 + m2).sqrt();
    let mu0 = m2.sqrt();
    let phi = (-(mu - mu0) * r_uv).exp();
    check_finite("env_φ", phi)?;
    Ok((phi, -mu * phi))
}
