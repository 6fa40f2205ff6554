//! Fused batch kernels of a generated model: the path sample + training target of a training step
//! and the backbone t-velocity of a sampling step, as one pass over contiguous CPU f32 data.
//!
//! The path kind, α·Δr, the radial range and (for closed-form affine parameters) the Hermite
//! endpoint tangents are folded into literals; the per-sample coefficients call the generated
//! straight-line `radial`/`affine`. A kernel returns `None` (so that the runtime's generic tensor
//! code runs instead) whenever its fast path does not apply: non-CPU or non-f32 tensors,
//! non-contiguous layouts, shapes other than (B, C) / (B, 2C, H, W) with H·W ≤ 1024, mismatched
//! lengths. Errors it does report (t ∉ [0, 1], non-finite inputs or coefficients) mirror the
//! generic code's.

use super::lit;
use crate::derived::{Affine, Derived, PathKind};
use std::fmt::Write as _;

/// Largest H·W handled by the fused kernels (a per-sample stack buffer of this many f32).
const MAX_PLANE: usize = 1024;

/// Inherent helper functions of the generated type (tensor views).
pub(super) fn helpers(w: &mut String, ty: &str, rt: &str) {
    let c = format!("{rt}::candle_core");
    let _ = writeln!(w, "#[allow(unused, clippy::all)]");
    let _ = writeln!(w, "impl {ty} {{");
    let _ = writeln!(
        w,
        "    /// Read guard and element range of a contiguous CPU tensor of f32 or f64, else None."
    );
    let _ = writeln!(w, "    #[doc(hidden)]");
    let _ = writeln!(
        w,
        "    fn __genads_view(x: &{c}::Tensor) -> Option<({c}::StorageRef<'_>, (usize, usize))> {{"
    );
    let _ = writeln!(w, "        let (s, l) = x.storage_and_layout();");
    let _ = writeln!(w, "        let o = l.contiguous_offsets()?;");
    let _ = writeln!(w, "        match &*s {{");
    let _ = writeln!(w, "            {c}::Storage::Cpu({c}::CpuStorage::F32(_)) | {c}::Storage::Cpu({c}::CpuStorage::F64(_)) => Some((s, o)),");
    let _ = writeln!(w, "            _ => None,");
    let _ = writeln!(w, "        }}");
    let _ = writeln!(w, "    }}");
    let _ = writeln!(w, "    #[doc(hidden)]");
    let _ = writeln!(
        w,
        "    fn __genads_f32<'a>(s: &'a {c}::Storage, o: (usize, usize)) -> Option<&'a [f32]> {{"
    );
    let _ = writeln!(
        w,
        "        match s {{ {c}::Storage::Cpu({c}::CpuStorage::F32(v)) => v.get(o.0..o.1), _ => None }}"
    );
    let _ = writeln!(w, "    }}");
    let _ = writeln!(w, "    #[doc(hidden)]");
    let _ = writeln!(
        w,
        "    fn __genads_k2(s: &{c}::Storage, o: (usize, usize), j: usize) -> f64 {{"
    );
    let _ = writeln!(w, "        match s {{");
    let _ = writeln!(
        w,
        "            {c}::Storage::Cpu({c}::CpuStorage::F32(v)) => v[o.0 + j] as f64,"
    );
    let _ = writeln!(
        w,
        "            {c}::Storage::Cpu({c}::CpuStorage::F64(v)) => v[o.0 + j],"
    );
    let _ = writeln!(w, "            _ => 0.0,");
    let _ = writeln!(w, "        }}");
    let _ = writeln!(w, "    }}");
    let _ = writeln!(w, "}}\n");
}

