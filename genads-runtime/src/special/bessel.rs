//! Modified Bessel functions I_ν(x), K_ν(x) of real order ν ≥ 0 and x > 0.
//!
//! The algorithm is the classical one (Temme 1975; Numerical Recipes `bessik`): write ν = μ + n with
//! μ ∈ [−½, ½); get K_μ, K_{μ+1} from Temme's series (x ≤ 2) or Steed's continued fraction CF2
//! (x > 2); recur upwards K_{μ+j+1} = K_{μ+j−1} + (2(μ+j)/x) K_{μ+j} (stable for K); get I_ν from
//! the ratio I′_ν/I_ν (continued fraction CF1) and the Wronskian I_ν K′_ν − I′_ν K_ν = −1/x.
//! The x > 2 branch works with e^x K so that the scaled function never underflows.

use super::gamma::temme_gammas;
use std::f64::consts::PI;

const EPS: f64 = 1e-16;
const FPMIN: f64 = 1e-300;
const MAX_ITER: usize = 100_000;
const X_SWITCH: f64 = 2.0;

/// I_ν, K_ν and their x-derivatives at one (ν, x), K scaled by `k_scale` (1 or e^x).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BesselIK {
    /// I_ν(x) (NaN when it overflows the ratio computation; +∞ for huge values).
    pub i: f64,
    /// I′_ν(x).
    pub ip: f64,
    /// K_ν(x) · k_scale.
    pub k: f64,
    /// K′_ν(x) · k_scale.
    pub kp: f64,
}

/// K_μ(x)·s and K_{μ+1}(x)·s for |μ| ≤ ½, where s = e^x if `scaled` else 1.
fn k_mu_pair(mu: f64, x: f64, scaled: bool) -> (f64, f64) {
    let xi = 1.0 / x;
    let mu2 = mu * mu;
    if x <= X_SWITCH {
        // Temme's series.
        let x2 = 0.5 * x;
        let pimu = PI * mu;
        let fact = if pimu.abs() < EPS {
            1.0
        } else {
            pimu / pimu.sin()
        };
        let d = -x2.ln();
        let e = mu * d;
        let fact2 = if e.abs() < EPS { 1.0 } else { e.sinh() / e };
        let (gam1, gam2) = temme_gammas(mu);
        // 1/Γ(1+μ) = gam2 − μ·gam1, 1/Γ(1−μ) = gam2 + μ·gam1.
        let gampl = gam2 - mu * gam1;
        let gammi = gam2 + mu * gam1;
        let mut ff = fact * (gam1 * e.cosh() + gam2 * fact2 * d);
        let mut sum = ff;
        let ee = e.exp();
        let mut p = 0.5 * ee / gampl;
        let mut q = 0.5 / (ee * gammi);
        let mut c = 1.0;
        let dd = x2 * x2;
        let mut sum1 = p;
        for i in 1..MAX_ITER {
            let fi = i as f64;
            ff = (fi * ff + p + q) / (fi * fi - mu2);
            c *= dd / fi;
            p /= fi - mu;
            q /= fi + mu;
            let del = c * ff;
            sum += del;
            let del1 = c * (p - fi * ff);
            sum1 += del1;
            if del.abs() < sum.abs() * EPS {
                break;
            }
        }
        let s = if scaled { x.exp() } else { 1.0 };
        (sum * s, sum1 * 2.0 * xi * s)
    } else {
        // Steed's algorithm for CF2 with Thompson–Barnett summation of the Temme normalisation.
        let mut b = 2.0 * (1.0 + x);
        let mut d = 1.0 / b;
        let mut h = d;
        let mut delh = d;
        let mut q1 = 0.0;
        let mut q2 = 1.0;
        let a1 = 0.25 - mu2;
        let mut q = a1;
        let mut c = a1;
        let mut a = -a1;
        let mut s = 1.0 + q * delh;
        for i in 2..MAX_ITER {
            let fi = i as f64;
            a -= 2.0 * (fi - 1.0);
            c = -a * c / fi;
            let qnew = (q1 - b * q2) / a;
            q1 = q2;
            q2 = qnew;
            q += c * qnew;
            b += 2.0;
            d = 1.0 / (b + a * d);
            delh *= b * d - 1.0;
            h += delh;
            let dels = q * delh;
            s += dels;
            if (dels / s).abs() < EPS {
                break;
            }
        }
        let h = a1 * h;
        let pre = (PI / (2.0 * x)).sqrt() / s;
        let kmu = if scaled { pre } else { pre * (-x).exp() };
        let k1 = kmu * (mu + x + 0.5 - h) * xi;
        (kmu, k1)
    }
}

