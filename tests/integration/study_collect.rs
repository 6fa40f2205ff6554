//! Cell states, aggregation (mean ± standard error, thresholds, seed-averaged curves, equal-step
//! and equal-time readings), the verdict rule, collect and the Slurm script, on fabricated run
//! directories.

use std::path::{Path, PathBuf};

use genads::study::{self, cell_state, slurm, CellState, Study};
use serde_json::json;

fn zoo(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name)
        .display()
        .to_string()
}

/// A 2-model × 2-seed study (200 steps) in `dir`.
fn study(dir: &Path) -> Study {
    let body = format!(
        "name = \"fab\"\nseeds = [1, 2]\n[[models]]\nfile = \"{}\"\n[[models]]\nfile = \"{}\"\n[budget]\nsteps = 200\n[eval]\neval_every = 100\neval_samples = 50\n[thresholds]\nbv = 0.5\n",
        zoo("baseline.genads"),
        zoo("ads_linear.genads")
    );
    let path = dir.join("fab.toml");
    std::fs::write(&path, body).unwrap();
    Study::load(&path).unwrap()
}

/// The run.json `genads train` would write for `cell` (the typed run record, as JSON).
fn record(st: &Study, member: usize, seed: u64) -> serde_json::Value {
    use genads::runtime::experiment::ExperimentConfig;
    use genads::runtime::nn::{Preset, StateKind};
    use genads::runtime::train::{Budget, TrainConfig};
    let m = &st.members[member];
    let mut experiment = ExperimentConfig::checkerboard(
        m.source.clone(),
        m.file.display().to_string(),
        m.name.clone(),
    );
    experiment.data_seed = seed;
    let mut train = TrainConfig::resolve(Preset::Quick, StateKind::Points { dim: 2 }, false, false);
    train.seed = seed;
    train.budget = Budget::Steps(200);
    train.eval_every = 100;
    serde_json::to_value(genads::run::RunRecord {
        experiment,
        train,
        signature: "x".into(),
        eval: None,
    })
    .unwrap()
}

/// Writes a finished cell: run.json, metrics.jsonl with BV `bvs` at steps 100, 200 (wall 1 s per
/// 100 steps × `slow`), eval.json with final BV `bvs[1]`.
fn finished(st: &Study, out: &Path, member: usize, seed: u64, bvs: [f64; 2], slow: f64) -> PathBuf {
    let cell = st
        .cells
        .iter()
        .find(|c| c.member == member && c.seed == seed)
        .unwrap();
    let dir = out.join(&cell.rel_dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("run.json"), record(st, member, seed).to_string()).unwrap();
    let mut log = String::new();
    for (i, bv) in bvs.iter().enumerate() {
        let step = 100 * (i as u64 + 1);
        log += &json!({"step": step, "epoch": 0, "wall_s": slow * (i as f64 + 1.0), "loss": 1.0,
            "metrics": {"bv": bv, "js_cell": 0.01, "wed_norm": 0.1, "cqs": bv + 0.11}})
        .to_string();
        log += "\n";
    }
    std::fs::write(dir.join("metrics.jsonl"), log).unwrap();
    std::fs::write(
        dir.join("eval.json"),
        json!({"bv": bvs[1], "js_cell": 0.01, "wed_norm": 0.1, "cqs": bvs[1] + 0.11, "sw2": 0.3, "nfe": 100.0})
            .to_string(),
    )
    .unwrap();
    dir
}

#[test]
fn cell_states_follow_run_json_eval_json_and_checkpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let st = study(tmp.path());
    let out = tmp.path().join("out");
    let cell = &st.cells[0];
    assert_eq!(cell_state(&st, cell, &out), CellState::Fresh);
    let dir = finished(&st, &out, 0, 1, [0.6, 0.4], 1.0);
    assert_eq!(cell_state(&st, cell, &out), CellState::Finished);
    // No eval.json and no checkpoint: nothing to resume from.
    std::fs::remove_file(dir.join("eval.json")).unwrap();
    assert_eq!(cell_state(&st, cell, &out), CellState::Fresh);
    // A complete checkpoint (its metadata file present): resumable.
    let ck = dir.join("checkpoints/step-00000100");
    std::fs::create_dir_all(&ck).unwrap();
    std::fs::write(ck.join("checkpoint.json"), "{}").unwrap();
    assert_eq!(cell_state(&st, cell, &out), CellState::Resumable);
    // A run.json of another configuration (seed, budget, model source) is stale and left alone.
    for (field, value) in [
        ("/train/seed", json!(7)),
        ("/train/budget", json!({"steps": 300})),
        ("/train/preset", json!("small")),
        ("/experiment/model_source", json!("model other {}")),
        ("/train/eval_every", json!(50)),
    ] {
        let mut r = record(&st, 0, 1);
        *r.pointer_mut(field).unwrap() = value;
        std::fs::write(dir.join("run.json"), r.to_string()).unwrap();
        assert!(
            matches!(cell_state(&st, cell, &out), CellState::Stale(_)),
            "{field}"
        );
    }
}

