//! Encoders/decoders: round trips, the shift-theorem phase convention, lift noise, bad inputs; and
//! the IR prior's variances.

use candle_core::{DType, Device, Tensor};
use genads_dsl::derived::{Prior, PriorComponent};
use genads_runtime::encode::{
    Codec, DataBatch, DataScaling, ImageBatch, ImageSpectralCodec, PointSourceCodec,
    PointSourceConfig, RawPointCodec,
};
use genads_runtime::envelope::{ads_envelope, ads_envelope_reference, EnvelopeGrid};
use genads_runtime::prior::sample_prior;
use genads_runtime::rng::{seeded, uniform_vec};

fn paper_point_codec(reference: bool) -> PointSourceCodec {
    let config = PointSourceConfig {
        scaling: DataScaling::new(0.0, 8.0 / 12f64.sqrt()).unwrap(),
        ..PointSourceConfig::default()
    };
    let grid = config.mode_grid().unwrap();
    let env = if reference {
        EnvelopeGrid::from_fn(&grid, |k| ads_envelope_reference(0.5, k, 1.0, 0.01)).unwrap()
    } else {
        EnvelopeGrid::from_fn(&grid, |k| ads_envelope(0.5, k, 1.0)).unwrap()
    };
    PointSourceCodec::new(config, env).unwrap()
}

fn random_points(seed: u64, n: usize, half: f64) -> Vec<[f64; 2]> {
    let mut rng = seeded(seed);
    let v = uniform_vec(&mut rng, 2 * n, -half, half);
    v.chunks(2).map(|c| [c[0], c[1]]).collect()
}

#[test]
fn point_round_trip_within_0_02() {
    // Checkerboard data live in [−4, 4]²; with std 8/√12 they normalise to ≈ [−1.73, 1.73]².
    let pts = random_points(21, 64, 4.0);
    for reference in [false, true] {
        let codec = paper_point_codec(reference);
        let st = codec.encode(&DataBatch::Points(pts.clone()), None).unwrap();
        assert_eq!(st.phi.dims(), &[64, 4, 16, 16]);
        let back = codec.decode(&st.phi).unwrap();
        let back = back.points().unwrap();
        let worst = pts
            .iter()
            .zip(back)
            .map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt())
            .fold(0.0, f64::max);
        eprintln!("point round trip (reference = {reference}): worst error {worst:.5}");
        assert!(worst < 0.02, "reference = {reference}: worst error {worst}");
    }
}

#[test]
fn point_phase_convention() {
    let codec = paper_point_codec(false);
    let s = 8.0 / 12f64.sqrt();
    // A point at (normalised) x* = x_min + (1, 0.5): phase k_x·1 + k_y·0.5.
    let p = [(-4.0 + 1.0) * s, (-4.0 + 0.5) * s];
    let st = codec.encode(&DataBatch::Points(vec![p]), None).unwrap();
    let v: Vec<f32> = st.phi.flatten_all().unwrap().to_vec1().unwrap();
    let kk = 256;
    let step = std::f64::consts::TAU / 8.0;
    for (i, j) in [(1usize, 0usize), (0, 3), (2, 5), (15, 9)] {
        let nx = if i < 8 { i as f64 } else { i as f64 - 16.0 };
        let ny = if j < 8 { j as f64 } else { j as f64 - 16.0 };
        let phase = step * nx * 1.0 + step * ny * 0.5;
        let env = ads_envelope(0.5, step * (nx * nx + ny * ny).sqrt(), 1.0)
            .unwrap()
            .0;
        let m = i * 16 + j;
        for ch in 0..2 {
            let re = v[2 * ch * kk + m] as f64;
            let im = v[(2 * ch + 1) * kk + m] as f64;
            assert!((re - env * phase.cos()).abs() < 1e-6, "({i},{j}) ch {ch}");
            assert!((im + env * phase.sin()).abs() < 1e-6, "({i},{j}) ch {ch}");
        }
    }
}

