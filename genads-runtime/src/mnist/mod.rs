//! MNIST and Fashion-MNIST: IDX files, fetching and installing the data, the data set, the paper's
//! U-Net, the metric classifier and the sample-quality metrics (FID, KID, precision/recall, BPM).
//!
//! The data is never bundled: `genads data fetch mnist` installs it into [`fetch::data_dir`].

pub mod bpm;
pub mod classifier;
pub mod dataset;
pub mod features;
pub mod fetch;
pub mod fid;
pub mod grid;
pub mod idx;
pub mod kid;
pub mod precision_recall;
pub mod quality;
/// The paper's U-Net lives with the other velocity networks.
pub use crate::nn::unet;

use thiserror::Error;

/// Errors of the MNIST pipeline.
#[derive(Debug, Error)]
pub enum MnistError {
    /// An IDX file is malformed (magic, dimensions, length, label range).
    #[error("{file}: {reason}")]
    Idx {
        /// The file (or a description of the buffer).
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The data set is not installed.
    #[error("{0}")]
    Missing(String),
    /// Fetching or verifying failed.
    #[error("{0}")]
    Fetch(String),
    /// An input was invalid.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// I/O failed.
    #[error("{context}: {cause}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error (in the message, not also as a source: an error chain would
        /// print it twice).
        cause: std::io::Error,
    },
    /// A tensor operation failed.
    #[error("tensor error: {0}")]
    Tensor(#[from] candle_core::Error),
    /// A runtime error.
    #[error(transparent)]
    Runtime(#[from] crate::Error),
}

/// Result alias of the MNIST pipeline.
pub type Result<T, E = MnistError> = std::result::Result<T, E>;

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> MnistError {
    let context = context.into();
    move |cause| MnistError::Io { context, cause }
}
