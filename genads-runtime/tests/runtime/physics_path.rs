//! Paths and the interpreted affine parameter, against independent oracles: endpoints, finite
//! differences in t and r, the paper's special values, closed-form integrals of 1/ω.

use crate::physics_common;

use candle_core::{DType, Device, Tensor};
use genads_dsl::derived::{Affine, Derived, PathKind};
use genads_runtime::interpreter::Interpreted;
use genads_runtime::path::{path_matrix, sample_path, PathMatrix};
use genads_runtime::{Physics, State};
use physics_common::*;

fn models() -> Vec<Derived> {
    vec![
        ads(2, 1.5, 0.0, 1.0, PathKind::Linear),
        ads(2, 1.5, 0.0, 1.0, PathKind::HermiteAffine),
        ads(2, 2.5, -0.5, 1.5, PathKind::HermiteAffine),
        ads(2, 1.5, 0.0, 1.0, PathKind::HermiteRadial),
        hsv(2, 0.5, PathKind::HermiteRadial),
        hsv(2, 0.25, PathKind::HermiteAffine),
        flat(
            2,
            1.5,
            PathKind::HermiteAffine,
            1.0,
            genads_dsl::derived::Encoding::None,
        ),
    ]
}

fn interp(m: Derived) -> Interpreted {
    Interpreted::new(m).expect("model interprets")
}

fn diff(a: &PathMatrix, b: &PathMatrix, rows: std::ops::Range<usize>) -> f64 {
    let mut m: f64 = 0.0;
    for i in rows {
        for j in 0..4 {
            m = m.max((a[i][j] - b[i][j]).abs());
        }
    }
    m
}

#[test]
fn endpoints_are_prior_and_data() {
    let id0 = [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0; 4],
        [0.0; 4],
    ];
    let id1 = [
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
        [0.0; 4],
        [0.0; 4],
    ];
    for m in models() {
        let name = format!("{} {:?}", m.constants.name, m.constants.path);
        let p = interp(m);
        let m0 = path_matrix(&p, 0.0).unwrap();
        let m1 = path_matrix(&p, 1.0).unwrap();
        assert!(diff(&m0, &id0, 0..2) < 1e-12, "{name}: t=0 {m0:?}");
        assert!(diff(&m1, &id1, 0..2) < 1e-12, "{name}: t=1 {m1:?}");
        // The same on tensors, spectral (B, 2C, H, W) and point (B, C) states.
        for shape in [&[4usize, 4, 3, 3][..], &[4, 2]] {
            let s0 = state(shape, DType::F32, 1);
            let s1 = state(shape, DType::F32, 2);
            let out = sample_path(&p, &s0, &s1, &[0.0, 1.0, 0.0, 1.0]).unwrap();
            for (b, src) in [(0, &s0), (1, &s1), (2, &s0), (3, &s1)] {
                let got = |x: &Tensor| x.narrow(0, b, 1).unwrap();
                assert!(
                    max_diff(&got(&out.state.phi), &got(&src.phi)) < 1e-5,
                    "{name}"
                );
                assert!(
                    max_diff(&got(&out.state.pi), &got(&src.pi)) < 1e-5,
                    "{name}"
                );
            }
            assert_eq!(out.t, vec![0.0, 1.0, 0.0, 1.0]);
            let c = p.constants();
            assert_eq!(out.r, vec![c.r_ir, c.r_uv, c.r_ir, c.r_uv]);
        }
    }
}

#[test]
fn velocity_is_the_t_derivative_and_hermite_is_on_shell() {
    let h = 1e-5;
    for m in models() {
        let name = format!("{} {:?}", m.constants.name, m.constants.path);
        let p = interp(m);
        let span = p.constants().span();
        for t in [0.02, 0.1, 0.37, 0.5, 0.83, 0.98] {
            let (a, b) = (
                path_matrix(&p, t - h).unwrap(),
                path_matrix(&p, t + h).unwrap(),
            );
            let m = path_matrix(&p, t).unwrap();
            let scale = m.iter().flatten().fold(1.0f64, |x, y| x.max(y.abs()));
            for i in 0..2 {
                for j in 0..4 {
                    let fd = (b[i][j] - a[i][j]) / (2.0 * h);
                    assert!(
                        (fd - m[i + 2][j]).abs() < 1e-6 * scale,
                        "{name} t={t}: dS/dt row {i} col {j}: fd {fd} vs U {}",
                        m[i + 2][j]
                    );
                }
            }
            if p.constants().path != PathKind::Linear {
                for j in 0..4 {
                    let d_dr = (b[0][j] - a[0][j]) / (2.0 * h * span);
                    assert!(
                        (d_dr - m[1][j]).abs() < 1e-6 * scale,
                        "{name} t={t}: ∂_r φ̃_t {d_dr} vs π̃_t {}",
                        m[1][j]
                    );
                }
            }
        }
    }
}

