//! Special functions against independent oracles: closed forms, recurrences, the Wronskian,
//! published values, and direct quadrature of the integral representation
//! K_ν(x) = ∫₀^∞ e^(−x cosh t) cosh(νt) dt.

#![allow(clippy::excessive_precision)] // published values quoted in full

use genads_runtime::rng::{seeded, uniform_vec};
use genads_runtime::special::{bessel_i, bessel_ik, bessel_k, bessel_k_scaled, gamma};
use std::f64::consts::PI;

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

/// e^x K_ν(x) by the trapezoidal rule on the integral representation (exponentially convergent for
/// this analytic, rapidly decaying integrand). Independent of the series/continued-fraction code.
fn k_scaled_quadrature(nu: f64, x: f64) -> f64 {
    let h = 0.005;
    let mut sum = 0.5; // t = 0 term: e^(−x(cosh 0 − 1)) cosh 0 / 2
    let mut t: f64 = h;
    loop {
        let log_term = -x * (t.cosh() - 1.0) + nu * t;
        let term = (-x * (t.cosh() - 1.0)).exp() * (nu * t).cosh();
        sum += term;
        if log_term < -60.0 && t > 1.0 {
            break;
        }
        t += h;
    }
    sum * h
}

#[test]
fn published_values() {
    // Abramowitz & Stegun Table 9.8 / DLMF; each value also agrees with the quadrature below.
    let cases = [
        (0.0, 1.0, 0.421_024_438_240_708_33),
        (1.0, 1.0, 0.601_907_230_197_234_57),
        (0.0, 0.1, 2.427_069_024_702_016_6),
        (1.0, 2.0, 0.139_865_881_816_522_43),
        (0.0, 10.0, 1.778_006_231_616_918e-5),
    ];
    for (nu, x, want) in cases {
        let got = bessel_k(nu, x);
        assert!(rel(got, want) < 1e-13, "K_{nu}({x}) = {got}, want {want}");
        let quad = k_scaled_quadrature(nu, x) * (-x).exp();
        assert!(rel(quad, want) < 1e-12, "quadrature K_{nu}({x}) = {quad}");
    }
}

#[test]
fn k_one_third_two_routes() {
    let direct = bessel_k(1.0 / 3.0, 1.0);
    let quad = k_scaled_quadrature(1.0 / 3.0, 1.0) * (-1.0f64).exp();
    assert!(rel(direct, quad) < 1e-12, "{direct} vs {quad}");
    assert!((direct - 0.438_430_633_441_5).abs() < 1e-12, "{direct}");
}

#[test]
fn half_integer_closed_forms() {
    for i in 0..200 {
        let x = 1e-4 * (50.0f64 / 1e-4).powf(i as f64 / 199.0);
        let base = (PI / (2.0 * x)).sqrt() * (-x).exp();
        let k12 = base;
        let k32 = base * (1.0 + 1.0 / x);
        let k52 = base * (1.0 + 3.0 / x + 3.0 / (x * x));
        assert!(rel(bessel_k(0.5, x), k12) < 1e-12, "K_1/2({x})");
        assert!(rel(bessel_k(1.5, x), k32) < 1e-12, "K_3/2({x})");
        assert!(rel(bessel_k(2.5, x), k52) < 1e-12, "K_5/2({x})");
        assert!(rel(bessel_k(-1.5, x), k32) < 1e-12, "K_-3/2({x})");
        let scaled = (PI / (2.0 * x)).sqrt() * (1.0 + 1.0 / x);
        assert!(
            rel(bessel_k_scaled(1.5, x), scaled) < 1e-12,
            "e^x K_3/2({x})"
        );
        // I_{1/2}(x) = sqrt(2/(πx)) sinh x
        let i12 = (2.0 / (PI * x)).sqrt() * x.sinh();
        assert!(rel(bessel_i(0.5, x), i12) < 1e-12, "I_1/2({x})");
    }
}

#[test]
fn quadrature_random_orders() {
    let mut rng = seeded(11);
    let nus = uniform_vec(&mut rng, 60, 0.0, 6.0);
    let logx = uniform_vec(&mut rng, 60, (1e-4f64).ln(), 50f64.ln());
    for (nu, lx) in nus.into_iter().zip(logx) {
        let x = lx.exp();
        let want = k_scaled_quadrature(nu, x);
        let got = bessel_k_scaled(nu, x);
        assert!(
            rel(got, want) < 1e-10,
            "e^x K_{nu}({x}) = {got}, quadrature {want}"
        );
        if x < 600.0 {
            assert!(rel(bessel_k(nu, x), want * (-x).exp()) < 1e-10);
        }
    }
}

