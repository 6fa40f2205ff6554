//! The trainer: AdamW + cosine schedule + clipping + EMA, periodic evaluation (metrics.jsonl),
//! checkpoints and exact resume (PAPER.md §6.4).
//!
//! One step: loss = objective(net, rng) → backward → global grad norm (NaN/Inf stops the run) →
//! clip to `clip_norm` → AdamW at the cosine learning rate of this step → EMA update. All
//! randomness (batches, prior, t) comes from one `ChaCha8Rng` seeded by `seed` and stored in every
//! checkpoint, so "train k steps, checkpoint, resume, train N − k" repeats an uninterrupted run.

pub mod objective;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, CheckpointData, CheckpointError};
use crate::device::OnDevice;
use crate::ema::{Ema, EmaConfig};
use crate::nn::{
    build_from_config, init_seeded, NetConfig, NetError, Preset, StateKind, VelocityNet,
};
use crate::optim::{clip_factor, global_grad_norm, AdamW, AdamWConfig, CosineSchedule};

pub use objective::{FlowObjective, Objective, Sampler};

/// How long to train.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Budget {
    /// A number of optimiser steps.
    Steps(u64),
    /// A number of epochs of `dataset_size / batch_size` steps (drop-last).
    Epochs(u64),
    /// Wall-clock seconds (training time, summed over resumes), capped at `max_steps`. The cosine
    /// schedule follows whichever is further along: the fraction of the time or of the steps.
    Time {
        /// Seconds of training.
        seconds: f64,
        /// Step cap and schedule length.
        max_steps: u64,
    },
}

/// The largest batch a configuration accepts: far above every preset (256 at most), and small
/// enough that a mistyped size is refused before it allocates tens of gigabytes.
pub const MAX_BATCH_SIZE: usize = 65_536;

/// The full training configuration (stored in every checkpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Preset the defaults came from.
    pub preset: Preset,
    /// The network architecture.
    pub net: NetConfig,
    /// Training length.
    pub budget: Budget,
    /// Training-set size (defines an epoch).
    pub dataset_size: u64,
    /// Batch size.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Final learning rate as a fraction of `lr` (paper: 0.1).
    pub min_lr_factor: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Global gradient-norm clip.
    pub clip_norm: f64,
    /// EMA decay.
    pub ema_decay: f64,
    /// EMA start step.
    pub ema_start: u64,
    /// Seed of initialisation and of every random draw.
    pub seed: u64,
    /// Evaluate every N steps (0: only at the end).
    pub eval_every: u64,
    /// Checkpoint every N steps (0: only at the end).
    pub checkpoint_every: u64,
    /// Keep the N most recent checkpoints (0: all).
    pub keep_checkpoints: usize,
    /// Also evaluate whenever this many seconds of training passed since the last evaluation
    /// (0: off; used with time budgets, whose step count is not known in advance).
    #[serde(default)]
    pub eval_every_s: f64,
    /// Also checkpoint whenever this many seconds of training passed since the last checkpoint
    /// (0: off).
    #[serde(default)]
    pub checkpoint_every_s: f64,
}

impl TrainConfig {
    /// The defaults of a preset for a state kind (checkerboard: 50,000 training points).
    pub fn for_preset(preset: Preset, kind: StateKind) -> Self {
        let t = preset.training_for(kind);
        Self {
            preset,
            net: preset.net_config(kind),
            budget: Budget::Steps(match preset {
                Preset::Paper => 78_100,
                Preset::Small => 20_000,
                Preset::Quick | Preset::Lattice => 4_000,
            }),
            dataset_size: 50_000,
            batch_size: t.batch_size,
            lr: t.lr,
            min_lr_factor: 0.1,
            weight_decay: 1e-5,
            clip_norm: 1.0,
            ema_decay: t.ema_decay,
            ema_start: t.ema_start,
            seed: 1,
            eval_every: 0,
            checkpoint_every: 0,
            keep_checkpoints: 3,
            eval_every_s: 0.0,
            checkpoint_every_s: 0.0,
        }
    }

