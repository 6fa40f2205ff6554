//! `genads check`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `genads check`.
#[derive(clap::Args)]
pub struct Args {
    /// The .genads files to validate.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Run `genads check`: diagnostics on stderr, one `ok` line per valid file on stdout; exit code 0
/// when every file is valid, 1 otherwise.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut failed = 0usize;
    for path in &args.files {
        match genads_dsl::compile_file(path) {
            Ok(models) => {
                let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
                println!(
                    "ok {}: {} model{} ({})",
                    path.display(),
                    names.len(),
                    if names.len() == 1 { "" } else { "s" },
                    names.join(", ")
                );
            }
            Err(diagnostics) => {
                failed += 1;
                eprintln!("{diagnostics}");
                eprintln!(
                    "error: {} is invalid ({} error{})\n",
                    path.display(),
                    diagnostics.len(),
                    if diagnostics.len() == 1 { "" } else { "s" }
                );
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
