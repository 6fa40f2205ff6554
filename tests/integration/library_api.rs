//! The library API (`genads::run`): the interpreted model of a file and the `genads_model!` type
//! compiled from it train to the same losses, make the same run directory and sample the same
//! points for the same seed.

use std::path::Path;

use genads::run::{DeviceChoice, EvalSettings, Model, Run, SolverKind, TrainRequest};
use genads::runtime::experiment::{Experiment, ExperimentConfig, PointExperiment};
use genads::runtime::solver::Solver;
use genads::runtime::train::Budget;

genads::genads_model!(file = "models/ads_kg_linear.genads");

/// Files of a run directory, sorted (checkpoint directories by name).
fn listing(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in walk(dir) {
        names.push(entry.strip_prefix(dir).unwrap().display().to_string());
    }
    names.sort();
    names
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-4 * (1.0 + a.abs().max(b.abs()))
}

/// A checkerboard run of `steps` steps of batch 8, no periodic evaluation, and a final
/// evaluation of `final_samples` samples with RK4-2: a library run small enough for a test.
pub fn tiny_request(steps: u64, final_samples: usize) -> TrainRequest {
    TrainRequest {
        budget: Some(Budget::Steps(steps)),
        batch_size: Some(8),
        eval_every: Some(0),
        eval: Some(EvalSettings {
            solver: SolverKind::Rk4,
            steps: 2,
            tol: 1e-5,
            samples: 20,
            final_samples,
            final_repeats: 1,
        }),
        ..TrainRequest::default()
    }
}

#[test]
fn interpreted_and_compiled_models_train_and_sample_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ads_kg_linear.genads");
    let interpreted = Model::from_file(&file, None).unwrap();
    let compiled = Model::compiled::<AdsKgLinear>().unwrap();
    assert!(compiled.is_compiled() && !interpreted.is_compiled());
    assert_eq!(
        compiled.derived().constants.signature,
        interpreted.derived().constants.signature
    );

    let request = tiny_request(4, 30);
    let mut results = Vec::new();
    for (name, model) in [("interpreted", &interpreted), ("compiled", &compiled)] {
        let dir = tmp.path().join(name);
        let mut run = Run::create(model, &request, &dir).unwrap();
        let summary = run.train(&mut |_| {}, &mut |_, _| {}).unwrap();
        let finished = run.finish().unwrap();
        let points = run
            .sample_points(40, 40, &Solver::Rk4 { steps: 3 }, 7)
            .unwrap();
        // The run directory reopens like `genads eval` does, with either physics.
        let reopened = Run::open(&dir, Some(model), DeviceChoice::Cpu).unwrap();
        assert_eq!(reopened.trainer.step_count(), 4);
        results.push((summary.losses, finished.metrics, points, listing(&dir)));
    }
    let (a, b) = (&results[0], &results[1]);
    assert_eq!(a.0.len(), 4);
    for (x, y) in a.0.iter().zip(&b.0) {
        assert!(close(*x, *y), "losses {:?} vs {:?}", a.0, b.0);
    }
    for (key, x) in &a.1 {
        assert!(close(*x, b.1[key]), "{key}: {x} vs {}", b.1[key]);
    }
    assert_eq!(a.2.len(), 40);
    for (p, q) in a.2.iter().zip(&b.2) {
        assert!(close(p[0], q[0]) && close(p[1], q[1]), "{p:?} vs {q:?}");
    }
    assert_eq!(a.3, b.3, "the run directories differ");
    for file in [
        "run.json",
        "model.genads",
        "derivation.txt",
        "eval.json",
        "samples.png",
    ] {
        assert!(a.3.contains(&file.to_string()), "{file} missing: {:?}", a.3);
    }
}

#[test]
fn an_experiment_refuses_the_compiled_physics_of_another_model() {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ads_linear.genads"),
    )
    .unwrap();
    let config =
        ExperimentConfig::checkerboard(source, "ads_linear.genads".into(), "ads_linear".into());
    let experiment = PointExperiment::new(config).unwrap();
    let err = experiment
        .with_compiled(Box::new(AdsKgLinear))
        .err()
        .expect("accepted another model's physics");
    assert!(err.to_string().contains("signature"), "{err}");
}
