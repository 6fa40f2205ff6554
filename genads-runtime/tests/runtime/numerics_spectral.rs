//! Spectral transforms against a naive DFT, Parseval, and exact round trips.

use candle_core::Device;
use genads_runtime::rng::{seeded, uniform_vec};
use genads_runtime::spectral::{
    complex_to_interleaved, interleaved_to_complex, Complex64, ComplexBatch, Fft2, FftNorm,
};
use std::f64::consts::PI;

fn random_batch(seed: u64, b: usize, c: usize, h: usize, w: usize) -> ComplexBatch {
    let n = b * c * h * w;
    let mut rng = seeded(seed);
    let re = uniform_vec(&mut rng, n, -1.0, 1.0);
    let im = uniform_vec(&mut rng, n, -1.0, 1.0);
    ComplexBatch {
        data: re
            .into_iter()
            .zip(im)
            .map(|(r, i)| Complex64::new(r, i))
            .collect(),
        b,
        c,
        h,
        w,
    }
}

/// X[k,l] = Σ x[m,n] exp(−2πi (km/h + ln/w)), written as the textbook double sum.
fn naive_dft(x: &[Complex64], h: usize, w: usize, sign: f64) -> Vec<Complex64> {
    let mut out = vec![Complex64::new(0.0, 0.0); h * w];
    for k in 0..h {
        for l in 0..w {
            let mut acc = Complex64::new(0.0, 0.0);
            for m in 0..h {
                for n in 0..w {
                    let ang =
                        sign * 2.0 * PI * ((k * m) as f64 / h as f64 + (l * n) as f64 / w as f64);
                    acc += x[m * w + n] * Complex64::new(ang.cos(), ang.sin());
                }
            }
            out[k * w + l] = acc;
        }
    }
    out
}

#[test]
fn matches_naive_dft_both_conventions() {
    for (h, w) in [(6, 10), (7, 5), (16, 16), (1, 8)] {
        let z = random_batch(1, 2, 3, h, w);
        let fft = Fft2::new(h, w).unwrap();
        let mut back = z.data.clone();
        fft.forward(&mut back, FftNorm::Backward).unwrap();
        let mut ortho = z.data.clone();
        fft.forward(&mut ortho, FftNorm::Ortho).unwrap();
        let s = 1.0 / ((h * w) as f64).sqrt();
        for (img, (got_b, got_o)) in z
            .data
            .chunks(h * w)
            .zip(back.chunks(h * w).zip(ortho.chunks(h * w)))
        {
            let want = naive_dft(img, h, w, -1.0);
            for ((a, b), c) in want.iter().zip(got_b).zip(got_o) {
                assert!((a - b).norm() < 1e-11, "{h}×{w}: {a} vs {b}");
                assert!((a * s - c).norm() < 1e-12);
            }
            let inv = naive_dft(img, h, w, 1.0);
            let mut got = img.to_vec();
            fft.inverse(&mut got, FftNorm::Backward).unwrap();
            for (a, b) in inv.iter().zip(&got) {
                assert!((a / (h * w) as f64 - b).norm() < 1e-12);
            }
        }
    }
}

#[test]
fn parseval_and_round_trip() {
    let z = random_batch(2, 3, 2, 28, 28);
    let fft = Fft2::new(28, 28).unwrap();
    let mut y = z.data.clone();
    fft.forward(&mut y, FftNorm::Ortho).unwrap();
    for (a, b) in z.data.chunks(784).zip(y.chunks(784)) {
        let ea: f64 = a.iter().map(|v| v.norm_sqr()).sum();
        let eb: f64 = b.iter().map(|v| v.norm_sqr()).sum();
        assert!((ea - eb).abs() < 1e-10 * ea);
    }
    fft.inverse(&mut y, FftNorm::Ortho).unwrap();
    for (a, b) in z.data.iter().zip(&y) {
        assert!((a - b).norm() < 1e-13);
    }
    let mut y = z.data.clone();
    fft.forward(&mut y, FftNorm::Backward).unwrap();
    fft.inverse(&mut y, FftNorm::Backward).unwrap();
    assert!(z.data.iter().zip(&y).all(|(a, b)| (a - b).norm() < 1e-13));
}

#[test]
fn interleaved_layout_round_trip_f32() {
    let z = random_batch(3, 2, 3, 4, 5);
    let t = complex_to_interleaved(&z, &Device::Cpu).unwrap();
    assert_eq!(t.dims(), &[2, 6, 4, 5]);
    // Channel 2c is Re, 2c+1 is Im of complex channel c.
    let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
    let hw = 20;
    let (b, c, p) = (1, 2, 7);
    let src = z.data[(b * 3 + c) * hw + p];
    assert_eq!(v[(b * 6 + 2 * c) * hw + p], src.re as f32);
    assert_eq!(v[(b * 6 + 2 * c + 1) * hw + p], src.im as f32);
    let back = interleaved_to_complex(&t).unwrap();
    assert_eq!((back.b, back.c, back.h, back.w), (2, 3, 4, 5));
    for (a, b) in z.data.iter().zip(&back.data) {
        assert!((a - b).norm() < 1e-6);
    }
    // FFT → f32 tensor → FFT⁻¹ round trip.
    let fft = Fft2::new(4, 5).unwrap();
    let mut spec = z.clone();
    fft.forward(&mut spec.data, FftNorm::Ortho).unwrap();
    let t = complex_to_interleaved(&spec, &Device::Cpu).unwrap();
    let mut back = interleaved_to_complex(&t).unwrap();
    fft.inverse(&mut back.data, FftNorm::Ortho).unwrap();
    for (a, b) in z.data.iter().zip(&back.data) {
        assert!((a - b).norm() < 1e-6);
    }
}

#[test]
fn bad_inputs_are_errors() {
    let fft = Fft2::new(4, 4).unwrap();
    let mut buf = vec![Complex64::new(0.0, 0.0); 15];
    assert!(fft.forward(&mut buf, FftNorm::Ortho).is_err());
    assert!(Fft2::new(0, 4).is_err());
    let t =
        candle_core::Tensor::zeros((2, 3, 4, 4), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert!(interleaved_to_complex(&t).is_err());
    let t = candle_core::Tensor::zeros((2, 4, 4), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert!(interleaved_to_complex(&t).is_err());
    let nan = candle_core::Tensor::new(&[[[[f32::NAN]], [[0.0]]]], &Device::Cpu).unwrap();
    assert!(interleaved_to_complex(&nan).is_err());
}
