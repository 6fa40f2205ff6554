//! The im2col + GEMM convolutions of `nn::conv` against independent oracles: candle's own
//! (naive but correct) convolutions and their autograd, and central finite differences of a
//! random linear functional accumulated in f64 (the convolution is linear in its input and in its
//! weight, so the central difference is exact up to rounding).

use candle_core::{DType, Device, Module, Tensor, Var};
use genads_runtime::nn::conv::{conv2d, conv_transpose2d, Conv2d, ConvTranspose2d};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn rand_t(rng: &mut ChaCha8Rng, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

fn vec(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    vec(a)
        .iter()
        .zip(vec(b))
        .fold(0f32, |m, (x, y)| m.max((x - y).abs()))
}

/// Eight sizes of a convolution case.
type Case = (usize, usize, usize, usize, usize, usize, usize, usize);

/// (B, C, H, W, O, k, stride, padding). candle's conv2d backward takes the output padding of
/// the width from the height, so strided cases with H ≠ W are left to the finite differences.
const CONV_CASES: [Case; 8] = [
    (2, 3, 5, 5, 4, 3, 1, 1),
    (2, 3, 7, 7, 2, 3, 2, 1),
    (1, 2, 5, 5, 3, 1, 1, 0),
    (3, 4, 8, 8, 5, 3, 2, 1),
    (2, 2, 6, 6, 3, 2, 3, 0),
    (2, 3, 7, 6, 2, 5, 1, 2),
    (3, 2, 4, 4, 3, 3, 1, 0),
    // 576·784 elements of im2col per sample: several batch chunks.
    (6, 64, 28, 28, 8, 3, 1, 1),
];

/// (B, C_in, H, W, C_out, k, stride, padding)
const CONVT_CASES: [Case; 6] = [
    (2, 4, 3, 3, 3, 4, 2, 1),
    (1, 3, 4, 5, 2, 3, 1, 1),
    (2, 2, 3, 3, 3, 3, 2, 0),
    (2, 5, 2, 2, 3, 4, 2, 1),
    (3, 2, 3, 4, 2, 2, 3, 0),
    // 1024·196 elements per sample: two batch chunks.
    (12, 16, 14, 14, 64, 4, 2, 1),
];

#[test]
fn conv2d_forward_and_gradients_match_candle() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (b, c, h, w, o, k, s, p) in CONV_CASES {
        let x = Var::from_tensor(&rand_t(&mut rng, &[b, c, h, w])).unwrap();
        let wt = Var::from_tensor(&rand_t(&mut rng, &[o, c, k, k])).unwrap();
        let bias = Var::from_tensor(&rand_t(&mut rng, &[o])).unwrap();
        let ours = conv2d(&x, &wt, Some(&bias), s, p).unwrap();
        let theirs = x
            .conv2d(&wt, p, s, 1, 1)
            .unwrap()
            .broadcast_add(&bias.reshape((1, o, 1, 1)).unwrap())
            .unwrap();
        let case = format!("{:?}", (b, c, h, w, o, k, s, p));
        assert!(max_diff(&ours, &theirs) < 1e-4, "forward {case}");
        let r = rand_t(&mut rng, ours.dims());
        let g1 = (&ours * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (&theirs * &r)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for (name, v) in [("x", &x), ("w", &wt), ("bias", &bias)] {
            let a = g1.get(v).unwrap();
            let bb = g2.get(v).unwrap();
            let scale = vec(bb).iter().fold(1f32, |m, v| m.max(v.abs()));
            assert!(max_diff(a, bb) < 1e-4 * scale, "grad {name} {case}");
        }
    }
}

#[test]
fn conv_transpose2d_forward_and_gradients_match_candle() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for (b, ci, h, w, co, k, s, p) in CONVT_CASES {
        let x = Var::from_tensor(&rand_t(&mut rng, &[b, ci, h, w])).unwrap();
        let wt = Var::from_tensor(&rand_t(&mut rng, &[ci, co, k, k])).unwrap();
        let bias = Var::from_tensor(&rand_t(&mut rng, &[co])).unwrap();
        let ours = conv_transpose2d(&x, &wt, Some(&bias), s, p).unwrap();
        let theirs = x
            .conv_transpose2d(&wt, p, 0, s, 1)
            .unwrap()
            .broadcast_add(&bias.reshape((1, co, 1, 1)).unwrap())
            .unwrap();
        let case = format!("{:?}", (b, ci, h, w, co, k, s, p));
        assert_eq!(
            ours.dims(),
            &[b, co, (h - 1) * s + k - 2 * p, (w - 1) * s + k - 2 * p]
        );
        assert!(max_diff(&ours, &theirs) < 1e-4, "forward {case}");
        let r = rand_t(&mut rng, ours.dims());
        let g1 = (&ours * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (&theirs * &r)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for (name, v) in [("x", &x), ("w", &wt), ("bias", &bias)] {
            let a = g1.get(v).unwrap();
            let bb = g2.get(v).unwrap();
            let scale = vec(bb).iter().fold(1f32, |m, v| m.max(v.abs()));
            assert!(max_diff(a, bb) < 1e-4 * scale, "grad {name} {case}");
        }
    }
}

/// Σ r·f(x, w, b) in f64.
fn functional(y: &Tensor, r: &[f32]) -> f64 {
    vec(y)
        .iter()
        .zip(r)
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum()
}

/// Checks d/dθ Σ r·f at every element of every argument by central differences.
fn check_fd(
    f: impl Fn(&Tensor, &Tensor, &Tensor) -> Tensor,
    shapes: [&[usize]; 3],
    rng: &mut ChaCha8Rng,
    case: &str,
) {
    let args: Vec<Var> = shapes
        .iter()
        .map(|s| Var::from_tensor(&rand_t(rng, s)).unwrap())
        .collect();
    let y = f(&args[0], &args[1], &args[2]);
    let r = vec(&rand_t(rng, y.dims()));
    let rt = Tensor::from_vec(r.clone(), y.dims(), &Device::Cpu).unwrap();
    let grads = (&y * &rt).unwrap().sum_all().unwrap().backward().unwrap();
    let eps = 0.5f32;
    for i in 0..3 {
        let base = vec(args[i].as_tensor());
        let analytic = vec(grads.get(&args[i]).unwrap());
        for (j, &a) in analytic.iter().enumerate() {
            let eval = |d: f32| {
                let mut v = base.clone();
                v[j] += d;
                let t = Tensor::from_vec(v, shapes[i], &Device::Cpu).unwrap();
                let mut ts: Vec<Tensor> = args.iter().map(|a| a.as_tensor().clone()).collect();
                ts[i] = t;
                functional(&f(&ts[0], &ts[1], &ts[2]), &r)
            };
            let fd = (eval(eps) - eval(-eps)) / (2.0 * f64::from(eps));
            assert!(
                (fd - f64::from(a)).abs() < 1e-3 * (1.0 + fd.abs()),
                "{case}: arg {i} elem {j}: fd {fd} vs backward {a}"
            );
        }
    }
}

#[test]
fn gradients_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (s, p) in [(1, 1), (2, 1), (2, 0)] {
        check_fd(
            |x, w, b| conv2d(x, w, Some(b), s, p).unwrap(),
            [&[2, 2, 5, 4], &[3, 2, 3, 3], &[3]],
            &mut rng,
            &format!("conv2d s{s} p{p}"),
        );
        check_fd(
            |x, w, b| conv_transpose2d(x, w, Some(b), s, p).unwrap(),
            [&[2, 3, 3, 2], &[3, 2, 4, 4], &[2]],
            &mut rng,
            &format!("conv_transpose2d s{s} p{p}"),
        );
    }
    // Strided, non-square, with rows and columns the kernel never reaches.
    check_fd(
        |x, w, b| conv2d(x, w, Some(b), 2, 1).unwrap(),
        [&[1, 2, 6, 7], &[2, 2, 3, 3], &[2]],
        &mut rng,
        "conv2d 6x7 s2 p1",
    );
    check_fd(
        |x, w, b| conv2d(x, w, Some(b), 3, 0).unwrap(),
        [&[1, 1, 7, 5], &[2, 1, 2, 2], &[2]],
        &mut rng,
        "conv2d 7x5 k2 s3 p0",
    );
}

