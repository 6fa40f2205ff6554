//! A generated model and the interpreted one give the same training losses for the same seed
//! over a few steps of the shared trainer (tiny point states, quick preset).

use genads::runtime::candle_core::{DType, Device, Tensor};
use genads::runtime::interpreter::Interpreted;
use genads::runtime::nn::{Preset, StateKind};
use genads::runtime::physics::{Modes, PathKind, Physics, State};
use genads::runtime::rng;
use genads::runtime::train::{Budget, FlowObjective, ModelSpec, TrainConfig, Trainer};

genads::genads_model!(file = "models/ads_kg_hermite.genads");
genads::genads_model!(file = "models/ads_kg_linear.genads");

fn interpreted(file: &str) -> Interpreted {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let source = std::fs::read_to_string(&path).unwrap();
    let models = genads::dsl::compile(&source, file).unwrap_or_else(|d| panic!("{d}"));
    Interpreted::new(genads::dsl::select(models, None).unwrap()).unwrap()
}

fn losses(physics: &dyn Physics, steps: usize) -> Vec<f64> {
    let kind = StateKind::Points { dim: 2 };
    let mut cfg = TrainConfig::for_preset(Preset::Quick, kind);
    cfg.budget = Budget::Steps(steps as u64);
    cfg.batch_size = 16;
    cfg.seed = 5;
    let c = physics.constants();
    let spec = ModelSpec {
        kind,
        hermite: c.path != PathKind::Linear,
        signature: c.signature.clone(),
        device: Device::Cpu,
    };
    let mut trainer = Trainer::new(cfg, spec, None, Default::default()).unwrap();
    let modes = Modes {
        k2: Tensor::zeros((1, 1), DType::F32, &Device::Cpu).unwrap(),
    };
    let draw = |std_pi: f64| {
        move |r: &mut rand_chacha::ChaCha8Rng, b: usize| {
            Ok(State {
                phi: rng::normal_tensor(r, &[b, 2], 1.0)?,
                pi: rng::normal_tensor(r, &[b, 2], std_pi)?,
            })
        }
    };
    let mut objective = FlowObjective {
        physics,
        modes: &modes,
        data: Box::new(draw(0.1)),
        prior: Box::new(draw(0.55f64.sqrt())),
    };
    (0..steps)
        .map(|_| trainer.train_step(&mut objective).unwrap())
        .collect()
}

fn assert_same(generated: &dyn Physics, reference: &Interpreted) {
    let (g, i) = (losses(generated, 3), losses(reference, 3));
    for (a, b) in g.iter().zip(&i) {
        assert!(
            (a - b).abs() <= 1e-4 * b.abs().max(1e-6),
            "losses {g:?} vs {i:?}"
        );
    }
}

#[test]
fn hermite_same_losses() {
    assert_same(&AdsKgHermite, &interpreted("models/ads_kg_hermite.genads"));
}

#[test]
fn linear_same_losses() {
    assert_same(&AdsKgLinear, &interpreted("models/ads_kg_linear.genads"));
}
