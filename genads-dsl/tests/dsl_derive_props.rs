//! The derivation against finite differences for random warps: ω' = dω/dr, d f'/f, f^-2 and the
//! stabilised backbone's coefficients rebuilt from finite differences of the warp itself, and
//! du/dr = 1/(Z ω) for closed-form affine parameters.

use genads_dsl::derived::Affine;
use genads_dsl::{compile, select};
use proptest::prelude::*;

fn fd(f: &dyn Fn(f64) -> f64, r: f64) -> f64 {
    let h = 1e-5;
    (f(r + h) - f(r - h)) / (2.0 * h)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5 * a.abs().max(b.abs()).max(1.0)
}

/// Warp families with positive values on [0.5, 1.5].
fn warp() -> impl Strategy<Value = String> {
    let c = || 0.2..2.0f64;
    prop_oneof![
        (c(), -1.5..1.5f64).prop_map(|(a, b)| format!("{a} * exp({b} * r)")),
        (c(), -2.0..2.0f64).prop_map(|(a, q)| format!("({a} * r)^({q})")),
        (c(), c(), -1.0..1.0f64).prop_map(|(a, b, q)| format!("{a} + {b} * r^2 + exp({q} * r)")),
        (c(), c()).prop_map(|(a, b)| format!("sqrt({a} + r) * exp(-{b} * r)")),
        (c(), c()).prop_map(|(a, b)| format!("log({a} + 2 + r) / ({b} + r)")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn derived_coefficients_match_finite_differences(w in warp(), delta in 1.05..3.0f64, t in 0.05..0.95f64) {
        let src = format!(
            "model m {{ boundary 2 warp {w} radial 0.5 -> 1.5 field delta {delta} backbone off stabilised path hermite encoding none }}"
        );
        let m = select(compile(&src, "t").unwrap_or_else(|d| panic!("{d}")), None).expect("one");
        let r = 0.5 + t;
        let f = |x: f64| m.warp.eval_r(x).expect("f");
        let omega = |x: f64| m.omega.eval_r(x).expect("ω");
        let fpf = fd(&f, r) / f(r);
        prop_assert!(close(omega(r), f(r).powi(2)));
        prop_assert!(close(m.omega_prime.eval_r(r).expect("ω'"), fd(&omega, r)));
        prop_assert!(close(m.friction.eval_r(r).expect("κ"), 2.0 * fpf));
        prop_assert!(close(m.inv_f2.eval_r(r).expect("f^-2"), f(r).powi(-2)));
        // Stabilised backbone (PAPER.md §3.3, §11.3), from the finite-difference f'/f.
        let b = &m.backbone;
        prop_assert!(close(b.friction.eval_r(r).expect("friction"), -(2.0 * delta - 4.0 + 2.0 * fpf)));
        prop_assert!(close(b.mass.eval_r(r).expect("mass"), 2.0 * (2.0 - delta) * (fpf - 1.0)));
        prop_assert!(close(b.laplacian.eval_r(r).expect("lap"), f(r).powi(-2)));
        if let Affine::ClosedForm { u, dr_du, z, .. } = &m.affine {
            let uf = |x: f64| u.eval_r(x).expect("u");
            prop_assert!(uf(0.5).abs() < 1e-9 && (uf(1.5) - 1.0).abs() < 1e-9);
            prop_assert!(close(fd(&uf, r), 1.0 / (z * omega(r))));
            prop_assert!(close(dr_du.eval_r(r).expect("dr/du"), z * omega(r)));
        }
    }
}
