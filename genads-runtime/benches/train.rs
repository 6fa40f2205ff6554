//! Training-step benchmark (filled in below as the trainer lands).
fn main() {}
