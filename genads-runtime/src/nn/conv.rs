//! Fast f32 CPU 2-D convolutions (im2col + GEMM) as candle custom ops, with their backward passes.
//!
//! candle 0.11.1's CPU `conv_transpose2d` is a naive loop, and candle differentiates every
//! `conv2d` through it, so training a CNN spent most of its time there. Here both directions of
//! both convolutions run through three kernels of one convolution geometry
//! (input (C, H, W) → output (O, OH, OW), weight (O, C, k, k), stride s, padding p):
//!
//! * forward: Y = W · im2col(X);
//! * adjoint (grad-input): dX = col2im(Wᵀ · dY);
//! * grad-weight: dW = dY · im2col(X)ᵀ.
//!
//! A transposed convolution with weight (C_in, C_out, k, k) is the adjoint of the convolution with
//! the same weight read as (O = C_in, C = C_out, k, k), so its forward is the adjoint kernel, its
//! grad-input the forward kernel and its grad-weight the grad-weight kernel with the roles of input
//! and output swapped. The GEMMs use the `gemm` crate (the one candle uses) over batch chunks,
//! multi-threaded through rayon (`RAYON_NUM_THREADS`); im2col/col2im are rayon-parallel too.
//! Everything is deterministic: no reduction depends on the thread schedule.
//!
//! Non-CPU devices, non-f32 dtypes and non-square kernels fall back to candle's own convolutions.

use super::cpu_f32::{storage_slice, with_tensor_slice};
use candle_core::{CpuStorage, CustomOp2, CustomOp3, DType, Layout, Module, Result, Shape, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;

/// Target size (f32 elements) of one im2col buffer; the batch is processed in chunks of this size.
const CHUNK_ELEMS: usize = 1 << 21;

/// The geometry of a convolution (input (C, H, W) → output (O, OH, OW), square kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geom {
    b: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    k: usize,
    s: usize,
    p: usize,
    oh: usize,
    ow: usize,
}

impl Geom {
    /// Rows of the im2col matrix, C·k·k.
    fn kdim(&self) -> usize {
        self.c * self.k * self.k
    }
    /// Output pixels per sample.
    fn pix(&self) -> usize {
        self.oh * self.ow
    }
    /// Input elements per sample.
    fn in_len(&self) -> usize {
        self.c * self.h * self.w
    }
    /// Output elements per sample.
    fn out_len(&self) -> usize {
        self.o * self.pix()
    }
    /// Samples per chunk.
    fn chunk(&self) -> usize {
        (CHUNK_ELEMS / (self.kdim() * self.pix()).max(1)).clamp(1, self.b.max(1))
    }
    /// Valid output columns `ow` for kernel column `kj`: iw = ow·s + kj − p ∈ [0, W).
    fn valid_cols(&self, kj: usize) -> (usize, usize) {
        valid_range(kj, self.p, self.s, self.w, self.ow)
    }
    /// Valid output rows `oh` for kernel row `ki`.
    fn valid_rows(&self, ki: usize) -> (usize, usize) {
        valid_range(ki, self.p, self.s, self.h, self.oh)
    }
}

/// The output indices o ∈ [lo, hi) with 0 ≤ o·s + kk − p < n (and o < out).
fn valid_range(kk: usize, p: usize, s: usize, n: usize, out: usize) -> (usize, usize) {
    let lo = if p > kk { (p - kk).div_ceil(s) } else { 0 };
    // o·s + kk − p ≤ n − 1  ⇔  o ≤ (n − 1 + p − kk)/s
    let hi = if n + p > kk {
        ((n - 1 + p - kk) / s + 1).min(out)
    } else {
        0
    };
    (lo.min(hi), hi)
}

thread_local! {
    /// Scratch buffers (im2col matrices, channel-major copies) reused between calls on a thread.
    static SCRATCH: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A scratch buffer of `len` elements with unspecified contents (callers overwrite it).
fn take_scratch(len: usize) -> Vec<f32> {
    let mut v = SCRATCH.with(|s| s.borrow_mut().pop()).unwrap_or_default();
    v.resize(len, 0.0);
    v
}

/// Returns a scratch buffer to this thread's pool.
fn give_scratch(v: Vec<f32>) {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < 4 {
            s.push(v);
        }
    });
}

fn parallelism() -> Parallelism {
    let t = rayon::current_num_threads();
    if t > 1 {
        Parallelism::Rayon(t)
    } else {
        Parallelism::None
    }
}

