//! Bad input and interruptions at the CLI: refusals happen before anything is written, a run
//! directory never gets stuck, Ctrl-C checkpoints and resumes exactly, damaged checkpoints are
//! passed over, evaluations record what produced them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn genads(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genads"))
        .args(args)
        .current_dir(cwd)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .expect("run genads")
}

fn log(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(format!("{name}.genads"))
}

/// Flags of a tiny baseline training into `out` (no periodic evaluation, a 50-sample final one).
fn tiny_train<'a>(file: &'a str, out: &'a str, steps: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        file,
        "--steps",
        steps,
        "--batch-size",
        "16",
        "--eval-every",
        "0",
        "--final-samples",
        "50",
        "--eval-steps",
        "2",
        "--out",
        out,
    ]
}

/// The metrics of a metrics file, without its provenance.
fn metrics(path: &Path) -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    map.remove("provenance");
    map
}

#[test]
fn refused_training_flags_write_nothing_and_state_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let file = model("ads_linear");
    let file = file.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--batch-size", "0"], "between 1 and 65536"),
        (&["--batch-size", "1000000"], "between 1 and 65536"),
        (&["--modes", "1"], "between 2 and 128"),
        (&["--modes", "100000"], "128 × 128 grid"),
        (&["--final-samples", "0"], "between 1 and 1000000"),
        (&["--eval-samples", "2000000"], "between 1 and 1000000"),
        (&["--eval-steps", "0"], "between 1 and 100000"),
        (&["--lr", "nan"], "positive and finite, got NaN"),
        (&["--lr", "inf"], "positive and finite, got inf"),
        (&["--lr=-1"], "positive and finite, got -1"),
        (&["--time", "0s"], "time budget must be positive"),
        (&["--steps", "0"], "0 steps trains nothing"),
        (&["--epochs", "0"], "0 epochs trains nothing"),
        (&["--time", "1m", "--max-steps", "0"], "step cap of 0"),
        (&["--eval-solver", "dopri5", "--eval-tol", "0"], "solver"),
    ];
    for (i, (flags, expected)) in cases.iter().enumerate() {
        let out = format!("run{i}");
        let mut args = vec!["train", file, "--out", &out];
        args.extend_from_slice(flags);
        let result = genads(&args, tmp.path());
        let text = log(&result);
        assert!(!result.status.success(), "{flags:?} was accepted: {text}");
        assert!(text.contains(expected), "{flags:?}: {text}");
        assert!(
            !tmp.path().join(&out).exists(),
            "{flags:?} wrote {out} before refusing"
        );
    }
}

#[test]
fn devices_this_build_cannot_open_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let file = model("baseline");
    let file = file.to_str().unwrap();
    let mut cases: Vec<(&str, &str)> = vec![("gpu", "cpu, cuda, or cuda:N")];
    if !cfg!(feature = "cuda") {
        cases.push(("cuda", "built without CUDA support"));
        cases.push(("cuda:1", "--features cuda"));
    }
    for (i, (device, expected)) in cases.iter().enumerate() {
        let out = format!("run{i}");
        let mut args = tiny_train(file, &out, "2");
        args.extend(["--device", device]);
        let result = genads(&args, tmp.path());
        let text = log(&result);
        assert!(
            !result.status.success(),
            "--device {device} was accepted: {text}"
        );
        assert!(text.contains(expected), "--device {device}: {text}");
        assert!(
            !tmp.path().join(&out).exists(),
            "--device {device} wrote {out} before refusing"
        );
    }
    // The default and an explicit `--device cpu` train the same run.
    let result = genads(&tiny_train(file, "default", "3"), tmp.path());
    assert!(result.status.success(), "{}", log(&result));
    let mut args = tiny_train(file, "cpu", "3");
    args.extend(["--device", "cpu"]);
    let result = genads(&args, tmp.path());
    assert!(result.status.success(), "{}", log(&result));
    assert_eq!(
        metrics(&tmp.path().join("default/eval.json")),
        metrics(&tmp.path().join("cpu/eval.json"))
    );
}

#[test]
fn a_directory_of_the_users_files_is_not_written_into() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mine");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("samples.png"), b"my picture").unwrap();
    let file = model("baseline");
    let result = genads(&tiny_train(file.to_str().unwrap(), "mine", "2"), tmp.path());
    let text = log(&result);
    assert!(!result.status.success(), "{text}");
    assert!(text.contains("is not empty (samples.png)"), "{text}");
    assert_eq!(
        std::fs::read(dir.join("samples.png")).unwrap(),
        b"my picture"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "files were added"
    );
}

