//! Every file in models/ compiles, with exactly the expected model names.

use std::path::Path;

fn names(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(file);
    match genads::dsl::compile_file(&path) {
        Ok(models) => models.into_iter().map(|m| m.constants.name).collect(),
        Err(d) => panic!("{file}:\n{d}"),
    }
}

#[test]
fn every_zoo_file_compiles_with_the_expected_names() {
    let expected: &[(&str, &[&str])] = &[
        ("ads_kg_hermite.genads", &["ads_kg_hermite"]),
        ("ads_kg_linear.genads", &["ads_kg_linear"]),
        ("ads_linear.genads", &["ads_linear"]),
        ("baseline.genads", &["baseline"]),
        ("flow_matching.genads", &["flow_matching"]),
        (
            "delta_sweep.genads",
            &[
                "delta_sweep_delta1.2",
                "delta_sweep_delta1.5",
                "delta_sweep_delta2",
                "delta_sweep_delta2.5",
                "delta_sweep_delta3",
            ],
        ),
        (
            "hsv_scan.genads",
            &[
                "hsv_scan_p0.1",
                "hsv_scan_p0.25",
                "hsv_scan_p0.5",
                "hsv_scan_p1",
            ],
        ),
        ("flat.genads", &["flat"]),
        (
            "geometry_scan.genads",
            &[
                "geometry_ads",
                "geometry_flat",
                "geometry_hsv_p0.25",
                "geometry_hsv_p0.5",
            ],
        ),
        (
            "delta_paths.genads",
            &[
                "delta_linear_delta1.5",
                "delta_linear_delta3",
                "delta_kg_linear_delta1.5",
                "delta_kg_linear_delta3",
            ],
        ),
        ("flat_trace_uv.genads", &["flat_trace_uv"]),
        (
            "flat_to_hsv_p1.genads",
            &["flat_trace_massless", "flat_trace_raw", "flat_trace_radial"],
        ),
    ];
    for (file, want) in expected {
        assert_eq!(names(file), *want, "{file}");
    }
    // And nothing in models/*.genads is left unchecked (study files elsewhere are not models).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for entry in std::fs::read_dir(&dir).expect("models/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "genads") {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !expected.iter().any(|(f, _)| *f == name) {
                assert!(
                    genads::dsl::compile_file(&path).is_ok(),
                    "{name} does not compile"
                );
            }
        }
    }
}

#[test]
fn paper_models_have_the_paper_settings() {
    use genads::dsl::derived::{Encoding, PathKind};
    let load = |f: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(f);
        genads::dsl::select(genads::dsl::compile_file(&path).expect("compiles"), None).expect("one")
    };
    let m1 = load("ads_kg_hermite.genads");
    assert_eq!(
        (m1.constants.path, m1.constants.alpha, m1.constants.encoding),
        (PathKind::HermiteAffine, 1.0, Encoding::Propagator)
    );
    let m2 = load("ads_kg_linear.genads");
    assert_eq!(
        (m2.constants.path, m2.constants.alpha),
        (PathKind::Linear, 1.0)
    );
    let m3 = load("ads_linear.genads");
    assert_eq!(
        (m3.constants.path, m3.constants.alpha, m3.constants.encoding),
        (PathKind::Linear, 0.0, Encoding::Propagator)
    );
    let m4 = load("baseline.genads");
    assert_eq!(
        (m4.constants.path, m4.constants.alpha, m4.constants.encoding),
        (PathKind::Linear, 0.0, Encoding::None)
    );
    assert!(
        m4.constants.omega_weighting,
        "the baseline keeps ω = e^(2r) weighting (PAPER.md §10.5)"
    );
    assert_eq!(m4.omega.eval_r(0.5).ok(), Some(1f64.exp()));
    let fm = load("flow_matching.genads");
    assert!(
        !fm.constants.omega_weighting
            && fm.constants.alpha == 0.0
            && fm.constants.encoding == Encoding::None
    );
    for m in [&m1, &m2, &m3, &m4, &fm] {
        assert_eq!(
            (
                m.constants.prior.phi.scale,
                m.constants.prior.pi.scale,
                m.constants.lift_noise
            ),
            (1.0, 0.55, 0.1)
        );
        assert_eq!(
            (m.constants.r_ir, m.constants.r_uv, m.constants.d),
            (0.0, 1.0, 2)
        );
    }
}
