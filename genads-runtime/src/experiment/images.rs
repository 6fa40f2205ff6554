//! Image experiments: a model on MNIST or Fashion-MNIST, scored by the metric classifier of
//! PAPER.md §7.2 (FID, KID, precision, recall, class balance) and by bits per mode.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use genads_dsl::derived::Encoding;
use genads_dsl::Derived;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{derive, mnist_err, EvalDefaults, Evaluation, Experiment, ExperimentConfig, Wiring};
use crate::encode::{DataBatch, DataScaling, ImageSpectralCodec};
use crate::envelope::EnvelopeGrid;
use crate::interpreter::Interpreted;
use crate::mnist::classifier::{load_or_train, Classifier, ClassifierTraining};
use crate::mnist::dataset::{normalisation_stats, ImageSet, Split};
use crate::mnist::features::Features;
use crate::mnist::fetch::DatasetKind;
use crate::mnist::quality::{score_against, Quality, QualityReport};
use crate::nn::{Preset, StateKind, VelocityNet};
use crate::solver::Solver;
use crate::train::TrainConfig;
use crate::{Error, Physics, Result, State};

/// Images integrated together when sampling (evaluation, `genads sample`): the U-Net's activations
/// of 128 images stay cache- and allocator-friendly; measured with `genads sample RUN --n 500
/// --solver euler --steps 6 --batch B` (one thread, quick preset, beside two training runs):
/// 2.8 ms per image and velocity evaluation at B = 128 and 32, 4.5 ms at B = 500.
pub const IMAGE_SAMPLE_BATCH: usize = 128;

/// Images shown in the samples.png grid of an evaluation.
const GRID_IMAGES: usize = 100;

/// A model wired to an image data set.
pub struct ImageExperiment {
    wiring: Wiring,
    /// The training images, pixels in [−1, 1].
    pub images: ImageSet,
    /// Classifier, test features and real-vs-real references of image evaluations (loaded once).
    image_reference: OnceLock<ImageReference>,
}

impl ImageExperiment {
    /// Compiles the model source and builds the experiment on the installed training split.
    pub fn new(config: ExperimentConfig) -> Result<Self> {
        let derived = derive(&config)?;
        Self::from_derived(config, derived)
    }

    /// Builds the experiment of an already derived model (its source must be
    /// `config.model_source`) on the installed training split: a seeded random subset of
    /// `config.train_size` images, or all of them when that is at least the split's size.
    pub fn from_derived(config: ExperimentConfig, derived: Derived) -> Result<Self> {
        if config.train_size == 0 {
            return Err(Error::Invalid("the training set must not be empty".into()));
        }
        let kind = image_kind(&config)?;
        let all = ImageSet::load(kind, Split::Train).map_err(mnist_err)?;
        let images = if config.train_size >= all.len() {
            all
        } else {
            all.random_subset(config.train_size, config.data_seed)
                .map_err(mnist_err)?
        };
        Self::from_images(config, derived, images)
    }

    /// Builds the experiment of an image model on given training images (tests, or images loaded
    /// elsewhere); `config.data` must be an image data set.
    ///
    /// The codec is the image-as-source codec (envelopes of the model on the pixel mode grid,
    /// PAPER.md §4.2) or, for `encoding none`, the plain orthonormal FFT without envelope (the
    /// "vanilla" baseline, §4.3); the IR prior's |k|² is the pixel grid's (Sobolev prior, §5.1).
    pub fn from_images(
        config: ExperimentConfig,
        derived: Derived,
        images: ImageSet,
    ) -> Result<Self> {
        image_kind(&config)?;
        if config.train_size == 0 {
            return Err(Error::Invalid("the training set must not be empty".into()));
        }
        let encoding = derived.constants.encoding;
        let physics = Interpreted::new(derived)?;
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
        let kind = StateKind::Spectral {
            channels: 2,
            modes: h,
        };
        Ok(Self {
            wiring: Wiring::new(config, physics, Box::new(codec), kind)?,
            images,
            image_reference: OnceLock::new(),
        })
    }

