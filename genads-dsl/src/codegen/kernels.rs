//! The fused batch methods of a generated model: the path sample + training target of a training
//! step (`fused_path_target`) and the backbone t-velocity of a sampling step (`fused_velocity_t`).
//!
//! Each is a call of the runtime's generic one-pass CPU f32 kernel (`physics::fused`) with the
//! model's folded constants (r_IR, Δr, α·Δr, path kind) in a `const`, and the generated
//! straight-line `radial` and path matrix as closures: the kernel is monomorphised and inlined
//! into the crate that expands the macro, so the constants fold into the loops. The kernel
//! returns `None` (the runtime's generic tensor code runs instead) when its fast path does not
//! apply (non-CPU or non-f32 tensors, non-contiguous layouts, unusual |k|² shapes).

use super::lit;
use crate::derived::{Affine, Derived, PathKind};
use std::fmt::Write as _;

/// The runtime's name of a path kind.
fn path_kind(rt: &str, kind: PathKind) -> String {
    let variant = match kind {
        PathKind::Linear => "Linear",
        PathKind::HermiteAffine => "HermiteAffine",
        PathKind::HermiteRadial => "HermiteRadial",
    };
    format!("{rt}::abi::PathKind::{variant}")
}

/// Inherent items of the generated type used by its fused methods: the folded constants and the
/// path matrix M(t) at r = r(t).
pub(super) fn helpers(w: &mut String, d: &Derived, ty: &str, rt: &str) {
    let span = d.r_uv - d.r_ir;
    let _ = writeln!(w, "#[allow(unused, clippy::all)]");
    let _ = writeln!(w, "impl {ty} {{");
    let _ = writeln!(w, "    /// Constants folded into the fused kernels.");
    let _ = writeln!(w, "    #[doc(hidden)]");
    let _ = writeln!(
        w,
        "    const __GENADS_FOLDED: {rt}::abi::Folded = {rt}::abi::Folded {{ r_ir: {}, span: {}, scale: {}, path: {} }};",
        lit(d.r_ir),
        lit(span),
        lit(d.alpha * span),
        path_kind(rt, d.path)
    );
    let _ = writeln!(
        w,
        "    /// Path matrix M(t) at r = r(t): rows [φ_t, π_t, U^φ, U^π], columns [φ₀, π₀, φ₁, π₁]."
    );
    let _ = writeln!(w, "    #[doc(hidden)]");
    let _ = writeln!(w, "    #[inline]");
    let _ = writeln!(
        w,
        "    fn __genads_path_matrix(&self, ti: f64, r: f64) -> {rt}::abi::Result<{rt}::abi::PathMatrix> {{"
    );
    match d.path {
        PathKind::Linear => {
            let _ = writeln!(w, "        Ok([[1.0 - ti, 0.0, ti, 0.0], [0.0, 1.0 - ti, 0.0, ti], [-1.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 1.0]])");
        }
        PathKind::HermiteAffine | PathKind::HermiteRadial => hermite_matrix(w, d, rt),
    }
    let _ = writeln!(w, "    }}");
    let _ = writeln!(w, "}}\n");
}

