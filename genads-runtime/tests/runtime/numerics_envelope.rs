//! Envelopes against closed forms, the worked table of PAPER.md §4.4, the Klein–Gordon residual by
//! finite differences in r, and the numerical (ODE) path against the closed forms.

use genads_dsl::derived::Propagator;
use genads_runtime::envelope::{
    ads_envelope, ads_envelope_reference, flat_envelope, numerical_envelope, power_law_envelope,
    EnvelopeGrid, EnvelopeSpec, Normalisation, NumericalOptions,
};
use genads_runtime::spectral::ModeGrid;
use std::f64::consts::PI;

#[test]
fn worked_reference_table() {
    // (L, n_x, n_y, env_φ, env_π) from PAPER.md §4.4 (Δ = 1.5, r_UV = 1, ε = 0.01).
    let rows = [
        (8.0, 0, 0, 1.000000, 0.003679),
        (8.0, 1, 0, 1.247379, 0.360437),
        (8.0, 1, 1, 1.106688, 0.452224),
        (8.0, 4, 0, 0.524278, 0.605925),
        (8.0, 8, 8, 0.063362, 0.207123),
        (28.0, 1, 0, 1.533214, 0.126695),
        (28.0, 4, 0, 1.196944, 0.395265),
        (28.0, 14, 14, 0.324831, 0.530920),
    ];
    for (l, nx, ny, phi, pi) in rows {
        let k = 2.0 * PI / l * ((nx * nx + ny * ny) as f64).sqrt();
        let (a, b) = ads_envelope_reference(0.5, k, 1.0, 0.01).unwrap();
        assert!(
            (a - phi).abs() < 1e-6,
            "L={l} ({nx},{ny}): env_φ {a} vs {phi}"
        );
        assert!(
            (b - pi).abs() < 1e-6,
            "L={l} ({nx},{ny}): env_π {b} vs {pi}"
        );
    }
    // N = 0.7526096 = ξ0^ν K_ν(ε) and the non-DC factor sqrt(π/2)/N = 1.6652912 (= e^(ν r_UV + ε)).
    let xi0 = 0.01 * (-1.0f64).exp();
    let n = xi0.sqrt() * genads_runtime::special::bessel_k(0.5, 0.01);
    assert!((n - 0.7526096).abs() < 1e-7);
    assert!(((PI / 2.0).sqrt() / n - 1.6652912).abs() < 1e-7);
    assert!(((PI / 2.0).sqrt() / n - (0.5f64 + 0.01).exp()).abs() < 1e-12);
}

#[test]
fn reference_grid_via_spec() {
    let grid = ModeGrid::new(16, 16, 8.0, 8.0).unwrap();
    let spec = EnvelopeSpec {
        propagator: Propagator::Ads { nu: 0.5 },
        r_uv: 1.0,
        inv_f2_uv: (-2.0f64).exp(),
        normalisation: Normalisation::Reference,
        eps: 0.01,
    };
    let env = EnvelopeGrid::from_spec(&grid, &spec).unwrap();
    assert!((env.phi[0] - 1.0).abs() < 1e-12);
    assert!((env.phi[16] - 1.247379).abs() < 1e-6); // (n_x, n_y) = (1, 0)
    assert!((env.phi[1] - 1.247379).abs() < 1e-6); // (0, 1)
    assert!((env.pi[8 * 16 + 8] - 0.207123).abs() < 1e-6); // (−8, −8): |k| as (8, 8)
    let clean = EnvelopeGrid::from_spec(
        &grid,
        &EnvelopeSpec {
            normalisation: Normalisation::Clean,
            ..spec
        },
    )
    .unwrap();
    assert_eq!(clean.phi[0], 1.0);
    assert_eq!(clean.pi[0], 0.0);
}

#[test]
fn ads_closed_forms() {
    for i in 0..50 {
        let k = 0.05 * i as f64 * 1.3;
        for r in [0.0f64, 1.0, 2.5] {
            let xi = k * (-r).exp();
            let (g, h) = ads_envelope(0.5, k, r).unwrap();
            assert!((g - (-xi).exp()).abs() < 1e-13 && (h - xi * (-xi).exp()).abs() < 1e-13);
            let (g, h) = ads_envelope(1.5, k, r).unwrap();
            assert!((g - (1.0 + xi) * (-xi).exp()).abs() < 1e-13);
            assert!((h - xi * xi * (-xi).exp()).abs() < 1e-13);
        }
    }
    // Small ν and ξ → 0 limits stay finite and tend to (1, 0).
    for nu in [0.01, 0.2, 1.0, 3.0, 12.0] {
        let (g, h) = ads_envelope(nu, 1e-200, 0.0).unwrap();
        assert!(g.is_finite() && h.is_finite(), "ν = {nu}");
        assert!(
            (g - 1.0).abs() < 1e-3 && h.abs() < 1e-3,
            "ν = {nu}: {g} {h}"
        );
        let (g, h) = ads_envelope(nu, 1e4, 0.0).unwrap();
        assert!((0.0..1e-100).contains(&g) && h >= 0.0 && h.is_finite());
    }
    assert!(ads_envelope(0.0, 1.0, 1.0).is_err());
    assert!(ads_envelope(0.5, f64::NAN, 1.0).is_err());
    assert!(ads_envelope(0.5, -1.0, 1.0).is_err());
}

