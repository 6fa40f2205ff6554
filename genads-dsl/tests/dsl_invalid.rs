//! The table of invalid inputs: each must produce exactly this diagnostic (message, line:column,
//! rule), and the rendered form must show the source line with a caret.

use genads_dsl::compile;

/// A valid model body, for snippets that only need a model to exist.
const OK: &str =
    "boundary 2 warp exp(r) radial 0 -> 1 field delta 1.5 backbone klein_gordon path hermite";

fn body(statements: &str) -> String {
    format!("model m {{\n{statements}\n}}\n")
}

/// (source, "line:col: message", rule)
fn table() -> Vec<(String, &'static str, &'static str)> {
    let base = |warp: &str, radial: &str, field: &str, rest: &str| {
        body(&format!(
            "    boundary 2\n    warp {warp}\n    radial {radial}\n    field {field}\n{rest}"
        ))
    };
    let off = "    backbone off\n    path linear";
    vec![
        (
            "model m {\n    boundary 2\n    warp exp(r) +\n}\n".into(),
            "4:1: expected an expression, found `}`",
            "syntax: see docs/language.md for the grammar",
        ),
        (
            "model m {\n    boundary 2 %\n}\n".into(),
            "2:16: expected a statement (param, boundary, warp, radial, field, backbone, path, prior, encoding, loss), `}`, an operator or `;`, found `%`",
            "syntax: see docs/language.md for the grammar",
        ),
        (
            "modle m { }".into(),
            "1:1: expected `model`, found `modle`",
            "syntax: see docs/language.md for the grammar",
        ),
        (
            base("exp(q * r)", "0 -> 1", "delta 1.5", off),
            "3:14: unknown identifier `q`",
            "known names: r, pi, declared params; functions exp, log, sqrt, sinh, cosh, tanh, coth, sech, csch",
        ),
        (
            base("sin(r)", "0 -> 1", "delta 1.5", off),
            "3:10: unknown function `sin`",
            "functions: exp, log, sqrt, sinh, cosh, tanh, coth, sech, csch (powers with ^)",
        ),
        (
            base("exp(r)", "0 -> r", "delta 1.5", off),
            "4:17: `r` is not allowed here",
            "only the warp depends on r; other values are constants of the parameters",
        ),
        (
            body(&format!("    param r = 1\n    {OK}")),
            "2:11: `r` cannot be a parameter name",
            "reserved names: r, pi, exp, log, sqrt, sinh, cosh, tanh, coth, sech, csch",
        ),
        (
            body(&format!("    param a = 1\n    param a = 2\n    {OK}")),
            "3:11: parameter `a` is declared twice",
            "each parameter is declared once (first at line 2)",
        ),
        (
            body(&format!("    param a = b\n    param b = 2\n    {OK}")),
            "2:15: unknown identifier `b`",
            "known names: pi and params declared before use; functions exp, log, sqrt, sinh, cosh, tanh, coth, sech, csch",
        ),
        (
            base("exp(r)", "0 -> 1", "delta 1.5", &format!("    warp exp(2 * r)\n{off}")),
            "6:5: duplicate `warp` statement in model `m`",
            "each statement appears once per model (first at line 3)",
        ),
        (
            body("    boundary 2\n    radial 0 -> 1\n    field delta 1.5\n    backbone off\n    path linear"),
            "1:7: model `m` has no `warp` statement",
            "every model states boundary, warp, radial, field, backbone and path",
        ),
        (
            base("exp(r)", "0 -> 1", "delta 0.8", off),
            "5:17: scaling dimension too small",
            "Δ = 0.8 is below d/2 = 1: standard quantisation needs Δ > d/2",
        ),
        (
            base("exp(r)", "0 -> 1", "delta 1", off),
            "5:17: scaling dimension too small",
            "Δ = 1 must be above d/2 = 1: standard quantisation needs Δ > d/2 strictly (at Δ = d/2, ν = 0: the two boundary falloffs merge into z^(d/2) and z^(d/2) log z, and the envelope ξ^ν K_ν(ξ) has no finite boundary value to normalise by)",
        ),
        (
            base("exp(r)", "0 -> 1", "mass2 -1.5", off),
            "5:17: mass below the Breitenlohner-Freedman bound",
            "m² = -1.5 is below the BF bound -d²/4 = -1: the field is unstable",
        ),
        (
            base("exp(r)", "0 -> 1", "mass2 -1", off),
            "5:17: mass at the Breitenlohner-Freedman bound",
            "m² = -1 gives Δ = d/2 = 1: standard quantisation needs Δ > d/2",
        ),
        (
            base("(0.5 * r)^(-1)", "-1 -> 1", "massless", off),
            "3:10: warp factor f(-1) = -2 is not positive",
            "f(r) must be finite and positive on the whole radial range [-1, 1]",
        ),
        (
            base("r^(-1)", "1 -> 0", "massless", "    backbone off\n    path linear\n    encoding none"),
            "3:10: warp factor is not finite at r = 0",
            "f(r) must be finite and positive on the whole radial range [0, 1]",
        ),
        (
            base("1 - 2 * r", "0 -> 1", "delta 1.5", off),
            "3:10: warp factor f(0.5) = 0 is not positive",
            "f(r) must be finite and positive on the whole radial range [0, 1]",
        ),
        (
            body("    param p in [0.5, 0]\n    boundary 2\n    warp (p * r)^(-(1 - p) / p)\n    radial 2 -> 1\n    field massless\n    backbone off\n    path linear"),
            "4:10: warp factor is not finite at r = 1 (with p = 0)",
            "f(r) must be finite and positive on the whole radial range [1, 2]",
        ),
        (
            base("exp(r)", "1 -> 1", "delta 1.5", off),
            "4:5: empty radial range",
            "r_IR = r_UV = 1: the flow needs a non-zero radial span",
        ),
        (
            base("exp(r)", "1 -> 0", "delta 1.5", "    backbone klein_gordon\n    path linear"),
            "4:5: the UV end of the radial range is on the wrong side",
            "f(r_UV) = 1 < f(r_IR) = 2.718282: the data (UV) end must lie toward the conformal boundary, where the warp grows; swap the bounds",
        ),
        (
            body(&format!("    param p in []\n    {OK}")),
            "2:5: sweep `p` has no values",
            "a sweep `param x in [a, b, ...]` needs at least one value",
        ),
        (
            format!("model m {{ {OK} }}\nmodel m {{ {OK} }}\n"),
            "2:7: model name `m` is already taken",
            "model names are unique in a file, sweep members included (first at line 1)",
        ),
        (
            format!("model m_p1 {{ {OK} }}\nmodel m {{ param p in [1] {OK} }}\n"),
            "2:7: model name `m_p1` is already taken",
            "model names are unique in a file, sweep members included (first at line 1)",
        ),
        (
            base("exp(r)", "0 -> 1", "delta 2", &format!("    boundary 3\n{off}"))
                .replace("    boundary 2\n", ""),
            "5:14: boundary dimension 3 is not supported",
            "the runtime's data are 2-D points and 2-D images: it needs d = 2",
        ),
        (
            base("exp(r)", "0 -> 1", "delta 1.5", &format!("{off}\n    encoding none normalisation reference")),
            "8:19: `normalisation reference` without propagator encoding",
            "the reference DC normalisation applies to propagator envelopes only",
        ),
        (
            base("1", "0 -> 1", "delta 1.5", &format!("{off}\n    encoding propagator normalisation reference")),
            "8:25: `normalisation reference` needs an AdS warp (model `m`)",
            "the authors' DC normalisation quirk is defined for the AdS envelope ξ^ν K_ν(ξ) only",
        ),
        (
            base("exp(r)", "0 -> 1", "delta 1.5", &format!("{off}\n    prior phi uniform 0, pi uniform 1")),
            "8:23: non-positive prior variance",
            "variance scale 0 must be > 0",
        ),
        (
            base("exp(r)", "0 -> 1", "delta 1.5", &format!("{off}\n    prior phi uniform 1 phi uniform 1")),
            "8:25: prior component given twice",
            "the prior states one law for phi and one for pi",
        ),
        (
            base("exp(r)", "0 -> 1", "delta log(0 - 1)", off),
            "5:17: Δ is not a finite number",
            "`log(0 - 1)` evaluates to NaN (not finite)",
        ),
        (
            base("(r - 0.50005)^2", "0 -> 1", "delta 1.5", off),
            "3:10: warp factor cannot be proven finite and positive near r = 0.50005: f(0.50005) = 5.64005e-24 (a zero or a pole between the sample points?)",
            "f(r) must be finite and positive on the whole radial range [0, 1]",
        ),
        (
            base("1 + 1/(r - 0.50005)^2", "0 -> 1", "delta 1.5", off),
            "3:10: warp factor cannot be proven finite and positive near r = 0.50005: f(0.50005) = 1.77304e23 (a zero or a pole between the sample points?)",
            "f(r) must be finite and positive on the whole radial range [0, 1]",
        ),
        (
            base("exp(r)", "0 -> 1", "delta 1e308", off),
            "5:5: derived constant m² is not finite",
            "m² = Δ(Δ - d) evaluates to inf: every derived constant must be a finite number",
        ),
        (
            base("exp(2 * r)", "0 -> 1", "mass2 -5", &format!("{off}\n    encoding none")),
            "5:17: mass below the Breitenlohner-Freedman bound",
            "m² = -5 is below the BF bound -d²/(4L²) = -4 for the warp's AdS radius L = 0.5 (f'/f → 2 at the boundary): the field is unstable",
        ),
        (
            base("exp(2 * r) + 1", "0 -> 1", "delta 1.5", "    backbone klein_gordon\n    path linear"),
            "5:5: the numerical propagator of model `m` cannot be normalised at the UV boundary",
            "the warp's AdS radius is L = 0.5 (f'/f → 2 at the boundary): φ̃ = e^((d-Δ)r) φ is finite at the boundary only for L = 1; use a massless field, or stabilised variables on a warp with f'/f → 1 (rescale r)",
        ),
        (
            base("exp(r) + 1", "0 -> 1", "delta 1.5", "    backbone klein_gordon raw\n    path linear"),
            "5:5: the numerical propagator of model `m` cannot be normalised at the UV boundary",
            "raw variables of a massive field fall off or grow at the boundary; use a massless field, or stabilised variables on a warp with f'/f → 1 (rescale r)",
        ),
        (
            base(&format!("r{}", "^r".repeat(40)), "1 -> 2", "delta 1.5", off),
            "3:10: warp factor is too large to derive (3681 nodes in f'(r))",
            "limits: f'(r) may have at most 1500 nodes before simplification",
        ),
        (
            "// nothing here\n".into(),
            "1:1: no model in this source",
            "a .genads file holds one or more `model name { ... }` blocks",
        ),
        (
            format!("model m {{ {OK} warp {} r }}", "(".repeat(70)),
            "1:167: brackets nested deeper than 64 levels",
            "limits: keep expressions small",
        ),
    ]
}

