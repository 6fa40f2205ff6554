//! The derivation: a validated [`ModelSpec`] to the [`Derived`] form every backend consumes
//! (PAPER.md §2.1, §3.3, §3.4, §5.2). All expressions are simplified and closed in `r`.

use crate::ast::PathDecl;
use crate::derived::*;
use crate::expr::Expr;
use crate::signature::signature;
use crate::validate::ModelSpec;

/// Sample points used to decide identities numerically on the radial range.
const IDENTITY_SAMPLES: usize = 64;
/// Relative tolerance of numerical identities.
const IDENTITY_TOL: f64 = 1e-9;

/// Derive everything the flow needs from a validated model.
pub fn derive(spec: &ModelSpec) -> Derived {
    let d = spec.d as f64;
    let r = Expr::sym("r");
    let warp = spec.warp.simplify();
    let fp = spec.warp.diff("r");
    // f'/f, the quantity every coefficient is built from.
    let fpf = (fp.clone() / spec.warp.clone()).simplify();
    let omega = spec.warp.clone().pow(Expr::num(d)).simplify();
    let omega_prime = omega.diff("r");
    let friction = (Expr::num(d) * fpf.clone()).simplify();
    let inv_f2 = spec.warp.clone().pow(Expr::num(-2.0)).simplify();

    let stabilised = Backbone {
        friction: (-(Expr::num(2.0 * spec.delta - 2.0 * d) + Expr::num(d) * fpf.clone()))
            .simplify(),
        laplacian: inv_f2.clone(),
        mass: (Expr::num(d * (d - spec.delta)) * (fpf.clone() - Expr::num(1.0))).simplify(),
    };
    let raw = Backbone {
        friction: (Expr::num(-d) * fpf.clone()).simplify(),
        laplacian: inv_f2.clone(),
        mass: Expr::num(spec.m2),
    };
    let range = (spec.r_ir, spec.r_uv);
    let affine = affine(&omega, range);
    let propagator = propagator(spec, &warp, &fp, &fpf, &r, range);

    let mut derived = Derived {
        name: spec.name.clone(),
        d: spec.d,
        delta: spec.delta,
        m2: spec.m2,
        nu: spec.delta - d / 2.0,
        massless: spec.massless,
        r_ir: spec.r_ir,
        r_uv: spec.r_uv,
        alpha: if spec.backbone.on { 1.0 } else { 0.0 },
        stabilised: spec.backbone.stabilised,
        path: match spec.path {
            PathDecl::Linear => PathKind::Linear,
            PathDecl::HermiteAffine => PathKind::HermiteAffine,
            PathDecl::HermiteRadial => PathKind::HermiteRadial,
        },
        prior: spec.prior,
        encoding: if spec.propagator_encoding {
            Encoding::Propagator
        } else {
            Encoding::None
        },
        lift_noise: spec.lift_noise,
        normalisation: spec.normalisation,
        params: spec.params.clone(),
        omega_weighting: spec.weighted,
        warp,
        omega,
        omega_prime,
        friction,
        inv_f2,
        backbone: if spec.backbone.stabilised {
            stabilised
        } else {
            raw.clone()
        },
        backbone_unstabilised: raw,
        affine,
        propagator,
        signature: String::new(),
    };
    derived.signature = signature(&derived);
    derived
}

fn samples((a, b): (f64, f64)) -> impl Iterator<Item = f64> {
    (0..=IDENTITY_SAMPLES).map(move |i| a + (b - a) * i as f64 / IDENTITY_SAMPLES as f64)
}

/// Whether `e(r) ≡ value` on the range: symbolically when `e` simplifies to a constant, else at
/// dense sample points.
fn identically(e: &Expr, value: f64, range: (f64, f64)) -> bool {
    let close = |x: f64| (x - value).abs() <= IDENTITY_TOL * value.abs().max(1.0);
    if let Some(c) = e.simplify().as_constant() {
        return close(c);
    }
    samples(range).all(|r| e.eval_r(r).is_ok_and(close))
}

/// u(r) = ∫_{r_IR}^r ds/ω / Z in closed form when the antiderivative is elementary and checks out
/// against 1/ω numerically; otherwise numerical.
fn affine(omega: &Expr, (r_ir, r_uv): (f64, f64)) -> Affine {
    let inv = omega.clone().pow(Expr::num(-1.0)).simplify();
    let Some(big_f) = inv.integrate("r") else {
        return Affine::Numerical;
    };
    // Guard: F' must equal 1/ω on the range (an independent check of the antiderivative).
    let dfd = big_f.diff("r");
    let ok = samples((r_ir, r_uv)).all(|r| match (dfd.eval_r(r), inv.eval_r(r)) {
        (Ok(a), Ok(b)) => (a - b).abs() <= 1e-8 * b.abs().max(1e-300),
        _ => false,
    });
    let (Ok(f_ir), Ok(f_uv)) = (big_f.eval_r(r_ir), big_f.eval_r(r_uv)) else {
        return Affine::Numerical;
    };
    let z = f_uv - f_ir;
    if !ok || !z.is_finite() || z == 0.0 {
        return Affine::Numerical;
    }
    let u = ((big_f - Expr::num(f_ir)) * Expr::num(1.0 / z)).simplify();
    let dr_du = (Expr::num(z) * omega.clone()).simplify();
    Affine::ClosedForm { u, dr_du, z }
}

/// The propagator family, recognised from the warp (see `Propagator`). Strict about
/// normalisation: AdS needs f ≡ e^r exactly (ξ = |k| e^(−r)), power law needs f ≡ (p r)^(−γ).
fn propagator(
    spec: &ModelSpec,
    warp: &Expr,
    fp: &Expr,
    fpf: &Expr,
    r: &Expr,
    range: (f64, f64),
) -> Propagator {
    let d = spec.d as f64;
    if identically(fpf, 1.0, range) && identically(&(warp.clone() * (-r.clone()).exp()), 1.0, range)
    {
        return Propagator::Ads {
            nu: spec.delta - d / 2.0,
        };
    }
    if identically(fp, 0.0, range) {
        return Propagator::Flat { mass2: spec.m2 };
    }
    if spec.massless {
        let g = (r.clone() * fpf.clone()).simplify();
        let gamma = -match g.as_constant() {
            Some(c) => c,
            None => match g.eval_r(range.0) {
                Ok(c) if identically(&g, c, range) => c,
                _ => return Propagator::Numerical,
            },
        };
        if gamma > 0.0 && gamma.is_finite() {
            // Rounded to 12 decimals so that p = 0.1 written as a parameter reads back as 0.1.
            let p = (1e12 / (1.0 + gamma)).round() / 1e12;
            let normalised = warp.clone() * (Expr::num(p) * r.clone()).pow(Expr::num(gamma));
            if identically(&normalised, 1.0, range) {
                return Propagator::PowerLaw {
                    p,
                    beta: (1.0 + (d - 1.0) * (1.0 - p)) / 2.0,
                };
            }
        }
    }
    Propagator::Numerical
}