/// Body of `__genads_path_matrix` for Hermite paths: the cubic Hermite basis at u(r) with the
/// endpoint tangents dr/du(r_IR), dr/du(r_UV) folded to literals when the affine parameter has a
/// closed form.
fn hermite_matrix(w: &mut String, d: &Derived, rt: &str) {
    let span = d.r_uv - d.r_ir;
    let err = |what: &str, args: &str| {
        format!("return Err({rt}::abi::Error::Invalid(format!(\"{what}\", {args})));")
    };
    if d.path == PathKind::HermiteRadial {
        let _ = writeln!(w, "        let (a0, a1) = ({}, {});", lit(span), lit(span));
        let _ = writeln!(w, "        let (u, a, bb) = (ti, {}, 0.0_f64);", lit(span));
    } else {
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
                    "        let (a0, a1) = ({rt}::abi::Physics::affine(self, {}).dr_du, {rt}::abi::Physics::affine(self, {}).dr_du);",
                    lit(d.r_ir),
                    lit(d.r_uv)
                );
                let _ = writeln!(
                    w,
                    "        if !(a0.is_finite() && a1.is_finite()) {{ {} }}",
                    err(
                        "non-finite Hermite endpoint tangents dr/du = ({}, {})",
                        "a0, a1"
                    )
                );
            }
        }
        let _ = writeln!(w, "        let ap = {rt}::abi::Physics::affine(self, r);");
        let _ = writeln!(w, "        let rc = {rt}::abi::Physics::radial(self, r);");
        let _ = writeln!(
            w,
            "        if rc.omega == 0.0 {{ {} }}",
            err("ω({}) = 0: affine path undefined", "r")
        );
        let _ = writeln!(
            w,
            "        let (u, a, bb) = (ap.u, ap.dr_du, ap.dr_du * ap.dr_du * rc.omega_prime / rc.omega);"
        );
    }
    let _ = writeln!(
        w,
        "        if !(u.is_finite() && a.is_finite() && bb.is_finite()) || a == 0.0 {{ {} }}",
        err(
            "Hermite parameter at r = {} is degenerate (u, dr/du, d²r/du²) = {:?}",
            "r, [u, a, bb]"
        )
    );
    // Cubic Hermite basis h = [h00, h10, h01, h11] and its first and second u-derivatives.
    let _ = writeln!(w, "        let (u2, u3) = (u * u, u * u * u);");
    let _ = writeln!(w, "        let h0 = [2.0 * u3 - 3.0 * u2 + 1.0, u3 - 2.0 * u2 + u, -2.0 * u3 + 3.0 * u2, u3 - u2];");
    let _ = writeln!(w, "        let h1 = [6.0 * u2 - 6.0 * u, 3.0 * u2 - 4.0 * u + 1.0, -6.0 * u2 + 6.0 * u, 3.0 * u2 - 2.0 * u];");
    let _ = writeln!(
        w,
        "        let h2 = [12.0 * u - 6.0, 6.0 * u - 4.0, -12.0 * u + 6.0, 6.0 * u - 2.0];"
    );
    let _ = writeln!(w, "        let tan = [1.0, a0, 1.0, a1];");
    let _ = writeln!(w, "        let mut m = [[0.0f64; 4]; 4];");
    let _ = writeln!(w, "        for j in 0..4 {{");
    let _ = writeln!(
        w,
        "            let (x0, x1, x2) = (h0[j] * tan[j], h1[j] * tan[j], h2[j] * tan[j]);"
    );
    let _ = writeln!(w, "            m[0][j] = x0;");
    let _ = writeln!(w, "            m[1][j] = x1 / a;");
    let _ = writeln!(w, "            m[2][j] = {} * x1 / a;", lit(span));
    let _ = writeln!(
        w,
        "            m[3][j] = {} * (x2 / (a * a) - bb * x1 / (a * a * a));",
        lit(span)
    );
    let _ = writeln!(w, "        }}");
    let _ = writeln!(w, "        Ok(m)");
}

/// `fused_path_target` and (when α ≠ 0) `fused_velocity_t` of the `Physics` impl.
pub(super) fn fused_methods(w: &mut String, d: &Derived, ty: &str, rt: &str) {
    let state = format!("{rt}::abi::State");
    let modes = format!("{rt}::abi::Modes");
    let radial = format!("|r: f64| {rt}::abi::Physics::radial(self, r)");
    let _ = writeln!(
        w,
        "    /// Fused path sample + training target (CPU f32; `None` → generic code)."
    );
    let _ = writeln!(w, "    #[inline]");
    let _ = writeln!(
        w,
        "    fn fused_path_target(&self, s0: &{state}, s1: &{state}, t: &[f64], modes: &{modes}) -> Option<{rt}::abi::Result<({rt}::abi::PathSample, {state})>> {{"
    );
    let _ = writeln!(
        w,
        "        {rt}::abi::path_target(&{ty}::__GENADS_FOLDED, {radial}, |ti: f64, r: f64| {ty}::__genads_path_matrix(self, ti, r), s0, s1, t, modes)"
    );
    let _ = writeln!(w, "    }}");
    if d.alpha == 0.0 {
        return;
    }
    let _ = writeln!(
        w,
        "    /// Fused backbone t-velocity + residual (CPU f32; `None` → generic code)."
    );
    let _ = writeln!(w, "    #[inline]");
    let _ = writeln!(
        w,
        "    fn fused_velocity_t(&self, state: &{state}, t: &[f64], residual_t: &{state}, modes: &{modes}) -> Option<{rt}::abi::Result<{state}>> {{"
    );
    let _ = writeln!(
        w,
        "        {rt}::abi::velocity_t(&{ty}::__GENADS_FOLDED, {radial}, state, t, residual_t, modes)"
    );
    let _ = writeln!(w, "    }}");
}
