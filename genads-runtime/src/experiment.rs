//! An experiment: one model on one data set, wired end to end — the interpreted physics, the
//! codec (encoding of data into the bulk and the readout), the IR prior, the training objective,
//! sampling and evaluation. The CLI's `train`, `sample` and `eval` and the studies all go through
//! here, so every model is trained, sampled and scored the same way.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use candle_core::Device;
use genads_dsl::derived::{Encoding, PathKind};
use genads_dsl::Derived;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::encode::{
    Codec, DataBatch, DataScaling, ImageSpectralCodec, PointSourceCodec, PointSourceConfig,
    RawPointCodec,
};
use crate::envelope::EnvelopeGrid;
use crate::interpreter::Interpreted;
use crate::metrics::{checkerboard_metrics, MetricOptions};
use crate::mnist::classifier::{load_or_train, Classifier, ClassifierTraining};
use crate::mnist::dataset::{normalisation_stats, ImageSet, Split};
use crate::mnist::features::Features;
use crate::mnist::fetch::DatasetKind;
use crate::mnist::quality::{score_against, Quality, QualityReport};
use crate::mnist::MnistError;
use crate::nn::{StateKind, VelocityNet};
use crate::prior::sample_prior;
use crate::sample::{flow_velocity, sample_each};
use crate::solver::Solver;
use crate::train::{FlowObjective, ModelSpec};
use crate::{Error, Modes, Physics, Result, State};

/// Images integrated together when sampling (evaluation, `genads sample`): the U-Net's activations
/// of 128 images stay cache- and allocator-friendly; measured with `genads sample RUN --n 500
/// --solver euler --steps 6 --batch B` (one thread, quick preset, beside two training runs):
/// 2.8 ms per image and velocity evaluation at B = 128 and 32, 4.5 ms at B = 500.
pub const IMAGE_SAMPLE_BATCH: usize = 128;

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

/// A model wired to its data: physics, codec, prior and data set.
pub struct Experiment {
    /// The configuration it was built from.
    pub config: ExperimentConfig,
    /// The interpreted physics of the model (derivation, constants, envelope tables).
    pub physics: Interpreted,
    /// The physics of training and sampling steps when a compiled model replaces the interpreter
    /// there ([`Experiment::with_compiled`]); `None`: the interpreter.
    compiled: Option<Box<dyn Physics>>,
    /// Encoder/decoder between data and bulk states.
    pub codec: Box<dyn Codec>,
    /// |k|² of the state's modes.
    pub modes: Modes,
    /// |k|² per mode for a Sobolev prior (None for point states).
    prior_k2: Option<Vec<f64>>,
    /// The training set (point data sets; empty for images).
    pub dataset: Dataset,
    /// The training images (image data sets), pixels in [−1, 1].
    pub images: Option<ImageSet>,
    /// Shape of the states the network sees.
    pub kind: StateKind,
    /// Classifier, test features and real-vs-real references of image evaluations (loaded once).
    image_reference: OnceLock<ImageReference>,
}

/// What image evaluation scores against: the metric classifier, the test split (and its features)
/// and the training split for the real-vs-real reference.
pub struct ImageReference {
    /// The metric classifier (PAPER.md §7.2, trained by the project).
    pub classifier: Classifier,
    /// The test split.
    pub test: ImageSet,
    /// The training split (its first n images are the real-vs-real reference).
    pub train: ImageSet,
    test_features: Features,
    references: Mutex<BTreeMap<usize, Quality>>,
}

impl ImageReference {
    /// Builds a reference from a classifier and the two splits.
    pub fn new(classifier: Classifier, test: ImageSet, train: ImageSet) -> Result<Self> {
        let (test_features, _) = classifier.features_of(&test.pixels).map_err(mnist_err)?;
        Ok(Self {
            classifier,
            test,
            train,
            test_features,
            references: Mutex::new(BTreeMap::new()),
        })
    }

