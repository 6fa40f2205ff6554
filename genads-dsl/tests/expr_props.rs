//! Property tests of the symbolic core against independent numerical oracles: central finite
//! differences for `diff` and `integrate`, point evaluation before/after `simplify` and `subst`.

use genads_dsl::expr::Expr;
use genads_dsl::Func;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// Deterministic runs (fixed seed, no regression files); `PROPTEST_RNG_SEED` is not consulted.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0x6e_ad5),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const EXPONENTS: [f64; 8] = [-2.0, -1.0, -0.5, 0.5, 1.5, 2.0, 3.0, 0.25];

/// Expressions that are positive for r, a in [0.5, 2].
fn positive() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        Just(Expr::sym("r")),
        Just(Expr::sym("a")),
        (0.5f64..2.0).prop_map(Expr::num),
        (1u8..4).prop_map(|k| Expr::num(f64::from(k))),
        Just(Expr::pi()),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(x, y)| x + y),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| x * y),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| x / y),
            (inner.clone(), 0usize..EXPONENTS.len())
                .prop_map(|(x, i)| x.pow(Expr::num(EXPONENTS[i]))),
            (inner.clone(), -1.0f64..1.0).prop_map(|(x, c)| (Expr::num(c) * x).exp()),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| (Expr::num(0.3) * x).exp() * y.exp()),
            inner.clone().prop_map(|x| (Expr::num(1.0) + x).log()),
            inner.clone().prop_map(|x| x.sqrt()),
            inner.clone().prop_map(|x| x.log().exp()),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| x.pow(Expr::num(0.5) * y.log())),
            inner.clone().prop_map(|x| x.apply(Func::Sinh)),
            inner
                .clone()
                .prop_map(|x| (Expr::num(0.3) * x).apply(Func::Cosh)),
            inner.clone().prop_map(|x| x.apply(Func::Tanh)),
            inner.clone().prop_map(|x| x.apply(Func::Coth)),
            inner.clone().prop_map(|x| x.apply(Func::Sech)),
            inner.clone().prop_map(|x| x.apply(Func::Csch)),
        ]
    })
}

/// Signed expressions built from positive ones.
fn signed() -> impl Strategy<Value = Expr> {
    prop_oneof![
        positive(),
        (positive(), positive()).prop_map(|(x, y)| x - y),
        positive().prop_map(|x| -x),
        (positive(), positive(), positive()).prop_map(|(x, y, z)| (x - y) * z),
        (positive(), positive()).prop_map(|(x, y)| x.clone() * y.clone() - y * x),
    ]
}

fn at(e: &Expr, r: f64, a: f64) -> Option<f64> {
    let v = e
        .eval(&|s| match s {
            "r" => Some(r),
            "a" => Some(a),
            _ => None,
        })
        .ok()?;
    (v.abs() < 1e8).then_some(v)
}

/// A bound on rounding: the value computed with every sum replaced by the sum of magnitudes.
fn magnitude(e: &Expr, r: f64, a: f64) -> f64 {
    match e {
        Expr::Add(ts) => ts.iter().map(|t| magnitude(t, r, a)).sum(),
        Expr::Mul(fs) => fs.iter().map(|f| magnitude(f, r, a)).product(),
        other => other
            .eval(&|s| match s {
                "r" => Some(r),
                "a" => Some(a),
                _ => None,
            })
            .map_or(f64::INFINITY, f64::abs),
    }
}

fn close(x: f64, y: f64, scale: f64, rel: f64) -> bool {
    (x - y).abs() <= rel * (1.0 + scale.abs())
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn simplify_preserves_value(e in signed(), r in 0.5f64..2.0, a in 0.5f64..2.0) {
        let s = e.simplify();
        let (Some(v0), Some(v1)) = (at(&e, r, a), at(&s, r, a)) else { return Ok(()); };
        let scale = magnitude(&e, r, a).max(magnitude(&s, r, a));
        prop_assert!(close(v0, v1, scale, 1e-9), "{e}  =>  {s}: {v0} vs {v1}");
    }

    #[test]
    fn present_preserves_value_and_normal_form(e in signed(), r in 0.5f64..2.0, a in 0.5f64..2.0) {
        let s = e.simplify();
        let p = e.present();
        // Presentation is a function of the normal form, which it does not change: exactly so
        // for exact coefficients (floats may round differently) and without quotients of sums
        // (the normal form does not reduce a numerator that is a multiple of its denominator).
        let key = s.canonical();
        if !key.contains(" f") && !key.contains("(^ (+") {
            prop_assert_eq!(p.simplify().canonical(), s.canonical(), "{} => {}", s, p);
            prop_assert_eq!(p.present().to_string(), p.to_string());
        }
        let (Some(v0), Some(v1)) = (at(&s, r, a), at(&p, r, a)) else { return Ok(()); };
        let scale = magnitude(&s, r, a).max(magnitude(&p, r, a));
        prop_assert!(close(v0, v1, scale, 1e-9), "{s}  =>  {p}: {v0} vs {v1}");
    }

    #[test]
    fn simplify_is_idempotent(e in signed()) {
        let s = e.simplify();
        let s2 = s.simplify();
        prop_assert_eq!(s.to_string(), s2.to_string());
        prop_assert_eq!(s.canonical(), s2.canonical());
        prop_assert_eq!(s.canonical(), e.canonical());
    }

    #[test]
    fn diff_matches_finite_differences(e in signed(), r in 0.6f64..1.9, a in 0.5f64..2.0) {
        let d = e.diff("r");
        let h = 1e-5;
        let (Some(fp), Some(fm), Some(f0)) = (at(&e, r + h, a), at(&e, r - h, a), at(&e, r, a))
            else { return Ok(()); };
        let Some(dv) = at(&d, r, a) else { return Ok(()); };
        let fd = (fp - fm) / (2.0 * h);
        let scale = dv.abs() + fd.abs() + magnitude(&e, r, a) + f0.abs();
        prop_assert!(close(dv, fd, scale, 1e-5), "d/dr {e} = {d}: {dv} vs fd {fd}");
    }

    #[test]
    fn subst_then_eval_equals_eval_with_binding(e in signed(), r in 0.5f64..2.0, a in 0.5f64..2.0) {
        let with_a = e.subst("a", &Expr::num(a));
        prop_assert!(!with_a.free_symbols().contains("a"));
        let Some(v0) = at(&e, r, a) else { return Ok(()); };
        let Ok(v1) = with_a.eval_r(r) else { return Ok(()); };
        let scale = magnitude(&e, r, a).max(magnitude(&with_a, r, a));
        prop_assert!(close(v0, v1, scale, 1e-9), "{e} | a={a} => {with_a}: {v0} vs {v1}");
        // Substituting an expression: a -> r^2.
        let sq = e.subst("a", &Expr::sym("r").pow(Expr::num(2.0)));
        let (Some(w0), Some(w1)) = (at(&e, r, r * r), at(&sq, r, 0.0)) else { return Ok(()); };
        let scale = magnitude(&e, r, r * r).max(magnitude(&sq, r, 0.0));
        prop_assert!(close(w0, w1, scale, 1e-9), "{e} | a=r^2 => {sq}: {w0} vs {w1}");
    }
}

