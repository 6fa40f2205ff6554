//! Algebraically equal models get the same signature: every warp of the zoo, rewritten at random
//! by identities a user might write (cancelling factors, exp∘log, roots of squares, hyperbolic
//! identities, reordering), compiles to the same derived form, hence the same signature and the
//! same printed derivation. And a perturbed warp gets a different one (the test can fail).

use genads_dsl::explain::{render, Format};
use genads_dsl::{compile, Derived};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// The zoo's models with the warp replaced by `{warp}` (each model's other statements kept).
fn zoo() -> Vec<(&'static str, String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../models");
    let mut out = Vec::new();
    for (file, warp) in [
        ("ads_kg_hermite.genads", "exp(r)"),
        ("ads_linear.genads", "exp(r)"),
        ("flat.genads", "1"),
        ("delta_sweep.genads", "exp(r)"),
        ("hsv_scan.genads", "(p * r)^(-(1 - p) / p)"),
    ] {
        let src = std::fs::read_to_string(format!("{dir}/{file}")).expect("zoo file");
        let template = src.replacen(&format!("warp {warp}"), "warp {warp}", 1);
        assert_ne!(template, src, "{file}: warp `{warp}` not found");
        out.push((file, warp.to_string(), template));
    }
    out
}

fn derive(template: &str, warp: &str) -> Vec<Derived> {
    let src = template.replace("{warp}", warp);
    compile(&src, "rewrite.genads").unwrap_or_else(|d| panic!("{warp}:\n{d}"))
}

/// One identity applied to the expression text `x` (a positive quantity), chosen by `k`, with
/// `y` a positive auxiliary expression.
fn rewrite(x: &str, k: usize, y: &str) -> String {
    match k % 12 {
        0 => format!("({x}) * ({y}) / ({y})"),
        1 => format!("exp(log({x}))"),
        2 => format!("sqrt(({x})^2)"),
        3 => format!("({x}) * (cosh(r)^2 - sinh(r)^2)"),
        4 => format!("({x}) + ({y}) - ({y})"),
        5 => format!("2 * ({x}) / 2"),
        6 => format!("(({x})^(1/3))^3"),
        7 => format!("exp(r) * ({x}) * exp(-r)"),
        8 => format!("({x}) * (cosh(r) + sinh(r)) * exp(-r)"),
        9 => format!("({y}) * ({x}) * ({y})^(-1)"),
        10 => format!("(({x}) * 4) / (sech(r) * 4 * cosh(r))"),
        _ => format!("1 / (1 / ({x}))"),
    }
}

const AUX: [&str; 6] = [
    "1 + r^2",
    "cosh(r)",
    "exp(2 * r) + 3",
    "sinh(r) + 2",
    "3 + cosh(2 * r)",
    "0.5",
];

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        rng_seed: RngSeed::Fixed(0x51_6a),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn equal_warps_equal_signatures(
        model in 0usize..5,
        steps in prop::collection::vec((0usize..12, 0usize..AUX.len()), 1..4),
    ) {
        let (file, warp, template) = &zoo()[model];
        let mut rewritten = warp.clone();
        for (k, y) in &steps {
            rewritten = rewrite(&rewritten, *k, AUX[*y]);
        }
        let a = derive(template, warp);
        let b = derive(template, &rewritten);
        prop_assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            prop_assert_eq!(
                &x.constants.signature, &y.constants.signature,
                "{} {}: `{}` vs `{}`\n{}\n{}", file, x.constants.name, warp, rewritten,
                genads_dsl::signature::canonical_form(x), genads_dsl::signature::canonical_form(y)
            );
            prop_assert_eq!(render(x, Format::Text), render(y, Format::Text));
        }
    }
}

#[test]
fn different_warps_differ() {
    for (file, warp, template) in zoo() {
        let a = derive(&template, &warp);
        let b = derive(&template, &format!("({warp}) * 1001 / 1000"));
        for (x, y) in a.iter().zip(&b) {
            assert_ne!(
                x.constants.signature, y.constants.signature,
                "{file} {}",
                x.constants.name
            );
        }
    }
}

#[test]
fn every_rewrite_is_exercised_on_its_own() {
    // Each identity alone, on each zoo warp, with each auxiliary expression.
    for (file, warp, template) in zoo() {
        let a = derive(&template, &warp);
        let mut bad = Vec::new();
        for k in 0..12 {
            for y in AUX {
                let b = derive(&template, &rewrite(&warp, k, y));
                for (x, z) in a.iter().zip(&b) {
                    if x.constants.signature != z.constants.signature {
                        bad.push(format!(
                            "{file} {}: rewrite {k} with {y}: {}",
                            x.constants.name,
                            rewrite(&warp, k, y)
                        ));
                    }
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
