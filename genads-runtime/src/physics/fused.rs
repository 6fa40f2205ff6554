//! Fused CPU f32 kernels behind the `fused_*` methods of `genads_model!` types.
//!
//! A generated type calls these generic functions with its folded constants ([`Folded`]) and its
//! straight-line `radial` (and, for Hermite paths, its path matrix) as closures; they are
//! monomorphised and inlined into the generated type's crate, so the constants fold and no
//! expression tree is walked. Each kernel is one pass over contiguous f32 data that writes
//! straight into the output tensors' buffers: the only heap allocations of a call are the output
//! tensors (and the per-sample radii of a path sample). Per-r coefficients are evaluated once per
//! distinct consecutive r (a sampling step, where every sample shares t, evaluates them once).
//!
//! A kernel returns `None` (the caller then runs the generic tensor code) whenever its fast path
//! does not apply: non-CPU or non-f32 states, non-contiguous layouts, |k|² that is neither one
//! value nor one (H, W) plane of at most [`MAX_PLANE`] modes, mismatched lengths. The errors it
//! does report (t ∉ [0, 1], non-finite inputs or coefficients, degenerate path parameters)
//! mirror the generic code's. Arithmetic mirrors the generic tensor code's f32 operations
//! (coefficients computed in f64, cast once to f32).

use super::PathSample;
use super::{Modes, PathKind, RadialCoefficients, State};
use crate::{Error, Result};
use candle_core::{CpuStorage, Device, Storage, Tensor};
use std::mem::MaybeUninit;

/// Largest |k|² plane (H·W) handled by the fused kernels (a stack buffer of this many f32).
pub const MAX_PLANE: usize = 1024;

/// A path matrix M(t): rows [φ_t, π_t, U^φ, U^π], columns [φ₀, π₀, φ₁, π₁].
pub type PathMatrix = [[f64; 4]; 4];

/// The constants a generated model folds into its kernels (the IR's type, written as a literal
/// by the code generator).
pub use genads_dsl::ir::Folded;

/// Borrowed f32 data of a contiguous CPU tensor, or `None`.
fn with_f32<T>(x: &Tensor, f: impl FnOnce(&[f32]) -> T) -> Option<T> {
    let (storage, layout) = x.storage_and_layout();
    let (start, end) = layout.contiguous_offsets()?;
    match &*storage {
        Storage::Cpu(CpuStorage::F32(v)) => v.get(start..end).map(f),
        _ => None,
    }
}

/// |k|² as f32 into `buf`: its length (H·W, or 1 for a single value), or `None` for any other
/// layout. Mirrors the generic code's cast of |k|² to the state's dtype.
fn k2_plane(modes: &Modes, dims: &[usize], buf: &mut [f32; MAX_PLANE]) -> Option<usize> {
    let k = modes.k2.dims();
    if k.len() != dims.len() || k.first() != Some(&1) {
        return None;
    }
    let len = modes.k2.elem_count();
    let plane = dims.len() == 4 && k[1] == 1 && k[2] == dims[2] && k[3] == dims[3];
    if !(len == 1 || plane) || len > MAX_PLANE {
        return None;
    }
    let (storage, layout) = modes.k2.storage_and_layout();
    let (start, end) = layout.contiguous_offsets()?;
    match &*storage {
        Storage::Cpu(CpuStorage::F32(v)) => buf[..len].copy_from_slice(v.get(start..end)?),
        Storage::Cpu(CpuStorage::F64(v)) => {
            for (b, &x) in buf.iter_mut().zip(v.get(start..end)?) {
                *b = x as f32;
            }
        }
        _ => return None,
    }
    Some(len)
}

