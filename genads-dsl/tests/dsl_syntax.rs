//! What the syntax accepts: layout freedom (the macro sees Rust tokens without line breaks),
//! comments, separators, defaults, sweeps and parameter expressions.

use genads_dsl::derived::{Encoding, Normalisation, PathKind};
use genads_dsl::{compile, select, Derived};

fn one(src: &str) -> Derived {
    select(
        compile(src, "t.genads").unwrap_or_else(|d| panic!("{d}")),
        None,
    )
    .expect("one model")
}

#[test]
fn one_line_semicolons_and_comments_are_equivalent() {
    let multi = "// comment\nmodel m {\n  boundary 2 // d\n  warp exp(r)\n  radial 0 -> 1\n  field delta 1.5\n  backbone klein_gordon\n  path hermite\n}\n";
    let line = "model m { boundary 2 warp exp ( r ) radial 0 - > 1 field delta 1.5 backbone klein_gordon path hermite }";
    let semis = "model m { boundary 2; warp exp(r); /* block */ radial 0 -> 1; field delta 1.5; backbone klein_gordon stabilised; path hermite affine; }";
    let a = one(multi);
    assert_eq!(a.constants.signature, one(semis).constants.signature);
    // `- >` is not an arrow: Rust's tokenizer keeps `->` together, and so does the grammar.
    assert!(compile(line, "t").is_err());
    let line = line.replace("- >", "->");
    assert_eq!(a.constants.signature, one(&line).constants.signature);
}

#[test]
fn defaults_of_optional_statements() {
    let m = one(
        "model m { boundary 2 warp exp(r) radial 0 -> 1 field delta 1.5 backbone off path linear }",
    );
    assert_eq!(
        (
            m.constants.prior.phi.scale,
            m.constants.prior.phi.sobolev_power
        ),
        (1.0, 0.0)
    );
    assert_eq!(
        (
            m.constants.prior.pi.scale,
            m.constants.prior.pi.sobolev_power
        ),
        (0.55, 0.0)
    );
    assert_eq!(m.constants.encoding, Encoding::Propagator);
    assert_eq!(
        (m.constants.lift_noise, m.normalisation),
        (0.1, Normalisation::Clean)
    );
    assert!(m.constants.omega_weighting && m.constants.stabilised && m.constants.alpha == 0.0);
}

#[test]
fn path_hermite_followed_by_the_radial_statement() {
    let m = one("model m { boundary 2 warp exp(r) field delta 1.5 backbone off path hermite radial 0 -> 1 }");
    assert_eq!(m.constants.path, PathKind::HermiteAffine);
    let m = one("model m { boundary 2 warp exp(r) radial 0 -> 1 field delta 1.5 backbone off path hermite radial }");
    assert_eq!(m.constants.path, PathKind::HermiteRadial);
}

#[test]
fn params_sobolev_prior_and_product_sweeps() {
    let src = "model m {
        param d0 = 2
        param Δ in [1.5, 2]
        param s in [0.5 * d0, sqrt(4)]
        boundary d0
        warp exp(r)
        radial 0 -> 1 / d0
        field delta Δ
        backbone klein_gordon
        path hermite
        prior phi sobolev(c = 1, s = s), pi sobolev(c = 0.55, s = 1)
        encoding propagator lift 0 normalisation reference
        loss unweighted
    }";
    let models = compile(src, "t.genads").unwrap_or_else(|d| panic!("{d}"));
    let names: Vec<&str> = models.iter().map(|m| m.constants.name.as_str()).collect();
    assert_eq!(names, ["m_Δ1.5_s1", "m_Δ1.5_s2", "m_Δ2_s1", "m_Δ2_s2"]);
    let m = &models[1];
    assert_eq!(
        (
            m.constants.delta,
            m.constants.r_uv,
            m.constants.prior.phi.sobolev_power
        ),
        (1.5, 0.5, 2.0)
    );
    assert_eq!(
        m.params,
        vec![("d0".into(), 2.0), ("Δ".into(), 1.5), ("s".into(), 2.0)]
    );
    assert_eq!(m.normalisation, Normalisation::Reference);
    assert!(!m.constants.omega_weighting);
}

#[test]
fn select_reports_available_names() {
    let models = compile(
        "model m { param p in [1, 2] boundary 2 warp exp(r) radial 0 -> 1 field delta 1.5 backbone off path linear }",
        "t",
    )
    .expect("valid");
    let err = select(models.clone(), None).unwrap_err();
    assert!(err.contains("m_p1, m_p2"), "{err}");
    let err = select(models.clone(), Some("x")).unwrap_err();
    assert_eq!(err, "no model named `x`; available: m_p1, m_p2");
    assert_eq!(
        select(models, Some("m_p2")).map(|m| m.constants.name),
        Ok("m_p2".to_string())
    );
}