    /// Loads the installed splits of `kind` and the saved classifier, training the classifier
    /// first (with messages through `log`) when it is missing.
    pub fn load(kind: DatasetKind, log: &mut dyn FnMut(&str)) -> Result<Self> {
        let (classifier, _) =
            load_or_train(kind, &ClassifierTraining::default(), log).map_err(mnist_err)?;
        let test = ImageSet::load(kind, Split::Test).map_err(mnist_err)?;
        let train = ImageSet::load(kind, Split::Train).map_err(mnist_err)?;
        Self::new(classifier, test, train)
    }

    /// Scores `n·784` generated pixels beside the real-vs-real reference of the first `n` training
    /// images (cached per `n`).
    pub fn report(&self, generated: &[f32], seed: u64) -> Result<QualityReport> {
        let generated_q = score_against(&self.classifier, &self.test_features, generated, seed)
            .map_err(mnist_err)?;
        let n = generated_q.n;
        let cached = self
            .references
            .lock()
            .map_err(|_| Error::Invalid("reference cache lock poisoned".into()))?
            .get(&n)
            .cloned();
        let reference = match cached {
            Some(q) => q,
            None => {
                let head = self.train.head(n);
                let q = score_against(&self.classifier, &self.test_features, &head.pixels, seed)
                    .map_err(mnist_err)?;
                if let Ok(mut m) = self.references.lock() {
                    m.insert(n, q.clone());
                }
                q
            }
        };
        Ok(QualityReport {
            generated: generated_q,
            reference,
        })
    }
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

impl Experiment {
    /// Compiles the model source and builds everything the model needs for its data set.
    pub fn new(config: ExperimentConfig) -> Result<Self> {
        let models = genads_dsl::compile(&config.model_source, &config.model_origin)
            .map_err(|d| Error::Invalid(d.to_string()))?;
        let derived =
            genads_dsl::select(models, Some(&config.model_name)).map_err(Error::Invalid)?;
        Self::from_derived(config, derived)
    }

    /// Builds the experiment of an image model on given training images (tests, or images loaded
    /// elsewhere); `config.data` must be an image data set.
    pub fn from_images(
        config: ExperimentConfig,
        derived: Derived,
        images: ImageSet,
    ) -> Result<Self> {
        if !config.data.is_image() {
            return Err(Error::Invalid(format!(
                "{} is not an image data set",
                config.data
            )));
        }
        Self::build(config, derived, Some(images))
    }

    /// Builds the experiment of an already derived model (its source must be `config.model_source`).
    pub fn from_derived(config: ExperimentConfig, derived: Derived) -> Result<Self> {
        if config.train_size == 0 {
            return Err(Error::Invalid("the training set must not be empty".into()));
        }
        let images = match config.data.image_kind() {
            None => None,
            Some(kind) => {
                let all = ImageSet::load(kind, Split::Train).map_err(mnist_err)?;
                Some(if config.train_size >= all.len() {
                    all
                } else {
                    all.random_subset(config.train_size, config.data_seed)
                        .map_err(mnist_err)?
                })
            }
        };
        Self::build(config, derived, images)
    }