/// Shape checks and views shared by both kernels; binds `dims`, `b`, `n`, `hw`, `channels`,
/// `gk`/`ok` (|k|² view, `k_one` when it is a single value) and one slice per tensor in `tensors`.
fn prologue(w: &mut String, ty: &str, first: &str, tensors: &[(&str, &str)], len_name: &str) {
    let _ = writeln!(w, "        let dims = {first}.dims();");
    let _ = writeln!(
        w,
        "        if !(dims.len() == 2 || dims.len() == 4) || dims[0] == 0 || {len_name}.len() != dims[0] {{ return None; }}"
    );
    let _ = writeln!(w, "        let b = dims[0];");
    let _ = writeln!(w, "        let n: usize = dims[1..].iter().product();");
    let _ = writeln!(
        w,
        "        let hw = if dims.len() == 4 {{ dims[2] * dims[3] }} else {{ 1 }};"
    );
    let _ = writeln!(
        w,
        "        if n == 0 || hw > {MAX_PLANE} {{ return None; }}"
    );
    let _ = writeln!(w, "        let channels = n / hw;");
    let _ = writeln!(w, "        let (gk, ok) = {ty}::__genads_view(&modes.k2)?;");
    let _ = writeln!(w, "        let k_len = ok.1 - ok.0;");
    let _ = writeln!(
        w,
        "        if modes.k2.rank() != dims.len() || !(k_len == hw || k_len == 1) {{ return None; }}"
    );
    let _ = writeln!(w, "        let k_one = k_len == 1;");
    for (name, expr) in tensors {
        let _ = writeln!(w, "        if {expr}.dims() != dims {{ return None; }}");
        let _ = writeln!(
            w,
            "        let (g_{name}, o_{name}) = {ty}::__genads_view(&{expr})?;"
        );
        let _ = writeln!(
            w,
            "        let {name} = {ty}::__genads_f32(&g_{name}, o_{name})?;"
        );
        let _ = writeln!(w, "        if {name}.len() != b * n {{ return None; }}");
    }
}

/// Per-sample `let kc: [f32; hw]` of (laplacian·|k|² + mass)·scale and `fr` = friction·scale, from
/// `self.radial(r)`; errors on non-finite coefficients.
fn backbone_coefficients(w: &mut String, ty: &str, rt: &str, scale: &str) {
    let _ = writeln!(
        w,
        "            let c = {rt}::physics::Physics::radial(self, r);"
    );
    let _ = writeln!(
        w,
        "            let (fr, lap, mass) = ({scale} * c.friction, {scale} * c.laplacian, {scale} * c.mass);"
    );
    let _ = writeln!(
        w,
        "            if !(fr.is_finite() && lap.is_finite() && mass.is_finite()) {{"
    );
    let _ = writeln!(
        w,
        "                return Some(Err({rt}::Error::Invalid(format!(\"backbone coefficients are not finite at r = {{r}}: {{c:?}}\"))));"
    );
    let _ = writeln!(w, "            }}");
    let _ = writeln!(w, "            let fr = fr as f32;");
    let _ = writeln!(w, "            for j in 0..hw {{");
    let _ = writeln!(
        w,
        "                let k2 = {ty}::__genads_k2(&gk, ok, if k_one {{ 0 }} else {{ j }});"
    );
    let _ = writeln!(w, "                kc[j] = (lap * k2 + mass) as f32;");
    let _ = writeln!(w, "            }}");
}

fn check_t(w: &mut String, rt: &str) {
    let _ = writeln!(w, "            let ti = t[i];");
    let _ = writeln!(
        w,
        "            if !(ti.is_finite() && (0.0..=1.0).contains(&ti)) {{ return Some(Err({rt}::Error::Invalid(format!(\"flow time t = {{ti}} is outside [0, 1]\")))); }}"
    );
}

fn to_tensor(rt: &str, v: &str) -> String {
    format!(
        "match {rt}::candle_core::Tensor::from_vec({v}, dims, &{rt}::candle_core::Device::Cpu) {{ Ok(x) => x, Err(e) => return Some(Err(e.into())) }}"
    )
}

