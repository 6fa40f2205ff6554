//! Backbone, full velocity and loss, against independent oracles: closed-form bulk-to-boundary
//! mode functions transported by RK4, a K_ν integral representation for HSV, plain conditional
//! flow matching, the derivative of a quadratic.

use crate::physics_common;

use candle_core::{DType, Device, Tensor, Var};
use genads_dsl::derived::{Encoding, PathKind};
use genads_runtime::backbone::{backbone_velocity, full_velocity_t};
use genads_runtime::interpreter::Interpreted;
use genads_runtime::loss::{flow_loss, training_target};
use genads_runtime::path::sample_path;
use genads_runtime::{Modes, Physics, State};
use physics_common::*;

fn interp(m: genads_dsl::Derived) -> Interpreted {
    Interpreted::new(m).expect("model interprets")
}

fn axpy(s: &State, k: &State, h: f64) -> State {
    State {
        phi: (&s.phi + (&k.phi * h).unwrap()).unwrap(),
        pi: (&s.pi + (&k.pi * h).unwrap()).unwrap(),
    }
}

/// Classical RK4 for dS/dx = f(x, S) from x0 to x1 in n steps (f64 tensors).
fn rk4(f: &dyn Fn(f64, &State) -> State, mut s: State, x0: f64, x1: f64, n: usize) -> State {
    let h = (x1 - x0) / n as f64;
    for i in 0..n {
        let x = x0 + i as f64 * h;
        let k1 = f(x, &s);
        let k2 = f(x + h / 2.0, &axpy(&s, &k1, h / 2.0));
        let k3 = f(x + h / 2.0, &axpy(&s, &k2, h / 2.0));
        let k4 = f(x + h, &axpy(&s, &k3, h));
        let sum = axpy(&axpy(&axpy(&k1, &k2, 2.0), &k3, 2.0), &k4, 1.0);
        s = axpy(&s, &sum, h / 6.0);
    }
    s
}

/// One mode per |k| in `ks`, as a (1, 2, 1, K) f64 state (Re and Im channels equal) and its modes.
fn mode_state(ks: &[f64], phi: &dyn Fn(f64) -> f64, pi: &dyn Fn(f64) -> f64) -> (State, Modes) {
    let n = ks.len();
    let row = |g: &dyn Fn(f64) -> f64| {
        let v: Vec<f64> = ks.iter().chain(ks).map(|&k| g(k)).collect();
        Tensor::from_vec(v, (1, 2, 1, n), &Device::Cpu).unwrap()
    };
    let k2: Vec<f64> = ks.iter().map(|k| k * k).collect();
    (
        State {
            phi: row(phi),
            pi: row(pi),
        },
        Modes {
            k2: Tensor::from_vec(k2, (1, 1, 1, n), &Device::Cpu).unwrap(),
        },
    )
}

fn assert_close(got: &Tensor, want: &Tensor, rel: f64, what: &str) {
    let (g, w) = (to_vec(got), to_vec(want));
    for (x, y) in g.iter().zip(&w) {
        assert!(
            (x - y).abs() <= rel * y.abs().max(1e-3),
            "{what}: {x} vs {y}"
        );
    }
}

/// Transports the closed-form mode (φ(k, r), π(k, r)) from r_IR to r_UV with the backbone.
fn check_transport(p: &Interpreted, phi: &dyn Fn(f64, f64) -> f64, pi: &dyn Fn(f64, f64) -> f64) {
    let c = p.constants().clone();
    let ks = [0.3, 1.0, 2.0, 3.5];
    let (s0, modes) = mode_state(&ks, &|k| phi(k, c.r_ir), &|k| pi(k, c.r_ir));
    let f = |r: f64, s: &State| backbone_velocity(p, s, &[r], &modes).unwrap();
    let steps = 400 * c.span().abs().ceil() as usize;
    let s1 = rk4(&f, s0, c.r_ir, c.r_uv, steps);
    let (want, _) = mode_state(&ks, &|k| phi(k, c.r_uv), &|k| pi(k, c.r_uv));
    assert_close(&s1.phi, &want.phi, 1e-8, "φ at r_UV");
    assert_close(&s1.pi, &want.pi, 1e-8, "π at r_UV");
}

