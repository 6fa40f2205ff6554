//! Hand-built `Derived` models for the physics tests (the language's `compile` is not used here so
//! that these tests pin the runtime alone), small tensor helpers and an oracle for K_ν.
#![allow(dead_code)]

use candle_core::{DType, Device, Tensor};
use genads_dsl::derived::{
    Affine, Backbone, Constants, Derived, Encoding, Normalisation, PathKind, Prior, PriorComponent,
    Propagator,
};
use genads_dsl::Expr;
use genads_runtime::{Modes, State};

fn n(x: f64) -> Expr {
    Expr::num(x)
}
fn r() -> Expr {
    Expr::sym("r")
}

fn base(name: &str, d: u32, delta: f64, r_ir: f64, r_uv: f64) -> Derived {
    let comp = PriorComponent {
        scale: 1.0,
        sobolev_power: 0.0,
    };
    Derived {
        constants: Constants {
            name: name.into(),
            signature: "test".into(),
            d,
            delta,
            nu: delta - d as f64 / 2.0,
            m2: delta * (delta - d as f64),
            r_ir,
            r_uv,
            alpha: 1.0,
            stabilised: true,
            path: PathKind::Linear,
            prior: Prior {
                phi: comp,
                pi: comp,
            },
            encoding: Encoding::Propagator,
            propagator: Propagator::Numerical,
            lift_noise: 0.0,
            omega_weighting: true,
            ir_tip: None,
        },
        massless: false,
        normalisation: Normalisation::Clean,
        params: vec![],
        warp: n(1.0),
        omega: n(1.0),
        omega_prime: n(0.0),
        friction: n(0.0),
        inv_f2: n(1.0),
        backbone: Backbone {
            friction: n(0.0),
            laplacian: n(1.0),
            mass: n(0.0),
        },
        backbone_unstabilised: Backbone {
            friction: n(0.0),
            laplacian: n(1.0),
            mass: n(0.0),
        },
        affine: Affine::Numerical,
        ads_radius: None,
        exact: Default::default(),
        spans: Default::default(),
    }
}

/// Planar AdS_{d+1}, f = e^r, scaling dimension Δ, closed-form affine parameter.
pub fn ads(d: u32, delta: f64, r_ir: f64, r_uv: f64, path: PathKind) -> Derived {
    let df = d as f64;
    let mut m = base("ads", d, delta, r_ir, r_uv);
    m.constants.path = path;
    m.warp = r().exp();
    m.omega = (n(df) * r()).exp();
    m.omega_prime = n(df) * (n(df) * r()).exp();
    m.friction = n(df);
    m.inv_f2 = (n(-2.0) * r()).exp();
    m.backbone = Backbone {
        friction: n(-(2.0 * delta - df)),
        laplacian: (n(-2.0) * r()).exp(),
        mass: n(0.0),
    };
    m.backbone_unstabilised = Backbone {
        friction: n(-df),
        laplacian: (n(-2.0) * r()).exp(),
        mass: n(m.constants.m2),
    };
    let z = ((-df * r_ir).exp() - (-df * r_uv).exp()) / df;
    m.affine = Affine::ClosedForm {
        u: (n(1.0) - (n(-df) * (r() - n(r_ir))).exp()) / n(1.0 - (-df * (r_uv - r_ir)).exp()),
        dr_du: n(z) * (n(df) * r()).exp(),
        z,
        z_exact: n(z),
        antiderivative: n(0.0),
    };
    m.constants.propagator = Propagator::Ads { nu: m.constants.nu };
    m
}

/// The same AdS model in unstabilised variables Φ, Π.
pub fn ads_unstabilised(d: u32, delta: f64, r_ir: f64, r_uv: f64) -> Derived {
    let mut m = ads(d, delta, r_ir, r_uv, PathKind::Linear);
    m.constants.stabilised = false;
    m.backbone = m.backbone_unstabilised.clone();
    m
}

