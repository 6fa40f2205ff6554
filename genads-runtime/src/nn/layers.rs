//! Layer constructors over a `VarBuilder` and the seeded, PyTorch-default initialisation.
//!
//! Layers are created with constant placeholders (candle's own initialisers draw from an unseeded
//! RNG); [`init_seeded`] then fills every variable from a `ChaCha8Rng` the way PyTorch's defaults do:
//! `*.weight` of rank ≥ 2 and its `*.bias` ~ U(±1/√fan_in) with fan_in = shape[1]·∏shape[2..]
//! (PyTorch's convention, also for transposed convolutions), GroupNorm `*.scale` = 1, `*.shift` = 0,
//! and every variable under a `zero_init` path component = 0 (output heads that must start silent).

use candle_core::{DType, Result, Tensor};
use candle_nn::{Init, Linear, VarBuilder, VarMap};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

use super::conv::{Conv2d, ConvTranspose2d};
use super::group_norm::GroupNorm;

const ZERO: Init = Init::Const(0.0);

/// Linear layer `in_dim → out_dim` with bias.
pub fn linear(vb: VarBuilder, in_dim: usize, out_dim: usize) -> Result<Linear> {
    let w = vb.get_with_hints((out_dim, in_dim), "weight", ZERO)?;
    let b = vb.get_with_hints(out_dim, "bias", ZERO)?;
    Ok(Linear::new(w, Some(b)))
}

/// 2-D convolution with a square kernel and bias (the im2col + GEMM kernels of [`super::conv`]).
pub fn conv2d(
    vb: VarBuilder,
    c_in: usize,
    c_out: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Result<Conv2d> {
    let w = vb.get_with_hints((c_out, c_in, kernel, kernel), "weight", ZERO)?;
    let b = vb.get_with_hints(c_out, "bias", ZERO)?;
    Ok(Conv2d::new(w, Some(b), stride, padding))
}

/// 2-D transposed convolution with a square kernel and bias (weight shape (c_in, c_out, k, k)),
/// over the kernels of [`super::conv`].
pub fn conv_transpose2d(
    vb: VarBuilder,
    c_in: usize,
    c_out: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Result<ConvTranspose2d> {
    let w = vb.get_with_hints((c_in, c_out, kernel, kernel), "weight", ZERO)?;
    let b = vb.get_with_hints(c_out, "bias", ZERO)?;
    Ok(ConvTranspose2d::new(w, Some(b), stride, padding))
}

/// GroupNorm over `channels` in `groups` groups, eps 1e-5, affine (the fused op of
/// [`super::group_norm`]).
pub fn group_norm(vb: VarBuilder, groups: usize, channels: usize) -> Result<GroupNorm> {
    let w = vb.get_with_hints(channels, "scale", Init::Const(1.0))?;
    let b = vb.get_with_hints(channels, "shift", ZERO)?;
    GroupNorm::new(w, b, channels, groups, 1e-5)
}

/// Fills every variable of `varmap` deterministically from `seed` (PyTorch default init; see
/// the module doc). Variables are visited in sorted-name order, so the result depends only on
/// the architecture and the seed.
pub fn init_seeded(varmap: &VarMap, seed: u64) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("variable map lock poisoned".to_string()))?;
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let dims = var.dims().to_vec();
        let n: usize = dims.iter().product();
        let values: Vec<f32> = if name.split('.').any(|part| part == "zero_init") {
            vec![0.0; n]
        } else if name.ends_with(".scale") {
            vec![1.0; n]
        } else if name.ends_with(".shift") {
            vec![0.0; n]
        } else {
            let fan_in = if let Some(stem) = name.strip_suffix(".bias") {
                let w = data.get(&format!("{stem}.weight")).ok_or_else(|| {
                    candle_core::Error::Msg(format!("bias `{name}` has no sibling weight"))
                })?;
                fan_in(w.dims())
            } else {
                fan_in(&dims)
            };
            let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
            let dist = Uniform::new(-bound, bound)
                .map_err(|e| candle_core::Error::Msg(format!("init of `{name}`: {e}")))?;
            (0..n).map(|_| dist.sample(&mut rng) as f32).collect()
        };
        let t = Tensor::from_vec(values, dims.as_slice(), var.device())?.to_dtype(DType::F32)?;
        var.set(&t)?;
    }
    Ok(())
}

/// PyTorch's fan-in: shape[1]·∏shape[2..] (shape[0] for rank-1 tensors).
fn fan_in(dims: &[usize]) -> usize {
    match dims.len() {
        0 => 1,
        1 => dims[0],
        _ => dims[1] * dims[2..].iter().product::<usize>(),
    }
}

/// Total number of scalar parameters in a variable map.
pub fn parameter_count(varmap: &VarMap) -> usize {
    varmap.all_vars().iter().map(|v| v.elem_count()).sum()
}
