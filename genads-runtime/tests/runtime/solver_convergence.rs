//! ODE solvers against a linear non-autonomous ODE with a closed-form solution.
//!
//! dφ/dt = a(t)φ + w(t)π,  dπ/dt = −w(t)φ + a(t)π  with a(t) = cos t, w(t) = 1 + t.
//! Solution: (φ, π)(t) = e^{sin t} R(θ(t)) (φ₀, π₀), θ(t) = t + t²/2, R a rotation:
//! φ = e^{sin t}(φ₀ cos θ + π₀ sin θ), π = e^{sin t}(−φ₀ sin θ + π₀ cos θ).

use candle_core::{DType, Device, Tensor};
use genads_runtime::solver::{Solver, SolverKind};
use genads_runtime::{Result, State};

fn state(phi: &[f64], pi: &[f64], dtype: DType) -> State {
    let d = Device::Cpu;
    let n = phi.len();
    State {
        phi: Tensor::from_slice(phi, (n, 1), &d)
            .unwrap()
            .to_dtype(dtype)
            .unwrap(),
        pi: Tensor::from_slice(pi, (n, 1), &d)
            .unwrap()
            .to_dtype(dtype)
            .unwrap(),
    }
}

fn velocity(s: &State, t: f64) -> Result<State> {
    let (a, w) = (t.cos(), 1.0 + t);
    Ok(State {
        phi: (s.phi.affine(a, 0.0)? + s.pi.affine(w, 0.0)?)?,
        pi: (s.phi.affine(-w, 0.0)? + s.pi.affine(a, 0.0)?)?,
    })
}

fn exact(phi0: &[f64], pi0: &[f64], t: f64) -> (Vec<f64>, Vec<f64>) {
    let g = t.sin().exp();
    let th = t + 0.5 * t * t;
    let (c, s) = (th.cos(), th.sin());
    let phi = phi0
        .iter()
        .zip(pi0)
        .map(|(p, q)| g * (p * c + q * s))
        .collect();
    let pi = phi0
        .iter()
        .zip(pi0)
        .map(|(p, q)| g * (-p * s + q * c))
        .collect();
    (phi, pi)
}

const PHI0: [f64; 3] = [1.0, -0.5, 0.25];
const PI0: [f64; 3] = [0.0, 2.0, -1.0];

