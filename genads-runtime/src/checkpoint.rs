//! Checkpoints: model and EMA weights and optimiser moments as safetensors, plus a JSON sidecar
//! (step, epoch, RNG state, the run's full configuration, the model's derived signature and the
//! SHA-256 of every tensor file).
//!
//! A checkpoint is the directory `<dir>/step-<8 digits>/` holding `model.safetensors`,
//! `ema.safetensors`, `optim.safetensors` and `checkpoint.json`. It is written into a hidden
//! staging directory, every file fsynced, then renamed into place (and the parent fsynced), so a
//! `step-*` directory is always complete. Loading verifies the hashes (truncation, flipped bytes),
//! the signature and every variable's name and shape, and reports problems as
//! [`CheckpointError`]s naming the file; nothing here panics on bad input.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::optim::AdamW;

/// Sidecar format version.
pub const FORMAT_VERSION: u32 = 1;
/// File names inside a checkpoint directory.
pub const MODEL_FILE: &str = "model.safetensors";
/// EMA weights.
pub const EMA_FILE: &str = "ema.safetensors";
/// Optimiser moments.
pub const OPTIM_FILE: &str = "optim.safetensors";
/// The JSON sidecar.
pub const META_FILE: &str = "checkpoint.json";

/// Errors of checkpoint I/O. Every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("checkpoint file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is damaged (truncated, bytes changed, unparsable).
    #[error("checkpoint file {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint belongs to a different model or run setup.
    #[error("checkpoint file {path} does not match this model: {reason}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// A tensor operation failed.
    #[error("checkpoint {path}: tensor error: {source}")]
    Tensor {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: candle_core::Error,
    },
}

/// Size and SHA-256 of one tensor file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Length in bytes.
    pub bytes: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

/// The JSON sidecar.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// [`FORMAT_VERSION`].
    pub format: u32,
    /// Optimiser steps completed.
    pub step: u64,
    /// Epoch (completed-steps / steps-per-epoch).
    pub epoch: u64,
    /// The run's RNG after `step` steps.
    pub rng: ChaCha8Rng,
    /// The model's derived signature.
    pub signature: String,
    /// The run's full configuration.
    pub config: serde_json::Value,
    /// Loss of the last step.
    pub last_loss: Option<f64>,
    /// Training seconds so far (summed over resumes).
    #[serde(default)]
    pub elapsed_s: f64,
    /// Digests of the tensor files, by file name.
    pub files: BTreeMap<String, FileDigest>,
}

/// What [`save`] writes.
pub struct CheckpointData<'a> {
    /// Model weights.
    pub model: &'a VarMap,
    /// EMA weights.
    pub ema: &'a VarMap,
    /// The optimiser (moments and step count).
    pub optimizer: &'a AdamW,
    /// Steps completed.
    pub step: u64,
    /// Epoch.
    pub epoch: u64,
    /// RNG state.
    pub rng: &'a ChaCha8Rng,
    /// Derived signature of the model.
    pub signature: &'a str,
    /// Full run configuration.
    pub config: serde_json::Value,
    /// Loss of the last step.
    pub last_loss: Option<f64>,
    /// Training seconds so far.
    pub elapsed_s: f64,
}

