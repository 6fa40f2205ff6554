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

/// How far beyond r_IR (in r) the IR tip is looked for: the numerical envelope's deepest walk.
pub const TIP_SEARCH: f64 = 400.0;

/// Derive everything the flow needs from a validated model.
pub fn derive(spec: &ModelSpec) -> Derived {
    let d = spec.d as f64;
    let dn = Expr::int(spec.d as i64);
    let r = Expr::sym("r");
    let warp_nf = spec.warp.simplify();
    let fp = spec.warp.diff("r");
    // f'/f, the quantity every coefficient is built from.
    let fpf = (fp.clone() / spec.warp.clone()).simplify();
    let omega = spec.warp.clone().pow(dn.clone()).simplify();
    let omega_prime = omega.diff("r");
    let friction = (dn.clone() * fpf.clone()).simplify();
    let inv_f2 = spec.warp.clone().pow(Expr::int(-2)).simplify();
    let delta = spec.exact.delta.clone();

    let stabilised = Backbone {
        friction: (-(Expr::int(2) * delta.clone() - Expr::int(2) * dn.clone())
            - dn.clone() * fpf.clone())
        .present(),
        laplacian: inv_f2.present(),
        mass: (dn.clone() * (dn.clone() - delta.clone()) * (fpf.clone() - Expr::int(1))).present(),
    };
    let raw = Backbone {
        friction: (-(dn.clone() * fpf.clone())).present(),
        laplacian: inv_f2.present(),
        mass: spec.exact.m2.present(),
    };
    let range = (spec.r_ir, spec.r_uv);
    let affine = affine(&omega, range, (&spec.exact.r_ir, &spec.exact.r_uv));
    let propagator = propagator(spec, &warp_nf, &fp, &fpf, &r, range);
    let ir_tip = match propagator {
        Propagator::Numerical => ir_tip(&spec.warp, spec.r_ir, spec.r_uv),
        _ => None,
    };

    let constants = Constants {
        name: spec.name.clone(),
        signature: String::new(),
        d: spec.d,
        delta: spec.delta,
        nu: spec.delta - d / 2.0,
        m2: spec.m2,
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
        propagator,
        lift_noise: spec.lift_noise,
        omega_weighting: spec.weighted,
        ir_tip,
    };
    let mut derived = Derived {
        constants,
        massless: spec.massless,
        normalisation: spec.normalisation,
        params: spec.params.clone(),
        warp: warp_nf.present(),
        omega: omega.present(),
        omega_prime: omega_prime.present(),
        friction: friction.present(),
        inv_f2: inv_f2.present(),
        backbone: if spec.backbone.stabilised {
            stabilised
        } else {
            raw.clone()
        },
        backbone_unstabilised: raw,
        affine,
        ads_radius: spec.ads_radius,
        exact: spec.exact.clone(),
        spans: SourceSpans {
            warp: spec.warp_span.clone(),
            field: spec.field_span.clone(),
            radial: spec.radial_span.clone(),
            name: spec.name_span.clone(),
        },
    };
    derived.constants.signature = signature(&derived);
    derived
}