/// A row-major matrix operand: `data` holds a (rows × cols) matrix, read transposed if `t`.
#[derive(Clone, Copy)]
struct Mat<'a> {
    data: &'a [f32],
    t: bool,
}

/// C (m × n, row-major) = [C +] A (m × k) · B (k × n).
fn matmul(
    m: usize,
    n: usize,
    k: usize,
    a: Mat,
    b: Mat,
    c: &mut [f32],
    accumulate: bool,
) -> Result<()> {
    if a.data.len() < m * k || b.data.len() < k * n || c.len() < m * n {
        candle_core::bail!("conv gemm: operand sizes do not match {m}×{k}·{k}×{n}");
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return Ok(());
    }
    // A (m × k): stored (m × k) row-major, or (k × m) row-major when transposed.
    let (a_rs, a_cs) = if a.t { (1, m) } else { (k, 1) };
    let (b_rs, b_cs) = if b.t { (1, k) } else { (n, 1) };
    // SAFETY: the slices hold at least m·k, k·n and m·n elements (checked above), and every index
    // the strides generate (i·rs + j·cs for i < rows, j < cols) lies inside them.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.data.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism(),
        );
    }
    Ok(())
}

/// im2col of `nb` samples `x` (nb·C·H·W) into `col` (C·k·k × nb·P).
fn im2col(g: &Geom, x: &[f32], nb: usize, col: &mut [f32]) {
    let n_cols = nb * g.pix();
    let (k, hw, pix) = (g.k, g.h * g.w, g.pix());
    col[..g.kdim() * n_cols]
        .par_chunks_mut(n_cols)
        .enumerate()
        .for_each(|(row, dst)| {
            let c = row / (k * k);
            let (ki, kj) = ((row / k) % k, row % k);
            let (r0, r1) = g.valid_rows(ki);
            let (c0, c1) = g.valid_cols(kj);
            for n in 0..nb {
                let xs = &x[(n * g.c + c) * hw..][..hw];
                let d = &mut dst[n * pix..][..pix];
                d[..r0 * g.ow].fill(0.0);
                d[r1 * g.ow..].fill(0.0);
                for oh in r0..r1 {
                    let ih = oh * g.s + ki - g.p;
                    let xrow = &xs[ih * g.w..][..g.w];
                    let drow = &mut d[oh * g.ow..][..g.ow];
                    drow[..c0].fill(0.0);
                    drow[c1..].fill(0.0);
                    if c1 > c0 {
                        let iw0 = c0 * g.s + kj - g.p;
                        if g.s == 1 {
                            drow[c0..c1].copy_from_slice(&xrow[iw0..iw0 + (c1 - c0)]);
                        } else {
                            for (dv, xv) in
                                drow[c0..c1].iter_mut().zip(xrow[iw0..].iter().step_by(g.s))
                            {
                                *dv = *xv;
                            }
                        }
                    }
                }
            }
        });
}

/// col2im: `dx` (nb·C·H·W) = Σ over kernel taps of `col` (C·k·k × nb·P), overwriting `dx`.
fn col2im(g: &Geom, col: &[f32], nb: usize, dx: &mut [f32]) {
    let n_cols = nb * g.pix();
    let (k, hw, pix) = (g.k, g.h * g.w, g.pix());
    dx[..nb * g.in_len()]
        .par_chunks_mut(hw)
        .enumerate()
        .for_each(|(nc, plane)| {
            let (n, c) = (nc / g.c, nc % g.c);
            plane.fill(0.0);
            for ki in 0..k {
                let (r0, r1) = g.valid_rows(ki);
                for kj in 0..k {
                    let (c0, c1) = g.valid_cols(kj);
                    if c1 <= c0 {
                        continue;
                    }
                    let row = (c * k + ki) * k + kj;
                    let src = &col[row * n_cols + n * pix..][..pix];
                    for oh in r0..r1 {
                        let ih = oh * g.s + ki - g.p;
                        let prow = &mut plane[ih * g.w..][..g.w];
                        let srow = &src[oh * g.ow + c0..oh * g.ow + c1];
                        let iw0 = c0 * g.s + kj - g.p;
                        if g.s == 1 {
                            for (pv, sv) in prow[iw0..iw0 + (c1 - c0)].iter_mut().zip(srow) {
                                *pv += *sv;
                            }
                        } else {
                            for (pv, sv) in prow[iw0..].iter_mut().step_by(g.s).zip(srow) {
                                *pv += *sv;
                            }
                        }
                    }
                }
            }
        });
}

