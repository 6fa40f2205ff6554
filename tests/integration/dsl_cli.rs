//! `genads check` and `genads explain` end to end: exit codes, stdout, stderr.

use std::process::Command;

fn genads(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_genads"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run genads");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_accepts_the_zoo() {
    let (code, stdout, stderr) = genads(&[
        "check",
        "models/ads_kg_hermite.genads",
        "models/hsv_scan.genads",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "ok models/ads_kg_hermite.genads: 1 model (ads_kg_hermite)\n\
         ok models/hsv_scan.genads: 4 models (hsv_scan_p0.1, hsv_scan_p0.25, hsv_scan_p0.5, hsv_scan_p1)\n"
    );
}

#[test]
fn check_reports_bad_files_and_fails() {
    let dir = std::env::temp_dir().join(format!("genads_dsl_cli_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.genads");
    std::fs::write(
        &bad,
        "model m {\n    boundary 2\n    warp exp(r)\n    radial 0 -> 1\n    field delta 0.8\n    backbone off\n    path linear\n}\n",
    )
    .expect("write");
    let bad = bad.to_string_lossy().into_owned();
    let (code, stdout, stderr) = genads(&["check", "models/flat.genads", &bad]);
    assert_eq!(code, 1);
    assert!(stdout.starts_with("ok models/flat.genads"), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "error: scaling dimension too small\n --> {bad}:5:17\n  |\n5 |     field delta 0.8\n  |                 ^^^\n"
        )),
        "{stderr}"
    );
    let (code, _, stderr) = genads(&["check", "models/does_not_exist.genads"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot read file"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_formats_and_model_selection() {
    let (code, stdout, _) = genads(&["explain", "models/ads_kg_hermite.genads"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("dπ̃/dr = |k|² exp(-2*r) φ̃ - π̃"), "{stdout}");
    let (code, stdout, _) = genads(&[
        "explain",
        "models/delta_sweep.genads",
        "--model",
        "delta_sweep_delta2",
        "--format",
        "latex",
    ]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("\\begin{align*}") && stdout.contains("\\Delta &= 2"),
        "{stdout}"
    );
    assert!(!stdout.contains("delta_sweep_delta3"));
    let (code, stdout, _) = genads(&["explain", "models/hsv_scan.genads"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout.matches("\nsignature ").count(),
        4,
        "all models of the file"
    );
    let (code, stdout, _) = genads(&["explain", "models/flat.genads", "--format", "rust"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("pub fn omega(r: f64) -> f64"), "{stdout}");
    let (code, _, stderr) = genads(&["explain", "models/hsv_scan.genads", "--model", "nope"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("available: hsv_scan_p0.1"), "{stderr}");
}

#[test]
fn check_dry_runs_the_physics_and_accepts_an_ir_tip() {
    let dir = std::env::temp_dir().join(format!("genads_dsl_cli_dry_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // Passes the language's checks (massless, no AdS boundary to bound), but its mode function
    // does not settle at the UV boundary: `train` would fail building the envelopes.
    let bad = dir.join("flat_uv.genads");
    std::fs::write(
        &bad,
        "model flat_uv {\n    boundary 2\n    warp 2 + tanh(r)\n    radial 0 -> 1\n    field massless\n    backbone klein_gordon raw\n    path linear\n}\n",
    )
    .expect("write");
    let bad = bad.to_string_lossy().into_owned();
    let (code, _, stderr) = genads(&["check", &bad]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("error: model `flat_uv` cannot be trained: ")
            && stderr.contains(&format!(" --> {bad}:3:10\n"))
            && stderr.contains("= rule: `check` builds what `train` builds"),
        "{stderr}"
    );
    // The IR-tip warp: f = sinh r vanishes at r = 0, beyond r_IR = 0.5; it checks (and
    // its envelopes are built, on the regular branch at the tip).
    let tip = dir.join("tip.genads");
    std::fs::write(
        &tip,
        "model tip { boundary 2 warp sinh(r) radial 0.5 -> 1.5 field massless backbone klein_gordon raw path linear }\n",
    )
    .expect("write");
    let (code, stdout, stderr) = genads(&["check", &tip.to_string_lossy()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("1 model (tip)"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