/// Batch geometry: (B, elements per sample, chunk). A chunk is one |k|² plane (H·W) when |k|²
/// varies per mode, else up to [`MAX_PLANE`] elements sharing one coefficient.
fn geometry(dims: &[usize], k_len: usize) -> Option<(usize, usize, usize)> {
    if !(dims.len() == 2 || dims.len() == 4) || dims.contains(&0) {
        return None;
    }
    let n: usize = dims[1..].iter().product();
    let chunk = if k_len == 1 { n.min(MAX_PLANE) } else { k_len };
    Some((dims[0], n, chunk))
}

/// Non-finite test on the bits (vectorises; `is_finite` on a lane does too, this is explicit).
#[inline(always)]
fn nonfinite(v: f32) -> u32 {
    ((v.to_bits() & 0x7f80_0000) == 0x7f80_0000) as u32
}

fn check_t(t: f64) -> Result<()> {
    if t.is_finite() && (0.0..=1.0).contains(&t) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "flow time t = {t} is outside [0, 1]"
        )))
    }
}

/// Backbone coefficients of one sample as f32: (scale·friction, scale·(laplacian·|k|² + mass)
/// per entry of `kc`), checked finite.
#[inline(always)]
fn backbone_plane(
    c: RadialCoefficients,
    r: f64,
    scale: f64,
    k2: &[f32],
    kc: &mut [f32; MAX_PLANE],
) -> Result<f32> {
    let (fr, lap, mass) = (scale * c.friction, scale * c.laplacian, scale * c.mass);
    if !(fr.is_finite() && lap.is_finite() && mass.is_finite()) {
        return Err(Error::Invalid(format!(
            "backbone coefficients are not finite at r = {r}: {c:?}"
        )));
    }
    let (lap, mass) = (lap as f32, mass as f32);
    if k2.len() == 1 {
        kc.fill(lap * k2[0] + mass);
    } else {
        for (o, &k) in kc.iter_mut().zip(k2) {
            *o = lap * k + mass;
        }
    }
    Ok(fr as f32)
}

/// K output buffers of `len` f32 each, written through `slices` before `assume_init`.
struct Uninit<const K: usize> {
    vecs: [Vec<f32>; K],
    len: usize,
}

impl<const K: usize> Uninit<K> {
    /// Buffers of capacity `len` for the first `used` outputs (the others stay empty).
    fn new(len: usize, used: usize) -> Self {
        Self {
            vecs: std::array::from_fn(|i| Vec::with_capacity(if i < used { len } else { 0 })),
            len,
        }
    }
    /// The uninitialised entries of each buffer (empty for the unused ones).
    fn slices(&mut self) -> [&mut [MaybeUninit<f32>]; K] {
        let len = self.len;
        self.vecs.each_mut().map(|v| {
            let n = len.min(v.capacity());
            &mut v.spare_capacity_mut()[..n]
        })
    }
    /// The buffers with their first `used` entries marked initialised.
    ///
    /// # Safety
    /// Every entry of the first `used` slices handed out by `slices` must have been written.
    unsafe fn assume_init(mut self, used: usize) -> [Vec<f32>; K] {
        for v in &mut self.vecs[..used] {
            // SAFETY: capacity ≥ len (see `new`) and the caller wrote all `len` entries.
            unsafe { v.set_len(self.len) };
        }
        self.vecs
    }
}

fn tensor(v: Vec<f32>, dims: &[usize]) -> Result<Tensor> {
    Ok(Tensor::from_vec(v, dims, &Device::Cpu)?)
}

/// Inputs and outputs of the velocity kernel.
struct VelocityIo<'a> {
    p: &'a [f32],
    q: &'a [f32],
    rp: Option<&'a [f32]>,
    rq: &'a [f32],
    vp: &'a mut [MaybeUninit<f32>],
    vq: &'a mut [MaybeUninit<f32>],
}

