//! Snapshot-like string tests of the AdS/HSV backbone terms and other fixed cases.

use genads_dsl::expr::{to_rust_cse, Expr};

fn r() -> Expr {
    Expr::sym("r")
}
fn n(v: f64) -> Expr {
    Expr::num(v)
}

#[test]
fn ads_inverse_f2_is_exp_minus_2r() {
    let f = r().exp();
    let inv_f2 = f.pow(n(-2.0)).simplify();
    assert_eq!(inv_f2.to_string(), "exp(-2*r)");
    let k2_term = (Expr::sym("k2") * r().exp().pow(n(-2.0))).simplify();
    assert_eq!(k2_term.to_string(), "k2*exp(-2*r)");
    assert_eq!(k2_term.to_latex(), "|k|^2 e^{-2 r}");
}

#[test]
fn ads_friction_is_d() {
    let f = r().exp();
    let friction = (n(2.0) * f.diff("r") / f).simplify();
    assert_eq!(friction.to_string(), "2");
    assert_eq!(friction.as_constant(), Some(2.0));
}

#[test]
fn ads_stabilised_backbone_with_delta_three_halves() {
    // dπ̃/dr = -(2Δ - 2d + d f'/f) π̃ + |k|² f^-2 φ̃ + d(d-Δ)(f'/f - 1) φ̃, d = 2, Δ = 3/2
    let (d, delta) = (n(2.0), n(1.5));
    let f = r().exp();
    let kappa = f.diff("r") / f.clone();
    let friction = -(n(2.0) * delta.clone() - n(2.0) * d.clone() + d.clone() * kappa.clone());
    let expr = friction * Expr::sym("pi_t")
        + Expr::sym("k2") * f.pow(n(-2.0)) * Expr::sym("phi_t")
        + d.clone() * (d - delta) * (kappa - n(1.0)) * Expr::sym("phi_t");
    let s = expr.simplify();
    assert_eq!(s.to_string(), "k2*phi_t*exp(-2*r) - pi_t");
}

#[test]
fn hsv_half_kappa_is_minus_inverse_r() {
    let p = Expr::sym("p");
    let gamma = -(n(1.0) - p.clone()) / p.clone();
    let f = (p * r()).pow(gamma);
    let f = f.subst("p", &n(0.5));
    assert_eq!(f.to_string(), "2/r");
    let kappa = (f.diff("r") / f).simplify();
    assert_eq!(kappa.to_string(), "-1/r");
    assert_eq!(kappa.to_latex(), "-\\frac{1}{r}");
}

#[test]
fn known_derivatives() {
    assert_eq!((n(2.0) * r()).exp().diff("r").to_string(), "2*exp(2*r)");
    let e = (n(0.5) * r()).pow(n(-1.0));
    assert_eq!(e.diff("r").to_string(), "-2/r^2");
}

#[test]
fn rust_printer_shapes() {
    let id = |s: &str| s.to_string();
    let e = (Expr::sym("k2") * r().exp().pow(n(-2.0))).simplify();
    assert_eq!(e.to_rust(&id), "k2 * (-2.0_f64 * r).exp()");
    let e = (n(1.0) - r().pow(n(-1.0)) + r().sqrt() + Expr::pi()).simplify();
    println!("{e}");
    let cse = to_rust_cse(
        &[
            ("a", &(r().exp() + n(1.0)).log().simplify()),
            ("b", &(r().exp() + n(1.0)).pow(n(3.0)).simplify()),
        ],
        &id,
    );
    println!("{cse}");
}

#[test]
fn hsv_symbolic_kappa_is_minus_gamma_over_r() {
    let p = Expr::sym("p");
    let gamma = (n(1.0) - p.clone()) / p.clone();
    let f = (p.clone() * r()).pow(-gamma);
    let kappa = (f.diff("r") / f).simplify();
    assert_eq!(kappa.to_string(), "1/r - 1/(p*r)");
    for (pv, rv) in [(0.1, 9.5), (0.25, 3.5), (0.5, 1.5), (1.0, 0.7)] {
        let v = kappa
            .eval(&|s| match s {
                "p" => Some(pv),
                "r" => Some(rv),
                _ => None,
            })
            .expect("finite");
        let expected = -(1.0 - pv) / pv / rv;
        assert!(
            (v - expected).abs() <= 1e-12 * (1.0 + expected.abs()),
            "{v} vs {expected}"
        );
    }
}
