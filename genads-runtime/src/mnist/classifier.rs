//! The metric feature network: a small LeNet-style CNN trained by the project with a fixed seed on
//! the training split (InceptionV3 weights cannot be had here). Its 128-d penultimate activations
//! feed FID, KID and precision/recall; its arg-max gives the class histogram of samples.
//!
//! conv5×5(1 → 32) → ReLU → max-pool 2 → conv5×5(32 → 64) → ReLU → max-pool 2 → flatten(1024)
//! → Linear(1024 → 128) → ReLU (= features) → Linear(128 → 10). Inputs are images in [−1, 1].

use super::dataset::ImageSet;
use super::features::Features;
use super::fetch::DatasetKind;
use super::{io_err, MnistError, Result};
use crate::nn::conv::Conv2d;
use crate::nn::layers::{conv2d, linear};
use crate::nn::{init_seeded, parameter_count};
use crate::rng::seeded;
use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{AdamW, Linear, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use rand::seq::SliceRandom;
use std::path::{Path, PathBuf};

/// Dimension of the feature vectors.
pub const FEATURE_DIM: usize = 128;

/// Training settings of the classifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifierTraining {
    /// Seed of the initialisation and the shuffling.
    pub seed: u64,
    /// Passes over the training images.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Adam learning rate (halved each epoch).
    pub lr: f64,
}

impl Default for ClassifierTraining {
    /// The settings of the saved classifier: seed 0, 3 epochs, batch 64, lr 1e-3.
    fn default() -> Self {
        Self {
            seed: 0,
            epochs: 3,
            batch_size: 64,
            lr: 1e-3,
        }
    }
}

/// The classifier and its variables.
pub struct Classifier {
    varmap: VarMap,
    conv1: Conv2d,
    conv2: Conv2d,
    fc1: Linear,
    fc2: Linear,
    device: Device,
}

impl Classifier {
    /// A freshly initialised classifier (PyTorch-default init from `seed`).
    pub fn new(seed: u64, device: &Device) -> Result<Self> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let c = Self {
            conv1: conv2d(vb.pp("conv1"), 1, 32, 5, 1, 0)?,
            conv2: conv2d(vb.pp("conv2"), 32, 64, 5, 1, 0)?,
            fc1: linear(vb.pp("fc1"), 1024, FEATURE_DIM)?,
            fc2: linear(vb.pp("fc2"), FEATURE_DIM, 10)?,
            varmap,
            device: device.clone(),
        };
        init_seeded(&c.varmap, seed)?;
        Ok(c)
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> usize {
        parameter_count(&self.varmap)
    }

    /// The variables (for saving or inspection).
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// Features (B, 128) and logits (B, 10) of images (B, 1, 28, 28).
    pub fn forward(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = self.conv1.forward(x)?.relu()?.max_pool2d(2)?;
        let x = self.conv2.forward(&x)?.relu()?.max_pool2d(2)?;
        let f = self.fc1.forward(&x.flatten_from(1)?)?.relu()?;
        let logits = self.fc2.forward(&f)?;
        Ok((f, logits))
    }

    /// Trains on `set` (labels 0..10), calling `log` once per epoch with progress.
    pub fn train(
        &mut self,
        set: &ImageSet,
        cfg: &ClassifierTraining,
        log: &mut dyn FnMut(&str),
    ) -> Result<()> {
        if cfg.batch_size == 0 || set.len() < cfg.batch_size || set.dim() != 784 {
            return Err(MnistError::Invalid(format!(
                "classifier training needs ≥ {} images of 28×28, got {} of {} pixels",
                cfg.batch_size.max(1),
                set.len(),
                set.dim()
            )));
        }
        let params = ParamsAdamW {
            lr: cfg.lr,
            weight_decay: 0.0,
            ..Default::default()
        };
        let mut opt = AdamW::new(self.varmap.all_vars(), params)?;
        let mut rng = seeded(cfg.seed ^ 0x5eed_c1a5);
        let mut order: Vec<usize> = (0..set.len()).collect();
        for epoch in 0..cfg.epochs {
            opt.set_learning_rate(cfg.lr * 0.5f64.powi(epoch as i32));
            order.shuffle(&mut rng);
            let mut total = 0.0f64;
            let steps = set.len() / cfg.batch_size;
            for b in 0..steps {
                let idx = &order[b * cfg.batch_size..(b + 1) * cfg.batch_size];
                let (x, y) = set.gather(idx, &self.device)?;
                let (_, logits) = self.forward(&x)?;
                let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
                opt.backward_step(&loss)?;
                total += loss.to_scalar::<f32>()? as f64;
            }
            log(&format!(
                "classifier epoch {}/{}: mean loss {:.4}",
                epoch + 1,
                cfg.epochs,
                total / steps.max(1) as f64
            ));
        }
        Ok(())
    }