    /// The configuration of `preset` for a model: states of `kind`, image data (`images`) or not,
    /// with (`backbone`) or without a Klein–Gordon backbone. The one place presets are resolved;
    /// flags and requests override fields of its result.
    pub fn resolve(preset: Preset, kind: StateKind, images: bool, backbone: bool) -> Self {
        let mut config = Self::for_preset(preset, kind);
        if images {
            let t = preset.image_training();
            config.net = preset.image_net_config();
            config.batch_size = t.batch_size;
            config.lr = t.lr;
            config.ema_decay = t.ema_decay;
            config.ema_start = t.ema_start;
            if preset == Preset::Paper {
                // PAPER.md §6.4: 1500 epochs of the 10,000-image subset at batch 128.
                config.budget = Budget::Epochs(1500);
            }
        }
        config.net = config.net.for_backbone(backbone);
        config
    }

    /// Steps per epoch (at least 1).
    pub fn steps_per_epoch(&self) -> u64 {
        (self.dataset_size / self.batch_size.max(1) as u64).max(1)
    }

    /// Total steps (the cosine schedule's length).
    pub fn total_steps(&self) -> u64 {
        match self.budget {
            Budget::Steps(n) => n,
            Budget::Epochs(e) => e * self.steps_per_epoch(),
            Budget::Time { max_steps, .. } => max_steps,
        }
    }

    /// Checks every setting (a fresh run calls it before writing anything): ranges, finiteness
    /// and a budget of at least one step.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |m: String| Err(TrainError::Config(m));
        if self.batch_size == 0 {
            return bad("batch size must be at least 1, got 0".into());
        }
        if self.batch_size > MAX_BATCH_SIZE {
            return bad(format!(
                "batch size {} is above the limit of {MAX_BATCH_SIZE} (a step's tensors grow with the batch)",
                self.batch_size
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!(
                "learning rate must be positive and finite, got {}",
                self.lr
            ));
        }
        if !(self.clip_norm.is_finite() && self.clip_norm > 0.0) {
            return bad(format!(
                "clip norm must be positive and finite, got {}",
                self.clip_norm
            ));
        }
        match self.budget {
            Budget::Steps(0) => return bad("a budget of 0 steps trains nothing".into()),
            Budget::Epochs(0) => return bad("a budget of 0 epochs trains nothing".into()),
            Budget::Time { max_steps: 0, .. } => {
                return bad("a step cap of 0 trains nothing".into())
            }
            _ => {}
        }
        if self.dataset_size == 0 {
            return bad("the training set is empty".into());
        }
        if !(0.0..1.0).contains(&self.ema_decay) {
            return bad(format!(
                "EMA decay must be in [0, 1), got {}",
                self.ema_decay
            ));
        }
        if !(0.0..=1.0).contains(&self.min_lr_factor) || !self.weight_decay.is_finite() {
            return bad("min-lr factor must be in [0, 1] and weight decay finite".into());
        }
        let interval_ok = |s: f64| s.is_finite() && s >= 0.0;
        if !interval_ok(self.eval_every_s) || !interval_ok(self.checkpoint_every_s) {
            return bad("evaluation and checkpoint intervals in seconds must be ≥ 0".into());
        }
        if let Budget::Time { seconds, .. } = self.budget {
            if !(seconds.is_finite() && seconds > 0.0) {
                return bad(format!(
                    "time budget must be positive and finite, got {seconds} s"
                ));
            }
        }
        Ok(())
    }
}

/// What the trainer needs to know about the model.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// State shape.
    pub kind: StateKind,
    /// Hermite path (the network predicts π̃ only).
    pub hermite: bool,
    /// The model's derived signature (checked on resume).
    pub signature: String,
    /// Device of the networks.
    pub device: Device,
}