/// Hyperscaling-violating warp f = (p r)^(−γ), γ = (1−p)/p, massless, unstabilised, radial
/// Hermite path, u-bounds u_IR = 1, u_UV = e^(−1) (r = u^p/p), numerical affine parameter.
pub fn hsv(d: u32, p: f64, path: PathKind) -> Derived {
    let df = d as f64;
    let g = (1.0 - p) / p;
    let (r_ir, r_uv) = (1.0 / p, (-p).exp() / p);
    let mut m = base("hsv", d, df, r_ir, r_uv);
    m.massless = true;
    m.constants.m2 = 0.0;
    m.constants.stabilised = false;
    m.constants.path = path;
    m.warp = (n(p) * r()).pow(n(-g));
    m.omega = (n(p) * r()).pow(n(-df * g));
    m.omega_prime = n(-df * g) / r() * (n(p) * r()).pow(n(-df * g));
    m.friction = n(-df * g) / r();
    m.inv_f2 = (n(p) * r()).pow(n(2.0 * g));
    m.backbone = Backbone {
        friction: n(df * g) / r(),
        laplacian: (n(p) * r()).pow(n(2.0 * g)),
        mass: n(0.0),
    };
    m.backbone_unstabilised = m.backbone.clone();
    m.affine = Affine::Numerical;
    let beta = (1.0 + (df - 1.0) * (1.0 - p)) / 2.0;
    m.constants.propagator = Propagator::PowerLaw { p, beta };
    m
}

/// Flat space, f = 1 (stabilised backbone of PAPER.md §3.3), closed-form affine parameter.
pub fn flat(d: u32, delta: f64, path: PathKind, alpha: f64, encoding: Encoding) -> Derived {
    let df = d as f64;
    let mut m = base("flat", d, delta, 0.0, 1.0);
    m.constants.path = path;
    m.constants.alpha = alpha;
    m.constants.encoding = encoding;
    m.backbone = Backbone {
        friction: n(2.0 * df - 2.0 * delta),
        laplacian: n(1.0),
        mass: n(-df * (df - delta)),
    };
    m.affine = Affine::ClosedForm {
        u: r(),
        dr_du: n(1.0),
        z: 1.0,
        z_exact: n(1.0),
        antiderivative: r(),
    };
    m.constants.propagator = Propagator::Flat { mass2: 0.0 };
    m
}

/// A deterministic pseudo-random f64 sequence in (−1, 1) (tests only; no RNG crate needed).
pub fn values(len: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// A state of the given shape filled from `values(.., seed)`.
pub fn state(shape: &[usize], dtype: DType, seed: u64) -> State {
    let len: usize = shape.iter().product();
    let t = |s| {
        Tensor::from_vec(values(len, s), shape, &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap()
    };
    State {
        phi: t(seed),
        pi: t(seed + 1000),
    }
}

/// |k|² = 0.7·(i² + j²) on an h×w grid, shape (1, 1, h, w).
pub fn modes(h: usize, w: usize, dtype: DType) -> Modes {
    let v: Vec<f64> = (0..h * w)
        .map(|i| 0.7 * (((i / w) * (i / w)) + (i % w) * (i % w)) as f64)
        .collect();
    Modes {
        k2: Tensor::from_vec(v, (1, 1, h, w), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap(),
    }
}

/// Flattened f64 entries of a tensor.
pub fn to_vec(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

/// Largest |a − b| over two tensors of equal size.
pub fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    to_vec(a)
        .iter()
        .zip(to_vec(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Oracle: K_ν(x) = ∫_0^∞ e^(−x cosh s) cosh(ν s) ds by the trapezoid rule, which converges
/// exponentially fast for this smooth, even, rapidly decaying integrand (x ≳ 0.05).
pub fn bessel_k(nu: f64, x: f64) -> f64 {
    let h = 0.02;
    let mut acc = 0.5 * (-x).exp();
    let mut k = 1;
    loop {
        let s = k as f64 * h;
        let term = (-x * s.cosh()).exp() * (nu * s).cosh();
        acc += term;
        if term < 1e-300 || (x * s.cosh() > 745.0) {
            break;
        }
        k += 1;
    }
    acc * h
}
