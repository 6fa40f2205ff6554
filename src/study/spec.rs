//! Study files (TOML): parsing, validation and expansion into cells (model member × seed).

use genads_runtime::device::DeviceChoice;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::StudyError;

/// Metrics a threshold may name (all "lower is better").
pub const THRESHOLD_METRICS: [&str; 9] = [
    "bv", "js_cell", "wed_norm", "wed", "cqs", "sw2", "fid", "kid", "bpm",
];

/// A study file as written (unknown keys are rejected).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyFile {
    /// Name of the study (default output directory `runs/studies/<name>`).
    pub name: String,
    /// One paragraph saying what the study is for (copied into reports).
    #[serde(default)]
    pub description: Option<String>,
    /// Models: files, optionally one member of a file; a sweep file without `model` expands to all
    /// its members.
    pub models: Vec<ModelEntry>,
    /// Data set, passed to `genads train --data` (default `checkerboard`).
    #[serde(default = "default_data")]
    pub data: String,
    /// Network/training preset, passed to `genads train --preset` (default `quick`).
    #[serde(default = "default_preset")]
    pub preset: String,
    /// Training budget of every cell.
    pub budget: BudgetSpec,
    /// Seeds: every model is trained once per seed.
    pub seeds: Vec<u64>,
    /// Evaluation schedule (unset fields keep `genads train`'s defaults).
    #[serde(default)]
    pub eval: EvalSpec,
    /// Quality thresholds `metric = value` (reached when metric ≤ value) for the
    /// steps/epochs/wall-clock-to-threshold columns.
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// The sweep parameter whose value ends the member names (`delta` for `delta_sweep_delta1.5`):
    /// the report plots final metrics against it.
    #[serde(default)]
    pub sweep_param: Option<String>,
    /// Threads of each cell (`RAYON_NUM_THREADS` of its `genads train`; default 1).
    #[serde(default = "one_thread")]
    pub threads: usize,
    /// Allow `--jobs` × `threads` beyond the machine's cores (cells then share cores, which a
    /// wall-clock budget turns into fewer steps); default false: such a run is refused.
    #[serde(default)]
    pub share_cores: bool,
}

fn one_thread() -> usize {
    1
}

fn default_data() -> String {
    "checkerboard".into()
}

fn default_preset() -> String {
    "quick".into()
}

/// One `[[models]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// `.genads` file, relative to the study file's directory (or absolute).
    pub file: PathBuf,
    /// One member of the file (default: all members).
    #[serde(default)]
    pub model: Option<String>,
}

/// `[budget]`: exactly one of `steps`, `epochs`, `time` (`max_steps` only with `time`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// Optimiser steps.
    pub steps: Option<u64>,
    /// Epochs.
    pub epochs: Option<u64>,
    /// Training wall-clock time, e.g. "90s", "5m".
    pub time: Option<String>,
    /// Step cap and schedule length of a time budget.
    pub max_steps: Option<u64>,
}

/// `[eval]`: the evaluation schedule of every cell.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSpec {
    /// Evaluate every N steps (`genads train --eval-every`).
    pub eval_every: Option<u64>,
    /// Samples per evaluation during training.
    pub eval_samples: Option<usize>,
    /// Samples of the final evaluation.
    pub final_samples: Option<usize>,
    /// RK4 steps of every evaluation.
    pub eval_steps: Option<usize>,
    /// Independent sample sets of each cell's final evaluation (`genads train --final-repeats`):
    /// its metrics are the mean over the draws. Point data only.
    pub repeats: Option<usize>,
}

/// A validated training budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// Optimiser steps.
    Steps(u64),
    /// Epochs.
    Epochs(u64),
    /// Training seconds, with an optional step cap.
    Time {
        /// Seconds of training.
        seconds: f64,
        /// Step cap (default: the preset's).
        max_steps: Option<u64>,
    },
}

impl Budget {
    /// The `genads train` flags of the budget.
    pub fn flags(&self) -> Vec<String> {
        match *self {
            Budget::Steps(n) => vec!["--steps".into(), n.to_string()],
            Budget::Epochs(n) => vec!["--epochs".into(), n.to_string()],
            Budget::Time { seconds, max_steps } => {
                let mut v = vec!["--time".into(), format!("{seconds}s")];
                if let Some(m) = max_steps {
                    v.extend(["--max-steps".into(), m.to_string()]);
                }
                v
            }
        }
    }

    /// Human-readable budget, e.g. "1000 steps".
    pub fn describe(&self) -> String {
        match *self {
            Budget::Steps(n) => format!("{n} steps per cell"),
            Budget::Epochs(n) => format!("{n} epochs per cell"),
            Budget::Time { seconds, max_steps } => match max_steps {
                Some(m) => format!("{seconds} s of training per cell (at most {m} steps)"),
                None => format!("{seconds} s of training per cell"),
            },
        }
    }
}

/// One model member of a study.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The member's name (a sweep member: `delta_sweep_delta1.5`).
    pub name: String,
    /// The `.genads` file (as resolved from the study file's directory).
    pub file: PathBuf,
    /// The file's text (what run.json must record).
    pub source: String,
}

