//! Evaluation metrics, in f64: the checkerboard metrics of PAPER.md §7.1, the sliced
//! Wasserstein-2 distance and the nearest-neighbour spacing ratio.

pub mod checkerboard;
pub mod energy;
pub mod nearest;
pub mod wasserstein;

pub use checkerboard::{checkerboard_metrics, js_divergence, CheckerboardMetrics, MetricOptions};
pub use energy::{energy_distance, energy_distance_sq, Points2};
pub use nearest::{median_nearest_neighbour, nearest_neighbour_ratio, NN_POINTS};
pub use wasserstein::{sliced_w2, sliced_w2_points, w2_sq_sorted_1d, SlicedW2};
