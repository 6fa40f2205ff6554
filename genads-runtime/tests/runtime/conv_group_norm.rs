//! The fused GroupNorm of `nn::group_norm` against candle-nn's GroupNorm (forward and autograd,
//! an independent composition of elementary tensor ops) and against central finite differences.

use candle_core::{DType, Device, Module, Tensor, Var};
use genads_runtime::nn::group_norm::GroupNorm;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn rand_t(rng: &mut ChaCha8Rng, shape: &[usize], scale: f32, shift: f32) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| shift + scale * rng.random_range(-1.0f32..1.0))
        .collect();
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

#[test]
fn matches_candle_forward_and_backward() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (shape, groups) in [
        (vec![2, 8, 4, 4], 4),
        (vec![3, 6, 5, 3], 2),
        (vec![2, 16, 7, 7], 8),
        (vec![1, 4, 9], 4),
        (vec![2, 32, 2, 2], 8),
    ] {
        let c = shape[1];
        let x = Var::from_tensor(&rand_t(&mut rng, &shape, 2.0, 0.7)).unwrap();
        let w = Var::from_tensor(&rand_t(&mut rng, &[c], 1.0, 0.5)).unwrap();
        let b = Var::from_tensor(&rand_t(&mut rng, &[c], 1.0, 0.0)).unwrap();
        let ours = GroupNorm::new(
            w.as_tensor().clone(),
            b.as_tensor().clone(),
            c,
            groups,
            1e-5,
        )
        .unwrap()
        .forward(&x)
        .unwrap();
        let theirs = candle_nn::GroupNorm::new(
            w.as_tensor().clone(),
            b.as_tensor().clone(),
            c,
            groups,
            1e-5,
        )
        .unwrap()
        .forward(&x)
        .unwrap();
        assert!(max_diff(&ours, &theirs) < 1e-4, "forward {shape:?}");
        let r = rand_t(&mut rng, &shape, 1.0, 0.0);
        let g1 = (&ours * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (&theirs * &r)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for (name, v) in [("x", &x), ("weight", &w), ("bias", &b)] {
            let (a, bb) = (g1.get(v).unwrap(), g2.get(v).unwrap());
            let scale = vec(bb).iter().fold(1f32, |m, v| m.max(v.abs()));
            assert!(max_diff(a, bb) < 2e-4 * scale, "grad {name} {shape:?}");
        }
    }
}

#[test]
fn input_gradient_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let shape = [2, 4, 3, 2];
    let x = rand_t(&mut rng, &shape, 1.5, 0.3);
    let w = rand_t(&mut rng, &[4], 1.0, 0.5);
    let b = rand_t(&mut rng, &[4], 1.0, 0.0);
    let gn = GroupNorm::new(w, b, 4, 2, 1e-5).unwrap();
    let r = vec(&rand_t(&mut rng, &shape, 1.0, 0.0));
    let f = |t: &Tensor| -> f64 {
        vec(&gn.forward(t).unwrap())
            .iter()
            .zip(&r)
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum()
    };
    let xv = Var::from_tensor(&x).unwrap();
    let rt = Tensor::from_vec(r.clone(), &shape, &Device::Cpu).unwrap();
    let grads = (gn.forward(&xv).unwrap() * rt)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let analytic = vec(grads.get(&xv).unwrap());
    let base = vec(&x);
    let eps = 1e-2f32;
    for (j, &a) in analytic.iter().enumerate() {
        let at = |d: f32| {
            let mut v = base.clone();
            v[j] += d;
            f(&Tensor::from_vec(v, &shape, &Device::Cpu).unwrap())
        };
        let fd = (at(eps) - at(-eps)) / (2.0 * f64::from(eps));
        assert!(
            (fd - f64::from(a)).abs() < 2e-3 * (1.0 + fd.abs()),
            "elem {j}: fd {fd} vs {a}"
        );
    }
}

#[test]
fn errors_and_fallback() {
    let dev = Device::Cpu;
    let w = Tensor::ones(6, DType::F32, &dev).unwrap();
    let b = Tensor::zeros(6, DType::F32, &dev).unwrap();
    assert!(GroupNorm::new(w.clone(), b.clone(), 6, 4, 1e-5).is_err());
    let gn = GroupNorm::new(w, b, 6, 3, 1e-5).unwrap();
    assert!(gn
        .forward(&Tensor::ones((2, 4, 3), DType::F32, &dev).unwrap())
        .is_err());
    assert!(gn
        .forward(&Tensor::ones((2, 6), DType::F32, &dev).unwrap())
        .is_err());
    // f64 input: candle-nn's path, same numbers.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let x = rand_t(&mut rng, &[2, 6, 3, 3], 1.0, 0.0);
    let y32 = gn.forward(&x).unwrap();
    let gn64 = GroupNorm::new(
        Tensor::ones(6, DType::F64, &dev).unwrap(),
        Tensor::zeros(6, DType::F64, &dev).unwrap(),
        6,
        3,
        1e-5,
    )
    .unwrap();
    let y64 = gn64.forward(&x.to_dtype(DType::F64).unwrap()).unwrap();
    assert!(max_diff(&y64.to_dtype(DType::F32).unwrap(), &y32) < 1e-5);
}
