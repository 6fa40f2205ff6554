//! Generated (`genads_model!`) vs interpreted physics, side by side in one run.
//!
//! Rows (µs of thread CPU time per call on Linux, so that waiting for a core on a loaded machine
//! does not count; median of 21 timed batches after a warm-up; allocations per call counted by a
//! global allocator):
//! * `train`: the physics part of a training step — path sample (S_t, U_t), training target
//!   U_t − α·Δr·V_KG(S_t, r_t) and the loss weights ω(r_t). Interpreted: the runtime's generic
//!   tensor code (`path::sample_path` + `loss::training_target` + `loss::loss_weights`) driven by
//!   `Interpreted`; generated: `physics::path_and_target` (the type's fused kernel) +
//!   `loss::loss_weights`.
//! * `train+flow_loss`: the same with the whole ω-weighted squared-error loss of a prediction
//!   (`loss::flow_loss`, the runtime's tensor code, identical on both sides) instead of the weights.
//! * `sample`: the physics part of one sampling step (solver stage) — α·Δr·V_KG(S, r(t)) + residual
//!   at one t for the whole batch. Interpreted: `backbone::full_velocity_t`; generated:
//!   `physics::velocity_t`.
//! * `radial+affine`: 10⁴ scalar evaluations of radial(r) and affine(r).
//!
//! Shapes: 64 spectral states of 4×16×16 (checkerboard) and 128 image states of 2×28×28 (MNIST).
//! Run: `RAYON_NUM_THREADS=1 cargo bench --bench macro_vs_interpreter` (options: `--quick`,
//! `--warm-up-time S`, `--measurement-time S`, and filters: a row runs when its
//! "kernel model shape" label contains every filter, e.g. `-- sample 64x4`).

use genads::runtime::candle_core::{Device, Tensor};
use genads::runtime::interpreter::Interpreted;
use genads::runtime::physics::{Modes, Physics, State};
use genads::runtime::{backbone, loss, path, rng};
use mimalloc::MiMalloc;
use rand::Rng;
use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Measurement settings: `--quick`, criterion-style `--warm-up-time S` / `--measurement-time S`
/// (seconds per implementation and row) and positional filters (a row runs when its
/// "kernel model shape" label contains every filter).
struct Settings {
    warm_up: f64,
    measure: f64,
    filters: Vec<String>,
}

impl Settings {
    fn from_args() -> Self {
        let mut s = Settings {
            warm_up: 0.3,
            measure: 1.0,
            filters: Vec::new(),
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            let mut secs = || args.next().and_then(|v| v.parse::<f64>().ok());
            match a.as_str() {
                "--quick" => (s.warm_up, s.measure) = (0.05, 0.2),
                "--warm-up-time" => s.warm_up = secs().unwrap_or(s.warm_up),
                "--measurement-time" => s.measure = secs().unwrap_or(s.measure),
                "--bench" => {}
                f if !f.starts_with("--") => s.filters.push(f.to_string()),
                _ => {}
            }
        }
        s
    }
    fn runs(&self, label: &str) -> bool {
        self.filters.iter().all(|f| label.contains(f.as_str()))
    }
}

/// A clock in seconds: this thread's CPU time on Linux (`CLOCK_THREAD_CPUTIME_ID`, so that time
/// the thread waits for a core on a loaded machine is not counted), else wall-clock time.
struct Clock {
    wall: Instant,
}

impl Clock {
    fn new() -> Self {
        Clock {
            wall: Instant::now(),
        }
    }
    #[cfg(target_os = "linux")]
    fn now(&self) -> f64 {
        #[repr(C)]
        struct Timespec {
            tv_sec: i64,
            tv_nsec: i64,
        }
        extern "C" {
            fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
        }
        const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid timespec (64-bit Linux layout) for the call to write.
        if unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
        } else {
            self.wall.elapsed().as_secs_f64()
        }
    }
    #[cfg(not(target_os = "linux"))]
    fn now(&self) -> f64 {
        self.wall.elapsed().as_secs_f64()
    }
}

