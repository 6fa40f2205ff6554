//! Sampling = prior + ODE solve of backbone + network residual, in batches.

use candle_core::{DType, Device, Tensor};
use genads_runtime::interpreter::Interpreted;
use genads_runtime::nn::VelocityNet;
use genads_runtime::rng::{normal_vec, seeded};
use genads_runtime::sample::{sample_states, sample_with};
use genads_runtime::solver::Solver;
use genads_runtime::{Modes, Result, State};
use rand_chacha::ChaCha8Rng;

/// Plain flow matching: no backbone (α = 0), linear path: the velocity is the network's output.
fn flow_matching() -> Interpreted {
    let src = "model fm {\n boundary 2\n warp 1\n radial 0 -> 1\n field massless\n backbone off\n \
               path linear\n prior phi uniform 1.0, pi uniform 0.55\n encoding none lift 0.1\n \
               loss unweighted\n}\n";
    let derived = genads_dsl::compile(src, "fm.genads")
        .expect("model compiles")
        .remove(0);
    Interpreted::new(derived).expect("interprets")
}

fn point_modes() -> Modes {
    Modes {
        k2: Tensor::zeros((1, 1), DType::F32, &Device::Cpu).unwrap(),
    }
}

/// Row-by-row prior draws (φ row then π row), so the stream does not depend on the batching.
fn prior(dim: usize) -> impl FnMut(&mut ChaCha8Rng, usize) -> Result<State> {
    move |rng: &mut ChaCha8Rng, b: usize| {
        let (mut phi, mut pi) = (Vec::new(), Vec::new());
        for _ in 0..b {
            phi.extend(normal_vec(rng, dim, 1.0).into_iter().map(|v| v as f32));
            pi.extend(normal_vec(rng, dim, 0.7).into_iter().map(|v| v as f32));
        }
        Ok(State {
            phi: Tensor::from_vec(phi, (b, dim), &Device::Cpu)?,
            pi: Tensor::from_vec(pi, (b, dim), &Device::Cpu)?,
        })
    }
}

/// v(S, t) = (t·a, S_π·b): φ gains a/2, π is scaled by e^b at t = 1.
struct TestNet {
    a: f64,
    b: f64,
}

impl VelocityNet for TestNet {
    fn forward(&self, state: &State, t: &Tensor) -> candle_core::Result<State> {
        let t = t
            .reshape((t.dims()[0], 1))?
            .broadcast_as(state.phi.shape())?;
        Ok(State {
            phi: t.affine(self.a, 0.0)?,
            pi: state.pi.affine(self.b, 0.0)?,
        })
    }
}

