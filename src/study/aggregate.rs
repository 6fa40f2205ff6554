//! Aggregation of finished cells: mean ± standard error over seeds of the final metrics, training
//! time, steps/epochs/wall-clock to the quality thresholds, seed-averaged curves, the metrics of
//! every model at a common step and a common time, and the two-standard-error comparison rule
//! every verdict uses.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::cells::{cell_state, CellState};
use super::spec::Study;

/// Final metrics reported (checkerboard, then image metrics, each beside its real-vs-real
/// reference), in table order.
pub const FINAL_METRICS: [&str; 17] = [
    "bv",
    "js_cell",
    "wed_norm",
    "cqs",
    "nn_ratio",
    "sw2",
    "fid",
    "fid_se",
    "ref_fid",
    "kid",
    "ref_kid",
    "precision",
    "ref_precision",
    "recall",
    "ref_recall",
    "min_class",
    "bpm",
];

/// One evaluation line of a cell's metrics.jsonl.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    /// Optimiser step.
    pub step: u64,
    /// Epoch.
    pub epoch: u64,
    /// Training wall-clock seconds at that step.
    pub wall_s: f64,
    /// Metrics (non-finite values absent).
    pub metrics: BTreeMap<String, f64>,
}

/// A finished cell's results.
#[derive(Debug, Clone)]
pub struct CellResult {
    /// Member index in the study.
    pub member: usize,
    /// Seed.
    pub seed: u64,
    /// eval.json (final evaluation).
    pub eval: BTreeMap<String, f64>,
    /// metrics.jsonl, in file order.
    pub curve: Vec<CurvePoint>,
    /// The velocity network's kind (`train.net.kind` of run.json: mixture, source, mlp, cnn,
    /// unet), when the run record says.
    pub network: Option<String>,
    /// How the runner ran it (cell.json; empty for cells run elsewhere).
    pub ran: Vec<super::cells::HowItRan>,
}

impl CellResult {
    /// Training seconds (the last evaluation line's wall-clock).
    pub fn wall_s(&self) -> Option<f64> {
        self.curve.last().map(|p| p.wall_s)
    }

    /// Steps trained (the last evaluation line's step).
    pub fn steps(&self) -> Option<u64> {
        self.curve.last().map(|p| p.step)
    }

    /// The first evaluation at which `metric ≤ value`.
    pub fn first_reaching(&self, metric: &str, value: f64) -> Option<&CurvePoint> {
        self.curve
            .iter()
            .find(|p| p.metrics.get(metric).is_some_and(|m| *m <= value))
    }
}

/// Parses metrics.jsonl text (blank lines skipped; an unreadable line is an error naming it).
pub fn parse_metrics_jsonl(text: &str) -> Result<Vec<CurvePoint>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: not JSON: {e}", n + 1))?;
        let step = v["step"]
            .as_u64()
            .ok_or_else(|| format!("line {}: no step", n + 1))?;
        let metrics = v["metrics"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, x)| {
                        x.as_f64().filter(|x| x.is_finite()).map(|x| (k.clone(), x))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(CurvePoint {
            step,
            epoch: v["epoch"].as_u64().unwrap_or(0),
            wall_s: v["wall_s"].as_f64().unwrap_or(f64::NAN),
            metrics,
        });
    }
    Ok(out)
}

/// Reads one cell directory's eval.json and metrics.jsonl.
pub fn read_cell(dir: &Path, member: usize, seed: u64) -> Result<CellResult, String> {
    let eval_path = dir.join("eval.json");
    let text = std::fs::read_to_string(&eval_path)
        .map_err(|e| format!("cannot read {}: {e}", eval_path.display()))?;
    let raw: BTreeMap<String, Value> = serde_json::from_str(&text)
        .map_err(|e| format!("{} is damaged: {e}", eval_path.display()))?;
    let eval = raw
        .into_iter()
        .filter_map(|(k, v)| v.as_f64().filter(|x| x.is_finite()).map(|x| (k, x)))
        .collect();
    let log_path = dir.join("metrics.jsonl");
    let curve = match std::fs::read_to_string(&log_path) {
        Ok(t) => parse_metrics_jsonl(&t).map_err(|e| format!("{}: {e}", log_path.display()))?,
        Err(_) => Vec::new(),
    };
    let network = crate::run::read_record(dir)
        .ok()
        .map(|r| r.train.net.kind_name().to_string());
    Ok(CellResult {
        member,
        seed,
        eval,
        curve,
        network,
        ran: super::cells::how_it_ran(dir),
    })
}