fn to_vec(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Max-norm global error at t = 1.
fn global_error(solver: Solver, dtype: DType) -> (f64, usize) {
    let (s, nfe) = solver.solve(state(&PHI0, &PI0, dtype), velocity).unwrap();
    let (ephi, epi) = exact(&PHI0, &PI0, 1.0);
    let err = to_vec(&s.phi)
        .iter()
        .zip(&ephi)
        .chain(to_vec(&s.pi).iter().zip(&epi))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    (err, nfe)
}

fn observed_order(make: impl Fn(usize) -> Solver, n: usize) -> f64 {
    let (e1, _) = global_error(make(n), DType::F64);
    let (e2, _) = global_error(make(2 * n), DType::F64);
    let p = (e1 / e2).log2();
    eprintln!(
        "{:?}: error {e1:.3e} -> {e2:.3e}, observed order {p:.4}",
        make(n)
    );
    p
}

#[test]
fn euler_is_first_order() {
    let p = observed_order(|steps| Solver::Euler { steps }, 200);
    assert!((p - 1.0).abs() < 0.05, "Euler order {p}");
}

#[test]
fn heun_is_second_order() {
    let p = observed_order(|steps| Solver::Heun { steps }, 50);
    assert!((p - 2.0).abs() < 0.1, "Heun order {p}");
}

#[test]
fn rk4_is_fourth_order() {
    let p = observed_order(|steps| Solver::Rk4 { steps }, 10);
    assert!((p - 4.0).abs() < 0.2, "RK4 order {p}");
}

#[test]
fn fixed_step_nfe() {
    assert_eq!(global_error(Solver::Euler { steps: 7 }, DType::F64).1, 7);
    assert_eq!(global_error(Solver::Heun { steps: 7 }, DType::F64).1, 14);
    assert_eq!(global_error(Solver::Rk4 { steps: 7 }, DType::F64).1, 28);
}

#[test]
fn rk4_in_f32_matches_to_single_precision() {
    // The paper's setting: RK4, 100 steps, f32 tensors.
    let (err, nfe) = global_error(Solver::Rk4 { steps: 100 }, DType::F32);
    assert_eq!(nfe, 400);
    // Truncation error ~1e-9; what remains is f32 rounding accumulated over 100 steps (entries ≤ ~5).
    assert!(err < 1e-5, "f32 RK4-100 error {err}");
}

#[test]
fn dopri5_meets_its_tolerance() {
    let mut last_nfe = 0;
    for tol in [1e-4, 1e-7, 1e-10] {
        let solver = Solver::Dopri5 {
            rtol: tol,
            atol: tol,
            max_steps: 10_000,
        };
        let (err, nfe) = global_error(solver, DType::F64);
        // Solution entries are O(1–5): the global error stays within a small multiple of tol.
        assert!(err < 10.0 * tol, "tol {tol}: error {err}");
        assert!(
            nfe > last_nfe,
            "tighter tolerance must cost more evaluations ({nfe} ≤ {last_nfe})"
        );
        last_nfe = nfe;
    }
}

#[test]
fn dopri5_stats_are_consistent() {
    let solver = Solver::Dopri5 {
        rtol: 1e-6,
        atol: 1e-6,
        max_steps: 10_000,
    };
    let (_, stats) = solver
        .integrate(state(&PHI0, &PI0, DType::F64), 0.0, 1.0, velocity)
        .unwrap();
    // 2 evaluations for the start (k1 + initial-step probe), then 6 per attempted step (FSAL).
    assert_eq!(stats.nfe, 2 + 6 * (stats.accepted + stats.rejected));
    assert!(stats.accepted > 0);
}

#[test]
fn backward_integration_returns_to_start() {
    let solver = Solver::Rk4 { steps: 200 };
    let (s1, _) = solver
        .integrate(state(&PHI0, &PI0, DType::F64), 0.0, 1.0, velocity)
        .unwrap();
    let (s0, _) = solver.integrate(s1, 1.0, 0.0, velocity).unwrap();
    for (a, b) in to_vec(&s0.phi)
        .iter()
        .zip(PHI0)
        .chain(to_vec(&s0.pi).iter().zip(PI0))
    {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
    let adaptive = Solver::Dopri5 {
        rtol: 1e-9,
        atol: 1e-9,
        max_steps: 10_000,
    };
    let (s1, _) = adaptive
        .integrate(state(&PHI0, &PI0, DType::F64), 0.0, 1.0, velocity)
        .unwrap();
    let (s0, _) = adaptive.integrate(s1, 1.0, 0.0, velocity).unwrap();
    for (a, b) in to_vec(&s0.phi).iter().zip(PHI0) {
        assert!((a - b).abs() < 1e-7, "{a} vs {b}");
    }
}

#[test]
fn bad_inputs_are_errors() {
    let good = || state(&PHI0, &PI0, DType::F64);
    assert!(Solver::Euler { steps: 0 }.solve(good(), velocity).is_err());
    assert!(Solver::Rk4 { steps: 0 }.solve(good(), velocity).is_err());
    for (rtol, atol, max_steps) in [
        (0.0, 1e-6, 10),
        (1e-6, -1.0, 10),
        (f64::NAN, 1e-6, 10),
        (1e-6, 1e-6, 0),
    ] {
        assert!(Solver::Dopri5 {
            rtol,
            atol,
            max_steps
        }
        .solve(good(), velocity)
        .is_err());
    }
    let nan = state(&[1.0, f64::NAN, 0.0], &PI0, DType::F32);
    assert!(Solver::Rk4 { steps: 4 }
        .solve(nan.clone(), velocity)
        .is_err());
    assert!(Solver::Dopri5 {
        rtol: 1e-5,
        atol: 1e-5,
        max_steps: 100
    }
    .solve(nan, velocity)
    .is_err());
    let inf = state(&PHI0, &[0.0, f64::INFINITY, 0.0], DType::F64);
    assert!(Solver::Heun { steps: 4 }.solve(inf, velocity).is_err());
    // A velocity that produces NaN mid-way.
    let poison = |s: &State, t: f64| -> Result<State> {
        let v = velocity(s, t)?;
        if t > 0.5 {
            Ok(State {
                phi: v.phi.affine(f64::NAN, 0.0)?,
                pi: v.pi,
            })
        } else {
            Ok(v)
        }
    };
    assert!(Solver::Rk4 { steps: 10 }.solve(good(), poison).is_err());
    assert!(Solver::Dopri5 {
        rtol: 1e-5,
        atol: 1e-5,
        max_steps: 100
    }
    .solve(good(), poison)
    .is_err());
    // A velocity of the wrong shape.
    let wrong = |s: &State, _t: f64| -> Result<State> {
        Ok(State {
            phi: s.phi.narrow(0, 0, 1)?,
            pi: s.pi.clone(),
        })
    };
    assert!(Solver::Euler { steps: 3 }.solve(good(), wrong).is_err());
    // A step budget too small for the tolerance.
    assert!(Solver::Dopri5 {
        rtol: 1e-12,
        atol: 1e-12,
        max_steps: 3
    }
    .solve(good(), velocity)
    .is_err());
}

#[test]
fn solver_kinds_parse_and_build() {
    for kind in SolverKind::ALL {
        assert_eq!(kind.name().parse::<SolverKind>().unwrap(), kind);
        assert_eq!(
            Solver::from_kind(kind, 10, 1e-5, 1000).unwrap().kind(),
            kind
        );
    }
    assert_eq!(" RK4 ".parse::<SolverKind>().unwrap(), SolverKind::Rk4);
    assert!("rk45".parse::<SolverKind>().is_err());
    assert_eq!(
        Solver::from_kind(SolverKind::Rk4, 100, 0.0, 0).unwrap(),
        Solver::default()
    );
    assert!(Solver::from_kind(SolverKind::Heun, 0, 1e-5, 10).is_err());
    assert!(Solver::from_kind(SolverKind::Dopri5, 10, -1.0, 10).is_err());
}

#[test]
fn dopri5_on_f32_states() {
    // The sampling setting: f32 tensors, error norm accumulated in f64.
    let solver = Solver::Dopri5 {
        rtol: 1e-5,
        atol: 1e-5,
        max_steps: 1000,
    };
    let (err, nfe) = global_error(solver, DType::F32);
    assert!(err < 1e-4, "error {err}");
    assert!(nfe < 200, "nfe {nfe}");
}
