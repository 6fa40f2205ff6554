//! Study files: parsing, validation errors (naming file and key) and cell expansion.

use std::path::{Path, PathBuf};

use genads::study::{Budget, Study, StudyError};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A study file in a temporary directory whose models come from the repository's zoo.
fn write_study(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("s.toml");
    std::fs::write(&path, body).unwrap();
    path
}

fn zoo(name: &str) -> String {
    repo().join("models").join(name).display().to_string()
}

fn minimal(extra: &str) -> String {
    format!(
        "name = \"t\"\nseeds = [1]\n[[models]]\nfile = \"{}\"\n[budget]\nsteps = 10\n{extra}",
        zoo("ads_linear.genads")
    )
}

fn err_text(e: StudyError) -> String {
    e.to_string()
}

#[test]
fn every_study_in_studies_dir_loads() {
    let mut n = 0;
    for entry in std::fs::read_dir(repo().join("studies")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let st = Study::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(!st.cells.is_empty(), "{}", path.display());
            n += 1;
        }
    }
    assert!(n >= 5, "expected the five studies, found {n}");
}

#[test]
fn quick_study_expands_to_the_four_paper_models() {
    let st = Study::load(&repo().join("studies/quick.toml")).unwrap();
    let names: Vec<&str> = st.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["baseline", "ads_linear", "ads_kg_linear", "ads_kg_hermite"]
    );
    assert_eq!(st.cells.len(), 4 * st.seeds.len());
    // Model paths are resolved from the study file's directory, without `..` left over.
    assert!(st.members[0].file.ends_with("models/baseline.genads"));
    assert!(!st.members[0].file.to_string_lossy().contains(".."));
}

#[test]
fn sweep_files_expand_to_every_member_times_every_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let body = format!(
        "name = \"sw\"\nseeds = [1, 2]\n[[models]]\nfile = \"{}\"\n[[models]]\nfile = \"{}\"\nmodel = \"hsv_scan_p0.5\"\n[budget]\nepochs = 3\n",
        zoo("delta_sweep.genads"),
        zoo("hsv_scan.genads")
    );
    let st = Study::load(&write_study(tmp.path(), &body)).unwrap();
    assert_eq!(st.budget, Budget::Epochs(3));
    let names: Vec<&str> = st.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "delta_sweep_delta1.2",
            "delta_sweep_delta1.5",
            "delta_sweep_delta2",
            "delta_sweep_delta2.5",
            "delta_sweep_delta3",
            "hsv_scan_p0.5"
        ]
    );
    assert_eq!(st.cells.len(), 12);
    // Member-major order, one directory per (member, seed).
    let dirs: Vec<String> = st
        .cells
        .iter()
        .map(|c| c.rel_dir.display().to_string())
        .collect();
    assert_eq!(dirs[0], "cells/delta_sweep_delta1.2/seed1");
    assert_eq!(dirs[1], "cells/delta_sweep_delta1.2/seed2");
    assert_eq!(dirs[11], "cells/hsv_scan_p0.5/seed2");
    let out = Path::new("o");
    let args = st.train_args(&st.cells[11], &st.members[5].file, out);
    let expected: Vec<String> = [
        "train",
        &st.members[5].file.display().to_string(),
        "--model",
        "hsv_scan_p0.5",
        "--data",
        "checkerboard",
        "--preset",
        "quick",
        "--epochs",
        "3",
        "--seed",
        "2",
        "--out",
        "o/cells/hsv_scan_p0.5/seed2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(args, expected);
}

#[test]
fn unknown_keys_are_rejected_with_file_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write_study(tmp.path(), &minimal("[eval]\neval_evry = 5\n"));
    let e = err_text(Study::load(&path).unwrap_err());
    assert!(e.contains("s.toml"), "{e}");
    assert!(e.contains("eval_evry"), "{e}");
    let path = write_study(tmp.path(), &format!("colour = 1\n{}", minimal("")));
    let e = err_text(Study::load(&path).unwrap_err());
    assert!(e.contains("colour"), "{e}");
}

