//! Per-mode linear combinations of spectral components with per-row coefficients: the two hot
//! loops of the source-mixture network, as fused CPU kernels with backward passes.
//!
//! Shapes: B samples, R ∈ {1, B} coefficient rows (one shared time, or one time per sample), C
//! complex channels, P = 2 (Re, Im), N = K² modes. A tensor of "components" stacks J spectral
//! fields of shape (C, P, N) per sample.
//!
//! * [`weighted_spectrum`]: y[b, p, n] = Σ_{j, c} g[r, j, c, n] · x_j[b, c, p, n].
//!
//! Coefficients may have one channel instead of C: every channel then shares them.
//! * [`mode_affine`]: out[b, o, c, p, n] = Σ_j w[r, o, j, c, n] · x[b, j, c, p, n]
//!   + w[r, o, J, c, n] · u[b, p, n] (u shared by every channel).
//!
//! candle's broadcast multiply-adds over these 5-D shapes took most of a training step of the
//! network; each kernel is one pass over its operands. Other devices and dtypes take the composed
//! candle expression, which the tests also use as the oracle for values and gradients.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_f32::storage_slice;

/// The coefficient row of sample `b` for `rows` rows (1: shared; else one per sample).
#[inline]
fn row_of(b: usize, rows: usize) -> usize {
    if rows == 1 {
        0
    } else {
        b
    }
}

fn fused(tensors: &[&Tensor]) -> bool {
    tensors
        .iter()
        .all(|t| t.device().is_cpu() && t.dtype() == candle_core::DType::F32)
}

/// Checks that `rows` is 1 or `batch`.
fn check_rows(rows: usize, batch: usize, what: &str) -> Result<()> {
    if rows != 1 && rows != batch {
        candle_core::bail!("{what}: {rows} coefficient rows for a batch of {batch}");
    }
    Ok(())
}

/// y[b, p, n] = Σ_{j, c} g[r, j, c, n] x[b, j, c, p, n] for components `x` (B, J, C, P, N) and
/// gains `g` (R, J, C, N); returns (B, P, N).
pub fn weighted_spectrum(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    let (b, j, c, p, n) = x.dims5()?;
    let (r, gj, gc, gn) = g.dims4()?;
    if gj != j || gn != n || (gc != c && gc != 1) {
        candle_core::bail!(
            "weighted spectrum: gains {:?} do not fit components {:?}",
            g.dims(),
            x.dims()
        );
    }
    check_rows(r, b, "weighted spectrum")?;
    if fused(&[x, g]) {
        let dims = Dims {
            b,
            j,
            c,
            p,
            n,
            r,
            o: 1,
            wc: gc,
        };
        return x
            .contiguous()?
            .apply_op2(&g.contiguous()?, WeightedSpectrum(dims));
    }
    weighted_spectrum_composed(x, g)
}

/// [`weighted_spectrum`] from candle's primitives.
pub fn weighted_spectrum_composed(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    let (r, j, c, n) = g.dims4()?;
    let g = g.reshape((r, j, c, 1, n))?;
    x.broadcast_mul(&g)?.sum(2)?.sum(1)
}

/// out[b, o, c, p, n] = Σ_j w[r, o, j, c, n] x[b, j, c, p, n] + w[r, o, J, c, n] u[b, p, n] for
/// components `x` (B, J, C, P, N), a shared field `u` (B, P, N) and coefficients `w`
/// (R, O, J + 1, C, N); returns (B, O, C, P, N).
pub fn mode_affine(x: &Tensor, u: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (b, j, c, p, n) = x.dims5()?;
    let (r, o, wj, wc, wn) = w.dims5()?;
    if wj != j + 1 || wn != n || (wc != c && wc != 1) || u.dims() != [b, p, n] {
        candle_core::bail!(
            "mode affine: coefficients {:?} and field {:?} do not fit components {:?}",
            w.dims(),
            u.dims(),
            x.dims()
        );
    }
    check_rows(r, b, "mode affine")?;
    if fused(&[x, u, w]) {
        let dims = Dims {
            b,
            j,
            c,
            p,
            n,
            r,
            o,
            wc,
        };
        return x
            .contiguous()?
            .apply_op3(&u.contiguous()?, &w.contiguous()?, ModeAffine(dims));
    }
    mode_affine_composed(x, u, w)
}