#[test]
fn lift_noise_on_pi_only() {
    let codec = paper_point_codec(true);
    let pts = random_points(22, 32, 3.0);
    let clean = codec.encode(&DataBatch::Points(pts.clone()), None).unwrap();
    let mut rng = seeded(5);
    let noisy = codec
        .encode(&DataBatch::Points(pts.clone()), Some((&mut rng, 0.1)))
        .unwrap();
    let dphi = (&noisy.phi - &clean.phi)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert_eq!(dphi, 0.0);
    let d = (&noisy.pi - &clean.pi)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let var = d.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / d.len() as f64;
    assert!((var.sqrt() - 0.1).abs() < 0.005, "noise std {}", var.sqrt());
    // Same seed, same noise.
    let again = codec
        .encode(&DataBatch::Points(pts), Some((&mut seeded(5), 0.1)))
        .unwrap();
    let diff = (&again.pi - &noisy.pi)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert_eq!(diff, 0.0);
}

fn random_images(seed: u64, n: usize) -> ImageBatch {
    let mut rng = seeded(seed);
    let pixels = uniform_vec(&mut rng, n * 784, -1.0, 1.0)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    ImageBatch {
        pixels,
        n,
        h: 28,
        w: 28,
    }
}

#[test]
fn image_round_trips_1e_5() {
    let grid = ImageSpectralCodec::mode_grid(28, 28).unwrap();
    let scaling = DataScaling::new(-0.7, 0.6).unwrap();
    let codecs = [
        ImageSpectralCodec::new(
            28,
            28,
            EnvelopeGrid::from_fn(&grid, |k| ads_envelope(0.5, k, 1.0)).unwrap(),
            scaling,
        )
        .unwrap(),
        ImageSpectralCodec::new(
            28,
            28,
            EnvelopeGrid::from_fn(&grid, |k| ads_envelope_reference(0.5, k, 1.0, 0.01)).unwrap(),
            scaling,
        )
        .unwrap(),
        ImageSpectralCodec::plain(28, 28, scaling).unwrap(),
    ];
    let imgs = random_images(31, 5);
    for codec in &codecs {
        let st = codec
            .encode(
                &DataBatch::Images(imgs.clone()),
                Some((&mut seeded(1), 0.1)),
            )
            .unwrap();
        assert_eq!(st.phi.dims(), &[5, 2, 28, 28]);
        assert_eq!(st.pi.dims(), &[5, 2, 28, 28]);
        let back = codec.decode(&st.phi).unwrap();
        let back = back.images().unwrap();
        let worst = imgs
            .pixels
            .iter()
            .zip(&back.pixels)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "worst pixel error {worst}");
    }
    // Independent check of the transform: the DC coefficient of the ortho FFT is Σ pixels / 28 and
    // the plain codec carries it unchanged (normalised data).
    let st = codecs[2]
        .encode(&DataBatch::Images(imgs.clone()), None)
        .unwrap();
    let v: Vec<f32> = st.phi.flatten_all().unwrap().to_vec1().unwrap();
    let dc: f64 = imgs.pixels[..784]
        .iter()
        .map(|&p| scaling.apply(p as f64))
        .sum::<f64>()
        / 28.0;
    assert!((v[0] as f64 - dc).abs() < 1e-4 * (1.0 + dc.abs()));
    assert!(v[784].abs() < 1e-5); // Im of DC
    let pi_max = st
        .pi
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert_eq!(pi_max, 0.0); // no physics: π̃ = 0 without noise
}

#[test]
fn raw_points_round_trip_and_modes() {
    let codec = RawPointCodec::new(DataScaling::new(0.5, 2.0).unwrap());
    let pts = random_points(23, 10, 4.0);
    let st = codec
        .encode(&DataBatch::Points(pts.clone()), Some((&mut seeded(2), 0.1)))
        .unwrap();
    assert_eq!(st.phi.dims(), &[10, 2]);
    let back = codec.decode(&st.phi).unwrap();
    for (a, b) in pts.iter().zip(back.points().unwrap()) {
        assert!((a[0] - b[0]).abs() < 1e-5 && (a[1] - b[1]).abs() < 1e-5);
    }
    assert_eq!(codec.modes().unwrap().k2.dims(), &[1, 1]);
    assert_eq!(
        paper_point_codec(false).modes().unwrap().k2.dims(),
        &[1, 1, 16, 16]
    );
}

