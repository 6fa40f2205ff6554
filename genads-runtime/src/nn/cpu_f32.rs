//! Access to the contiguous f32 data of CPU storages and tensors, shared by the own CPU kernels
//! (convolutions, GroupNorm, the source network's softmax).

use candle_core::{CpuStorage, Layout, Result, Storage, Tensor};

/// The elements of a contiguous f32 CPU storage under `layout`.
pub(crate) fn storage_slice<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    match (storage, layout.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        (CpuStorage::F32(_), None) => {
            candle_core::bail!("genads CPU kernel: non-contiguous operand")
        }
        _ => candle_core::bail!("genads CPU kernel: expected f32 storage"),
    }
}

/// Runs `f` on the f32 data of `t` (made contiguous first), which must live on the CPU.
pub(crate) fn with_tensor_slice<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        Storage::Cpu(s) => f(storage_slice(s, layout)?),
        _ => candle_core::bail!("genads CPU kernel: expected a CPU tensor"),
    }
}
