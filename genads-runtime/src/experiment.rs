//! An experiment: one model on one data set, wired end to end — the interpreted physics, the
//! codec (encoding of data into the bulk and the readout), the IR prior, the training objective,
//! sampling and evaluation. The CLI's `train`, `sample` and `eval` and the studies all go through
//! the [`Experiment`] trait, so every model is trained, sampled and scored the same way; point
//! data ([`PointExperiment`]) and images ([`ImageExperiment`]) differ only behind it.

mod images;
mod points;

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::Device;
use genads_dsl::derived::PathKind;
use genads_dsl::Derived;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use images::{
    quality_metrics, BitsPerMode, ImageEvaluation, ImageExperiment, ImageReference,
    IMAGE_SAMPLE_BATCH,
};
pub use points::{score_points, PointExperiment};

use crate::encode::{Codec, DataBatch};
use crate::interpreter::Interpreted;
use crate::mnist::fetch::DatasetKind;
use crate::mnist::quality::QualityReport;
use crate::mnist::MnistError;
use crate::nn::{Preset, StateKind, VelocityNet};
use crate::prior::sample_prior;
use crate::sample::{flow_velocity, sample_each};
use crate::solver::Solver;
use crate::train::{FlowObjective, ModelSpec, TrainConfig};
use crate::{Error, Modes, Physics, Result, State};

/// The data sets an experiment can train on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSet {
    /// The paper's 2-D checkerboard (8 valid cells of [−4, 4]²).
    Checkerboard,
    /// MNIST digits, 28×28 (installed by `genads data fetch mnist`).
    Mnist,
    /// Fashion-MNIST, 28×28 (installed by `genads data fetch fashion-mnist`).
    FashionMnist,
}

impl DataSet {
    /// The image data set behind this one (None for point data).
    pub fn image_kind(self) -> Option<DatasetKind> {
        match self {
            DataSet::Checkerboard => None,
            DataSet::Mnist => Some(DatasetKind::Mnist),
            DataSet::FashionMnist => Some(DatasetKind::FashionMnist),
        }
    }

    /// Whether samples are images.
    pub fn is_image(self) -> bool {
        self.image_kind().is_some()
    }
}

impl std::str::FromStr for DataSet {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "checkerboard" => Ok(DataSet::Checkerboard),
            "mnist" => Ok(DataSet::Mnist),
            "fashion-mnist" => Ok(DataSet::FashionMnist),
            other => Err(format!(
                "unknown data set `{other}` (available: checkerboard, mnist, fashion-mnist)"
            )),
        }
    }
}

impl std::fmt::Display for DataSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DataSet::Checkerboard => "checkerboard",
            DataSet::Mnist => "mnist",
            DataSet::FashionMnist => "fashion-mnist",
        })
    }
}

/// Everything that defines an experiment apart from training hyper-parameters. Stored in every
/// checkpoint, so a run directory can be re-opened for sampling and evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentConfig {
    /// The `.genads` source the model came from.
    pub model_source: String,
    /// Where it came from (file name, for diagnostics).
    pub model_origin: String,
    /// The model's name in that source.
    pub model_name: String,
    /// Data set.
    pub data: DataSet,
    /// Training-set size (paper: 50,000 points; images: a seeded random subset of the training
    /// split of this size, the paper's 10,000, or all of it when it is at least the split's size).
    pub train_size: usize,
    /// Seed of the training set (fixed per seed in the paper).
    pub data_seed: u64,
    /// Fourier modes per axis of the point-source encoding (paper: 16).
    pub modes: usize,
    /// Identical complex channels of the point-source encoding (paper: 2).
    pub channels: usize,
}

impl ExperimentConfig {
    /// The paper's checkerboard settings for a model.
    pub fn checkerboard(model_source: String, model_origin: String, model_name: String) -> Self {
        Self {
            model_source,
            model_origin,
            model_name,
            data: DataSet::Checkerboard,
            train_size: 50_000,
            data_seed: 1,
            modes: 16,
            channels: 2,
        }
    }

    /// The paper's image settings (PAPER.md §4.2, §6.4) for a model on `data` (MNIST or
    /// Fashion-MNIST): the seeded 10,000-image subset, 28×28 modes, one image channel.
    pub fn image(
        data: DataSet,
        model_source: String,
        model_origin: String,
        model_name: String,
    ) -> Self {
        Self {
            model_source,
            model_origin,
            model_name,
            data,
            train_size: crate::mnist::dataset::PAPER_SUBSET,
            data_seed: 1,
            modes: 28,
            channels: 1,
        }
    }
}

