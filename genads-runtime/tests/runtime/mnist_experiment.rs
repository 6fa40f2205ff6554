//! The image experiment end to end on a tiny synthetic image set (no MNIST needed): the Sobolev IR
//! prior on the 28×28 pixel modes, the vanilla (plain FFT) and image-as-source codecs inside the
//! experiment, a few training steps through the experiment's objective, sampling and the
//! classifier-feature evaluation beside the real-vs-real reference.

use candle_core::Device;
use genads_runtime::experiment::{
    DataSet, Experiment, ExperimentConfig, ImageExperiment, ImageReference,
};
use genads_runtime::mnist::classifier::Classifier;
use genads_runtime::mnist::dataset::ImageSet;
use genads_runtime::mnist::idx::IdxImages;
use genads_runtime::nn::{MlpConfig, NetConfig, Preset};
use genads_runtime::solver::Solver;
use genads_runtime::train::{Budget, TrainConfig, Trainer};

const VANILLA: &str = include_str!("../../../models/mnist/vanilla.genads");
const HERMITE: &str = include_str!("../../../models/mnist/ads_kg_hermite.genads");

/// `n` synthetic 28×28 "digits": a bright square whose position depends on the label.
fn images(n: usize, seed: usize) -> ImageSet {
    let mut pixels = vec![0u8; n * 784];
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let label = (i + seed) % 10;
        labels.push(label as u8);
        let (r0, c0) = (4 + 2 * (label % 5), 4 + 8 * (label / 5));
        for r in r0..r0 + 8 {
            for c in c0..c0 + 8 {
                pixels[i * 784 + r * 28 + c] = 200 + ((i * 7 + r + c) % 56) as u8;
            }
        }
    }
    let idx = IdxImages {
        count: n,
        rows: 28,
        cols: 28,
        pixels,
    };
    ImageSet::from_idx(&idx, labels).unwrap()
}

fn experiment(source: &str, name: &str, n: usize) -> ImageExperiment {
    let config = ExperimentConfig::image(
        DataSet::Mnist,
        source.to_string(),
        format!("models/mnist/{name}.genads"),
        name.to_string(),
    );
    let derived = genads_dsl::select(
        genads_dsl::compile(source, "test").expect("compiles"),
        Some(name),
    )
    .expect("one model");
    ImageExperiment::from_images(config, derived, images(n, 0)).expect("image experiment")
}

fn variance(v: &[f32]) -> f64 {
    let n = v.len() as f64;
    let m = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n
}

#[test]
fn sobolev_prior_on_the_pixel_modes() {
    // PAPER.md §5.1: φ̃_j ~ N(0, (1 + |k|²)^-1), π̃_j ~ N(0, 0.55 (1 + |k|²)^-1), k = 2π·fftfreq(28).
    let e = experiment(VANILLA, "mnist_vanilla", 20);
    let mut rng = genads_runtime::rng::seeded(3);
    let b = 2000;
    let s = e.prior(&mut rng, b).unwrap();
    assert_eq!(s.phi.dims(), &[b, 2, 28, 28]);
    let phi: Vec<f32> = s.phi.flatten_all().unwrap().to_vec1().unwrap();
    let pi: Vec<f32> = s.pi.flatten_all().unwrap().to_vec1().unwrap();
    let k = |i: usize| {
        let f = if i < 14 { i as f64 } else { i as f64 - 28.0 };
        2.0 * std::f64::consts::PI * f / 28.0
    };
    // Modes (0, 0), (0, 1), (3, 5) and (14, 14); Re channel 0 of every sample.
    for (r, c) in [(0usize, 0usize), (0, 1), (3, 5), (14, 14)] {
        let k2 = k(r).powi(2) + k(c).powi(2);
        let pick = |v: &[f32]| -> Vec<f32> { (0..b).map(|i| v[i * 1568 + r * 28 + c]).collect() };
        for (vals, scale) in [(pick(&phi), 1.0), (pick(&pi), 0.55)] {
            let want = scale / (1.0 + k2);
            let got = variance(&vals);
            // 2000 samples: relative standard error of a variance ≈ √(2/2000) ≈ 3%.
            assert!(
                (got / want - 1.0).abs() < 0.15,
                "mode ({r},{c}) variance {got} vs {want}"
            );
        }
    }
}

