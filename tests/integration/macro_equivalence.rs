//! `genads_model!` (file form) vs the interpreter on every model in models/: constants, signature,
//! radial(), affine(), envelope() (rel ≤ 1e-6, f64) and the fused path/target/velocity kernels
//! against the generic tensor code (rel ≤ 1e-4, f32). A coverage test makes sure no model of
//! models/ is left out.

use crate::macro_common;

use macro_common::{check_scalars, check_tensors, interpreted};

/// (type, file, model name) of every model in models/ — one `genads_model!` and one test each.
macro_rules! models {
    ($($test:ident: $ty:ident = $file:literal, $name:literal;)*) => {
        $(
            genads::genads_model!(file = $file, model = $name, name = $ty);
            #[test]
            fn $test() {
                let reference = interpreted($file, Some($name));
                check_scalars(&$ty, $ty::SIGNATURE, &reference);
                check_tensors(&$ty, &reference);
            }
        )*
        /// Every (file, model) covered above.
        const COVERED: &[(&str, &str)] = &[$(($file, $name)),*];
    };
}

models! {
    ads_kg_hermite: AdsKgHermite = "models/ads_kg_hermite.genads", "ads_kg_hermite";
    ads_kg_linear: AdsKgLinear = "models/ads_kg_linear.genads", "ads_kg_linear";
    ads_linear: AdsLinear = "models/ads_linear.genads", "ads_linear";
    baseline: Baseline = "models/baseline.genads", "baseline";
    flow_matching: FlowMatching = "models/flow_matching.genads", "flow_matching";
    flat: Flat = "models/flat.genads", "flat";
    delta_1_2: Delta12 = "models/delta_sweep.genads", "delta_sweep_delta1.2";
    delta_1_5: Delta15 = "models/delta_sweep.genads", "delta_sweep_delta1.5";
    delta_2: Delta2 = "models/delta_sweep.genads", "delta_sweep_delta2";
    delta_2_5: Delta25 = "models/delta_sweep.genads", "delta_sweep_delta2.5";
    delta_3: Delta3 = "models/delta_sweep.genads", "delta_sweep_delta3";
    hsv_0_1: Hsv01 = "models/hsv_scan.genads", "hsv_scan_p0.1";
    hsv_0_25: Hsv025 = "models/hsv_scan.genads", "hsv_scan_p0.25";
    hsv_0_5: Hsv05 = "models/hsv_scan.genads", "hsv_scan_p0.5";
    hsv_1: Hsv1 = "models/hsv_scan.genads", "hsv_scan_p1";
    geometry_ads: GeometryAds = "models/geometry_scan.genads", "geometry_ads";
    geometry_flat: GeometryFlat = "models/geometry_scan.genads", "geometry_flat";
    geometry_hsv_0_25: GeometryHsv025 = "models/geometry_scan.genads", "geometry_hsv_p0.25";
    geometry_hsv_0_5: GeometryHsv05 = "models/geometry_scan.genads", "geometry_hsv_p0.5";
    delta_linear_1_5: DeltaLinear15 = "models/delta_paths.genads", "delta_linear_delta1.5";
    delta_linear_3: DeltaLinear3 = "models/delta_paths.genads", "delta_linear_delta3";
    delta_kg_linear_1_5: DeltaKgLinear15 = "models/delta_paths.genads", "delta_kg_linear_delta1.5";
    delta_kg_linear_3: DeltaKgLinear3 = "models/delta_paths.genads", "delta_kg_linear_delta3";
    flat_trace_massless: FlatTraceMassless = "models/flat_to_hsv_p1.genads", "flat_trace_massless";
    flat_trace_raw: FlatTraceRaw = "models/flat_to_hsv_p1.genads", "flat_trace_raw";
    flat_trace_radial: FlatTraceRadial = "models/flat_to_hsv_p1.genads", "flat_trace_radial";
    flat_trace_uv: FlatTraceUv = "models/flat_trace_uv.genads", "flat_trace_uv";
}

#[test]
fn every_model_in_models_dir_is_covered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("genads") {
            continue;
        }
        let file = format!("models/{}", path.file_name().unwrap().to_string_lossy());
        let source = std::fs::read_to_string(&path).unwrap();
        for d in genads::dsl::compile(&source, &file).unwrap_or_else(|e| panic!("{e}")) {
            if !COVERED.contains(&(file.as_str(), d.constants.name.as_str())) {
                missing.push(format!("{file}: {}", d.constants.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "models without a macro equivalence test: {missing:?}"
    );
}

#[test]
fn default_type_name_and_signature() {
    // Default name = UpperCamelCase of the model name; SIGNATURE = the derived signature.
    genads::genads_model!(file = "models/ads_kg_linear.genads");
    let reference = interpreted("models/ads_kg_linear.genads", None);
    assert_eq!(
        AdsKgLinear::SIGNATURE,
        reference.derived().constants.signature
    );
    assert_eq!(AdsKgLinear::NAME, "ads_kg_linear");
}
