//! The interpreted physics on real models: envelopes against closed forms (and the paper's worked
//! table for the reference normalisation), and every model of `models/` through the whole
//! path → backbone → target → loss pipeline.

use crate::physics_common;

use candle_core::DType;
use genads_dsl::derived::{Normalisation, PathKind, Propagator};
use genads_runtime::backbone::full_velocity_t;
use genads_runtime::interpreter::Interpreted;
use genads_runtime::loss::{flow_loss, training_target};
use genads_runtime::path::sample_path;
use genads_runtime::{Physics, State};
use physics_common::*;

#[test]
fn interpreted_envelopes_match_closed_forms() {
    // AdS Δ = 3/2: (e^{−ξ}, ξe^{−ξ}), ξ = |k|e^{−r_UV}.
    let p = Interpreted::new(ads(2, 1.5, 0.0, 1.0, PathKind::Linear)).unwrap();
    for k in [0.0, 0.3, 1.0, 4.0, 12.0] {
        let xi = k * (-1.0f64).exp();
        let (e_phi, e_pi) = p.envelope(k).unwrap();
        assert!((e_phi - (-xi).exp()).abs() < 1e-10, "k={k}");
        assert!((e_pi - xi * (-xi).exp()).abs() < 1e-10, "k={k}");
    }
    // HSV p = 1/2, d = 2, β = 3/4, u_UV = e^{−1}: K̂ = (ku)^β K_β(ku)/(2^{β−1}Γ(β)),
    // ∂_r K̂ = −k (ku)^β K_{1−β}(ku) u^{1−p}/(2^{β−1}Γ(β)); Γ(3/4) = 1.2254167024651776.
    let p = Interpreted::new(hsv(2, 0.5, PathKind::HermiteRadial)).unwrap();
    let (beta, u) = (0.75, (-1.0f64).exp());
    let norm = 2f64.powf(beta - 1.0) * 1.225_416_702_465_177_6;
    for k in [0.5, 1.0, 3.0] {
        let x = k * u;
        let want_phi = x.powf(beta) * bessel_k(beta, x) / norm;
        let want_pi = -k * x.powf(beta) * bessel_k(1.0 - beta, x) * u.sqrt() / norm;
        let (e_phi, e_pi) = p.envelope(k).unwrap();
        assert!(
            (e_phi - want_phi).abs() < 1e-9 * want_phi,
            "k={k}: {e_phi} vs {want_phi}"
        );
        assert!(
            (e_pi - want_pi).abs() < 1e-9 * want_pi.abs(),
            "k={k}: {e_pi} vs {want_pi}"
        );
    }
}

#[test]
fn numerical_propagator_uses_the_model_mode_equation() {
    let mut m = ads(2, 1.5, 0.0, 1.0, PathKind::Linear);
    m.constants.propagator = Propagator::Numerical;
    let p = Interpreted::new(m).unwrap();
    for k in [0.5, 2.0, 5.0] {
        let xi = k * (-1.0f64).exp();
        let (e_phi, e_pi) = p.envelope(k).unwrap();
        assert!((e_phi - (-xi).exp()).abs() < 1e-6, "k={k}: {e_phi}");
        assert!((e_pi - xi * (-xi).exp()).abs() < 1e-6, "k={k}: {e_pi}");
    }
}

#[test]
fn reference_normalisation_reproduces_the_worked_table() {
    // PAPER.md §4.4 (Δ = 1.5, r_UV = 1, ε = 0.01), checkerboard grid L = 8: |k| = 2πn/8.
    let mut m = ads(2, 1.5, 0.0, 1.0, PathKind::Linear);
    m.normalisation = Normalisation::Reference;
    let p = Interpreted::new(m).unwrap();
    let step = 2.0 * std::f64::consts::PI / 8.0;
    for (n, phi, pi) in [
        ((1.0, 0.0), 1.247379, 0.360437),
        ((1.0, 1.0), 1.106688, 0.452224),
        ((4.0, 0.0), 0.524278, 0.605925),
        ((8.0, 8.0), 0.063362, 0.207123),
    ] {
        let k = step * f64::hypot(n.0, n.1);
        let (e_phi, e_pi) = p.envelope(k).unwrap();
        assert!(
            (e_phi - phi).abs() < 2e-6 && (e_pi - pi).abs() < 2e-6,
            "{n:?}: {e_phi} {e_pi}"
        );
    }
}

#[test]
fn every_zoo_model_runs_the_training_pipeline() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let mut count = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "genads"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let modes = modes(4, 4, DType::F32);
    let t = [0.0, 0.3, 1.0];
    for file in files {
        let models = genads_dsl::compile_file(&file).unwrap_or_else(|d| panic!("{d}"));
        for derived in models {
            let name = derived.constants.name.clone();
            let p = Interpreted::new(derived).unwrap_or_else(|e| panic!("{name}: {e}"));
            let (s0, s1) = (
                state(&[3, 4, 4, 4], DType::F32, 1),
                state(&[3, 4, 4, 4], DType::F32, 2),
            );
            let sample = sample_path(&p, &s0, &s1, &t).unwrap_or_else(|e| panic!("{name}: {e}"));
            let target = training_target(&p, &sample, &modes).unwrap();
            let loss = flow_loss(&p, &sample.velocity, &target, &sample.r).unwrap();
            assert!(loss.to_scalar::<f32>().unwrap().is_finite(), "{name}");
            let zero = State {
                phi: s0.phi.zeros_like().unwrap(),
                pi: s0.pi.zeros_like().unwrap(),
            };
            full_velocity_t(&p, &sample.state, &t, &zero, &modes).unwrap();
            for k in [0.0, 0.5, 2.0] {
                let (a, b) = p
                    .envelope(k)
                    .unwrap_or_else(|e| panic!("{name} k={k}: {e}"));
                assert!(a.is_finite() && b.is_finite(), "{name}");
            }
            count += 1;
        }
    }
    assert!(count >= 8, "only {count} models");
}