/// (nb, O, P) sample-major → (O, nb·P) channel-major.
fn gather(y: &[f32], nb: usize, o: usize, pix: usize, out: &mut [f32]) {
    out[..o * nb * pix]
        .par_chunks_mut(nb * pix)
        .enumerate()
        .for_each(|(oc, row)| {
            for n in 0..nb {
                row[n * pix..][..pix].copy_from_slice(&y[(n * o + oc) * pix..][..pix]);
            }
        });
}

/// (O, nb·P) channel-major → (nb, O, P) sample-major.
fn scatter(t: &[f32], nb: usize, o: usize, pix: usize, y: &mut [f32]) {
    y[..nb * o * pix]
        .par_chunks_mut(pix)
        .enumerate()
        .for_each(|(no, dst)| {
            let (n, oc) = (no / o, no % o);
            dst.copy_from_slice(&t[oc * nb * pix + n * pix..][..pix]);
        });
}

/// Forward convolution: x (B·C·H·W), w (O·C·k·k) (+ bias (O)) → y (B·O·OH·OW).
fn conv_forward(g: &Geom, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Result<Vec<f32>> {
    let (kd, pix) = (g.kdim(), g.pix());
    let mut y = vec![0f32; g.b * g.out_len()];
    let chunk = g.chunk();
    let mut col = take_scratch(kd * chunk * pix);
    let mut tmp = take_scratch(if chunk > 1 { g.o * chunk * pix } else { 0 });
    let mut n0 = 0;
    while n0 < g.b {
        let nb = chunk.min(g.b - n0);
        let n_cols = nb * pix;
        im2col(g, &x[n0 * g.in_len()..], nb, &mut col);
        let wm = Mat { data: w, t: false };
        let cm = Mat {
            data: &col[..kd * n_cols],
            t: false,
        };
        let ys = &mut y[n0 * g.out_len()..(n0 + nb) * g.out_len()];
        if nb == 1 {
            matmul(g.o, n_cols, kd, wm, cm, ys, false)?;
        } else {
            matmul(g.o, n_cols, kd, wm, cm, &mut tmp, false)?;
            scatter(&tmp, nb, g.o, pix, ys);
        }
        n0 += nb;
    }
    give_scratch(col);
    give_scratch(tmp);
    if let Some(b) = bias {
        y.par_chunks_mut(pix).enumerate().for_each(|(no, plane)| {
            let bo = b[no % g.o];
            plane.iter_mut().for_each(|v| *v += bo);
        });
    }
    Ok(y)
}

/// Bias gradient: Σ over samples and pixels of dy (B·O·P) per channel, accumulated in f64.
fn bias_grad(dy: &[f32], b: usize, o: usize, pix: usize) -> Vec<f32> {
    (0..o)
        .into_par_iter()
        .map(|oc| {
            let mut acc = 0f64;
            for n in 0..b {
                let plane = &dy[(n * o + oc) * pix..][..pix];
                acc += plane.iter().map(|&v| f64::from(v)).sum::<f64>();
            }
            acc as f32
        })
        .collect()
}

/// Adjoint of the forward convolution: dy (B·O·OH·OW), w (O·C·k·k) (+ bias (C)) → dx (B·C·H·W).
fn conv_adjoint(g: &Geom, dy: &[f32], w: &[f32], bias: Option<&[f32]>) -> Result<Vec<f32>> {
    let (kd, pix) = (g.kdim(), g.pix());
    let mut dx = vec![0f32; g.b * g.in_len()];
    let chunk = g.chunk();
    let mut col = take_scratch(kd * chunk * pix);
    let mut tmp = take_scratch(if chunk > 1 { g.o * chunk * pix } else { 0 });
    let mut n0 = 0;
    while n0 < g.b {
        let nb = chunk.min(g.b - n0);
        let n_cols = nb * pix;
        let dys = &dy[n0 * g.out_len()..(n0 + nb) * g.out_len()];
        let dm = if nb == 1 {
            dys
        } else {
            gather(dys, nb, g.o, pix, &mut tmp);
            &tmp[..g.o * n_cols]
        };
        // dcol (kd × n_cols) = Wᵀ (kd × O) · dY (O × n_cols)
        matmul(
            kd,
            n_cols,
            g.o,
            Mat { data: w, t: true },
            Mat { data: dm, t: false },
            &mut col,
            false,
        )?;
        col2im(g, &col, nb, &mut dx[n0 * g.in_len()..]);
        n0 += nb;
    }
    give_scratch(col);
    give_scratch(tmp);
    if let Some(b) = bias {
        let hw = g.h * g.w;
        dx.par_chunks_mut(hw).enumerate().for_each(|(nc, plane)| {
            let bc = b[nc % g.c];
            plane.iter_mut().for_each(|v| *v += bc);
        });
    }
    Ok(dx)
}

/// Weight gradient: x (B·C·H·W), dy (B·O·OH·OW) → dw (O·C·k·k).
fn conv_weight_grad(g: &Geom, x: &[f32], dy: &[f32]) -> Result<Vec<f32>> {
    let (kd, pix) = (g.kdim(), g.pix());
    let mut dw = vec![0f32; g.o * kd];
    let chunk = g.chunk();
    let mut col = take_scratch(kd * chunk * pix);
    let mut tmp = take_scratch(if chunk > 1 { g.o * chunk * pix } else { 0 });
    let mut n0 = 0;
    while n0 < g.b {
        let nb = chunk.min(g.b - n0);
        let n_cols = nb * pix;
        im2col(g, &x[n0 * g.in_len()..], nb, &mut col);
        let dys = &dy[n0 * g.out_len()..(n0 + nb) * g.out_len()];
        let dm = if nb == 1 {
            dys
        } else {
            gather(dys, nb, g.o, pix, &mut tmp);
            &tmp[..g.o * n_cols]
        };
        // dW (O × kd) += dY (O × n_cols) · colᵀ (n_cols × kd)
        matmul(
            g.o,
            kd,
            n_cols,
            Mat { data: dm, t: false },
            Mat {
                data: &col[..kd * n_cols],
                t: true,
            },
            &mut dw,
            n0 > 0,
        )?;
        n0 += nb;
    }
    give_scratch(col);
    give_scratch(tmp);
    Ok(dw)
}

/// Geometry of `conv2d(x, w)` with x (B, C, H, W), w (O, C, k, k).
fn conv_geom(x: &[usize], w: &[usize], s: usize, p: usize) -> Result<Geom> {
    let (&[b, c, h, wd], &[o, wc, kh, kw]) = (x, w) else {
        candle_core::bail!("conv2d: expected 4-D input and weight, got {x:?} and {w:?}");
    };
    if wc != c || kh != kw || kh == 0 || s == 0 || h + 2 * p < kh || wd + 2 * p < kw {
        candle_core::bail!("conv2d: input {x:?}, weight {w:?}, stride {s}, padding {p} do not fit");
    }
    Ok(Geom {
        b,
        c,
        h,
        w: wd,
        o,
        k: kh,
        s,
        p,
        oh: (h + 2 * p - kh) / s + 1,
        ow: (wd + 2 * p - kw) / s + 1,
    })
}

/// Geometry (of the adjoint convolution) of `conv_transpose2d(x, w)` with x (B, C_in, H, W),
/// w (C_in, C_out, k, k): output (B, C_out, (H−1)s − 2p + k, …).
fn conv_t_geom(x: &[usize], w: &[usize], s: usize, p: usize) -> Result<Geom> {
    let (&[b, ci, h, wd], &[wi, co, kh, kw]) = (x, w) else {
        candle_core::bail!("conv_transpose2d: expected 4-D input and weight, got {x:?} and {w:?}");
    };
    let full = |n: usize| (n.max(1) - 1) * s + kh;
    if wi != ci || kh != kw || kh == 0 || s == 0 || h == 0 || wd == 0 || full(h) < 2 * p + 1 {
        candle_core::bail!(
            "conv_transpose2d: input {x:?}, weight {w:?}, stride {s}, padding {p} do not fit"
        );
    }
    let (oh, ow) = (full(h) - 2 * p, full(wd) - 2 * p);
    Ok(Geom {
        b,
        c: co,
        h: oh,
        w: ow,
        o: ci,
        k: kh,
        s,
        p,
        oh: h,
        ow: wd,
    })
}

/// Which convolution a [`ConvOp`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `conv2d`, weight (O, C, k, k).
    Conv,
    /// `conv_transpose2d`, weight (C_in, C_out, k, k), output padding 0.
    Transpose,
}

