//! Point experiments: a model on the 2-D checkerboard, scored by the metrics of PAPER.md §7.1.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use genads_dsl::derived::Encoding;
use genads_dsl::Derived;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{derive, EvalDefaults, Evaluation, Experiment, ExperimentConfig, Wiring};
use crate::data::Dataset;
use crate::encode::{DataBatch, DataScaling, PointSourceCodec, PointSourceConfig, RawPointCodec};
use crate::envelope::EnvelopeGrid;
use crate::interpreter::Interpreted;
use crate::metrics::{checkerboard_metrics, MetricOptions};
use crate::nn::{Preset, StateKind, VelocityNet};
use crate::solver::Solver;
use crate::train::TrainConfig;
use crate::{Error, Result, State};

/// Points integrated together by [`Experiment::evaluate`].
const EVAL_SAMPLE_BATCH: usize = 2000;

/// A model wired to a point data set (the checkerboard).
pub struct PointExperiment {
    wiring: Wiring,
    /// The training set.
    pub dataset: Dataset,
}

impl PointExperiment {
    /// Compiles the model source and builds the experiment on the configured training set.
    pub fn new(config: ExperimentConfig) -> Result<Self> {
        let derived = derive(&config)?;
        Self::from_derived(config, derived)
    }

    /// Builds the experiment of an already derived model (its source must be
    /// `config.model_source`); `config.data` must be a point data set.
    pub fn from_derived(config: ExperimentConfig, derived: Derived) -> Result<Self> {
        if config.data.is_image() {
            return Err(Error::Invalid(format!(
                "{} is not a point data set",
                config.data
            )));
        }
        if config.train_size == 0 {
            return Err(Error::Invalid("the training set must not be empty".into()));
        }
        let encoding = derived.constants.encoding;
        let physics = Interpreted::new(derived)?;
        let dataset = Dataset::checkerboard(config.train_size, config.data_seed);
        let (mean, std) = dataset.scalar_mean_std()?;
        let scaling = DataScaling::new(mean, std)?;
        let (codec, kind): (Box<dyn crate::encode::Codec>, StateKind) = match encoding {
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
        Ok(Self {
            wiring: Wiring::new(config, physics, codec, kind)?,
            dataset,
        })
    }

    /// The real reference set of the metrics: the first `n` training points (as in the paper).
    pub fn reference_points(&self, n: usize) -> &[[f64; 2]] {
        self.dataset.head(n.min(self.dataset.len()))
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
        let nfe =
            self.wiring
                .sample_decoded(net, n, batch, solver, rng, |decoded| match decoded {
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
}

impl Experiment for PointExperiment {
    fn wiring(&self) -> &Wiring {
        &self.wiring
    }

    fn wiring_mut(&mut self) -> &mut Wiring {
        &mut self.wiring
    }

    fn train_len(&self) -> usize {
        self.dataset.len()
    }

    fn data_batch(&self, rng: &mut ChaCha8Rng, batch: usize) -> Result<State> {
        let n = self.dataset.len();
        let points: Vec<[f64; 2]> = (0..batch)
            .map(|_| self.dataset.points[rng.random_range(0..n)])
            .collect();
        self.wiring.lift(&DataBatch::Points(points), rng)
    }

    fn train_config(&self, preset: Preset, backbone: bool) -> TrainConfig {
        TrainConfig::resolve(preset, self.wiring.kind, false, backbone)
    }

    fn eval_defaults(&self) -> EvalDefaults {
        EvalDefaults::POINTS
    }

    /// Samples `n` points and scores them against the first `n` training points
    /// (PAPER.md §7.1): bv, js_cell, wed, wed_norm, cqs, sw2, nn_median, nn_ratio and nfe.
    fn evaluate(
        &self,
        net: &dyn VelocityNet,
        n: usize,
        solver: &Solver,
        seed: u64,
    ) -> Result<Evaluation> {
        let mut rng = crate::rng::seeded(seed);
        let (points, nfe) = self.sample_points(net, n, EVAL_SAMPLE_BATCH, solver, &mut rng)?;
        let mut metrics = score_points(self.reference_points(n), &points)?;
        metrics.insert("nfe".into(), nfe as f64);
        Ok(Evaluation {
            metrics,
            points,
            pixels: Vec::new(),
            report: None,
        })
    }

    fn scored_against(&self, n: usize) -> Result<String> {
        Ok(format!(
            "the first {} training points",
            self.reference_points(n).len()
        ))
    }

    fn curve_metrics(&self) -> &'static [&'static str] {
        &["metrics.bv", "metrics.js_cell", "metrics.wed_norm"]
    }

    fn write_samples(&self, evaluation: &Evaluation, path: &Path) -> Result<()> {
        crate::plot::samples_over_checkerboard(
            &evaluation.points,
            &format!("{}: samples", self.derived().constants.name),
            path,
        )
    }

    /// Writes the points as CSV (`x,y` per line) or, for a `.png` file, as a scatter over the
    /// true cells.
    fn sample_to_file(
        &self,
        net: &dyn VelocityNet,
        n: usize,
        batch: usize,
        solver: &Solver,
        rng: &mut ChaCha8Rng,
        out: &Path,
    ) -> Result<usize> {
        let (points, nfe) = self.sample_points(net, n, batch, solver, rng)?;
        if out.extension().and_then(|e| e.to_str()) == Some("png") {
            let title = format!(
                "{}: {} samples",
                self.derived().constants.name,
                points.len()
            );
            crate::plot::samples_over_checkerboard(&points, &title, out).map_err(|e| {
                Error::Write {
                    path: out.display().to_string(),
                    source: Box::new(e),
                }
            })?;
        } else {
            let mut text = String::from("x,y\n");
            for p in &points {
                // Writing to a String cannot fail.
                let _ = writeln!(text, "{},{}", p[0], p[1]);
            }
            write_atomic(out, text.as_bytes())?;
        }
        Ok(nfe)
    }

    fn box_fractions(&self) -> Option<Vec<[f64; 2]>> {
        self.wiring.codec.box_fractions(&self.dataset.points)
    }

    fn as_points(&self) -> Option<&PointExperiment> {
        Some(self)
    }
}

/// Writes `contents` to `path` atomically (temporary file + rename).
fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let failed = |path: &Path| {
        let path = path.display().to_string();
        move |e: std::io::Error| Error::Write {
            path,
            source: Box::new(e),
        }
    };
    std::fs::write(&tmp, contents).map_err(failed(&tmp))?;
    std::fs::rename(&tmp, path).map_err(failed(path))
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
