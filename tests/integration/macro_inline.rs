//! `genads_model!` inline form on every model in models/: the same source written inline gives
//! the same model as the file form (identical signature and constants) and agrees with the
//! interpreter. The inline copies must be kept in sync with models/ (the signature check fails
//! otherwise). Sweeps are checked on one member each (`model = "…"` selects it).

use crate::macro_common;

use genads::runtime::physics::{CompiledModel, Physics};
use macro_common::{check_scalars, interpreted};

genads::genads_model! {
    name = InlineAdsKgHermite;
    model ads_kg_hermite {
        boundary 2                          // d: 2-D points and images
        warp exp(r)                         // planar AdS: ds^2 = dr^2 + e^(2r) dx^2
        radial 0 -> 1                       // r_IR -> r_UV, as in every published AdS run
        field delta 1.5                     // Δ = 3/2, m^2 = -3/4
        backbone klein_gordon stabilised    // α = 1, UV-stabilised variables
        path hermite affine
        prior phi uniform 1.0, pi uniform 0.55
        encoding propagator lift 0.1
        loss weighted
    }
}

genads::genads_model! {
    name = InlineAdsKgLinear;
    model ads_kg_linear {
        boundary 2
        warp exp(r)
        radial 0 -> 1
        field delta 1.5
        backbone klein_gordon stabilised
        path linear
        prior phi uniform 1.0, pi uniform 0.55
        encoding propagator lift 0.1
        loss weighted
    }
}

genads::genads_model! {
    name = InlineAdsLinear;
    model ads_linear {
        boundary 2
        warp exp(r)
        radial 0 -> 1
        field delta 1.5
        backbone off
        path linear
        prior phi uniform 1.0, pi uniform 0.55
        encoding propagator lift 0.1
        loss weighted
    }
}

genads::genads_model! {
    name = InlineBaseline;
    model baseline {
        boundary 2
        warp exp(r)
        radial 0 -> 1
        field delta 1.5
        backbone off
        path linear
        prior phi uniform 1.0, pi uniform 0.55
        encoding none lift 0.1
        loss weighted
    }
}

genads::genads_model! {
    name = InlineFlowMatching;
    model flow_matching {
        boundary 2
        warp 1
        radial 0 -> 1
        field massless
        backbone off
        path linear
        prior phi uniform 1.0, pi uniform 0.55
        encoding none lift 0.1
        loss unweighted
    }
}

genads::genads_model! {
    name = InlineFlat;
    model flat {
        boundary 2
        warp 1
        radial 0 -> 1
        field delta 1.5
        backbone klein_gordon stabilised
        path hermite affine
        prior phi uniform 1.0, pi uniform 0.55
        encoding propagator lift 0.1
        loss weighted
    }
}

genads::genads_model! {
    name = InlineDeltaSweep;
    model = "delta_sweep_delta2.5";
    model delta_sweep {
        param delta in [1.5, 2, 2.5, 3]
        boundary 2
        warp exp(r)
        radial 0 -> 1
        field delta delta
        backbone klein_gordon stabilised
        path hermite affine
        prior phi uniform 1.0, pi uniform 0.55
        encoding propagator lift 0.1
        loss weighted
    }
}

genads::genads_model! {
    name = InlineHsvScan;
    model = "hsv_scan_p0.25";
    model hsv_scan {
        param p in [0.1, 0.25, 0.5, 1.0]
        boundary 2
        warp (p * r)^(-(1 - p) / p)
        radial 1 / p -> exp(-p) / p
        field massless
        backbone klein_gordon raw
        path hermite radial
        prior phi uniform 1.0, pi uniform 0.55
        encoding propagator lift 0.1
        loss weighted
    }
}

/// A row: the zoo file, the model's name and the check of its inline type.
type Row = (&'static str, &'static str, fn(&str, &str));

/// One row of the table: the inline type `M` against the interpreted model `name` of `file`.
fn check_inline<M: CompiledModel>(file: &str, name: &str) {
    let reference = interpreted(file, Some(name));
    assert_eq!(M::NAME, name);
    check_scalars(&M::default(), M::SIGNATURE, &reference);
    assert_eq!(
        M::default().constants().signature,
        reference.derived().constants.signature
    );
    assert_eq!(M::ORIGIN, "<inline>");
}

