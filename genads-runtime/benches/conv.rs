//! Convolution forward + backward (grad of input, weight and bias) of the im2col + GEMM kernels of
//! `nn::conv` against candle 0.11.1's own CPU convolutions, on layer shapes of the paper's
//! checkerboard CNN (batch 64, 16×16 input) and MNIST U-Net (batch 128, 28×28 input).
//!
//! Run: `RAYON_NUM_THREADS=1 cargo bench -p genads-runtime --bench conv [-- FILTER]`
//! (candle's backward of the big U-Net layers takes seconds per iteration: filter with `ours`
//! to time only the new kernels).

use candle_core::{Device, Tensor, Var};
use criterion::{criterion_group, criterion_main, Criterion};
use genads_runtime::nn::conv::{conv2d, conv_transpose2d};
use std::time::Duration;

/// (name, transposed, batch, c_in, h, c_out, k, stride, padding)
type Shape = (
    &'static str,
    bool,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
);

const SHAPES: [Shape; 8] = [
    ("cnn_b64/conv3x3_128_8x8", false, 64, 128, 8, 128, 3, 1, 1),
    (
        "cnn_b64/down_64_128_16x16_s2",
        false,
        64,
        64,
        16,
        128,
        3,
        2,
        1,
    ),
    ("cnn_b64/convT_512_256_2x2", true, 64, 512, 2, 256, 4, 2, 1),
    ("cnn_b64/convT_128_64_8x8", true, 64, 128, 8, 64, 4, 2, 1),
    (
        "unet_b128/conv3x3_64_28x28",
        false,
        128,
        64,
        28,
        64,
        3,
        1,
        1,
    ),
    (
        "unet_b128/down_64_128_28x28_s2",
        false,
        128,
        64,
        28,
        128,
        3,
        2,
        1,
    ),
    (
        "unet_b128/convT_128_64_14x14",
        true,
        128,
        128,
        14,
        64,
        4,
        2,
        1,
    ),
    (
        "unet_b128/merge1x1_128_64_28x28",
        false,
        128,
        128,
        28,
        64,
        1,
        1,
        0,
    ),
];

fn step(ours: bool, t: bool, x: &Var, w: &Var, b: &Var, s: usize, p: usize) {
    let y = match (ours, t) {
        (true, false) => conv2d(x, w, Some(b), s, p),
        (true, true) => conv_transpose2d(x, w, Some(b), s, p),
        (false, false) => x.conv2d(w, p, s, 1, 1),
        (false, true) => x.conv_transpose2d(w, p, 0, s, 1),
    }
    .expect("forward");
    let y = if ours {
        y
    } else {
        let n = b.elem_count();
        y.broadcast_add(&b.reshape((1, n, 1, 1)).expect("bias"))
            .expect("bias")
    };
    let g = y.sum_all().and_then(|l| l.backward()).expect("backward");
    std::hint::black_box(g);
}

fn bench_conv(c: &mut Criterion) {
    let dev = Device::Cpu;
    for (name, t, b, ci, h, co, k, s, p) in SHAPES {
        let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (b, ci, h, h), &dev).expect("x"))
            .expect("var");
        let wshape = if t { (ci, co, k, k) } else { (co, ci, k, k) };
        let w = Var::from_tensor(&Tensor::randn(0f32, 0.1, wshape, &dev).expect("w")).expect("var");
        let bias = Var::from_tensor(&Tensor::zeros(co, candle_core::DType::F32, &dev).expect("b"))
            .expect("var");
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(3));
        group.bench_function("ours_fwd_bwd", |bn| {
            bn.iter(|| step(true, t, &x, &w, &bias, s, p))
        });
        group.bench_function("candle_fwd_bwd", |bn| {
            bn.iter(|| step(false, t, &x, &w, &bias, s, p))
        });
        group.finish();
    }
}

// Plots off: plotters is built with an embedded font only, which criterion's plotting lacks.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_conv
}
criterion_main!(benches);