/// The experiment of `config`: a [`PointExperiment`] or an [`ImageExperiment`] by its data set
/// (the model source is compiled; image data sets load the installed training split).
pub fn build(config: ExperimentConfig) -> Result<Box<dyn Experiment>> {
    let derived = derive(&config)?;
    from_derived(config, derived)
}

/// The experiment of an already derived model (its source must be `config.model_source`): the
/// one place that picks the experiment type from the data set.
pub fn from_derived(config: ExperimentConfig, derived: Derived) -> Result<Box<dyn Experiment>> {
    Ok(if config.data.is_image() {
        Box::new(ImageExperiment::from_derived(config, derived)?)
    } else {
        Box::new(PointExperiment::from_derived(config, derived)?)
    })
}

/// Compiles `config`'s model source and selects its model.
fn derive(config: &ExperimentConfig) -> Result<Derived> {
    let models = genads_dsl::compile(&config.model_source, &config.model_origin)
        .map_err(|d| Error::Invalid(d.to_string()))?;
    genads_dsl::select(models, Some(&config.model_name)).map_err(Error::Invalid)
}

/// What every experiment wires the same way, whatever its data: the model's physics, the codec
/// between data and bulk states, the IR prior and the shape of the network's states.
pub struct Wiring {
    /// The configuration it was built from.
    pub config: ExperimentConfig,
    /// The interpreted physics of the model (derivation, constants, envelope tables).
    pub physics: Interpreted,
    /// The physics of training and sampling steps when a compiled model replaces the interpreter
    /// there ([`Experiment::set_compiled`]); `None`: the interpreter.
    compiled: Option<Box<dyn Physics>>,
    /// Encoder/decoder between data and bulk states.
    pub codec: Box<dyn Codec>,
    /// |k|² of the state's modes.
    pub modes: Modes,
    /// |k|² per mode for a Sobolev prior (None for point states).
    prior_k2: Option<Vec<f64>>,
    /// Shape of the states the network sees.
    pub kind: StateKind,
}

impl Wiring {
    /// Wires `physics` to `codec`, whose states the network sees as `kind`.
    fn new(
        config: ExperimentConfig,
        physics: Interpreted,
        codec: Box<dyn Codec>,
        kind: StateKind,
    ) -> Result<Self> {
        let modes = codec.modes()?;
        let prior_k2 = codec.prior_k2();
        Ok(Self {
            config,
            physics,
            compiled: None,
            codec,
            modes,
            prior_k2,
            kind,
        })
    }

    /// |k|² per mode of the Sobolev prior (None for point states).
    fn prior_k2(&self) -> Option<&[f64]> {
        self.prior_k2.as_deref()
    }

    /// Encodes data into the bulk with the model's lift noise.
    fn lift(&self, data: &DataBatch, rng: &mut ChaCha8Rng) -> Result<State> {
        let sigma = self.physics.constants().lift_noise;
        self.codec.encode(data, Some((rng, sigma)))
    }

    /// Samples `n` states from a trained network (S₀ from the prior, integrated by `solver` in
    /// batches) and hands each batch's codec readout to `on_batch`. Returns the number of velocity
    /// evaluations.
    fn sample_decoded(
        &self,
        net: &dyn VelocityNet,
        n: usize,
        batch: usize,
        solver: &Solver,
        rng: &mut ChaCha8Rng,
        mut on_batch: impl FnMut(DataBatch) -> Result<()>,
    ) -> Result<usize> {
        let physics = flow_physics(self);
        let mut draw_prior = |rng: &mut ChaCha8Rng, b: usize| prior(self, rng, b);
        sample_each(
            &mut draw_prior,
            |s: &State, t: f64| flow_velocity(physics, net, &self.modes, s, t),
            n,
            batch,
            solver,
            rng,
            |s: State| on_batch(self.codec.decode(&s.phi)?),
        )
    }
}

/// The compiled physics when there is one, else the interpreter.
fn flow_physics(w: &Wiring) -> &dyn Physics {
    match &w.compiled {
        Some(p) => p.as_ref(),
        None => &w.physics,
    }
}

