//! Sample grids as grey-scale PNG images (pixel values in [−1, 1], clamped; −1 = black).

use super::{MnistError, Result};
use plotters::prelude::*;
use std::path::Path;

/// Writes `images` (row-major `n·rows·cols` values) as a PNG grid of `per_row` images per row with
/// a 2-pixel gap, each pixel enlarged `scale` times.
pub fn write_png_grid(
    path: &Path,
    images: &[f32],
    rows: usize,
    cols: usize,
    per_row: usize,
    scale: usize,
) -> Result<()> {
    let d = rows * cols;
    if d == 0 || images.is_empty() || !images.len().is_multiple_of(d) || per_row == 0 || scale == 0
    {
        return Err(MnistError::Invalid(format!(
            "grid: {} values are not whole {rows}×{cols} images",
            images.len()
        )));
    }
    let n = images.len() / d;
    let grid_rows = n.div_ceil(per_row);
    let gap = 2;
    let cell_w = cols * scale + gap;
    let cell_h = rows * scale + gap;
    let (w, h) = (per_row * cell_w + gap, grid_rows * cell_h + gap);
    if w > 16_384 || h > 16_384 {
        return Err(MnistError::Invalid(format!(
            "grid of {w}×{h} pixels is too large"
        )));
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(super::io_err(format!("creating {}", dir.display())))?;
    }
    let draw_err = |e: String| MnistError::Invalid(format!("writing {}: {e}", path.display()));
    let root = BitMapBackend::new(path, (w as u32, h as u32)).into_drawing_area();
    root.fill(&RGBColor(40, 40, 40))
        .map_err(|e| draw_err(e.to_string()))?;
    for (k, img) in images.chunks(d).enumerate() {
        let (ox, oy) = (gap + (k % per_row) * cell_w, gap + (k / per_row) * cell_h);
        for r in 0..rows {
            for c in 0..cols {
                let v = img[r * cols + c];
                let v = if v.is_finite() {
                    v.clamp(-1.0, 1.0)
                } else {
                    -1.0
                };
                let g = ((v + 1.0) * 127.5).round() as u8;
                let color = RGBColor(g, g, g);
                for dy in 0..scale {
                    for dx in 0..scale {
                        let p = ((ox + c * scale + dx) as i32, (oy + r * scale + dy) as i32);
                        root.draw_pixel(p, &color)
                            .map_err(|e| draw_err(e.to_string()))?;
                    }
                }
            }
        }
    }
    root.present().map_err(|e| draw_err(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_png() {
        let dir = std::env::temp_dir().join(format!("genads-grid-{}", std::process::id()));
        let path = dir.join("g.png");
        let imgs: Vec<f32> = (0..3 * 16).map(|i| (i % 7) as f32 / 3.0 - 1.0).collect();
        write_png_grid(&path, &imgs, 4, 4, 2, 2).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        // IHDR width/height: 2 per row · (4·2 + 2) + 2 = 22, 2 rows · 10 + 2 = 22
        assert_eq!(
            u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]),
            22
        );
        assert_eq!(
            u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]),
            22
        );
        assert!(write_png_grid(&path, &imgs[..5], 4, 4, 2, 2).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