    fn build(config: ExperimentConfig, derived: Derived, images: Option<ImageSet>) -> Result<Self> {
        if config.train_size == 0 {
            return Err(Error::Invalid("the training set must not be empty".into()));
        }
        let encoding = derived.constants.encoding;
        let physics = Interpreted::new(derived)?;
        if let Some(images) = images {
            return Self::build_images(config, physics, encoding, images);
        }
        let dataset = match config.data {
            DataSet::Checkerboard => Dataset::checkerboard(config.train_size, config.data_seed),
            DataSet::Mnist | DataSet::FashionMnist => {
                return Err(Error::Invalid(format!(
                    "{} needs training images",
                    config.data
                )))
            }
        };
        let (mean, std) = dataset.scalar_mean_std()?;
        let scaling = DataScaling::new(mean, std)?;
        let (codec, kind): (Box<dyn Codec>, StateKind) = match encoding {
            Encoding::Propagator => {
                if config.modes < 2 || config.channels == 0 {
                    return Err(Error::Invalid(format!(
                        "point-source encoding needs ≥ 2 modes per axis and ≥ 1 channel (got {} modes, {} channels)",
                        config.modes, config.channels
                    )));
                }
                let point_config = PointSourceConfig {
                    modes: config.modes,
                    channels: config.channels,
                    scaling,
                    ..PointSourceConfig::default()
                };
                let envelope = EnvelopeGrid::from_physics(&point_config.mode_grid()?, &physics)?;
                let kind = StateKind::Spectral {
                    channels: 2 * config.channels,
                    modes: config.modes,
                };
                (
                    Box::new(PointSourceCodec::new(point_config, envelope)?),
                    kind,
                )
            }
            Encoding::None => (
                Box::new(RawPointCodec::new(scaling)),
                StateKind::Points { dim: 2 },
            ),
        };
        let modes = codec.modes()?;
        let prior_k2 = codec.prior_k2();
        Ok(Self {
            config,
            physics,
            compiled: None,
            codec,
            modes,
            prior_k2,
            dataset,
            images: None,
            kind,
            image_reference: OnceLock::new(),
        })
    }

    /// Images: the image-as-source codec (envelopes of the model on the 28×28 pixel mode grid,
    /// PAPER.md §4.2) or, for `encoding none`, the plain orthonormal FFT without envelope (the
    /// "vanilla" baseline, §4.3); the IR prior's |k|² is the pixel grid's (Sobolev prior, §5.1).
    fn build_images(
        config: ExperimentConfig,
        physics: Interpreted,
        encoding: Encoding,
        images: ImageSet,
    ) -> Result<Self> {
        if images.is_empty() {
            return Err(Error::Invalid("the training set must not be empty".into()));
        }
        let (h, w) = (images.rows, images.cols);
        if h != w {
            return Err(Error::Invalid(format!(
                "image states need square images, got {h}×{w}"
            )));
        }
        // The paper's normalisation: scalar statistics of the first 1000 training images.
        let (mean, std) = normalisation_stats(&images, 1000).map_err(mnist_err)?;
        let scaling = DataScaling::new(mean, std)?;
        let codec = match encoding {
            Encoding::Propagator => {
                let grid = ImageSpectralCodec::mode_grid(h, w)?;
                let envelope = EnvelopeGrid::from_physics(&grid, &physics)?;
                ImageSpectralCodec::new(h, w, envelope, scaling)?
            }
            Encoding::None => ImageSpectralCodec::plain(h, w, scaling)?,
        };
        let modes = codec.modes()?;
        let prior_k2 = codec.prior_k2();
        Ok(Self {
            config,
            physics,
            compiled: None,
            codec: Box::new(codec),
            modes,
            prior_k2,
            dataset: Dataset {
                points: Vec::new(),
                seed: 0,
            },
            images: Some(images),
            kind: StateKind::Spectral {
                channels: 2,
                modes: h,
            },
            image_reference: OnceLock::new(),
        })
    }

    /// Size of the training set (points or images).
    pub fn train_len(&self) -> usize {
        match &self.images {
            Some(images) => images.len(),
            None => self.dataset.len(),
        }
    }

    /// Sets the image evaluation reference (tests; otherwise it is loaded on first use).
    pub fn set_image_reference(&self, reference: ImageReference) -> Result<()> {
        self.image_reference
            .set(reference)
            .map_err(|_| Error::Invalid("the image reference is already set".into()))
    }