/// Second derivative and first derivative by central differences in r.
fn fd(f: &dyn Fn(f64) -> f64, r: f64, h: f64) -> (f64, f64) {
    let (fm, f0, fp) = (f(r - h), f(r), f(r + h));
    ((fp - fm) / (2.0 * h), (fp - 2.0 * f0 + fm) / (h * h))
}

#[test]
fn kg_residual_ads() {
    // Stabilised planar AdS (d = 2): φ̃'' = −(2Δ − d) φ̃' + |k|² e^(−2r) φ̃ with 2Δ − d = 2ν.
    for nu in [0.3, 0.5, 1.0, 1.5, 2.7] {
        for k in [0.3, 1.0, 4.0] {
            for r in [-0.5f64, 0.0, 1.0, 2.0] {
                let phi = |r: f64| ads_envelope(nu, k, r).unwrap().0;
                let (d1, d2) = fd(&phi, r, 1e-4);
                let (g, h) = ads_envelope(nu, k, r).unwrap();
                let scale = 1.0 + k * k * (-2.0 * r).exp();
                assert!(
                    (h - d1).abs() < 1e-7 * scale,
                    "ν={nu} k={k} r={r}: π {h} vs {d1}"
                );
                let res = d2 + 2.0 * nu * d1 - k * k * (-2.0 * r).exp() * g;
                assert!(
                    res.abs() < 1e-5 * scale,
                    "ν={nu} k={k} r={r}: residual {res}"
                );
            }
        }
    }
}

#[test]
fn kg_residual_power_law_and_flat() {
    // HSV (massless, unstabilised): Φ'' = (dγ/r) Φ' + (p r)^(2γ) |k|² Φ, d = 2, γ = (1−p)/p.
    for p in [0.25f64, 0.5, 0.8, 1.0] {
        let gamma_ = (1.0 - p) / p;
        let beta = (1.0 + (1.0 - p)) / 2.0;
        for k in [0.5, 2.0] {
            for r in [0.6, 1.2, 3.0] {
                let phi = |r: f64| power_law_envelope(p, beta, k, r).unwrap().0;
                let (d1, d2) = fd(&phi, r, 1e-4);
                let (g, h) = power_law_envelope(p, beta, k, r).unwrap();
                assert!(
                    (h - d1).abs() < 1e-6 * (1.0 + h.abs()),
                    "p={p} k={k} r={r}: π {h} vs {d1}"
                );
                let res = d2 - 2.0 * gamma_ / r * d1 - (p * r).powf(2.0 * gamma_) * k * k * g;
                assert!(
                    res.abs() < 1e-4 * (1.0 + d2.abs()),
                    "p={p} k={k} r={r}: residual {res}"
                );
            }
        }
    }
    // p = 1 is flat: K̂ = e^(−|k| r).
    let (g, h) = power_law_envelope(1.0, 0.5, 1.7, 0.3).unwrap();
    assert!((g - (-1.7f64 * 0.3).exp()).abs() < 1e-13 && (h + 1.7 * g).abs() < 1e-13);
    // Flat, m² ≥ 0: φ'' = (|k|² + m²) φ. The envelope is divided by its k = 0 value e^(−m r_UV), a
    // constant of the grid, so the mode function is env · e^(−m r).
    for m2 in [0.0f64, 0.7] {
        let m = m2.sqrt();
        for k in [0.0, 0.4, 3.0] {
            let phi = |r: f64| flat_envelope(m2, 1.0, k, r).unwrap().0 * (-m * r).exp();
            let (d1, d2) = fd(&phi, 0.8, 1e-4);
            let (g, h) = flat_envelope(m2, 1.0, k, 0.8).unwrap();
            let norm = (-m * 0.8).exp();
            assert!((h * norm - d1).abs() < 1e-7, "m²={m2} k={k}");
            assert!((d2 - (k * k + m2) * g * norm).abs() < 1e-5);
        }
    }
    assert_eq!(flat_envelope(-0.75, 1.0, 0.0, 1.0).unwrap(), (1.0, 0.0));
}

#[test]
fn numerical_matches_ads() {
    let opts = NumericalOptions::default();
    for nu in [0.5, 1.0, 1.5] {
        let eq = move |r: f64| (-2.0 * nu, (-2.0 * r).exp(), 0.0);
        for k in [0.1, 0.785, 2.0, 8.9] {
            let (g, h) = numerical_envelope(&eq, k, 1.0, 1.0, &opts).unwrap();
            let (g0, h0) = ads_envelope(nu, k, 1.0).unwrap();
            assert!((g - g0).abs() < 1e-6, "ν={nu} k={k}: φ {g} vs {g0}");
            assert!((h - h0).abs() < 1e-6, "ν={nu} k={k}: π {h} vs {h0}");
        }
    }
}