/// Errors of training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Invalid configuration.
    #[error("invalid training configuration: {0}")]
    Config(String),
    /// The network could not be built.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Checkpoint I/O.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A non-finite loss or gradient.
    #[error("{what} is not finite at step {step}; last good checkpoint: {}", last_checkpoint.as_ref().map_or("none".to_string(), |p| p.display().to_string()))]
    NonFinite {
        /// "loss" or "gradient norm".
        what: &'static str,
        /// The failing step (1-based).
        step: u64,
        /// The last checkpoint written or resumed from.
        last_checkpoint: Option<PathBuf>,
    },
    /// A step failed.
    #[error("step {step} failed (last good checkpoint: {}): {source}", last_checkpoint.as_ref().map_or("none".to_string(), |p| p.display().to_string()))]
    Step {
        /// The failing step (1-based).
        step: u64,
        /// The last checkpoint.
        last_checkpoint: Option<PathBuf>,
        /// The cause.
        #[source]
        source: crate::Error,
    },
    /// Evaluation failed.
    #[error("evaluation at step {step} failed: {source}")]
    Eval {
        /// The step.
        step: u64,
        /// The cause.
        #[source]
        source: crate::Error,
    },
    /// Writing the metrics log failed.
    #[error("{path}: {source}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The run was asked to stop (SIGINT/SIGTERM through [`Trainer::set_stop_flag`]) and wrote a
    /// checkpoint first.
    #[error("interrupted after step {step}; checkpoint written: {}", checkpoint.as_ref().map_or("none (no run directory)".to_string(), |p| p.display().to_string()))]
    Interrupted {
        /// Steps completed.
        step: u64,
        /// The checkpoint written on the way out.
        checkpoint: Option<PathBuf>,
    },
    /// Every checkpoint of the run directory is damaged.
    #[error("every checkpoint in {} is damaged: {damaged}", dir.display())]
    AllCheckpointsDamaged {
        /// The checkpoint directory.
        dir: PathBuf,
        /// Each damaged checkpoint with the reason, newest first.
        damaged: String,
    },
    /// `resume` found no checkpoint in the run directory.
    #[error("{} holds no checkpoint to resume from", dir.display())]
    NoCheckpoint {
        /// The checkpoint directory searched.
        dir: PathBuf,
    },
    /// A tensor operation failed outside a step.
    #[error("tensor error: {0}")]
    Tensor(#[from] candle_core::Error),
}

/// Reported to the progress callback after every step.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Steps completed.
    pub step: u64,
    /// Planned steps.
    pub total_steps: u64,
    /// Epoch.
    pub epoch: u64,
    /// Loss of this step.
    pub loss: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Training seconds so far (over resumes).
    pub elapsed_s: f64,
}

/// An evaluation callback: given the EMA network and the step, returns named metrics.
pub type EvalFn<'a> = dyn FnMut(&dyn VelocityNet, u64) -> crate::Result<BTreeMap<String, f64>> + 'a;

/// Result of [`Trainer::run`].
#[derive(Debug, Clone)]
pub struct TrainSummary {
    /// Steps completed (over resumes).
    pub steps: u64,
    /// Loss of every step run in this call.
    pub losses: Vec<f64>,
    /// Training seconds (over resumes; evaluation and checkpointing excluded).
    pub elapsed_s: f64,
    /// Last evaluation's metrics.
    pub last_metrics: Option<BTreeMap<String, f64>>,
    /// Last checkpoint written.
    pub last_checkpoint: Option<PathBuf>,
}

/// The trainer state: model, EMA model, optimiser, RNG, counters.
pub struct Trainer {
    cfg: TrainConfig,
    spec: ModelSpec,
    extra: serde_json::Value,
    out_dir: Option<PathBuf>,
    model: VarMap,
    ema_map: VarMap,
    net: Box<dyn VelocityNet>,
    ema_net: Box<dyn VelocityNet>,
    opt: AdamW,
    ema: Ema,
    schedule: CosineSchedule,
    /// Fraction of a time budget used before the current step (0 for step/epoch budgets).
    time_fraction: f64,
    rng: ChaCha8Rng,
    step: u64,
    elapsed_before: f64,
    last_checkpoint: Option<PathBuf>,
    last_loss: Option<f64>,
    /// Set from outside (a signal handler) to end [`Trainer::run`] after the current step.
    stop: Option<Arc<AtomicBool>>,
    /// Checkpoints that `resume` passed over because they were damaged, newest first.
    skipped: Vec<(PathBuf, String)>,
}