    /// The image evaluation reference, loaded (and the classifier trained, with a message on
    /// stderr) on first use.
    pub fn image_reference(&self) -> Result<&ImageReference> {
        if let Some(r) = self.image_reference.get() {
            return Ok(r);
        }
        let kind = self.config.data.image_kind().ok_or_else(|| {
            Error::Invalid(format!("{} has no image reference", self.config.data))
        })?;
        let loaded = ImageReference::load(kind, &mut |m| eprintln!("{m}"))?;
        Ok(self.image_reference.get_or_init(|| loaded))
    }

    /// Replaces the interpreter by a compiled model's physics in every training and sampling
    /// step. Errors unless the compiled model has this experiment's derived signature.
    pub fn with_compiled(mut self, physics: Box<dyn Physics>) -> Result<Self> {
        let expected = &self.physics.constants().signature;
        let got = &physics.constants().signature;
        if got != expected {
            return Err(Error::Invalid(format!(
                "the compiled model has signature {got}, the experiment's model {expected}"
            )));
        }
        self.compiled = Some(physics);
        Ok(self)
    }

    /// The physics of the training and sampling steps: the compiled model's when one was given,
    /// else the interpreter.
    pub fn flow_physics(&self) -> &dyn Physics {
        match &self.compiled {
            Some(p) => p.as_ref(),
            None => &self.physics,
        }
    }

    /// The derived model.
    pub fn derived(&self) -> &Derived {
        self.physics.derived()
    }

    /// What the trainer needs to know about the model (CPU device).
    pub fn model_spec(&self) -> ModelSpec {
        ModelSpec {
            kind: self.kind,
            hermite: self.physics.constants().path != PathKind::Linear,
            signature: self.physics.constants().signature.clone(),
            device: Device::Cpu,
        }
    }

    /// The training points as fractions of the point-source box (for
    /// [`crate::train::Trainer::init_from_data`]); `None` for other codecs and for images.
    pub fn box_fractions(&self) -> Option<Vec<[f64; 2]>> {
        if self.images.is_some() {
            return None;
        }
        self.codec.box_fractions(&self.dataset.points)
    }

    /// Draws `batch` states from the IR prior.
    pub fn prior(&self, rng: &mut ChaCha8Rng, batch: usize) -> Result<State> {
        sample_prior(
            rng,
            &self.physics.constants().prior,
            &self.codec.state_shape(batch),
            self.prior_k2.as_deref(),
        )
    }

    /// Draws `batch` training points (uniformly, with replacement) and lifts them into the bulk
    /// with the model's lift noise.
    pub fn data_batch(&self, rng: &mut ChaCha8Rng, batch: usize) -> Result<State> {
        if let Some(images) = &self.images {
            let n = images.len();
            let idx: Vec<usize> = (0..batch).map(|_| rng.random_range(0..n)).collect();
            let images = images.image_batch(&idx).map_err(mnist_err)?;
            let sigma = self.physics.constants().lift_noise;
            return self
                .codec
                .encode(&DataBatch::Images(images), Some((rng, sigma)));
        }
        let n = self.dataset.len();
        let points: Vec<[f64; 2]> = (0..batch)
            .map(|_| self.dataset.points[rng.random_range(0..n)])
            .collect();
        let sigma = self.physics.constants().lift_noise;
        self.codec
            .encode(&DataBatch::Points(points), Some((rng, sigma)))
    }

    /// The flow-matching objective of this experiment.
    pub fn objective(&self) -> FlowObjective<'_> {
        FlowObjective {
            physics: self.flow_physics(),
            modes: &self.modes,
            data: Box::new(move |rng, b| self.data_batch(rng, b)),
            prior: Box::new(move |rng, b| self.prior(rng, b)),
        }
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
        let mut prior = |rng: &mut ChaCha8Rng, b: usize| self.prior(rng, b);
        sample_each(
            &mut prior,
            |s: &State, t: f64| flow_velocity(self.flow_physics(), net, &self.modes, s, t),
            n,
            batch,
            solver,
            rng,
            |s: State| on_batch(self.codec.decode(&s.phi)?),
        )
    }