/// A convolution as a candle custom op: (x, w) through [`CustomOp2`], (x, w, bias) through
/// [`CustomOp3`]; the backward passes run the same kernels.
#[derive(Debug, Clone, Copy)]
struct ConvOp {
    kind: Kind,
    stride: usize,
    padding: usize,
}

impl ConvOp {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Conv => "genads-conv2d",
            Kind::Transpose => "genads-conv-transpose2d",
        }
    }

    fn geom(&self, x: &[usize], w: &[usize]) -> Result<Geom> {
        match self.kind {
            Kind::Conv => conv_geom(x, w, self.stride, self.padding),
            Kind::Transpose => conv_t_geom(x, w, self.stride, self.padding),
        }
    }

    fn fwd(
        &self,
        x: &[f32],
        xl: &Layout,
        w: &[f32],
        wl: &Layout,
        b: Option<&[f32]>,
    ) -> Result<(CpuStorage, Shape)> {
        let g = self.geom(xl.dims(), wl.dims())?;
        let (y, shape) = match self.kind {
            Kind::Conv => (conv_forward(&g, x, w, b)?, (g.b, g.o, g.oh, g.ow)),
            Kind::Transpose => (conv_adjoint(&g, x, w, b)?, (g.b, g.c, g.h, g.w)),
        };
        Ok((CpuStorage::F32(y), Shape::from(shape)))
    }

    /// Gradients w.r.t. x, w and the bias.
    fn grads(&self, x: &Tensor, w: &Tensor, grad: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let g = self.geom(x.dims(), w.dims())?;
        let (dx, dw, db) = with_tensor_slice(grad, |dy| {
            Ok(match self.kind {
                Kind::Conv => (
                    with_tensor_slice(w, |wv| conv_adjoint(&g, dy, wv, None))?,
                    with_tensor_slice(x, |xv| conv_weight_grad(&g, xv, dy))?,
                    bias_grad(dy, g.b, g.o, g.pix()),
                ),
                Kind::Transpose => (
                    with_tensor_slice(w, |wv| conv_forward(&g, dy, wv, None))?,
                    with_tensor_slice(x, |xv| conv_weight_grad(&g, dy, xv))?,
                    bias_grad(dy, g.b, g.c, g.h * g.w),
                ),
            })
        })?;
        let n = db.len();
        Ok((
            Tensor::from_vec(dx, x.shape(), x.device())?,
            Tensor::from_vec(dw, w.shape(), w.device())?,
            Tensor::from_vec(db, n, x.device())?,
        ))
    }
}

