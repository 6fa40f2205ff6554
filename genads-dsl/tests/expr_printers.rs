//! The printers checked by reading their output back: a small independent parser/evaluator of
//! the printed languages (plain text and the Rust subset `to_rust` emits, with Rust's operator
//! precedence: method calls > unary minus > `*` `/` > `+` `-`; `^` binds tighter than unary minus)
//! must give the same value as evaluating the tree. This pins parenthesisation.

use genads_dsl::expr::{to_rust_cse, Expr};
use genads_dsl::Func;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
    r: f64,
    a: f64,
}

impl Reader<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i] == b' ' {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expr(&mut self) -> f64 {
        let mut v = self.term();
        loop {
            if self.eat(b'+') {
                v += self.term();
            } else if self.eat(b'-') {
                v -= self.term();
            } else {
                return v;
            }
        }
    }
    fn term(&mut self) -> f64 {
        let mut v = self.unary();
        loop {
            if self.eat(b'*') {
                v *= self.unary();
            } else if self.eat(b'/') {
                v /= self.unary();
            } else {
                return v;
            }
        }
    }
    fn unary(&mut self) -> f64 {
        if self.eat(b'-') {
            return -self.unary();
        }
        let base = self.postfix();
        if self.eat(b'^') {
            let e = self.unary();
            return base.powf(e);
        }
        base
    }
    fn word(&mut self) -> String {
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || b"_:".contains(&self.s[self.i]))
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }
    fn call(&self, name: &str, x: f64, arg: Option<f64>) -> f64 {
        match (name, arg) {
            ("exp", None) => x.exp(),
            ("ln" | "log", None) => x.ln(),
            ("sqrt", None) => x.sqrt(),
            ("sinh", None) => x.sinh(),
            ("cosh", None) => x.cosh(),
            ("tanh", None) => x.tanh(),
            ("coth", None) => 1.0 / x.tanh(),
            ("sech", None) => 1.0 / x.cosh(),
            ("csch", None) => 1.0 / x.sinh(),
            ("powi", Some(n)) => {
                assert_eq!(n.fract(), 0.0, "powi takes an integer");
                x.powi(n as i32)
            }
            ("powf", Some(e)) => x.powf(e),
            other => panic!("unknown call {other:?}"),
        }
    }
    fn postfix(&mut self) -> f64 {
        let mut v = self.primary();
        while self.eat(b'.') {
            let m = self.word();
            assert!(self.eat(b'('));
            let arg = if self.eat(b')') {
                None
            } else {
                let a = self.expr();
                assert!(self.eat(b')'));
                Some(a)
            };
            v = self.call(&m, v, arg);
        }
        v
    }
    fn primary(&mut self) -> f64 {
        if self.eat(b'(') {
            let v = self.expr();
            assert!(self.eat(b')'), "unbalanced parentheses");
            return v;
        }
        self.ws();
        let c = self.s[self.i];
        if c.is_ascii_digit() {
            let start = self.i;
            while self.i < self.s.len() {
                let d = self.s[self.i];
                let exp_sign = (d == b'-' || d == b'+') && self.s[self.i - 1] == b'e';
                if d.is_ascii_digit() || d == b'.' || d == b'e' || exp_sign {
                    self.i += 1;
                } else {
                    break;
                }
            }
            let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
            let v: f64 = text.parse().unwrap_or_else(|_| panic!("bad number {text}"));
            if self.s[self.i..].starts_with(b"_f64") {
                self.i += 4;
            }
            return v;
        }
        let w = self.word();
        match w.as_str() {
            "r" => self.r,
            "a" => self.a,
            "pi" | "std::f64::consts::PI" => std::f64::consts::PI,
            f => {
                assert!(self.eat(b'('), "unknown word {f}");
                let x = self.expr();
                assert!(self.eat(b')'));
                self.call(f, x, None)
            }
        }
    }
}

fn read(text: &str, r: f64, a: f64) -> f64 {
    let mut p = Reader {
        s: text.as_bytes(),
        i: 0,
        r,
        a,
    };
    let v = p.expr();
    p.ws();
    assert_eq!(p.i, text.len(), "trailing input in {text}");
    v
}

fn value(e: &Expr, r: f64, a: f64) -> Option<f64> {
    e.eval(&|s| match s {
        "r" => Some(r),
        "a" => Some(a),
        _ => None,
    })
    .ok()
    .filter(|v| v.abs() < 1e8)
}

