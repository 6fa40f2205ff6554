//! What the checkerboard metrics (PAPER.md §7.1) read for distributions whose defect is known, and
//! where inside the cells a sample file departs from the uniform density.
//!
//! Part 1 scores 10,000 points of known distributions against the first 10,000 training points:
//! the true distribution (other seeds: the sampling floor), the true distribution blurred by
//! isotropic Gaussian noise of standard deviation σ (a flow that smooths the cell edges), the true
//! distribution with its points pulled towards the cell centres (a flow that avoids the edges
//! without leaving the cells) and uniform noise on the domain. Part 2 (with a CSV of samples, as
//! written by `genads sample`) prints the file's metrics and the density of its valid points
//! against the distance to the nearest cell edge, relative to the uniform density (1 = exact).
//!
//! Run: `cargo run --release --example metric_calibration -- [SAMPLES.csv …]`

use genads::runtime::data::{Checkerboard, Dataset};
use genads::runtime::metrics::{
    checkerboard_metrics, energy_distance, CheckerboardMetrics, MetricOptions, Points2,
};
use genads::runtime::rng;
use genads::study::aggregate::Stat;

/// Points generated and real (the paper's evaluation size).
const N: usize = 10_000;
/// Seeds per row; the table shows the mean.
const SEEDS: u64 = 10;
/// Bins of the distance-to-edge profile over [0, 1] (half a cell).
const EDGE_BINS: usize = 10;

fn main() -> anyhow::Result<()> {
    let real = Dataset::checkerboard(N, 1).points;
    let opts = MetricOptions {
        sw2_projections: 0,
        ..MetricOptions::default()
    };
    println!("Part 1: 10,000 points of a known distribution vs the first 10,000 training points");
    println!("(mean over {SEEDS} seeds; WED_norm also its standard deviation and range)\n");
    println!("| distribution | BV | JS_cell | WED_norm | sd | min – max |");
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, draw: &dyn Fn(u64) -> Vec<[f64; 2]>| -> anyhow::Result<()> {
        let (mut bv, mut js, mut wed) = (0.0, 0.0, Vec::new());
        for seed in 0..SEEDS {
            let m = checkerboard_metrics(&real, &draw(100 + seed), &opts)?;
            bv += m.bv;
            js += m.js_cell;
            wed.push(m.wed_norm);
        }
        let k = SEEDS as f64;
        let stat = Stat::of(&wed).expect("SEEDS > 1");
        let (mean, sd) = (stat.mean, stat.std.unwrap_or(0.0));
        let (lo, hi) = wed
            .iter()
            .fold((f64::INFINITY, 0f64), |(a, b), &w| (a.min(w), b.max(w)));
        println!(
            "| {name} | {:.4} | {:.5} | {mean:.4} | {sd:.4} | {lo:.4} – {hi:.4} |",
            bv / k,
            js / k
        );
        Ok(())
    };
    row("true", &|seed| Dataset::checkerboard(N, seed).points)?;
    for sigma in [0.01, 0.02, 0.03, 0.05, 0.1, 0.2] {
        row(&format!("true + N(0, {sigma}²)"), &|seed| {
            blurred(&Dataset::checkerboard(N, seed).points, sigma, seed)
        })?;
    }
    for shrink in [0.98, 0.95, 0.9] {
        row(
            &format!("true, cells shrunk to {shrink} of their side"),
            &|seed| shrunk(&Dataset::checkerboard(N, seed).points, shrink),
        )?;
    }
    row("uniform on [−4, 4)²", &|seed| {
        let mut r = rng::seeded(seed);
        let xs = rng::uniform_vec(&mut r, 2 * N, -4.0, 4.0);
        xs.chunks(2).map(|p| [p[0], p[1]]).collect()
    })?;

    let files: Vec<String> = std::env::args().skip(1).collect();
    if !files.is_empty() {
        println!("\nPart 2: sample files");
        println!(
            "density of valid points against the distance to the nearest cell edge (cell side 2),"
        );
        println!("relative to the uniform density; {EDGE_BINS} bins over [0, 1]\n");
        let reference = edge_profile(&Dataset::checkerboard(N, 100).points);
        print_profile("true (seed 100)", &reference, None);
    }
    let mut scores = Vec::new();
    for file in &files {
        let points = read_csv(file)?;
        let m = checkerboard_metrics(&real, &points, &opts)?;
        print_profile(file, &edge_profile(&points), Some(&m));
        print_cells(&real, &points)?;
        scores.push((m.bv, m.wed_norm));
    }
    if scores.len() > 1 {
        // Files of one model under different sampling seeds: the spread is the metric's noise.
        let bv: Vec<f64> = scores.iter().map(|s| s.0).collect();
        let wed: Vec<f64> = scores.iter().map(|s| s.1).collect();
        if let (Some(bv), Some(wed)) = (Stat::of(&bv), Stat::of(&wed)) {
            println!(
                "\nall {} files: BV {}, WED_norm {} (mean ± sd)",
                scores.len(),
                bv.show(4),
                wed.show(4)
            );
        }
    }
    Ok(())
}

