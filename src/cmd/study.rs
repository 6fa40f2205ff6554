//! `genads study`: run, resume, emit (Slurm) or collect ablation studies, and write reports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use genads::study::{self, slurm, Study};

/// Arguments of `genads study`.
#[derive(clap::Args)]
pub struct Args {
    /// Study files (TOML; see docs/studies.md). Several files need no --out: each study uses
    /// runs/studies/<name>.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Cells trained at the same time (each a `genads train` process with one thread).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Output directory of the study (default runs/studies/<name>, or <name>-<preset> with
    /// --preset).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override the study's preset (e.g. `paper` for the published configuration).
    #[arg(long)]
    pub preset: Option<genads_runtime::nn::Preset>,
    /// Where the cells' networks run: cpu (default), cuda or cuda:N (a build with
    /// `--features cuda`); passed to every cell's `genads train`.
    #[arg(long, default_value = "cpu")]
    pub device: genads_runtime::device::DeviceChoice,
    /// Do not train: aggregate the cells already finished in the output directory.
    #[arg(long, conflicts_with = "emit")]
    pub collect: bool,
    /// Do not train: write a job-array script (<out>/study.slurm) that runs one cell per task.
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
    /// Also write one report over all the given studies to this markdown file, with its plots in
    /// the directory of the same name without extension (e.g. docs/results.md, docs/results/).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// Scale-out script formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    /// A Slurm job array (`sbatch`).
    Slurm,
}

/// Run `genads study`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.out.is_some() && args.files.len() > 1 {
        bail!("--out takes one study file (with several, each study uses runs/studies/<name>)");
    }
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let mut entries: Vec<(Study, PathBuf, String)> = Vec::new();
    for file in &args.files {
        let mut st = Study::load(file)?;
        let mut out_default = st.name.clone();
        if let Some(p) = args.preset {
            if p != st.preset {
                out_default = format!("{}-{p}", st.name);
            }
            st.preset = p;
        }
        st.device = args.device;
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| Path::new("runs").join("studies").join(out_default));
        let mut command = format!("genads study {}", file.display());
        if let Some(p) = args.preset {
            command += &format!(" --preset {p}");
        }
        if let Some(o) = &args.out {
            command += &format!(" --out {}", o.display());
        }
        if args.device != genads_runtime::device::DeviceChoice::Cpu {
            command += &format!(" --device {}", args.device);
        }
        if !args.collect {
            // A collected report's cells ran elsewhere; how they ran is in each cell.json.
            command += &format!(" --jobs {}", args.jobs);
        }
        entries.push((st, out, command));
    }

    if args.emit == Some(Emit::Slurm) {
        let exe = std::env::current_exe().context("cannot locate the genads executable")?;
        for ((st, out, _), file) in entries.iter().zip(&args.files) {
            std::fs::create_dir_all(out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let abs_out = std::path::absolute(out).unwrap_or_else(|_| out.clone());
            let script = slurm::script(st, &exe, &abs_out, file);
            let path = out.join("study.slurm");
            std::fs::write(&path, script)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "wrote {} ({} array tasks): submit with `sbatch {}`, then `genads study {} --collect --out {}`",
                path.display(),
                st.cells.len(),
                path.display(),
                file.display(),
                out.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }

    let mut failed = Vec::new();
    for (st, out, command) in &entries {
        if !args.collect {
            let exe = std::env::current_exe().context("cannot locate the genads executable")?;
            let summary = study::run_cells(st, &exe, out, args.jobs)?;
            println!(
                "study {}: {} cells skipped (finished), {} trained, {} failed",
                st.name,
                summary.skipped,
                summary.ran,
                summary.failed.len()
            );
            failed.extend(summary.failed);
        }
        let collected = study::aggregate_into(st, out, command)?;
        println!(
            "\n{} of {} cells finished; wrote {}/results.md, {}/results.csv and plots\n",
            collected.cells.len(),
            st.cells.len(),
            out.display(),
            out.display()
        );
        if !collected.models.is_empty() {
            println!("{}", study::aggregate::markdown_table(&collected.models));
        }
    }
    if let Some(md) = &args.report {
        let generated_by = std::iter::once("genads".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" ");
        study::write_report(&entries, md, &generated_by)?;
        println!("wrote {}", md.display());
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{} cell(s) failed:", failed.len());
        for (label, why) in &failed {
            eprintln!("  {label}: {why}");
        }
        Ok(ExitCode::FAILURE)
    }
}