#[test]
fn ads_delta_3_2_transports_its_envelope() {
    // ν = 1/2: κ̃ = e^{−ξ}, ∂_r κ̃ = ξ e^{−ξ}, ξ = |k| e^{−r}.
    let xi = |k: f64, r: f64| k * (-r).exp();
    let p = interp(ads(2, 1.5, 0.0, 1.0, PathKind::Linear));
    check_transport(&p, &|k, r| (-xi(k, r)).exp(), &|k, r| {
        xi(k, r) * (-xi(k, r)).exp()
    });
    let p = interp(ads(2, 1.5, -1.0, 2.0, PathKind::HermiteAffine));
    check_transport(&p, &|k, r| (-xi(k, r)).exp(), &|k, r| {
        xi(k, r) * (-xi(k, r)).exp()
    });
}

#[test]
fn ads_delta_5_2_transports_its_envelope() {
    // ν = 3/2: κ̃ = (2/Γ(3/2))(ξ/2)^{3/2} K_{3/2}(ξ) = (1 + ξ) e^{−ξ}, ∂_r κ̃ = ξ² e^{−ξ}.
    let xi = |k: f64, r: f64| k * (-r).exp();
    let p = interp(ads(2, 2.5, 0.0, 1.0, PathKind::Linear));
    check_transport(&p, &|k, r| (1.0 + xi(k, r)) * (-xi(k, r)).exp(), &|k, r| {
        xi(k, r).powi(2) * (-xi(k, r)).exp()
    });
}

#[test]
fn unstabilised_ads_transports_the_raw_mode() {
    // Φ = e^{−(d−Δ)r} κ̃ = e^{−r/2} e^{−ξ} (Δ = 3/2, d = 2), Π = ∂_r Φ = (ξ − 1/2) Φ.
    let xi = |k: f64, r: f64| k * (-r).exp();
    let raw = move |k: f64, r: f64| (-0.5 * r - xi(k, r)).exp();
    let p = interp(ads_unstabilised(2, 1.5, 0.0, 1.0));
    check_transport(&p, &raw, &|k, r| (xi(k, r) - 0.5) * raw(k, r));
}

#[test]
fn hsv_backbone_transports_its_propagator() {
    // p = 1/2, d = 2: Φ = (|k|u)^β K_β(|k|u), u = (p r)^{1/p}, β = 3/4;
    // ∂_r Φ = −|k| (|k|u)^β K_{β−1}(|k|u) u^{1−p}. Integrated in flow time t with the full
    // t-velocity Δr·V_KG (α = 1, zero residual), Δr < 0.
    let (pp, beta) = (0.5, 0.75);
    let u = move |r: f64| (pp * r).powf(1.0 / pp);
    let phi = move |k: f64, r: f64| (k * u(r)).powf(beta) * bessel_k(beta, k * u(r));
    let pi = move |k: f64, r: f64| {
        -k * (k * u(r)).powf(beta) * bessel_k(1.0 - beta, k * u(r)) * u(r).powf(1.0 - pp)
    };
    let p = interp(hsv(2, pp, PathKind::HermiteRadial));
    let c = p.constants().clone();
    assert!(c.span() < 0.0);
    let ks = [0.5, 1.0, 2.5];
    let (s0, modes) = mode_state(&ks, &|k| phi(k, c.r_ir), &|k| pi(k, c.r_ir));
    let zero = State {
        phi: s0.phi.zeros_like().unwrap(),
        pi: s0.pi.zeros_like().unwrap(),
    };
    let f = |t: f64, s: &State| full_velocity_t(&p, s, &[t.min(1.0)], &zero, &modes).unwrap();
    let s1 = rk4(&f, s0, 0.0, 1.0, 400);
    let (want, _) = mode_state(&ks, &|k| phi(k, c.r_uv), &|k| pi(k, c.r_uv));
    assert_close(&s1.phi, &want.phi, 1e-8, "HSV φ at r_UV");
    assert_close(&s1.pi, &want.pi, 1e-8, "HSV π at r_UV");
}