/// The first point beyond r_IR, in the IR direction and within [`TIP_SEARCH`], where f stops
/// being finite and positive (bisected to 1e-12 relative), if any.
pub fn ir_tip(warp: &Expr, r_ir: f64, r_uv: f64) -> Option<f64> {
    let s = if r_uv > r_ir { 1.0 } else { -1.0 };
    let good = |r: f64| warp.eval_r(r).is_ok_and(|f| f > 0.0);
    let steps = 4000;
    let mut last = r_ir;
    for k in 1..=steps {
        let t = TIP_SEARCH * (k as f64 / steps as f64).powi(2);
        let x = r_ir - s * t;
        if good(x) {
            last = x;
            continue;
        }
        let (mut a, mut b) = (last, x);
        for _ in 0..200 {
            let m = 0.5 * (a + b);
            if (a - b).abs() <= 1e-12 * a.abs().max(1.0) {
                break;
            }
            if good(m) {
                a = m;
            } else {
                b = m;
            }
        }
        return Some(0.5 * (a + b));
    }
    None
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
/// against 1/ω numerically; otherwise numerical. Z is computed exactly from the exact bounds.
fn affine(omega: &Expr, (r_ir, r_uv): (f64, f64), (x_ir, x_uv): (&Expr, &Expr)) -> Affine {
    let inv = omega.clone().pow(Expr::int(-1)).simplify();
    let Some(big_f) = inv.integrate_on("r", r_ir.min(r_uv), r_ir.max(r_uv)) else {
        return Affine::Numerical;
    };
    // Guard: F' must equal 1/ω on the range (an independent check of the antiderivative).
    let dfd = big_f.diff("r");
    let ok = samples((r_ir, r_uv)).all(|r| match (dfd.eval_r(r), inv.eval_r(r)) {
        (Ok(a), Ok(b)) => (a - b).abs() <= 1e-8 * b.abs().max(1e-300),
        _ => false,
    });
    let f_ir = big_f.subst("r", x_ir);
    let f_uv = big_f.subst("r", x_uv);
    let z_exact = (f_uv.clone() - f_ir.clone()).simplify();
    let z = match z_exact.eval(&|_| None) {
        Ok(z) => z,
        Err(_) => match (big_f.eval_r(r_uv), big_f.eval_r(r_ir)) {
            (Ok(a), Ok(b)) => a - b,
            _ => return Affine::Numerical,
        },
    };
    // The exact difference may cancel catastrophically in f64 only if it is tiny; cross-check.
    let z_float = match (big_f.eval_r(r_uv), big_f.eval_r(r_ir)) {
        (Ok(a), Ok(b)) => a - b,
        _ => z,
    };
    if !ok || !z.is_finite() || z == 0.0 || (z - z_float).abs() > 1e-6 * z.abs() {
        return Affine::Numerical;
    }
    // For reading: the antiderivative up to a constant that shortens it (∫ds/sinh²s = −coth s,
    // not 2/(1 − e^(2s))), and u = (F(r) − F(r_IR))/Z written that way when it is shorter than
    // u's own presentation; both are the same function (the signature hashes the normal form).
    let big_f = shortest_antiderivative(&big_f);
    let f_ir = big_f.subst("r", x_ir);
    let minus_f_ir = (-f_ir.clone()).present();
    let numerator = if minus_f_ir.is_int(0) {
        big_f.clone()
    } else {
        Expr::Add(vec![big_f.clone(), minus_f_ir])
    };
    let structured = Expr::Mul(vec![
        numerator,
        Expr::Pow(Box::new(z_exact.present()), Box::new(Expr::int(-1))),
    ]);
    let u = shorter(
        ((big_f.clone() - f_ir) * z_exact.clone().pow(Expr::int(-1))).present(),
        structured,
    );
    let dr_du = shorter(
        (z_exact.clone() * omega.clone()).present(),
        Expr::Mul(vec![z_exact.present(), omega.present()]),
    );
    if u.eval_r(r_ir).is_err() || dr_du.eval_r(r_uv).is_err() {
        return Affine::Numerical;
    }
    Affine::ClosedForm {
        u,
        dr_du,
        z,
        z_exact: z_exact.present(),
        antiderivative: big_f,
    }
}

/// The one of two equal expressions that prints shorter (the first on a tie).
fn shorter(a: Expr, b: Expr) -> Expr {
    if b.to_string().chars().count() < a.to_string().chars().count() {
        b
    } else {
        a
    }
}

/// F + c, presented, for the constant c ∈ {0, ±1/2, ±1, ±2} that prints shortest.
fn shortest_antiderivative(f: &Expr) -> Expr {
    let mut best = f.present();
    for (n, d) in [(1, 2), (-1, 2), (1, 1), (-1, 1), (2, 1), (-2, 1)] {
        best = shorter(best, (f.clone() + Expr::ratio(n, d)).present());
    }
    best
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
