//! The same geometry under the same configuration gives the same numbers: the hyperscaling-
//! violating warp at p = 1, (1·r)^0, is the flat slice f = 1, and with every other statement equal
//! the two models derive the same physics and train to the same losses and samples. Each statement
//! that differs between the paper's `hsv_scan_p1` and `flat` is a named configuration change
//! (the flat_trace_* rows of studies/geometry_scan_paper.toml measure what each does).

use std::path::Path;

use genads::run::{Model, Run};
use genads::runtime::solver::Solver;

const FLAT_CONFIGURATION: &str = "boundary 2 radial 0 -> 1 field delta 1.5 \
    backbone klein_gordon stabilised path hermite affine prior phi uniform 1.0, pi uniform 0.55 \
    encoding propagator lift 0.1 loss weighted";

fn model(name: &str, warp: &str, rest: &str) -> Model {
    Model::from_source(
        &format!("model {name} {{ warp {warp} {rest} }}"),
        "test.genads",
        None,
    )
    .unwrap()
}

/// Losses of 3 training steps and 20 samples of a fresh run of `model` in `dir`.
fn train_and_sample(model: &Model, dir: &Path) -> (Vec<f64>, Vec<[f64; 2]>) {
    let request = crate::library_api::tiny_request(3, 20);
    let mut run = Run::create(model, &request, dir).unwrap();
    let summary = run.train(&mut |_| {}, &mut |_, _| {}).unwrap();
    let points = run
        .sample_points(20, 20, &Solver::Rk4 { steps: 2 }, 5)
        .unwrap();
    (summary.losses, points)
}

#[test]
fn hsv_at_p_1_and_the_flat_slice_derive_and_train_alike() {
    let hsv = model(
        "hsv",
        "(p * r)^(-(1 - p) / p)",
        &format!("param p in [1.0] {FLAT_CONFIGURATION}"),
    );
    let flat = model("flat", "1", FLAT_CONFIGURATION);
    assert_eq!(
        hsv.derived().constants.signature,
        flat.derived().constants.signature
    );
    let tmp = tempfile::tempdir().unwrap();
    let a = train_and_sample(&hsv, &tmp.path().join("hsv"));
    let b = train_and_sample(&flat, &tmp.path().join("flat"));
    assert_eq!(a.0.len(), 3);
    assert_eq!(
        a, b,
        "same physics, same seed: the numbers must agree exactly"
    );
}
