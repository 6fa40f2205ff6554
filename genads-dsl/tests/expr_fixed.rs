//! Fixed cases: simplification rules, evaluation errors, constants, canonical form, printers and
//! antiderivatives.

use genads_dsl::expr::{to_rust_cse, EvalError, Expr};
use std::collections::BTreeMap;

fn r() -> Expr {
    Expr::sym("r")
}
fn a() -> Expr {
    Expr::sym("a")
}
fn n(v: f64) -> Expr {
    Expr::num(v)
}
fn id(s: &str) -> String {
    s.to_string()
}
fn simp(e: Expr) -> String {
    e.simplify().to_string()
}

#[test]
fn like_terms_and_factors() {
    assert_eq!(simp(n(2.0) * r() + n(3.0) * r()), "5*r");
    assert_eq!(simp(r() * r().pow(n(2.0))), "r^3");
    assert_eq!(simp(r() - r()), "0");
    assert_eq!(simp(r() / r()), "1");
    assert_eq!(simp(n(0.0) * r().exp()), "0");
    assert_eq!(simp(n(1.0) * r() + n(0.0)), "r");
    assert_eq!(simp(n(2.0) * (r() + n(1.0))), "2*r + 2");
    assert_eq!(simp(n(2.0) + n(3.0) * n(4.0)), "14");
    assert_eq!(simp(Expr::pi() * Expr::pi()), "pi^2");
}

#[test]
fn power_exp_log_rules() {
    assert_eq!(simp(r().pow(n(2.0)).pow(n(3.0))), "r^6");
    assert_eq!(simp((n(2.0) * r()).pow(n(2.0))), "4*r^2");
    assert_eq!(simp((a() * r()).pow(Expr::sym("q"))), "a^q*r^q");
    // A negative literal factor under a non-integer power is not split.
    assert_eq!(simp((n(-2.0) * r()).pow(n(0.5))), "sqrt(-2*r)");
    assert_eq!(simp(r().sqrt() * r().sqrt()), "r");
    assert_eq!(simp(r().sqrt()), "sqrt(r)");
    assert_eq!(simp(r().exp() * a().exp()), "exp(a + r)");
    assert_eq!(simp(r().exp().pow(a())), "exp(a*r)");
    assert_eq!(simp(r().exp().log()), "r");
    assert_eq!(simp(r().log().exp()), "r");
    assert_eq!(simp((n(2.0) * r().log()).exp()), "r^2");
    assert_eq!(simp(r().pow(n(3.0)).log()), "3*log(r)");
    assert_eq!(simp(n(0.0).exp()), "1");
    assert_eq!(simp(n(1.0).log()), "0");
    // (b^e)^x is not merged for a negative literal base and non-integer x.
    assert_eq!(simp(n(-2.0).pow(n(0.5)).pow(n(0.5))), "sqrt(sqrt(-2))");
    // Not folded: would give NaN.
    assert_eq!(simp(n(-1.0).log()), "log(-1)");
}

#[test]
fn equal_expressions_print_identically() {
    let x = (r() + a()) * n(2.0) * r().exp();
    let y = r().exp() * (n(2.0) * a() + r() * n(2.0));
    assert_eq!(simp(x.clone()), simp(y.clone()));
    assert_eq!(x.canonical(), y.canonical());
    assert_ne!(x.canonical(), (x.clone() + n(1e-12)).canonical());
    assert_eq!(n(-0.0).canonical(), n(0.0).canonical());
    assert_eq!(
        (n(2.0) * r()).exp().pow(n(-1.0)).canonical(),
        "(exp (* q-2/1 s1:r))"
    );
}