/// Draws `batch` states from the IR prior of `w`.
fn prior(w: &Wiring, rng: &mut ChaCha8Rng, batch: usize) -> Result<State> {
    sample_prior(
        rng,
        &w.physics.constants().prior,
        &w.codec.state_shape(batch),
        w.prior_k2(),
    )
}

/// One model on one data set, as the trainer, `genads::run::Run` and the CLI see it: the shared
/// [`Wiring`], the training data, and the evaluation protocol of the data (sampling, scoring and
/// the files an evaluation writes). Built by [`build`] or [`from_derived`].
pub trait Experiment: Send + Sync {
    /// The model wiring shared by every kind of data.
    fn wiring(&self) -> &Wiring;

    /// The wiring, mutable (to swap in compiled physics).
    fn wiring_mut(&mut self) -> &mut Wiring;

    /// Size of the training set (points or images).
    fn train_len(&self) -> usize;

    /// Draws `batch` training samples (uniformly, with replacement) and lifts them into the bulk
    /// with the model's lift noise.
    fn data_batch(&self, rng: &mut ChaCha8Rng, batch: usize) -> Result<State>;

    /// The training configuration of `preset` for this data, with (`backbone`) or without a
    /// Klein–Gordon backbone ([`TrainConfig::resolve`]).
    fn train_config(&self, preset: Preset, backbone: bool) -> TrainConfig;

    /// The evaluation defaults of this data.
    fn eval_defaults(&self) -> EvalDefaults;

    /// Samples `n` states with the network (prior seed `seed`) and scores them against the data:
    /// the checkerboard metrics (PAPER.md §7.1) or the image scores (§7.2).
    fn evaluate(
        &self,
        net: &dyn VelocityNet,
        n: usize,
        solver: &Solver,
        seed: u64,
    ) -> Result<Evaluation>;

    /// What an evaluation of `n` samples is scored against, as said after "vs" in reports
    /// ("the first N training points"; "the 10000 test images; reference: …").
    fn scored_against(&self, n: usize) -> Result<String>;

    /// The metrics.jsonl keys drawn in curves.png.
    fn curve_metrics(&self) -> &'static [&'static str];

    /// Writes the samples of a final evaluation to `path` (samples.png: the scatter over the
    /// checkerboard cells, or a grid of the first 100 images).
    fn write_samples(&self, evaluation: &Evaluation, path: &Path) -> Result<()>;

    /// Samples `n` states (`batch` integrated together) and writes them to `out` in this data's
    /// file format (`genads sample`). Returns the number of velocity evaluations.
    fn sample_to_file(
        &self,
        net: &dyn VelocityNet,
        n: usize,
        batch: usize,
        solver: &Solver,
        rng: &mut ChaCha8Rng,
        out: &Path,
    ) -> Result<usize>;

    /// Writes what a periodic evaluation during training shows of its samples (image runs redraw
    /// samples.png; point runs draw it once, at the end).
    fn write_training_samples(&self, _evaluation: &Evaluation, _path: &Path) -> Result<()> {
        Ok(())
    }

    /// A one-line summary of a periodic evaluation's metrics for the training log; `None` where
    /// the progress display is enough.
    fn summary_line(&self, _metrics: &BTreeMap<String, f64>) -> Option<String> {
        None
    }

    /// Loads what evaluations score against (the image classifier, trained on first use) so that
    /// it is not charged to training time.
    fn prepare_evaluation(&self) -> Result<()> {
        Ok(())
    }

    /// The training points as fractions of the point-source box (for
    /// [`crate::train::Trainer::init_from_data`]); `None` for other codecs and for images.
    fn box_fractions(&self) -> Option<Vec<[f64; 2]>> {
        None
    }

    /// The point experiment, for the operations only point data has.
    fn as_points(&self) -> Option<&PointExperiment> {
        None
    }

    /// The image experiment, for the operations only images have (bits per mode).
    fn as_images(&self) -> Option<&ImageExperiment> {
        None
    }

    /// The configuration it was built from.
    fn config(&self) -> &ExperimentConfig {
        &self.wiring().config
    }

    /// The interpreted physics of the model.
    fn physics(&self) -> &Interpreted {
        &self.wiring().physics
    }

    /// Encoder/decoder between data and bulk states.
    fn codec(&self) -> &dyn Codec {
        self.wiring().codec.as_ref()
    }

    /// |k|² of the state's modes.
    fn modes(&self) -> &Modes {
        &self.wiring().modes
    }

    /// Shape of the states the network sees.
    fn kind(&self) -> StateKind {
        self.wiring().kind
    }

    /// The derived model.
    fn derived(&self) -> &Derived {
        self.physics().derived()
    }

    /// The physics of the training and sampling steps: the compiled model's when one was given,
    /// else the interpreter.
    fn flow_physics(&self) -> &dyn Physics {
        flow_physics(self.wiring())
    }

    /// What the trainer needs to know about the model (CPU device).
    fn model_spec(&self) -> ModelSpec {
        let constants = self.physics().constants();
        ModelSpec {
            kind: self.kind(),
            hermite: constants.path != PathKind::Linear,
            signature: constants.signature.clone(),
            device: Device::Cpu,
        }
    }

    /// Draws `batch` states from the IR prior.
    fn prior(&self, rng: &mut ChaCha8Rng, batch: usize) -> Result<State> {
        prior(self.wiring(), rng, batch)
    }

    /// The flow-matching objective of this experiment.
    fn objective(&self) -> FlowObjective<'_> {
        FlowObjective {
            physics: self.flow_physics(),
            modes: self.modes(),
            data: Box::new(move |rng, b| self.data_batch(rng, b)),
            prior: Box::new(move |rng, b| self.prior(rng, b)),
        }
    }

    /// Replaces the interpreter by a compiled model's physics in every training and sampling
    /// step. Errors unless the compiled model has this experiment's derived signature.
    fn set_compiled(&mut self, physics: Box<dyn Physics>) -> Result<()> {
        let wiring = self.wiring_mut();
        let expected = &wiring.physics.constants().signature;
        let got = &physics.constants().signature;
        if got != expected {
            return Err(Error::Invalid(format!(
                "the compiled model has signature {got}, the experiment's model {expected}"
            )));
        }
        wiring.compiled = Some(physics);
        Ok(())
    }

    /// [`Experiment::set_compiled`] for a value being built.
    fn with_compiled(mut self, physics: Box<dyn Physics>) -> Result<Self>
    where
        Self: Sized,
    {
        self.set_compiled(physics)?;
        Ok(self)
    }
}

