//! Trainer, checkpoints and resume on a tiny network and a synthetic flow-matching problem
//! (straight paths from N(0, 1) to N(1, 0.2²) in 2-D; no physics model needed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use genads_runtime::checkpoint::{self, CheckpointError};
use genads_runtime::nn::{build_from_config, MlpConfig, NetConfig, Preset, StateKind, VelocityNet};
use genads_runtime::rng::{normal_tensor, uniform_vec, ChaCha8Rng};
use genads_runtime::train::{Budget, ModelSpec, TrainConfig, TrainError, Trainer};
use genads_runtime::{Result, State};

const KIND: StateKind = StateKind::Points { dim: 2 };

fn config(steps: u64) -> TrainConfig {
    let mut cfg = TrainConfig::for_preset(Preset::Quick, KIND);
    cfg.net = NetConfig::Mlp(MlpConfig {
        hidden: 16,
        depth: 2,
        time_dim: 8,
        time_scale: 1,
        fourier_octaves: 0,
    });
    cfg.budget = Budget::Steps(steps);
    cfg.batch_size = 32;
    cfg.lr = 1e-2;
    cfg.ema_start = 3;
    cfg.ema_decay = 0.9;
    cfg.checkpoint_every = 4;
    cfg.keep_checkpoints = 0;
    cfg.seed = 5;
    cfg
}

fn spec(signature: &str) -> ModelSpec {
    ModelSpec {
        kind: KIND,
        hermite: false,
        signature: signature.into(),
        device: Device::Cpu,
    }
}

/// Conditional flow matching with linear paths: target x₁ − x₀ (both components).
fn objective(net: &dyn VelocityNet, rng: &mut ChaCha8Rng, b: usize) -> Result<Tensor> {
    let x1 = (normal_tensor(rng, &[b, 2], 0.2)? + 1.0)?;
    let p1 = normal_tensor(rng, &[b, 2], 0.1)?;
    let x0 = normal_tensor(rng, &[b, 2], 1.0)?;
    let p0 = normal_tensor(rng, &[b, 2], 1.0)?;
    let t: Vec<f32> = uniform_vec(rng, b, 0.0, 1.0)
        .iter()
        .map(|&x| x as f32)
        .collect();
    let t = Tensor::from_vec(t, b, &Device::Cpu)?;
    let tc = t.unsqueeze(1)?;
    let lerp = |a: &Tensor, c: &Tensor| -> candle_core::Result<Tensor> {
        a.broadcast_mul(&(1.0 - &tc)?)?.add(&c.broadcast_mul(&tc)?)
    };
    let state = State {
        phi: lerp(&x0, &x1)?,
        pi: lerp(&p0, &p1)?,
    };
    let v = net.forward(&state, &t)?;
    let l = ((v.phi - (x1 - x0)?)?.sqr()?.mean_all()? + (v.pi - (p1 - p0)?)?.sqr()?.mean_all()?)?;
    Ok(l)
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn train_full(dir: &Path, steps: u64) -> Vec<f64> {
    let mut t = Trainer::new(
        config(steps),
        spec("sig-a"),
        Some(dir.into()),
        serde_json::json!({"data": "toy"}),
    )
    .unwrap();
    let mut obj = objective;
    t.run(&mut obj, None, &mut |_| {}).unwrap().losses
}

#[test]
fn resume_reproduces_an_uninterrupted_run() {
    let (a, b) = (tmp(), tmp());
    let full = train_full(a.path(), 12);
    assert_eq!(full.len(), 12);
    assert!(full[11] < full[0], "the toy loss should decrease: {full:?}");

    // Train 8 steps, checkpoint, drop everything.
    let mut first = Vec::new();
    {
        let mut t = Trainer::new(
            config(12),
            spec("sig-a"),
            Some(b.path().into()),
            serde_json::json!({"data": "toy"}),
        )
        .unwrap();
        let mut obj = objective;
        for _ in 0..8 {
            first.push(t.train_step(&mut obj).unwrap());
        }
        t.save_checkpoint(1.0).unwrap().unwrap();
    }
    let mut resumed = Trainer::resume(b.path().into(), spec("sig-a")).unwrap();
    assert_eq!(resumed.step_count(), 8);
    let mut obj = objective;
    let rest = resumed.run(&mut obj, None, &mut |_| {}).unwrap();
    assert_eq!(rest.steps, 12);
    let all: Vec<f64> = first.into_iter().chain(rest.losses).collect();
    assert_eq!(all.len(), 12);
    for (i, (x, y)) in full.iter().zip(&all).enumerate() {
        assert!((x - y).abs() <= 1e-6, "step {}: {x} vs {y}", i + 1);
    }
    // Same EMA weights at the end.
    let last_a = checkpoint::latest(&a.path().join("checkpoints"))
        .unwrap()
        .unwrap();
    let last_b = checkpoint::latest(&b.path().join("checkpoints"))
        .unwrap()
        .unwrap();
    let (la, lb) = (
        checkpoint::load(&last_a, &Device::Cpu).unwrap(),
        checkpoint::load(&last_b, &Device::Cpu).unwrap(),
    );
    for (name, ta) in &la.ema {
        let d = (ta - &lb.ema[name])
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap();
        assert!(d.to_scalar::<f32>().unwrap() <= 1e-6, "{name}");
    }
}

fn first_checkpoint(dir: &Path) -> PathBuf {
    train_full(dir, 4);
    checkpoint::latest(&dir.join("checkpoints"))
        .unwrap()
        .unwrap()
}

fn flip_byte(path: &Path, at_end: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let i = bytes.len() - at_end;
    bytes[i] ^= 0x5a;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn damaged_checkpoints_are_typed_errors_naming_the_file() {
    // Truncated model file.
    let d = tmp();
    let ck = first_checkpoint(d.path());
    let model = ck.join(checkpoint::MODEL_FILE);
    let len = std::fs::metadata(&model).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&model)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    match checkpoint::load(&ck, &Device::Cpu) {
        Err(e @ CheckpointError::Corrupt { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("model.safetensors") && msg.contains("truncated"),
                "{msg}"
            );
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("truncated file accepted"),
    }
    assert!(matches!(
        Trainer::resume(d.path().into(), spec("sig-a")),
        Err(TrainError::Checkpoint(CheckpointError::Corrupt { .. }))
    ));

    // A flipped byte inside the tensor data of the EMA file.
    let d = tmp();
    let ck = first_checkpoint(d.path());
    flip_byte(&ck.join(checkpoint::EMA_FILE), 3);
    let msg = checkpoint::load(&ck, &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("ema.safetensors") && msg.contains("SHA-256"),
        "{msg}"
    );

    // A damaged sidecar.
    let d = tmp();
    let ck = first_checkpoint(d.path());
    std::fs::write(
        ck.join(checkpoint::META_FILE),
        b"{\"format\": 1, \"step\": ",
    )
    .unwrap();
    let msg = checkpoint::load(&ck, &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("checkpoint.json") && msg.contains("corrupt"),
        "{msg}"
    );
}

#[test]
fn checkpoints_of_other_models_are_refused() {
    let d = tmp();
    let ck = first_checkpoint(d.path());
    // Wrong signature.
    let err = Trainer::resume(d.path().into(), spec("sig-b"))
        .err()
        .unwrap();
    let msg = err.to_string();
    assert!(
        msg.contains("sig-a") && msg.contains("sig-b") && msg.contains("checkpoint.json"),
        "{msg}"
    );
    // Same signature, different shapes.
    let loaded = checkpoint::load(&ck, &Device::Cpu).unwrap();
    let other = VarMap::new();
    let cfg = NetConfig::Mlp(MlpConfig {
        hidden: 8,
        depth: 2,
        time_dim: 8,
        time_scale: 1,
        fourier_octaves: 0,
    });
    build_from_config(
        &cfg,
        KIND,
        false,
        VarBuilder::from_varmap(&other, DType::F32, &Device::Cpu),
    )
    .unwrap();
    let err =
        checkpoint::set_vars(&other, &loaded.model, &ck.join(checkpoint::MODEL_FILE)).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, CheckpointError::Mismatch { .. }) && msg.contains("shape"),
        "{msg}"
    );
    // A missing checkpoint directory.
    let empty = tmp();
    assert!(Trainer::resume(empty.path().into(), spec("sig-a")).is_err());
}