#[test]
fn inline_models_agree_with_the_zoo_files() {
    let table: &[Row] = &[
        (
            "models/ads_kg_hermite.genads",
            "ads_kg_hermite",
            check_inline::<InlineAdsKgHermite>,
        ),
        (
            "models/ads_kg_linear.genads",
            "ads_kg_linear",
            check_inline::<InlineAdsKgLinear>,
        ),
        (
            "models/ads_linear.genads",
            "ads_linear",
            check_inline::<InlineAdsLinear>,
        ),
        (
            "models/baseline.genads",
            "baseline",
            check_inline::<InlineBaseline>,
        ),
        (
            "models/flow_matching.genads",
            "flow_matching",
            check_inline::<InlineFlowMatching>,
        ),
        ("models/flat.genads", "flat", check_inline::<InlineFlat>),
        (
            "models/delta_sweep.genads",
            "delta_sweep_delta2.5",
            check_inline::<InlineDeltaSweep>,
        ),
        (
            "models/hsv_scan.genads",
            "hsv_scan_p0.25",
            check_inline::<InlineHsvScan>,
        ),
    ];
    for (file, name, check) in table {
        check(file, name);
    }
}

// User warps with hyperbolic functions: the generated code (Rust's sinh/cosh/tanh, reciprocals
// for coth/sech/csch) agrees with the interpreter and with the hand derivation.
genads::genads_model! {
    name = InlineSinhTip;
    model sinh_tip {
        boundary 2
        warp sinh(r)
        radial 0.5 -> 1.5
        field massless
        backbone klein_gordon raw
        path linear
    }
}

genads::genads_model! {
    name = InlineCoshHermite;
    model cosh_hermite {
        param a = coth(2) * tanh(2)        // = 1, written with hyperbolic functions
        boundary 2
        warp a * cosh(r)
        radial sech(0) - 1 -> csch(1) * sinh(1)   // 0 -> 1
        field delta 1.5
        backbone klein_gordon stabilised
        path hermite affine
        encoding none
    }
}

fn interpreted_source(source: &str) -> genads::runtime::interpreter::Interpreted {
    let models = genads::dsl::compile(source, "inline").unwrap_or_else(|d| panic!("{d}"));
    let derived = genads::dsl::select(models, None).expect("one model");
    genads::runtime::interpreter::Interpreted::new(derived).expect("interpretable")
}

#[test]
fn inline_hyperbolic_warps() {
    let tip = interpreted_source(
        "model sinh_tip { boundary 2 warp sinh(r) radial 0.5 -> 1.5 field massless \
         backbone klein_gordon raw path linear }",
    );
    check_scalars(&InlineSinhTip, InlineSinhTip::SIGNATURE, &tip);
    let cosh = interpreted_source(
        "model cosh_hermite { param a = coth(2) * tanh(2) boundary 2 warp a * cosh(r) \
         radial sech(0) - 1 -> csch(1) * sinh(1) field delta 1.5 backbone klein_gordon stabilised \
         path hermite affine encoding none }",
    );
    check_scalars(&InlineCoshHermite, InlineCoshHermite::SIGNATURE, &cosh);
    // Hand derivation: f = sinh r gives ω = sinh² r, ω' = sinh 2r, raw friction −2 coth r,
    // laplacian csch² r; f = cosh r gives stabilised friction 1 − 2 tanh r, mass tanh r − 1,
    // u(r) = tanh r / tanh 1.
    for r in [0.5f64, 0.8, 1.5] {
        let c = InlineSinhTip.radial(r);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        assert!(close(c.omega, r.sinh().powi(2)), "ω({r})");
        assert!(close(c.omega_prime, (2.0 * r).sinh()), "ω'({r})");
        assert!(close(c.friction, -2.0 / r.tanh()), "friction({r})");
        assert!(close(c.laplacian, r.sinh().powi(-2)), "laplacian({r})");
        let t = r - 0.5;
        let c = InlineCoshHermite.radial(t);
        assert!(
            close(c.friction, 1.0 - 2.0 * t.tanh()),
            "cosh friction({t})"
        );
        assert!(close(c.mass, t.tanh() - 1.0), "cosh mass({t})");
        assert!(
            close(InlineCoshHermite.affine(t).u, t.tanh() / 1f64.tanh()),
            "u({t})"
        );
    }
}
