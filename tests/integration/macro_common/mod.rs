//! Shared checks of the `genads_model!` tests: a generated model against the interpreter built
//! from the same `Derived`.

#![allow(dead_code)]

use genads::runtime::candle_core::{Device, Tensor};
use genads::runtime::interpreter::Interpreted;
use genads::runtime::physics::{Modes, Physics, State};
use genads::runtime::{backbone, loss, path, rng};
use rand::Rng;

/// The interpreted model `name` (or the only one) of `file` (relative to the package root).
pub fn interpreted(file: &str, name: Option<&str>) -> Interpreted {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let source = std::fs::read_to_string(&path).expect("model file");
    let models = genads::dsl::compile(&source, file).unwrap_or_else(|d| panic!("{d}"));
    let derived = genads::dsl::select(models, name).expect("model");
    Interpreted::new(derived).expect("interpretable")
}

/// Relative error |a − b| / max(|b|, floor).
pub fn rel(a: f64, b: f64, floor: f64) -> f64 {
    if a == b {
        return 0.0;
    }
    (a - b).abs() / b.abs().max(floor)
}

fn assert_close(what: &str, a: f64, b: f64, tol: f64) {
    assert!(
        rel(a, b, 1e-12) <= tol,
        "{what}: generated {a} vs interpreted {b} (rel {:e})",
        rel(a, b, 1e-12)
    );
}

/// Constants, radial(), affine() and envelope() agree (rel ≤ 1e-6) at random r and |k|.
pub fn check_scalars(generated: &dyn Physics, signature: &str, reference: &Interpreted) {
    let c = reference.constants();
    assert_eq!(generated.constants(), c, "constants");
    assert_eq!(signature, c.signature, "SIGNATURE");
    let mut rng = rng::seeded(7);
    let (lo, hi) = (c.r_ir.min(c.r_uv), c.r_ir.max(c.r_uv));
    for i in 0..50 {
        let r = if i == 0 {
            lo
        } else if i == 1 {
            hi
        } else {
            rng.random_range(lo..=hi)
        };
        let (g, q) = (generated.radial(r), reference.radial(r));
        for (what, a, b) in [
            ("omega", g.omega, q.omega),
            ("omega_prime", g.omega_prime, q.omega_prime),
            ("friction", g.friction, q.friction),
            ("laplacian", g.laplacian, q.laplacian),
            ("mass", g.mass, q.mass),
        ] {
            assert_close(&format!("{what}({r})"), a, b, 1e-6);
        }
        let (g, q) = (generated.affine(r), reference.affine(r));
        assert_close(&format!("u({r})"), g.u, q.u, 1e-6);
        assert_close(&format!("dr/du({r})"), g.dr_du, q.dr_du, 1e-6);
    }
    for i in 0..40 {
        let k = match i {
            0 => 0.0,
            1 => 1e-3,
            _ => rng.random_range(0.0..12.0),
        };
        let (g, q) = (generated.envelope(k), reference_envelope(reference, k));
        match (g, q) {
            (Ok(g), Ok(q)) => {
                assert_close(&format!("env_phi(|k| = {k})"), g.0, q.0, 1e-6);
                assert_close(&format!("env_pi(|k| = {k})"), g.1, q.1, 1e-6);
            }
            (Err(_), Err(_)) => {}
            (g, q) => panic!("envelope(|k| = {k}): generated {g:?} vs interpreted {q:?}"),
        }
    }
    assert!(generated.envelope(f64::NAN).is_err());
    assert!(generated.envelope(-1.0).is_err());
}

/// The interpreter's envelope; the runtime's envelope functions where the interpreter does not
/// provide one yet.
fn reference_envelope(reference: &Interpreted, k: f64) -> genads::runtime::Result<(f64, f64)> {
    use genads::runtime::envelope;
    match reference.envelope(k) {
        Err(e) if e.to_string().contains("not yet") => {
            let d = reference.derived();
            match d.constants.propagator {
                genads::runtime::physics::Propagator::Numerical => {
                    envelope::numerical_envelope_of(reference, k)
                }
                _ => envelope::EnvelopeSpec::from_derived(d).eval(k),
            }
        }
        other => other,
    }
}

/// A random spectral state (B, 2C, H, W) or point state (B, C).
pub fn random_state(rng: &mut rand_chacha::ChaCha8Rng, shape: &[usize]) -> State {
    State {
        phi: rng::normal_tensor(rng, shape, 1.0).unwrap(),
        pi: rng::normal_tensor(rng, shape, 0.7).unwrap(),
    }
}