/// A checkpoint read back from disk, hashes verified.
pub struct Loaded {
    /// Its directory.
    pub dir: PathBuf,
    /// The sidecar.
    pub meta: CheckpointMeta,
    /// Model weights by name.
    pub model: HashMap<String, Tensor>,
    /// EMA weights by name.
    pub ema: HashMap<String, Tensor>,
    /// Optimiser moments by name.
    pub optim: HashMap<String, Tensor>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn tensor_err(path: &Path) -> impl FnOnce(candle_core::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Tensor {
        path: path.to_path_buf(),
        source,
    }
}

/// Name of the checkpoint directory of a step.
pub fn step_dir_name(step: u64) -> String {
    format!("step-{step:08}")
}

fn snapshot(map: &VarMap) -> HashMap<String, Tensor> {
    match map.data().lock() {
        Ok(d) => d
            .iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect(),
        Err(p) => p
            .into_inner()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn fsync_file(path: &Path) -> Result<(), CheckpointError> {
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(path))
}

fn fsync_dir(path: &Path) {
    // Directory fsync is not supported everywhere (e.g. Windows); it is best effort.
    if let Ok(f) = fs::File::open(path) {
        let _ = f.sync_all();
    }
}

fn write_tensors(
    path: &Path,
    tensors: &HashMap<String, Tensor>,
) -> Result<FileDigest, CheckpointError> {
    candle_core::safetensors::save(tensors, path).map_err(tensor_err(path))?;
    fsync_file(path)?;
    let bytes = fs::read(path).map_err(io(path))?;
    Ok(FileDigest {
        bytes: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
    })
}

/// Writes a checkpoint under `dir` (created if needed) and returns its directory. Keeps only the
/// `keep_last` most recent checkpoints (0 keeps all).
pub fn save(
    dir: &Path,
    data: &CheckpointData,
    keep_last: usize,
) -> Result<PathBuf, CheckpointError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let name = step_dir_name(data.step);
    let staging = dir.join(format!(".{name}.tmp"));
    let target = dir.join(&name);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    fs::create_dir_all(&staging).map_err(io(&staging))?;
    let (optim, _) = data.optimizer.state();
    let mut files = BTreeMap::new();
    for (file, tensors) in [
        (MODEL_FILE, snapshot(data.model)),
        (EMA_FILE, snapshot(data.ema)),
        (OPTIM_FILE, optim),
    ] {
        files.insert(
            file.to_string(),
            write_tensors(&staging.join(file), &tensors)?,
        );
    }
    let meta = CheckpointMeta {
        format: FORMAT_VERSION,
        step: data.step,
        epoch: data.epoch,
        rng: data.rng.clone(),
        signature: data.signature.to_string(),
        config: data.config.clone(),
        last_loss: data.last_loss.filter(|l| l.is_finite()),
        elapsed_s: data.elapsed_s,
        files,
    };
    let meta_path = staging.join(META_FILE);
    let json = serde_json::to_vec_pretty(&meta).map_err(|e| CheckpointError::Corrupt {
        path: meta_path.clone(),
        reason: format!("cannot serialise the sidecar: {e}"),
    })?;
    {
        let mut f = fs::File::create(&meta_path).map_err(io(&meta_path))?;
        f.write_all(&json).map_err(io(&meta_path))?;
        f.sync_all().map_err(io(&meta_path))?;
    }
    fsync_dir(&staging);
    if target.exists() {
        fs::remove_dir_all(&target).map_err(io(&target))?;
    }
    fs::rename(&staging, &target).map_err(io(&target))?;
    fsync_dir(dir);
    if keep_last > 0 {
        let mut all = list(dir)?;
        all.sort();
        let excess = all.len().saturating_sub(keep_last);
        for (_, old) in all.into_iter().take(excess) {
            if old != target {
                fs::remove_dir_all(&old).map_err(io(&old))?;
            }
        }
    }
    Ok(target)
}

/// All complete checkpoints under `dir` as (step, directory).
fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>, CheckpointError> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        let Some(step) = name
            .to_str()
            .and_then(|n| n.strip_prefix("step-"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        if entry.path().join(META_FILE).is_file() {
            out.push((step, entry.path()));
        }
    }
    Ok(out)
}

/// Every complete checkpoint directory under `dir`, the newest (highest step) first.
pub fn all_newest_first(dir: &Path) -> Result<Vec<PathBuf>, CheckpointError> {
    let mut all = list(dir)?;
    all.sort_by(|a, b| b.cmp(a));
    Ok(all.into_iter().map(|(_, p)| p).collect())
}

/// The most recent complete checkpoint under `dir`, if any.
pub fn latest(dir: &Path) -> Result<Option<PathBuf>, CheckpointError> {
    Ok(list(dir)?.into_iter().max().map(|(_, p)| p))
}

fn read_tensors(
    path: &Path,
    digest: Option<&FileDigest>,
    device: &Device,
) -> Result<HashMap<String, Tensor>, CheckpointError> {
    let bytes = fs::read(path).map_err(io(path))?;
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let digest = digest.ok_or_else(|| corrupt("the sidecar lists no digest for it".into()))?;
    if bytes.len() as u64 != digest.bytes {
        return Err(corrupt(format!(
            "{} bytes on disk, {} recorded (truncated?)",
            bytes.len(),
            digest.bytes
        )));
    }
    if sha256_hex(&bytes) != digest.sha256 {
        return Err(corrupt("SHA-256 differs from the recorded digest".into()));
    }
    candle_core::safetensors::load_buffer(&bytes, device)
        .map_err(|e| corrupt(format!("not a valid safetensors file: {e}")))
}

/// Reads and verifies the checkpoint in directory `dir`.
pub fn load(dir: &Path, device: &Device) -> Result<Loaded, CheckpointError> {
    let meta_path = dir.join(META_FILE);
    let bytes = fs::read(&meta_path).map_err(io(&meta_path))?;
    let meta: CheckpointMeta =
        serde_json::from_slice(&bytes).map_err(|e| CheckpointError::Corrupt {
            path: meta_path.clone(),
            reason: format!("invalid sidecar JSON: {e}"),
        })?;
    if meta.format != FORMAT_VERSION {
        return Err(CheckpointError::Mismatch {
            path: meta_path,
            reason: format!(
                "format version {} (this build reads {FORMAT_VERSION})",
                meta.format
            ),
        });
    }
    let model = read_tensors(&dir.join(MODEL_FILE), meta.files.get(MODEL_FILE), device)?;
    let ema = read_tensors(&dir.join(EMA_FILE), meta.files.get(EMA_FILE), device)?;
    let optim = read_tensors(&dir.join(OPTIM_FILE), meta.files.get(OPTIM_FILE), device)?;
    Ok(Loaded {
        dir: dir.to_path_buf(),
        meta,
        model,
        ema,
        optim,
    })
}

impl Loaded {
    /// Errors unless the checkpoint was written for a model of derived signature `signature`.
    pub fn check_signature(&self, signature: &str) -> Result<(), CheckpointError> {
        if self.meta.signature != signature {
            return Err(CheckpointError::Mismatch {
                path: self.dir.join(META_FILE),
                reason: format!(
                    "it was trained for model signature `{}`, this model is `{signature}`",
                    self.meta.signature
                ),
            });
        }
        Ok(())
    }

