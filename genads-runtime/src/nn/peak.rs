//! The peak of a point-source likelihood: where on the boundary a spectral state says its source is.
//!
//! For a spectrum y (K×K complex modes) the correlation with the point-source template of a
//! position u (box fractions) is the band-limited function
//! C(u) = Re Σ_ab y_ab e^(i 2π (n_a u_x + n_b u_y)); for a state of the flow, with y the state
//! weighted by the path's signal-to-noise ratio per mode, C is the log-likelihood of the source
//! position up to a constant. [`find_peaks`] locates its maximum continuously (Newton's method on
//! the exact C, started from the best point of a coarse image of it), and reports the curvature
//! there: the precision of the likelihood's Laplace approximation.

use crate::spectral::fft_indices;

/// The likelihood peak of one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// The position (x, y) in box fractions, wrapped into [0, 1).
    pub position: [f64; 2],
    /// The mean curvature −(∂²_x + ∂²_y) C / 2 at the position (positive at a maximum).
    pub curvature: f64,
    /// C at the position.
    pub height: f64,
}

/// Newton iterations from the coarse start.
const ITERATIONS: usize = 5;

/// Newton's method on C(u) for a set of spectra.
pub struct PeakFinder {
    /// 2π n per mode index.
    theta: Vec<f64>,
}

/// C, its gradient and its Hessian at one point.
struct Local {
    value: f64,
    gradient: [f64; 2],
    hessian: [[f64; 2]; 2],
}

impl PeakFinder {
    /// A finder for K×K spectra (modes in FFT order along both axes).
    pub fn new(modes: usize) -> Self {
        Self {
            theta: fft_indices(modes)
                .iter()
                .map(|&n| 2.0 * std::f64::consts::PI * n as f64)
                .collect(),
        }
    }

    /// Modes per axis K.
    pub fn modes(&self) -> usize {
        self.theta.len()
    }