impl CustomOp2 for ConvOp {
    fn name(&self) -> &'static str {
        ConvOp::name(self)
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.fwd(storage_slice(s1, l1)?, l1, storage_slice(s2, l2)?, l2, None)
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, _) = self.grads(x, w, grad)?;
        Ok((Some(dx), Some(dw)))
    }
}

impl CustomOp3 for ConvOp {
    fn name(&self) -> &'static str {
        ConvOp::name(self)
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let b = storage_slice(s3, l3)?;
        let g = self.geom(l1.dims(), l2.dims())?;
        let channels = if self.kind == Kind::Conv { g.o } else { g.c };
        if b.len() != channels {
            candle_core::bail!(
                "{}: bias of {} elements for {channels} output channels",
                ConvOp::name(self),
                b.len()
            );
        }
        self.fwd(
            storage_slice(s1, l1)?,
            l1,
            storage_slice(s2, l2)?,
            l2,
            Some(b),
        )
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, db) = self.grads(x, w, grad)?;
        Ok((Some(dx), Some(dw), Some(db.reshape(b.shape())?)))
    }
}

/// Whether the fast kernels apply (f32 tensors on the CPU, square kernel).
fn fast_path(x: &Tensor, w: &Tensor, bias: Option<&Tensor>) -> bool {
    x.device().is_cpu()
        && w.device().is_cpu()
        && x.dtype() == DType::F32
        && w.dtype() == DType::F32
        && w.rank() == 4
        && w.dims()[2] == w.dims()[3]
        && bias.is_none_or(|b| b.device().is_cpu() && b.dtype() == DType::F32 && b.rank() == 1)
}

fn add_bias(y: Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    match bias {
        Some(b) => {
            let n = b.elem_count();
            y.broadcast_add(&b.reshape((1, n, 1, 1))?)
        }
        None => Ok(y),
    }
}