#[test]
fn eval_errors_name_the_culprit() {
    assert_eq!(
        r().eval(&|_| None),
        Err(EvalError::UnknownSymbol("r".into()))
    );
    assert_eq!(
        (r() + a()).eval_r(1.0),
        Err(EvalError::UnknownSymbol("a".into()))
    );
    match (n(2.0) + r().log()).eval_r(-1.0) {
        Err(EvalError::NonFinite { expr, value }) => {
            assert_eq!(expr, "log(r)");
            assert!(value.is_nan());
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    match r().exp().eval_r(1000.0) {
        Err(EvalError::NonFinite { expr, value }) => {
            assert_eq!(expr, "exp(r)");
            assert_eq!(value, f64::INFINITY);
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    let v = (n(2.0) * r()).exp().eval_r(0.5);
    assert_eq!(v, Ok(1f64.exp()));
    assert_eq!(Expr::pi().eval(&|_| None), Ok(std::f64::consts::PI));
}

#[test]
fn symbols_constants_substitution() {
    let e = a() * r().exp() + Expr::sym("k2") + Expr::pi();
    let syms: Vec<String> = e.free_symbols().into_iter().collect();
    assert_eq!(syms, ["a", "k2", "r"]);
    assert_eq!((n(2.0) * r().exp() * (-r()).exp()).as_constant(), Some(2.0));
    assert_eq!(
        (Expr::pi() * n(2.0)).as_constant(),
        Some(2.0 * std::f64::consts::PI)
    );
    assert_eq!(r().as_constant(), None);
    assert_eq!(n(-1.0).log().as_constant(), None);
    let mut values = BTreeMap::new();
    values.insert("a".to_string(), 3.0);
    values.insert("k2".to_string(), 0.5);
    let s = e.subst_all(&values);
    assert_eq!(s.free_symbols().len(), 1);
    assert_eq!(s.to_string(), "3*exp(r) + pi + 1/2");
    assert_eq!(e.subst("a", &r()).to_string(), "r*exp(r) + pi + k2");
}

#[test]
fn plain_text_printer() {
    assert_eq!((n(0.5) * r()).pow(n(-1.0)).to_string(), "1/(r/2)");
    assert_eq!((n(0.5) * r()).pow(n(-1.0)).simplify().to_string(), "2/r");
    assert_eq!(n(1.5).to_string(), "3/2");
    assert_eq!(Expr::float(1.5).to_string(), "1.5");
    assert_eq!(n(1e9).to_string(), "1e9");
    assert_eq!(n(-1.8e19).to_string(), "-1.8e19");
    assert_eq!(n(1e-9).to_string(), "1e-9");
    assert_eq!(n(2.0).to_string(), "2");
    assert_eq!(n(0.1).to_string(), "1/10");
    assert_eq!(n(-3.0).pow(n(2.0)).to_string(), "(-3)^2");
    assert_eq!(r().pow(-a()).to_string(), "r^(-a)");
    assert_eq!(simp(r().pow(-a())), "r^(-a)");
    assert_eq!(simp(n(1.0) - r()), "1 - r");
    assert_eq!(simp(-(r() * a())), "-a*r");
    assert_eq!(simp((r() + n(1.0)) * (r() - n(1.0))), "r^2 - 1");
    assert_eq!((r() * a()).pow(r()).to_string(), "(r*a)^r");
}

#[test]
fn latex_printer() {
    let k2 = Expr::sym("k2");
    assert_eq!(simp(k2.clone() * (n(-2.0) * r()).exp()), "k2*exp(-2*r)");
    assert_eq!(
        (k2.clone() * (n(-2.0) * r()).exp()).simplify().to_latex(),
        "|k|^2 e^{-2 r}"
    );
    assert_eq!(k2.pow(n(2.0)).to_latex(), "\\left(|k|^2\\right)^{2}");
    assert_eq!((n(1.0) / r()).simplify().to_latex(), "\\frac{1}{r}");
    assert_eq!(
        (n(3.0) / (r() + n(1.0))).simplify().to_latex(),
        "\\frac{3}{r + 1}"
    );
    assert_eq!(r().sqrt().simplify().to_latex(), "\\sqrt{r}");
    assert_eq!((Expr::pi() * n(2.0)).simplify().to_latex(), "2 \\pi");
    assert_eq!(Expr::sym("delta").to_latex(), "\\delta");
    assert_eq!(Expr::sym("r_uv").to_latex(), "r_{\\mathrm{uv}}");
    assert_eq!((n(1.0) + r()).log().to_latex(), "\\log\\left(1 + r\\right)");
    assert_eq!(n(2.0).pow(n(-1.0)).to_latex(), "\\frac{1}{2}");
    assert_eq!((-r()).simplify().to_latex(), "-r");
    assert_eq!((n(2.0) * n(3.0)).to_latex(), "2 \\cdot 3");
    assert_eq!(Expr::Add(vec![]).to_latex(), "0");
    assert_eq!(Expr::Mul(vec![]).to_string(), "1");
    assert_eq!(Expr::Add(vec![]).to_rust(&id), "0.0_f64");
}

#[test]
fn rust_printer() {
    let e = (Expr::sym("k2") * r().exp().pow(n(-2.0))).simplify();
    assert_eq!(e.to_rust(&id), "k2 * (-2.0_f64 * r).exp()");
    assert_eq!(simp_rust(n(1.0) - r()), "1.0_f64 - r");
    assert_eq!(simp_rust(-(r().pow(n(-1.0)))), "-1.0_f64 / r");
    assert_eq!(simp_rust(r().pow(n(3.0)) * a()), "a * r.powi(3)");
    assert_eq!(simp_rust(r().pow(n(2.5))), "r.powf(2.5_f64)");
    assert_eq!(simp_rust(r().sqrt() + r().log()), "r.sqrt() + r.ln()");
    assert_eq!(simp_rust(Expr::pi() * r()), "std::f64::consts::PI * r");
    assert_eq!(n(-2.0).pow(n(2.0)).to_rust(&id), "(-2.0_f64).powi(2)");
    assert_eq!(n(1e-7).to_rust(&id), "1e-7_f64");
    assert_eq!(r().to_rust(&|s| format!("self.{s}")), "self.r");
    assert_eq!(
        simp_rust((r() + a()).pow(n(2.0)) * n(-1.0)),
        "-a.powi(2) - 2.0_f64 * a * r - r.powi(2)"
    );
}

fn simp_rust(e: Expr) -> String {
    e.simplify().to_rust(&id)
}

#[test]
fn rust_cse_binds_shared_subexpressions_once() {
    let shared = (r().exp() + n(1.0)).simplify();
    let x = shared.clone().log().simplify();
    let y = (shared.pow(n(-3.0)) * r()).simplify();
    let code = to_rust_cse(&[("x", &x), ("y", &y)], &id);
    assert_eq!(
        code,
        "let __cse0: f64 = r.exp() + 1.0_f64;\n\
         let x: f64 = __cse0.ln();\n\
         let y: f64 = r / __cse0.powi(3);\n"
    );
    // Nothing shared: no temporaries.
    let code = to_rust_cse(&[("u", &r().exp())], &id);
    assert_eq!(code, "let u: f64 = r.exp();\n");
}

#[test]
fn antiderivatives() {
    let u = (n(-2.0) * r()).exp().integrate("r");
    assert_eq!(u.map(|e| e.to_string()), Some("-exp(-2*r)/2".into()));
    let u = r().pow(n(-1.0)).integrate("r");
    assert_eq!(u.map(|e| e.to_string()), Some("log(r)".into()));
    let u = (n(2.0) * r() + n(1.0)).pow(n(-1.0)).integrate("r");
    assert_eq!(u.map(|e| e.to_string()), Some("log(r + 1/2)/2".into()));
    let u = (n(0.5) * r()).pow(n(2.0)).integrate("r");
    assert_eq!(u.map(|e| e.to_string()), Some("r^3/12".into()));
    let u = n(2.0).pow(n(3.0) * r() + n(1.0)).integrate("r");
    assert_eq!(
        u.map(|e| e.to_string()),
        Some("2*exp(3*r*log(2))/(3*log(2))".into())
    );
    assert_eq!(
        n(3.0).integrate("r").map(|e| e.to_string()),
        Some("3*r".into())
    );
    assert_eq!(
        a().integrate("r").map(|e| e.to_string()),
        Some("a*r".into())
    );
    assert_eq!(r().pow(n(2.0)).exp().integrate("r"), None);
    assert_eq!(
        (r() * r().exp()).integrate("r").map(|e| e.to_string()),
        Some("r*exp(r) - exp(r)".into())
    );
    assert_eq!((r() * r().exp()).log().integrate("r"), None);
    assert_eq!(r().log().integrate("r"), None);
}