#[test]
fn tensors_apply_the_f64_matrix() {
    let ts = [0.0, 0.13, 0.5, 0.77, 1.0];
    for m in models() {
        let name = format!("{} {:?}", m.constants.name, m.constants.path);
        let p = interp(m);
        let shape = [5usize, 2, 2, 3];
        let (s0, s1) = (state(&shape, DType::F32, 11), state(&shape, DType::F32, 12));
        let out = sample_path(&p, &s0, &s1, &ts).unwrap();
        let ins = [&s0.phi, &s0.pi, &s1.phi, &s1.pi].map(to_vec);
        let outs = [
            &out.state.phi,
            &out.state.pi,
            &out.velocity.phi,
            &out.velocity.pi,
        ]
        .map(to_vec);
        let per = 12;
        for (b, &t) in ts.iter().enumerate() {
            let mat = path_matrix(&p, t).unwrap();
            for (row, o) in outs.iter().enumerate() {
                for e in b * per..(b + 1) * per {
                    let want: f64 = (0..4).map(|j| mat[row][j] * ins[j][e]).sum();
                    let tol = 1e-5 * (1.0 + mat[row].iter().map(|x| x.abs()).sum::<f64>());
                    assert!((o[e] - want).abs() < tol, "{name} t={t} row {row}");
                }
            }
        }
    }
}

#[test]
fn linear_velocity_is_the_difference() {
    let p = interp(ads(2, 1.5, 0.0, 1.0, PathKind::Linear));
    let (s0, s1) = (
        state(&[3, 4, 2, 2], DType::F32, 3),
        state(&[3, 4, 2, 2], DType::F32, 4),
    );
    let out = sample_path(&p, &s0, &s1, &[0.2, 0.4, 0.9]).unwrap();
    let d = s1.phi.sub(&s0.phi).unwrap();
    assert!(max_diff(&out.velocity.phi, &d) < 1e-6);
}

#[test]
fn ads_affine_matches_the_paper_special_values() {
    // PAPER.md §5.2: d = 2, Δr = 1: Z = 0.4323324, dr/du(r_IR) = Z, dr/du(r_UV) = 3.1945280.
    let p = interp(ads(2, 1.5, 0.0, 1.0, PathKind::HermiteAffine));
    let (a0, a1) = (p.affine(0.0), p.affine(1.0));
    assert!((a0.u).abs() < 1e-15 && (a1.u - 1.0).abs() < 1e-15);
    assert!((a0.dr_du - 0.4323324).abs() < 1e-7);
    assert!((a1.dr_du - 3.1945280).abs() < 1e-7);
}

fn numerical(mut m: Derived) -> Derived {
    m.affine = Affine::Numerical;
    m
}