#[test]
fn aggregation_gives_mean_and_sample_std_over_seeds_and_thresholds() {
    let tmp = tempfile::tempdir().unwrap();
    let st = study(tmp.path());
    let out = tmp.path().join("out");
    // baseline: final BV 0.4 and 0.2 → mean 0.3, sample std √0.02; reaches BV ≤ 0.5 at step 200
    // (seed 1) and 100 (seed 2).
    finished(&st, &out, 0, 1, [0.6, 0.4], 1.0);
    finished(&st, &out, 0, 2, [0.45, 0.2], 3.0);
    // ads_linear: only seed 1 finished; never reaches BV ≤ 0.5.
    finished(&st, &out, 1, 1, [0.9, 0.7], 2.0);
    let c = study::collect(&st, &out);
    assert_eq!(c.cells.len(), 3);
    assert_eq!(c.missing.len(), 1);
    assert!(c.missing[0].0.contains("ads_linear seed 2"));
    let b = &c.models[0];
    assert_eq!(b.name, "baseline");
    let bv = b.finals["bv"];
    assert!((bv.mean - 0.3).abs() < 1e-12);
    assert!((bv.std.unwrap() - 0.02f64.sqrt()).abs() < 1e-12);
    assert_eq!(bv.n, 2);
    // Wall-clock: the last evaluation line, (2 + 6) / 2.
    assert!((b.wall_s.unwrap().mean - 4.0).abs() < 1e-12);
    let t = &b.thresholds[0];
    assert_eq!((t.reached, t.seeds), (2, 2));
    assert!((t.steps.unwrap().mean - 150.0).abs() < 1e-12);
    // seed 1 reaches it at step 200 (2 s), seed 2 at step 100 (3 s).
    assert!((t.wall_s.unwrap().mean - 2.5).abs() < 1e-12);
    // Seed-averaged curve at step 100: (0.6 + 0.45) / 2.
    assert!((b.at_step(100, "bv").unwrap() - 0.525).abs() < 1e-12);
    let a = &c.models[1];
    assert!(a.finals["bv"].std.is_none());
    assert_eq!(a.thresholds[0].reached, 0);

    let md = study::aggregate::markdown_table(&c.models);
    // Mean ± standard error: 0.1414 / √2 = 0.1.
    assert!(md.contains("| baseline | 2 | 0.3000 ± 0.1000 |"), "{md}");
    assert!(md.contains("| ads_linear | 1 | 0.7000 |"), "{md}");
    assert!(md.contains("not reached"), "{md}");
    let csv = study::aggregate::csv_table(&c.models);
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    assert_eq!(row[col("model")], "baseline");
    assert!((row[col("bv_mean")].parse::<f64>().unwrap() - 0.3).abs() < 1e-12);
    assert!((row[col("bv_std")].parse::<f64>().unwrap() - 0.02f64.sqrt()).abs() < 1e-12);
    assert!((row[col("bv_se")].parse::<f64>().unwrap() - 0.1).abs() < 1e-12);
    assert_eq!(row[col("seeds_reaching_bv_le_0.5")], "2");
}

