//! No input may panic: random byte strings, random sequences of the grammar's tokens, mutations of
//! the model zoo, and pathological shapes (deep nesting, long operator chains).

use genads_dsl::compile;
use proptest::prelude::*;

/// Every token the grammar knows, plus a few it does not.
const TOKENS: &[&str] = &[
    "model",
    "m",
    "{",
    "}",
    "param",
    "p",
    "=",
    "in",
    "[",
    "]",
    ",",
    ";",
    "boundary",
    "2",
    "warp",
    "exp",
    "(",
    "r",
    ")",
    "radial",
    "0",
    "->",
    "1",
    "field",
    "delta",
    "1.5",
    "mass2",
    "-0.75",
    "massless",
    "backbone",
    "klein_gordon",
    "off",
    "stabilised",
    "raw",
    "path",
    "linear",
    "hermite",
    "affine",
    "prior",
    "phi",
    "pi",
    "uniform",
    "sobolev",
    "c",
    "s",
    "encoding",
    "propagator",
    "none",
    "lift",
    "0.1",
    "normalisation",
    "clean",
    "reference",
    "loss",
    "weighted",
    "unweighted",
    "+",
    "-",
    "*",
    "/",
    "^",
    "log",
    "sqrt",
    "1e308",
    "1e-308",
    "0.0",
    "//",
    "\n",
    "/*",
    "*/",
    "Δ",
    "é",
    "\u{0}",
    "9999999999999999999999",
    ".",
    "#",
];

const VALID: &str = "model m {
    param p in [0.1, 0.5]
    boundary 2
    warp (p * r)^(-(1 - p) / p)
    radial 1 / p -> exp(-p) / p
    field massless
    backbone klein_gordon raw
    path hermite radial
    prior phi sobolev(c = 1, s = 1), pi uniform 0.55
    encoding propagator lift 0.1
    loss weighted
}";

fn must_not_panic(source: &str) {
    // compile returns Ok or Err; a panic fails the test. Render errors too (Display must not panic).
    if let Err(d) = compile(source, "fuzz.genads") {
        let _ = d.to_string();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        must_not_panic(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_token_sequences(idx in proptest::collection::vec(0..TOKENS.len(), 0..60)) {
        let source: Vec<&str> = idx.iter().map(|&i| TOKENS[i]).collect();
        must_not_panic(&source.join(" "));
    }

    #[test]
    fn valid_model_with_tokens_inserted(pos in 0..VALID.len(), idx in proptest::collection::vec(0..TOKENS.len(), 1..4)) {
        let mut at = pos;
        while !VALID.is_char_boundary(at) { at -= 1; }
        let insert: Vec<&str> = idx.iter().map(|&i| TOKENS[i]).collect();
        let source = format!("{} {} {}", &VALID[..at], insert.join(" "), &VALID[at..]);
        must_not_panic(&source);
    }

    #[test]
    fn valid_model_with_a_cut(a in 0..VALID.len(), b in 0..VALID.len()) {
        let (mut a, mut b) = (a.min(b), a.max(b));
        while !VALID.is_char_boundary(a) { a -= 1; }
        while !VALID.is_char_boundary(b) { b -= 1; }
        must_not_panic(&format!("{}{}", &VALID[..a], &VALID[b..]));
    }

    #[test]
    fn random_numbers_in_every_slot(d in -3.0..5.0f64, delta in -2.0..4.0f64, a in -5.0..5.0f64, b in -5.0..5.0f64, q in -3.0..3.0f64) {
        let source = format!(
            "model m {{ boundary {d} warp (r + {a})^{q} radial {a} -> {b} field delta {delta} backbone klein_gordon path hermite encoding propagator lift {q} }}"
        );
        must_not_panic(&source);
    }
}

#[test]
fn the_valid_model_compiles() {
    assert_eq!(compile(VALID, "v.genads").map(|m| m.len()), Ok(2));
}

#[test]
fn pathological_shapes_are_refused_cleanly() {
    let wrap = |warp: String| {
        format!("model m {{ boundary 2 warp {warp} radial 0 -> 1 field delta 1.5 backbone off path linear }}")
    };
    for source in [
        wrap(format!("{}r{}", "(".repeat(10_000), ")".repeat(10_000))),
        wrap(format!("{}r", "-".repeat(10_000))),
        wrap(format!("r{}", "^r".repeat(10_000))),
        wrap(format!("r{}", "+r".repeat(100_000))),
        wrap(format!("r{}", "^r".repeat(900))),
        wrap(format!("{}r", "- ".repeat(900))),
        wrap(format!("1{}", "*1".repeat(900))),
        "model m { ".repeat(5000),
        "}".repeat(5000),
    ] {
        must_not_panic(&source);
    }
}