#[inline(always)]
fn velocity_body<R: Fn(f64) -> RadialCoefficients>(
    f: &Folded,
    radial: &R,
    t: &[f64],
    k2: &[f32],
    (n, chunk): (usize, usize),
    io: VelocityIo<'_>,
) -> Result<()> {
    let s = f.scale as f32;
    let mut kc = [0f32; MAX_PLANE];
    let (mut fr, mut last) = (0f32, None);
    let mut bad = 0u32;
    for (i, &ti) in t.iter().enumerate() {
        if last != Some(ti) {
            check_t(ti)?;
            let r = f.r_ir + ti * f.span;
            fr = backbone_plane(radial(r), r, f.scale, k2, &mut kc)?;
            last = Some(ti);
        }
        let sample = i * n..(i + 1) * n;
        let (p, q, rq) = (
            &io.p[sample.clone()],
            &io.q[sample.clone()],
            &io.rq[sample.clone()],
        );
        let (vp, vq) = (&mut io.vp[sample.clone()], &mut io.vq[sample.clone()]);
        for (((vq, p), q), rq) in vq
            .chunks_mut(chunk)
            .zip(p.chunks(chunk))
            .zip(q.chunks(chunk))
            .zip(rq.chunks(chunk))
        {
            for ((((o, &x), &y), &z), &k) in vq.iter_mut().zip(p).zip(q).zip(rq).zip(&kc) {
                bad |= nonfinite(x) | nonfinite(y) | nonfinite(z);
                o.write(fr * y + k * x + z);
            }
        }
        match io.rp {
            // Hermite paths: dφ̃/dt = α·Δr·π̃ (the residual's φ̃ part is not used).
            None => {
                for (o, &y) in vp.iter_mut().zip(q) {
                    o.write(s * y);
                }
            }
            Some(rp) => {
                for ((o, &y), &z) in vp.iter_mut().zip(q).zip(&rp[sample]) {
                    bad |= nonfinite(z);
                    o.write(s * y + z);
                }
            }
        }
    }
    if bad != 0 {
        return Err(Error::Invalid(
            "state or residual contains NaN or infinite values".into(),
        ));
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn velocity_avx2<R: Fn(f64) -> RadialCoefficients>(
    f: &Folded,
    radial: &R,
    t: &[f64],
    k2: &[f32],
    geometry: (usize, usize),
    io: VelocityIo<'_>,
) -> Result<()> {
    velocity_body(f, radial, t, k2, geometry, io)
}

/// The velocity kernel, in its AVX2 instantiation when the CPU has AVX2 (the same IEEE operations
/// on wider vectors: results are bit-identical to the baseline instantiation).
#[inline(always)]
fn velocity_dispatch<R: Fn(f64) -> RadialCoefficients>(
    f: &Folded,
    radial: &R,
    t: &[f64],
    k2: &[f32],
    geometry: (usize, usize),
    io: VelocityIo<'_>,
) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked at run time just above).
        return unsafe { velocity_avx2(f, radial, t, k2, geometry, io) };
    }
    velocity_body(f, radial, t, k2, geometry, io)
}