fn apply(op: ConvOp, x: &Tensor, w: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let (x, w) = (x.contiguous()?, w.contiguous()?);
    match bias {
        Some(b) => x.apply_op3(&w, &b.contiguous()?, op),
        None => x.apply_op2(&w, op),
    }
}

/// 2-D convolution of x (B, C, H, W) with w (O, C, k, k) (+ bias (O,)), groups 1, dilation 1.
/// Differentiable; f32 CPU tensors use the im2col + GEMM kernels of this module.
pub fn conv2d(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    stride: usize,
    padding: usize,
) -> Result<Tensor> {
    if fast_path(x, w, bias) {
        let op = ConvOp {
            kind: Kind::Conv,
            stride,
            padding,
        };
        apply(op, x, w, bias)
    } else {
        add_bias(x.conv2d(w, padding, stride, 1, 1)?, bias)
    }
}

/// 2-D transposed convolution of x (B, C_in, H, W) with w (C_in, C_out, k, k) (+ bias (C_out,)),
/// output padding 0, groups 1, dilation 1: output (B, C_out, (H−1)s − 2p + k, (W−1)s − 2p + k).
/// Differentiable; f32 CPU tensors use the im2col + GEMM kernels of this module.
pub fn conv_transpose2d(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    stride: usize,
    padding: usize,
) -> Result<Tensor> {
    if fast_path(x, w, bias) {
        let op = ConvOp {
            kind: Kind::Transpose,
            stride,
            padding,
        };
        apply(op, x, w, bias)
    } else {
        add_bias(x.conv_transpose2d(w, padding, 0, stride, 1)?, bias)
    }
}

/// A 2-D convolution layer (NCHW, square kernel): [`conv2d`] when `TRANSPOSED` is false
/// ([`Conv2d`], weight (O, C, k, k)), [`conv_transpose2d`] when true ([`ConvTranspose2d`], weight
/// (C_in, C_out, k, k)); the bias has one entry per output channel.
#[derive(Debug, Clone)]
pub struct ConvLayer<const TRANSPOSED: bool> {
    weight: Tensor,
    bias: Option<Tensor>,
    stride: usize,
    padding: usize,
}

/// A 2-D convolution layer over [`conv2d`].
pub type Conv2d = ConvLayer<false>;
/// A 2-D transposed convolution layer over [`conv_transpose2d`].
pub type ConvTranspose2d = ConvLayer<true>;

impl<const TRANSPOSED: bool> ConvLayer<TRANSPOSED> {
    /// A layer from its weight, optional bias, stride and padding.
    pub fn new(weight: Tensor, bias: Option<Tensor>, stride: usize, padding: usize) -> Self {
        Self {
            weight,
            bias,
            stride,
            padding,
        }
    }

    /// The weight.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, if any.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl<const TRANSPOSED: bool> Module for ConvLayer<TRANSPOSED> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let conv = if TRANSPOSED { conv_transpose2d } else { conv2d };
        conv(
            x,
            &self.weight,
            self.bias.as_ref(),
            self.stride,
            self.padding,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ranges() {
        // n = 5, p = 1, s = 1, k tap 0: iw = ow − 1 ≥ 0 ⇒ ow ≥ 1; ow ≤ 5.
        assert_eq!(valid_range(0, 1, 1, 5, 5), (1, 5));
        assert_eq!(valid_range(2, 1, 1, 5, 5), (0, 4));
        // stride 2, n = 4, p = 1, out = 2: tap 0 → iw = 2ow − 1 ∈ [0,4) ⇒ ow = 1.
        assert_eq!(valid_range(0, 1, 2, 4, 2), (1, 2));
        // brute force against the definition
        for n in 1..7 {
            for k in 1..5 {
                for p in 0..3 {
                    for s in 1..4 {
                        if n + 2 * p < k {
                            continue;
                        }
                        let out = (n + 2 * p - k) / s + 1;
                        for kk in 0..k {
                            let ok: Vec<usize> = (0..out)
                                .filter(|&o| {
                                    let i = (o * s + kk) as isize - p as isize;
                                    i >= 0 && (i as usize) < n
                                })
                                .collect();
                            let (lo, hi) = valid_range(kk, p, s, n, out);
                            assert_eq!((lo..hi).collect::<Vec<_>>(), ok, "{n} {k} {p} {s} {kk}");
                        }
                    }
                }
            }
        }
    }
}