#[test]
fn point_states_follow_the_zero_mode() {
    // (B, C) states: |k|² = 0, dπ̃/dr = −(2Δ−d)π̃ ⇒ π̃(r) = π̃₀e^{−c r}, φ̃ = φ̃₀ + π̃₀(1 − e^{−c r})/c.
    let p = interp(ads(2, 2.0, 0.0, 1.0, PathKind::Linear));
    let s0 = state(&[3, 2], DType::F64, 9);
    let modes = Modes {
        k2: Tensor::zeros((1, 1), DType::F64, &Device::Cpu).unwrap(),
    };
    let f = |r: f64, s: &State| backbone_velocity(&p, s, &[r; 3], &modes).unwrap();
    let s1 = rk4(&f, s0.clone(), 0.0, 1.0, 200);
    let cc: f64 = 2.0;
    let pi = (&s0.pi * (-cc).exp()).unwrap();
    let phi = (&s0.phi + (&s0.pi * ((1.0 - (-cc).exp()) / cc)).unwrap()).unwrap();
    assert_close(&s1.pi, &pi, 1e-9, "π̃");
    assert_close(&s1.phi, &phi, 1e-9, "φ̃");
}

#[test]
fn full_velocity_combines_backbone_and_residual() {
    let modes = modes(3, 3, DType::F32);
    let s = state(&[2, 2, 3, 3], DType::F32, 21);
    let res = state(&[2, 2, 3, 3], DType::F32, 22);
    let t = [0.25, 0.75];
    for (path, alpha) in [
        (PathKind::Linear, 1.0),
        (PathKind::Linear, 0.0),
        (PathKind::HermiteAffine, 1.0),
        (PathKind::HermiteRadial, 0.0),
    ] {
        let mut m = ads(2, 1.5, 0.0, 2.0, path);
        m.constants.alpha = alpha;
        let p = interp(m);
        let v = full_velocity_t(&p, &s, &t, &res, &modes).unwrap();
        let kg = backbone_velocity(&p, &s, &[0.5, 1.5], &modes).unwrap();
        let scale = alpha * 2.0;
        let want_pi = ((&kg.pi * scale).unwrap() + &res.pi).unwrap();
        let want_phi = if path == PathKind::Linear {
            ((&kg.phi * scale).unwrap() + &res.phi).unwrap()
        } else {
            (&kg.phi * scale).unwrap() // the residual's φ̃ part is ignored on Hermite paths
        };
        assert!(max_diff(&v.pi, &want_pi) < 1e-5, "{path:?} α={alpha}");
        assert!(max_diff(&v.phi, &want_phi) < 1e-5, "{path:?} α={alpha}");
    }
}