    /// Image side lengths (28 × 28 for MNIST).
    pub fn image_size(&self) -> (usize, usize) {
        (self.images.rows, self.images.cols)
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
        let kind = image_kind(&self.wiring.config)?;
        let loaded = ImageReference::load(kind, &mut |m| eprintln!("{m}"))?;
        Ok(self.image_reference.get_or_init(|| loaded))
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
        let nfe =
            self.wiring
                .sample_decoded(net, n, batch, solver, rng, |decoded| match decoded {
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

    /// Writes the first `max` images of `pixels` (flat, `n·h·w`) as a PNG grid (10 per row, 3×
    /// enlarged).
    pub fn write_grid(&self, pixels: &[f32], max: usize, path: &Path) -> Result<()> {
        let (h, w) = self.image_size();
        let n = (pixels.len() / (h * w)).min(max);
        crate::mnist::grid::write_png_grid(path, &pixels[..n * h * w], h, w, 10, 3).map_err(|e| {
            Error::Write {
                path: path.display().to_string(),
                source: Box::new(e),
            }
        })
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
        if n == 0 || batch == 0 || n > images.len() {
            return Err(Error::Invalid(format!(
                "bits per mode needs 1 ≤ n ≤ {} images and a positive batch, got n = {n}, batch = {batch}",
                images.len()
            )));
        }
        let constants = self.wiring.physics.constants();
        let shape = self.wiring.codec.state_shape(1);
        let k2 = self.wiring.prior_k2().ok_or_else(|| {
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
                &self.wiring.modes,
                &state,
                &times,
            )
            .map_err(to_candle)?;
            let v = crate::backbone::full_velocity_t(
                self.flow_physics(),
                &state,
                &times,
                &out,
                &self.wiring.modes,
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
            let state = self.wiring.codec.encode(
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

impl Experiment for ImageExperiment {
    fn wiring(&self) -> &Wiring {
        &self.wiring
    }

    fn wiring_mut(&mut self) -> &mut Wiring {
        &mut self.wiring
    }

    fn train_len(&self) -> usize {
        self.images.len()
    }

    fn data_batch(&self, rng: &mut ChaCha8Rng, batch: usize) -> Result<State> {
        let n = self.images.len();
        let idx: Vec<usize> = (0..batch).map(|_| rng.random_range(0..n)).collect();
        let images = self.images.image_batch(&idx).map_err(mnist_err)?;
        self.wiring.lift(&DataBatch::Images(images), rng)
    }

    fn train_config(&self, preset: Preset, backbone: bool) -> TrainConfig {
        TrainConfig::resolve(preset, self.wiring.kind, true, backbone)
    }

    fn eval_defaults(&self) -> EvalDefaults {
        EvalDefaults::IMAGES
    }

    /// [`ImageExperiment::evaluate_images`], with the report and pixels in the evaluation.
    fn evaluate(
        &self,
        net: &dyn VelocityNet,
        n: usize,
        solver: &Solver,
        seed: u64,
    ) -> Result<Evaluation> {
        let e = self.evaluate_images(net, n, solver, seed)?;
        Ok(Evaluation {
            metrics: e.metrics,
            points: Vec::new(),
            pixels: e.pixels,
            report: Some(e.report),
        })
    }

    fn scored_against(&self, n: usize) -> Result<String> {
        Ok(format!(
            "the {} test images; reference: the first {n} training images",
            self.image_reference()?.test.len()
        ))
    }

    fn curve_metrics(&self) -> &'static [&'static str] {
        &["metrics.fid", "metrics.ref_fid", "metrics.kid"]
    }

    fn write_samples(&self, evaluation: &Evaluation, path: &Path) -> Result<()> {
        self.write_grid(&evaluation.pixels, GRID_IMAGES, path)
    }

    /// Writes the images as a PNG grid (10 per row); at most [`IMAGE_SAMPLE_BATCH`] images are
    /// integrated together, whatever `batch` asks.
    fn sample_to_file(
        &self,
        net: &dyn VelocityNet,
        n: usize,
        batch: usize,
        solver: &Solver,
        rng: &mut ChaCha8Rng,
        out: &Path,
    ) -> Result<usize> {
        let (pixels, nfe) =
            self.sample_images(net, n, batch.min(IMAGE_SAMPLE_BATCH), solver, rng)?;
        self.write_grid(&pixels, n, out)?;
        Ok(nfe)
    }

    /// The grid of the evaluation's first 100 samples.
    fn write_training_samples(&self, evaluation: &Evaluation, path: &Path) -> Result<()> {
        self.write_samples(evaluation, path)
    }

    fn summary_line(&self, metrics: &BTreeMap<String, f64>) -> Option<String> {
        let m = |k: &str| metrics.get(k).copied().unwrap_or(f64::NAN);
        Some(format!(
            "FID {:.3} (real {:.3})  KID {:.4}  precision {:.3}  recall {:.3}  min class {:.1}%",
            m("fid"),
            m("ref_fid"),
            m("kid"),
            m("precision"),
            m("recall"),
            100.0 * m("min_class")
        ))
    }

    fn prepare_evaluation(&self) -> Result<()> {
        self.image_reference().map(|_| ())
    }

    fn as_images(&self) -> Option<&ImageExperiment> {
        Some(self)
    }
}

/// The image data set of `config`, or an error for point data.
fn image_kind(config: &ExperimentConfig) -> Result<DatasetKind> {
    config
        .data
        .image_kind()
        .ok_or_else(|| Error::Invalid(format!("{} is not an image data set", config.data)))
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

/// The result of [`ImageExperiment::bits_per_mode`].
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

/// The result of [`ImageExperiment::evaluate_images`].
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