/// Mean, sample standard deviation (n − 1; `None` for a single value) and standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n ≥ 2).
    pub std: Option<f64>,
    /// Number of values.
    pub n: usize,
}

impl Stat {
    /// Statistics of `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Stat> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = (n >= 2).then(|| {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        });
        Some(Stat { mean, std, n })
    }

    /// Standard error of the mean, std/√n (`None` for a single value).
    pub fn se(&self) -> Option<f64> {
        self.std.map(|s| s / (self.n as f64).sqrt())
    }

    /// `mean ± standard error` (just the mean for one value), with `digits` decimals.
    pub fn show(&self, digits: usize) -> String {
        match self.se() {
            Some(se) => format!("{:.digits$} ± {:.digits$}", self.mean, se),
            None => format!("{:.digits$}", self.mean),
        }
    }
}

/// The outcome of comparing two models on a lower-is-better metric by [`compare_lower`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The first is lower by more than twice the difference's standard error.
    Holds,
    /// The first is higher by more than twice the difference's standard error.
    Refuted,
    /// The difference is within twice its standard error, or a side has one seed (no error).
    NotResolved,
}

impl Verdict {
    /// "holds", "refuted" or "not resolved at this budget".
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Refuted => "refuted",
            Verdict::NotResolved => "not resolved at this budget",
        }
    }
}

/// The rule every verdict uses, stated in the reports beside them.
pub const VERDICT_RULE: &str = "a claim \"A is lower than B\" holds when B − A exceeds twice its standard error √(se_A² + se_B²) (standard errors of the means over seeds, each seed's value the mean over its sampling draws), is refuted when A − B exceeds it, and is not resolved at this budget otherwise (or when a side has one seed)";

/// Whether `a` is lower than `b` by [`VERDICT_RULE`].
pub fn compare_lower(a: &Stat, b: &Stat) -> Verdict {
    let (Some(sa), Some(sb)) = (a.se(), b.se()) else {
        return Verdict::NotResolved;
    };
    let margin = 2.0 * (sa * sa + sb * sb).sqrt();
    let d = b.mean - a.mean;
    if d > margin {
        Verdict::Holds
    } else if -d > margin {
        Verdict::Refuted
    } else {
        Verdict::NotResolved
    }
}

/// The training steps at which every finished cell of `members` evaluated `metric`, ascending.
pub fn common_steps(cells: &[CellResult], members: &[usize], metric: &str) -> Vec<u64> {
    let mine: Vec<&CellResult> = cells
        .iter()
        .filter(|c| members.contains(&c.member))
        .collect();
    let Some(first) = mine.first() else {
        return Vec::new();
    };
    let mut steps: Vec<u64> = first
        .curve
        .iter()
        .map(|p| p.step)
        .filter(|s| {
            mine.iter().all(|c| {
                c.curve
                    .iter()
                    .any(|p| p.step == *s && p.metrics.contains_key(metric))
            })
        })
        .collect();
    steps.sort_unstable();
    steps.dedup();
    steps
}

/// `metric` of every member in `members` at the evaluation of `step` (metrics.jsonl), statistics
/// over the seeds that evaluated it.
pub fn at_step(
    cells: &[CellResult],
    members: &[usize],
    metric: &str,
    step: u64,
) -> Vec<Option<Stat>> {
    members
        .iter()
        .map(|m| {
            let v: Vec<f64> = cells
                .iter()
                .filter(|c| c.member == *m)
                .filter_map(|c| c.curve.iter().find(|p| p.step == step))
                .filter_map(|p| p.metrics.get(metric).copied())
                .collect();
            Stat::of(&v)
        })
        .collect()
}

/// `metric` of every member in `members` at the last training step all their finished cells
/// evaluated (metrics.jsonl): the equal-step comparison of a wall-clock budget. `None` when the
/// cells share no evaluation step.
pub fn at_common_step(
    cells: &[CellResult],
    members: &[usize],
    metric: &str,
) -> Option<(u64, Vec<Option<Stat>>)> {
    let step = *common_steps(cells, members, metric).last()?;
    Some((step, at_step(cells, members, metric, step)))
}