/// The points plus independent N(0, σ²) noise on each coordinate.
fn blurred(points: &[[f64; 2]], sigma: f64, seed: u64) -> Vec<[f64; 2]> {
    let mut r = rng::seeded(seed ^ 0x5eed);
    let noise = rng::normal_vec(&mut r, 2 * points.len(), sigma);
    points
        .iter()
        .zip(noise.chunks(2))
        .map(|(p, e)| [p[0] + e[0], p[1] + e[1]])
        .collect()
}

/// The points moved towards their cell's centre by the factor `shrink`.
fn shrunk(points: &[[f64; 2]], shrink: f64) -> Vec<[f64; 2]> {
    let centre = |v: f64| {
        let c = Checkerboard::CELL_SIZE;
        Checkerboard::LO + c * (((v - Checkerboard::LO) / c).floor() + 0.5)
    };
    points
        .iter()
        .map(|p| {
            let (cx, cy) = (centre(p[0]), centre(p[1]));
            [cx + shrink * (p[0] - cx), cy + shrink * (p[1] - cy)]
        })
        .collect()
}

/// Density of the valid points against the distance to the nearest edge of their cell, relative to
/// the uniform density on the valid cells. Under the uniform law the distance D to the nearest edge
/// of a square of half-side 1 has P(D ≤ s) = 1 − (1 − s)², so each bin's expected share is known.
fn edge_profile(points: &[[f64; 2]]) -> [f64; EDGE_BINS] {
    let mut counts = [0usize; EDGE_BINS];
    let mut valid = 0usize;
    for p in points {
        if !Checkerboard::is_valid(p[0], p[1]) {
            continue;
        }
        valid += 1;
        let offset = |v: f64| {
            let c = Checkerboard::CELL_SIZE;
            let u = (v - Checkerboard::LO) / c;
            (u - u.floor()) * c // 0..2 inside the tile
        };
        let (u, v) = (offset(p[0]), offset(p[1]));
        let d = u.min(2.0 - u).min(v).min(2.0 - v); // 0..1
        let bin = ((d * EDGE_BINS as f64) as usize).min(EDGE_BINS - 1);
        counts[bin] += 1;
    }
    std::array::from_fn(|b| {
        let (lo, hi) = (
            b as f64 / EDGE_BINS as f64,
            (b + 1) as f64 / EDGE_BINS as f64,
        );
        let expected = (1.0 - lo).powi(2) - (1.0 - hi).powi(2);
        counts[b] as f64 / (valid.max(1) as f64 * expected)
    })
}

fn print_profile(name: &str, profile: &[f64; EDGE_BINS], m: Option<&CheckerboardMetrics>) {
    if let Some(m) = m {
        println!(
            "{name}: {} points, BV {:.4}, JS_cell {:.5}, WED_norm {:.4}",
            m.n_generated, m.bv, m.js_cell, m.wed_norm
        );
    } else {
        println!("{name}:");
    }
    let cells: Vec<String> = profile.iter().map(|v| format!("{v:.2}")).collect();
    println!("  edge → centre: {}", cells.join(" "));
}

fn read_csv(path: &str) -> anyhow::Result<Vec<[f64; 2]>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {path}: {e}"))?;
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.starts_with('x')) {
            continue;
        }
        let mut it = line.split(',').map(str::trim).map(str::parse::<f64>);
        match (it.next(), it.next(), it.next()) {
            (Some(Ok(x)), Some(Ok(y)), None) => points.push([x, y]),
            _ => anyhow::bail!("{path}:{}: expected `x,y`, found `{line}`", i + 1),
        }
    }
    Ok(points)
}

/// Per valid cell: the share of the valid points, the centroid's offset from the cell centre, the
/// standard deviation along each axis (uniform: 2/√12 ≈ 0.577) and the cell's energy distance to
/// the real points divided by the cell size.
fn print_cells(real: &[[f64; 2]], points: &[[f64; 2]]) -> anyhow::Result<()> {
    let cells = |pts: &[[f64; 2]]| {
        let mut cells: [Points2; 8] = Default::default();
        for p in pts {
            if let Some(c) = Checkerboard::valid_cell(p[0], p[1]) {
                cells[c].push(*p);
            }
        }
        cells
    };
    let (real_cells, gen_cells) = (cells(real), cells(points));
    let valid: usize = gen_cells.iter().map(Points2::len).sum();
    println!("  | cell | share | centroid − centre | std x, y | ED_c / 2 |");
    println!("  |---|---|---|---|---|");
    for c in 0..Checkerboard::N_VALID {
        let g = &gen_cells[c];
        let n = g.len().max(1) as f64;
        let (lo, hi) = Checkerboard::cell_rect(c);
        let centre = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
        let mean = |v: &[f64]| v.iter().sum::<f64>() / n;
        let (mx, my) = (mean(&g.x), mean(&g.y));
        let sd = |v: &[f64], m: f64| (v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / n).sqrt();
        let ed = energy_distance(&real_cells[c], g)?;
        println!(
            "  | {c} | {:.3} | ({:+.3}, {:+.3}) | {:.3}, {:.3} | {:.4} |",
            g.len() as f64 / valid.max(1) as f64,
            mx - centre[0],
            my - centre[1],
            sd(&g.x, mx),
            sd(&g.y, my),
            ed / Checkerboard::CELL_SIZE
        );
    }
    Ok(())
}