fn tree() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        Just(Expr::sym("r")),
        Just(Expr::sym("a")),
        (-3.0f64..3.0).prop_map(Expr::num),
        (-3i8..4).prop_map(|k| Expr::num(f64::from(k))),
        Just(Expr::pi()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Expr::Add),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Expr::Mul),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| x - y),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| x / y),
            inner.clone().prop_map(|x| -x),
            (inner.clone(), -3i8..4).prop_map(|(x, k)| x.pow(Expr::num(f64::from(k)))),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| x.pow(y)),
            inner.clone().prop_map(|x| x.pow(Expr::num(0.5))),
            inner.clone().prop_map(Expr::exp),
            inner.clone().prop_map(Expr::log),
            inner.clone().prop_map(Expr::sqrt),
            inner.clone().prop_map(|x| x.apply(Func::Sinh)),
            inner.clone().prop_map(|x| x.apply(Func::Cosh)),
            inner.clone().prop_map(|x| x.apply(Func::Tanh)),
            inner.clone().prop_map(|x| x.apply(Func::Coth)),
            inner.clone().prop_map(|x| x.apply(Func::Sech)),
            inner.clone().prop_map(|x| x.apply(Func::Csch)),
        ]
    })
}

fn close(x: f64, y: f64) -> bool {
    x == y || (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 500,
        rng_seed: RngSeed::Fixed(0x7e27),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn text_and_rust_read_back_to_the_same_value(raw in tree(), r in 0.5f64..2.0, a in 0.5f64..2.0) {
        let id = |s: &str| s.to_string();
        for e in [raw.clone(), raw.simplify(), raw.present()] {
            let Some(v) = value(&e, r, a) else { continue };
            let text = e.to_string();
            let t = read(&text, r, a);
            prop_assert!(close(t, v), "text `{text}` reads {t}, tree {v}");
            let code = e.to_rust(&id);
            let c = read(&code, r, a);
            prop_assert!(close(c, v), "rust `{code}` reads {c}, tree {v}");
        }
    }

    #[test]
    fn cse_bindings_compute_the_outputs(x in tree(), y in tree(), r in 0.5f64..2.0, a in 0.5f64..2.0) {
        let (x, y) = (x.simplify(), y.simplify());
        let shared = (x.clone() * y.clone()).simplify();
        let (Some(vx), Some(vs)) = (value(&x, r, a), value(&shared, r, a)) else { return Ok(()) };
        let code = to_rust_cse(&[("out_x", &x), ("out_s", &shared)], &|s| s.to_string());
        // Execute the straight-line code: each line `let NAME: f64 = EXPR;`, names substituted
        // textually by their values (the reader knows r and a only).
        let mut env: Vec<(String, f64)> = Vec::new();
        for line in code.lines() {
            let rest = line.strip_prefix("let ").expect("let binding");
            let (name, expr) = rest.split_once(": f64 = ").expect("typed binding");
            let mut expr = expr.strip_suffix(';').expect("semicolon").to_string();
            for (n, v) in env.iter().rev() {
                expr = expr.replace(n.as_str(), &format!("({v:?})"));
            }
            env.push((name.to_string(), read(&expr, r, a)));
        }
        let get = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
        prop_assert!(get("out_x").is_some_and(|v| close(v, vx)), "{code}");
        prop_assert!(get("out_s").is_some_and(|v| close(v, vs)), "{code}");
    }
}

/// Most generated trees must evaluate, or the property above would be vacuous; and the reader
/// must be able to tell wrong parenthesisation apart.
#[test]
fn read_back_is_not_vacuous() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = tree();
    let mut evaluable = 0;
    for _ in 0..200 {
        let Ok(t) = strategy.new_tree(&mut runner) else {
            continue;
        };
        if value(&t.current(), 1.3, 0.7).is_some() {
            evaluable += 1;
        }
    }
    assert!(evaluable >= 100, "only {evaluable}/200 evaluable");
    assert_eq!(read("-2^2", 1.0, 1.0), -4.0);
    assert_eq!(read("(-2)^2", 1.0, 1.0), 4.0);
    assert_eq!(read("-2.0_f64.powi(2)", 1.0, 1.0), -4.0);
    assert_eq!(read("1 - r - 1", 3.0, 1.0), -3.0);
    assert_eq!(read("8.0_f64 / a / 2.0_f64", 1.0, 2.0), 2.0);
}