/// How a kind of data is evaluated unless told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalDefaults {
    /// Steps of a fixed-step solver: the paper's 100 for point data, 25 for images (the U-Net's
    /// sampling cost on a CPU, measured in docs/mnist.md).
    pub solver_steps: usize,
    /// Samples per evaluation during training.
    pub samples: usize,
    /// Samples of a final evaluation: the paper's 10,000 points; 2,000 images for the same
    /// sampling cost (docs/mnist.md; `--n 10000` gives the paper's protocol).
    pub final_samples: usize,
    /// Whether a final evaluation may average independent sample sets (point runs; image runs
    /// report the FID's bootstrap standard error instead).
    pub repeated_draws: bool,
}

impl EvalDefaults {
    /// Point data (the checkerboard).
    pub const POINTS: Self = Self {
        solver_steps: 100,
        samples: 2000,
        final_samples: 10_000,
        repeated_draws: true,
    };

    /// Images (MNIST, Fashion-MNIST).
    pub const IMAGES: Self = Self {
        solver_steps: 25,
        samples: 500,
        final_samples: 2_000,
        repeated_draws: false,
    };

    /// The defaults of image (`images`) or point data, for decisions made from a configuration
    /// before an experiment exists.
    pub fn of(images: bool) -> Self {
        if images {
            Self::IMAGES
        } else {
            Self::POINTS
        }
    }
}

/// The result of [`Experiment::evaluate`].
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Named metrics (checkerboard: bv, js_cell, wed, wed_norm, cqs, sw2, nfe; images: see
    /// [`quality_metrics`]).
    pub metrics: BTreeMap<String, f64>,
    /// The generated points that were scored (empty for images).
    pub points: Vec<[f64; 2]>,
    /// The generated images, flat (`n·h·w`), not clamped (empty for points).
    pub pixels: Vec<f32>,
    /// The image scores beside the real-vs-real reference (None for points).
    pub report: Option<QualityReport>,
}

/// An MNIST-pipeline error as a runtime error (the message is kept whole: it says what to run when
/// data is missing).
fn mnist_err(e: MnistError) -> Error {
    match e {
        MnistError::Runtime(e) => e,
        MnistError::Tensor(e) => Error::Tensor(e),
        MnistError::Invalid(m) => Error::Invalid(m),
        other => Error::Invalid(other.to_string()),
    }
}