/// Full t-velocity α·Δr·V_KG(S, r(t)) + residual in one pass (see `backbone::full_velocity_t`):
/// φ̃ part α·Δr·π̃ (+ residual φ̃ on linear paths), π̃ part α·Δr·(friction·π̃ + (laplacian·|k|² +
/// mass)·φ̃) + residual π̃. `None` when α = 0 or the fast path does not apply.
#[inline]
pub fn velocity_t<R: Fn(f64) -> RadialCoefficients>(
    f: &Folded,
    radial: R,
    state: &State,
    t: &[f64],
    residual_t: &State,
    modes: &Modes,
) -> Option<Result<State>> {
    if f.scale == 0.0 {
        return None;
    }
    let dims = state.phi.dims();
    let mut k2 = [0f32; MAX_PLANE];
    let k_len = k2_plane(modes, dims, &mut k2)?;
    let (b, n, chunk) = geometry(dims, k_len)?;
    let same = [&state.pi, &residual_t.phi, &residual_t.pi];
    if t.len() != b || same.iter().any(|x| x.dims() != dims) {
        return None;
    }
    let hermite = f.path != PathKind::Linear;
    let total = b * n;
    let k2 = &k2[..k_len];
    let run = |p: &[f32], q: &[f32], rp: Option<&[f32]>, rq: &[f32]| -> Option<Result<State>> {
        if [p, q, rq].iter().any(|x| x.len() != total) || rp.is_some_and(|x| x.len() != total) {
            return None;
        }
        let mut out = Uninit::<2>::new(total, 2);
        let [vp, vq] = out.slices();
        let io = VelocityIo {
            p,
            q,
            rp,
            rq,
            vp,
            vq,
        };
        let done = velocity_dispatch(f, &radial, t, k2, (n, chunk), io);
        if let Err(e) = done {
            return Some(Err(e));
        }
        // SAFETY: `velocity_body` returned Ok, so it wrote every entry of both buffers.
        let [vp, vq] = unsafe { out.assume_init(2) };
        Some(tensor(vp, dims).and_then(|phi| {
            Ok(State {
                phi,
                pi: tensor(vq, dims)?,
            })
        }))
    };
    with_f32(&state.phi, |p| {
        with_f32(&state.pi, |q| {
            with_f32(&residual_t.pi, |rq| {
                if hermite {
                    run(p, q, None, rq)
                } else {
                    with_f32(&residual_t.phi, |rp| run(p, q, Some(rp), rq)).flatten()
                }
            })
            .flatten()
        })
        .flatten()
    })
    .flatten()
}