#[test]
fn a_run_stopped_before_its_first_checkpoint_resumes_from_step_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let file = model("baseline");
    let file = file.to_str().unwrap();
    let whole = genads(&tiny_train(file, "whole", "6"), tmp.path());
    assert!(whole.status.success(), "{}", log(&whole));
    // The state of a run killed after writing run.json and before its first checkpoint.
    let cut = genads(&tiny_train(file, "cut", "6"), tmp.path());
    assert!(cut.status.success(), "{}", log(&cut));
    for entry in ["checkpoints", "eval.json", "metrics.jsonl", "samples.png"] {
        let path = tmp.path().join("cut").join(entry);
        if path.is_dir() {
            std::fs::remove_dir_all(path).unwrap();
        } else {
            std::fs::remove_file(path).unwrap();
        }
    }
    let resumed = genads(&["train", file, "--out", "cut", "--resume"], tmp.path());
    let text = log(&resumed);
    assert!(resumed.status.success(), "{text}");
    assert!(text.contains("no checkpoint"), "{text}");
    assert!(text.contains("starting it at step 0"), "{text}");
    assert_eq!(
        metrics(&tmp.path().join("cut/eval.json")),
        metrics(&tmp.path().join("whole/eval.json"))
    );
}

#[test]
fn resume_refuses_flags_that_would_change_the_run_and_keeps_its_evaluation() {
    let tmp = tempfile::tempdir().unwrap();
    let file = model("baseline");
    let file = file.to_str().unwrap();
    let first = genads(&tiny_train(file, "run", "4"), tmp.path());
    assert!(first.status.success(), "{}", log(&first));
    let before = metrics(&tmp.path().join("run/eval.json"));

    let changed = genads(
        &[
            "train", file, "--out", "run", "--resume", "--steps", "9", "--seed", "3",
        ],
        tmp.path(),
    );
    let text = log(&changed);
    assert!(!changed.status.success(), "{text}");
    assert!(
        text.contains("--steps 9 (the run's: --steps 4)")
            && text.contains("--seed 3 (the run's: 1)"),
        "{text}"
    );

    // The stored values again are fine; the finished run is re-evaluated with its own settings
    // (50 samples, RK4 with 2 steps), not the defaults.
    let same = genads(
        &["train", file, "--out", "run", "--resume", "--steps", "4"],
        tmp.path(),
    );
    assert!(same.status.success(), "{}", log(&same));
    assert_eq!(metrics(&tmp.path().join("run/eval.json")), before);
    let text = std::fs::read_to_string(tmp.path().join("run/eval.json")).unwrap();
    let eval: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(eval["provenance"]["samples"], 50, "{eval}");
    assert_eq!(eval["provenance"]["solver"], "Rk4 { steps: 2 }", "{eval}");
    assert_eq!(eval["provenance"]["checkpoint_step"], 4, "{eval}");
}

#[test]
fn a_damaged_latest_checkpoint_is_skipped_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let file = model("baseline");
    let file = file.to_str().unwrap();
    let mut args = tiny_train(file, "run", "6");
    args.extend_from_slice(&["--checkpoint-every", "3"]);
    let first = genads(&args, tmp.path());
    assert!(first.status.success(), "{}", log(&first));
    let before = metrics(&tmp.path().join("run/eval.json"));
    let latest = tmp
        .path()
        .join("run/checkpoints/step-00000006/model.safetensors");
    let bytes = std::fs::read(&latest).unwrap();
    std::fs::write(&latest, &bytes[..bytes.len() / 2]).unwrap();

    let resumed = genads(&["train", file, "--out", "run", "--resume"], tmp.path());
    let text = log(&resumed);
    assert!(resumed.status.success(), "{text}");
    assert!(
        text.contains("skipped the damaged checkpoint") && text.contains("step-00000006"),
        "{text}"
    );
    assert!(text.contains("resuming run at step 3 of 6"), "{text}");
    // Steps 4–6 again from the intact checkpoint: the same run.
    assert_eq!(metrics(&tmp.path().join("run/eval.json")), before);
}

/// The last loss recorded in the newest checkpoint of a run.
fn last_loss(run: &Path) -> f64 {
    let dir = run.join("checkpoints");
    let newest = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("checkpoint.json").is_file())
        .max()
        .unwrap();
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(newest.join("checkpoint.json")).unwrap())
            .unwrap();
    meta["last_loss"].as_f64().unwrap()
}

