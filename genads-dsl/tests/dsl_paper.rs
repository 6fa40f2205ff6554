//! The derivation checked against PAPER.md's numbers and against independent oracles (closed
//! forms, finite differences, quadrature) — never against a re-typed copy of the formulas.

use genads_dsl::derived::{Affine, Encoding, PathKind, Propagator};
use genads_dsl::{compile, select, Derived};

fn model(src: &str) -> Derived {
    match compile(src, "test.genads") {
        Ok(models) => select(models, None).expect("one model"),
        Err(d) => panic!("{d}"),
    }
}

fn ads(delta: &str, path: &str) -> Derived {
    model(&format!(
        "model m {{ boundary 2 warp exp(r) radial 0 -> 1 field delta {delta} \
         backbone klein_gordon stabilised path {path} }}"
    ))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

fn ev(e: &genads_dsl::Expr, r: f64) -> f64 {
    e.eval_r(r).expect("finite")
}

/// Central finite difference.
fn fd(e: &genads_dsl::Expr, r: f64) -> f64 {
    let h = 1e-5;
    (ev(e, r + h) - ev(e, r - h)) / (2.0 * h)
}

#[test]
fn ads_omega_is_e_2r_and_derivatives_match_finite_differences() {
    let m = ads("1.5", "hermite affine");
    for r in [0.0, 0.3, 0.77, 1.0] {
        assert!(close(ev(&m.omega, r), (2.0 * r).exp(), 1e-12));
        assert!(close(ev(&m.omega_prime, r), fd(&m.omega, r), 1e-7));
        assert!(close(ev(&m.inv_f2, r), (-2.0 * r).exp(), 1e-12));
        // d f'/f against a finite difference of the warp.
        assert!(close(
            ev(&m.friction, r),
            2.0 * fd(&m.warp, r) / ev(&m.warp, r),
            1e-7
        ));
    }
}

#[test]
fn ads_backbone_matches_paper_section_3_3() {
    // Planar AdS, Δ = 1.5, d = 2: dπ̃/dr = |k|² e^(-2r) φ̃ − π̃; friction −(2Δ − d) for each Δ.
    for (delta, friction) in [("1.5", -1.0), ("2", -2.0), ("2.5", -3.0), ("3", -4.0)] {
        let m = ads(delta, "hermite affine");
        assert_eq!(
            m.backbone.friction.as_constant(),
            Some(friction),
            "Δ = {delta}"
        );
        assert_eq!(m.backbone.mass.as_constant(), Some(0.0), "Δ = {delta}");
        for r in [0.0, 0.4, 1.0] {
            assert!(close(ev(&m.backbone.laplacian, r), (-2.0 * r).exp(), 1e-12));
        }
    }
    let m = ads("1.5", "linear");
    let text = genads_dsl::explain::render(&m, genads_dsl::explain::Format::Text);
    assert!(
        text.contains("dπ̃/dr = |k|² exp(-2*r) φ̃ - π̃"),
        "explain prints the AdS backbone:\n{text}"
    );
    // Unstabilised: friction −d f'/f = −2, mass m² = −0.75.
    assert_eq!(m.backbone_unstabilised.friction.as_constant(), Some(-2.0));
    assert_eq!(m.backbone_unstabilised.mass.as_constant(), Some(-0.75));
    assert_eq!(
        (m.constants.delta, m.constants.m2, m.constants.nu),
        (1.5, -0.75, 0.5)
    );
    assert_eq!(m.constants.propagator, Propagator::Ads { nu: 0.5 });
}

#[test]
fn ads_affine_parameter_matches_paper_section_5_2() {
    let m = ads("1.5", "hermite affine");
    let Affine::ClosedForm { u, dr_du, z, .. } = &m.affine else {
        panic!("AdS affine parameter is elementary");
    };
    // PAPER.md §5.2: Z = 0.4323324, dr/du(r_IR) = 0.4323324, dr/du(r_UV) = 3.1945280.
    assert!((z - 0.4323324).abs() < 5e-8, "Z = {z}");
    assert!((ev(dr_du, 0.0) - 0.4323324).abs() < 5e-8);
    assert!((ev(dr_du, 1.0) - 3.1945280).abs() < 5e-7);
    // u(r) = (1 − e^(−2r)) / (1 − e^(−2)).
    for r in [0.0f64, 0.1, 0.5, 0.9, 1.0] {
        let want = (1.0 - (-2.0 * r).exp()) / (1.0 - (-2.0f64).exp());
        assert!(close(ev(u, r), want, 1e-12), "u({r})");
        // du/dr = 1/(Z ω) = 1 / (dr/du).
        assert!(close(fd(u, r), 1.0 / ev(dr_du, r), 1e-7));
    }
    assert_eq!(m.constants.path, PathKind::HermiteAffine);
}

/// Simpson's rule, an independent oracle for ∫ds/ω.
fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let n = 2000;
    let h = (b - a) / n as f64;
    let mut s = f(a) + f(b);
    for i in 1..n {
        s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[test]
fn hsv_scan_matches_paper_section_2_4_table() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/hsv_scan.genads"
    ))
    .expect("models/hsv_scan.genads");
    let models = compile(&src, "hsv_scan.genads").unwrap_or_else(|d| panic!("{d}"));
    // p, β, r_UV, r_IR, ω(r_UV) from the table.
    let table = [
        (0.1, 0.950, 9.0484, 10.0, 6.05),
        (0.25, 0.875, 3.1152, 4.0, 4.48),
        (0.5, 0.750, 1.2131, 2.0, 2.72),
        (1.0, 0.500, 0.3679, 1.0, 1.0),
    ];
    assert_eq!(models.len(), 4);
    for (m, (p, beta, r_uv, r_ir, omega_uv)) in models.iter().zip(table) {
        assert!(
            (m.constants.r_uv - r_uv).abs() < 5e-5,
            "{}: r_UV {}",
            m.constants.name,
            m.constants.r_uv
        );
        assert!(
            (m.constants.r_ir - r_ir).abs() < 1e-12,
            "{}: r_IR",
            m.constants.name
        );
        assert!(
            (ev(&m.omega, m.constants.r_uv) - omega_uv).abs() < 5e-3,
            "{}: ω(r_UV)",
            m.constants.name
        );
        assert!(
            (ev(&m.omega, m.constants.r_ir) - 1.0).abs() < 1e-9,
            "{}: ω(r_IR)",
            m.constants.name
        );
        assert!(
            m.massless && !m.constants.stabilised && m.constants.path == PathKind::HermiteRadial
        );
        assert_eq!((m.constants.delta, m.constants.m2), (2.0, 0.0));
        match m.constants.propagator {
            Propagator::PowerLaw { p: pp, beta: b } => {
                assert!(
                    (pp - p).abs() < 1e-12 && (b - beta).abs() < 1e-12,
                    "{}",
                    m.constants.name
                )
            }
            Propagator::Flat { mass2 } => assert!(p == 1.0 && mass2 == 0.0),
            ref other => panic!("{}: {other:?}", m.constants.name),
        }
        // Raw massless backbone: dΠ/dr = (p r)^(2γ) |k|² Φ + (d γ / r) Π.
        let gamma = (1.0 - p) / p;
        for r in [
            m.constants.r_uv,
            (m.constants.r_uv + m.constants.r_ir) / 2.0,
            m.constants.r_ir,
        ] {
            assert!(close(ev(&m.backbone.friction, r), 2.0 * gamma / r, 1e-9));
            assert!(close(
                ev(&m.backbone.laplacian, r),
                (p * r).powf(2.0 * gamma),
                1e-9
            ));
        }
        assert_eq!(m.backbone.mass.as_constant(), Some(0.0));
        // The affine parameter, when closed-form, against quadrature of 1/ω.
        if let Affine::ClosedForm { u, z, .. } = &m.affine {
            let inv = |r: f64| 1.0 / ev(&m.omega, r);
            let zq = simpson(inv, m.constants.r_ir, m.constants.r_uv);
            assert!(close(*z, zq, 1e-8), "{}: Z {z} vs {zq}", m.constants.name);
            let mid = (m.constants.r_ir + m.constants.r_uv) / 2.0;
            assert!(close(
                ev(u, mid),
                simpson(inv, m.constants.r_ir, mid) / zq,
                1e-8
            ));
        }
    }
}