/// [`mode_affine`] from candle's primitives.
pub fn mode_affine_composed(x: &Tensor, u: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (b, j, c, p, n) = x.dims5()?;
    let (r, o, _, wc, _) = w.dims5()?;
    let coupling = w.narrow(2, 0, j)?.reshape((r, o, j, wc, 1, n))?;
    let linear = x
        .reshape((b, 1, j, c, p, n))?
        .broadcast_mul(&coupling)?
        .sum(2)?;
    let shared = w.narrow(2, j, 1)?.reshape((r, o, wc, 1, n))?;
    let field = u.reshape((b, 1, 1, p, n))?.broadcast_mul(&shared)?;
    linear.broadcast_add(&field)
}

/// The sizes of one call.
#[derive(Debug, Clone, Copy)]
struct Dims {
    b: usize,
    j: usize,
    c: usize,
    p: usize,
    n: usize,
    r: usize,
    o: usize,
    /// Coefficient channels: C, or 1 when every channel shares its coefficients.
    wc: usize,
}

impl Dims {
    /// Elements of one sample's components (J·C·P·N).
    fn sample(&self) -> usize {
        self.j * self.c * self.p * self.n
    }

    /// The coefficient channel of channel `ci`.
    fn wci(&self, ci: usize) -> usize {
        if self.wc == 1 {
            0
        } else {
            ci
        }
    }
}

struct WeightedSpectrum(Dims);

impl CustomOp2 for WeightedSpectrum {
    fn name(&self) -> &'static str {
        "genads-weighted-spectrum"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.0;
        let (x, g) = (storage_slice(xs, xl)?, storage_slice(gs, gl)?);
        let (pn, cn) = (d.p * d.n, d.wc * d.n);
        let mut y = vec![0f32; d.b * pn];
        y.par_chunks_mut(pn).enumerate().for_each(|(bi, yb)| {
            let xb = &x[bi * d.sample()..(bi + 1) * d.sample()];
            let gr = &g[row_of(bi, d.r) * d.j * cn..];
            for jc in 0..d.j * d.c {
                let gp = (jc / d.c) * d.wc + d.wci(jc % d.c);
                let gains = &gr[gp * d.n..(gp + 1) * d.n];
                for pi in 0..d.p {
                    let xs = &xb[(jc * d.p + pi) * d.n..(jc * d.p + pi + 1) * d.n];
                    let ys = &mut yb[pi * d.n..(pi + 1) * d.n];
                    for ((y, &x), &g) in ys.iter_mut().zip(xs).zip(gains) {
                        *y += g * x;
                    }
                }
            }
        });
        Ok((CpuStorage::F32(y), Shape::from((d.b, d.p, d.n))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        g: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let d = self.0;
        let packed = x.apply_op3_no_bwd(g, &grad.contiguous()?, &WeightedSpectrumGrad(d))?;
        let nx = d.b * d.sample();
        let dx = packed.narrow(0, 0, nx)?.reshape(x.shape())?;
        let dg = packed
            .narrow(0, nx, d.r * d.j * d.wc * d.n)?
            .reshape(g.shape())?;
        Ok((Some(dx), Some(dg)))
    }
}

/// Backward of [`WeightedSpectrum`]: [dx | dg] flat, from (x, g, dy).
struct WeightedSpectrumGrad(Dims);

impl CustomOp3 for WeightedSpectrumGrad {
    fn name(&self) -> &'static str {
        "genads-weighted-spectrum-grad"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
        ds: &CpuStorage,
        dl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.0;
        let (x, g, dy) = (
            storage_slice(xs, xl)?,
            storage_slice(gs, gl)?,
            storage_slice(ds, dl)?,
        );
        let (pn, cn, s) = (d.p * d.n, d.wc * d.n, d.sample());
        let nx = d.b * s;
        let ng = d.r * d.j * cn;
        let mut out = vec![0f32; nx + ng];
        let (dx, dg) = out.split_at_mut(nx);
        // dx[b, j, c, p, n] = g[r, j, c, n] dy[b, p, n].
        dx.par_chunks_mut(s).enumerate().for_each(|(bi, dxb)| {
            let gr = &g[row_of(bi, d.r) * d.j * cn..];
            let dyb = &dy[bi * pn..(bi + 1) * pn];
            for jc in 0..d.j * d.c {
                let gp = (jc / d.c) * d.wc + d.wci(jc % d.c);
                let gains = &gr[gp * d.n..(gp + 1) * d.n];
                for pi in 0..d.p {
                    let o = &mut dxb[(jc * d.p + pi) * d.n..(jc * d.p + pi + 1) * d.n];
                    let dys = &dyb[pi * d.n..(pi + 1) * d.n];
                    for ((o, &g), &dy) in o.iter_mut().zip(gains).zip(dys) {
                        *o = g * dy;
                    }
                }
            }
        });
        // dg[r, j, c, n] = Σ_{b ∈ r, p} x[b, j, c, p, n] dy[b, p, n].
        let accumulate = |bi: usize, dgr: &mut [f32]| {
            let xb = &x[bi * s..(bi + 1) * s];
            let dyb = &dy[bi * pn..(bi + 1) * pn];
            for jc in 0..d.j * d.c {
                let gp = (jc / d.c) * d.wc + d.wci(jc % d.c);
                let o = &mut dgr[gp * d.n..(gp + 1) * d.n];
                for pi in 0..d.p {
                    let xs = &xb[(jc * d.p + pi) * d.n..(jc * d.p + pi + 1) * d.n];
                    let dys = &dyb[pi * d.n..(pi + 1) * d.n];
                    for ((o, &x), &dy) in o.iter_mut().zip(xs).zip(dys) {
                        *o += x * dy;
                    }
                }
            }
        };
        if d.r == 1 {
            (0..d.b).for_each(|bi| accumulate(bi, dg));
        } else {
            dg.par_chunks_mut(d.j * cn)
                .enumerate()
                .for_each(|(bi, dgr)| accumulate(bi, dgr));
        }
        Ok((CpuStorage::F32(out), Shape::from(nx + ng)))
    }
}