/// The checkpoint directory of a run directory.
pub fn checkpoint_dir(out_dir: &Path) -> PathBuf {
    out_dir.join("checkpoints")
}

impl Trainer {
    /// A fresh run. `out_dir` (if any) receives `metrics.jsonl` and `checkpoints/`; `extra` is
    /// stored in checkpoints beside the training configuration (the caller's run configuration).
    pub fn new(
        cfg: TrainConfig,
        spec: ModelSpec,
        out_dir: Option<PathBuf>,
        extra: serde_json::Value,
    ) -> Result<Self, TrainError> {
        cfg.validate()?;
        let model = VarMap::new();
        let ema_map = VarMap::new();
        // The networks live on the spec's device; states stay on the host (crate::device).
        let build = |vars: &VarMap| -> Result<Box<dyn VelocityNet>, NetError> {
            let vb = VarBuilder::from_varmap(vars, DType::F32, &spec.device);
            let net = build_from_config(&cfg.net, spec.kind, spec.hermite, vb)?;
            Ok(OnDevice::wrap(net, &spec.device))
        };
        let net = build(&model)?;
        let ema_net = build(&ema_map)?;
        init_seeded(&model, cfg.seed)?;
        let named = {
            let data = model
                .data()
                .lock()
                .map_err(|_| TrainError::Config("variable map lock poisoned".into()))?;
            data.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        let opt = AdamW::new(
            named,
            AdamWConfig {
                lr: cfg.lr,
                weight_decay: cfg.weight_decay,
                ..Default::default()
            },
        )?;
        let ema = Ema::new(
            &model,
            &ema_map,
            EmaConfig {
                decay: cfg.ema_decay,
                start_step: cfg.ema_start,
            },
        )?;
        let schedule = CosineSchedule::new(cfg.lr, cfg.min_lr_factor, cfg.total_steps());
        // The data stream is decoupled from initialisation: a different stream of the same seed.
        let mut rng = crate::rng::seeded(cfg.seed);
        rng.set_stream(1);
        Ok(Self {
            cfg,
            spec,
            extra,
            out_dir,
            model,
            ema_map,
            net,
            ema_net,
            opt,
            ema,
            schedule,
            time_fraction: 0.0,
            rng,
            step: 0,
            elapsed_before: 0.0,
            last_checkpoint: None,
            last_loss: None,
            stop: None,
            skipped: Vec::new(),
        })
    }

    /// Data-dependent initialisation of a fresh run (call before the first step): the source
    /// network's grid bias starts at the log-density of the training points, given as fractions of
    /// the point-source box ([`crate::encode::Codec::box_fractions`]). A no-op for other networks.
    pub fn init_from_data(&mut self, fractions: &[[f64; 2]]) -> Result<(), TrainError> {
        let NetConfig::Source(cfg) = self.cfg.net else {
            return Ok(());
        };
        if self.step != 0 {
            return Err(TrainError::Config(
                "data-dependent initialisation only applies before the first step".into(),
            ));
        }
        let Some(prior) = cfg.grid_prior(fractions) else {
            return Ok(());
        };
        let bias = candle_core::Tensor::from_vec(prior, (cfg.grid, cfg.grid), &self.spec.device)?;
        for map in [&self.model, &self.ema_map] {
            let data = map
                .data()
                .lock()
                .map_err(|_| TrainError::Config("variable map lock poisoned".into()))?;
            if let Some(var) = data.get(crate::nn::source::GRID_BIAS) {
                var.set(&bias)?;
            }
        }
        Ok(())
    }

    /// Continues the run in `out_dir` from its newest intact checkpoint, with the stored
    /// configuration. A damaged newer checkpoint (truncated, digest mismatch, unreadable) is passed
    /// over and listed in [`Trainer::skipped_checkpoints`]. Errors if there is none
    /// ([`TrainError::NoCheckpoint`]), if every one is damaged, or if it belongs to another model.
    pub fn resume(out_dir: PathBuf, spec: ModelSpec) -> Result<Self, TrainError> {
        let dir = checkpoint_dir(&out_dir);
        let candidates = checkpoint::all_newest_first(&dir)?;
        if candidates.is_empty() {
            return Err(TrainError::NoCheckpoint { dir });
        }
        let count = candidates.len();
        let mut skipped = Vec::new();
        let mut newest_error = None;
        for candidate in candidates {
            match Self::resume_from(&candidate, &out_dir, &spec) {
                Ok(mut trainer) => {
                    trainer.skipped = skipped;
                    return Ok(trainer);
                }
                Err(TrainError::Checkpoint(
                    e @ (CheckpointError::Corrupt { .. } | CheckpointError::Io { .. }),
                )) => {
                    skipped.push((candidate, e.to_string()));
                    newest_error.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        match newest_error {
            Some(e) if count == 1 => Err(TrainError::Checkpoint(e)),
            _ => Err(TrainError::AllCheckpointsDamaged {
                dir,
                damaged: skipped
                    .iter()
                    .map(|(p, why)| format!("{} ({why})", p.display()))
                    .collect::<Vec<_>>()
                    .join("; "),
            }),
        }
    }

    /// Restores the trainer from one checkpoint directory.
    fn resume_from(latest: &Path, out_dir: &Path, spec: &ModelSpec) -> Result<Self, TrainError> {
        let loaded = checkpoint::load(latest, &spec.device)?;
        loaded.check_signature(&spec.signature)?;
        let meta_path = latest.join(checkpoint::META_FILE);
        let stored: StoredConfig =
            serde_json::from_value(loaded.meta.config.clone()).map_err(|e| {
                CheckpointError::Corrupt {
                    path: meta_path.clone(),
                    reason: format!("stored run configuration is unreadable: {e}"),
                }
            })?;
        let mut trainer = Trainer::new(
            stored.train,
            spec.clone(),
            Some(out_dir.to_path_buf()),
            stored.extra,
        )?;
        loaded.restore(&trainer.model, &trainer.ema_map, &mut trainer.opt)?;
        trainer.rng = loaded.meta.rng.clone();
        trainer.step = loaded.meta.step;
        trainer.elapsed_before = loaded.meta.elapsed_s;
        trainer.last_loss = loaded.meta.last_loss;
        trainer.last_checkpoint = Some(latest.to_path_buf());
        Ok(trainer)
    }

    /// Damaged checkpoints that [`Trainer::resume`] passed over (newest first), with the reason.
    pub fn skipped_checkpoints(&self) -> &[(PathBuf, String)] {
        &self.skipped
    }

    /// A flag that, once set (e.g. by a SIGINT handler), makes [`Trainer::run`] write a
    /// checkpoint after the current step and return [`TrainError::Interrupted`].
    pub fn set_stop_flag(&mut self, flag: Arc<AtomicBool>) {
        self.stop = Some(flag);
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }
    /// Steps completed.
    pub fn step_count(&self) -> u64 {
        self.step
    }
    /// The trained network (raw weights).
    pub fn net(&self) -> &dyn VelocityNet {
        self.net.as_ref()
    }
    /// The EMA network (use it for evaluation and sampling).
    pub fn ema_net(&self) -> &dyn VelocityNet {
        self.ema_net.as_ref()
    }
    /// The model's variables.
    pub fn model_vars(&self) -> &VarMap {
        &self.model
    }
    /// The EMA variables.
    pub fn ema_vars(&self) -> &VarMap {
        &self.ema_map
    }
    /// The last checkpoint written or resumed from.
    pub fn last_checkpoint(&self) -> Option<&Path> {
        self.last_checkpoint.as_deref()
    }

    /// Learning rate of step index `step` (0-based): the cosine schedule over the steps, or for a
    /// time budget over the elapsed fraction of the time when that is further along.
    fn lr(&self, step: u64) -> f64 {
        match self.cfg.budget {
            Budget::Time { .. } => {
                let by_steps = step as f64 / self.cfg.total_steps().max(1) as f64;
                self.schedule
                    .lr_at_fraction(by_steps.max(self.time_fraction))
            }
            _ => self.schedule.lr(step),
        }
    }

    /// One optimiser step; returns the loss.
    pub fn train_step(&mut self, objective: &mut dyn Objective) -> Result<f64, TrainError> {
        let step = self.step + 1;
        let fail = |source: crate::Error, last: &Option<PathBuf>| TrainError::Step {
            step,
            last_checkpoint: last.clone(),
            source,
        };
        let non_finite = |what, last: &Option<PathBuf>| TrainError::NonFinite {
            what,
            step,
            last_checkpoint: last.clone(),
        };
        let loss = match objective.loss(self.net.as_ref(), &mut self.rng, self.cfg.batch_size) {
            Ok(l) => l,
            // The flow loss refuses non-finite values itself; report them as such.
            Err(crate::Error::Invalid(m)) if m.contains("not finite") => {
                return Err(non_finite("loss", &self.last_checkpoint))
            }
            Err(e) => return Err(fail(e, &self.last_checkpoint)),
        };
        let value = loss
            .to_dtype(DType::F64)
            .and_then(|l| l.to_scalar::<f64>())
            .map_err(|e| fail(e.into(), &self.last_checkpoint))?;
        if !value.is_finite() {
            return Err(non_finite("loss", &self.last_checkpoint));
        }
        let grads = loss
            .backward()
            .map_err(|e| fail(e.into(), &self.last_checkpoint))?;
        let norm = global_grad_norm(self.opt.vars(), &grads)
            .map_err(|e| fail(e.into(), &self.last_checkpoint))?;
        if !norm.is_finite() {
            return Err(non_finite("gradient norm", &self.last_checkpoint));
        }
        let lr = self.lr(self.step);
        self.opt
            .step(&grads, lr, clip_factor(norm, self.cfg.clip_norm))
            .map_err(|e| fail(e.into(), &self.last_checkpoint))?;
        self.ema
            .update(step)
            .map_err(|e| fail(e.into(), &self.last_checkpoint))?;
        self.step = step;
        self.last_loss = Some(value);
        Ok(value)
    }

    /// Writes a checkpoint now (needs an output directory).
    pub fn save_checkpoint(&mut self, elapsed_s: f64) -> Result<Option<PathBuf>, TrainError> {
        let Some(out) = &self.out_dir else {
            return Ok(None);
        };
        let config = serde_json::to_value(StoredConfig {
            train: self.cfg.clone(),
            extra: self.extra.clone(),
        })
        .map_err(|e| TrainError::Config(format!("cannot serialise the configuration: {e}")))?;
        let path = checkpoint::save(
            &checkpoint_dir(out),
            &CheckpointData {
                model: &self.model,
                ema: &self.ema_map,
                optimizer: &self.opt,
                step: self.step,
                epoch: self.step / self.cfg.steps_per_epoch(),
                rng: &self.rng,
                signature: &self.spec.signature,
                config,
                last_loss: self.last_loss,
                elapsed_s,
            },
            self.cfg.keep_checkpoints,
        )?;
        self.last_checkpoint = Some(path.clone());
        Ok(Some(path))
    }

    /// Trains until the budget is spent, evaluating (EMA net) and checkpointing periodically
    /// and at the end. `progress` is called after every step.
    pub fn run(
        &mut self,
        objective: &mut dyn Objective,
        mut eval: Option<&mut EvalFn>,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<TrainSummary, TrainError> {
        let start = Instant::now();
        // Seconds spent evaluating and checkpointing: not training time.
        let mut paused = 0.0f64;
        let total = self.cfg.total_steps();
        let time_limit = match self.cfg.budget {
            Budget::Time { seconds, .. } => Some(seconds),
            _ => None,
        };
        let elapsed = |before: f64, paused: f64| before + start.elapsed().as_secs_f64() - paused;
        let mut losses = Vec::new();
        let mut window = (0.0f64, 0u64);
        let mut last_metrics = None;
        let mut log = MetricsLog::open(self.out_dir.as_deref())?;
        // Training time of the last evaluation / checkpoint, for the intervals in seconds.
        let mut last_eval_s = self.elapsed_before;
        let mut last_checkpoint_s = self.elapsed_before;
        let due = |every_s: f64, last: f64, now: f64| every_s > 0.0 && now - last >= every_s;
        while self.step < total
            && time_limit.is_none_or(|s| elapsed(self.elapsed_before, paused) < s)
        {
            if let Some(seconds) = time_limit {
                self.time_fraction = elapsed(self.elapsed_before, paused) / seconds;
            }
            let loss = self.train_step(objective)?;
            losses.push(loss);
            window = (window.0 + loss, window.1 + 1);
            let now = elapsed(self.elapsed_before, paused);
            progress(&Progress {
                step: self.step,
                total_steps: total,
                epoch: self.step / self.cfg.steps_per_epoch(),
                loss,
                lr: self.lr(self.step - 1),
                elapsed_s: now,
            });
            let done = self.step >= total || time_limit.is_some_and(|s| now >= s);
            let pause_start = Instant::now();
            if (self.cfg.eval_every > 0 && self.step.is_multiple_of(self.cfg.eval_every))
                || due(self.cfg.eval_every_s, last_eval_s, now)
                || done
            {
                last_eval_s = now;
                let metrics = match eval.as_mut() {
                    Some(f) => {
                        f(self.ema_net.as_ref(), self.step).map_err(|source| TrainError::Eval {
                            step: self.step,
                            source,
                        })?
                    }
                    None => BTreeMap::new(),
                };
                let mean = window.0 / window.1.max(1) as f64;
                log.write(self, now, mean, &metrics)?;
                window = (0.0, 0);
                last_metrics = Some(metrics);
            }
            if (self.cfg.checkpoint_every > 0
                && self.step.is_multiple_of(self.cfg.checkpoint_every))
                || due(self.cfg.checkpoint_every_s, last_checkpoint_s, now)
                || done
            {
                last_checkpoint_s = now;
                self.save_checkpoint(now)?;
            }
            paused += pause_start.elapsed().as_secs_f64();
            if !done && self.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst)) {
                let name = checkpoint::step_dir_name(self.step);
                let checkpoint = match &self.last_checkpoint {
                    Some(p) if p.ends_with(&name) => Some(p.clone()),
                    _ => self.save_checkpoint(now)?,
                };
                return Err(TrainError::Interrupted {
                    step: self.step,
                    checkpoint,
                });
            }
        }
        Ok(TrainSummary {
            steps: self.step,
            losses,
            elapsed_s: elapsed(self.elapsed_before, paused),
            last_metrics,
            last_checkpoint: self.last_checkpoint.clone(),
        })
    }
}

/// What a checkpoint's `config` holds.
#[derive(Serialize, Deserialize)]
struct StoredConfig {
    train: TrainConfig,
    extra: serde_json::Value,
}

/// `metrics.jsonl`: one JSON object per evaluation (appended across resumes).
struct MetricsLog {
    file: Option<(PathBuf, std::fs::File)>,
}

impl MetricsLog {
    fn open(out_dir: Option<&Path>) -> Result<Self, TrainError> {
        let Some(dir) = out_dir else {
            return Ok(Self { file: None });
        };
        let path = dir.join("metrics.jsonl");
        let err = |source| TrainError::Log {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(err)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(err)?;
        Ok(Self {
            file: Some((path, file)),
        })
    }

    fn write(
        &mut self,
        t: &Trainer,
        wall_s: f64,
        loss: f64,
        metrics: &BTreeMap<String, f64>,
    ) -> Result<(), TrainError> {
        let Some((path, file)) = &mut self.file else {
            return Ok(());
        };
        let finite = |x: f64| x.is_finite().then_some(x);
        let line = serde_json::json!({
            "step": t.step,
            "epoch": t.step / t.cfg.steps_per_epoch(),
            "wall_s": wall_s,
            "loss": finite(loss),
            "lr": t.lr(t.step.saturating_sub(1)),
            "metrics": metrics.iter().map(|(k, v)| (k.clone(), finite(*v))).collect::<BTreeMap<_, _>>(),
        });
        writeln!(file, "{line}").map_err(|source| TrainError::Log {
            path: path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod preset_tests {
    use super::*;

    /// (preset, kind, images, backbone) → (net, gated, batch, lr, budget).
    type Row = (
        Preset,
        StateKind,
        bool,
        bool,
        &'static str,
        bool,
        usize,
        f64,
        Budget,
    );

    fn net_kind(net: &NetConfig) -> (&'static str, bool) {
        match net {
            NetConfig::Mlp(_) => ("mlp", false),
            NetConfig::Cnn(_) => ("cnn", false),
            NetConfig::UNet(c) => (if c.pixel { "unet-pixel" } else { "unet" }, false),
            NetConfig::Source(c) => ("source", c.backbone_gate),
            NetConfig::Mixture(c) => ("mixture", c.backbone_gate),
        }
    }

    #[test]
    fn presets_resolve_as_the_table_says() {
        let points = StateKind::Points { dim: 2 };
        let spectral = StateKind::Spectral {
            channels: 2,
            modes: 16,
        };
        let image = StateKind::Spectral {
            channels: 2,
            modes: 28,
        };
        // (preset, kind, images, backbone) → (net, gated, batch, lr, budget)
        let table: &[Row] = &[
            (
                Preset::Quick,
                points,
                false,
                false,
                "mlp",
                false,
                1024,
                3e-3,
                Budget::Steps(4000),
            ),
            (
                Preset::Quick,
                spectral,
                false,
                false,
                "mixture",
                false,
                64,
                2e-3,
                Budget::Steps(4000),
            ),
            (
                Preset::Quick,
                spectral,
                false,
                true,
                "mixture",
                true,
                64,
                2e-3,
                Budget::Steps(4000),
            ),
            (
                Preset::Quick,
                image,
                true,
                false,
                "unet-pixel",
                false,
                32,
                1e-3,
                Budget::Steps(4000),
            ),
            (
                Preset::Lattice,
                spectral,
                false,
                true,
                "source",
                true,
                256,
                2e-3,
                Budget::Steps(4000),
            ),
            (
                Preset::Lattice,
                points,
                false,
                false,
                "mlp",
                false,
                1024,
                3e-3,
                Budget::Steps(4000),
            ),
            (
                Preset::Small,
                points,
                false,
                false,
                "mlp",
                false,
                1024,
                3e-3,
                Budget::Steps(20_000),
            ),
            (
                Preset::Small,
                spectral,
                false,
                true,
                "cnn",
                false,
                256,
                1e-3,
                Budget::Steps(20_000),
            ),
            (
                Preset::Small,
                image,
                true,
                false,
                "unet-pixel",
                false,
                32,
                1e-3,
                Budget::Steps(20_000),
            ),
            (
                Preset::Paper,
                points,
                false,
                false,
                "mlp",
                false,
                64,
                3e-4,
                Budget::Steps(78_100),
            ),
            (
                Preset::Paper,
                spectral,
                false,
                true,
                "cnn",
                false,
                64,
                3e-4,
                Budget::Steps(78_100),
            ),
            (
                Preset::Paper,
                image,
                true,
                false,
                "unet",
                false,
                128,
                3e-4,
                Budget::Epochs(1500),
            ),
        ];
        for &(preset, kind, images, backbone, net, gated, batch, lr, budget) in table {
            let c = TrainConfig::resolve(preset, kind, images, backbone);
            let row = format!("{preset} {kind:?} images={images} backbone={backbone}");
            assert_eq!(net_kind(&c.net), (net, gated), "{row}");
            assert_eq!(c.batch_size, batch, "{row}");
            assert_eq!(c.lr, lr, "{row}");
            assert_eq!(c.budget, budget, "{row}");
            assert_eq!(c.preset, preset, "{row}");
            c.validate().unwrap();
            // The name studies report is the `kind` tag of the stored configuration.
            let json = serde_json::to_value(c.net).unwrap();
            assert_eq!(json["kind"], c.net.kind_name(), "{row}");
        }
    }
}