#[test]
fn recurrence_random() {
    let mut rng = seeded(12);
    let nus = uniform_vec(&mut rng, 500, 1.0, 8.0);
    let xs = uniform_vec(&mut rng, 500, 0.0, 1.0);
    for (nu, u) in nus.into_iter().zip(xs) {
        let x = 1e-4 * (50.0f64 / 1e-4).powf(u);
        let lhs = bessel_k_scaled(nu + 1.0, x);
        let rhs = bessel_k_scaled(nu - 1.0, x) + 2.0 * nu / x * bessel_k_scaled(nu, x);
        assert!(rel(lhs, rhs) < 1e-12, "ν = {nu}, x = {x}");
    }
}

#[test]
fn wronskian_random() {
    let mut rng = seeded(13);
    let nus = uniform_vec(&mut rng, 400, 0.0, 6.0);
    let xs = uniform_vec(&mut rng, 400, 0.0, 1.0);
    for (nu, u) in nus.into_iter().zip(xs) {
        let x = 1e-3 * (50.0f64 / 1e-3).powf(u);
        let a = bessel_ik(nu, x).unwrap();
        let b = bessel_ik(nu + 1.0, x).unwrap();
        let w = a.i * b.k + b.i * a.k;
        assert!(
            rel(w, 1.0 / x) < 1e-12,
            "ν = {nu}, x = {x}: {w} vs {}",
            1.0 / x
        );
        // K′_ν = −(K_{ν−1} + K_{ν+1})/2 (independent recurrence for the derivative).
        let kp = -0.5 * (bessel_k(nu - 1.0, x) + bessel_k(nu + 1.0, x));
        assert!(rel(a.kp, kp) < 1e-11, "K′ ν = {nu}, x = {x}");
    }
}

#[test]
fn extremes_are_sane() {
    assert_eq!(bessel_k(1.0, 0.0), f64::INFINITY);
    assert_eq!(bessel_k(0.3, 1e4), 0.0);
    assert!(bessel_k(0.3, 800.0) >= 0.0);
    assert!(bessel_k(200.0, 1e-3).is_infinite());
    assert!(bessel_k(1.0, -1.0).is_nan());
    assert!(bessel_k(f64::NAN, 1.0).is_nan());
    assert!(bessel_k_scaled(2.0, 1e6).is_finite() && bessel_k_scaled(2.0, 1e6) > 0.0);
    assert!(rel(bessel_k_scaled(0.5, 1e6), (PI / 2e6).sqrt()) < 1e-12);
    for nu in [0.0, 0.25, 1.0, 3.7, 10.0, 30.0] {
        for x in [1e-8, 1e-4, 0.5, 2.0, 2.0000001, 20.0, 100.0, 700.0, 800.0] {
            let k = bessel_k(nu, x);
            assert!(!k.is_nan() && k >= 0.0, "K_{nu}({x}) = {k}");
        }
    }
    // Continuity across the series / continued-fraction switch at x = 2.
    for nu in [0.1, 0.5, 1.3, 4.9] {
        let a = bessel_k(nu, 2.0 - 1e-12);
        let b = bessel_k(nu, 2.0 + 1e-12);
        assert!(rel(a, b) < 1e-11, "ν = {nu}: {a} vs {b}");
    }
}

#[test]
fn gamma_values() {
    assert!(rel(gamma(0.5), PI.sqrt()) < 1e-14);
    assert!(rel(gamma(7.0), 720.0) < 1e-14);
    assert!(rel(gamma(2.5), 0.75 * PI.sqrt()) < 1e-14);
    assert!(rel(gamma(0.1), 9.513_507_698_668_732) < 1e-14);
    // Reflection formula as an oracle at random points.
    let mut rng = seeded(14);
    for x in uniform_vec(&mut rng, 100, 0.01, 0.99) {
        let lhs = gamma(x) * gamma(1.0 - x);
        assert!(rel(lhs, PI / (PI * x).sin()) < 1e-13);
        // Legendre duplication: Γ(x)Γ(x+½) = 2^(1−2x) √π Γ(2x).
        let dup = gamma(x) * gamma(x + 0.5);
        assert!(rel(dup, 2f64.powf(1.0 - 2.0 * x) * PI.sqrt() * gamma(2.0 * x)) < 1e-13);
    }
}