/// One cell: a model member trained with one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Index of the member in [`Study::members`].
    pub member: usize,
    /// The seed.
    pub seed: u64,
    /// Run directory of the cell, relative to the study's output directory.
    pub rel_dir: PathBuf,
}

/// A validated, expanded study.
#[derive(Debug, Clone)]
pub struct Study {
    /// The study file.
    pub path: PathBuf,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Data set.
    pub data: genads_runtime::experiment::DataSet,
    /// Preset.
    pub preset: genads_runtime::nn::Preset,
    /// Budget.
    pub budget: Budget,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Evaluation schedule.
    pub eval: EvalSpec,
    /// Thresholds (metric → value).
    pub thresholds: BTreeMap<String, f64>,
    /// Sweep parameter for the report's sweep plot.
    pub sweep_param: Option<String>,
    /// Threads per cell.
    pub threads: usize,
    /// Whether cells may share cores.
    pub share_cores: bool,
    /// Where the cells' networks run (`genads study --device`; not a key of the file).
    pub device: DeviceChoice,
    /// Model members, in file order.
    pub members: Vec<Member>,
    /// Cells: members × seeds, member-major.
    pub cells: Vec<Cell>,
}

/// Removes `.` and `a/..` components without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// True when `name` is safe as one path component (member names and the study name).
fn safe_component(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Study {
    /// Reads, validates and expands a study file. Model paths are resolved relative to the study
    /// file's directory; every model file is compiled to list its members.
    pub fn load(path: &Path) -> Result<Study, StudyError> {
        let text = std::fs::read_to_string(path).map_err(|source| StudyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Study::parse(&text, path)
    }

    /// [`Study::load`] on text already read (`path` names the file in errors and anchors the
    /// model paths).
    pub fn parse(text: &str, path: &Path) -> Result<Study, StudyError> {
        let file: StudyFile = toml::from_str(text).map_err(|e| StudyError::Parse {
            file: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let invalid = |key: &str, message: String| StudyError::Invalid {
            file: path.to_path_buf(),
            key: key.to_string(),
            message,
        };
        if !safe_component(&file.name) {
            return Err(invalid(
                "name",
                format!(
                    "`{}` must be a non-empty name of letters, digits, `_`, `-` or `.`",
                    file.name
                ),
            ));
        }
        let data: genads_runtime::experiment::DataSet =
            file.data.parse().map_err(|e| invalid("data", e))?;
        let preset: genads_runtime::nn::Preset =
            file.preset.parse().map_err(|e| invalid("preset", e))?;
        let budget = budget_of(&file.budget).map_err(|(key, m)| invalid(&key, m))?;
        if file.seeds.is_empty() {
            return Err(invalid("seeds", "needs at least one seed".into()));
        }
        let unique: BTreeSet<u64> = file.seeds.iter().copied().collect();
        if unique.len() != file.seeds.len() {
            return Err(invalid("seeds", "lists a seed twice".into()));
        }
        let e = &file.eval;
        if e.eval_samples == Some(0) || e.final_samples == Some(0) || e.eval_steps == Some(0) {
            return Err(invalid(
                "eval",
                "eval_samples, final_samples and eval_steps must be positive".into(),
            ));
        }
        if let Some(r) = e.repeats {
            if !(1..=1000).contains(&r) {
                return Err(invalid("eval.repeats", format!("{r}: between 1 and 1000")));
            }
            if r > 1 && data.is_image() {
                return Err(invalid(
                    "eval.repeats",
                    format!("{r}: repeated final draws are for point data; image cells report the FID with its bootstrap standard error"),
                ));
            }
        }
        if !(1..=256).contains(&file.threads) {
            return Err(invalid(
                "threads",
                format!("{}: between 1 and 256 threads per cell", file.threads),
            ));
        }
        for (metric, value) in &file.thresholds {
            if !THRESHOLD_METRICS.contains(&metric.as_str()) {
                return Err(invalid(
                    &format!("thresholds.{metric}"),
                    format!(
                        "unknown metric (thresholds take one of: {})",
                        THRESHOLD_METRICS.join(", ")
                    ),
                ));
            }
            if !value.is_finite() || *value < 0.0 {
                return Err(invalid(
                    &format!("thresholds.{metric}"),
                    format!("{value} is not a finite non-negative number"),
                ));
            }
        }
        if file.models.is_empty() {
            return Err(invalid(
                "models",
                "needs at least one [[models]] entry".into(),
            ));
        }
        let base = path.parent().unwrap_or(Path::new(""));
        let mut members: Vec<Member> = Vec::new();
        for (i, entry) in file.models.iter().enumerate() {
            let key = format!("models[{i}].file");
            let model_path = normalize(&base.join(&entry.file));
            let source = std::fs::read_to_string(&model_path).map_err(|err| {
                invalid(&key, format!("cannot read {}: {err}", model_path.display()))
            })?;
            let origin = model_path.display().to_string();
            let derived = genads_dsl::compile(&source, &origin)
                .map_err(|d| invalid(&key, format!("does not compile:\n{d}")))?;
            let names: Vec<String> = derived.into_iter().map(|d| d.constants.name).collect();
            let chosen: Vec<String> = match &entry.model {
                Some(m) if names.contains(m) => vec![m.clone()],
                Some(m) => {
                    return Err(invalid(
                        &format!("models[{i}].model"),
                        format!(
                            "{} has no model `{m}` (it has: {})",
                            model_path.display(),
                            names.join(", ")
                        ),
                    ))
                }
                None => names,
            };
            for name in chosen {
                if !safe_component(&name) {
                    return Err(invalid(
                        &key,
                        format!("model name `{name}` is not a safe directory name"),
                    ));
                }
                if members.iter().any(|m| m.name == name) {
                    return Err(invalid(
                        &key,
                        format!("model `{name}` appears twice in the study"),
                    ));
                }
                members.push(Member {
                    name,
                    file: model_path.clone(),
                    source: source.clone(),
                });
            }
        }
        let cells = members
            .iter()
            .enumerate()
            .flat_map(|(m, member)| {
                file.seeds.iter().map(move |&seed| Cell {
                    member: m,
                    seed,
                    rel_dir: Path::new("cells")
                        .join(&member.name)
                        .join(format!("seed{seed}")),
                })
            })
            .collect();
        Ok(Study {
            path: path.to_path_buf(),
            name: file.name,
            description: file.description,
            data,
            preset,
            budget,
            seeds: file.seeds,
            eval: file.eval,
            thresholds: file.thresholds,
            sweep_param: file.sweep_param,
            threads: file.threads,
            share_cores: file.share_cores,
            device: DeviceChoice::Cpu,
            members,
            cells,
        })
    }

    /// The `genads train` arguments of a cell (without the program name), writing into
    /// `out/<cell dir>`. `model file` and `--out` are given as `model_file` and `out` make them.
    pub fn train_args(&self, cell: &Cell, model_file: &Path, out: &Path) -> Vec<String> {
        let member = &self.members[cell.member];
        let mut args: Vec<String> = vec![
            "train".into(),
            model_file.display().to_string(),
            "--model".into(),
            member.name.clone(),
            "--data".into(),
            self.data.to_string(),
            "--preset".into(),
            self.preset.to_string(),
        ];
        args.extend(self.budget.flags());
        args.extend(["--seed".into(), cell.seed.to_string()]);
        if let Some(n) = self.eval.eval_every {
            args.extend(["--eval-every".into(), n.to_string()]);
        }
        if let Some(n) = self.eval.eval_samples {
            args.extend(["--eval-samples".into(), n.to_string()]);
        }
        if let Some(n) = self.eval.final_samples {
            args.extend(["--final-samples".into(), n.to_string()]);
        }
        if let Some(n) = self.eval.eval_steps {
            args.extend(["--eval-steps".into(), n.to_string()]);
        }
        if let Some(n) = self.eval.repeats {
            args.extend(["--final-repeats".into(), n.to_string()]);
        }
        if self.device != DeviceChoice::Cpu {
            args.extend(["--device".into(), self.device.to_string()]);
        }
        args.extend([
            "--out".into(),
            out.join(&cell.rel_dir).display().to_string(),
        ]);
        args
    }

    /// A cell's label, e.g. `ads_linear seed 2`.
    pub fn cell_label(&self, cell: &Cell) -> String {
        format!("{} seed {}", self.members[cell.member].name, cell.seed)
    }
}

/// Validates `[budget]`; errors carry the offending key.
fn budget_of(b: &BudgetSpec) -> Result<Budget, (String, String)> {
    let set = [b.steps.is_some(), b.epochs.is_some(), b.time.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if set != 1 {
        return Err((
            "budget".into(),
            "needs exactly one of steps, epochs or time".into(),
        ));
    }
    if b.max_steps.is_some() && b.time.is_none() {
        return Err((
            "budget.max_steps".into(),
            "only goes with budget.time".into(),
        ));
    }
    if b.max_steps == Some(0) {
        return Err(("budget.max_steps".into(), "must be positive".into()));
    }
    if let Some(n) = b.steps {
        if n == 0 {
            return Err(("budget.steps".into(), "must be positive".into()));
        }
        return Ok(Budget::Steps(n));
    }
    if let Some(n) = b.epochs {
        if n == 0 {
            return Err(("budget.epochs".into(), "must be positive".into()));
        }
        return Ok(Budget::Epochs(n));
    }
    let text = b.time.as_deref().unwrap_or_default();
    let d: Duration = humantime::parse_duration(text)
        .map_err(|e| ("budget.time".to_string(), format!("`{text}`: {e}")))?;
    if d.is_zero() {
        return Err(("budget.time".into(), "must be positive".into()));
    }
    Ok(Budget::Time {
        seconds: d.as_secs_f64(),
        max_steps: b.max_steps,
    })
}