    /// Samples `n` points from a trained network: S₀ from the prior, integrated by `solver`, read
    /// out by the codec. Returns the points and the number of velocity evaluations.
    pub fn sample_points(
        &self,
        net: &dyn VelocityNet,
        n: usize,
        batch: usize,
        solver: &Solver,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Vec<[f64; 2]>, usize)> {
        let mut points = Vec::with_capacity(n);
        let nfe = self.sample_decoded(net, n, batch, solver, rng, |decoded| match decoded {
            DataBatch::Points(p) => {
                points.extend(p);
                Ok(())
            }
            DataBatch::Images(_) => Err(Error::Invalid(
                "the codec decoded images, expected points".into(),
            )),
        })?;
        Ok((points, nfe))
    }

    /// Samples `n` images (flat, `n·h·w` pixels, not clamped) from a trained network. Returns the
    /// pixels and the number of velocity evaluations.
    pub fn sample_images(
        &self,
        net: &dyn VelocityNet,
        n: usize,
        batch: usize,
        solver: &Solver,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Vec<f32>, usize)> {
        let mut pixels = Vec::new();
        let nfe = self.sample_decoded(net, n, batch, solver, rng, |decoded| match decoded {
            DataBatch::Images(i) => {
                pixels.extend(i.pixels);
                Ok(())
            }
            DataBatch::Points(_) => Err(Error::Invalid(
                "the codec decoded points, expected images".into(),
            )),
        })?;
        Ok((pixels, nfe))
    }

    /// Image side length (28 for MNIST), or None for point data.
    pub fn image_size(&self) -> Option<(usize, usize)> {
        self.images.as_ref().map(|i| (i.rows, i.cols))
    }

    /// Samples `n` images and scores them with the metric classifier against the test split,
    /// beside the real-vs-real reference (PAPER.md §7.2; the classifier is loaded, or trained on
    /// first use, from the data directory unless set by [`Self::set_image_reference`]).
    pub fn evaluate_images(
        &self,
        net: &dyn VelocityNet,
        n: usize,
        solver: &Solver,
        seed: u64,
    ) -> Result<ImageEvaluation> {
        let reference = self.image_reference()?;
        let mut rng = crate::rng::seeded(seed);
        let (pixels, nfe) = self.sample_images(net, n, IMAGE_SAMPLE_BATCH, solver, &mut rng)?;
        let report = reference.report(&pixels, seed)?;
        let mut metrics = quality_metrics(&report);
        metrics.insert("nfe".into(), nfe as f64);
        Ok(ImageEvaluation {
            metrics,
            report,
            pixels,
        })
    }

    /// The real reference set of the metrics: the first `n` training points (as in the paper).
    pub fn reference_points(&self, n: usize) -> &[[f64; 2]] {
        self.dataset.head(n.min(self.dataset.len()))
    }

    /// Samples `n` points and scores them against the first `n` training points
    /// (PAPER.md §7.1). Returns the named metrics (bv, js_cell, wed, wed_norm, cqs, sw2, nfe).
    pub fn evaluate(
        &self,
        net: &dyn VelocityNet,
        n: usize,
        solver: &Solver,
        seed: u64,
    ) -> Result<Evaluation> {
        if self.images.is_some() {
            let e = self.evaluate_images(net, n, solver, seed)?;
            return Ok(Evaluation {
                metrics: e.metrics,
                points: Vec::new(),
            });
        }
        let mut rng = crate::rng::seeded(seed);
        let (points, nfe) = self.sample_points(net, n, 2000, solver, &mut rng)?;
        let metrics = score_points(self.reference_points(n), &points)?;
        let mut metrics = metrics;
        metrics.insert("nfe".into(), nfe as f64);
        Ok(Evaluation { metrics, points })
    }