struct ModeAffine(Dims);

impl CustomOp3 for ModeAffine {
    fn name(&self) -> &'static str {
        "genads-mode-affine"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        us: &CpuStorage,
        ul: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.0;
        let (x, u, w) = (
            storage_slice(xs, xl)?,
            storage_slice(us, ul)?,
            storage_slice(ws, wl)?,
        );
        let (pn, cn, s) = (d.p * d.n, d.wc * d.n, d.sample());
        let out_sample = d.o * d.c * pn;
        let w_row = d.o * (d.j + 1) * cn;
        let mut out = vec![0f32; d.b * out_sample];
        out.par_chunks_mut(out_sample)
            .enumerate()
            .for_each(|(bi, ob)| {
                let xb = &x[bi * s..(bi + 1) * s];
                let ub = &u[bi * pn..(bi + 1) * pn];
                let wr = &w[row_of(bi, d.r) * w_row..(row_of(bi, d.r) + 1) * w_row];
                for oi in 0..d.o {
                    for ci in 0..d.c {
                        let plane = |ji: usize| {
                            let at = ((oi * (d.j + 1) + ji) * d.wc + d.wci(ci)) * d.n;
                            &wr[at..at + d.n]
                        };
                        for pi in 0..d.p {
                            let at = ((oi * d.c + ci) * d.p + pi) * d.n;
                            let os = &mut ob[at..at + d.n];
                            let shared = plane(d.j);
                            let us = &ub[pi * d.n..(pi + 1) * d.n];
                            for ((o, &w), &u) in os.iter_mut().zip(shared).zip(us) {
                                *o = w * u;
                            }
                            for ji in 0..d.j {
                                let ws = plane(ji);
                                let at = ((ji * d.c + ci) * d.p + pi) * d.n;
                                let xs = &xb[at..at + d.n];
                                for ((o, &w), &x) in os.iter_mut().zip(ws).zip(xs) {
                                    *o += w * x;
                                }
                            }
                        }
                    }
                }
            });
        Ok((
            CpuStorage::F32(out),
            Shape::from(vec![d.b, d.o, d.c, d.p, d.n]),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        u: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let d = self.0;
        let grad = grad.contiguous()?;
        let dxu = x.apply_op3_no_bwd(w, &grad, &ModeAffineInputGrad(d))?;
        let nx = d.b * d.sample();
        let dx = dxu.narrow(0, 0, nx)?.reshape(x.shape())?;
        let du = dxu.narrow(0, nx, d.b * d.p * d.n)?.reshape(u.shape())?;
        let packed = Tensor::cat(&[&x.flatten_all()?, &u.flatten_all()?], 0)?;
        let dw = packed
            .apply_op2_no_bwd(&grad, &ModeAffineWeightGrad(d))?
            .reshape(w.shape())?;
        Ok((Some(dx), Some(du), Some(dw)))
    }
}

/// [dx | du] of [`ModeAffine`] from (x, w, dout).
struct ModeAffineInputGrad(Dims);

impl CustomOp3 for ModeAffineInputGrad {
    fn name(&self) -> &'static str {
        "genads-mode-affine-input-grad"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.0;
        let (_, w, g) = (
            storage_slice(xs, xl)?,
            storage_slice(ws, wl)?,
            storage_slice(gs, gl)?,
        );
        let (pn, cn, s) = (d.p * d.n, d.wc * d.n, d.sample());
        let out_sample = d.o * d.c * pn;
        let w_row = d.o * (d.j + 1) * cn;
        let nx = d.b * s;
        let mut out = vec![0f32; nx + d.b * pn];
        let (dx, du) = out.split_at_mut(nx);
        dx.par_chunks_mut(s)
            .zip(du.par_chunks_mut(pn))
            .enumerate()
            .for_each(|(bi, (dxb, dub))| {
                let gb = &g[bi * out_sample..(bi + 1) * out_sample];
                let wr = &w[row_of(bi, d.r) * w_row..(row_of(bi, d.r) + 1) * w_row];
                for oi in 0..d.o {
                    for ci in 0..d.c {
                        let plane = |ji: usize| {
                            let at = ((oi * (d.j + 1) + ji) * d.wc + d.wci(ci)) * d.n;
                            &wr[at..at + d.n]
                        };
                        for pi in 0..d.p {
                            let at = ((oi * d.c + ci) * d.p + pi) * d.n;
                            let gs = &gb[at..at + d.n];
                            let dus = &mut dub[pi * d.n..(pi + 1) * d.n];
                            for ((o, &w), &g) in dus.iter_mut().zip(plane(d.j)).zip(gs) {
                                *o += w * g;
                            }
                            for ji in 0..d.j {
                                let at = ((ji * d.c + ci) * d.p + pi) * d.n;
                                let dxs = &mut dxb[at..at + d.n];
                                for ((o, &w), &g) in dxs.iter_mut().zip(plane(ji)).zip(gs) {
                                    *o += w * g;
                                }
                            }
                        }
                    }
                }
            });
        Ok((CpuStorage::F32(out), Shape::from(nx + d.b * pn)))
    }
}

