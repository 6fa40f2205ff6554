//! `genads check`.

use genads_dsl::{Derived, Diagnostic, Diagnostics};
use genads_runtime::encode::{ImageSpectralCodec, PointSourceConfig};
use genads_runtime::envelope::EnvelopeGrid;
use genads_runtime::interpreter::Interpreted;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `genads check`.
#[derive(clap::Args)]
pub struct Args {
    /// The .genads files to validate.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Radial points at which the dry run evaluates every coefficient and the affine parameter.
const DRY_RUN_POINTS: usize = 65;

/// What `train` builds from a model before its first step, built here without training: the
/// interpreted physics (every coefficient and the affine parameter on the radial range) and, for
/// propagator encodings, the envelopes on the checkerboard's and the 28×28 images' mode grids.
pub fn dry_run(m: &Derived) -> Result<(), String> {
    let physics = Interpreted::new(m.clone()).map_err(|e| e.to_string())?;
    for i in 0..DRY_RUN_POINTS {
        let r = m.constants.r_ir
            + (m.constants.r_uv - m.constants.r_ir) * i as f64 / (DRY_RUN_POINTS - 1) as f64;
        physics.try_radial(r).map_err(|e| e.to_string())?;
        if m.constants.path == genads_dsl::derived::PathKind::HermiteAffine {
            physics.try_affine(r).map_err(|e| e.to_string())?;
        }
    }
    if m.constants.encoding == genads_dsl::derived::Encoding::Propagator {
        let grids = [
            PointSourceConfig::default().mode_grid(),
            ImageSpectralCodec::mode_grid(28, 28),
        ];
        for grid in grids {
            let grid = grid.map_err(|e| e.to_string())?;
            EnvelopeGrid::from_physics(&grid, &physics).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Compile a file and dry-run each model; failures of the dry run become diagnostics at the
/// model's warp.
pub fn check_file(path: &std::path::Path) -> Result<Vec<Derived>, Diagnostics> {
    let models = genads_dsl::compile_file(path)?;
    let origin = path.display().to_string();
    let source = std::fs::read_to_string(path).unwrap_or_default();
    let mut errors = Vec::new();
    for m in &models {
        if let Err(e) = dry_run(m) {
            errors.push(Diagnostic::new(
                &source,
                &origin,
                m.spans.warp.clone(),
                format!("model `{}` cannot be trained: {e}", m.constants.name),
                Some(
                    "`check` builds what `train` builds before its first step (coefficients and \
                     affine parameter on the radial range, propagator envelopes on the data's \
                     mode grids); each must be finite"
                        .to_string(),
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(models)
    } else {
        Err(Diagnostics(errors))
    }
}

/// Run `genads check`: diagnostics on stderr, one `ok` line per valid file on stdout; exit code 0
/// when every file is valid, 1 otherwise.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut failed = 0usize;
    for path in &args.files {
        match check_file(path) {
            Ok(models) => {
                let names: Vec<&str> = models.iter().map(|m| m.constants.name.as_str()).collect();
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