#[test]
fn collect_writes_tables_plots_and_a_report() {
    let tmp = tempfile::tempdir().unwrap();
    let st = study(tmp.path());
    let out = tmp.path().join("out");
    for seed in [1, 2] {
        finished(&st, &out, 0, seed, [0.6, 0.4], 1.0);
        finished(&st, &out, 1, seed, [0.3, 0.2], 1.5);
    }
    let c = study::aggregate_into(&st, &out, "genads study fab.toml").unwrap();
    assert_eq!(c.cells.len(), 4);
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("genads study fab.toml"));
    assert!(md.contains("seeds: 1, 2"));
    assert!(md.contains("200 steps per cell"));
    // The claims are computed by the rule: both seeds agree exactly (standard error 0), so
    // ads_linear's lower CQS holds at equal steps (final: 0.31 vs 0.51) and at equal time (the
    // shortest cell's last evaluation, 2 s: ads_linear at step 100, 0.41, the baseline at step
    // 200, 0.51).
    assert!(md.contains("Verdict rule: a claim"), "{md}");
    assert!(
        md.contains("| ads_linear | 0.4100 ± 0.0000 | holds | 0.3100 ± 0.0000 | holds |"),
        "{md}"
    );
    assert!(
        md.contains("the lowest physics-informed CQS is ads_linear's. **Verdict: holds**"),
        "{md}"
    );
    assert!(out.join("results.csv").is_file());
    assert!(out.join("bv_vs_step.png").is_file());
    assert!(out.join("cqs_vs_time.png").is_file());
    // A report over the study writes its plots beside the markdown, prefixed by the study name.
    let md_path = tmp.path().join("docs/results.md");
    std::fs::create_dir_all(md_path.parent().unwrap()).unwrap();
    study::write_report(
        &[(st.clone(), out.clone(), "genads study fab.toml".into())],
        &md_path,
        "genads study fab.toml --report docs/results.md",
    )
    .unwrap();
    let report = std::fs::read_to_string(&md_path).unwrap();
    assert!(report.contains("](results/fab_bv_vs_step.png)"), "{report}");
    assert!(tmp.path().join("docs/results/fab_bv_vs_step.png").is_file());
    assert!(report.contains("Claim 4: Δ ≈ 1.5 is best"));
    assert!(report.contains("Not measured"));
}

#[test]
fn slurm_script_runs_the_same_train_command_per_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let st = study(tmp.path());
    let out = tmp.path().join("shared out");
    let exe = Path::new("/opt/genads/bin/genads");
    let script = slurm::script(&st, exe, &out, Path::new("fab.toml"));
    assert!(script.starts_with("#!/bin/bash\n"));
    assert!(script.contains("#SBATCH --array=0-3\n"), "{script}");
    assert!(script.contains("GENADS=\"${GENADS:-/opt/genads/bin/genads}\""));
    assert!(script.contains("export RAYON_NUM_THREADS=1"));
    let q = |p: &Path| slurm::shell_quote(&p.display().to_string());
    for (i, cell) in st.cells.iter().enumerate() {
        let member = &st.members[cell.member];
        let file = std::fs::canonicalize(&member.file).unwrap();
        let dir = out.join(&cell.rel_dir);
        let line = format!(
            "  {i}) run_cell {} train {} --model {} --data checkerboard --preset quick --steps 200 --seed {} --eval-every 100 --eval-samples 50 --out {} ;;\n",
            q(&dir),
            q(&file),
            member.name,
            cell.seed,
            q(&dir)
        );
        assert!(
            script.contains(&line),
            "missing line:\n{line}\nin:\n{script}"
        );
    }
    // The output directory has a space: it is quoted.
    assert!(script.contains("'"));
    assert!(script.contains("--collect --out"));
    assert_eq!(slurm::shell_quote("a b'c"), r"'a b'\''c'");
    assert_eq!(slurm::shell_quote("plain/path-1.5"), "plain/path-1.5");
}

