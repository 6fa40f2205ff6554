//! Evaluation metrics, in f64: the checkerboard metrics of PAPER.md §7.1 and the sliced
//! Wasserstein-2 distance.

pub mod checkerboard;
pub mod energy;
pub mod wasserstein;

pub use checkerboard::{checkerboard_metrics, js_divergence, CheckerboardMetrics, MetricOptions};
pub use energy::{energy_distance, energy_distance_sq, Points2};
pub use wasserstein::{sliced_w2, sliced_w2_points, w2_sq_sorted_1d, SlicedW2};