#[test]
fn layers_strided_inputs_fallback_and_threads() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let w = rand_t(&mut rng, &[4, 3, 3, 3]);
    let b = rand_t(&mut rng, &[4]);
    let conv = Conv2d::new(w.clone(), Some(b.clone()), 1, 1);
    // A non-contiguous input (a transposed view) gives the same result as its contiguous copy.
    let x = rand_t(&mut rng, &[2, 3, 6, 5]).transpose(2, 3).unwrap();
    assert!(!x.is_contiguous());
    let y = conv.forward(&x).unwrap();
    let y_ref = conv.forward(&x.contiguous().unwrap()).unwrap();
    assert_eq!(vec(&y), vec(&y_ref));
    // f64 tensors take candle's path and agree with the f32 kernels.
    let y64 = conv2d(
        &x.to_dtype(DType::F64).unwrap(),
        &w.to_dtype(DType::F64).unwrap(),
        Some(&b.to_dtype(DType::F64).unwrap()),
        1,
        1,
    )
    .unwrap();
    assert!(max_diff(&y64.to_dtype(DType::F32).unwrap(), &y) < 1e-5);
    // Shape errors are errors, not panics.
    assert!(conv2d(&x, &rand_t(&mut rng, &[4, 2, 3, 3]), None, 1, 1).is_err());
    assert!(conv2d(&x, &w, None, 0, 1).is_err());
    assert!(conv_transpose2d(&x, &rand_t(&mut rng, &[2, 3, 4, 4]), None, 2, 1).is_err());
    // The result does not depend on the number of threads (fixed reduction order).
    let up = ConvTranspose2d::new(rand_t(&mut rng, &[16, 8, 4, 4]), None, 2, 1);
    let xs = Var::from_tensor(&rand_t(&mut rng, &[5, 16, 7, 7])).unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let y = conv.forward(&up.forward(&xs).unwrap().narrow(1, 0, 3).unwrap());
            let y = y.unwrap();
            let g = y.sqr().unwrap().sum_all().unwrap().backward().unwrap();
            (vec(&y), vec(g.get(&xs).unwrap()))
        })
    };
    assert_eq!(run(1), run(3));
}