#[test]
fn bad_inputs_are_errors() {
    let codec = paper_point_codec(false);
    assert!(codec.encode(&DataBatch::Points(vec![]), None).is_err());
    assert!(codec
        .encode(&DataBatch::Points(vec![[f64::NAN, 0.0]]), None)
        .is_err());
    assert!(codec
        .encode(&DataBatch::Images(random_images(1, 1)), None)
        .is_err());
    assert!(codec
        .encode(
            &DataBatch::Points(vec![[0.0, 0.0]]),
            Some((&mut seeded(1), f64::NAN))
        )
        .is_err());
    let wrong = Tensor::zeros((2, 3, 16, 16), DType::F32, &Device::Cpu).unwrap();
    assert!(codec.decode(&wrong).is_err());
    let empty = Tensor::zeros((0, 4, 16, 16), DType::F32, &Device::Cpu).unwrap();
    assert!(codec.decode(&empty).is_err());
    let nan =
        (Tensor::zeros((1, 4, 16, 16), DType::F32, &Device::Cpu).unwrap() * f64::NAN).unwrap();
    assert!(codec.decode(&nan).is_err());
    let img = ImageSpectralCodec::plain(28, 28, DataScaling::IDENTITY).unwrap();
    let bad = ImageBatch {
        pixels: vec![0.0; 700],
        n: 1,
        h: 28,
        w: 28,
    };
    assert!(img.encode(&DataBatch::Images(bad), None).is_err());
    let bad = ImageBatch {
        pixels: vec![0.0; 784],
        n: 1,
        h: 28,
        w: 28,
    };
    let mut with_nan = bad.clone();
    with_nan.pixels[3] = f32::NAN;
    assert!(img.encode(&DataBatch::Images(with_nan), None).is_err());
    assert!(img
        .encode(
            &DataBatch::Images(ImageBatch {
                pixels: vec![],
                n: 0,
                h: 28,
                w: 28
            }),
            None
        )
        .is_err());
    assert!(img
        .decode(&Tensor::zeros((1, 2, 27, 28), DType::F32, &Device::Cpu).unwrap())
        .is_err());
    assert!(RawPointCodec::new(DataScaling::IDENTITY)
        .decode(&Tensor::zeros((3, 3), DType::F32, &Device::Cpu).unwrap())
        .is_err());
    assert!(DataScaling::new(0.0, 0.0).is_err());
    // Envelope grid of the wrong size.
    assert!(
        PointSourceCodec::new(PointSourceConfig::default(), EnvelopeGrid::identity(8, 8)).is_err()
    );
}

#[test]
fn prior_variances() {
    let prior = Prior {
        phi: PriorComponent {
            scale: 1.0,
            sobolev_power: 1.0,
        },
        pi: PriorComponent {
            scale: 0.55,
            sobolev_power: 1.0,
        },
    };
    let grid = ImageSpectralCodec::mode_grid(8, 8).unwrap();
    let k2 = grid.k2();
    let st = sample_prior(&mut seeded(9), &prior, &[4000, 2, 8, 8], Some(&k2)).unwrap();
    let phi: Vec<f32> = st.phi.flatten_all().unwrap().to_vec1().unwrap();
    let pi: Vec<f32> = st.pi.flatten_all().unwrap().to_vec1().unwrap();
    let emp = |v: &[f32], mode: usize| -> f64 {
        let xs: Vec<f64> = v.chunks(64).map(|c| c[mode] as f64).collect();
        xs.iter().map(|x| x * x).sum::<f64>() / xs.len() as f64
    };
    for mode in [0usize, 1, 9, 36] {
        let want_phi = 1.0 / (1.0 + k2[mode]);
        let want_pi = 0.55 / (1.0 + k2[mode]);
        // 8000 samples per mode: relative standard error of a variance ≈ sqrt(2/8000) ≈ 1.6%.
        assert!(
            (emp(&phi, mode) / want_phi - 1.0).abs() < 0.07,
            "φ mode {mode}"
        );
        assert!(
            (emp(&pi, mode) / want_pi - 1.0).abs() < 0.07,
            "π mode {mode}"
        );
    }
    // Uniform without a grid, and for point states.
    let st = sample_prior(&mut seeded(9), &prior, &[20000, 2], None).unwrap();
    let v: Vec<f32> = st.pi.flatten_all().unwrap().to_vec1().unwrap();
    let var = v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / v.len() as f64;
    assert!((var / 0.55 - 1.0).abs() < 0.05);
    assert!(sample_prior(&mut seeded(1), &prior, &[0, 2], None).is_err());
    assert!(sample_prior(&mut seeded(1), &prior, &[2, 2, 8, 8], Some(&k2[..10])).is_err());
    let bad = Prior {
        phi: PriorComponent {
            scale: -1.0,
            sobolev_power: 0.0,
        },
        ..prior
    };
    assert!(sample_prior(&mut seeded(1), &bad, &[2, 2], None).is_err());
}

