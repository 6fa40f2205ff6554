//! SiLU as one fused CPU kernel, and the branch-free exponential it shares with the source
//! network's softmax.
//!
//! candle's CPU `silu` maps every element through libm's `expf` in a closure that does not
//! vectorise. [`silu`] computes x·σ(x) in one vectorisable pass with [`exp_nonpositive`] (eight
//! lanes with AVX2 + FMA where the CPU has them), and its gradient σ(x)(1 + x(1 − σ(x))) in one
//! more, for contiguous f32 CPU tensors; anything else takes candle's own op. What it gained:
//! docs/performance.md.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_f32::storage_slice;

/// Elements per parallel chunk of the element-wise kernels.
const CHUNK: usize = 1 << 14;

/// e^x for x ≤ 0, branch-free so that a loop over a slice vectorises: x = n ln 2 + r with
/// |r| ≤ ln 2 / 2 (Cody-Waite split of ln 2), e^r by its degree-6 Taylor polynomial (relative error
/// < 2·10⁻⁷), 2^n through the exponent bits. Arguments below −87 give 0 (libm's expf takes a slow
/// path there, and with sharp posteriors most arguments are).
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³: adding and subtracting rounds to an integer
    const EXPONENT: f32 = 127.0 + 8_388_608.0; // bias + 2²³: the mantissa bits then hold n + 127
    let in_range = x > -87.0; // false for NaN too
    let x = if in_range { x } else { -87.0 };
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let scale = f32::from_bits(((n + EXPONENT).to_bits() & 0x007f_ffff) << 23);
    if in_range {
        p * scale
    } else {
        0.0
    }
}

/// The logistic σ(x) = 1/(1 + e^(−x)), from e^(−|x|) ≤ 1 so that it never overflows. NaN in, NaN
/// out.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    let e = exp_nonpositive(-x.abs());
    let s = 1.0 / (1.0 + e);
    let s = if x >= 0.0 { s } else { e * s };
    if x.is_nan() {
        x
    } else {
        s
    }
}

/// y = x·σ(x) over a chunk.
#[inline(always)]
fn silu_kernel(x: &[f32], y: &mut [f32]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = v * sigmoid(v);
    }
}

/// dx = dy·σ(x)(1 + x(1 − σ(x))) over a chunk.
#[inline(always)]
fn silu_grad_kernel(x: &[f32], dy: &[f32], dx: &mut [f32]) {
    for ((o, &v), &g) in dx.iter_mut().zip(x).zip(dy) {
        let s = sigmoid(v);
        *o = g * s * (1.0 + v * (1.0 - s));
    }
}

/// The kernels compiled for AVX2 + FMA (eight lanes), chosen at run time; the portable build
/// targets SSE2 (four lanes).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn silu(x: &[f32], y: &mut [f32]) {
        super::silu_kernel(x, y)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn silu_grad(x: &[f32], dy: &[f32], dx: &mut [f32]) {
        super::silu_grad_kernel(x, dy, dx)
    }
}

fn silu_chunk(x: &[f32], y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features the function is compiled for (checked above).
        return unsafe { avx2::silu(x, y) };
    }
    silu_kernel(x, y)
}

fn silu_grad_chunk(x: &[f32], dy: &[f32], dx: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features the function is compiled for (checked above).
        return unsafe { avx2::silu_grad(x, dy, dx) };
    }
    silu_grad_kernel(x, dy, dx)
}

/// SiLU x·σ(x) with gradients: one fused pass for contiguous f32 CPU tensors, candle's `silu`
/// otherwise.
pub fn silu(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 {
        x.contiguous()?.apply_op1(SiluOp)
    } else {
        x.silu()
    }
}

struct SiluOp;

impl CustomOp1 for SiluOp {
    fn name(&self) -> &'static str {
        "genads-silu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = storage_slice(storage, layout)?;
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(yc, xc)| silu_chunk(xc, yc));
        Ok((CpuStorage::F32(y), layout.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(
            arg.apply_op2_no_bwd(&grad.contiguous()?, &SiluGradOp)?,
        ))
    }
}

/// dx = dy · σ(x)(1 + x(1 − σ(x))), from x (first operand) and dy (second).
struct SiluGradOp;

