//! Typed errors of the runtime.

use thiserror::Error;

/// Errors of the runtime.
#[derive(Debug, Error)]
pub enum Error {
    /// A tensor operation failed.
    #[error("tensor error: {0}")]
    Tensor(#[from] candle_core::Error),
    /// An input was invalid (shape, NaN, empty batch, ...).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// I/O failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file (a plot, an image grid, a CSV of samples) could not be written; the cause is the
    /// source, so that error chains read `writing PATH: cause`.
    #[error("writing {path}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Result alias of the runtime.
pub type Result<T, E = Error> = std::result::Result<T, E>;
