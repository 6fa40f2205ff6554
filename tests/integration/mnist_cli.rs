//! `genads train|sample|eval` on image data sets end to end, on tiny generated IDX files in a
//! temporary data directory (MNIST itself is never needed): the missing-data message, a few
//! training steps with the classifier trained on first use, a sample grid and the evaluation
//! beside the real-vs-real reference. The MNIST model files are checked as well.

use std::path::Path;
use std::process::Command;

use genads_runtime::mnist::idx::{encode_images, encode_labels, IdxImages};

fn genads(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_genads"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("GENADS_DATA", data_dir)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .expect("run genads");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `n_train` + `n_test` synthetic 28×28 images (a bright bar whose position is the label).
fn write_tiny_mnist(dir: &Path, n_train: usize, n_test: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let mut pixels = vec![0u8; n * 784];
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        for (i, &l) in labels.iter().enumerate() {
            let c0 = 2 + 2 * l as usize;
            for r in 6..22 {
                for c in c0..c0 + 4 {
                    pixels[i * 784 + r * 28 + c] = 255 - (i % 30) as u8;
                }
            }
        }
        let images = IdxImages {
            count: n,
            rows: 28,
            cols: 28,
            pixels,
        };
        std::fs::write(
            dir.join(format!("{prefix}-images-idx3-ubyte")),
            encode_images(&images),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{prefix}-labels-idx1-ubyte")),
            encode_labels(&labels),
        )
        .unwrap();
    }
}

#[test]
fn missing_image_data_names_the_command_to_run() {
    let empty = tempfile::tempdir().unwrap();
    let out = empty.path().join("run");
    let out = out.to_str().unwrap();
    for (data, command) in [
        ("mnist", "genads data fetch mnist"),
        ("fashion-mnist", "genads data fetch fashion-mnist"),
    ] {
        let (code, _, stderr) = genads(
            empty.path(),
            &[
                "train",
                "models/mnist/vanilla.genads",
                "--data",
                data,
                "--steps",
                "1",
                "--out",
                out,
            ],
        );
        assert_ne!(code, 0);
        assert!(stderr.contains(command), "{data}: {stderr}");
        assert!(
            !Path::new(out).exists(),
            "no run directory for a failed start"
        );
    }
}

#[test]
fn tiny_mnist_run_trains_samples_and_evaluates() {
    let data = tempfile::tempdir().unwrap();
    write_tiny_mnist(&data.path().join("mnist"), 70, 20);
    let run = data.path().join("run");
    let run_s = run.to_str().unwrap();
    let (code, stdout, stderr) = genads(
        data.path(),
        &[
            "train",
            "models/mnist/ads_kg_linear.genads",
            "--data",
            "mnist",
            "--subset",
            "40",
            "--steps",
            "3",
            "--batch-size",
            "8",
            "--eval-every",
            "2",
            "--eval-samples",
            "8",
            "--final-samples",
            "8",
            "--eval-solver",
            "euler",
            "--eval-steps",
            "2",
            "--out",
            run_s,
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // The metric classifier did not exist: trained on first use, with a message, and saved.
    assert!(
        stderr.contains("training the metric classifier"),
        "{stderr}"
    );
    assert!(data
        .path()
        .join("mnist/classifier-seed0.safetensors")
        .is_file());
    assert!(stdout.contains("real (train vs test)"), "{stdout}");
    assert!(stdout.contains("class fractions"), "{stdout}");
    for f in ["samples.png", "eval.json", "metrics.jsonl", "run.json"] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("eval.json")).unwrap()).unwrap();
    for key in ["fid", "kid", "precision", "recall", "ref_fid", "min_class"] {
        assert!(eval[key].as_f64().is_some_and(f64::is_finite), "{key}");
    }

    let grid = data.path().join("grid.png");
    let (code, stdout, stderr) = genads(
        data.path(),
        &[
            "sample",
            run_s,
            "--n",
            "4",
            "--solver",
            "euler",
            "--steps",
            "2",
            "--out",
            grid.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let png = std::fs::read(&grid).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let (code, stdout, stderr) = genads(
        data.path(),
        &[
            "eval",
            run_s,
            "--n",
            "8",
            "--solver",
            "euler",
            "--steps",
            "2",
            "--bpm",
            "3",
            "--bpm-steps",
            "2",
            "--replace",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for word in [
        "FID",
        "KID",
        "precision",
        "recall",
        "real (train vs test)",
        "bits per mode",
    ] {
        assert!(stdout.contains(word), "{word}: {stdout}");
    }
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("eval.json")).unwrap()).unwrap();
    assert!(eval["bpm"].as_f64().is_some_and(f64::is_finite), "{eval}");
    assert_eq!(eval["bpm_images"].as_f64(), Some(3.0));
    // No message about training the classifier the second time: it is reused.
    assert!(
        !stderr.contains("training the metric classifier"),
        "{stderr}"
    );
}

#[test]
fn mnist_model_files_have_the_paper_settings() {
    use genads::dsl::derived::{Encoding, PathKind};
    let load = |f: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models/mnist")
            .join(f);
        genads::dsl::select(genads::dsl::compile_file(&path).expect("compiles"), None)
            .expect("one model")
    };
    let cases = [
        (
            "ads_kg_hermite.genads",
            PathKind::HermiteAffine,
            1.0,
            Encoding::Propagator,
        ),
        (
            "ads_kg_linear.genads",
            PathKind::Linear,
            1.0,
            Encoding::Propagator,
        ),
        ("ads.genads", PathKind::Linear, 0.0, Encoding::Propagator),
        ("vanilla.genads", PathKind::Linear, 0.0, Encoding::None),
    ];
    for (file, path, alpha, encoding) in cases {
        let m = load(file);
        assert_eq!(
            (m.constants.path, m.constants.alpha, m.constants.encoding),
            (path, alpha, encoding),
            "{file}"
        );
        // Sobolev IR prior (PAPER.md §5.1): c_φ = 1, c_π = 0.55, s = 1; lift σ = 0.1.
        let p = &m.constants.prior;
        assert_eq!(
            (
                p.phi.scale,
                p.phi.sobolev_power,
                p.pi.scale,
                p.pi.sobolev_power
            ),
            (1.0, 1.0, 0.55, 1.0),
            "{file}"
        );
        assert_eq!(m.constants.lift_noise, 0.1, "{file}");
    }
}