#[test]
fn numerical_affine_matches_closed_forms() {
    // AdS: u = (1 − e^{−d(r−r_IR)})/(1 − e^{−dΔr}); HSV p = 1/2, d = 2: 1/ω = (r/2)², so
    // u = (r³ − r_IR³)/(r_UV³ − r_IR³). dr/du = Z ω(r) with Z = ∫ 1/ω.
    let ads_m = ads(2, 1.5, -0.3, 1.7, PathKind::HermiteAffine);
    let ads_u = |r: f64| (1.0 - (-2.0 * (r + 0.3)).exp()) / (1.0 - (-4.0f64).exp());
    let ads_z = ((0.6f64).exp() - (-3.4f64).exp()) / 2.0;
    let ads_drdu = move |r: f64| ads_z * (2.0 * r).exp();
    let hsv_m = hsv(2, 0.5, PathKind::HermiteAffine);
    let (r0, r1) = (2.0, 2.0 * (-0.5f64).exp());
    let hsv_u = move |r: f64| (r * r * r - r0 * r0 * r0) / (r1 * r1 * r1 - r0 * r0 * r0);
    let hsv_z = (r1 * r1 * r1 - r0 * r0 * r0) / 12.0;
    let hsv_drdu = move |r: f64| hsv_z * (0.5 * r).powi(-2);
    type Oracle = Box<dyn Fn(f64) -> f64>;
    let cases: Vec<(Derived, Oracle, Oracle)> = vec![
        (numerical(ads_m), Box::new(ads_u), Box::new(ads_drdu)),
        (hsv_m, Box::new(hsv_u), Box::new(hsv_drdu)),
    ];
    for (m, u, drdu) in cases {
        assert!(matches!(m.affine, Affine::Numerical));
        let (a, b) = (m.constants.r_ir, m.constants.r_uv);
        let p = interp(m);
        for k in 0..=200 {
            let r = a + (b - a) * k as f64 / 200.0;
            let got = p.affine(r);
            let (want_u, want_d) = (u(r), drdu(r));
            assert!(
                (got.u - want_u).abs() <= 1e-9 * want_u.abs(),
                "u({r}) = {} vs {want_u}",
                got.u
            );
            assert!(
                (got.dr_du - want_d).abs() <= 1e-9 * want_d.abs(),
                "dr/du({r})"
            );
        }
    }
}

#[test]
fn bad_path_inputs_are_errors() {
    let p = interp(ads(2, 1.5, 0.0, 1.0, PathKind::HermiteAffine));
    let s0 = state(&[2, 4, 3, 3], DType::F32, 1);
    let s1 = state(&[2, 4, 3, 3], DType::F32, 2);
    for t in [
        [-0.1, 0.5],
        [0.5, 1.1],
        [f64::NAN, 0.5],
        [0.5, f64::INFINITY],
    ] {
        assert!(sample_path(&p, &s0, &s1, &t).is_err(), "t = {t:?}");
        assert!(path_matrix(&p, t[0]).is_err() || path_matrix(&p, t[1]).is_err());
    }
    assert!(sample_path(&p, &s0, &s1, &[0.5]).is_err(), "t length");
    let other = state(&[2, 4, 3, 2], DType::F32, 2);
    assert!(sample_path(&p, &s0, &other, &[0.5, 0.5]).is_err(), "shapes");
    let mut nan = s1.clone();
    nan.pi = nan.pi.affine(1.0, f64::NAN).unwrap();
    assert!(sample_path(&p, &s0, &nan, &[0.5, 0.5]).is_err(), "NaN");
    let empty = State {
        phi: Tensor::zeros((0, 4, 3, 3), DType::F32, &Device::Cpu).unwrap(),
        pi: Tensor::zeros((0, 4, 3, 3), DType::F32, &Device::Cpu).unwrap(),
    };
    assert!(sample_path(&p, &empty, &empty, &[]).is_err(), "empty batch");
    let rank3 = state(&[2, 4, 3], DType::F32, 5);
    assert!(
        sample_path(&p, &rank3, &rank3, &[0.5, 0.5]).is_err(),
        "rank 3"
    );
    let mixed = State {
        phi: s0.phi.clone(),
        pi: s0.pi.narrow(3, 0, 2).unwrap(),
    };
    assert!(
        sample_path(&p, &mixed, &mixed, &[0.5, 0.5]).is_err(),
        "phi/pi shapes"
    );
}

#[test]
fn bad_models_are_rejected() {
    let mut m = hsv(2, 0.5, PathKind::HermiteRadial);
    m.constants.r_ir = -1.0; // the range crosses the singularity at r = 0
    m.constants.r_uv = 1.0;
    assert!(Interpreted::new(m).is_err());
    let mut m = ads(2, 1.5, 0.0, 1.0, PathKind::Linear);
    m.constants.r_uv = 0.0;
    assert!(Interpreted::new(m).is_err());
    let mut m = ads(2, 1.5, 0.0, 1.0, PathKind::Linear);
    m.backbone.mass = (genads_dsl::Expr::num(-1.0) - genads_dsl::Expr::sym("r")).log();
    assert!(Interpreted::new(m).is_err());
    let mut m = ads(2, 1.5, 0.0, 1.0, PathKind::Linear);
    m.omega = genads_dsl::Expr::sym("q");
    assert!(Interpreted::new(m).is_err());
}
