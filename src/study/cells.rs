//! Cell state (finished, resumable, fresh, stale) and the local runner (`--jobs N` cells at a
//! time, each a `genads train` child process).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use genads_runtime::train::Budget as RunBudget;

use super::spec::{Budget, Cell, Study};
use super::StudyError;
use crate::run::{read_record, RunRecord, RUN_RECORD, STUDY_CELL_RECORD};

/// Where a cell stands in an output directory.
#[derive(Debug, Clone, PartialEq)]
pub enum CellState {
    /// eval.json exists and run.json matches the cell: nothing to do.
    Finished,
    /// run.json matches and a checkpoint exists, but no eval.json: continue with `--resume`.
    Resumable,
    /// Nothing usable there (no run.json, or a matching run.json without any checkpoint).
    Fresh,
    /// The directory holds a different run (the study or the model changed): left alone.
    Stale(String),
}

/// Why a run record does not belong to a cell, or `None` when it does. Compared: the model's name
/// and source text, the data set, the seed, the preset, the budget and (when the study sets it)
/// the evaluation interval.
pub fn record_mismatch(study: &Study, cell: &Cell, record: &RunRecord) -> Option<String> {
    let member = &study.members[cell.member];
    let exp = &record.experiment;
    let train = &record.train;
    if exp.model_name != member.name {
        return Some(format!("it holds model {}", exp.model_name));
    }
    if exp.model_source != member.source {
        return Some(format!(
            "{} changed since the cell ran",
            member.file.display()
        ));
    }
    if exp.data != study.data {
        return Some(format!("it was trained on {}", exp.data));
    }
    if train.seed != cell.seed {
        return Some(format!("it has seed {}", train.seed));
    }
    if train.preset != study.preset {
        return Some(format!("it has preset {}", train.preset));
    }
    let same_budget = match (study.budget, train.budget) {
        (Budget::Steps(n), RunBudget::Steps(m)) => n == m,
        (Budget::Epochs(n), RunBudget::Epochs(m)) => n == m,
        (
            Budget::Time { seconds, max_steps },
            RunBudget::Time {
                seconds: s,
                max_steps: m,
            },
        ) => seconds == s && max_steps.is_none_or(|x| x == m),
        _ => false,
    };
    if !same_budget {
        return Some(format!("it has budget {:?}", train.budget));
    }
    if let Some(every) = study.eval.eval_every {
        if train.eval_every != every {
            return Some(format!("it evaluates every {} steps", train.eval_every));
        }
    }
    let repeats = record.eval.map_or(1, |e| e.final_repeats);
    if repeats != study.eval.repeats.unwrap_or(1) {
        return Some(format!("its final evaluation has {repeats} draw(s)"));
    }
    None
}

/// The state of `cell` under the output directory `out`.
pub fn cell_state(study: &Study, cell: &Cell, out: &Path) -> CellState {
    let dir = out.join(&cell.rel_dir);
    if !dir.join(RUN_RECORD).exists() {
        return CellState::Fresh;
    }
    let record = match read_record(&dir) {
        Ok(r) => r,
        Err(e) => return CellState::Stale(format!("its run.json is unreadable ({e:#})")),
    };
    if let Some(why) = record_mismatch(study, cell, &record) {
        return CellState::Stale(why);
    }
    if dir.join("eval.json").is_file() {
        return CellState::Finished;
    }
    match genads_runtime::checkpoint::latest(&dir.join("checkpoints")) {
        Ok(Some(_)) => CellState::Resumable,
        _ => CellState::Fresh,
    }
}

/// What a local run did.
#[derive(Debug, Default)]
pub struct RunSummary {
    /// Cells already finished (skipped).
    pub skipped: usize,
    /// Cells trained to the end by this run.
    pub ran: usize,
    /// Cells that failed or were not run, with the reason.
    pub failed: Vec<(String, String)>,
}

/// How a cell's training ran, written by the runner into `<cell>/cell.json` (one entry per start
/// or resume) and quoted by the report: a wall-clock budget means something only with the cores
/// it had.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HowItRan {
    /// Cells the runner ran at a time.
    pub jobs: usize,
    /// Threads of each cell (`RAYON_NUM_THREADS`).
    pub threads: usize,
    /// Cores of the machine (`std::thread::available_parallelism`).
    pub cores: usize,
}