/// Inputs [φ₀, π₀, φ₁, π₁] and outputs [φ_t, π_t, U^φ, U^π, target φ̃, target π̃] of the path
/// kernel (the target slices are empty without a backbone).
struct PathIo<'a> {
    x: [&'a [f32]; 4],
    out: [&'a mut [MaybeUninit<f32>]; 6],
}

/// One chunk of the path kernel: `m` the f32 path matrix, `s` = α·Δr, `fr` the scaled friction,
/// `kc` the scaled (laplacian·|k|² + mass) per entry. Returns the non-finite flag of the inputs.
#[inline(always)]
fn path_chunk<const LINEAR: bool, const BACKBONE: bool>(
    m: &[[f32; 4]; 4],
    (s, fr): (f32, f32),
    kc: &[f32],
    x: [&[f32]; 4],
    out: [&mut [MaybeUninit<f32>]; 6],
) -> u32 {
    let len = x[0].len();
    let (x0, y0, x1, y1) = (&x[0][..len], &x[1][..len], &x[2][..len], &x[3][..len]);
    let kc = &kc[..len];
    let [sp, sq, up, uq, tp, tq] = out;
    let (sp, sq, up, uq) = (
        &mut sp[..len],
        &mut sq[..len],
        &mut up[..len],
        &mut uq[..len],
    );
    let (tp, tq) = if BACKBONE {
        (&mut tp[..len], &mut tq[..len])
    } else {
        (&mut tp[..0], &mut tq[..0])
    };
    let mut bad = 0u32;
    for j in 0..len {
        let (a0, b0, a1, b1) = (x0[j], y0[j], x1[j], y1[j]);
        bad |= nonfinite(a0) | nonfinite(b0) | nonfinite(a1) | nonfinite(b1);
        let row = |r: &[f32; 4]| r[0] * a0 + r[1] * b0 + r[2] * a1 + r[3] * b1;
        let (pt, qt, u, v) = if LINEAR {
            (
                m[0][0] * a0 + m[0][2] * a1,
                m[1][1] * b0 + m[1][3] * b1,
                a1 - a0,
                b1 - b0,
            )
        } else {
            (row(&m[0]), row(&m[1]), row(&m[2]), row(&m[3]))
        };
        sp[j].write(pt);
        sq[j].write(qt);
        up[j].write(u);
        uq[j].write(v);
        if BACKBONE {
            tp[j].write(u - s * qt);
            tq[j].write(v - (fr * qt + kc[j] * pt));
        }
    }
    bad
}

#[inline(always)]
fn path_body<R, M>(
    f: &Folded,
    (radial, matrix): (&R, &M),
    t: &[f64],
    k2: &[f32],
    (n, chunk): (usize, usize),
    io: PathIo<'_>,
    rs: &mut Vec<f64>,
) -> Result<()>
where
    R: Fn(f64) -> RadialCoefficients,
    M: Fn(f64, f64) -> Result<PathMatrix>,
{
    let linear = f.path == PathKind::Linear;
    let backbone = f.scale != 0.0;
    let s = f.scale as f32;
    let mut kc = [0f32; MAX_PLANE];
    let (mut fr, mut last) = (0f32, None);
    let mut bad = 0u32;
    let PathIo { x, mut out } = io;
    for (i, &ti) in t.iter().enumerate() {
        check_t(ti)?;
        let r = f.r_ir + ti * f.span;
        rs.push(r);
        let m: PathMatrix = if linear {
            [
                [1.0 - ti, 0.0, ti, 0.0],
                [0.0, 1.0 - ti, 0.0, ti],
                [-1.0, 0.0, 1.0, 0.0],
                [0.0, -1.0, 0.0, 1.0],
            ]
        } else {
            matrix(ti, r)?
        };
        let m = m.map(|row| row.map(|v| v as f32));
        if backbone && last != Some(ti) {
            fr = backbone_plane(radial(r), r, f.scale, k2, &mut kc)?;
            last = Some(ti);
        }
        let mut o = i * n;
        while o < (i + 1) * n {
            let len = chunk.min((i + 1) * n - o);
            let xs = x.map(|v| &v[o..o + len]);
            let [a, b, c, d, e, g] = &mut out;
            let outs = [
                &mut a[o..o + len],
                &mut b[o..o + len],
                &mut c[o..o + len],
                &mut d[o..o + len],
                &mut e[if backbone { o..o + len } else { 0..0 }],
                &mut g[if backbone { o..o + len } else { 0..0 }],
            ];
            let k = (s, fr);
            bad |= match (linear, backbone) {
                (true, true) => path_chunk::<true, true>(&m, k, &kc, xs, outs),
                (true, false) => path_chunk::<true, false>(&m, k, &kc, xs, outs),
                (false, true) => path_chunk::<false, true>(&m, k, &kc, xs, outs),
                (false, false) => path_chunk::<false, false>(&m, k, &kc, xs, outs),
            };
            o += len;
        }
    }
    if bad != 0 {
        return Err(Error::Invalid(
            "path endpoints contain NaN or infinite values".into(),
        ));
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn path_avx2<R, M>(
    f: &Folded,
    closures: (&R, &M),
    t: &[f64],
    k2: &[f32],
    geometry: (usize, usize),
    io: PathIo<'_>,
    rs: &mut Vec<f64>,
) -> Result<()>
where
    R: Fn(f64) -> RadialCoefficients,
    M: Fn(f64, f64) -> Result<PathMatrix>,
{
    path_body(f, closures, t, k2, geometry, io, rs)
}

/// Path sample (S_t, U_t) and training target U_t − α·Δr·V_KG(S_t, r_t) in one pass (see
/// `flow::path_and_target`). `matrix(t, r)` is the model's path matrix M(t) (not called for
/// linear paths, whose matrix is built in). With α = 0 the target is U_t itself (the same
/// tensors). `None` when the fast path does not apply.
#[inline]
pub fn path_target<R, M>(
    f: &Folded,
    radial: R,
    matrix: M,
    s0: &State,
    s1: &State,
    t: &[f64],
    modes: &Modes,
) -> Option<Result<(PathSample, State)>>
where
    R: Fn(f64) -> RadialCoefficients,
    M: Fn(f64, f64) -> Result<PathMatrix>,
{
    let dims = s0.phi.dims();
    let mut k2 = [0f32; MAX_PLANE];
    let k_len = k2_plane(modes, dims, &mut k2)?;
    let (b, n, chunk) = geometry(dims, k_len)?;
    if t.len() != b || [&s0.pi, &s1.phi, &s1.pi].iter().any(|x| x.dims() != dims) {
        return None;
    }
    let total = b * n;
    let k2 = &k2[..k_len];
    let backbone = f.scale != 0.0;
    let used = if backbone { 6 } else { 4 };
    let run = |x: [&[f32]; 4]| -> Option<Result<(PathSample, State)>> {
        if x.iter().any(|v| v.len() != total) {
            return None;
        }
        let mut out = Uninit::<6>::new(total, used);
        let mut rs = Vec::with_capacity(b);
        let io = PathIo {
            x,
            out: out.slices(),
        };
        let closures = (&radial, &matrix);
        let geometry = (n, chunk);
        #[cfg(target_arch = "x86_64")]
        let done = if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked at run time just above).
            unsafe { path_avx2(f, closures, t, k2, geometry, io, &mut rs) }
        } else {
            path_body(f, closures, t, k2, geometry, io, &mut rs)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let done = path_body(f, closures, t, k2, geometry, io, &mut rs);
        if let Err(e) = done {
            return Some(Err(e));
        }
        // SAFETY: `path_body` returned Ok: it wrote every entry of the first `used` buffers.
        let [sp, sq, up, uq, tp, tq] = unsafe { out.assume_init(used) };
        let build = || -> Result<(PathSample, State)> {
            let state = State {
                phi: tensor(sp, dims)?,
                pi: tensor(sq, dims)?,
            };
            let velocity = State {
                phi: tensor(up, dims)?,
                pi: tensor(uq, dims)?,
            };
            let target = if backbone {
                State {
                    phi: tensor(tp, dims)?,
                    pi: tensor(tq, dims)?,
                }
            } else {
                velocity.clone()
            };
            let sample = PathSample {
                state,
                velocity,
                t: t.to_vec(),
                r: rs,
            };
            Ok((sample, target))
        };
        Some(build())
    };
    with_f32(&s0.phi, |p0| {
        with_f32(&s0.pi, |q0| {
            with_f32(&s1.phi, |p1| {
                with_f32(&s1.pi, |q1| run([p0, q0, p1, q1])).flatten()
            })
            .flatten()
        })
        .flatten()
    })
    .flatten()
}

#[cfg(test)]
mod tests {
    //! The kernels against the generic tensor code driven by the interpreter, with the
    //! interpreter's `radial` and the f64 reference path matrix (`path::path_matrix`) as closures.
    use super::*;
    use crate::interpreter::Interpreted;
    use crate::physics::Physics;
    use crate::{backbone, loss, path, rng};
    use candle_core::DType;

    fn model(source: &str) -> Interpreted {
        let models = genads_dsl::compile(source, "model.genads").expect("model compiles");
        Interpreted::new(genads_dsl::select(models, None).expect("one model")).expect("model")
    }

    fn folded(p: &Interpreted) -> Folded {
        let c = p.constants();
        Folded {
            r_ir: c.r_ir,
            span: c.span(),
            scale: c.alpha * c.span(),
            path: c.path,
        }
    }

    fn state(rng: &mut rand_chacha::ChaCha8Rng, shape: &[usize]) -> State {
        State {
            phi: rng::normal_tensor(rng, shape, 1.0).unwrap(),
            pi: rng::normal_tensor(rng, shape, 0.7).unwrap(),
        }
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap()
    }

    fn k2(h: usize, w: usize, dtype: DType) -> Modes {
        let v: Vec<f64> = (0..h * w)
            .map(|i| (i % 7) as f64 * 0.8 + (i / w) as f64)
            .collect();
        Modes {
            k2: Tensor::from_vec(v, (1, 1, h, w), &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap(),
        }
    }

    fn check(source: &str) {
        let p = model(source);
        let f = folded(&p);
        let radial = |r: f64| p.radial(r);
        let matrix = |t: f64, _r: f64| path::path_matrix(&p, t);
        let mut rng = rng::seeded(5);
        let shape = [3, 4, 5, 6];
        let (s0, s1, res) = (
            state(&mut rng, &shape),
            state(&mut rng, &shape),
            state(&mut rng, &shape),
        );
        let t = [0.0, 0.63, 1.0];
        for modes in [k2(5, 6, DType::F32), k2(5, 6, DType::F64)] {
            let (fs, ft) = path_target(&f, radial, matrix, &s0, &s1, &t, &modes)
                .unwrap()
                .unwrap();
            let gs = path::sample_path(&p, &s0, &s1, &t).unwrap();
            let gt = loss::training_target(&p, &gs, &modes).unwrap();
            for (a, b) in [
                (&fs.state.phi, &gs.state.phi),
                (&fs.state.pi, &gs.state.pi),
                (&fs.velocity.phi, &gs.velocity.phi),
                (&fs.velocity.pi, &gs.velocity.pi),
                (&ft.phi, &gt.phi),
                (&ft.pi, &gt.pi),
            ] {
                assert!(
                    max_diff(a, b) <= 1e-4,
                    "path/target differ by {}",
                    max_diff(a, b)
                );
            }
            assert_eq!(fs.r, gs.r);
            for t in [t.to_vec(), vec![0.25; 3]] {
                let fv = velocity_t(&f, radial, &s0, &t, &res, &modes)
                    .unwrap()
                    .unwrap();
                let gv = backbone::full_velocity_t(&p, &s0, &t, &res, &modes).unwrap();
                assert!(max_diff(&fv.phi, &gv.phi) <= 1e-4 && max_diff(&fv.pi, &gv.pi) <= 1e-4);
            }
        }
        let modes = k2(5, 6, DType::F32);
        // Not for the fast path: f64 states, non-contiguous states, |k|² broadcast on one axis.
        let f64s = State {
            phi: s0.phi.to_dtype(DType::F64).unwrap(),
            pi: s0.pi.to_dtype(DType::F64).unwrap(),
        };
        assert!(velocity_t(&f, radial, &f64s, &t, &f64s, &modes).is_none());
        let strided = State {
            phi: s0.phi.transpose(2, 3).unwrap(),
            pi: s0.pi.transpose(2, 3).unwrap(),
        };
        let k = k2(6, 5, DType::F32);
        assert!(velocity_t(&f, radial, &strided, &t, &strided, &k).is_none());
        assert!(path_target(&f, radial, matrix, &strided, &strided, &t, &k).is_none());
        let row = Modes {
            k2: modes.k2.narrow(2, 0, 1).unwrap().contiguous().unwrap(),
        };
        assert!(velocity_t(&f, radial, &s0, &t, &res, &row).is_none());
        // Errors, never panics: t outside [0, 1], NaN inputs.
        let bad_t = [0.0, 1.5, 1.0];
        assert!(velocity_t(&f, radial, &s0, &bad_t, &res, &modes)
            .unwrap()
            .is_err());
        assert!(path_target(&f, radial, matrix, &s0, &s1, &bad_t, &modes)
            .unwrap()
            .is_err());
        let nan = State {
            phi: (s0.phi.clone() / 0.0).unwrap(),
            pi: s0.pi.clone(),
        };
        assert!(velocity_t(&f, radial, &nan, &t, &res, &modes)
            .unwrap()
            .is_err());
        assert!(path_target(&f, radial, matrix, &s0, &nan, &t, &modes)
            .unwrap()
            .is_err());
    }

    #[test]
    fn fused_kernels_match_generic_code() {
        check(include_str!("../../../models/ads_kg_linear.genads"));
        check(include_str!("../../../models/ads_kg_hermite.genads"));
    }
}