#[test]
fn flat_linear_no_backbone_is_plain_conditional_flow_matching() {
    // Vanilla FM as a model: flat, linear, α = 0, no encoding. Target = S₁ − S₀; the loss is
    // (1/(B·C)) Σ_b ‖v_b − (x₁ − x₀)_b‖² over the full (φ̃, π̃) vector (ω ≡ 1).
    for shape in [&[5usize, 2][..], &[3, 4, 2, 2]] {
        let p = interp(flat(2, 1.5, PathKind::Linear, 0.0, Encoding::None));
        let (s0, s1) = (state(shape, DType::F32, 31), state(shape, DType::F32, 32));
        let t: Vec<f64> = (0..shape[0])
            .map(|i| (i as f64 + 0.5) / shape[0] as f64)
            .collect();
        let sample = sample_path(&p, &s0, &s1, &t).unwrap();
        let modes = Modes {
            k2: Tensor::zeros(vec![1; shape.len()], DType::F32, &Device::Cpu).unwrap(),
        };
        let target = training_target(&p, &sample, &modes).unwrap();
        let (d_phi, d_pi) = (s1.phi.sub(&s0.phi).unwrap(), s1.pi.sub(&s0.pi).unwrap());
        assert!(max_diff(&target.phi, &d_phi) < 1e-6 && max_diff(&target.pi, &d_pi) < 1e-6);
        let pred = state(shape, DType::F32, 33);
        let loss = flow_loss(&p, &pred, &target, &sample.r).unwrap();
        let got = loss
            .to_dtype(DType::F64)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        let (x0, x1, v) = (
            [to_vec(&s0.phi), to_vec(&s0.pi)],
            [to_vec(&s1.phi), to_vec(&s1.pi)],
            [to_vec(&pred.phi), to_vec(&pred.pi)],
        );
        let mut want = 0.0;
        for c in 0..2 {
            for i in 0..x0[c].len() {
                want += (v[c][i] - (x1[c][i] - x0[c][i])).powi(2);
            }
        }
        want /= (shape[0] * shape[1]) as f64;
        assert!((got - want).abs() < 1e-5 * want, "{got} vs {want}");
    }
}

fn scalar(t: &Tensor) -> f64 {
    t.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
}

#[test]
fn loss_vanishes_at_the_target_and_hermite_targets_are_on_shell() {
    let modes = modes(3, 3, DType::F32);
    for path in [
        PathKind::Linear,
        PathKind::HermiteAffine,
        PathKind::HermiteRadial,
    ] {
        let p = interp(ads(2, 1.5, 0.0, 1.0, path));
        let (s0, s1) = (
            state(&[3, 2, 3, 3], DType::F32, 41),
            state(&[3, 2, 3, 3], DType::F32, 42),
        );
        let sample = sample_path(&p, &s0, &s1, &[0.1, 0.5, 0.9]).unwrap();
        let target = training_target(&p, &sample, &modes).unwrap();
        assert_eq!(
            scalar(&flow_loss(&p, &target, &target, &sample.r).unwrap()),
            0.0
        );
        if path != PathKind::Linear {
            // U^φ = Δr·π̃_t is exactly the backbone's φ̃ velocity: the φ̃ target vanishes.
            let zero = target.phi.zeros_like().unwrap();
            assert!(max_diff(&target.phi, &zero) < 1e-5, "{path:?}");
            // and the prediction's φ̃ part does not enter the loss
            let other = State {
                phi: (&target.phi + 3.0).unwrap(),
                pi: target.pi.clone(),
            };
            assert_eq!(
                scalar(&flow_loss(&p, &other, &target, &sample.r).unwrap()),
                0.0
            );
        }
    }
}

#[test]
fn loss_is_weighted_by_the_slice_volume() {
    // One sample, Linear path: loss = e^{2r}·(Σ(Δφ)² + Σ(Δπ)²)/C (ω = e^{dr}, d = 2).
    let target = state(&[1, 2, 2, 2], DType::F32, 51);
    let pred = state(&[1, 2, 2, 2], DType::F32, 52);
    let mut plain = 0.0;
    for (a, b) in [(&pred.phi, &target.phi), (&pred.pi, &target.pi)] {
        plain += to_vec(a)
            .iter()
            .zip(to_vec(b))
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>();
    }
    plain /= 2.0;
    for weighted in [true, false] {
        let mut m = ads(2, 1.5, -1.0, 1.0, PathKind::Linear);
        m.constants.omega_weighting = weighted;
        let p = interp(m);
        for r in [-0.7, 0.0, 0.4, 1.0] {
            let got = scalar(&flow_loss(&p, &pred, &target, &[r]).unwrap());
            let want = if weighted {
                (2.0 * r).exp() * plain
            } else {
                plain
            };
            assert!((got - want).abs() < 1e-5 * want, "r={r}: {got} vs {want}");
        }
    }
}