#[test]
fn non_finite_loss_names_step_and_checkpoint() {
    let d = tmp();
    let mut t = Trainer::new(
        config(10),
        spec("s"),
        Some(d.path().into()),
        serde_json::Value::Null,
    )
    .unwrap();
    let mut calls = 0;
    let mut obj = |net: &dyn VelocityNet, rng: &mut ChaCha8Rng, b: usize| -> Result<Tensor> {
        calls += 1;
        let l = objective(net, rng, b)?;
        Ok(if calls == 6 { (l * f64::NAN)? } else { l })
    };
    let err = t.run(&mut obj, None, &mut |_| {}).unwrap_err();
    match &err {
        TrainError::NonFinite {
            step,
            last_checkpoint,
            ..
        } => {
            assert_eq!(*step, 6);
            assert!(last_checkpoint.as_ref().unwrap().ends_with("step-00000004"));
        }
        e => panic!("wrong error {e}"),
    }
    assert!(err.to_string().contains("step 6"));
}

#[test]
fn evaluation_writes_metrics_jsonl() {
    let d = tmp();
    let mut cfg = config(6);
    cfg.eval_every = 3;
    let mut t = Trainer::new(
        cfg,
        spec("s"),
        Some(d.path().into()),
        serde_json::Value::Null,
    )
    .unwrap();
    let mut obj = objective;
    let mut evals = Vec::new();
    let mut eval = |_net: &dyn VelocityNet, step: u64| -> Result<BTreeMap<String, f64>> {
        evals.push(step);
        Ok(BTreeMap::from([("bv".to_string(), step as f64 / 10.0)]))
    };
    let mut seen = 0;
    let summary = t
        .run(&mut obj, Some(&mut eval), &mut |p| seen = p.step)
        .unwrap();
    assert_eq!(seen, 6);
    assert_eq!(summary.last_metrics.unwrap()["bv"], 0.6);
    assert_eq!(evals, vec![3, 6]);
    let log = std::fs::read_to_string(d.path().join("metrics.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["step"], 6);
    assert_eq!(lines[1]["metrics"]["bv"], 0.6);
    assert!(lines[1]["loss"].as_f64().unwrap() > 0.0 && lines[1]["wall_s"].as_f64().is_some());
}

/// A time budget ends on the clock (not at a step count), evaluates by the clock and decays the
/// learning rate over the elapsed fraction of the time.
#[test]
fn time_budget_ends_on_the_clock_and_decays_the_learning_rate() {
    let d = tmp();
    let mut cfg = config(0);
    cfg.budget = Budget::Time {
        seconds: 0.6,
        max_steps: 1_000_000_000,
    };
    cfg.eval_every = 0;
    cfg.checkpoint_every = 0;
    cfg.eval_every_s = 0.2;
    let mut t = Trainer::new(
        cfg,
        spec("s"),
        Some(d.path().into()),
        serde_json::Value::Null,
    )
    .unwrap();
    let mut obj = objective;
    let mut evals = 0;
    let mut eval = |_net: &dyn VelocityNet, _step: u64| -> Result<BTreeMap<String, f64>> {
        evals += 1;
        Ok(BTreeMap::new())
    };
    let mut lrs = Vec::new();
    let summary = t
        .run(&mut obj, Some(&mut eval), &mut |p| lrs.push(p.lr))
        .unwrap();
    assert!(
        summary.elapsed_s >= 0.6,
        "stopped early: {}",
        summary.elapsed_s
    );
    assert!(summary.steps > 3 && summary.steps < 1_000_000_000);
    // Two or more evaluations by the clock plus the final one (timing is loose on a loaded box).
    assert!(evals >= 2, "{evals} evaluations");
    // The schedule followed the clock: from ≈ lr down towards min_lr, monotonically.
    assert!(lrs.windows(2).all(|w| w[1] <= w[0]));
    assert!(
        lrs[0] > 0.99e-2 && *lrs.last().unwrap() < 0.5e-2,
        "{:?}",
        (lrs[0], lrs.last())
    );
}

/// `init_from_data` sets the source network's grid bias in the model and the EMA copy to the
/// data's log-histogram, is a no-op for other networks, and refuses to run after the first step.
#[test]
fn data_initialisation_sets_the_source_prior_before_the_first_step() {
    use genads_runtime::nn::SourceConfig;
    let source = SourceConfig {
        grid: 4,
        support_percent: 60,
        hidden: 8,
        time_dim: 8,
        time_scale: 1,
        backbone_gate: false,
        sub_cell: true,
        grid_bias_scale: 2.5,
    };
    let kind = StateKind::Spectral {
        channels: 4,
        modes: 4,
    };
    let mut cfg = TrainConfig::for_preset(Preset::Quick, kind);
    cfg.net = NetConfig::Source(source);
    cfg.budget = Budget::Steps(4);
    let spec = ModelSpec {
        kind,
        hermite: false,
        signature: "sig-source".into(),
        device: Device::Cpu,
    };
    let mut trainer = Trainer::new(cfg, spec, None, serde_json::Value::Null).unwrap();
    // Every point at the grid's centre-most lower-left candidate (fraction 0.2 + 0.4·1/3).
    let u = 0.2 + 0.4 / 3.0;
    trainer.init_from_data(&[[u, u]; 10]).unwrap();
    let expected = source.grid_prior(&[[u, u]]).unwrap();
    for vars in [trainer.model_vars(), trainer.ema_vars()] {
        let data = vars.data().lock().unwrap();
        let bias = data["grid_bias"]
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(bias, expected);
        assert!(bias[4 + 1] > bias[0]);
    }
    // Other networks: nothing to do.
    let mut mlp = Trainer::new(
        config(2),
        self::spec("sig-a"),
        None,
        serde_json::Value::Null,
    )
    .unwrap();
    mlp.init_from_data(&[[0.5, 0.5]]).unwrap();
    let mut obj = objective;
    mlp.train_step(&mut obj).unwrap();
    // A source run that already stepped refuses.
    let mut src_obj = |net: &dyn VelocityNet, rng: &mut ChaCha8Rng, b: usize| -> Result<Tensor> {
        let s = State {
            phi: normal_tensor(rng, &[b, 4, 4, 4], 1.0)?,
            pi: normal_tensor(rng, &[b, 4, 4, 4], 1.0)?,
        };
        let t = Tensor::full(0.5f32, b, &Device::Cpu)?;
        let v = net.forward(&s, &t)?;
        Ok((v.phi.sqr()?.mean_all()? + v.pi.sqr()?.mean_all()?)?)
    };
    trainer.train_step(&mut src_obj).unwrap();
    assert!(trainer.init_from_data(&[[u, u]]).is_err());
}