/// `fused_path_target`: S_t, U_t and the target U_t − α·Δr·V_KG(S_t, r_t) in one pass.
pub(super) fn path_target(w: &mut String, d: &Derived, ty: &str, rt: &str) {
    let span = d.r_uv - d.r_ir;
    let scale = d.alpha * span;
    let _ = writeln!(
        w,
        "    /// Fused path sample + training target (CPU f32; `None` → generic code)."
    );
    let _ = writeln!(
        w,
        "    fn fused_path_target(&self, s0: &{rt}::physics::State, s1: &{rt}::physics::State, t: &[f64], modes: &{rt}::physics::Modes) -> Option<{rt}::Result<({rt}::path::PathSample, {rt}::physics::State)>> {{"
    );
    prologue(
        w,
        ty,
        "s0.phi",
        &[
            ("p0", "s0.phi"),
            ("q0", "s0.pi"),
            ("p1", "s1.phi"),
            ("q1", "s1.pi"),
        ],
        "t",
    );
    // Endpoint tangents of Hermite paths.
    match d.path {
        PathKind::Linear => {}
        PathKind::HermiteRadial => {
            let _ = writeln!(w, "        let (a0, a1) = ({}, {});", lit(span), lit(span));
        }
        PathKind::HermiteAffine => {
            let folded = match &d.affine {
                Affine::ClosedForm { dr_du, .. } => {
                    match (dr_du.eval_r(d.r_ir), dr_du.eval_r(d.r_uv)) {
                        (Ok(a0), Ok(a1)) if a0.is_finite() && a1.is_finite() => Some((a0, a1)),
                        _ => None,
                    }
                }
                Affine::Numerical => None,
            };
            match folded {
                Some((a0, a1)) => {
                    let _ = writeln!(w, "        let (a0, a1) = ({}, {});", lit(a0), lit(a1));
                }
                None => {
                    let _ = writeln!(
                        w,
                        "        let (a0, a1) = ({rt}::physics::Physics::affine(self, {}).dr_du, {rt}::physics::Physics::affine(self, {}).dr_du);",
                        lit(d.r_ir),
                        lit(d.r_uv)
                    );
                    let _ = writeln!(
                        w,
                        "        if !(a0.is_finite() && a1.is_finite()) {{ return None; }}"
                    );
                }
            }
        }
    }
    let _ = writeln!(w, "        let total = b * n;");
    for v in ["st_p", "st_q", "u_p", "u_q", "tg_p", "tg_q"] {
        let _ = writeln!(w, "        let mut {v} = vec![0f32; total];");
    }
    let _ = writeln!(w, "        let mut kc = [0f32; {MAX_PLANE}];");
    let _ = writeln!(w, "        let mut bad = 0u32;");
    let _ = writeln!(
        w,
        "        let nf = |v: f32| ((v.to_bits() & 0x7f80_0000) == 0x7f80_0000) as u32;"
    );
    let _ = writeln!(w, "        let mut rs = Vec::with_capacity(b);");
    let _ = writeln!(w, "        for i in 0..b {{");
    check_t(w, rt);
    let _ = writeln!(
        w,
        "            let r = {} + ti * {};",
        lit(d.r_ir),
        lit(span)
    );
    let _ = writeln!(w, "            rs.push(r);");
    // Path matrix rows m[row][col], rows [φ_t, π_t, U^φ, U^π], cols [φ0, π0, φ1, π1].
    match d.path {
        PathKind::Linear => {
            let _ = writeln!(w, "            let m: [[f64; 4]; 4] = [[1.0 - ti, 0.0, ti, 0.0], [0.0, 1.0 - ti, 0.0, ti], [-1.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 1.0]];");
        }
        PathKind::HermiteAffine | PathKind::HermiteRadial => {
            if d.path == PathKind::HermiteAffine {
                let _ = writeln!(
                    w,
                    "            let ap = {rt}::physics::Physics::affine(self, r);"
                );
                let _ = writeln!(
                    w,
                    "            let rc = {rt}::physics::Physics::radial(self, r);"
                );
                let _ = writeln!(
                    w,
                    "            let (u, a, bb) = (ap.u, ap.dr_du, ap.dr_du * ap.dr_du * rc.omega_prime / rc.omega);"
                );
            } else {
                let _ = writeln!(
                    w,
                    "            let (u, a, bb) = (ti, {}, 0.0_f64);",
                    lit(span)
                );
            }
            let _ = writeln!(
                w,
                "            if !(u.is_finite() && a.is_finite() && bb.is_finite()) || a == 0.0 {{ return Some(Err({rt}::Error::Invalid(format!(\"Hermite parameter at r = {{r}} is degenerate (u, dr/du, d²r/du²) = {{:?}}\", [u, a, bb])))); }}"
            );
            // Cubic Hermite basis h = [h00, h10, h01, h11] and its u-derivatives.
            let _ = writeln!(w, "            let (u2, u3) = (u * u, u * u * u);");
            let _ = writeln!(w, "            let h0 = [2.0 * u3 - 3.0 * u2 + 1.0, u3 - 2.0 * u2 + u, -2.0 * u3 + 3.0 * u2, u3 - u2];");
            let _ = writeln!(w, "            let h1 = [6.0 * u2 - 6.0 * u, 3.0 * u2 - 4.0 * u + 1.0, -6.0 * u2 + 6.0 * u, 3.0 * u2 - 2.0 * u];");
            let _ = writeln!(w, "            let h2 = [12.0 * u - 6.0, 6.0 * u - 4.0, -12.0 * u + 6.0, 6.0 * u - 2.0];");
            let _ = writeln!(w, "            let tan = [1.0, a0, 1.0, a1];");
            let _ = writeln!(w, "            let mut m = [[0.0f64; 4]; 4];");
            let _ = writeln!(w, "            for j in 0..4 {{");
            let _ = writeln!(w, "                let (x0, x1, x2) = (h0[j] * tan[j], h1[j] * tan[j], h2[j] * tan[j]);");
            let _ = writeln!(w, "                m[0][j] = x0;");
            let _ = writeln!(w, "                m[1][j] = x1 / a;");
            let _ = writeln!(w, "                m[2][j] = {} * x1 / a;", lit(span));
            let _ = writeln!(
                w,
                "                m[3][j] = {} * (x2 / (a * a) - bb * x1 / (a * a * a));",
                lit(span)
            );
            let _ = writeln!(w, "            }}");
        }
    }
    let backbone = d.alpha != 0.0;
    if backbone {
        backbone_coefficients(w, ty, rt, &lit(scale));
        let _ = writeln!(w, "            let s = {} as f32;", lit(scale));
    }
    let _ = writeln!(
        w,
        "            let m: [[f32; 4]; 4] = m.map(|row| row.map(|x| x as f32));"
    );
    let _ = writeln!(w, "            let kc = &kc[..hw];");
    let _ = writeln!(w, "            for ch in 0..channels {{");
    let _ = writeln!(w, "                let o = i * n + ch * hw;");
    let _ = writeln!(w, "                let (p0, q0, p1, q1) = (&p0[o..o + hw], &q0[o..o + hw], &p1[o..o + hw], &q1[o..o + hw]);");
    for v in ["st_p", "st_q", "u_p", "u_q", "tg_p", "tg_q"] {
        let _ = writeln!(w, "                let {v} = &mut {v}[o..o + hw];");
    }
    let _ = writeln!(w, "                for j in 0..hw {{");
    let _ = writeln!(
        w,
        "                    let (x0, y0, x1, y1) = (p0[j], q0[j], p1[j], q1[j]);"
    );
    let _ = writeln!(
        w,
        "                    bad |= nf(x0) | nf(y0) | nf(x1) | nf(y1);"
    );
    match d.path {
        PathKind::Linear => {
            let _ = writeln!(
                w,
                "                    let pt = m[0][0] * x0 + m[0][2] * x1;"
            );
            let _ = writeln!(
                w,
                "                    let qt = m[1][1] * y0 + m[1][3] * y1;"
            );
            let _ = writeln!(w, "                    let up = x1 - x0;");
            let _ = writeln!(w, "                    let uq = y1 - y0;");
        }
        _ => {
            for (v, row) in [("pt", 0), ("qt", 1), ("up", 2), ("uq", 3)] {
                let _ = writeln!(
                    w,
                    "                    let {v} = m[{row}][0] * x0 + m[{row}][1] * y0 + m[{row}][2] * x1 + m[{row}][3] * y1;"
                );
            }
        }
    }
    let _ = writeln!(
        w,
        "                    st_p[j] = pt; st_q[j] = qt; u_p[j] = up; u_q[j] = uq;"
    );
    if backbone {
        let _ = writeln!(w, "                    tg_p[j] = up - s * qt;");
        let _ = writeln!(
            w,
            "                    tg_q[j] = uq - (fr * qt + kc[j] * pt);"
        );
    } else {
        let _ = writeln!(w, "                    tg_p[j] = up; tg_q[j] = uq;");
    }
    let _ = writeln!(w, "                }}");
    let _ = writeln!(w, "            }}");
    let _ = writeln!(w, "        }}");
    let _ = writeln!(
        w,
        "        if bad != 0 {{ return Some(Err({rt}::Error::Invalid(\"path endpoints contain NaN or infinite values\".into()))); }}"
    );
    let _ = writeln!(
        w,
        "        let state = {rt}::physics::State {{ phi: {}, pi: {} }};",
        to_tensor(rt, "st_p"),
        to_tensor(rt, "st_q")
    );
    let _ = writeln!(
        w,
        "        let velocity = {rt}::physics::State {{ phi: {}, pi: {} }};",
        to_tensor(rt, "u_p"),
        to_tensor(rt, "u_q")
    );
    let _ = writeln!(
        w,
        "        let target = {rt}::physics::State {{ phi: {}, pi: {} }};",
        to_tensor(rt, "tg_p"),
        to_tensor(rt, "tg_q")
    );
    let _ = writeln!(
        w,
        "        Some(Ok(({rt}::path::PathSample {{ state, velocity, t: t.to_vec(), r: rs }}, target)))"
    );
    let _ = writeln!(w, "    }}");
}