#[test]
fn delta_claim_is_computed_from_the_sweep_members() {
    use genads::study::plots::sweep_value;
    assert_eq!(sweep_value("delta_sweep_delta1.5", "delta"), Some(1.5));
    assert_eq!(sweep_value("hsv_scan_p0.25", "p"), Some(0.25));
    assert_eq!(sweep_value("ads_kg_hermite", "p"), None);
    let tmp = tempfile::tempdir().unwrap();
    let body = format!(
        "name = \"d\"\nseeds = [1]\nsweep_param = \"delta\"\n[[models]]\nfile = \"{}\"\n[budget]\nsteps = 200\n[eval]\neval_every = 100\n",
        zoo("delta_sweep.genads")
    );
    let path = tmp.path().join("d.toml");
    std::fs::write(&path, body).unwrap();
    let st = Study::load(&path).unwrap();
    let out = tmp.path().join("out");
    // Members: Δ = 1.2, 1.5, 2, 2.5, 3. Δ = 2 ends lowest (final BV 0.2 → CQS 0.31), Δ = 1.5
    // and 2.5 higher; Δ = 1.2 and 3 not run. One seed: no standard error, nothing resolved.
    finished(&st, &out, 1, 1, [0.6, 0.5], 1.0);
    finished(&st, &out, 2, 1, [0.6, 0.2], 1.0);
    finished(&st, &out, 3, 1, [0.6, 0.4], 1.0);
    study::aggregate_into(&st, &out, "genads study d.toml").unwrap();
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(
        md.contains("| delta_sweep_delta2 | 0.3100 | not resolved at this budget |"),
        "{md}"
    );
    assert!(
        md.contains("Δ = 1.5 lower than every other Δ. **Verdict: not resolved at this budget**"),
        "{md}"
    );
    assert!(md.contains("delta_sweep_delta3 seed 1 (not run)"), "{md}");
    assert!(out.join("final_cqs_vs_delta.png").is_file());
}

#[test]
fn the_verdict_rule_needs_twice_the_standard_error_of_the_difference() {
    use genads::study::aggregate::{compare_lower, Stat, Verdict};
    let st = |v: &[f64]| Stat::of(v).unwrap();
    // se of each: 0.1/√3 = 0.0577; the difference's se 0.0816; twice that 0.163.
    let a = st(&[1.0, 1.2, 1.1]);
    assert_eq!(compare_lower(&a, &st(&[1.5, 1.7, 1.6])), Verdict::Holds);
    assert_eq!(compare_lower(&st(&[1.5, 1.7, 1.6]), &a), Verdict::Refuted);
    // A difference of 0.1 < 0.163: not resolved either way.
    assert_eq!(
        compare_lower(&a, &st(&[1.1, 1.3, 1.2])),
        Verdict::NotResolved
    );
    assert_eq!(
        compare_lower(&st(&[1.1, 1.3, 1.2]), &a),
        Verdict::NotResolved
    );
    // One seed has no standard error: never resolved, however large the gap.
    assert_eq!(
        compare_lower(&st(&[0.0]), &st(&[9.0, 9.1])),
        Verdict::NotResolved
    );
    assert!((a.se().unwrap() - 0.1 / 3f64.sqrt()).abs() < 1e-12);
}

#[test]
fn equal_step_readings_use_the_last_step_every_cell_evaluated() {
    use genads::study::aggregate::{at_common_step, at_common_time};
    let tmp = tempfile::tempdir().unwrap();
    let st = study(tmp.path());
    let out = tmp.path().join("out");
    // The baseline evaluated at 100 and 200 (1 s per 100 steps); ads_linear, three times slower
    // per step (3 s per 100), at 100 and 200 as well; then ads_linear's curve loses step 200.
    finished(&st, &out, 0, 1, [0.6, 0.4], 1.0);
    let slow = finished(&st, &out, 1, 1, [0.3, 0.2], 3.0);
    let c = study::collect(&st, &out);
    let (step, stats) = at_common_step(&c.cells, &[0, 1], "bv").unwrap();
    assert_eq!(step, 200);
    assert!((stats[0].unwrap().mean - 0.4).abs() < 1e-12);
    assert!((stats[1].unwrap().mean - 0.2).abs() < 1e-12);
    // Equal time: the shortest cell (the baseline, 2 s) sets it; ads_linear had only reached its
    // first evaluation (step 100 is at 3 s > 2 s: none), so it has no reading.
    let (t, by_time) = at_common_time(&c.cells, &[0, 1], "bv").unwrap();
    assert!((t - 2.0).abs() < 1e-12);
    assert!((by_time[0].0.unwrap().mean - 0.4).abs() < 1e-12);
    assert!(by_time[1].0.is_none());
    let log = std::fs::read_to_string(slow.join("metrics.jsonl")).unwrap();
    std::fs::write(slow.join("metrics.jsonl"), log.lines().next().unwrap()).unwrap();
    let c = study::collect(&st, &out);
    assert_eq!(at_common_step(&c.cells, &[0, 1], "bv").unwrap().0, 100);
}