/// The soft-argmax decoder against a direct evaluation of PAPER.md §4.1 "Decoding": the image is
/// the band-limited sum Σ_k φ̂(k)(M/K)² e^(2πi(n_x i + n_y j)/M)/M² at each pixel corner, summed over
/// channels, standardised (unbiased std), softmax(4z), expectation, de-normalised.
#[test]
fn soft_argmax_matches_direct_formula() {
    let codec = paper_point_codec(true);
    let s = 8.0 / 12f64.sqrt();
    let p = [0.37 * s, -1.21 * s];
    let st = codec.encode(&DataBatch::Points(vec![p]), None).unwrap();
    // Perturb so the image is not a clean point (tests the whole pipeline, not just the peak).
    let noise = genads_runtime::rng::normal_tensor(&mut seeded(8), &[1, 4, 16, 16], 0.05).unwrap();
    let phi = (&st.phi + &noise).unwrap();
    let got = codec.decode(&phi).unwrap().points().unwrap()[0];
    let v: Vec<f64> = phi
        .flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1()
        .unwrap();
    let (k, m) = (16usize, 128usize);
    let freq = |i: usize| {
        if i < k / 2 {
            i as f64
        } else {
            i as f64 - k as f64
        }
    };
    let gain = ((m / k) * (m / k)) as f64;
    let mut img = vec![0.0f64; m * m];
    let tau = std::f64::consts::TAU;
    for ch in 0..2 {
        for a in 0..k {
            for b in 0..k {
                let re = v[(2 * ch) * 256 + a * k + b];
                let im = v[(2 * ch + 1) * 256 + a * k + b];
                for i in 0..m {
                    for j in 0..m {
                        let ang = tau * (freq(a) * i as f64 + freq(b) * j as f64) / m as f64;
                        img[i * m + j] += gain * (re * ang.cos() - im * ang.sin()) / (m * m) as f64;
                    }
                }
            }
        }
    }
    let n = img.len() as f64;
    let mean = img.iter().sum::<f64>() / n;
    let std = (img.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0))
        .sqrt()
        .max(1e-6);
    let logits: Vec<f64> = img.iter().map(|x| 4.0 * (x - mean) / std).collect();
    let mx = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = logits.iter().map(|l| (l - mx).exp()).collect();
    let z: f64 = w.iter().sum();
    let ex: f64 = w
        .iter()
        .enumerate()
        .map(|(q, w)| w * (q / m) as f64)
        .sum::<f64>()
        / z;
    let ey: f64 = w
        .iter()
        .enumerate()
        .map(|(q, w)| w * (q % m) as f64)
        .sum::<f64>()
        / z;
    let want = [
        (-4.0 + ex * 8.0 / m as f64) * s,
        (-4.0 + ey * 8.0 / m as f64) * s,
    ];
    assert!(
        (got[0] - want[0]).abs() < 1e-8 && (got[1] - want[1]).abs() < 1e-8,
        "{got:?} vs {want:?}"
    );
}