/// `fused_velocity_t`: α·Δr·V_KG(S, r(t)) + residual in one pass (only emitted when α ≠ 0).
pub(super) fn velocity(w: &mut String, d: &Derived, ty: &str, rt: &str) {
    if d.alpha == 0.0 {
        return;
    }
    let span = d.r_uv - d.r_ir;
    let scale = d.alpha * span;
    let hermite = d.path != PathKind::Linear;
    let _ = writeln!(
        w,
        "    /// Fused backbone t-velocity + residual (CPU f32; `None` → generic code)."
    );
    let _ = writeln!(
        w,
        "    fn fused_velocity_t(&self, state: &{rt}::physics::State, t: &[f64], residual_t: &{rt}::physics::State, modes: &{rt}::physics::Modes) -> Option<{rt}::Result<{rt}::physics::State>> {{"
    );
    let mut tensors = vec![
        ("p", "state.phi"),
        ("q", "state.pi"),
        ("rq", "residual_t.pi"),
    ];
    if !hermite {
        tensors.push(("rp", "residual_t.phi"));
    } else {
        let _ = writeln!(
            w,
            "        if residual_t.phi.dims() != state.phi.dims() {{ return None; }}"
        );
    }
    prologue(w, ty, "state.phi", &tensors, "t");
    let _ = writeln!(w, "        let total = b * n;");
    let _ = writeln!(w, "        let mut vp = vec![0f32; total];");
    let _ = writeln!(w, "        let mut vq = vec![0f32; total];");
    let _ = writeln!(w, "        let mut kc = [0f32; {MAX_PLANE}];");
    let _ = writeln!(w, "        let mut bad = 0u32;");
    let _ = writeln!(
        w,
        "        let nf = |v: f32| ((v.to_bits() & 0x7f80_0000) == 0x7f80_0000) as u32;"
    );
    let _ = writeln!(w, "        let s = {} as f32;", lit(scale));
    let _ = writeln!(w, "        for i in 0..b {{");
    check_t(w, rt);
    let _ = writeln!(
        w,
        "            let r = {} + ti * {};",
        lit(d.r_ir),
        lit(span)
    );
    backbone_coefficients(w, ty, rt, &lit(scale));
    let _ = writeln!(w, "            let kc = &kc[..hw];");
    let _ = writeln!(w, "            for ch in 0..channels {{");
    let _ = writeln!(w, "                let o = i * n + ch * hw;");
    let _ = writeln!(
        w,
        "                let (p, q, rq) = (&p[o..o + hw], &q[o..o + hw], &rq[o..o + hw]);"
    );
    if !hermite {
        let _ = writeln!(w, "                let rp = &rp[o..o + hw];");
    }
    let _ = writeln!(
        w,
        "                let (vp, vq) = (&mut vp[o..o + hw], &mut vq[o..o + hw]);"
    );
    let _ = writeln!(w, "                for j in 0..hw {{");
    let _ = writeln!(
        w,
        "                    let (x, y, z) = (p[j], q[j], rq[j]);"
    );
    if hermite {
        let _ = writeln!(w, "                    bad |= nf(x) | nf(y) | nf(z);");
        let _ = writeln!(w, "                    vp[j] = s * y;");
    } else {
        let _ = writeln!(w, "                    let zp = rp[j];");
        let _ = writeln!(
            w,
            "                    bad |= nf(x) | nf(y) | nf(z) | nf(zp);"
        );
        let _ = writeln!(w, "                    vp[j] = s * y + zp;");
    }
    let _ = writeln!(w, "                    vq[j] = fr * y + kc[j] * x + z;");
    let _ = writeln!(w, "                }}");
    let _ = writeln!(w, "            }}");
    let _ = writeln!(w, "        }}");
    let _ = writeln!(
        w,
        "        if bad != 0 {{ return Some(Err({rt}::Error::Invalid(\"state or residual contains NaN or infinite values\".into()))); }}"
    );
    let _ = writeln!(
        w,
        "        Some(Ok({rt}::physics::State {{ phi: {}, pi: {} }}))",
        to_tensor(rt, "vp"),
        to_tensor(rt, "vq")
    );
    let _ = writeln!(w, "    }}");
}
