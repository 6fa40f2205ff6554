//! No input may panic, and every refusal is located: random byte strings, random sequences of the
//! grammar's tokens, grammar-aware mutations of the model zoo (`models/**/*.genads`: tokens and
//! lines deleted, duplicated, swapped; numbers replaced by extreme ones; keywords inserted), and
//! pathological shapes (deep nesting, long operator chains). A refusal is located when each of its
//! diagnostics names a line and column inside the input, a byte span on character boundaries
//! within it, the source line it starts on, and a rule.

use genads_dsl::diagnostics::ECHO_WIDTH;
use genads_dsl::{compile, Diagnostics};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
    "sinh",
    "cosh",
    "tanh",
    "coth",
    "sech",
    "csch",
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
        assert_located(source, &d);
    }
}

/// Every diagnostic points inside `source`: line and column on an existing line, a span on
/// character boundaries, the right source line echoed, a rule, and `fuzz.genads:line:col` in the
/// rendered form.
fn assert_located(source: &str, diagnostics: &Diagnostics) {
    assert!(
        !diagnostics.is_empty(),
        "a refusal without a diagnostic:\n{source:?}"
    );
    let rendered = diagnostics.to_string();
    let lines: Vec<&str> = source.split('\n').collect();
    for d in diagnostics.iter() {
        let at = format!("{source:?}\n{d}");
        assert!(
            d.span.start <= d.span.end && d.span.end <= source.len(),
            "span {:?}: {at}",
            d.span
        );
        assert!(
            source.is_char_boundary(d.span.start) && source.is_char_boundary(d.span.end),
            "{at}"
        );
        assert!((1..=lines.len()).contains(&d.line), "line {}: {at}", d.line);
        let line = lines[d.line - 1].trim_end_matches('\r');
        let line = if d.line == 1 {
            line.trim_start_matches('\u{FEFF}')
        } else {
            line
        };
        assert!(
            (1..=line.chars().count() + 1).contains(&d.column),
            "column {}: {at}",
            d.column
        );
        assert_eq!(d.source_line, line, "{at}");
        assert!(
            d.rule.as_deref().is_some_and(|r| !r.is_empty()),
            "no rule: {at}"
        );
        assert!(
            rendered.contains(&format!("fuzz.genads:{}:{}", d.line, d.column)),
            "{at}"
        );
        // The echo of the line is bounded however long the line is.
        let echo = format!("{} | ", d.line);
        for echoed in d.to_string().lines().filter_map(|l| l.strip_prefix(&echo)) {
            assert!(echoed.chars().count() <= ECHO_WIDTH, "{at}");
        }
    }
}

/// The model zoo: every `.genads` file under `models/`, as (path, text).
fn zoo() -> &'static [(PathBuf, String)] {
    static ZOO: OnceLock<Vec<(PathBuf, String)>> = OnceLock::new();
    ZOO.get_or_init(|| {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.expect("directory entry").path())
                .collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "genads") {
                    let text = std::fs::read_to_string(&p).expect("zoo file is UTF-8");
                    out.push((p, text));
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../models"),
            &mut out,
        );
        assert!(out.len() >= 8, "the zoo has {} files", out.len());
        out
    })
}

/// The tokens of a source, layout included, so that joining them gives the source back: names
/// and numbers, `->`, comments, runs of whitespace, single other characters.
fn tokens(source: &str) -> Vec<String> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(c) = rest.chars().next() {
        let len = if word(c) {
            rest.find(|c: char| !word(c)).unwrap_or(rest.len())
        } else if c.is_whitespace() {
            rest.find(|c: char| !c.is_whitespace())
                .unwrap_or(rest.len())
        } else if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else if rest.starts_with("->") {
            2
        } else {
            c.len_utf8()
        };
        out.push(rest[..len].to_string());
        rest = &rest[len..];
    }
    out
}

