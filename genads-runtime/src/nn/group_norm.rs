//! GroupNorm as one fused candle custom op (forward and backward each a single pass per group).
//!
//! candle-nn's `GroupNorm` is a chain of a dozen tensor ops, and the backward of its per-channel
//! affine reduces over non-trailing axes through candle's slow strided-sum path; in the paper's
//! CNN and U-Net training steps that cost as much as the convolutions' non-GEMM work. Here, for
//! f32 CPU tensors (B, C, …) with G groups of C/G channels:
//!
//! * forward: y = (x − μ_{n,g}) · r_{n,g} · γ_c + β_c with μ, σ² the mean and (biased) variance over
//!   the group's elements (accumulated in f64) and r = 1/√(σ² + ε);
//! * backward, with x̂ = (x − μ)·r and the group means ⟨·⟩: dβ_c = Σ dy, dγ_c = Σ dy·x̂,
//!   dx = r·(dy·γ − ⟨dy·γ⟩ − x̂·⟨dy·γ·x̂⟩).
//!
//! Other devices and dtypes fall back to candle-nn's `GroupNorm`.

use super::cpu_f32::{storage_slice, with_tensor_slice};
use candle_core::{CpuStorage, CustomOp3, DType, Layout, Module, Result, Shape, Tensor};
use rayon::prelude::*;

/// Group normalisation with a per-channel affine (weight γ, bias β), as in PyTorch.
#[derive(Debug, Clone)]
pub struct GroupNorm {
    weight: Tensor,
    bias: Tensor,
    channels: usize,
    groups: usize,
    eps: f64,
}

impl GroupNorm {
    /// `channels` channels in `groups` groups (which must divide them), affine `weight`/`bias` of
    /// shape (channels,).
    pub fn new(
        weight: Tensor,
        bias: Tensor,
        channels: usize,
        groups: usize,
        eps: f64,
    ) -> Result<Self> {
        if groups == 0 || !channels.is_multiple_of(groups) {
            candle_core::bail!("GroupNorm: {groups} groups do not divide {channels} channels");
        }
        if weight.elem_count() != channels || bias.elem_count() != channels {
            candle_core::bail!("GroupNorm: affine parameters must have {channels} elements");
        }
        Ok(Self {
            weight,
            bias,
            channels,
            groups,
            eps,
        })
    }
}

impl Module for GroupNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims();
        if dims.len() < 3 || dims[1] != self.channels {
            candle_core::bail!(
                "GroupNorm over {} channels got input {dims:?}",
                self.channels
            );
        }
        let fast = x.device().is_cpu()
            && x.dtype() == DType::F32
            && self.weight.dtype() == DType::F32
            && self.bias.dtype() == DType::F32
            && self.weight.device().is_cpu();
        if fast {
            let op = GroupNormOp {
                groups: self.groups,
                eps: self.eps,
            };
            x.contiguous()?.apply_op3(
                &self.weight.flatten_all()?.contiguous()?,
                &self.bias.flatten_all()?.contiguous()?,
                op,
            )
        } else {
            candle_nn::GroupNorm::new(
                self.weight.clone(),
                self.bias.clone(),
                self.channels,
                self.groups,
                self.eps,
            )?
            .forward(x)
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct GroupNormOp {
    groups: usize,
    eps: f64,
}

/// (batch, channels, elements per channel) of a (B, C, …) shape.
fn split(dims: &[usize]) -> (usize, usize, usize) {
    (dims[0], dims[1], dims[2..].iter().product())
}

/// Mean and 1/√(var + ε) of one group's elements, in f64.
fn stats(v: &[f32], eps: f64) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().map(|&a| f64::from(a)).sum::<f64>() / n;
    let var = v
        .iter()
        .map(|&a| {
            let d = f64::from(a) - mean;
            d * d
        })
        .sum::<f64>()
        / n;
    (mean, 1.0 / (var + eps).sqrt())
}

