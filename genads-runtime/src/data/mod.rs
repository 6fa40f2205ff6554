//! Training data sets.

pub mod checkerboard;

pub use checkerboard::{Checkerboard, Dataset};
