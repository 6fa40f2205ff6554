//! Every file in models/ compiles, with exactly the expected model names.

use std::path::Path;

fn names(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(file);
    match genads::dsl::compile_file(&path) {
        Ok(models) => models.into_iter().map(|m| m.name).collect(),
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
        (m1.path, m1.alpha, m1.encoding),
        (PathKind::HermiteAffine, 1.0, Encoding::Propagator)
    );
    let m2 = load("ads_kg_linear.genads");
    assert_eq!((m2.path, m2.alpha), (PathKind::Linear, 1.0));
    let m3 = load("ads_linear.genads");
    assert_eq!(
        (m3.path, m3.alpha, m3.encoding),
        (PathKind::Linear, 0.0, Encoding::Propagator)
    );
    let m4 = load("baseline.genads");
    assert_eq!(
        (m4.path, m4.alpha, m4.encoding),
        (PathKind::Linear, 0.0, Encoding::None)
    );
    assert!(
        m4.omega_weighting,
        "the baseline keeps ω = e^(2r) weighting (PAPER.md §10.5)"
    );
    assert_eq!(m4.omega.eval_r(0.5).ok(), Some(1f64.exp()));
    let fm = load("flow_matching.genads");
    assert!(!fm.omega_weighting && fm.alpha == 0.0 && fm.encoding == Encoding::None);
    for m in [&m1, &m2, &m3, &m4, &fm] {
        assert_eq!(
            (m.prior.phi.scale, m.prior.pi.scale, m.lift_noise),
            (1.0, 0.55, 0.1)
        );
        assert_eq!((m.r_ir, m.r_uv, m.d), (0.0, 1.0, 2));
    }
}