#[test]
fn flat_geometry_is_flat_and_affine_is_linear() {
    let m = model(
        "model f { boundary 2 warp 1 radial 0 -> 1 field delta 1.5 backbone klein_gordon path hermite }",
    );
    assert_eq!(m.constants.propagator, Propagator::Flat { mass2: -0.75 });
    // PAPER.md §3.3 flat: dπ̃/dr = |k|² φ̃ + (2d − 2Δ) π̃ − d(d − Δ) φ̃.
    assert_eq!(m.backbone.friction.as_constant(), Some(1.0));
    assert_eq!(m.backbone.mass.as_constant(), Some(-1.0));
    assert_eq!(m.backbone.laplacian.as_constant(), Some(1.0));
    let Affine::ClosedForm { u, z, .. } = &m.affine else {
        panic!("flat affine is elementary")
    };
    assert_eq!(*z, 1.0);
    assert!(close(ev(u, 0.25), 0.25, 1e-12));
    assert_eq!(m.constants.encoding, Encoding::Propagator);
}

#[test]
fn mass2_and_massless_derive_delta() {
    let m = model(
        "model m { boundary 2 warp exp(r) radial 0 -> 1 field mass2 -0.75 backbone off path linear }",
    );
    assert_eq!((m.constants.delta, m.constants.nu), (1.5, 0.5));
    let m = model(
        "model m { boundary 2 warp exp(r) radial 0 -> 1 field massless backbone off path linear }",
    );
    assert_eq!(
        (m.constants.delta, m.constants.m2, m.constants.nu),
        (2.0, 0.0, 1.0)
    );
}

#[test]
fn numerical_fallbacks() {
    // A warp whose 1/ω has no elementary antiderivative and no closed-form propagator.
    let m = model(
        "model m { boundary 2 warp exp(r^2) + 1 radial 0 -> 1 field delta 1.5 backbone klein_gordon path hermite encoding none }",
    );
    assert_eq!(m.affine, Affine::Numerical);
    assert_eq!(m.constants.propagator, Propagator::Numerical);
    // Shifted AdS: f'/f = 1 but ξ = |k| e^(-r) would be off by e^c.
    let m = model(
        "model m { boundary 2 warp exp(r + 1) radial 0 -> 1 field delta 1.5 backbone off path linear }",
    );
    assert_eq!(m.constants.propagator, Propagator::Numerical);
}

#[test]
fn signature_is_stable_and_discriminating() {
    let a = ads("1.5", "hermite affine");
    let b = model(
        "model other_name { boundary 2 warp exp(r) radial 0 -> 1 field delta 1.5 backbone klein_gordon path hermite }",
    );
    assert_eq!(
        a.constants.signature, b.constants.signature,
        "the name is not part of the physics"
    );
    assert_eq!(a.constants.signature.len(), 64);
    assert_ne!(
        a.constants.signature,
        ads("2", "hermite affine").constants.signature
    );
    assert_ne!(
        a.constants.signature,
        ads("1.5", "linear").constants.signature
    );
}
