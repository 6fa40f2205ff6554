//! Benchmarks of the §7.1 checkerboard metrics at the paper's evaluation size (10 000 real vs
//! 10 000 generated points). Run: `RAYON_NUM_THREADS=1 cargo bench -p genads-runtime --bench metrics`.

use criterion::{criterion_group, criterion_main, Criterion};
use genads_runtime::data::Dataset;
use genads_runtime::metrics::{checkerboard_metrics, sliced_w2_points, MetricOptions};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let real = Dataset::checkerboard(10_000, 1);
    let generated = Dataset::checkerboard(10_000, 2);
    let mut group = c.benchmark_group("checkerboard_metrics_10k_vs_10k");
    group.sample_size(10);
    let full = MetricOptions::default();
    let m = checkerboard_metrics(&real.points, &generated.points, &full).unwrap();
    eprintln!("true vs true, 10k vs 10k: {m:?}");
    group.bench_function("all (BV, JS, WED, SW2 with 128 projections)", |b| {
        b.iter(|| {
            checkerboard_metrics(black_box(&real.points), black_box(&generated.points), &full)
        })
    });
    let no_sw2 = MetricOptions {
        sw2_projections: 0,
        ..full
    };
    group.bench_function("BV, JS, WED only", |b| {
        b.iter(|| {
            checkerboard_metrics(
                black_box(&real.points),
                black_box(&generated.points),
                &no_sw2,
            )
        })
    });
    group.bench_function("SW2 only, 256 projections", |b| {
        b.iter(|| {
            sliced_w2_points(
                black_box(&real.points),
                black_box(&generated.points),
                256,
                0,
            )
        })
    });
    group.finish();
}

// Plots off: criterion's plotters backend would find plotters built with our `ab_glyph` font
// feature (no system fonts) and no registered font.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
