//! Benchmarks of the spectral numerics: point encoding/decoding (K = 16, C = 2, batch 64), image
//! encoding/decoding (28×28, batch 128), batched FFTs, K_ν and the envelopes.
//! Run: `RAYON_NUM_THREADS=1 cargo bench -p genads-runtime --bench numerics -- --warm-up-time 1 --measurement-time 3`.

use criterion::{criterion_group, criterion_main, Criterion};
use genads_runtime::encode::{
    Codec, DataBatch, DataScaling, ImageBatch, ImageSpectralCodec, PointSourceCodec,
    PointSourceConfig,
};
use genads_runtime::envelope::{
    ads_envelope, ads_envelope_reference, numerical_envelope, EnvelopeGrid, NumericalOptions,
};
use genads_runtime::rng::{seeded, uniform_vec};
use genads_runtime::special::bessel_k;
use genads_runtime::spectral::{Complex64, Fft2, FftNorm};
use std::hint::black_box;

fn point_codec() -> PointSourceCodec {
    let config = PointSourceConfig {
        scaling: DataScaling::new(0.0, 8.0 / 12f64.sqrt()).unwrap(),
        ..Default::default()
    };
    let grid = config.mode_grid().unwrap();
    let env = EnvelopeGrid::from_fn(&grid, |k| ads_envelope_reference(0.5, k, 1.0, 0.01)).unwrap();
    PointSourceCodec::new(config, env).unwrap()
}

fn bench_codecs(c: &mut Criterion) {
    let mut rng = seeded(1);
    let v = uniform_vec(&mut rng, 128, -4.0, 4.0);
    let pts = DataBatch::Points(v.chunks(2).map(|c| [c[0], c[1]]).collect());
    let codec = point_codec();
    let st = codec.encode(&pts, None).unwrap();
    let mut g = c.benchmark_group("points_k16_c2_batch64");
    g.bench_function("encode (σ = 0.1)", |b| {
        let mut rng = seeded(2);
        b.iter(|| {
            codec
                .encode(black_box(&pts), Some((&mut rng, 0.1)))
                .unwrap()
        })
    });
    g.bench_function("decode (soft-argmax 128²)", |b| {
        b.iter(|| codec.decode(black_box(&st.phi)).unwrap())
    });
    g.finish();

    let grid = ImageSpectralCodec::mode_grid(28, 28).unwrap();
    let env = EnvelopeGrid::from_fn(&grid, |k| ads_envelope(0.5, k, 1.0)).unwrap();
    let img_codec =
        ImageSpectralCodec::new(28, 28, env, DataScaling::new(-0.7, 0.6).unwrap()).unwrap();
    let pixels = uniform_vec(&mut rng, 128 * 784, -1.0, 1.0)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    let imgs = DataBatch::Images(ImageBatch {
        pixels,
        n: 128,
        h: 28,
        w: 28,
    });
    let st = img_codec.encode(&imgs, None).unwrap();
    let mut g = c.benchmark_group("images_28x28_batch128");
    g.bench_function("encode (σ = 0.1)", |b| {
        let mut rng = seeded(3);
        b.iter(|| {
            img_codec
                .encode(black_box(&imgs), Some((&mut rng, 0.1)))
                .unwrap()
        })
    });
    g.bench_function("decode (exact)", |b| {
        b.iter(|| img_codec.decode(black_box(&st.phi)).unwrap())
    });
    g.finish();
}

fn bench_fft(c: &mut Criterion) {
    let mut g = c.benchmark_group("fft2_f64");
    for (n, batch) in [(16usize, 128usize), (28, 128), (128, 64)] {
        let fft = Fft2::new(n, n).unwrap();
        let mut rng = seeded(4);
        let data: Vec<Complex64> = uniform_vec(&mut rng, n * n * batch, -1.0, 1.0)
            .into_iter()
            .map(|v| Complex64::new(v, 0.0))
            .collect();
        g.bench_function(
            format!("forward+inverse ortho {n}x{n} batch {batch}"),
            |b| {
                let mut buf = data.clone();
                b.iter(|| {
                    fft.forward(black_box(&mut buf), FftNorm::Ortho).unwrap();
                    fft.inverse(black_box(&mut buf), FftNorm::Ortho).unwrap();
                })
            },
        );
    }
    g.finish();
}

fn bench_bessel(c: &mut Criterion) {
    let mut g = c.benchmark_group("special");
    let xs: Vec<f64> = (0..1000)
        .map(|i| 1e-3 * (50.0f64 / 1e-3).powf(i as f64 / 999.0))
        .collect();
    for nu in [0.5, 1.0 / 3.0, 2.7] {
        g.bench_function(format!("K_nu x1000 (nu = {nu:.3}, x in [1e-3, 50])"), |b| {
            b.iter(|| xs.iter().map(|&x| bessel_k(black_box(nu), x)).sum::<f64>())
        });
    }
    let eq = |r: f64| (-2.0, (-2.0 * r).exp(), 0.0);
    g.bench_function("numerical envelope (AdS nu = 1, one |k|)", |b| {
        b.iter(|| {
            numerical_envelope(&eq, black_box(2.0), 1.0, 1.0, &NumericalOptions::default()).unwrap()
        })
    });
    g.finish();
}

// Plots off: plotters is built with an embedded font only, which criterion's plotting lacks.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_codecs, bench_fft, bench_bessel
}
criterion_main!(benches);