/// The [`HowItRan`] entries of a cell directory (none when the cell was not run by the local
/// runner, e.g. on Slurm, or is unreadable).
pub fn how_it_ran(dir: &Path) -> Vec<HowItRan> {
    std::fs::read_to_string(dir.join(STUDY_CELL_RECORD))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// The machine's cores (1 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Refuses `jobs` cells of `study.threads` threads each beyond `cores` cores, unless the study
/// allows shared cores.
pub fn check_cores(study: &Study, jobs: usize, cores: usize) -> Result<(), StudyError> {
    if study.share_cores || jobs.max(1) * study.threads <= cores {
        return Ok(());
    }
    Err(StudyError::Invalid {
        file: study.path.clone(),
        key: "threads".into(),
        message: format!(
            "--jobs {jobs} × {} thread(s) per cell needs {} cores and this machine has {cores}: cells would share cores, and a shared core trains fewer steps in a wall-clock budget. Use --jobs {}, or set `share_cores = true` in the study file to accept it (the report then says so)",
            study.threads,
            jobs * study.threads,
            (cores / study.threads).max(1)
        ),
    })
}

/// Runs every unfinished cell of `study` into `out` with the `genads` executable `exe`, `jobs`
/// cells at a time (children get `RAYON_NUM_THREADS` = the study's `threads`; their output goes to
/// `<cell>/train.log`). Finished cells are skipped, interrupted ones resumed; a failing cell does
/// not stop the others. More jobs than the cores allow are refused ([`check_cores`]).
pub fn run_cells(
    study: &Study,
    exe: &Path,
    out: &Path,
    jobs: usize,
) -> Result<RunSummary, StudyError> {
    let how = HowItRan {
        jobs: jobs.max(1),
        threads: study.threads,
        cores: cores(),
    };
    check_cores(study, how.jobs, how.cores)?;
    std::fs::create_dir_all(out).map_err(|source| StudyError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let mut summary = RunSummary::default();
    let mut todo: Vec<(&Cell, bool)> = Vec::new();
    for cell in &study.cells {
        match cell_state(study, cell, out) {
            CellState::Finished => summary.skipped += 1,
            CellState::Resumable => todo.push((cell, true)),
            CellState::Fresh => todo.push((cell, false)),
            CellState::Stale(why) => summary.failed.push((
                study.cell_label(cell),
                format!(
                    "{} holds a different run: {why}; remove it or choose another --out",
                    out.join(&cell.rel_dir).display()
                ),
            )),
        }
    }
    println!(
        "study {}: {} cells, {} finished, {} to run ({} jobs) -> {}",
        study.name,
        study.cells.len(),
        summary.skipped,
        todo.len(),
        jobs.max(1),
        out.display()
    );
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(String, Result<(), String>)>> = Mutex::new(Vec::new());
    let total = todo.len();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(total.max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(cell, resume)) = todo.get(i) else {
                    break;
                };
                let label = study.cell_label(cell);
                println!(
                    "[{}/{}] {label}: {}",
                    i + 1,
                    total,
                    if resume { "resuming" } else { "training" }
                );
                let started = Instant::now();
                let result = run_one(study, cell, exe, out, resume, how);
                match &result {
                    Ok(()) => println!(
                        "[{}/{}] {label}: done in {:.0} s",
                        i + 1,
                        total,
                        started.elapsed().as_secs_f64()
                    ),
                    Err(e) => println!("[{}/{}] {label}: FAILED: {e}", i + 1, total),
                }
                if let Ok(mut r) = results.lock() {
                    r.push((label, result));
                }
            });
        }
    });
    for (label, result) in results.into_inner().unwrap_or_default() {
        match result {
            Ok(()) => summary.ran += 1,
            Err(e) => summary.failed.push((label, e)),
        }
    }
    Ok(summary)
}

/// Runs one cell to the end; the error says why it failed and where its log is.
fn run_one(
    study: &Study,
    cell: &Cell,
    exe: &Path,
    out: &Path,
    resume: bool,
    how: HowItRan,
) -> Result<(), String> {
    let dir = out.join(&cell.rel_dir);
    if !resume && dir.join("run.json").exists() {
        // A matching run.json without any checkpoint: the run died before its first
        // checkpoint. Nothing is lost by starting the cell again.
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut ran = how_it_ran(&dir);
    ran.push(how);
    let record = serde_json::to_string(&ran).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(STUDY_CELL_RECORD), record).map_err(|e| {
        format!(
            "cannot write {}: {e}",
            dir.join(STUDY_CELL_RECORD).display()
        )
    })?;
    let log_path: PathBuf = dir.join("train.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
    let log2 = log
        .try_clone()
        .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
    let member = &study.members[cell.member];
    let mut args = study.train_args(cell, &member.file, out);
    if resume {
        args.push("--resume".into());
    }
    let status = Command::new(exe)
        .args(&args)
        .env("RAYON_NUM_THREADS", study.threads.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        .status()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if !status.success() {
        return Err(format!(
            "`genads train` exited with {status}; see {}",
            log_path.display()
        ));
    }
    if !dir.join("eval.json").is_file() {
        return Err(format!(
            "`genads train` left no eval.json; see {}",
            log_path.display()
        ));
    }
    Ok(())
}
