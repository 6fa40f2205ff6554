//! Special functions in f64: Γ (Lanczos) and the modified Bessel functions K_ν, I_ν of real order
//! (Temme's series for x ≤ 2, Steed's continued fraction CF2 for x > 2, CF1 + Wronskian for I_ν,
//! forward recurrence from μ ∈ [−½, ½] to ν).

mod bessel;
mod gamma;

pub use bessel::{bessel_i, bessel_ik, bessel_k, bessel_k_scaled, BesselIK};
pub use gamma::{gamma, ln_gamma, recip_gamma_1p};
