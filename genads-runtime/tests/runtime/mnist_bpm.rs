//! The change-of-variables likelihood against a flow with a known density: dS/dt = (1 + t) A S
//! with a Gaussian prior pushes N(0, Σ₀) forward by M = exp(1.5 A), so
//! log p₁(x) = log N(M⁻¹x; 0, Σ₀) − 1.5 Tr A exactly.

use candle_core::{Device, Tensor};
use genads_runtime::mnist::bpm::{
    bits_per_mode, gaussian_log_density, log_likelihood, Divergence, LikelihoodConfig, Stepper,
};
use nalgebra::{DMatrix, DVector};

const A: [f64; 9] = [0.3, 0.5, -0.2, -0.4, 0.1, 0.3, 0.2, -0.1, 0.6];
const VAR: [f64; 3] = [1.0, 0.5, 2.0];

fn field(s: &Tensor, t: f64) -> candle_core::Result<Tensor> {
    let a: Vec<f32> = A.iter().map(|&v| v as f32).collect();
    let a = Tensor::from_vec(a, (3, 3), s.device())?;
    // rows are samples: v = (1 + t) S Aᵀ
    s.matmul(&a.t()?)? * (1.0 + t)
}

fn exact(points: &[[f64; 3]]) -> Vec<f64> {
    let a = DMatrix::from_row_slice(3, 3, &A);
    let m_inv = (a.clone() * 1.5).exp().try_inverse().unwrap();
    points
        .iter()
        .map(|p| {
            let s0 = &m_inv * DVector::from_row_slice(p);
            let lp0: f64 = (0..3)
                .map(|j| {
                    -0.5 * (s0[j] * s0[j] / VAR[j] + (2.0 * std::f64::consts::PI * VAR[j]).ln())
                })
                .sum();
            lp0 - 1.5 * a.trace()
        })
        .collect()
}

fn run(cfg: &LikelihoodConfig, points: &[[f64; 3]]) -> Vec<f64> {
    let flat: Vec<f32> = points.iter().flatten().map(|&v| v as f32).collect();
    let x = Tensor::from_vec(flat, (points.len(), 3), &Device::Cpu).unwrap();
    let prior = |s: &Tensor| gaussian_log_density(s, &VAR);
    log_likelihood(&field, &x, &prior, cfg).unwrap()
}

const POINTS: [[f64; 3]; 3] = [[0.5, -1.0, 0.2], [1.5, 0.3, -0.7], [-0.2, 0.1, 2.0]];

#[test]
fn exact_divergence_rk4_matches_the_closed_form_density() {
    let cfg = LikelihoodConfig {
        steps: 40,
        stepper: Stepper::Rk4,
        divergence: Divergence::Exact,
        seed: 0,
    };
    let got = run(&cfg, &POINTS);
    for (g, w) in got.iter().zip(exact(&POINTS)) {
        // the opposite sign of the divergence term would be off by 2·1.5·Tr A = 3
        assert!((g - w).abs() < 1e-3, "{g} vs {w}");
    }
}

#[test]
fn euler_and_hutchinson_converge_to_it() {
    let want = exact(&POINTS);
    let euler = run(
        &LikelihoodConfig {
            steps: 400,
            stepper: Stepper::Euler,
            divergence: Divergence::Exact,
            seed: 0,
        },
        &POINTS,
    );
    for (g, w) in euler.iter().zip(&want) {
        assert!((g - w).abs() < 2e-2, "euler {g} vs {w}");
    }
    let hutch = run(
        &LikelihoodConfig {
            steps: 40,
            stepper: Stepper::Rk4,
            divergence: Divergence::Hutchinson { probes: 64 },
            seed: 5,
        },
        &POINTS,
    );
    for (g, w) in hutch.iter().zip(&want) {
        assert!((g - w).abs() < 0.1, "hutchinson {g} vs {w}");
    }
}

#[test]
fn bits_per_mode_definition() {
    // log p = −D ln 2 per sample is exactly one bit per mode
    let d = 1568;
    let lp = vec![-(d as f64) * std::f64::consts::LN_2; 4];
    assert!((bits_per_mode(&lp, d).unwrap() - 1.0).abs() < 1e-12);
    assert!(bits_per_mode(&[], d).is_err());
}

#[test]
fn likelihood_runs_through_the_unet() {
    use candle_core::DType;
    use candle_nn::{VarBuilder, VarMap};
    use genads_runtime::mnist::bpm::{join_state, split_state};
    use genads_runtime::nn::unet::{UNet, UNetConfig};
    use genads_runtime::nn::{init_seeded, Preset, VelocityNet};

    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    let net = UNet::new(&UNetConfig::preset(Preset::Quick), 2, false, vb).unwrap();
    init_seeded(&vm, 4).unwrap();
    let field = |x: &Tensor, t: f64| -> candle_core::Result<Tensor> {
        let s = split_state(x).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        let tt = Tensor::from_vec(vec![t as f32; x.dim(0)?], x.dim(0)?, x.device())?;
        let v = net.forward(&s, &tt)?;
        Tensor::cat(&[&v.phi, &v.pi], 1)
    };
    let mut rng = genads_runtime::rng::seeded(9);
    let phi = genads_runtime::rng::normal_tensor(&mut rng, &[2, 2, 28, 28], 1.0).unwrap();
    let pi = genads_runtime::rng::normal_tensor(&mut rng, &[2, 2, 28, 28], 1.0).unwrap();
    let x = join_state(&genads_runtime::State { phi, pi }).unwrap();
    let var = vec![1.0; 4 * 28 * 28];
    let prior = |s: &Tensor| gaussian_log_density(s, &var);
    let cfg = LikelihoodConfig {
        steps: 2,
        ..LikelihoodConfig::default()
    };
    let lp = log_likelihood(&field, &x, &prior, &cfg).unwrap();
    assert_eq!(lp.len(), 2);
    assert!(lp.iter().all(|v| v.is_finite()));
    assert!(bits_per_mode(&lp, 2 * 28 * 28).unwrap().is_finite());
}