/// One member's reading at a common time: the metric's statistics over seeds, and those of the
/// steps the seeds had trained by then.
pub type TimedReading = (Option<Stat>, Option<Stat>);

/// `metric` of every member in `members` at one training time all their finished cells reached
/// (the shortest cell's last evaluation), each cell read at its last evaluation not later: the
/// equal-time comparison of a step budget. Returns that time and, per member, the statistics of
/// the metric and of the steps the cells had trained by then.
pub fn at_common_time(
    cells: &[CellResult],
    members: &[usize],
    metric: &str,
) -> Option<(f64, Vec<TimedReading>)> {
    let mine: Vec<&CellResult> = cells
        .iter()
        .filter(|c| members.contains(&c.member))
        .collect();
    let time = mine
        .iter()
        .map(|c| c.wall_s().unwrap_or(f64::NAN))
        .min_by(|a, b| a.total_cmp(b))?;
    if !time.is_finite() {
        return None;
    }
    let stats = members
        .iter()
        .map(|m| {
            let points: Vec<&CurvePoint> = mine
                .iter()
                .filter(|c| c.member == *m)
                .filter_map(|c| {
                    c.curve
                        .iter()
                        .rfind(|p| p.wall_s <= time && p.metrics.contains_key(metric))
                })
                .collect();
            let v: Vec<f64> = points.iter().map(|p| p.metrics[metric]).collect();
            let steps: Vec<f64> = points.iter().map(|p| p.step as f64).collect();
            (Stat::of(&v), Stat::of(&steps))
        })
        .collect();
    Some((time, stats))
}

/// Threshold results of one model: per threshold, (seeds reaching, steps, epochs, seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdStat {
    /// Metric name.
    pub metric: String,
    /// Threshold value (reached when metric ≤ value).
    pub value: f64,
    /// Seeds that reached it.
    pub reached: usize,
    /// Seeds in total.
    pub seeds: usize,
    /// Steps to the threshold over the seeds that reached it.
    pub steps: Option<Stat>,
    /// Epochs to the threshold.
    pub epochs: Option<Stat>,
    /// Training seconds to the threshold.
    pub wall_s: Option<Stat>,
}

/// One model's summary over its finished seeds.
#[derive(Debug, Clone)]
pub struct ModelSummary {
    /// Member name.
    pub name: String,
    /// Seeds finished.
    pub seeds: Vec<u64>,
    /// Final metrics (eval.json) → statistics.
    pub finals: BTreeMap<String, Stat>,
    /// Training seconds.
    pub wall_s: Option<Stat>,
    /// Steps trained.
    pub steps: Option<Stat>,
    /// Threshold statistics, in the study's threshold order.
    pub thresholds: Vec<ThresholdStat>,
    /// Seed-averaged curve: (step, mean wall-clock, metric → mean), steps every seed evaluated.
    pub curve: Vec<(u64, f64, BTreeMap<String, f64>)>,
}

impl ModelSummary {
    /// Mean of a final metric.
    pub fn final_mean(&self, metric: &str) -> Option<f64> {
        self.finals.get(metric).map(|s| s.mean)
    }

    /// Mean of a metric at the evaluation of `step` (seed-averaged curve).
    pub fn at_step(&self, step: u64, metric: &str) -> Option<f64> {
        self.curve
            .iter()
            .find(|(s, _, _)| *s == step)
            .and_then(|(_, _, m)| m.get(metric).copied())
    }
}

/// A study's finished cells, aggregated.
#[derive(Debug, Clone)]
pub struct Collected {
    /// Per member with at least one finished cell, in study order.
    pub models: Vec<ModelSummary>,
    /// Finished cells.
    pub cells: Vec<CellResult>,
    /// Cells not finished (label, reason).
    pub missing: Vec<(String, String)>,
}

