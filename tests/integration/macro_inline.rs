//! `genads_model!` inline form on every model in models/: the same source written inline gives
//! the same model as the file form (identical signature and constants) and agrees with the
//! interpreter. The inline copies must be kept in sync with models/ (the signature check fails
//! otherwise). Sweeps are checked on one member each (`model = "…"` selects it).

use crate::macro_common;

use genads::runtime::physics::Physics;
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

#[test]
fn inline_ads_kg_hermite() {
    let reference = interpreted("models/ads_kg_hermite.genads", Some("ads_kg_hermite"));
    assert_eq!(InlineAdsKgHermite::NAME, "ads_kg_hermite");
    check_scalars(
        &InlineAdsKgHermite,
        InlineAdsKgHermite::SIGNATURE,
        &reference,
    );
    assert_eq!(
        InlineAdsKgHermite.constants().signature,
        reference.derived().signature
    );
}

#[test]
fn inline_ads_kg_linear() {
    let reference = interpreted("models/ads_kg_linear.genads", Some("ads_kg_linear"));
    assert_eq!(InlineAdsKgLinear::NAME, "ads_kg_linear");
    check_scalars(&InlineAdsKgLinear, InlineAdsKgLinear::SIGNATURE, &reference);
    assert_eq!(
        InlineAdsKgLinear.constants().signature,
        reference.derived().signature
    );
}

#[test]
fn inline_ads_linear() {
    let reference = interpreted("models/ads_linear.genads", Some("ads_linear"));
    assert_eq!(InlineAdsLinear::NAME, "ads_linear");
    check_scalars(&InlineAdsLinear, InlineAdsLinear::SIGNATURE, &reference);
    assert_eq!(
        InlineAdsLinear.constants().signature,
        reference.derived().signature
    );
}

#[test]
fn inline_baseline() {
    let reference = interpreted("models/baseline.genads", Some("baseline"));
    assert_eq!(InlineBaseline::NAME, "baseline");
    check_scalars(&InlineBaseline, InlineBaseline::SIGNATURE, &reference);
    assert_eq!(
        InlineBaseline.constants().signature,
        reference.derived().signature
    );
}

#[test]
fn inline_flow_matching() {
    let reference = interpreted("models/flow_matching.genads", Some("flow_matching"));
    assert_eq!(InlineFlowMatching::NAME, "flow_matching");
    check_scalars(
        &InlineFlowMatching,
        InlineFlowMatching::SIGNATURE,
        &reference,
    );
    assert_eq!(
        InlineFlowMatching.constants().signature,
        reference.derived().signature
    );
}

#[test]
fn inline_flat() {
    let reference = interpreted("models/flat.genads", Some("flat"));
    assert_eq!(InlineFlat::NAME, "flat");
    check_scalars(&InlineFlat, InlineFlat::SIGNATURE, &reference);
    assert_eq!(
        InlineFlat.constants().signature,
        reference.derived().signature
    );
}

#[test]
fn inline_delta_sweep() {
    let reference = interpreted("models/delta_sweep.genads", Some("delta_sweep_delta2.5"));
    assert_eq!(InlineDeltaSweep::NAME, "delta_sweep_delta2.5");
    check_scalars(&InlineDeltaSweep, InlineDeltaSweep::SIGNATURE, &reference);
    assert_eq!(
        InlineDeltaSweep.constants().signature,
        reference.derived().signature
    );
}

#[test]
fn inline_hsv_scan() {
    let reference = interpreted("models/hsv_scan.genads", Some("hsv_scan_p0.25"));
    assert_eq!(InlineHsvScan::NAME, "hsv_scan_p0.25");
    check_scalars(&InlineHsvScan, InlineHsvScan::SIGNATURE, &reference);
    assert_eq!(
        InlineHsvScan.constants().signature,
        reference.derived().signature
    );
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