fn to_vec(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

#[test]
fn samples_follow_the_network_velocity() {
    let physics = flow_matching();
    let net = TestNet { a: 3.0, b: 0.5 };
    let modes = point_modes();
    let mut p = prior(2);
    let (s, nfe) = sample_states(
        &physics,
        &net,
        &mut p,
        7,
        3,
        &Solver::Rk4 { steps: 20 },
        &mut seeded(4),
        &modes,
    )
    .unwrap();
    // 3 batches (3 + 3 + 1) of 20 RK4 steps.
    assert_eq!(nfe, 3 * 80);
    assert_eq!(s.phi.dims(), &[7, 2]);
    // The same prior stream, unbatched.
    let s0 = prior(2)(&mut seeded(4), 7).unwrap();
    for (got, start) in to_vec(&s.phi).iter().zip(to_vec(&s0.phi)) {
        assert!(
            (got - (start + 1.5)).abs() < 1e-5,
            "φ: {got} vs {}",
            start + 1.5
        );
    }
    let g = 0.5f32.exp();
    for (got, start) in to_vec(&s.pi).iter().zip(to_vec(&s0.pi)) {
        assert!((got - start * g).abs() < 1e-5, "π: {got} vs {}", start * g);
    }
}

#[test]
fn batching_does_not_change_the_samples() {
    let velocity = |s: &State, t: f64| -> Result<State> {
        Ok(State {
            phi: s.pi.affine(1.0 + t, 0.0)?,
            pi: s.phi.affine(-1.0, 0.0)?,
        })
    };
    let solver = Solver::Heun { steps: 10 };
    let (a, nfe_a) = sample_with(&mut prior(3), velocity, 10, 10, &solver, &mut seeded(1)).unwrap();
    let (b, nfe_b) = sample_with(&mut prior(3), velocity, 10, 4, &solver, &mut seeded(1)).unwrap();
    assert_eq!(to_vec(&a.phi), to_vec(&b.phi));
    assert_eq!(to_vec(&a.pi), to_vec(&b.pi));
    assert_eq!((nfe_a, nfe_b), (20, 60));
}

#[test]
fn bad_requests_are_errors() {
    let v = |s: &State, _t: f64| -> Result<State> { Ok(s.clone()) };
    let solver = Solver::Euler { steps: 2 };
    assert!(sample_with(&mut prior(2), v, 0, 4, &solver, &mut seeded(1)).is_err());
    assert!(sample_with(&mut prior(2), v, 4, 0, &solver, &mut seeded(1)).is_err());
    assert!(sample_with(
        &mut prior(2),
        v,
        4,
        4,
        &Solver::Rk4 { steps: 0 },
        &mut seeded(1)
    )
    .is_err());
    let mut short = |rng: &mut ChaCha8Rng, _b: usize| prior(2)(rng, 1);
    assert!(sample_with(&mut short, v, 4, 4, &solver, &mut seeded(1)).is_err());
}

/// A network with trainable weights: its output carries the autograd graph.
struct VarNet {
    w: candle_core::Var,
}

impl VelocityNet for VarNet {
    fn forward(&self, state: &State, _t: &Tensor) -> candle_core::Result<State> {
        Ok(State {
            phi: state.phi.broadcast_mul(self.w.as_tensor())?,
            pi: state.pi.broadcast_mul(self.w.as_tensor())?,
        })
    }
}

/// Sampling must not chain solver stages onto the network's autograd graph: with a trainable
/// network the velocity used by the solver is detached (before the fix every stage kept all
/// earlier tensors alive: 2.2 GB resident for 2,000 points × 80 evaluations).
#[test]
fn sampling_velocities_carry_no_autograd_graph() {
    let net = VarNet {
        w: candle_core::Var::from_tensor(&Tensor::new(&[0.5f32], &Device::Cpu).unwrap()).unwrap(),
    };
    let state = prior(2)(&mut seeded(3), 4).unwrap();
    let raw = net.forward(&state, &Tensor::zeros(4, DType::F32, &Device::Cpu).unwrap());
    assert!(
        raw.unwrap().phi.track_op(),
        "the test network must be tracked"
    );
    let v =
        genads_runtime::sample::flow_velocity(&flow_matching(), &net, &point_modes(), &state, 0.3)
            .unwrap();
    assert!(!v.phi.track_op() && !v.pi.track_op());
    assert_eq!(to_vec(&v.phi), to_vec(&(state.phi * 0.5).unwrap()));
}

/// Paper model #2 (AdS + Klein–Gordon backbone, linear path): α ≠ 0.
fn klein_gordon() -> Interpreted {
    let src = include_str!("../../../models/ads_kg_linear.genads");
    let derived = genads_dsl::compile(src, "ads_kg_linear.genads")
        .expect("model compiles")
        .remove(0);
    Interpreted::new(derived).expect("interprets")
}

/// A network that asks for the backbone and returns exactly its negative (a residual that
/// cancels it), recording whether it was given one.
struct CancellingNet {
    given: std::sync::Mutex<Vec<bool>>,
}

impl VelocityNet for CancellingNet {
    fn forward(&self, state: &State, t: &Tensor) -> candle_core::Result<State> {
        self.forward_with_backbone(state, t, None)
    }

    fn wants_backbone(&self) -> bool {
        true
    }

    fn forward_with_backbone(
        &self,
        state: &State,
        _t: &Tensor,
        backbone: Option<&State>,
    ) -> candle_core::Result<State> {
        self.given.lock().unwrap().push(backbone.is_some());
        match backbone {
            Some(b) => Ok(State {
                phi: b.phi.neg()?,
                pi: b.pi.neg()?,
            }),
            None => Ok(State {
                phi: state.phi.zeros_like()?,
                pi: state.pi.zeros_like()?,
            }),
        }
    }
}

/// The backbone handed to a network is the one the flow adds (same state, same t): a residual
/// of −backbone leaves a zero flow velocity. Training hands it over too; models without a
/// backbone (α = 0) hand none.
#[test]
fn networks_that_ask_for_the_backbone_get_the_flows_own() {
    use genads_runtime::train::{FlowObjective, Objective};
    let dev = Device::Cpu;
    let k = 4;
    let k2: Vec<f32> = (0..k * k).map(|i| 1.0 + i as f32).collect();
    let modes = Modes {
        k2: Tensor::from_vec(k2, (1, 1, k, k), &dev).unwrap(),
    };
    let draw = |seed: u64| {
        let mut rng = seeded(seed);
        let v: Vec<f32> = normal_vec(&mut rng, 3 * 4 * k * k, 1.0)
            .into_iter()
            .map(|x| x as f32)
            .collect();
        Tensor::from_vec(v, (3, 4, k, k), &dev).unwrap()
    };
    let state = State {
        phi: draw(1),
        pi: draw(2),
    };
    let net = CancellingNet {
        given: Default::default(),
    };
    let physics = klein_gordon();
    for t in [0.0, 0.37, 1.0] {
        let v = genads_runtime::sample::flow_velocity(&physics, &net, &modes, &state, t).unwrap();
        let size = |x: &Tensor| to_vec(x).iter().fold(0f64, |m, v| m.max(v.abs() as f64));
        assert!(size(&v.phi) < 1e-4 && size(&v.pi) < 1e-3, "t = {t}");
    }
    // The backbone is far from zero here, so the cancellation above is not vacuous.
    let bare = genads_runtime::sample::flow_velocity(
        &physics,
        &VarNet {
            w: candle_core::Var::from_tensor(&Tensor::new(&[0f32], &dev).unwrap()).unwrap(),
        },
        &modes,
        &state,
        0.37,
    )
    .unwrap();
    assert!(to_vec(&bare.pi).iter().any(|v| v.abs() > 1.0));
    assert!(net.given.lock().unwrap().iter().all(|&g| g));
    // Training: the objective hands the backbone over for α ≠ 0 and nothing for α = 0.
    for (physics, expect, point) in [
        (klein_gordon(), true, false),
        (flow_matching(), false, true),
    ] {
        let m = if point { point_modes() } else { modes.clone() };
        let shape = state.phi.dims().to_vec();
        let batch = move |_: &mut ChaCha8Rng, b: usize| -> Result<State> {
            let dims = if point {
                vec![b, 2]
            } else {
                [vec![b], shape[1..].to_vec()].concat()
            };
            Ok(State {
                phi: Tensor::ones(dims.as_slice(), DType::F32, &Device::Cpu)?,
                pi: Tensor::ones(dims.as_slice(), DType::F32, &Device::Cpu)?,
            })
        };
        let mut objective = FlowObjective {
            physics: &physics,
            modes: &m,
            data: Box::new(batch.clone()),
            prior: Box::new(batch),
        };
        net.given.lock().unwrap().clear();
        objective.loss(&net, &mut seeded(5), 3).unwrap();
        assert_eq!(*net.given.lock().unwrap(), vec![expect]);
    }
}