/// Median seconds per call of `f` ([`Clock`]): warm up for `warm_up` s, then 21 timed batches
/// filling about `measure` s (batch size from the warm-up's rate).
fn time(s: &Settings, mut f: impl FnMut()) -> f64 {
    let clock = Clock::new();
    let t0 = clock.now();
    let mut calls = 0usize;
    while calls < 3 || clock.now() - t0 < s.warm_up {
        f();
        calls += 1;
    }
    let per = (clock.now() - t0) / calls as f64;
    let inner = ((s.measure / 21.0 / per) as usize).max(1);
    let mut v: Vec<f64> = (0..21)
        .map(|_| {
            let t0 = clock.now();
            for _ in 0..inner {
                f();
            }
            (clock.now() - t0) / inner as f64
        })
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Counts heap allocations (calls of `alloc`/`alloc_zeroed`/`realloc`), to report allocations per
/// call, over mimalloc (the `genads` CLI's allocator).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { MiMalloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { MiMalloc.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap allocations made by one call of `f`.
fn allocations(mut f: impl FnMut()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// Times the interpreted and generated closures of one row (when the filters select it) and
/// prints µs per call, the speedup and the allocations per call of each.
fn row(
    s: &Settings,
    kernel: &str,
    model: &str,
    shape: &str,
    mut interp: impl FnMut(),
    mut generated: impl FnMut(),
) {
    if !s.runs(&format!("{kernel} {model} {shape}")) {
        return;
    }
    let (ai, ag) = (allocations(&mut interp), allocations(&mut generated));
    let ti = time(s, &mut interp);
    let tg = time(s, &mut generated);
    println!(
        "{kernel:<18} {model:<15} {shape:<12} {:>10.1} {:>10.1} {:>8.2}x {:>7} {:>7}",
        ti * 1e6,
        tg * 1e6,
        ti / tg,
        ai,
        ag
    );
}

fn main() {
    let settings = Settings::from_args();
    let s = &settings;
    println!(
        "{:<18} {:<15} {:<12} {:>10} {:>10} {:>9} {:>7} {:>7}",
        "kernel", "model", "batch", "interp µs", "gen µs", "speedup", "allocs", "allocs"
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
            row(
                s,
                "train",
                name,
                &label,
                || {
                    let sample = path::sample_path(interp, &s0, &s1, &t).expect("path");
                    let target = loss::training_target(interp, &sample, &modes).expect("target");
                    let w = loss::loss_weights(interp, &sample.r).expect("weights");
                    black_box((target, w));
                },
                || {
                    let (sample, target) =
                        genads::runtime::flow::path_and_target(*generated, &s0, &s1, &t, &modes)
                            .expect("fused");
                    let w = loss::loss_weights(*generated, &sample.r).expect("weights");
                    black_box((target, w));
                },
            );
            row(
                s,
                "train+flow_loss",
                name,
                &label,
                || {
                    let sample = path::sample_path(interp, &s0, &s1, &t).expect("path");
                    let target = loss::training_target(interp, &sample, &modes).expect("target");
                    loss::flow_loss(interp, &pred, &target, &sample.r).expect("loss");
                },
                || {
                    let (sample, target) =
                        genads::runtime::flow::path_and_target(*generated, &s0, &s1, &t, &modes)
                            .expect("fused");
                    loss::flow_loss(*generated, &pred, &target, &sample.r).expect("loss");
                },
            );
            let ts = vec![0.37; shape[0]];
            row(
                s,
                "sample",
                name,
                &label,
                || {
                    black_box(
                        backbone::full_velocity_t(interp, &s0, &ts, &pred, &modes)
                            .expect("velocity"),
                    );
                },
                || {
                    black_box(
                        genads::runtime::flow::velocity_t(*generated, &s0, &ts, &pred, &modes)
                            .expect("velocity"),
                    );
                },
            );
        }
        let rs: Vec<f64> = (0..10_000).map(|i| i as f64 / 10_000.0).collect();
        let scalar = |p: &dyn Physics| {
            let mut acc = 0.0;
            for &r in &rs {
                let c = p.radial(r);
                let a = p.affine(r);
                acc += c.omega + c.friction + c.laplacian + c.mass + a.u + a.dr_du;
            }
            black_box(acc);
        };
        row(
            s,
            "radial+affine",
            name,
            "10^4 r",
            || scalar(interp),
            || scalar(*generated),
        );
    }
}
