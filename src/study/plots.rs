//! The study's PNG plots: metric vs step and vs wall-clock per model (seed means), final metrics
//! against a sweep parameter, and the models' samples side by side.

use std::path::Path;

use genads_runtime::plot::{metric_curves, CurveStyle, Series};

use super::aggregate::{metric_title, Collected, ModelSummary};
use super::spec::Study;
use super::StudyError;

/// A plot written by [`write_plots`]: file name (inside the plot directory) and caption.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// File name.
    pub file: String,
    /// One-line caption.
    pub caption: String,
}

/// Metrics drawn against step (and, for the combined checkerboard score and FID, wall-clock).
const CURVE_METRICS: [&str; 4] = ["bv", "wed_norm", "cqs", "fid"];

/// The numeric sweep value at the end of a member name (`delta_sweep_delta1.5` → 1.5 for
/// `delta`), if the name has the form `<base>_<param><number>`.
pub fn sweep_value(name: &str, param: &str) -> Option<f64> {
    let pat = format!("_{param}");
    let at = name.rfind(&pat)?;
    name[at + pat.len()..].parse::<f64>().ok()
}

/// Writes the plots of one study into `dir` with file names prefixed by `prefix`; returns what it
/// wrote. Plots with nothing to draw are skipped.
pub fn write_plots(
    study: &Study,
    collected: &Collected,
    out: &Path,
    dir: &Path,
    prefix: &str,
) -> Result<Vec<Plot>, StudyError> {
    std::fs::create_dir_all(dir).map_err(|source| StudyError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut plots = Vec::new();
    let models = &collected.models;
    let seeds = if study.seeds.len() == 1 {
        format!("seed {}", study.seeds[0])
    } else {
        format!("mean over {} seeds", study.seeds.len())
    };
    for metric in CURVE_METRICS {
        for (axis, x_label, file_axis) in [
            (Axis::Step, "step", "step"),
            (Axis::Wall, "training wall-clock (s)", "time"),
        ] {
            // Against wall-clock only the headline scores (keeps the number of PNGs small).
            if axis == Axis::Wall && metric != "cqs" && metric != "fid" {
                continue;
            }
            let series: Vec<Series> = models
                .iter()
                .map(|m| curve_series(m, metric, axis))
                .collect();
            let file = format!("{prefix}{metric}_vs_{file_axis}.png");
            let style = CurveStyle {
                title: format!(
                    "{}: {} vs {x_label} ({seeds})",
                    study.name,
                    metric_title(metric)
                ),
                x_label: x_label.into(),
                y_label: format!("{} (log scale)", metric_title(metric)),
                log_y: true,
            };
            if metric_curves(&series, &style, &dir.join(&file)).is_ok() {
                compact_png(&dir.join(&file))?;
                plots.push(Plot {
                    file,
                    caption: format!(
                        "{} against {x_label}, per model ({seeds})",
                        metric_title(metric)
                    ),
                });
            }
        }
    }
    if let Some(param) = &study.sweep_param {
        plots.extend(sweep_plot(study, models, param, dir, prefix)?);
    }
    if let Some(p) = samples_side_by_side(study, collected, out, dir, prefix)? {
        plots.push(p);
    }
    Ok(plots)
}

#[derive(Clone, Copy, PartialEq)]
enum Axis {
    Step,
    Wall,
}

fn curve_series(m: &ModelSummary, metric: &str, axis: Axis) -> Series {
    Series {
        name: m.name.clone(),
        points: m
            .curve
            .iter()
            .map(|(step, wall, ms)| {
                let x = match axis {
                    Axis::Step => *step as f64,
                    Axis::Wall => *wall,
                };
                (x, ms.get(metric).copied().unwrap_or(f64::NAN))
            })
            .collect(),
    }
}

/// Final BV and CQS against the sweep parameter; members outside the sweep are drawn as
/// horizontal reference lines.
fn sweep_plot(
    study: &Study,
    models: &[ModelSummary],
    param: &str,
    dir: &Path,
    prefix: &str,
) -> Result<Vec<Plot>, StudyError> {
    let mut swept: Vec<(f64, &ModelSummary)> = models
        .iter()
        .filter_map(|m| sweep_value(&m.name, param).map(|v| (v, m)))
        .collect();
    swept.sort_by(|a, b| a.0.total_cmp(&b.0));
    if swept.is_empty() {
        return Ok(Vec::new());
    }
    let (lo, hi) = (swept[0].0, swept[swept.len() - 1].0);
    let mut plots = Vec::new();
    for metric in ["bv", "cqs"] {
        let mut series = vec![Series {
            name: format!("final {} vs {param}", metric_title(metric)),
            points: swept
                .iter()
                .map(|(v, m)| (*v, m.final_mean(metric).unwrap_or(f64::NAN)))
                .collect(),
        }];
        for m in models
            .iter()
            .filter(|m| sweep_value(&m.name, param).is_none())
        {
            if let Some(y) = m.final_mean(metric) {
                series.push(Series {
                    name: format!("{} (reference)", m.name),
                    points: vec![(lo, y), (hi, y)],
                });
            }
        }
        let file = format!("{prefix}final_{metric}_vs_{param}.png");
        let style = CurveStyle {
            title: format!("{}: final {} vs {param}", study.name, metric_title(metric)),
            x_label: param.into(),
            y_label: format!("final {} (log scale)", metric_title(metric)),
            log_y: true,
        };
        if metric_curves(&series, &style, &dir.join(&file)).is_ok() {
            compact_png(&dir.join(&file))?;
            plots.push(Plot {
                file,
                caption: format!(
                    "final {} against {param} (seed means; other models as horizontal lines)",
                    metric_title(metric)
                ),
            });
        }
    }
    Ok(plots)
}

/// Downscale factor of each model's samples.png in the side-by-side picture.
const SHRINK: u32 = 3;

/// The first finished seed's samples.png of every model, shrunk and placed side by side (rows of
/// at most 4).
fn samples_side_by_side(
    study: &Study,
    collected: &Collected,
    out: &Path,
    dir: &Path,
    prefix: &str,
) -> Result<Option<Plot>, StudyError> {
    let mut tiles = Vec::new();
    for m in 0..study.members.len() {
        let Some(cell) = collected.cells.iter().find(|c| c.member == m) else {
            continue;
        };
        let Some(spec) = study
            .cells
            .iter()
            .find(|c| c.member == m && c.seed == cell.seed)
        else {
            continue;
        };
        let png = out.join(&spec.rel_dir).join("samples.png");
        // A cell whose picture cannot be read is left out of the picture, not an error.
        if let Ok(img) = image::open(&png) {
            let img = img.to_rgb8();
            let (w, h) = (img.width() / SHRINK, img.height() / SHRINK);
            if w > 0 && h > 0 {
                let small =
                    image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
                tiles.push(small);
            }
        }
    }
    if tiles.is_empty() {
        return Ok(None);
    }
    let cols = tiles.len().min(4) as u32;
    let rows = (tiles.len() as u32).div_ceil(cols);
    let tw = tiles.iter().map(|t| t.width()).max().unwrap_or(1);
    let th = tiles.iter().map(|t| t.height()).max().unwrap_or(1);
    let mut canvas = image::RgbImage::from_pixel(cols * tw, rows * th, image::Rgb([255, 255, 255]));
    for (i, t) in tiles.iter().enumerate() {
        let (x, y) = ((i as u32 % cols) * tw, (i as u32 / cols) * th);
        image::imageops::overlay(&mut canvas, t, x.into(), y.into());
    }
    let file = format!("{prefix}samples.png");
    let path = dir.join(&file);
    write_compact(&path, canvas)?;
    Ok(Some(Plot {
        file,
        caption: "final samples of each model (first seed), in study order".into(),
    }))
}

/// Colour levels per channel kept by [`compact_png`].
const LEVELS: u32 = 16;

/// Re-encodes a PNG with 16 levels per colour channel and maximum compression: plots and sample
/// pictures stay legible and become 3-5 times smaller (they are committed into docs/).
pub fn compact_png(path: &Path) -> Result<(), StudyError> {
    let img = image::open(path)
        .map_err(|e| StudyError::Output(format!("reading {}: {e}", path.display())))?
        .to_rgb8();
    write_compact(path, img)
}

fn write_compact(path: &Path, mut img: image::RgbImage) -> Result<(), StudyError> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    use image::ImageEncoder;
    let step = 256 / LEVELS;
    for p in img.pixels_mut() {
        for c in p.0.iter_mut() {
            // Round to the nearest level; white stays white and black black.
            *c = (((u32::from(*c) + step / 2) / step) * step).min(255) as u8;
        }
    }
    let mut buf = Vec::new();
    PngEncoder::new_with_quality(&mut buf, CompressionType::Best, FilterType::Adaptive)
        .write_image(&img, img.width(), img.height(), image::ColorType::Rgb8)
        .map_err(|e| StudyError::Output(format!("encoding {}: {e}", path.display())))?;
    std::fs::write(path, buf).map_err(|source| StudyError::Io {
        path: path.to_path_buf(),
        source,
    })
}