/// Splits ν ≥ 0 into n = round(ν) and μ = ν − n ∈ [−½, ½].
fn split_order(nu: f64) -> (usize, f64) {
    let n = (nu + 0.5).floor();
    (n as usize, nu - n)
}

/// K_ν(x)·s and K_{ν+1}(x)·s by upward recurrence (s = e^x when `scaled`).
fn k_pair(nu: f64, x: f64, scaled: bool) -> (f64, f64) {
    let (n, mu) = split_order(nu);
    let (mut k0, mut k1) = k_mu_pair(mu, x, scaled);
    let xi2 = 2.0 / x;
    for j in 1..=n {
        let next = (mu + j as f64) * xi2 * k1 + k0;
        k0 = k1;
        k1 = next;
        if !k1.is_finite() {
            // Overflow: the remaining orders are larger still.
            return if j == n {
                (k0, f64::INFINITY)
            } else {
                (f64::INFINITY, f64::INFINITY)
            };
        }
    }
    (k0, k1)
}

/// Handles the shared edge cases; `None` means "compute normally".
fn k_edge(nu: f64, x: f64, scaled: bool) -> Option<f64> {
    if nu.is_nan() || x.is_nan() || x < 0.0 {
        return Some(f64::NAN);
    }
    if x == 0.0 {
        return Some(f64::INFINITY);
    }
    if x.is_infinite() {
        return Some(0.0);
    }
    if nu.is_infinite() {
        return Some(f64::INFINITY);
    }
    if !scaled && x > 745.0 {
        // e^(−x) underflows: K_ν(x) < e^(−x) · (something modest for moderate ν).
        let ks = k_pair(nu.abs(), x, true).0;
        let v = ks * (-x).exp();
        return Some(if v.is_finite() { v } else { 0.0 });
    }
    None
}

/// The modified Bessel function of the second kind K_ν(x), real ν (K_{−ν} = K_ν), x > 0.
/// Returns +∞ at x = 0 or on overflow (tiny x, large ν), 0 on underflow, NaN for x < 0 or NaN input.
pub fn bessel_k(nu: f64, x: f64) -> f64 {
    if let Some(v) = k_edge(nu, x, false) {
        return v;
    }
    k_pair(nu.abs(), x, false).0
}

/// The exponentially scaled e^x K_ν(x), which neither underflows for large x nor loses accuracy.
pub fn bessel_k_scaled(nu: f64, x: f64) -> f64 {
    if let Some(v) = k_edge(nu, x, true) {
        return v;
    }
    k_pair(nu.abs(), x, true).0
}

/// I_ν, I′_ν, K_ν, K′_ν at ν ≥ 0, x > 0 (unscaled). Returns `None` for invalid arguments
/// (ν < 0, x ≤ 0, non-finite input).
pub fn bessel_ik(nu: f64, x: f64) -> Option<BesselIK> {
    if !(nu.is_finite() && x.is_finite()) || nu < 0.0 || x <= 0.0 {
        return None;
    }
    let (n, mu) = split_order(nu);
    let xi = 1.0 / x;
    let xi2 = 2.0 * xi;
    // CF1 (modified Lentz) for f_ν = I′_ν/I_ν.
    let mut h = (nu * xi).max(FPMIN);
    let mut b = xi2 * nu;
    let mut d = 0.0;
    let mut c = h;
    for _ in 1..MAX_ITER {
        b += xi2;
        d = 1.0 / (b + d);
        c = b + 1.0 / c;
        let del = c * d;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    // Downward recurrence of (I, I′) from ν to μ with arbitrary starting value.
    let mut ril = FPMIN;
    let mut ripl = h * ril;
    let ril1 = ril;
    let rip1 = ripl;
    let mut fact = nu * xi;
    for _ in 0..n {
        let ritemp = fact * ril + ripl;
        fact -= xi;
        ripl = fact * ritemp + ril;
        ril = ritemp;
    }
    let f = ripl / ril; // I′_μ/I_μ
    let (kmu, k1) = k_mu_pair(mu, x, false);
    let kmup = mu * xi * kmu - k1;
    let rimu = xi / (f * kmu - kmup); // Wronskian
    let i = rimu * ril1 / ril;
    let ip = rimu * rip1 / ril;
    let (k, knext) = k_pair(nu, x, false);
    let kp = nu * xi * k - knext;
    Some(BesselIK { i, ip, k, kp })
}

/// The modified Bessel function of the first kind I_ν(x), ν ≥ 0, x ≥ 0 (NaN outside).
pub fn bessel_i(nu: f64, x: f64) -> f64 {
    if x == 0.0 && nu >= 0.0 {
        return if nu == 0.0 { 1.0 } else { 0.0 };
    }
    bessel_ik(nu, x).map_or(f64::NAN, |r| r.i)
}