#[test]
fn codecs_of_the_vanilla_and_image_as_source_models() {
    // Without lift noise the vanilla state is the orthonormal FFT of the normalised image: its
    // energy equals the image's (Parseval) and π̃ is pure lift noise of σ = 0.1.
    let e = experiment(VANILLA, "mnist_vanilla", 30);
    let set = &e.images;
    let batch = set.image_batch(&[0, 1, 2]).unwrap();
    let s = e
        .codec()
        .encode(
            &genads_runtime::encode::DataBatch::Images(batch.clone()),
            None,
        )
        .unwrap();
    let (mean, std) = genads_runtime::mnist::dataset::normalisation_stats(set, 1000).unwrap();
    let phi: Vec<f32> = s.phi.flatten_all().unwrap().to_vec1().unwrap();
    for i in 0..3 {
        let energy: f64 = phi[i * 1568..(i + 1) * 1568]
            .iter()
            .map(|&v| (v as f64).powi(2))
            .sum();
        let pixels: f64 = batch.pixels[i * 784..(i + 1) * 784]
            .iter()
            .map(|&p| ((p as f64 - mean) / std).powi(2))
            .sum();
        assert!((energy / pixels - 1.0).abs() < 1e-4, "{energy} vs {pixels}");
    }
    let mut rng = genads_runtime::rng::seeded(1);
    let lifted = e.data_batch(&mut rng, 64).unwrap();
    let pi: Vec<f32> = lifted.pi.flatten_all().unwrap().to_vec1().unwrap();
    assert!((variance(&pi).sqrt() - 0.1).abs() < 0.005);
    // Decoding inverts encoding (both codecs).
    for (source, name) in [
        (VANILLA, "mnist_vanilla"),
        (HERMITE, "mnist_ads_kg_hermite"),
    ] {
        let e = experiment(source, name, 10);
        let s = e
            .codec()
            .encode(
                &genads_runtime::encode::DataBatch::Images(batch.clone()),
                None,
            )
            .unwrap();
        let back = e.codec().decode(&s.phi).unwrap();
        let back = back.images().unwrap();
        let err = back
            .pixels
            .iter()
            .zip(&batch.pixels)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(err < 1e-4, "{name}: round trip error {err}");
    }
}

#[test]
fn train_sample_and_evaluate_a_tiny_image_run() {
    for (source, name) in [
        (VANILLA, "mnist_vanilla"),
        (HERMITE, "mnist_ads_kg_hermite"),
    ] {
        let e = experiment(source, name, 40);
        let mut cfg = TrainConfig::for_preset(Preset::Quick, e.kind());
        cfg.net = NetConfig::Mlp(MlpConfig {
            hidden: 32,
            depth: 2,
            time_dim: 8,
            time_scale: 1000,
            ..MlpConfig::PAPER
        });
        cfg.budget = Budget::Steps(3);
        cfg.batch_size = 8;
        cfg.dataset_size = e.train_len() as u64;
        cfg.seed = 2;
        let mut trainer = Trainer::new(cfg, e.model_spec(), None, serde_json::Value::Null).unwrap();
        let mut objective = e.objective();
        let losses: Vec<f64> = (0..3)
            .map(|_| trainer.train_step(&mut objective).unwrap())
            .collect();
        drop(objective);
        assert!(
            losses.iter().all(|l| l.is_finite() && *l > 0.0),
            "{losses:?}"
        );

        let solver = Solver::Euler { steps: 2 };
        let mut rng = genads_runtime::rng::seeded(4);
        let (pixels, nfe) = e
            .sample_images(trainer.ema_net(), 6, 4, &solver, &mut rng)
            .unwrap();
        assert_eq!((pixels.len(), nfe), (6 * 784, 2 * 2));
        assert!(pixels.iter().all(|p| p.is_finite()));

        // An untrained classifier is enough to exercise the metric wiring.
        let classifier = Classifier::new(0, &Device::Cpu).unwrap();
        let reference = ImageReference::new(classifier, images(12, 3), images(20, 5)).unwrap();
        e.set_image_reference(reference).unwrap();
        let eval = e.evaluate_images(trainer.ema_net(), 8, &solver, 1).unwrap();
        assert_eq!(eval.report.generated.n, 8);
        assert_eq!(eval.report.reference.n, 8);
        for key in [
            "fid",
            "kid",
            "precision",
            "recall",
            "min_class",
            "ref_fid",
            "ref_kid",
            "class0",
            "class9",
            "nfe",
        ] {
            assert!(eval.metrics[key].is_finite(), "{name}: {key}");
        }
        let fractions: f64 = (0..10).map(|c| eval.metrics[&format!("class{c}")]).sum();
        assert!((fractions - 1.0).abs() < 1e-12);
        // The generic evaluation dispatches to the image metrics.
        let generic = e.evaluate(trainer.ema_net(), 8, &solver, 1).unwrap();
        assert_eq!(generic.metrics["fid"], eval.metrics["fid"]);
        assert!(generic.points.is_empty());
    }
}