    /// Bits per mode of the first `n` images of `images` (e.g. the test split) under the flow,
    /// PAPER.md §7.2: each image is encoded with the model's lift noise (as the paper does), the
    /// augmented ODE runs backward from t = 1 to 0 with the flow's full velocity (backbone plus the
    /// network, differentiable in the state) and `cfg`'s divergence estimate, and
    /// log p = log μ_IR(S₀) − ∫ ∇·v dt ([`crate::mnist::bpm`]). D = the real components of φ̃
    /// (2·H·W). Batches of at most `batch` images.
    pub fn bits_per_mode(
        &self,
        net: &dyn VelocityNet,
        images: &ImageSet,
        n: usize,
        batch: usize,
        cfg: &crate::mnist::bpm::LikelihoodConfig,
    ) -> Result<BitsPerMode> {
        use crate::mnist::bpm::{gaussian_log_density, join_state, log_likelihood, split_state};
        if self.images.is_none() {
            return Err(Error::Invalid(
                "bits per mode is defined for image runs".into(),
            ));
        }
        if n == 0 || batch == 0 || n > images.len() {
            return Err(Error::Invalid(format!(
                "bits per mode needs 1 ≤ n ≤ {} images and a positive batch, got n = {n}, batch = {batch}",
                images.len()
            )));
        }
        let constants = self.physics.constants();
        let shape = self.codec.state_shape(1);
        let k2 = self.prior_k2.as_deref().ok_or_else(|| {
            Error::Invalid("the image codec has no |k|² grid for the prior".into())
        })?;
        let channels = shape[1];
        let hw = shape[2] * shape[3];
        if k2.len() != hw {
            return Err(Error::Invalid(format!(
                "|k|² grid has {} modes, the state {hw}",
                k2.len()
            )));
        }
        // Per-sample variances of the joined state (φ̃ channels, then π̃ channels).
        let mut variances = Vec::with_capacity(2 * channels * hw);
        for comp in [&constants.prior.phi, &constants.prior.pi] {
            for _ in 0..channels {
                variances.extend(k2.iter().map(|&k| crate::prior::prior_variance(comp, k)));
            }
        }
        let log_prior = |x: &candle_core::Tensor| -> crate::mnist::Result<Vec<f64>> {
            gaussian_log_density(x, &variances)
        };
        let to_candle = |e: Error| candle_core::Error::Msg(e.to_string());
        // The sampler's velocity, kept differentiable: the residual stays attached and the
        // backbone comes from candle ops (`full_velocity_t`), not the fused kernels.
        let field = |x: &candle_core::Tensor, t: f64| -> candle_core::Result<candle_core::Tensor> {
            let state = split_state(x).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
            let times = vec![t; state.phi.dims().first().copied().unwrap_or(0)];
            let out = crate::sample::network_residual(
                self.flow_physics(),
                net,
                &self.modes,
                &state,
                &times,
            )
            .map_err(to_candle)?;
            let v = crate::backbone::full_velocity_t(
                self.flow_physics(),
                &state,
                &times,
                &out,
                &self.modes,
            )
            .map_err(to_candle)?;
            join_state(&v).map_err(|e| candle_core::Error::Msg(e.to_string()))
        };
        let mut rng = crate::rng::seeded(cfg.seed);
        let mut per_image = Vec::with_capacity(n);
        let modes = channels * hw;
        let mut start = 0;
        while start < n {
            let idx: Vec<usize> = (start..(start + batch).min(n)).collect();
            let batch_images = images.image_batch(&idx).map_err(mnist_err)?;
            let state = self.codec.encode(
                &DataBatch::Images(batch_images),
                Some((&mut rng, constants.lift_noise)),
            )?;
            let x1 = join_state(&state).map_err(mnist_err)?;
            let step_cfg = crate::mnist::bpm::LikelihoodConfig {
                seed: cfg.seed.wrapping_add(start as u64),
                ..*cfg
            };
            let log_p = log_likelihood(&field, &x1, &log_prior, &step_cfg).map_err(mnist_err)?;
            per_image.extend(
                log_p
                    .iter()
                    .map(|lp| -lp / (modes as f64 * std::f64::consts::LN_2)),
            );
            start += idx.len();
        }
        if per_image.iter().any(|v| !v.is_finite()) {
            return Err(Error::Invalid(
                "bits per mode is not finite (the flow diverged on the test images)".into(),
            ));
        }
        let mean = per_image.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            per_image.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Ok(BitsPerMode {
            mean,
            standard_error: (var / n as f64).sqrt(),
            per_image,
            modes,
        })
    }
}