/// Reads every finished cell of `study` under `out` and aggregates them.
pub fn collect(study: &Study, out: &Path) -> Collected {
    let mut cells = Vec::new();
    let mut missing = Vec::new();
    for cell in &study.cells {
        let label = study.cell_label(cell);
        match cell_state(study, cell, out) {
            CellState::Finished => {
                match read_cell(&out.join(&cell.rel_dir), cell.member, cell.seed) {
                    Ok(r) => cells.push(r),
                    Err(e) => missing.push((label, e)),
                }
            }
            CellState::Resumable => missing.push((label, "interrupted (resumable)".into())),
            CellState::Fresh => missing.push((label, "not run".into())),
            CellState::Stale(why) => missing.push((label, format!("different run: {why}"))),
        }
    }
    let models = summarize(study, &cells);
    Collected {
        models,
        cells,
        missing,
    }
}

/// Aggregates cell results per member.
pub fn summarize(study: &Study, cells: &[CellResult]) -> Vec<ModelSummary> {
    let mut out = Vec::new();
    for (m, member) in study.members.iter().enumerate() {
        let mine: Vec<&CellResult> = cells.iter().filter(|c| c.member == m).collect();
        if mine.is_empty() {
            continue;
        }
        let mut finals = BTreeMap::new();
        for metric in FINAL_METRICS {
            let v: Vec<f64> = mine
                .iter()
                .filter_map(|c| c.eval.get(metric).copied())
                .collect();
            if let Some(s) = Stat::of(&v) {
                finals.insert(metric.to_string(), s);
            }
        }
        let wall: Vec<f64> = mine
            .iter()
            .filter_map(|c| c.wall_s())
            .filter(|x| x.is_finite())
            .collect();
        let steps: Vec<f64> = mine
            .iter()
            .filter_map(|c| c.steps())
            .map(|s| s as f64)
            .collect();
        let thresholds = study
            .thresholds
            .iter()
            .map(|(metric, &value)| {
                let hits: Vec<&super::aggregate::CurvePoint> = mine
                    .iter()
                    .filter_map(|c| c.first_reaching(metric, value))
                    .collect();
                let st = |f: &dyn Fn(&CurvePoint) -> f64| {
                    Stat::of(&hits.iter().map(|p| f(p)).collect::<Vec<_>>())
                };
                ThresholdStat {
                    metric: metric.clone(),
                    value,
                    reached: hits.len(),
                    seeds: mine.len(),
                    steps: st(&|p| p.step as f64),
                    epochs: st(&|p| p.epoch as f64),
                    wall_s: st(&|p| p.wall_s),
                }
            })
            .collect();
        // Seed-averaged curve over the steps every seed evaluated.
        let mut by_step: BTreeMap<u64, Vec<&CurvePoint>> = BTreeMap::new();
        for c in &mine {
            for p in &c.curve {
                by_step.entry(p.step).or_default().push(p);
            }
        }
        let curve = by_step
            .into_iter()
            .filter(|(_, ps)| ps.len() == mine.len())
            .map(|(step, ps)| {
                let n = ps.len() as f64;
                let wall = ps.iter().map(|p| p.wall_s).sum::<f64>() / n;
                let mut keys: Vec<&String> = ps.iter().flat_map(|p| p.metrics.keys()).collect();
                keys.sort();
                keys.dedup();
                let means = keys
                    .into_iter()
                    .filter(|k| ps.iter().all(|p| p.metrics.contains_key(*k)))
                    .map(|k| (k.clone(), ps.iter().map(|p| p.metrics[k]).sum::<f64>() / n))
                    .collect();
                (step, wall, means)
            })
            .collect();
        out.push(ModelSummary {
            name: member.name.clone(),
            seeds: mine.iter().map(|c| c.seed).collect(),
            finals,
            wall_s: Stat::of(&wall),
            steps: Stat::of(&steps),
            thresholds,
            curve,
        });
    }
    out
}

/// Display name of a metric in tables.
pub fn metric_title(metric: &str) -> &str {
    match metric {
        "bv" => "BV",
        "js_cell" => "JS_cell",
        "wed_norm" => "WED_norm",
        "cqs" => "CQS",
        "sw2" => "SW2",
        "fid" => "FID",
        "fid_se" => "FID bootstrap s.e.",
        "nn_ratio" => "nn_ratio",
        "kid" => "KID",
        "precision" => "precision",
        "recall" => "recall",
        "ref_fid" => "FID real",
        "ref_kid" => "KID real",
        "ref_precision" => "precision real",
        "ref_recall" => "recall real",
        "min_class" => "min class",
        "bpm" => "BPM",
        other => other,
    }
}