/// |k|² of an h×w grid on a box of side 8 as a (1, 1, h, w) f32 tensor (zeros (1, 1) for points).
pub fn modes(shape: &[usize]) -> Modes {
    if shape.len() == 2 {
        return Modes {
            k2: Tensor::zeros(
                (1, 1),
                genads::runtime::candle_core::DType::F32,
                &Device::Cpu,
            )
            .unwrap(),
        };
    }
    let (h, w) = (shape[2], shape[3]);
    let freq = |i: usize, n: usize| {
        let m = if i < n / 2 {
            i as f64
        } else {
            i as f64 - n as f64
        };
        2.0 * std::f64::consts::PI * m / 8.0
    };
    let mut k2 = Vec::with_capacity(h * w);
    for i in 0..h {
        for j in 0..w {
            k2.push((freq(i, h).powi(2) + freq(j, w).powi(2)) as f32);
        }
    }
    Modes {
        k2: Tensor::from_vec(k2, (1, 1, h, w), &Device::Cpu).unwrap(),
    }
}

fn max_rel(a: &Tensor, b: &Tensor) -> f64 {
    let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
    let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0f64, |m, x| m.max(x.abs() as f64)).max(1.0);
    a.iter()
        .zip(&b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs() / scale)
        .fold(0.0, f64::max)
}

fn assert_state(what: &str, a: &State, b: &State, tol: f64) {
    let (e1, e2) = (max_rel(&a.phi, &b.phi), max_rel(&a.pi, &b.pi));
    assert!(
        e1 <= tol && e2 <= tol,
        "{what}: rel errors phi {e1:e}, pi {e2:e}"
    );
}

/// The fused kernels (which must apply to these CPU f32 batches; the velocity kernel exists when
/// α ≠ 0) agree with the generic code driven by the interpreter: path sample, target, loss and
/// the sampling velocity at per-sample and at shared t (rel ≤ 1e-4 in f32). Shapes cover square
/// and non-square |k|² planes, point states, and point states longer than one kernel chunk.
pub fn check_tensors(generated: &dyn Physics, reference: &Interpreted) {
    let mut rng = rng::seeded(11);
    for shape in [
        vec![3usize, 4, 4, 4],
        vec![2, 2, 5, 3],
        vec![5, 2],
        vec![2, 1500],
    ] {
        let s0 = random_state(&mut rng, &shape);
        let s1 = random_state(&mut rng, &shape);
        let modes = modes(&shape);
        let mut t: Vec<f64> = (0..shape[0]).map(|_| rng.random_range(0.0..1.0)).collect();
        t[0] = 0.0;
        *t.last_mut().unwrap() = 1.0;
        assert!(
            generated.fused_path_target(&s0, &s1, &t, &modes).is_some(),
            "fused path kernel does not apply to {shape:?}"
        );
        let (gs, gt) =
            genads::runtime::flow::path_and_target(generated, &s0, &s1, &t, &modes).unwrap();
        let is = path::sample_path(reference, &s0, &s1, &t).unwrap();
        let it = loss::training_target(reference, &is, &modes).unwrap();
        assert_state("S_t", &gs.state, &is.state, 1e-4);
        assert_state("U_t", &gs.velocity, &is.velocity, 1e-4);
        assert_state("target", &gt, &it, 1e-4);
        assert_eq!(gs.t, is.t);
        let pred = random_state(&mut rng, &shape);
        let gl: f32 = loss::flow_loss(generated, &pred, &gt, &gs.r)
            .unwrap()
            .to_scalar()
            .unwrap();
        let il: f32 = loss::flow_loss(reference, &pred, &it, &is.r)
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(rel(gl as f64, il as f64, 1e-9) <= 1e-4, "loss {gl} vs {il}");
        let residual = random_state(&mut rng, &shape);
        let fused = generated.fused_velocity_t(&s0, &t, &residual, &modes);
        assert_eq!(
            fused.is_some(),
            reference.constants().alpha != 0.0,
            "fused velocity kernel for {shape:?}"
        );
        // Per-sample t, then one t for the whole batch (a sampling step; also repeats the last
        // sample's t, which the kernels evaluate once).
        for t in [t.clone(), vec![t[1]; t.len()]] {
            let gv =
                genads::runtime::flow::velocity_t(generated, &s0, &t, &residual, &modes).unwrap();
            let iv = backbone::full_velocity_t(reference, &s0, &t, &residual, &modes).unwrap();
            assert_state("velocity", &gv, &iv, 1e-4);
        }
        // Bad inputs are errors on both sides, never panics.
        let mut bad_t = t.clone();
        bad_t[0] = 1.5;
        assert!(
            genads::runtime::flow::path_and_target(generated, &s0, &s1, &bad_t, &modes).is_err()
        );
        let nan = State {
            phi: (s0.phi.clone() / 0.0).unwrap(),
            pi: s0.pi.clone(),
        };
        assert!(genads::runtime::flow::path_and_target(generated, &nan, &s1, &t, &modes).is_err());
        assert!(
            genads::runtime::flow::path_and_target(generated, &s0, &s1, &t[1..], &modes).is_err()
        );
    }
}