/// Numbers a mutation puts where a number was: extremes, signed zeros, text that looks numeric.
const EXTREMES: &[&str] = &[
    "1e308",
    "1e309",
    "-1e308",
    "1e-308",
    "1e-400",
    "4.9e-324",
    "-0",
    "0",
    "0.0",
    "-0.0",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e",
    "1.",
    ".5",
    "99999999999999999999999999999",
    "1/0",
    "(0/0)",
    "2^1024",
    "0.1^-400",
    "1e-15",
    "123456789012345678901234567890.5",
];

/// Words a mutation inserts: the grammar's keywords and the functions.
const KEYWORDS: &[&str] = &[
    "model",
    "param",
    "in",
    "boundary",
    "warp",
    "radial",
    "field",
    "delta",
    "mass2",
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
    "normalisation",
    "clean",
    "reference",
    "loss",
    "weighted",
    "unweighted",
    "r",
    "exp",
    "log",
    "sqrt",
    "sinh",
    "cosh",
    "tanh",
    "coth",
    "sech",
    "csch",
    "->",
    "=",
    ",",
    ";",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "/*",
    "*/",
    "//",
];

/// One mutation of a token list (`which` picks the kind, `a`, `b` positions, `c` a replacement).
fn mutate(toks: &mut Vec<String>, which: u8, a: usize, b: usize, c: usize) {
    let n = toks.len().max(1);
    let (a, b) = (a % n, b % n);
    if toks.is_empty() {
        toks.push(KEYWORDS[c % KEYWORDS.len()].to_string());
        return;
    }
    match which % 9 {
        0 => {
            toks.remove(a);
        }
        1 => {
            let t = toks[a].clone();
            toks.insert(a, t);
        }
        2 => toks.swap(a, b),
        3..=5 => {
            // Lines: delete, duplicate, swap (a line is the tokens up to a whitespace run with a
            // line break).
            let mut lines: Vec<Vec<String>> = vec![Vec::new()];
            for t in toks.drain(..) {
                let ends = t.contains('\n');
                lines.last_mut().expect("a line").push(t);
                if ends {
                    lines.push(Vec::new());
                }
            }
            let m = lines.len();
            let (a, b) = (a % m, b % m);
            match which % 9 {
                3 => {
                    lines.remove(a);
                }
                4 => {
                    let l = lines[a].clone();
                    lines.insert(a, l);
                }
                _ => lines.swap(a, b),
            }
            *toks = lines.concat();
        }
        6 | 7 => {
            // A number replaced by an extreme one (the first number at or after `a`).
            let numeric = |t: &String| t.starts_with(|c: char| c.is_ascii_digit());
            if let Some(i) = (a..toks.len()).chain(0..a).find(|&i| numeric(&toks[i])) {
                toks[i] = EXTREMES[c % EXTREMES.len()].to_string();
            }
        }
        _ => toks.insert(a, format!(" {} ", KEYWORDS[c % KEYWORDS.len()])),
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
    fn mutated_zoo_files(
        file in any::<usize>(),
        mutations in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), any::<usize>()), 1..4),
    ) {
        let (_, text) = &zoo()[file % zoo().len()];
        let mut toks = tokens(text);
        for (which, a, b, c) in mutations {
            mutate(&mut toks, which, a, b, c);
        }
        must_not_panic(&toks.concat());
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
fn the_zoo_compiles_and_tokens_give_it_back() {
    for (path, text) in zoo() {
        assert_eq!(&tokens(text).concat(), text);
        if let Err(d) = compile(text, &path.display().to_string()) {
            panic!("{d}");
        }
    }
}

/// Each mutation kind and each extreme number on each zoo file: deterministic, so that every
/// kind is exercised whatever proptest draws.
#[test]
fn every_mutation_of_every_zoo_file() {
    for (_, text) in zoo() {
        let toks = tokens(text);
        for which in 0..9u8 {
            let variants = match which {
                6 => EXTREMES.len(),
                8 => KEYWORDS.len(),
                _ => 6,
            };
            for c in 0..variants {
                let mut t = toks.clone();
                mutate(&mut t, which, c * 7 + which as usize, c * 13, c);
                must_not_panic(&t.concat());
            }
        }
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
