//! Complex (B, C, H, W) data ⇄ real f32 tensors (B, 2C, H, W) with Re/Im interleaved on channels.

use crate::{Error, Result};
use candle_core::{DType, Device, Tensor};
use rustfft::num_complex::Complex64;

/// A batch of complex fields, row-major (b, c, h, w), in f64.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexBatch {
    /// Values, length b·c·h·w.
    pub data: Vec<Complex64>,
    /// Batch size.
    pub b: usize,
    /// Complex channels.
    pub c: usize,
    /// Rows (x).
    pub h: usize,
    /// Columns (y).
    pub w: usize,
}

impl ComplexBatch {
    /// A zero batch.
    pub fn zeros(b: usize, c: usize, h: usize, w: usize) -> Self {
        Self {
            data: vec![Complex64::new(0.0, 0.0); b * c * h * w],
            b,
            c,
            h,
            w,
        }
    }
}

/// Packs a complex batch into an f32 tensor (B, 2C, H, W): channel 2c is Re of complex channel c,
/// channel 2c + 1 its Im.
pub fn complex_to_interleaved(z: &ComplexBatch, device: &Device) -> Result<Tensor> {
    let (b, c, h, w) = (z.b, z.c, z.h, z.w);
    let hw = h * w;
    if z.data.len() != b * c * hw {
        return Err(Error::Invalid(format!(
            "complex batch has {} values, expected {b}·{c}·{h}·{w}",
            z.data.len()
        )));
    }
    let mut out = vec![0f32; 2 * z.data.len()];
    for (bc, chunk) in z.data.chunks_exact(hw.max(1)).enumerate() {
        let re_off = 2 * bc * hw;
        let im_off = re_off + hw;
        for (p, v) in chunk.iter().enumerate() {
            out[re_off + p] = v.re as f32;
            out[im_off + p] = v.im as f32;
        }
    }
    Ok(Tensor::from_vec(out, (b, 2 * c, h, w), device)?)
}

/// Unpacks an interleaved real tensor (B, 2C, H, W) (any float dtype, any device) into a complex
/// batch in f64. Errors on a wrong rank, an odd channel count or non-finite values.
pub fn interleaved_to_complex(t: &Tensor) -> Result<ComplexBatch> {
    let dims = t.dims();
    if dims.len() != 4 {
        return Err(Error::Invalid(format!(
            "expected a (B, 2C, H, W) tensor, got shape {dims:?}"
        )));
    }
    let (b, c2, h, w) = (dims[0], dims[1], dims[2], dims[3]);
    if c2 % 2 != 0 {
        return Err(Error::Invalid(format!(
            "channel axis must be even (Re/Im pairs), got {c2}"
        )));
    }
    let flat: Vec<f64> = t.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
    if flat.iter().any(|v| !v.is_finite()) {
        return Err(Error::Invalid(
            "tensor contains NaN or infinite values".into(),
        ));
    }
    let hw = h * w;
    let c = c2 / 2;
    let mut data = Vec::with_capacity(b * c * hw);
    for bc in 0..b * c {
        let re = &flat[2 * bc * hw..(2 * bc + 1) * hw];
        let im = &flat[(2 * bc + 1) * hw..(2 * bc + 2) * hw];
        data.extend(re.iter().zip(im).map(|(&r, &i)| Complex64::new(r, i)));
    }
    Ok(ComplexBatch { data, b, c, h, w })
}