    /// C and its first and second derivatives at `u` for one spectrum (`re`, `im`: K×K, x modes
    /// along rows). Separable: P_a = Σ_b y_ab e^(iθ_b u_y)·(1, iθ_b, −θ_b²), then the sums over a.
    fn local(&self, re: &[f32], im: &[f32], u: [f64; 2]) -> Local {
        let k = self.theta.len();
        let mut value = 0.0;
        let (mut gx, mut gy) = (0.0, 0.0);
        let (mut hxx, mut hxy, mut hyy) = (0.0, 0.0, 0.0);
        let ey: Vec<(f64, f64)> = self
            .theta
            .iter()
            .map(|&th| {
                let (s, c) = (th * u[1]).sin_cos();
                (c, s)
            })
            .collect();
        for (a, &tha) in self.theta.iter().enumerate() {
            // P0 = Σ_b y_ab e_b, P1 = Σ_b y_ab e_b iθ_b, P2 = Σ_b y_ab e_b (−θ_b²).
            let (mut p0r, mut p0i, mut p1r, mut p1i, mut p2r, mut p2i) =
                (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
            for (b, (&thb, &(c, s))) in self.theta.iter().zip(&ey).enumerate() {
                let (yr, yi) = (f64::from(re[a * k + b]), f64::from(im[a * k + b]));
                let (zr, zi) = (yr * c - yi * s, yr * s + yi * c);
                p0r += zr;
                p0i += zi;
                p1r -= thb * zi;
                p1i += thb * zr;
                p2r -= thb * thb * zr;
                p2i -= thb * thb * zi;
            }
            let (s, c) = (tha * u[0]).sin_cos();
            // Re(e^(iθ_a u_x)·P) = c P_re − s P_im; Re(iθ_a e P) = −θ_a (s P_re + c P_im).
            let re_of = |pr: f64, pi: f64| c * pr - s * pi;
            let re_i = |pr: f64, pi: f64| -tha * (s * pr + c * pi);
            value += re_of(p0r, p0i);
            gx += re_i(p0r, p0i);
            gy += re_of(p1r, p1i);
            hxx -= tha * tha * re_of(p0r, p0i);
            hxy += re_i(p1r, p1i);
            hyy += re_of(p2r, p2i);
        }
        Local {
            value,
            gradient: [gx, gy],
            hessian: [[hxx, hxy], [hxy, hyy]],
        }
    }

    /// The peak of C for each of `b` spectra (`re`, `im`: b·K² values), each started from its own
    /// point of `starts`, moving at most `max_step` (box fractions) per axis and iteration: a
    /// Newton step where the Hessian is negative definite, else a gradient step scaled by the
    /// curvature's magnitude.
    pub fn find(&self, re: &[f32], im: &[f32], starts: &[[f64; 2]], max_step: f64) -> Vec<Peak> {
        let kk = self.theta.len() * self.theta.len();
        starts
            .iter()
            .enumerate()
            .map(|(s, &start)| {
                let (re, im) = (&re[s * kk..(s + 1) * kk], &im[s * kk..(s + 1) * kk]);
                let mut u = start;
                for _ in 0..ITERATIONS {
                    let l = self.local(re, im, u);
                    let [[hxx, hxy], [_, hyy]] = l.hessian;
                    let det = hxx * hyy - hxy * hxy;
                    let [gx, gy] = l.gradient;
                    let step = if hxx < 0.0 && det > 0.0 {
                        // −H⁻¹ g.
                        [(-hyy * gx + hxy * gy) / det, (hxy * gx - hxx * gy) / det]
                    } else {
                        let scale = hxx.abs() + hyy.abs() + hxy.abs();
                        if scale > 0.0 {
                            [gx / scale, gy / scale]
                        } else {
                            [0.0, 0.0]
                        }
                    };
                    if !(step[0].is_finite() && step[1].is_finite()) {
                        break;
                    }
                    u[0] += step[0].clamp(-max_step, max_step);
                    u[1] += step[1].clamp(-max_step, max_step);
                }
                let l = self.local(re, im, u);
                Peak {
                    position: [u[0].rem_euclid(1.0), u[1].rem_euclid(1.0)],
                    curvature: -(l.hessian[0][0] + l.hessian[1][1]) / 2.0,
                    height: l.value,
                }
            })
            .collect()
    }
}

/// The best point of a coarse image per sample: `image` holds b images of G×G values, rows along
/// y and columns along x at `positions` (box fractions); returns (x, y) of each maximum.
pub fn image_maxima(image: &[f32], positions: &[f64]) -> Vec<[f64; 2]> {
    let g = positions.len();
    image
        .chunks(g * g)
        .map(|img| {
            let (mut best, mut at) = (f32::NEG_INFINITY, 0);
            for (i, &v) in img.iter().enumerate() {
                if v > best {
                    best = v;
                    at = i;
                }
            }
            [positions[at % g], positions[at / g]]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    const K: usize = 16;

    /// The template spectrum of a source at `x` (box fractions) times `gain`, plus `noise`·N(0, 1).
    fn spectrum(x: [f64; 2], gain: f64, noise: f64, seed: u64) -> (Vec<f32>, Vec<f32>) {
        let n = fft_indices(K);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let (mut re, mut im) = (vec![0f32; K * K], vec![0f32; K * K]);
        for a in 0..K {
            for b in 0..K {
                // A smooth envelope, as the propagator's: e^(−0.15 |n|).
                let env = (-0.15 * ((n[a] * n[a] + n[b] * n[b]) as f64).sqrt()).exp();
                let angle = -2.0 * std::f64::consts::PI * (n[a] as f64 * x[0] + n[b] as f64 * x[1]);
                let mut draw = || noise * (rng.random::<f64>() - 0.5) * 12f64.sqrt();
                re[a * K + b] = (gain * env * angle.cos() + draw()) as f32;
                im[a * K + b] = (gain * env * angle.sin() + draw()) as f32;
            }
        }
        (re, im)
    }

    /// C(u) summed directly.
    fn correlation(re: &[f32], im: &[f32], u: [f64; 2]) -> f64 {
        let n = fft_indices(K);
        let mut total = 0.0;
        for a in 0..K {
            for b in 0..K {
                let angle = 2.0 * std::f64::consts::PI * (n[a] as f64 * u[0] + n[b] as f64 * u[1]);
                total +=
                    f64::from(re[a * K + b]) * angle.cos() - f64::from(im[a * K + b]) * angle.sin();
            }
        }
        total
    }

    /// A noiseless template: the peak is the source position to float precision, wherever the
    /// start is inside its basin.
    #[test]
    fn finds_the_source_of_a_clean_template() {
        let finder = PeakFinder::new(K);
        for (x, start) in [
            ([0.4137, 0.5521], [0.42, 0.54]),
            ([0.3, 0.7], [0.29, 0.71]),
            ([0.95, 0.02], [0.94, 0.03]),
        ] {
            let (re, im) = spectrum(x, 3.0, 0.0, 1);
            let peak = finder.find(&re, &im, &[start], 0.02)[0];
            for axis in 0..2 {
                let d = (peak.position[axis] - x[axis] + 0.5).rem_euclid(1.0) - 0.5;
                assert!(d.abs() < 1e-5, "axis {axis}: {:?} vs {x:?}", peak.position);
            }
        }
    }

    /// With noise the peak is a local maximum of the directly summed C (zero gradient, both
    /// second differences negative), higher than the start, and its curvature and height are
    /// those of C (central finite differences).
    #[test]
    fn noisy_peak_is_a_maximum_of_the_correlation() {
        let finder = PeakFinder::new(K);
        for seed in 0..5 {
            let (re, im) = spectrum([0.45, 0.5], 1.0, 0.5, seed);
            let start = [0.46, 0.49];
            let peak = finder.find(&re, &im, &[start], 0.02)[0];
            let u = peak.position;
            let at = |dx: f64, dy: f64| correlation(&re, &im, [u[0] + dx, u[1] + dy]);
            let e = 1e-4;
            let gx = (at(e, 0.0) - at(-e, 0.0)) / (2.0 * e);
            let gy = (at(0.0, e) - at(0.0, -e)) / (2.0 * e);
            let hxx = (at(e, 0.0) - 2.0 * at(0.0, 0.0) + at(-e, 0.0)) / (e * e);
            let hyy = (at(0.0, e) - 2.0 * at(0.0, 0.0) + at(0.0, -e)) / (e * e);
            let scale = hxx.abs().max(hyy.abs());
            assert!(
                gx.abs() < 1e-4 * scale && gy.abs() < 1e-4 * scale,
                "seed {seed}: gradient ({gx}, {gy})"
            );
            assert!(hxx < 0.0 && hyy < 0.0, "seed {seed}: not a maximum");
            assert!(
                at(0.0, 0.0) >= correlation(&re, &im, start),
                "seed {seed}: went downhill"
            );
            assert!(
                ((-(hxx + hyy) / 2.0) - peak.curvature).abs() < 1e-3 * scale,
                "seed {seed}: curvature"
            );
            assert!((peak.height - at(0.0, 0.0)).abs() < 1e-6 * at(0.0, 0.0).abs().max(1.0));
        }
    }

    /// The coarse maxima read an image's rows as y and its columns as x.
    #[test]
    fn image_maxima_reads_rows_as_y() {
        let positions = [0.1, 0.2, 0.3];
        let mut image = vec![0f32; 2 * 9];
        image[3 + 2] = 1.0; // row 1 (y = 0.2), column 2 (x = 0.3)
        image[9 + 6] = 1.0; // row 2 (y = 0.3), column 0 (x = 0.1)
        assert_eq!(
            image_maxima(&image, &positions),
            vec![[0.3, 0.2], [0.1, 0.3]]
        );
    }
}