#[test]
fn loss_gradient_is_that_of_the_weighted_quadratic() {
    // ∂L/∂pred_π = 2 ω(r_b) (pred − target)/(C·B) on a Hermite model (π̃ only).
    let p = interp(ads(2, 1.5, 0.0, 1.0, PathKind::HermiteAffine));
    let target = state(&[2, 2, 2, 2], DType::F32, 61);
    let init = state(&[2, 2, 2, 2], DType::F32, 62);
    let var = Var::from_tensor(&init.pi).unwrap();
    let pred = State {
        phi: init.phi.clone(),
        pi: var.as_tensor().clone(),
    };
    let r = [0.25, 0.8];
    let loss = flow_loss(&p, &pred, &target, &r).unwrap();
    let grads = loss.backward().unwrap();
    let g = to_vec(grads.get(var.as_tensor()).unwrap());
    let (x, y) = (to_vec(&init.pi), to_vec(&target.pi));
    for i in 0..g.len() {
        let w = (2.0 * r[i / 8]).exp();
        let want = 2.0 * w * (x[i] - y[i]) / 4.0;
        assert!(
            (g[i] - want).abs() < 1e-5 * (1.0 + want.abs()),
            "{i}: {} vs {want}",
            g[i]
        );
    }
}

#[test]
fn bad_flow_inputs_are_errors() {
    let p = interp(ads(2, 1.5, 0.0, 1.0, PathKind::Linear));
    let modes = modes(3, 3, DType::F32);
    let s = state(&[2, 2, 3, 3], DType::F32, 71);
    let mut nan = s.clone();
    nan.phi = nan.phi.affine(1.0, f64::NAN).unwrap();
    assert!(
        backbone_velocity(&p, &nan, &[0.1, 0.2], &modes).is_err(),
        "NaN state"
    );
    assert!(
        backbone_velocity(&p, &s, &[0.1], &modes).is_err(),
        "radii length"
    );
    assert!(
        backbone_velocity(&p, &s, &[0.1, f64::NAN], &modes).is_err(),
        "NaN radius"
    );
    let wrong = super_modes(4);
    assert!(
        backbone_velocity(&p, &s, &[0.1, 0.2], &wrong).is_err(),
        "modes shape"
    );
    assert!(
        full_velocity_t(&p, &s, &[0.1, 1.5], &s, &modes).is_err(),
        "t > 1"
    );
    assert!(
        full_velocity_t(&p, &s, &[0.1, 0.5], &nan, &modes).is_err(),
        "NaN residual"
    );
    let small = state(&[2, 2, 3, 2], DType::F32, 72);
    assert!(
        full_velocity_t(&p, &s, &[0.1, 0.5], &small, &modes).is_err(),
        "residual shape"
    );
    assert!(
        flow_loss(&p, &s, &small, &[0.1, 0.2]).is_err(),
        "loss shapes"
    );
    assert!(flow_loss(&p, &s, &s, &[0.1]).is_err(), "loss radii");
    assert!(
        flow_loss(&p, &nan, &s, &[0.1, 0.2]).is_err(),
        "NaN prediction"
    );
    let empty = State {
        phi: Tensor::zeros((0, 2), DType::F32, &Device::Cpu).unwrap(),
        pi: Tensor::zeros((0, 2), DType::F32, &Device::Cpu).unwrap(),
    };
    assert!(flow_loss(&p, &empty, &empty, &[]).is_err(), "empty batch");
    let point_modes = Modes {
        k2: Tensor::zeros((1, 1), DType::F32, &Device::Cpu).unwrap(),
    };
    assert!(
        backbone_velocity(&p, &empty, &[], &point_modes).is_err(),
        "empty backbone"
    );
}

fn super_modes(n: usize) -> Modes {
    modes(n, n, DType::F32)
}