impl CustomOp2 for SiluGradOp {
    fn name(&self) -> &'static str {
        "genads-silu-grad"
    }

    fn cpu_fwd(
        &self,
        x_storage: &CpuStorage,
        x_layout: &Layout,
        g_storage: &CpuStorage,
        g_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = storage_slice(x_storage, x_layout)?;
        let g = storage_slice(g_storage, g_layout)?;
        if x.len() != g.len() {
            candle_core::bail!("silu backward: {} inputs, {} gradients", x.len(), g.len());
        }
        let mut dx = vec![0f32; x.len()];
        dx.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)))
            .for_each(|(dc, (xc, gc))| silu_grad_chunk(xc, gc, dc));
        Ok((CpuStorage::F32(dx), x_layout.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// The branch-free exponential against the standard library's over its whole range.
    #[test]
    fn fast_exponential_is_accurate() {
        let mut worst = 0f64;
        for i in 0..200_000 {
            let x = -87.0 * i as f32 / 200_000.0;
            let exact = f64::from(x).exp();
            let rel = (f64::from(exp_nonpositive(x)) - exact).abs() / exact;
            worst = worst.max(rel);
        }
        assert!(worst < 5e-7, "relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-200.0), 0.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
    }

    fn grid() -> Vec<f32> {
        // Dense near 0, out to both tails (σ saturates; e^(−|x|) underflows below −87).
        (0..4001)
            .map(|i| {
                let u = (i as f32 - 2000.0) / 2000.0;
                100.0 * u * u * u
            })
            .collect()
    }

    /// Values against the closed form in f64, special values exactly.
    #[test]
    fn silu_matches_the_closed_form() {
        let xs = grid();
        let t = Tensor::from_vec(xs.clone(), xs.len(), &Device::Cpu).unwrap();
        let y = silu(&t).unwrap().to_vec1::<f32>().unwrap();
        for (&x, &v) in xs.iter().zip(&y) {
            let x64 = f64::from(x);
            let exact = x64 / (1.0 + (-x64).exp());
            let err = (f64::from(v) - exact).abs();
            assert!(
                err <= 1e-6 * exact.abs().max(1e-3),
                "silu({x}) = {v}, exact {exact}"
            );
        }
        let special = Tensor::new(&[0f32, 200.0, -200.0, f32::NAN], &Device::Cpu).unwrap();
        let v = silu(&special).unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(&v[..3], &[0.0, 200.0, -0.0]);
        assert!(v[3].is_nan());
    }

    /// The fused gradient against central differences of the closed form (f64).
    #[test]
    fn silu_gradient_matches_finite_differences() {
        let xs = grid();
        let var = Var::from_vec(xs.clone(), xs.len(), &Device::Cpu).unwrap();
        let weights: Vec<f32> = (0..xs.len()).map(|i| 1.0 + (i % 7) as f32).collect();
        let w = Tensor::from_vec(weights.clone(), xs.len(), &Device::Cpu).unwrap();
        let loss = (silu(var.as_tensor()).unwrap() * &w)
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = loss.backward().unwrap();
        let g = grads
            .get(var.as_tensor())
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let f = |x: f64| x / (1.0 + (-x).exp());
        for ((&x, &gi), &wi) in xs.iter().zip(&g).zip(&weights) {
            let x64 = f64::from(x);
            let h = 1e-5 * x64.abs().max(1.0);
            let fd = f64::from(wi) * (f(x64 + h) - f(x64 - h)) / (2.0 * h);
            assert!(
                (f64::from(gi) - fd).abs() <= 1e-5 * fd.abs().max(1.0),
                "x = {x}: gradient {gi}, finite difference {fd}"
            );
        }
    }

    /// The run-time-selected kernels (AVX2 where the CPU has it) agree bit for bit with the
    /// portable ones (no fused multiply-adds are formed without fast-math).
    #[test]
    fn selected_kernels_match_the_portable_ones() {
        let xs = grid();
        let dy: Vec<f32> = xs.iter().map(|x| (x * 0.37).sin()).collect();
        let (mut a, mut b) = (vec![0f32; xs.len()], vec![0f32; xs.len()]);
        silu_kernel(&xs, &mut a);
        silu_chunk(&xs, &mut b);
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
        silu_grad_kernel(&xs, &dy, &mut a);
        silu_grad_chunk(&xs, &dy, &mut b);
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
    }

    /// Non-contiguous input: the same values as the contiguous copy.
    #[test]
    fn silu_of_a_transposed_matrix() {
        let xs: Vec<f32> = (0..12).map(|i| i as f32 - 6.0).collect();
        let m = Tensor::from_vec(xs, (3, 4), &Device::Cpu).unwrap();
        let a = silu(&m.t().unwrap()).unwrap();
        let b = silu(&m.t().unwrap().contiguous().unwrap()).unwrap();
        assert_eq!(super::super::max_abs_diff(&a, &b), 0.0);
        assert_eq!(a.dims(), &[4, 3]);
    }
}