impl CustomOp3 for GroupNormOp {
    fn name(&self) -> &'static str {
        "genads-group-norm"
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
        let (x, gamma, beta) = (
            storage_slice(s1, l1)?,
            storage_slice(s2, l2)?,
            storage_slice(s3, l3)?,
        );
        let (_, c, hw) = split(l1.dims());
        let cpg = c / self.groups;
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(cpg * hw)
            .zip(x.par_chunks(cpg * hw))
            .enumerate()
            .for_each(|(ng, (yg, xg))| {
                let (mean, r) = stats(xg, self.eps);
                let c0 = (ng % self.groups) * cpg;
                for (j, (yc, xc)) in yg.chunks_mut(hw).zip(xg.chunks(hw)).enumerate() {
                    let a = (r * f64::from(gamma[c0 + j])) as f32;
                    let b = (f64::from(beta[c0 + j]) - mean * r * f64::from(gamma[c0 + j])) as f32;
                    for (yv, xv) in yc.iter_mut().zip(xc) {
                        *yv = xv * a + b;
                    }
                }
            });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        beta: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (b, c, hw) = split(x.dims());
        let cpg = c / self.groups;
        let glen = cpg * hw;
        let (dx, dg, db) = with_tensor_slice(x, |xv| {
            with_tensor_slice(gamma, |gv| {
                with_tensor_slice(grad, |dyv| {
                    let mut dx = vec![0f32; xv.len()];
                    // Per (sample, channel) partial sums of dy·x̂ and dy, reduced over the batch below.
                    let mut part = vec![(0f64, 0f64); b * c];
                    dx.par_chunks_mut(glen)
                        .zip(part.par_chunks_mut(cpg))
                        .enumerate()
                        .for_each(|(ng, (dxg, pg))| {
                            let off = ng * glen;
                            let (xg, dyg) = (&xv[off..off + glen], &dyv[off..off + glen]);
                            let (mean, r) = stats(xg, self.eps);
                            let c0 = (ng % self.groups) * cpg;
                            let (mut s1, mut s2) = (0f64, 0f64);
                            for (j, p) in pg.iter_mut().enumerate() {
                                let g = f64::from(gv[c0 + j]);
                                let (mut sx, mut sd) = (0f64, 0f64);
                                for (&xa, &da) in
                                    xg[j * hw..][..hw].iter().zip(&dyg[j * hw..][..hw])
                                {
                                    let xh = (f64::from(xa) - mean) * r;
                                    let d = f64::from(da);
                                    sx += d * xh;
                                    sd += d;
                                }
                                *p = (sx, sd);
                                s1 += g * sd;
                                s2 += g * sx;
                            }
                            let n = glen as f64;
                            let (m1, m2) = (s1 / n, s2 / n);
                            for j in 0..cpg {
                                let g = f64::from(gv[c0 + j]);
                                let range = j * hw..(j + 1) * hw;
                                for ((o, &xa), &da) in dxg[range.clone()]
                                    .iter_mut()
                                    .zip(&xg[range.clone()])
                                    .zip(&dyg[range])
                                {
                                    let xh = (f64::from(xa) - mean) * r;
                                    *o = (r * (f64::from(da) * g - m1 - xh * m2)) as f32;
                                }
                            }
                        });
                    let mut dg = vec![0f64; c];
                    let mut db = vec![0f64; c];
                    for n in 0..b {
                        for ch in 0..c {
                            let (sx, sd) = part[n * c + ch];
                            dg[ch] += sx;
                            db[ch] += sd;
                        }
                    }
                    let f = |v: Vec<f64>| v.into_iter().map(|a| a as f32).collect::<Vec<f32>>();
                    Ok((dx, f(dg), f(db)))
                })
            })
        })?;
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), x.device())?),
            Some(Tensor::from_vec(dg, gamma.shape(), gamma.device())?),
            Some(Tensor::from_vec(db, beta.shape(), beta.device())?),
        ))
    }
}
