//! End to end: a reduced quick study (2 models × 1 seed, 20 steps, tiny evaluations) through the
//! `genads` binary: run, re-run (skips finished cells), collect, report and the Slurm script.

use std::path::Path;
use std::process::Command;

fn genads(args: &[&str], cwd: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_genads"))
        .args(args)
        .current_dir(cwd)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .expect("run genads");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `genads train FILE` for `steps` steps of batch `batch` into `out`, with a 20-sample final
/// evaluation and no periodic ones; panics with the log if it fails.
fn train_tiny(file: &Path, out: &Path, steps: u32, batch: u32, cwd: &Path) {
    let (steps, batch) = (steps.to_string(), batch.to_string());
    let (ok, log) = genads(
        &[
            "train",
            file.to_str().unwrap(),
            "--steps",
            &steps,
            "--batch-size",
            &batch,
            "--eval-every",
            "0",
            "--final-samples",
            "20",
            "--eval-steps",
            "2",
            "--out",
            out.to_str().unwrap(),
        ],
        cwd,
    );
    assert!(ok, "{log}");
}

#[test]
fn reduced_quick_study_runs_skips_collects_and_emits() {
    let tmp = tempfile::tempdir().unwrap();
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let body = format!(
        "name = \"mini\"\nseeds = [1]\nshare_cores = true\n[[models]]\nfile = \"{}\"\n[[models]]\nfile = \"{}\"\n[budget]\nsteps = 20\n[eval]\neval_every = 10\neval_samples = 200\nfinal_samples = 200\neval_steps = 5\nrepeats = 2\n[thresholds]\nbv = 0.99\n",
        models.join("baseline.genads").display(),
        models.join("ads_linear.genads").display()
    );
    std::fs::write(tmp.path().join("mini.toml"), body).unwrap();
    let dir = tmp.path();

    let (ok, log) = genads(&["study", "mini.toml", "--out", "out", "--jobs", "2"], dir);
    assert!(ok, "{log}");
    for m in ["baseline", "ads_linear"] {
        let cell = dir.join("out/cells").join(m).join("seed1");
        assert!(cell.join("eval.json").is_file(), "{m}: {log}");
        assert!(cell.join("train.log").is_file());
    }
    let md = std::fs::read_to_string(dir.join("out/results.md")).unwrap();
    assert!(md.contains("| baseline | 1 |"), "{md}");
    assert!(md.contains("| ads_linear | 1 |"), "{md}");
    assert!(md.contains("cells finished: 2 of 2"));
    // How the cells ran (cell.json), and the final metrics as the mean over 2 draws.
    assert!(md.contains("2 at a time, 1 thread(s) each"), "{md}");
    assert!(
        md.contains("the mean over 2 independent sample sets"),
        "{md}"
    );
    let eval: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("out/cells/baseline/seed1/eval.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(eval["repeats"], 2.0);
    assert!(eval["bv_sd"].as_f64().is_some(), "{eval}");
    assert_eq!(eval["provenance"]["draws"], 2);
    // Which network each model trained with, read from the cells' run records.
    assert!(
        md.contains("- networks (run.json): baseline: mlp; ads_linear: mixture"),
        "{md}"
    );
    let csv = std::fs::read_to_string(dir.join("out/results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(dir.join("out/bv_vs_step.png").is_file());
    assert!(dir.join("out/samples.png").is_file());

    // A second run trains nothing.
    let (ok, log) = genads(&["study", "mini.toml", "--out", "out"], dir);
    assert!(ok, "{log}");
    assert!(
        log.contains("2 cells skipped (finished), 0 trained"),
        "{log}"
    );

    // An interrupted cell (checkpoint, no eval.json) is resumed, not restarted.
    let cell = dir.join("out/cells/baseline/seed1");
    std::fs::remove_file(cell.join("eval.json")).unwrap();
    let (ok, log) = genads(&["study", "mini.toml", "--out", "out"], dir);
    assert!(ok, "{log}");
    assert!(log.contains("baseline seed 1: resuming"), "{log}");
    assert!(
        log.contains("1 cells skipped (finished), 1 trained"),
        "{log}"
    );
    assert!(cell.join("eval.json").is_file());
    let train_log = std::fs::read_to_string(cell.join("train.log")).unwrap();
    assert!(train_log.contains("resuming"), "{train_log}");

    // Collect + a report over the study.
    let (ok, log) = genads(
        &[
            "study",
            "mini.toml",
            "--out",
            "out",
            "--collect",
            "--report",
            "rep/results.md",
        ],
        dir,
    );
    assert!(ok, "{log}");
    let report = std::fs::read_to_string(dir.join("rep/results.md")).unwrap();
    assert!(report.contains("## Study `mini`"));
    assert!(report.contains("Claim 1"));
    assert!(dir.join("rep/results/mini_bv_vs_step.png").is_file());

    // The Slurm script: two array tasks, each the cell's train command into the shared directory.
    let (ok, log) = genads(
        &["study", "mini.toml", "--out", "out", "--emit", "slurm"],
        dir,
    );
    assert!(ok, "{log}");
    let script = std::fs::read_to_string(dir.join("out/study.slurm")).unwrap();
    assert!(script.contains("#SBATCH --array=0-1"), "{script}");
    assert!(script.contains("--model baseline"));
    assert!(script.contains("--model ads_linear"));

    // A damaged study file is an error naming the file and the key.
    std::fs::write(dir.join("bad.toml"), "name = \"x\"\nseedz = [1]\n").unwrap();
    let (ok, log) = genads(&["study", "bad.toml"], dir);
    assert!(!ok);
    assert!(log.contains("bad.toml") && log.contains("seedz"), "{log}");
}

/// `genads train` gives Klein–Gordon models the source network's backbone gate (stored in
/// run.json) and not the others; `genads eval` prints the learned gate for the former only.
#[test]
fn klein_gordon_runs_get_the_backbone_gate_and_eval_prints_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for (model, gated) in [("ads_kg_linear", true), ("ads_linear", false)] {
        let file = models.join(format!("{model}.genads"));
        let out = dir.join(model);
        train_tiny(&file, &out, 2, 8, dir);
        let run = std::fs::read_to_string(out.join("run.json")).unwrap();
        assert!(
            run.contains(&format!("\"backbone_gate\": {gated}")),
            "{model}: {run}"
        );
        let (ok, log) = genads(
            &["eval", out.to_str().unwrap(), "--n", "20", "--steps", "2"],
            dir,
        );
        assert!(ok, "{log}");
        assert_eq!(log.contains("backbone gate β"), gated, "{model}: {log}");
        if gated {
            assert_eq!(log.matches("  t = ").count(), 5, "{log}");
        }
    }
}

/// `genads eval --repeats R` scores R sample sets with seeds SEED…SEED+R−1: its means and standard
/// deviations equal those of R single evaluations with those seeds; `--repeats 0` is refused.
#[test]
fn eval_repeats_are_the_statistics_of_single_seeded_evaluations() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/baseline.genads");
    let out = dir.join("run");
    let run = out.to_str().unwrap();
    train_tiny(&file, &out, 3, 16, dir);
    let eval = |extra: &[&str]| -> serde_json::Map<String, serde_json::Value> {
        let mut args = vec!["eval", run, "--n", "300", "--steps", "3", "--replace"];
        args.extend_from_slice(extra);
        let (ok, log) = genads(&args, dir);
        assert!(ok, "{log}");
        let text = std::fs::read_to_string(out.join("eval.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let value = |m: &serde_json::Map<String, serde_json::Value>, k: &str| m[k].as_f64().unwrap();
    let singles: Vec<_> = ["7", "8", "9"]
        .iter()
        .map(|s| eval(&["--seed", s]))
        .collect();
    let repeated = eval(&["--seed", "7", "--repeats", "3"]);
    assert_eq!(value(&repeated, "repeats"), 3.0);
    for key in ["bv", "js_cell", "wed_norm", "sw2"] {
        let xs: Vec<f64> = singles.iter().map(|m| value(m, key)).collect();
        let mean = xs.iter().sum::<f64>() / 3.0;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!((value(&repeated, key) - mean).abs() < 1e-12, "{key}");
        assert!(
            (value(&repeated, &format!("{key}_sd")) - sd).abs() < 1e-12,
            "{key}_sd"
        );
    }
    // Different seeds draw different samples (the statistics are not of one draw thrice).
    assert!(value(&repeated, "sw2_sd") > 0.0);
    let (ok, log) = genads(&["eval", run, "--repeats", "0"], dir);
    assert!(!ok && log.contains("--repeats"), "{log}");
}