#[test]
fn every_bad_input_gets_its_diagnostic() {
    let mut failures = Vec::new();
    for (source, want, rule) in table() {
        match compile(&source, "t.genads") {
            Ok(models) => failures.push(format!("accepted ({} models):\n{source}", models.len())),
            Err(diagnostics) => {
                let first = &diagnostics.0[0];
                let got = format!("{}:{}: {}", first.line, first.column, first.message);
                if got != want || first.rule.as_deref() != Some(rule) {
                    failures.push(format!(
                        "source:\n{source}\nwant: {want}\n      rule: {rule}\ngot:  {got}\n      rule: {:?}\nall:\n{diagnostics}",
                        first.rule
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n-----\n"));
}

/// Models the new checks must keep accepting: a stable mass for an AdS radius L = 1/2, the
/// issue's IR-tip warp, hyperbolic functions in parameters and ranges.
#[test]
fn accepted_by_the_new_checks() {
    for src in [
        "model m { boundary 2 warp exp(2 * r) radial 0 -> 1 field mass2 -3 backbone off path linear encoding none }",
        "model m { boundary 2 warp sinh(r) radial 0.5 -> 1.5 field massless backbone klein_gordon raw path linear }",
        "model m { param a = cosh(0) + tanh(1) boundary 2 warp a * exp(r) radial sech(1) -> coth(1) field delta 1 + sinh(1) backbone off path linear }",
    ] {
        if let Err(d) = compile(src, "ok.genads") {
            panic!("{src}\n{d}");
        }
    }
}

#[test]
fn rendering_is_rustc_style() {
    let source = body("    boundary 2\n    warp exp(r)\n    radial 0 -> 1\n    field delta 0.8\n    backbone off\n    path linear");
    let d = compile(&source, "models/bad.genads").unwrap_err();
    assert_eq!(
        d.to_string(),
        "error: scaling dimension too small\n \
         --> models/bad.genads:5:17\n  |\n\
         5 |     field delta 0.8\n  |                 ^^^\n  \
         = rule: Δ = 0.8 is below d/2 = 1: standard quantisation needs Δ > d/2\n"
    );
}

#[test]
fn several_errors_are_all_reported_in_source_order() {
    let source = body(
        "    boundary 2\n    warp exp(q * r)\n    radial 0 -> 1\n    field delta 0.8\n    backbone off\n    path linear\n    path linear",
    );
    let d = compile(&source, "t.genads").unwrap_err();
    let lines: Vec<usize> = d.iter().map(|x| x.line).collect();
    // Structure and identifier errors come first (physics is checked once names resolve).
    assert_eq!(lines, vec![3, 8], "{d}");
}

#[test]
fn unreadable_file_is_a_diagnostic() {
    let d = genads_dsl::compile_file(std::path::Path::new("/nonexistent/x.genads")).unwrap_err();
    assert!(d.0[0].message.starts_with("cannot read file"), "{d}");
}