#[test]
fn invalid_values_name_their_key() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            minimal("").replace("steps = 10", "steps = 10\nepochs = 2"),
            "`budget`",
        ),
        (
            minimal("").replace("steps = 10", "time = \"soon\""),
            "`budget.time`",
        ),
        (
            minimal("").replace("steps = 10", "steps = 0"),
            "`budget.steps`",
        ),
        (minimal("").replace("seeds = [1]", "seeds = []"), "`seeds`"),
        (
            minimal("").replace("seeds = [1]", "seeds = [3, 3]"),
            "`seeds`",
        ),
        (format!("preset = \"huge\"\n{}", minimal("")), "`preset`"),
        (
            minimal("[thresholds]\naccuracy = 0.9\n"),
            "`thresholds.accuracy`",
        ),
        (minimal("[thresholds]\nbv = -1.0\n"), "`thresholds.bv`"),
        (minimal("[eval]\neval_samples = 0\n"), "`eval`"),
        (minimal("[eval]\nrepeats = 0\n"), "`eval.repeats`"),
        (
            format!("data = \"mnist\"\n{}", minimal("[eval]\nrepeats = 3\n")),
            "`eval.repeats`",
        ),
        (
            minimal("").replace("name = \"t\"", "name = \"t\"\nthreads = 0"),
            "`threads`",
        ),
        (
            minimal("").replace("name = \"t\"", "name = \"../x\""),
            "`name`",
        ),
        (
            minimal("").replace("ads_linear.genads", "no_such_model.genads"),
            "`models[0].file`",
        ),
        (
            minimal("").replace(
                "ads_linear.genads\"",
                "ads_linear.genads\"\nmodel = \"nope\"",
            ),
            "`models[0].model`",
        ),
        (
            format!(
                "{}[[models]]\nfile = \"{}\"\n",
                minimal(""),
                zoo("ads_linear.genads")
            ),
            "appears twice",
        ),
    ];
    for (body, want) in cases {
        let path = write_study(tmp.path(), &body);
        let e = err_text(Study::load(&path).unwrap_err());
        assert!(e.contains("s.toml"), "{e}");
        assert!(
            e.contains(want),
            "expected {want} in: {e}\n--- file:\n{body}"
        );
    }
}

#[test]
fn time_budgets_become_train_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let body = minimal("").replace("steps = 10", "time = \"90s\"\nmax_steps = 500");
    let st = Study::load(&write_study(tmp.path(), &body)).unwrap();
    assert_eq!(
        st.budget.flags(),
        ["--time", "90s", "--max-steps", "500"].map(String::from)
    );
    let body = minimal("").replace("steps = 10", "steps = 10\nmax_steps = 5");
    let e = err_text(Study::load(&write_study(tmp.path(), &body)).unwrap_err());
    assert!(e.contains("budget.max_steps"), "{e}");
}

#[test]
fn repeats_and_threads_reach_the_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let body =
        minimal("[eval]\nrepeats = 3\n").replace("name = \"t\"", "name = \"t\"\nthreads = 2");
    let st = Study::load(&write_study(tmp.path(), &body)).unwrap();
    let args = st.train_args(&st.cells[0], Path::new("m.genads"), Path::new("out"));
    let at = args
        .iter()
        .position(|a| a == "--final-repeats")
        .expect("--final-repeats");
    assert_eq!(args[at + 1], "3");
    assert_eq!(st.threads, 2);
    // The CPU is the default and is not spelled out; another device reaches every cell.
    assert!(!args.iter().any(|a| a == "--device"));
    let mut on_gpu = st.clone();
    on_gpu.device = "cuda:1".parse().unwrap();
    let args = on_gpu.train_args(&on_gpu.cells[0], Path::new("m.genads"), Path::new("out"));
    let at = args.iter().position(|a| a == "--device").expect("--device");
    assert_eq!(args[at + 1], "cuda:1");
    // Two cells of two threads need four cores: refused on two, allowed when the study says so.
    use genads::study::cells::check_cores;
    let e = check_cores(&st, 2, 2).unwrap_err().to_string();
    assert!(
        e.contains("s.toml") && e.contains("needs 4 cores") && e.contains("--jobs 1"),
        "{e}"
    );
    assert!(check_cores(&st, 1, 2).is_ok());
    let shared = Study::load(&write_study(
        tmp.path(),
        &body.replace("threads = 2", "threads = 2\nshare_cores = true"),
    ))
    .unwrap();
    assert!(check_cores(&shared, 2, 2).is_ok());
}
