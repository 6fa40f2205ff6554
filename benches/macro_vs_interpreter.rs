//! Generated (`genads_model!`) vs interpreted physics, side by side in one run.
//!
//! Kernels (per call, median of repeated timings after a warm-up):
//! * `train`: the physics part of a training step — path sample (S_t, U_t), training target
//!   U_t − α·Δr·V_KG(S_t, r_t) and the ω-weighted loss of a prediction. Interpreted: the runtime's
//!   generic tensor code (`path::sample_path` + `loss::training_target` + `loss::flow_loss`) driven
//!   by `Interpreted`; generated: `physics::path_and_target` (the type's fused kernel) +
//!   `loss::flow_loss`.
//! * `sample`: the physics part of one sampling step — α·Δr·V_KG(S, r(t)) + residual.
//!   Interpreted: `backbone::full_velocity_t`; generated: `physics::velocity_t`.
//! * `radial+affine`: 10⁴ scalar evaluations of radial(r) and affine(r).
//!
//! Shapes: 64 spectral states of 4×16×16 (checkerboard) and 128 image states of 2×28×28 (MNIST).
//! Run: `RAYON_NUM_THREADS=1 cargo bench --bench macro_vs_interpreter` (add `-- --quick` for
//! fewer repetitions).

use genads::runtime::candle_core::{Device, Tensor};
use genads::runtime::interpreter::Interpreted;
use genads::runtime::physics::{self, Modes, Physics, State};
use genads::runtime::{backbone, loss, path, rng};
use rand::Rng;
use std::time::Instant;

genads::genads_model!(file = "models/ads_kg_hermite.genads");
genads::genads_model!(file = "models/ads_kg_linear.genads");

fn interpreted(file: &str) -> Interpreted {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let source = std::fs::read_to_string(&path).expect("model file");
    let models = genads::dsl::compile(&source, file).unwrap_or_else(|d| panic!("{d}"));
    Interpreted::new(genads::dsl::select(models, None).expect("one model")).expect("model")
}

fn modes(h: usize, w: usize, length: f64) -> Modes {
    let freq = |i: usize, n: usize| {
        let m = if i < n / 2 {
            i as f64
        } else {
            i as f64 - n as f64
        };
        2.0 * std::f64::consts::PI * m / length
    };
    let k2: Vec<f32> = (0..h * w)
        .map(|i| (freq(i / w, h).powi(2) + freq(i % w, w).powi(2)) as f32)
        .collect();
    Modes {
        k2: Tensor::from_vec(k2, (1, 1, h, w), &Device::Cpu).expect("k2"),
    }
}

/// Median seconds per call of `f` over `reps` timed batches of `inner` calls.
fn time(reps: usize, inner: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..inner.max(3) {
        f();
    }
    let mut v: Vec<f64> = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..inner {
                f();
            }
            t0.elapsed().as_secs_f64() / inner as f64
        })
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn row(kernel: &str, model: &str, shape: &str, interp: f64, generated: f64) {
    println!(
        "{kernel:<14} {model:<15} {shape:<16} {:>12.1} {:>12.1} {:>8.2}x",
        interp * 1e6,
        generated * 1e6,
        interp / generated
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps = if quick { 5 } else { 21 };
    println!(
        "{:<14} {:<15} {:<16} {:>12} {:>12} {:>9}",
        "kernel", "model", "batch shape", "interp µs", "generated µs", "speedup"
    );
    let mut rng = rng::seeded(1);
    let cases: [(&str, &dyn Physics, Interpreted); 2] = [
        (
            "ads_kg_hermite",
            &AdsKgHermite,
            interpreted("models/ads_kg_hermite.genads"),
        ),
        (
            "ads_kg_linear",
            &AdsKgLinear,
            interpreted("models/ads_kg_linear.genads"),
        ),
    ];
    for (name, generated, interp) in &cases {
        for (shape, length) in [([64usize, 4, 16, 16], 8.0), ([128, 2, 28, 28], 28.0)] {
            let label = format!("{}x{}x{}x{}", shape[0], shape[1], shape[2], shape[3]);
            let modes = modes(shape[2], shape[3], length);
            let state = |rng: &mut rand_chacha::ChaCha8Rng| State {
                phi: rng::normal_tensor(rng, &shape, 1.0).expect("state"),
                pi: rng::normal_tensor(rng, &shape, 0.7).expect("state"),
            };
            let (s0, s1, pred) = (state(&mut rng), state(&mut rng), state(&mut rng));
            let t: Vec<f64> = (0..shape[0]).map(|_| rng.random_range(0.0..1.0)).collect();
            let inner = if quick { 5 } else { 20 };
            let ti = time(reps, inner, || {
                let sample = path::sample_path(interp, &s0, &s1, &t).expect("path");
                let target = loss::training_target(interp, &sample, &modes).expect("target");
                loss::flow_loss(interp, &pred, &target, &sample.r).expect("loss");
            });
            let tg = time(reps, inner, || {
                let (sample, target) =
                    physics::path_and_target(*generated, &s0, &s1, &t, &modes).expect("fused");
                loss::flow_loss(*generated, &pred, &target, &sample.r).expect("loss");
            });
            row("train", name, &label, ti, tg);
            let ts = vec![0.37; shape[0]];
            let ti = time(reps, inner, || {
                backbone::full_velocity_t(interp, &s0, &ts, &pred, &modes).expect("velocity");
            });
            let tg = time(reps, inner, || {
                physics::velocity_t(*generated, &s0, &ts, &pred, &modes).expect("velocity");
            });
            row("sample", name, &label, ti, tg);
        }
        let rs: Vec<f64> = (0..10_000).map(|i| i as f64 / 10_000.0).collect();
        let scalar = |p: &dyn Physics| {
            let mut acc = 0.0;
            for &r in &rs {
                let c = p.radial(r);
                let a = p.affine(r);
                acc += c.omega + c.friction + c.laplacian + c.mass + a.u + a.dr_du;
            }
            std::hint::black_box(acc);
        };
        let ti = time(reps, 1, || scalar(interp));
        let tg = time(reps, 1, || scalar(*generated));
        row("radial+affine", name, "10^4 r", ti, tg);
    }
}