/// The result of [`Experiment::bits_per_mode`].
#[derive(Debug, Clone)]
pub struct BitsPerMode {
    /// Mean over the images.
    pub mean: f64,
    /// Standard error of the mean (Hutchinson noise and image-to-image spread together).
    pub standard_error: f64,
    /// One value per image.
    pub per_image: Vec<f64>,
    /// D, the real components of φ̃ each value is divided by.
    pub modes: usize,
}

/// The result of [`Experiment::evaluate`].
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Named metrics (checkerboard: bv, js_cell, wed, wed_norm, cqs, sw2, nfe; images: see
    /// [`quality_metrics`]).
    pub metrics: BTreeMap<String, f64>,
    /// The generated points that were scored (empty for images).
    pub points: Vec<[f64; 2]>,
}

/// The result of [`Experiment::evaluate_images`].
#[derive(Debug, Clone)]
pub struct ImageEvaluation {
    /// Named metrics ([`quality_metrics`] and nfe).
    pub metrics: BTreeMap<String, f64>,
    /// The scores beside the real-vs-real reference.
    pub report: QualityReport,
    /// The generated images, flat (`n·h·w`), not clamped.
    pub pixels: Vec<f32>,
}

/// The image scores as a name → value map: fid, fid_se (bootstrap standard error), kid, kid_std, precision, recall, min_class,
/// class0..class9 of the generated images and ref_fid, ref_fid_se, ref_kid, ref_precision, ref_recall of the
/// real-vs-real reference.
pub fn quality_metrics(report: &QualityReport) -> BTreeMap<String, f64> {
    let g = &report.generated;
    let r = &report.reference;
    let mut m = BTreeMap::from([
        ("fid".to_string(), g.fid),
        ("fid_se".to_string(), g.fid_se),
        ("kid".to_string(), g.kid),
        ("kid_std".to_string(), g.kid_std),
        ("precision".to_string(), g.precision),
        ("recall".to_string(), g.recall),
        ("min_class".to_string(), g.min_class_fraction()),
        ("ref_fid".to_string(), r.fid),
        ("ref_fid_se".to_string(), r.fid_se),
        ("ref_kid".to_string(), r.kid),
        ("ref_precision".to_string(), r.precision),
        ("ref_recall".to_string(), r.recall),
    ]);
    for (c, f) in g.class_fractions.iter().enumerate() {
        m.insert(format!("class{c}"), *f);
    }
    m
}

/// The checkerboard metrics of `generated` against `real`, as a name → value map, with the
/// nearest-neighbour spacing ratio `nn_ratio` of their first 2,000 points (and `nn_median`).
pub fn score_points(real: &[[f64; 2]], generated: &[[f64; 2]]) -> Result<BTreeMap<String, f64>> {
    let m = checkerboard_metrics(real, generated, &MetricOptions::default())?;
    let mut metrics = BTreeMap::from([
        ("bv".to_string(), m.bv),
        ("js_cell".to_string(), m.js_cell),
        ("wed".to_string(), m.wed),
        ("wed_norm".to_string(), m.wed_norm),
        ("cqs".to_string(), m.cqs),
        ("sw2".to_string(), m.sw2),
    ]);
    if let Some((median, ratio)) = crate::metrics::nearest_neighbour_ratio(real, generated)? {
        metrics.insert("nn_median".to_string(), median);
        metrics.insert("nn_ratio".to_string(), ratio);
    }
    Ok(metrics)
}