/// Integrands of the handled shapes, positive-domain on r in [0.5, 2].
fn integrand() -> impl Strategy<Value = Expr> {
    let r = || Expr::sym("r");
    let term = prop_oneof![
        (-2.0f64..2.0).prop_map(Expr::num),
        (-2.0f64..2.0, -2.0f64..2.0, -1.0f64..1.0)
            .prop_map(move |(c, a, b)| Expr::num(c) * (Expr::num(a) * r() + Expr::num(b)).exp()),
        (
            -2.0f64..2.0,
            0.2f64..2.0,
            0.0f64..1.0,
            0usize..EXPONENTS.len()
        )
            .prop_map(move |(c, a, b, i)| Expr::num(c)
                * (Expr::num(a) * r() + Expr::num(b)).pow(Expr::num(EXPONENTS[i]))),
        (-2.0f64..2.0, 0.2f64..2.0, 0.0f64..1.0)
            .prop_map(move |(c, a, b)| { Expr::num(c) / (Expr::num(a) * r() + Expr::num(b)) }),
        (-2.0f64..2.0, 0.5f64..3.0)
            .prop_map(move |(c, a)| Expr::num(c) * Expr::sym("a") * (Expr::num(a) * r()).exp()),
        (-2.0f64..2.0).prop_map(move |c| Expr::num(c) * r()),
        (-2.0f64..2.0, 0.5f64..3.0, -1.0f64..1.0).prop_map(move |(c, k, a)| {
            Expr::num(c) * Expr::num(k).pow(Expr::num(a) * r() + Expr::num(0.5))
        }),
        (0.5f64..2.0).prop_map(move |c| (Expr::num(c) * r()).pow(Expr::num(-2.0)).exp().log()),
    ];
    prop::collection::vec(term, 1..4).prop_map(Expr::Add)
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn antiderivative_differentiates_back(f in integrand(), r in 0.6f64..1.9, a in 0.5f64..2.0) {
        let big = f.integrate("r");
        prop_assert!(big.is_some(), "no antiderivative for {f}");
        let big = big.unwrap_or(Expr::num(0.0));
        let h = 1e-5;
        let (Some(fp), Some(fm), Some(f0)) = (at(&big, r + h, a), at(&big, r - h, a), at(&f, r, a))
            else { return Ok(()); };
        let fd = (fp - fm) / (2.0 * h);
        let scale = f0.abs() + magnitude(&f, r, a) + magnitude(&big, r, a);
        prop_assert!(close(fd, f0, scale, 1e-5), "∫{f} = {big}: fd {fd} vs {f0}");
    }
}

/// The properties above skip points where an expression is not finite; make sure that is rare,
/// so they are not vacuous.
#[test]
fn generated_expressions_mostly_evaluate() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = signed();
    let (mut ok, mut ok_diff, mut compound) = (0, 0, 0);
    let total = 300;
    for _ in 0..total {
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        let e = tree.current();
        if e.to_string().len() > 12 {
            compound += 1;
        }
        if at(&e, 1.3, 0.7).is_some() {
            ok += 1;
        }
        if at(&e.diff("r"), 1.3, 0.7).is_some() {
            ok_diff += 1;
        }
    }
    assert!(ok * 10 >= total * 9, "only {ok}/{total} evaluable");
    assert!(
        ok_diff * 10 >= total * 8,
        "only {ok_diff}/{total} derivatives evaluable"
    );
    assert!(
        compound * 2 >= total,
        "only {compound}/{total} compound expressions"
    );
}