/// Final metrics that at least one model reports, in table order.
fn present_metrics(models: &[ModelSummary]) -> Vec<&'static str> {
    FINAL_METRICS
        .iter()
        .copied()
        .filter(|m| models.iter().any(|s| s.finals.contains_key(*m)))
        .collect()
}

fn show(s: Option<&Stat>, digits: usize) -> String {
    s.map(|s| s.show(digits)).unwrap_or_else(|| "–".into())
}

/// The markdown table of final metrics, time and thresholds (one row per model; mean ± standard
/// error over seeds).
pub fn markdown_table(models: &[ModelSummary]) -> String {
    let metrics = present_metrics(models);
    let mut head = vec!["model".to_string(), "seeds".to_string()];
    head.extend(metrics.iter().map(|m| metric_title(m).to_string()));
    head.extend(["train s".to_string(), "steps".to_string()]);
    if let Some(first) = models.first() {
        for t in &first.thresholds {
            let name = format!("{} ≤ {}", metric_title(&t.metric), t.value);
            head.push(format!("steps to {name}"));
            head.push(format!("epochs to {name}"));
            head.push(format!("s to {name}"));
        }
    }
    let mut s = String::new();
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
    for m in models {
        let mut row = vec![m.name.clone(), m.seeds.len().to_string()];
        row.extend(metrics.iter().map(|k| show(m.finals.get(*k), 4)));
        row.push(show(m.wall_s.as_ref(), 1));
        row.push(show(m.steps.as_ref(), 0));
        for t in &m.thresholds {
            let suffix = if t.reached < t.seeds {
                format!(" ({}/{} seeds reached)", t.reached, t.seeds)
            } else {
                String::new()
            };
            if t.reached == 0 {
                for _ in 0..3 {
                    row.push("not reached".into());
                }
            } else {
                row.push(format!("{}{suffix}", show(t.steps.as_ref(), 0)));
                row.push(format!("{}{suffix}", show(t.epochs.as_ref(), 1)));
                row.push(format!("{}{suffix}", show(t.wall_s.as_ref(), 1)));
            }
        }
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    s
}

/// The CSV table: one row per model, `<metric>_mean`, `<metric>_std`, `<metric>_se` columns
/// (std and se empty for a single seed; threshold columns empty when no seed reached it).
pub fn csv_table(models: &[ModelSummary]) -> String {
    let metrics = present_metrics(models);
    let mut head = vec!["model".to_string(), "seeds".to_string()];
    let mut names: Vec<String> = metrics.iter().map(|m| m.to_string()).collect();
    names.extend(["train_s".to_string(), "steps".to_string()]);
    if let Some(first) = models.first() {
        for t in &first.thresholds {
            let base = format!("{}_le_{}", t.metric, t.value);
            names.push(format!("steps_to_{base}"));
            names.push(format!("epochs_to_{base}"));
            names.push(format!("s_to_{base}"));
        }
    }
    for n in &names {
        head.push(format!("{n}_mean"));
        head.push(format!("{n}_std"));
        head.push(format!("{n}_se"));
    }
    if let Some(first) = models.first() {
        for t in &first.thresholds {
            head.push(format!("seeds_reaching_{}_le_{}", t.metric, t.value));
        }
    }
    let cell = |s: Option<&Stat>| match s {
        Some(s) => (
            format!("{}", s.mean),
            s.std.map(|x| format!("{x}")).unwrap_or_default(),
            s.se().map(|x| format!("{x}")).unwrap_or_default(),
        ),
        None => (String::new(), String::new(), String::new()),
    };
    let mut out = head.join(",") + "\n";
    for m in models {
        let mut stats: Vec<Option<&Stat>> = metrics.iter().map(|k| m.finals.get(*k)).collect();
        stats.push(m.wall_s.as_ref());
        stats.push(m.steps.as_ref());
        for t in &m.thresholds {
            stats.extend([t.steps.as_ref(), t.epochs.as_ref(), t.wall_s.as_ref()]);
        }
        let mut row = vec![m.name.clone(), m.seeds.len().to_string()];
        for s in stats {
            let (a, b, c) = cell(s);
            row.push(a);
            row.push(b);
            row.push(c);
        }
        row.extend(m.thresholds.iter().map(|t| t.reached.to_string()));
        out += &(row.join(",") + "\n");
    }
    out
}
