//! Spectral grids and transforms: mode grids k = 2π·fftfreq(n)/L, |k|², batched 2-D FFTs
//! (rustfft, f64) in the "ortho" and "backward" conventions, and conversion between complex
//! (B, C, H, W) data and the real tensor layout (B, 2C, H, W) with Re/Im interleaved on the channel
//! axis ([Re_0, Im_0, Re_1, Im_1, …]).
//!
//! Axis convention: the first spatial axis (H, tensor dim 2) is x, the second (W, dim 3) is y.

mod fft;
mod grid;
mod layout;

pub use fft::{Fft2, FftNorm};
pub use grid::{fft_indices, wavenumbers, ModeGrid};
pub use layout::{complex_to_interleaved, interleaved_to_complex, ComplexBatch};
pub use rustfft::num_complex::Complex64;
