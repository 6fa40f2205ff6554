//! PNG plots (plotters, bitmap backend): samples over the true checkerboard, metric curves, and a
//! grid of small images. Text uses an embedded DejaVu Sans (plotters' `ab_glyph` feature, licence in
//! `assets/fonts/`), so plotting needs no system fonts or fontconfig.

use crate::data::Checkerboard;
use crate::{Error, Result};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::path::Path;
use std::sync::Once;

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn ensure_font() {
    REGISTER.call_once(|| {
        // The embedded font is a valid TTF; a failure here would only lose text, never panic.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("plotting {}: {e}", path.display()))
}

fn check_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() && !p.is_dir() => Err(Error::Invalid(format!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            p.display()
        ))),
        _ => Ok(()),
    }
}

/// Scatter of 2-D samples over the true checkerboard: valid cells shaded, the domain [−4, 4)²
/// outlined, points outside shown too (the view is [−5, 5]²). `title` goes above the plot.
pub fn samples_over_checkerboard(points: &[[f64; 2]], title: &str, path: &Path) -> Result<()> {
    ensure_font();
    check_parent(path)?;
    let e = |err| plot_err(path, err);
    let root = BitMapBackend::new(path, (720, 760)).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(40)
        .build_cartesian_2d(-5.0f64..5.0, -5.0f64..5.0)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    let shade = RGBColor(198, 219, 239).filled();
    chart
        .draw_series((0..Checkerboard::N_VALID).map(|c| {
            let ([x0, y0], [x1, y1]) = Checkerboard::cell_rect(c);
            Rectangle::new([(x0, y0), (x1, y1)], shade)
        }))
        .map_err(e)?;
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [
                (Checkerboard::LO, Checkerboard::LO),
                (Checkerboard::HI, Checkerboard::HI),
            ],
            BLACK.stroke_width(1),
        )))
        .map_err(e)?;
    let inside = RGBColor(8, 48, 107).mix(0.55).filled();
    let outside = RGBColor(203, 24, 29).mix(0.7).filled();
    chart
        .draw_series(
            points
                .iter()
                .filter(|p| p[0].is_finite() && p[1].is_finite())
                .map(|p| {
                    let style = if Checkerboard::is_valid(p[0], p[1]) {
                        inside
                    } else {
                        outside
                    };
                    Circle::new((p[0].clamp(-5.0, 5.0), p[1].clamp(-5.0, 5.0)), 1, style)
                }),
        )
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// One named curve: (x, y) points; non-finite points break the line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// The points in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// Axis labels and scale of a curve plot.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveStyle {
    /// Title above the plot.
    pub title: String,
    /// x-axis label (e.g. "step" or "wall-clock [s]").
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Logarithmic y axis (points with y ≤ 0 are dropped).
    pub log_y: bool,
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Splits a series into runs of drawable points (finite; y > 0 on a log axis), y mapped to log10.
fn segments(points: &[(f64, f64)], log_y: bool) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for &(x, y) in points {
        let ok = x.is_finite() && y.is_finite() && (!log_y || y > 0.0);
        if ok {
            if let Some(s) = out.last_mut() {
                s.push((x, if log_y { y.log10() } else { y }));
            }
        } else if out.last().is_some_and(|s| !s.is_empty()) {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Metric curves (several series with a legend), e.g. BV / JS / WED_norm against step. Errors if
/// no series has a drawable point.
pub fn metric_curves(series: &[Series], style: &CurveStyle, path: &Path) -> Result<()> {
    ensure_font();
    check_parent(path)?;
    let segs: Vec<Vec<Vec<(f64, f64)>>> = series
        .iter()
        .map(|s| segments(&s.points, style.log_y))
        .collect();
    let all = segs.iter().flatten().flatten();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return Err(Error::Invalid(format!(
            "plotting {}: no finite points",
            path.display()
        )));
    }
    let pad = |a: f64, b: f64| {
        let d = if b > a {
            0.05 * (b - a)
        } else {
            0.5_f64.max(0.05 * a.abs())
        };
        (a - d, b + d)
    };
    let ((x0, x1), (y0, y1)) = (pad(x0, x1), pad(y0, y1));
    let e = |err| plot_err(path, err);
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&style.title, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(e)?;
    let log_y = style.log_y;
    let y_fmt = move |v: &f64| {
        if log_y {
            format!("{:.2e}", 10f64.powf(*v))
        } else {
            format!("{v:.3}")
        }
    };
    let x_digits = if x1 - x0 >= 20.0 { 0 } else { 3 };
    let x_fmt = move |v: &f64| format!("{v:.x_digits$}");
    chart
        .configure_mesh()
        .x_desc(style.x_label.as_str())
        .x_label_formatter(&x_fmt)
        .y_desc(style.y_label.as_str())
        .y_label_formatter(&y_fmt)
        .label_style(("sans-serif", 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(e)?;
    for (i, (s, runs)) in series.iter().zip(&segs).enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        for (j, run) in runs.iter().enumerate() {
            let drawn = chart
                .draw_series(LineSeries::new(run.iter().copied(), color.stroke_width(2)))
                .map_err(e)?;
            if j == 0 {
                drawn.label(s.name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
            if run.len() == 1 {
                chart
                    .draw_series(std::iter::once(Circle::new(run[0], 3, color.filled())))
                    .map_err(e)?;
            }
        }
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// Reads curves from JSON lines (one object per line, e.g. a run's metrics.jsonl): `x_key` gives x,
/// each of `y_keys` one series; keys may be dotted paths into nested objects ("metrics.bv"). Lines
/// that are blank are skipped; a missing or non-numeric value becomes a gap (NaN). Errors on a line
/// that is not JSON.
pub fn series_from_jsonl(text: &str, x_key: &str, y_keys: &[&str]) -> Result<Vec<Series>> {
    fn lookup(v: &serde_json::Value, key: &str) -> f64 {
        key.split('.')
            .try_fold(v, |v, k| v.get(k))
            .and_then(|v| v.as_f64())
            .unwrap_or(f64::NAN)
    }
    let mut out: Vec<Series> = y_keys
        .iter()
        .map(|k| Series {
            name: k.to_string(),
            points: Vec::new(),
        })
        .collect();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| Error::Invalid(format!("line {}: not JSON: {e}", n + 1)))?;
        let x = lookup(&v, x_key);
        for (s, k) in out.iter_mut().zip(y_keys) {
            s.points.push((x, lookup(&v, k)));
        }
    }
    Ok(out)
}

/// A grid of small grey-scale images (e.g. MNIST samples), `cols` per row, each `h`×`w` row-major
/// with values in [−1, 1] (the MNIST scaling; clamped, NaN drawn as red), scaled up ×2 with a
/// 2-pixel gap. Errors on an empty list, zero sizes or an image of the wrong length.
pub fn image_grid(images: &[Vec<f32>], h: usize, w: usize, cols: usize, path: &Path) -> Result<()> {
    if images.is_empty() || h == 0 || w == 0 || cols == 0 {
        return Err(Error::Invalid(format!(
            "image grid needs images and non-zero sizes (n {}, h {h}, w {w}, cols {cols})",
            images.len()
        )));
    }
    if let Some((i, img)) = images
        .iter()
        .enumerate()
        .find(|(_, img)| img.len() != h * w)
    {
        return Err(Error::Invalid(format!(
            "image {i} has {} values, expected {h}×{w}",
            img.len()
        )));
    }
    check_parent(path)?;
    const SCALE: usize = 2;
    const GAP: usize = 2;
    let cols = cols.min(images.len());
    let rows = images.len().div_ceil(cols);
    let width = cols * (w * SCALE + GAP) + GAP;
    let height = rows * (h * SCALE + GAP) + GAP;
    if width > 16_384 || height > 16_384 {
        return Err(Error::Invalid(format!(
            "image grid of {width}×{height} pixels is too large"
        )));
    }
    let e = |err| plot_err(path, err);
    let root = BitMapBackend::new(path, (width as u32, height as u32)).into_drawing_area();
    root.fill(&RGBColor(40, 40, 40)).map_err(e)?;
    for (k, img) in images.iter().enumerate() {
        let (ox, oy) = (
            GAP + (k % cols) * (w * SCALE + GAP),
            GAP + (k / cols) * (h * SCALE + GAP),
        );
        for (idx, &v) in img.iter().enumerate() {
            let color = if v.is_nan() {
                RGBColor(255, 0, 0)
            } else {
                let g = ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8;
                RGBColor(g, g, g)
            };
            let (x, y) = (ox + (idx % w) * SCALE, oy + (idx / w) * SCALE);
            for dy in 0..SCALE {
                for dx in 0..SCALE {
                    root.draw_pixel(((x + dx) as i32, (y + dy) as i32), &color)
                        .map_err(e)?;
                }
            }
        }
    }
    root.present().map_err(e)?;
    Ok(())
}
