//! `genads explain`.

use genads_codegen::DEFAULT_RUNTIME_PATH;
use genads_dsl::explain::{render, Format};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `genads explain`.
#[derive(clap::Args)]
pub struct Args {
    /// The .genads file.
    pub file: PathBuf,
    /// Explain only this model (default: every model in the file).
    #[arg(long)]
    pub model: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
}

/// `--format` values.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    /// Plain text.
    Text,
    /// LaTeX.
    Latex,
    /// Rust source.
    Rust,
}

/// Run `genads explain`: print the derivation of one or all models of a file.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let models = match genads_dsl::compile_file(&args.file) {
        Ok(models) => models,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Latex => Format::Latex,
        FormatArg::Rust => Format::Rust,
    };
    let chosen = match &args.model {
        Some(name) => vec![genads_dsl::select(models, Some(name)).map_err(anyhow::Error::msg)?],
        None => models,
    };
    for (i, m) in chosen.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print!("{}", render(m, format));
        if format == Format::Rust {
            // The type `genads_model!` generates for this model.
            let type_name = genads_dsl::ir::type_name_for(&m.constants.name);
            let code = genads_codegen::model_source(m, &type_name, DEFAULT_RUNTIME_PATH)?;
            print!("\n{code}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
