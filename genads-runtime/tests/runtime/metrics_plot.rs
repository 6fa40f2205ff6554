//! The plots write valid PNG files of the expected size.

use genads_runtime::data::Dataset;
use genads_runtime::plot::{
    image_grid, metric_curves, samples_over_checkerboard, series_from_jsonl, CurveStyle, Series,
};
use std::path::{Path, PathBuf};

/// Checks the PNG signature and returns (width, height) from the IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.len() > 100,
        "{} is only {} bytes",
        path.display(),
        bytes.len()
    );
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Where the test writes; GENADS_PLOT_DIR keeps the files for a look.
fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var("GENADS_PLOT_DIR") {
        Ok(d) => {
            std::fs::create_dir_all(&d).unwrap();
            (None, PathBuf::from(d))
        }
        Err(_) => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

#[test]
fn samples_plot_is_a_png() {
    let (_keep, dir) = out_dir();
    let mut pts = Dataset::checkerboard(3000, 1).points;
    // A few violations (odd tile, outside) and a NaN, which is skipped.
    pts.extend([[-3.0, -1.0], [4.5, 4.5], [f64::NAN, 0.0], [-1.0, 3.0]]);
    let path = dir.join("samples.png");
    samples_over_checkerboard(&pts, "checkerboard: 3000 true samples", &path).unwrap();
    assert_eq!(png_size(&path), (720, 760));
}

#[test]
fn metric_curves_plot_is_a_png() {
    let (_keep, dir) = out_dir();
    let jsonl = (0..20)
        .map(|i| {
            let step = 100 * i;
            let bv = 0.6 * (-0.3 * i as f64).exp();
            let wed = if i == 5 { "null".to_string() } else { format!("{}", 0.02 / (1.0 + i as f64)) };
            format!(r#"{{"step": {step}, "metrics": {{"bv": {bv}, "wed_norm": {wed}, "js_cell": {}}}}}"#, 0.1 / (1.0 + (i * i) as f64))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let series = series_from_jsonl(
        &jsonl,
        "step",
        &["metrics.bv", "metrics.wed_norm", "metrics.js_cell"],
    )
    .unwrap();
    assert_eq!(series.len(), 3);
    assert!(series[1].points[5].1.is_nan());
    assert_eq!(series[0].points[3].0, 300.0);
    assert!((series[0].points[3].1 - 0.6 * (-0.9f64).exp()).abs() < 1e-12);
    let style = CurveStyle {
        title: "metrics vs step".into(),
        x_label: "step".into(),
        y_label: "value".into(),
        log_y: true,
    };
    let path = dir.join("curves.png");
    metric_curves(&series, &style, &path).unwrap();
    assert_eq!(png_size(&path), (900, 560));
    let linear = CurveStyle {
        log_y: false,
        ..style.clone()
    };
    let path = dir.join("curves_linear.png");
    metric_curves(&series, &linear, &path).unwrap();
    assert_eq!(png_size(&path), (900, 560));
    // Nothing drawable, and a non-JSON line, are errors.
    let empty = [Series {
        name: "x".into(),
        points: vec![(0.0, f64::NAN)],
    }];
    assert!(metric_curves(&empty, &style, &dir.join("empty.png")).is_err());
    assert!(series_from_jsonl("{\"step\": 1}\nnot json", "step", &["a"]).is_err());
}

#[test]
fn image_grid_is_a_png_of_the_right_size() {
    let (_keep, dir) = out_dir();
    let (h, w) = (28, 28);
    let images: Vec<Vec<f32>> = (0..10)
        .map(|k| {
            (0..h * w)
                .map(|i| {
                    let (y, x) = ((i / w) as f32, (i % w) as f32);
                    let r = ((x - 13.5).powi(2) + (y - 13.5).powi(2)).sqrt();
                    if (r - 3.0 - k as f32).abs() < 1.5 {
                        1.0
                    } else {
                        -1.0
                    }
                })
                .collect()
        })
        .collect();
    let path = dir.join("grid.png");
    image_grid(&images, h, w, 4, &path).unwrap();
    // 4 columns × 3 rows of 56-pixel images with 2-pixel gaps.
    assert_eq!(png_size(&path), (4 * 58 + 2, 3 * 58 + 2));
    assert!(image_grid(&images, h, w + 1, 4, &path).is_err());
    assert!(image_grid(&[], h, w, 4, &path).is_err());
    assert!(image_grid(&images, h, w, 0, &path).is_err());
}

#[test]
fn missing_directory_is_an_error() {
    let pts = Dataset::checkerboard(10, 1).points;
    let path = Path::new("/nonexistent-genads-dir/x.png");
    assert!(samples_over_checkerboard(&pts, "t", path).is_err());
}