    /// Features (f64, n × 128) and predicted classes of flat images in [−1, 1] (`n·784` values).
    pub fn features_of(&self, pixels: &[f32]) -> Result<(Features, Vec<u8>)> {
        if pixels.is_empty() || !pixels.len().is_multiple_of(784) {
            return Err(MnistError::Invalid(format!(
                "{} values are not a whole number of 28×28 images",
                pixels.len()
            )));
        }
        let n = pixels.len() / 784;
        let mut feats = Vec::with_capacity(n * FEATURE_DIM);
        let mut preds = Vec::with_capacity(n);
        for start in (0..n).step_by(500) {
            let m = 500.min(n - start);
            let x = Tensor::from_slice(
                &pixels[start * 784..(start + m) * 784],
                (m, 1, 28, 28),
                &self.device,
            )?;
            let (f, logits) = self.forward(&x)?;
            feats.extend(f.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?);
            preds.extend(
                logits
                    .argmax(D::Minus1)?
                    .to_vec1::<u32>()?
                    .into_iter()
                    .map(|p| p as u8),
            );
        }
        Ok((Features::from_row_major(n, FEATURE_DIM, &feats)?, preds))
    }

    /// Fraction of `set` classified correctly.
    pub fn accuracy(&self, set: &ImageSet) -> Result<f64> {
        let (_, preds) = self.features_of(&set.pixels)?;
        let ok = preds
            .iter()
            .zip(&set.labels)
            .filter(|(p, l)| p == l)
            .count();
        Ok(ok as f64 / set.len().max(1) as f64)
    }

    /// Saves the weights (safetensors).
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        }
        Ok(self.varmap.save(path)?)
    }

    /// Loads weights saved by [`Classifier::save`]; a file of another architecture is an error.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let mut c = Self::new(0, device)?;
        c.varmap.load(path).map_err(|e| {
            MnistError::Invalid(format!(
                "{} is not a valid classifier checkpoint ({e}); delete it and rerun \
                 `genads data classifier`",
                path.display()
            ))
        })?;
        Ok(c)
    }
}

/// Where the saved classifier of a data set lives: `<data dir>/<kind>/classifier-seed<seed>.safetensors`.
pub fn classifier_path(kind: DatasetKind, seed: u64) -> PathBuf {
    kind.dir()
        .join(format!("classifier-seed{seed}.safetensors"))
}

/// Loads the saved classifier, or trains it (with a message through `log`), checks its test
/// accuracy, saves it and returns it with that accuracy.
pub fn load_or_train(
    kind: DatasetKind,
    cfg: &ClassifierTraining,
    log: &mut dyn FnMut(&str),
) -> Result<(Classifier, f64)> {
    use super::dataset::Split;
    let path = classifier_path(kind, cfg.seed);
    let test = ImageSet::load(kind, Split::Test)?;
    if path.is_file() {
        let c = Classifier::load(&path, &Device::Cpu)?;
        let acc = c.accuracy(&test)?;
        return Ok((c, acc));
    }
    log(&format!(
        "training the metric classifier for {} (seed {}, {} epochs; once, a few minutes on a CPU)",
        kind.name(),
        cfg.seed,
        cfg.epochs
    ));
    let train = ImageSet::load(kind, Split::Train)?;
    let mut c = Classifier::new(cfg.seed, &Device::Cpu)?;
    c.train(&train, cfg, log)?;
    let acc = c.accuracy(&test)?;
    log(&format!("classifier test accuracy {:.2}%", 100.0 * acc));
    c.save(&path)?;
    log(&format!("saved {}", path.display()));
    Ok((c, acc))
}
