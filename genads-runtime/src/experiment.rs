//! An experiment: one model on one data set, wired end to end — the interpreted physics, the
//! codec (encoding of data into the bulk and the readout), the IR prior, the training objective,
//! sampling and evaluation. The CLI's `train`, `sample` and `eval` and the studies all go through
//! here, so every model is trained, sampled and scored the same way.

use std::collections::BTreeMap;

use candle_core::Device;
use genads_dsl::derived::{Encoding, PathKind};
use genads_dsl::Derived;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::encode::{
    Codec, DataBatch, DataScaling, PointSourceCodec, PointSourceConfig, RawPointCodec,
};
use crate::envelope::EnvelopeGrid;
use crate::interpreter::Interpreted;
use crate::metrics::{checkerboard_metrics, MetricOptions};
use crate::nn::{StateKind, VelocityNet};
use crate::prior::sample_prior;
use crate::sample::{flow_velocity, sample_each};
use crate::solver::Solver;
use crate::train::{FlowObjective, ModelSpec};
use crate::{Error, Modes, Physics, Result, State};

/// The data sets an experiment can train on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSet {
    /// The paper's 2-D checkerboard (8 valid cells of [−4, 4]²).
    Checkerboard,
}

impl std::str::FromStr for DataSet {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "checkerboard" => Ok(DataSet::Checkerboard),
            other => Err(format!(
                "unknown data set `{other}` (available: checkerboard)"
            )),
        }
    }
}

impl std::fmt::Display for DataSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DataSet::Checkerboard => "checkerboard",
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
    /// Training-set size (paper: 50,000 points).
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
}

/// A model wired to its data: physics, codec, prior and data set.
pub struct Experiment {
    /// The configuration it was built from.
    pub config: ExperimentConfig,
    /// The interpreted physics of the model.
    pub physics: Interpreted,
    /// Encoder/decoder between data and bulk states.
    pub codec: Box<dyn Codec>,
    /// |k|² of the state's modes.
    pub modes: Modes,
    /// |k|² per mode for a Sobolev prior (None for point states).
    prior_k2: Option<Vec<f64>>,
    /// The training set.
    pub dataset: Dataset,
    /// Shape of the states the network sees.
    pub kind: StateKind,
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

    /// Builds the experiment of an already derived model (its source must be `config.model_source`).
    pub fn from_derived(config: ExperimentConfig, derived: Derived) -> Result<Self> {
        if config.train_size == 0 {
            return Err(Error::Invalid("the training set must not be empty".into()));
        }
        let encoding = derived.encoding;
        let physics = Interpreted::new(derived)?;
        let dataset = match config.data {
            DataSet::Checkerboard => Dataset::checkerboard(config.train_size, config.data_seed),
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
            codec,
            modes,
            prior_k2,
            dataset,
            kind,
        })
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
            physics: &self.physics,
            modes: &self.modes,
            data: Box::new(move |rng, b| self.data_batch(rng, b)),
            prior: Box::new(move |rng, b| self.prior(rng, b)),
        }
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
        let mut prior = |rng: &mut ChaCha8Rng, b: usize| self.prior(rng, b);
        let nfe = sample_each(
            &mut prior,
            |s: &State, t: f64| flow_velocity(&self.physics, net, &self.modes, s, t),
            n,
            batch,
            solver,
            rng,
            |s: State| {
                match self.codec.decode(&s.phi)? {
                    DataBatch::Points(p) => points.extend(p),
                    DataBatch::Images(_) => {
                        return Err(Error::Invalid(
                            "the codec decoded images, expected points".into(),
                        ))
                    }
                }
                Ok(())
            },
        )?;
        Ok((points, nfe))
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
        let mut rng = crate::rng::seeded(seed);
        let (points, nfe) = self.sample_points(net, n, 2000, solver, &mut rng)?;
        let metrics = score_points(self.reference_points(n), &points)?;
        let mut metrics = metrics;
        metrics.insert("nfe".into(), nfe as f64);
        Ok(Evaluation { metrics, points })
    }
}

/// The result of [`Experiment::evaluate`].
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Named metrics (bv, js_cell, wed, wed_norm, cqs, sw2, nfe).
    pub metrics: BTreeMap<String, f64>,
    /// The generated points that were scored.
    pub points: Vec<[f64; 2]>,
}

/// The checkerboard metrics of `generated` against `real`, as a name → value map.
pub fn score_points(real: &[[f64; 2]], generated: &[[f64; 2]]) -> Result<BTreeMap<String, f64>> {
    let m = checkerboard_metrics(real, generated, &MetricOptions::default())?;
    Ok(BTreeMap::from([
        ("bv".to_string(), m.bv),
        ("js_cell".to_string(), m.js_cell),
        ("wed".to_string(), m.wed),
        ("wed_norm".to_string(), m.wed_norm),
        ("cqs".to_string(), m.cqs),
        ("sw2".to_string(), m.sw2),
    ]))
}