#[test]
fn numerical_matches_hsv() {
    let opts = NumericalOptions::default();
    let p = 0.5f64;
    let gamma_ = (1.0 - p) / p;
    let beta = (1.0 + (1.0 - p)) / 2.0;
    let eq = move |r: f64| (2.0 * gamma_ / r, (p * r).powf(2.0 * gamma_), 0.0);
    let r_uv = (-1.0f64).exp().powf(p) / p; // u_UV = e^(−1): r = u^p/p = 1.2131
    for k in [0.2, 1.0, 3.1, 8.9] {
        let (g, h) = numerical_envelope(&eq, k, r_uv, -1.0, &opts).unwrap();
        let (g0, h0) = power_law_envelope(p, beta, k, r_uv).unwrap();
        assert!((g - g0).abs() < 1e-6, "k={k}: φ {g} vs {g0}");
        assert!((h - h0).abs() < 1e-6, "k={k}: π {h} vs {h0}");
    }
}

#[test]
fn numerical_rejects_unnormalisable() {
    // Unstabilised massive AdS (Δ = 1.5): φ → e^(−r/2)·const, no finite UV limit.
    let eq = |_r: f64| (-2.0, (-2.0 * _r).exp(), -0.75);
    assert!(numerical_envelope(&eq, 1.0, 1.0, 1.0, &NumericalOptions::default()).is_err());
    assert!(numerical_envelope(&eq, f64::NAN, 1.0, 1.0, &NumericalOptions::default()).is_err());
    assert_eq!(
        numerical_envelope(&eq, 0.0, 1.0, 1.0, &NumericalOptions::default()).unwrap(),
        (1.0, 0.0)
    );
}

/// A warp with an IR tip (f = sinh r vanishes at r = 0, beyond r_IR = 0.5), massless field in raw
/// variables, d = 2: φ = u/sinh r turns the mode equation φ'' + 2 coth r φ' = (|k|²/sinh² r) φ
/// into u'' = (1 + |k|²/sinh² r) u. For |k|² = 2 its solutions are u₁ = 1/sinh r and
/// u₂ = (sinh 2r/2 − r)/(2 sinh r) (reduction of order); only u₂/sinh r stays finite at the tip,
/// and it tends to 1/2 at the boundary. So env_φ(r_UV) = (sinh r cosh r − r)/sinh² r and
/// env_π = 2(r cosh r − sinh r)/sinh³ r at r = r_UV (hand derivation).
#[test]
fn numerical_envelope_is_regular_at_an_ir_tip() {
    use genads_runtime::interpreter::Interpreted;
    use genads_runtime::Physics;
    let src = "model tip { boundary 2 warp sinh(r) radial 0.5 -> 1 field massless \
               backbone klein_gordon raw path linear }";
    let m = genads_dsl::select(genads_dsl::compile(src, "tip").expect("compiles"), None).unwrap();
    assert_eq!(m.constants.propagator, Propagator::Numerical);
    let tip = m.constants.ir_tip.expect("the derivation finds the tip");
    assert!(tip.abs() < 1e-9, "tip at {tip}");
    let physics = Interpreted::new(m.clone()).expect("interpreted");
    let (g, h) = physics.envelope(2f64.sqrt()).expect("envelope");
    let r = 1.0f64;
    let (s, c) = (r.sinh(), r.cosh());
    let (g0, h0) = ((s * c - r) / (s * s), 2.0 * (r * c - s) / s.powi(3));
    assert!((g - g0).abs() < 1e-7, "φ {g} vs {g0}");
    assert!((h - h0).abs() < 1e-7, "π {h} vs {h0}");
    // The Klein–Gordon residual of the envelope as a function of r_UV, at other |k| too.
    for k in [0.3, 1.0, 2.5] {
        let at = |r_uv: f64| {
            let mut m = m.clone();
            m.constants.r_uv = r_uv;
            Interpreted::new(m).unwrap().envelope(k).unwrap().0
        };
        let (d1, d2) = fd(&at, 1.0, 1e-3);
        let phi = at(1.0);
        let res = d2 + 2.0 / r.tanh() * d1 - k * k / (s * s) * phi;
        assert!(
            res.abs() < 1e-4 * (1.0 + d2.abs()),
            "k = {k}: residual {res}"
        );
    }
    // Without the tip the deep-IR walk crosses r = 0 and fails (what `train` reported before).
    let eq = |r: f64| (-2.0 / r.tanh(), 1.0 / (r.sinh() * r.sinh()), 0.0);
    assert!(numerical_envelope(&eq, 2f64.sqrt(), 1.0, 1.0, &NumericalOptions::default()).is_err());
}