    /// Restores model weights, EMA weights and optimiser state (all or nothing per variable map:
    /// names and shapes are checked before anything is written).
    pub fn restore(
        &self,
        model: &VarMap,
        ema: &VarMap,
        optimizer: &mut AdamW,
    ) -> Result<(), CheckpointError> {
        let model_path = self.dir.join(MODEL_FILE);
        let ema_path = self.dir.join(EMA_FILE);
        check_vars(model, &self.model, &model_path)?;
        check_vars(ema, &self.ema, &ema_path)?;
        let optim_path = self.dir.join(OPTIM_FILE);
        optimizer
            .load_state(&self.optim, self.meta.step)
            .map_err(|reason| CheckpointError::Mismatch {
                path: optim_path,
                reason,
            })?;
        set_vars(model, &self.model, &model_path)?;
        set_vars(ema, &self.ema, &ema_path)
    }
}

/// Checks that `tensors` holds exactly the names and shapes of `map`.
pub fn check_vars(
    map: &VarMap,
    tensors: &HashMap<String, Tensor>,
    path: &Path,
) -> Result<(), CheckpointError> {
    let mismatch = |reason: String| CheckpointError::Mismatch {
        path: path.to_path_buf(),
        reason,
    };
    let data = map
        .data()
        .lock()
        .map_err(|_| mismatch("variable map lock poisoned".into()))?;
    for (name, var) in data.iter() {
        let t = tensors
            .get(name)
            .ok_or_else(|| mismatch(format!("variable `{name}` is missing")))?;
        if t.dims() != var.dims() {
            return Err(mismatch(format!(
                "variable `{name}` has shape {:?}, the model needs {:?}",
                t.dims(),
                var.dims()
            )));
        }
    }
    if let Some(extra) = tensors.keys().find(|k| !data.contains_key(*k)) {
        return Err(mismatch(format!("unknown variable `{extra}`")));
    }
    Ok(())
}

/// Copies `tensors` into the same-named variables of `map` (checked with [`check_vars`] first).
pub fn set_vars(
    map: &VarMap,
    tensors: &HashMap<String, Tensor>,
    path: &Path,
) -> Result<(), CheckpointError> {
    check_vars(map, tensors, path)?;
    let data = map.data().lock().map_err(|_| CheckpointError::Mismatch {
        path: path.to_path_buf(),
        reason: "variable map lock poisoned".into(),
    })?;
    for (name, var) in data.iter() {
        let t = &tensors[name];
        var.set(&t.to_dtype(var.dtype()).map_err(tensor_err(path))?)
            .map_err(tensor_err(path))?;
    }
    Ok(())
}

/// Loads only the EMA weights of the checkpoint in `dir` into `map` (for sampling/evaluation),
/// after checking the signature.
pub fn load_ema_into(
    dir: &Path,
    map: &VarMap,
    signature: &str,
    device: &Device,
) -> Result<CheckpointMeta, CheckpointError> {
    let loaded = load(dir, device)?;
    loaded.check_signature(signature)?;
    set_vars(map, &loaded.ema, &dir.join(EMA_FILE))?;
    Ok(loaded.meta)
}