/// dw of [`ModeAffine`] from ([x | u] flat, dout).
struct ModeAffineWeightGrad(Dims);

impl CustomOp2 for ModeAffineWeightGrad {
    fn name(&self) -> &'static str {
        "genads-mode-affine-weight-grad"
    }

    fn cpu_fwd(
        &self,
        ps: &CpuStorage,
        pl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.0;
        let (packed, g) = (storage_slice(ps, pl)?, storage_slice(gs, gl)?);
        let (pn, cn, s) = (d.p * d.n, d.wc * d.n, d.sample());
        let (x, u) = packed.split_at(d.b * s);
        let out_sample = d.o * d.c * pn;
        let w_row = d.o * (d.j + 1) * cn;
        let mut dw = vec![0f32; d.r * w_row];
        let accumulate = |bi: usize, dwr: &mut [f32]| {
            let xb = &x[bi * s..(bi + 1) * s];
            let ub = &u[bi * pn..(bi + 1) * pn];
            let gb = &g[bi * out_sample..(bi + 1) * out_sample];
            for oi in 0..d.o {
                for ci in 0..d.c {
                    for pi in 0..d.p {
                        let at = ((oi * d.c + ci) * d.p + pi) * d.n;
                        let gs = &gb[at..at + d.n];
                        for ji in 0..=d.j {
                            let src = if ji == d.j {
                                &ub[pi * d.n..(pi + 1) * d.n]
                            } else {
                                let at = ((ji * d.c + ci) * d.p + pi) * d.n;
                                &xb[at..at + d.n]
                            };
                            let at = ((oi * (d.j + 1) + ji) * d.wc + d.wci(ci)) * d.n;
                            let o = &mut dwr[at..at + d.n];
                            for ((o, &v), &g) in o.iter_mut().zip(src).zip(gs) {
                                *o += v * g;
                            }
                        }
                    }
                }
            }
        };
        if d.r == 1 {
            (0..d.b).for_each(|bi| accumulate(bi, &mut dw));
        } else {
            dw.par_chunks_mut(w_row)
                .enumerate()
                .for_each(|(bi, dwr)| accumulate(bi, dwr));
        }
        Ok((CpuStorage::F32(dw), Shape::from(d.r * w_row)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};
    use rand::{Rng, SeedableRng};

    fn random(dims: &[usize], seed: u64) -> Tensor {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n: usize = dims.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        super::super::max_abs_diff(a, b)
    }

    /// Values and all gradients of the fused kernels against the composed expressions, for shared
    /// and per-sample coefficient rows.
    #[test]
    fn fused_kernels_match_the_composition() {
        let (b, c, p, n) = (3, 2, 2, 5);
        for (j, o, rows, wc) in [
            (2, 2, 1, 2),
            (2, 1, 3, 2),
            (4, 2, 3, 2),
            (2, 2, 3, 1),
            (4, 1, 1, 1),
        ] {
            let x = Var::from_tensor(&random(&[b, j, c, p, n], 1)).unwrap();
            let g = Var::from_tensor(&random(&[rows, j, wc, n], 2)).unwrap();
            let u = Var::from_tensor(&random(&[b, p, n], 3)).unwrap();
            let w = Var::from_tensor(&random(&[rows, o, j + 1, wc, n], 4)).unwrap();
            // A random linear functional of both outputs, so every gradient is exercised.
            let fy = random(&[b, p, n], 5);
            let fo = random(&[b, o, c, p, n], 6);
            let run = |fused: bool| {
                let (y, out) = if fused {
                    (
                        weighted_spectrum(&x, &g).unwrap(),
                        mode_affine(&x, &u, &w).unwrap(),
                    )
                } else {
                    (
                        weighted_spectrum_composed(&x, &g).unwrap(),
                        mode_affine_composed(&x, &u, &w).unwrap(),
                    )
                };
                let loss = ((&y * &fy).unwrap().sum_all().unwrap()
                    + (&out * &fo).unwrap().sum_all().unwrap())
                .unwrap();
                let grads = loss.backward().unwrap();
                let grad = |v: &Var| grads.get(v).unwrap().clone();
                (y, out, [grad(&x), grad(&g), grad(&u), grad(&w)])
            };
            let (y1, o1, g1) = run(true);
            let (y0, o0, g0) = run(false);
            assert!(
                max_diff(&y1, &y0) < 1e-5,
                "spectrum, j {j} o {o} rows {rows} wc {wc}"
            );
            assert!(
                max_diff(&o1, &o0) < 1e-5,
                "affine, j {j} o {o} rows {rows} wc {wc}"
            );
            for (i, (a, e)) in g1.iter().zip(&g0).enumerate() {
                assert_eq!(a.dims(), e.dims());
                assert!(
                    max_diff(a, e) < 1e-5,
                    "gradient {i}, j {j} o {o} rows {rows} wc {wc}"
                );
            }
        }
    }

    /// One hand-computed element of each kernel (an oracle independent of both code paths).
    #[test]
    fn kernels_compute_the_stated_sums() {
        let x = Tensor::from_vec(
            (0..2 * 2 * 2).map(|v| v as f32).collect::<Vec<_>>(),
            (1, 2, 1, 2, 2),
            &Device::Cpu,
        )
        .unwrap(); // x[0, j, 0, p, n] = 4j + 2p + n
        let g = Tensor::from_vec(vec![1f32, 2., 3., 4.], (1, 2, 1, 2), &Device::Cpu).unwrap();
        let y = weighted_spectrum(&x, &g).unwrap();
        // y[0, p, n] = g[0,0,0,n] x[0,0,0,p,n] + g[0,1,0,n] x[0,1,0,p,n]
        // y[0, 1, 1] = 2·3 + 4·7 = 34.
        assert_eq!(y.to_vec3::<f32>().unwrap()[0][1][1], 34.0);
        let u = Tensor::from_vec(vec![10f32, 20., 30., 40.], (1, 2, 2), &Device::Cpu).unwrap();
        let w = Tensor::from_vec(
            (0..3 * 2).map(|v| v as f32).collect::<Vec<_>>(),
            (1, 1, 3, 1, 2),
            &Device::Cpu,
        )
        .unwrap(); // w[0, 0, j, 0, n] = 2j + n
        let out = mode_affine(&x, &u, &w).unwrap();
        // out[0,0,0,1,0] = w0 x[0,0,0,1,0] + w1 x[0,1,0,1,0] + w2 u[0,1,0] = 0·2 + 2·6 + 4·30 = 132.
        let v = out.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(v[2], 132.0);
    }
}
