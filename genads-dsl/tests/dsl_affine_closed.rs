//! Closed forms of the affine parameter u(r) = ∫_(r_IR)^r ds/ω / Z (docs/language.md, "Affine
//! parameter") against quadrature: for each warp of the documented class, Z and u(r) at interior
//! points agree with composite Simpson sums of 1/f(s)^d, where f is evaluated by plain f64 code
//! written here (not by the symbolic core); warps outside the class are numerical.

use genads_dsl::derived::Affine;
use genads_dsl::{compile, select, Derived};

fn model(warp: &str, a: f64, b: f64) -> Derived {
    let src = format!(
        "model m {{ boundary 2 warp {warp} radial {a} -> {b} field delta 1.5 \
         backbone off path hermite affine encoding none }}"
    );
    select(
        compile(&src, "t").unwrap_or_else(|d| panic!("{warp}: {d}")),
        None,
    )
    .expect("one")
}

fn simpson(f: &dyn Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let n = 4000;
    let h = (b - a) / n as f64;
    let mut s = f(a) + f(b);
    for i in 1..n {
        s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

/// (warp source, the same warp in f64, range): all in the closed-form class.
#[allow(clippy::type_complexity)]
fn class() -> Vec<(&'static str, Box<dyn Fn(f64) -> f64>, f64, f64)> {
    vec![
        // hyperbolic: ∫ csch², ∫ sech², ∫ coth², ∫ csch² sech² = rational functions of e^(r)
        ("sinh(r)", Box::new(f64::sinh), 0.5, 1.5),
        ("cosh(r)", Box::new(f64::cosh), 0.0, 1.0),
        ("tanh(r)", Box::new(f64::tanh), 0.5, 2.0),
        (
            "sinh(r) * cosh(r)",
            Box::new(|r: f64| r.sinh() * r.cosh()),
            0.3,
            1.2,
        ),
        (
            "exp(r) * cosh(r)",
            Box::new(|r: f64| r.exp() * r.cosh()),
            -0.5,
            1.0,
        ),
        (
            "sinh(2 * r) / cosh(r)^3",
            Box::new(|r: f64| (2.0 * r).sinh() / r.cosh().powi(3)),
            0.4,
            1.0,
        ),
        // rational functions of e^r (logarithms at rational roots, Hermite-reduced powers)
        ("1 + exp(r)", Box::new(|r: f64| 1.0 + r.exp()), 0.0, 1.0),
        (
            "exp(r / 2) + exp(-r / 2)",
            Box::new(|r: f64| (r / 2.0).exp() + (-r / 2.0).exp()),
            0.0,
            2.0,
        ),
        (
            "sqrt(sinh(r))",
            Box::new(|r: f64| r.sinh().sqrt()),
            0.2,
            1.4,
        ),
        (
            "(exp(2 * r) - 1) * exp(r / 2)",
            Box::new(|r: f64| ((2.0 * r).exp() - 1.0) * (r / 2.0).exp()),
            0.5,
            1.5,
        ),
        // powers and rational functions of r
        ("r", Box::new(|r: f64| r), 0.5, 2.0),
        ("r^(3/2)", Box::new(|r: f64| r.powf(1.5)), 0.5, 2.0),
        (
            "(0.25 * r)^(-3)",
            Box::new(|r: f64| (0.25 * r).powi(-3)),
            4.0,
            3.1,
        ),
        ("1 + r", Box::new(|r: f64| 1.0 + r), 0.0, 1.0),
        ("r * (1 + r)", Box::new(|r: f64| r * (1.0 + r)), 0.5, 1.5),
        (
            "exp(r / 2) / sqrt(r)",
            Box::new(|r: f64| (r / 2.0).exp() / r.sqrt()),
            0.5,
            1.5,
        ),
    ]
}

#[test]
fn closed_forms_match_quadrature() {
    for (warp, f, a, b) in class() {
        let m = model(warp, a, b);
        let Affine::ClosedForm { u, dr_du, z, .. } = &m.affine else {
            panic!("{warp}: expected a closed form, got {:?}", m.affine);
        };
        let inv = |s: f64| f(s).powi(-2);
        let zq = simpson(&inv, a, b);
        assert!(
            (z - zq).abs() <= 1e-9 * zq.abs(),
            "{warp}: Z = {z}, quadrature {zq}"
        );
        for t in [0.0, 0.17, 0.5, 0.83, 1.0] {
            let r = a + t * (b - a);
            let uq = simpson(&inv, a, r) / zq;
            let uc = u.eval_r(r).expect("u");
            assert!(
                (uc - uq).abs() <= 1e-9,
                "{warp}: u({r}) = {uc}, quadrature {uq}"
            );
            let w = dr_du.eval_r(r).expect("dr/du");
            assert!(
                (w - zq * f(r).powi(2)).abs() <= 1e-9 * w.abs(),
                "{warp}: dr/du({r})"
            );
        }
    }
}

#[test]
fn outside_the_class_is_numerical() {
    for (warp, a, b) in [
        ("exp(r^2)", 0.0, 1.0),
        ("sqrt(cosh(r))", 0.0, 1.0), // ∫ sech = 2 atan(e^r)
        ("1 + r^2", 0.0, 1.0),       // ∫ (1 + r²)^(-2) needs atan
        ("log(2 + r)", 0.0, 1.0),
        ("r * exp(-r / 2)", 0.5, 1.5), // ∫ e^r/r² is not elementary
    ] {
        assert_eq!(model(warp, a, b).affine, Affine::Numerical, "{warp}");
    }
}

#[test]
fn hyperbolic_antiderivatives_read_like_hand_derivations() {
    // ∫ ds / sinh² s = −coth s + C, ∫ ds / cosh² s = tanh s + C: the derived u(r) is
    // (F(r) − F(r_IR)) / (F(r_UV) − F(r_IR)) with these F.
    type Case = (&'static str, fn(f64) -> f64, f64, f64);
    let cases: [Case; 2] = [
        ("sinh(r)", |r| -1.0 / r.tanh(), 0.5, 1.5),
        ("cosh(r)", f64::tanh, 0.0, 1.0),
    ];
    for (warp, big_f, a, b) in cases {
        let m = model(warp, a, b);
        let Affine::ClosedForm { u, z, .. } = &m.affine else {
            panic!("{warp}: closed form expected");
        };
        assert!((z - (big_f(b) - big_f(a))).abs() < 1e-13, "{warp}: Z = {z}");
        for r in [a, 0.5 * (a + b), b] {
            let want = (big_f(r) - big_f(a)) / (big_f(b) - big_f(a));
            assert!(
                (u.eval_r(r).expect("u") - want).abs() < 1e-13,
                "{warp}: u({r})"
            );
        }
    }
}