#[test]
fn a_signal_writes_a_checkpoint_and_the_printed_command_resumes_the_same_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = model("baseline");
    let file = file.to_str().unwrap();
    let steps = "6000";
    let whole = genads(&tiny_train(file, "whole", steps), tmp.path());
    assert!(whole.status.success(), "{}", log(&whole));

    for (signal, name) in [(libc::SIGINT, "int"), (libc::SIGTERM, "term")] {
        let child = Command::new(env!("CARGO_BIN_EXE_genads"))
            .args(tiny_train(file, name, steps))
            .current_dir(tmp.path())
            .env("RAYON_NUM_THREADS", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // metrics.jsonl is opened when training starts.
        let started = Instant::now();
        while !tmp.path().join(name).join("metrics.jsonl").exists() {
            assert!(started.elapsed() < Duration::from_secs(60), "never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        // SAFETY: sends a signal to our own child process.
        let sent = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        assert_eq!(sent, 0);
        let output = child.wait_with_output().unwrap();
        let text = log(&output);
        assert_eq!(output.status.code(), Some(130), "{name}: {text}");
        assert!(text.contains("interrupted after step"), "{text}");
        let command = text
            .lines()
            .find_map(|l| l.strip_prefix("continue with: genads "))
            .unwrap_or_else(|| panic!("no resume command: {text}"));
        assert!(!tmp.path().join(name).join("eval.json").exists());

        let args: Vec<&str> = command.split_whitespace().collect();
        let resumed = genads(&args, tmp.path());
        let resumed_text = log(&resumed);
        assert!(resumed.status.success(), "{resumed_text}");
        assert!(!resumed_text.contains("at step 0 "), "{resumed_text}");
        assert_eq!(
            last_loss(&tmp.path().join(name)),
            last_loss(&tmp.path().join("whole")),
            "{name}"
        );
        assert_eq!(
            metrics(&tmp.path().join(name).join("eval.json")),
            metrics(&tmp.path().join("whole/eval.json")),
            "{name}"
        );
    }
}

#[test]
fn a_start_interrupted_after_the_record_resumes_and_restores_the_model_files() {
    let tmp = tempfile::tempdir().unwrap();
    let file = model("baseline");
    let file = file.to_str().unwrap();
    let first = genads(&tiny_train(file, "run", "3"), tmp.path());
    assert!(first.status.success(), "{}", log(&first));
    let source = std::fs::read(tmp.path().join("run/model.genads")).unwrap();
    // What a kill right after run.json was written leaves.
    for entry in std::fs::read_dir(tmp.path().join("run")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "run.json" {
            if path.is_dir() {
                std::fs::remove_dir_all(path).unwrap();
            } else {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    let resumed = genads(&["train", file, "--out", "run", "--resume"], tmp.path());
    assert!(resumed.status.success(), "{}", log(&resumed));
    assert_eq!(
        std::fs::read(tmp.path().join("run/model.genads")).unwrap(),
        source
    );
    assert!(tmp.path().join("run/derivation.txt").is_file());
    assert!(tmp.path().join("run/eval.json").is_file());
}

#[test]
fn eval_writes_its_own_file_with_provenance_unless_told_to_replace() {
    let tmp = tempfile::tempdir().unwrap();
    let file = model("baseline");
    let first = genads(&tiny_train(file.to_str().unwrap(), "run", "3"), tmp.path());
    assert!(first.status.success(), "{}", log(&first));
    let training = std::fs::read(tmp.path().join("run/eval.json")).unwrap();

    let eval = genads(
        &[
            "eval",
            "run",
            "--n",
            "40",
            "--steps",
            "3",
            "--seed",
            "5",
            "--repeats",
            "2",
        ],
        tmp.path(),
    );
    let text = log(&eval);
    assert!(eval.status.success(), "{text}");
    assert_eq!(
        std::fs::read(tmp.path().join("run/eval.json")).unwrap(),
        training,
        "the training's eval.json was overwritten"
    );
    let own = tmp.path().join("run/evals/step3-n40-rk43-seed5-x2.json");
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&own).unwrap()).unwrap();
    let p = &value["provenance"];
    assert_eq!(p["command"], "genads eval");
    assert_eq!(p["samples"], 40);
    assert_eq!(p["draws"], 2);
    assert_eq!(p["seed"], 5);
    assert_eq!(p["checkpoint_step"], 3);
    assert_eq!(p["solver"], "Rk4 { steps: 3 }");
    assert!(value["bv"].as_f64().is_some());

    let replaced = genads(
        &["eval", "run", "--n", "40", "--steps", "3", "--replace"],
        tmp.path(),
    );
    assert!(replaced.status.success(), "{}", log(&replaced));
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("run/eval.json")).unwrap())
            .unwrap();
    assert_eq!(value["provenance"]["command"], "genads eval");
}