/// v = 10⁻⁶·S: no motion to speak of and a divergence of 3·10⁻³ over 3,136 components, but a
/// velocity that depends on the state (candle drops a multiplication by 0 from the graph).
struct Still;

impl genads_runtime::nn::VelocityNet for Still {
    fn forward(
        &self,
        state: &genads_runtime::State,
        _t: &candle_core::Tensor,
    ) -> candle_core::Result<genads_runtime::State> {
        Ok(genads_runtime::State {
            phi: (&state.phi * 1e-6)?,
            pi: (&state.pi * 1e-6)?,
        })
    }
}

#[test]
fn bits_per_mode_of_a_still_flow_is_the_prior_density() {
    use genads_runtime::encode::{DataBatch, ImageBatch};
    use genads_runtime::mnist::bpm::LikelihoodConfig;
    // With v ≈ 0, S₀ = S₁ and log p = log μ_IR(S₁). Oracle, from the model file's prior
    // (φ̃: 1/(1 + |k|²), π̃: 0.55/(1 + |k|²), k = 2π·fftfreq(28) per axis, Re and Im each) and its
    // lift noise σ = 0.1 on π̃ (in expectation: E Σ (σz)²/v = σ² Σ 1/v):
    // log p = −½ Σ_φ φ̃²/v_φ − ½ σ² Σ_π 1/v_π − ½ Σ ln(2π v); BPM = −log p / (1568 ln 2).
    let e = experiment(VANILLA, "mnist_vanilla", 40);
    let test = images(6, 3);
    let cfg = LikelihoodConfig {
        steps: 3,
        ..LikelihoodConfig::default()
    };
    let got = e.bits_per_mode(&Still, &test, 6, 4, &cfg).unwrap();
    assert_eq!((got.per_image.len(), got.modes), (6, 1568));

    let freq = |i: usize| {
        let f = if i < 14 { i as f64 } else { i as f64 - 28.0 };
        2.0 * std::f64::consts::PI * f / 28.0
    };
    let mut v_phi = Vec::new();
    for r in 0..28 {
        for c in 0..28 {
            v_phi.push(1.0 / (1.0 + freq(r).powi(2) + freq(c).powi(2)));
        }
    }
    let log_norm: f64 = v_phi
        .iter()
        .map(|v| {
            2.0 * ((2.0 * std::f64::consts::PI * v).ln()
                + (2.0 * std::f64::consts::PI * 0.55 * v).ln())
        })
        .sum::<f64>();
    let pi_noise: f64 = v_phi.iter().map(|v| 2.0 * 0.01 / (0.55 * v)).sum();
    let batch: ImageBatch = test.image_batch(&(0..6).collect::<Vec<_>>()).unwrap();
    let clean = e.codec().encode(&DataBatch::Images(batch), None).unwrap();
    let phi: Vec<f32> = clean.phi.flatten_all().unwrap().to_vec1().unwrap();
    for (i, bpm) in got.per_image.iter().enumerate() {
        let quad: f64 = (0..2 * 784)
            .map(|j| (phi[i * 1568 + j] as f64).powi(2) / v_phi[j % 784])
            .sum();
        let log_p = -0.5 * (quad + pi_noise + log_norm);
        let want = -log_p / (1568.0 * std::f64::consts::LN_2);
        // The lift noise's own spread: ≈ 0.005 bits per mode.
        assert!((bpm - want).abs() < 0.03, "image {i}: {bpm} vs {want}");
    }
    // Point data runs have no bits per mode; bad counts are errors.
    assert!(e.bits_per_mode(&Still, &test, 7, 4, &cfg).is_err());
    assert!(e.bits_per_mode(&Still, &test, 0, 4, &cfg).is_err());
}
