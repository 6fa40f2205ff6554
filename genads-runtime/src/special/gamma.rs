//! The Gamma function (`genads_dsl::special`: Lanczos, g = 7, 9 terms, ≈ 1e-15 relative, with
//! reflection) and the Taylor series of 1/Γ(1 + x) used by Temme's Bessel series.

// The Lanczos and 1/Γ series coefficients are quoted to their published precision.
#![allow(clippy::excessive_precision)]

// Γ and ln Γ live in the language crate, which folds Γ into generated code; one implementation
// serves the interpreter and the code generator.
pub use genads_dsl::special::{gamma, ln_gamma};

/// Taylor coefficients c_k of 1/Γ(x) = Σ_{k≥1} c_k x^k (Abramowitz & Stegun 6.1.34, extended).
const RECIP_GAMMA: [f64; 26] = [
    1.0,
    0.577_215_664_901_532_860_6,
    -0.655_878_071_520_253_881_1,
    -0.042_002_635_034_095_235_5,
    0.166_538_611_382_291_489_5,
    -0.042_197_734_555_544_336_7,
    -0.009_621_971_527_876_973_6,
    0.007_218_943_246_663_099_5,
    -0.001_165_167_591_859_065_1,
    -0.000_215_241_674_114_950_97,
    0.000_128_050_282_388_116_19,
    -0.000_020_134_854_780_788_239,
    -0.000_001_250_493_482_142_670_7,
    0.000_001_133_027_231_981_695_9,
    -0.000_000_205_633_841_697_760_7,
    0.000_000_006_116_095_104_481_416,
    0.000_000_005_002_007_644_469_223,
    -0.000_000_001_181_274_570_487_02,
    0.000_000_000_104_342_671_169_11,
    0.000_000_000_007_782_263_439_905,
    -0.000_000_000_003_696_805_618_642,
    0.000_000_000_000_510_037_028_745,
    -0.000_000_000_000_020_583_260_536,
    -0.000_000_000_000_005_348_122_539,
    0.000_000_000_000_001_226_778_628,
    -0.000_000_000_000_000_118_125_930,
];

/// 1/Γ(1 + x) by its Taylor series, accurate to ≈ 1e-16 for |x| ≤ ½ (the range Temme's series uses).
pub fn recip_gamma_1p(x: f64) -> f64 {
    // 1/Γ(1 + x) = (1/x)·1/Γ(x) = Σ_{k≥1} c_k x^(k−1).
    RECIP_GAMMA.iter().rev().fold(0.0, |acc, c| acc * x + c)
}

/// Temme's Γ₁(μ) = (1/Γ(1−μ) − 1/Γ(1+μ)) / (2μ) and Γ₂(μ) = (1/Γ(1−μ) + 1/Γ(1+μ)) / 2,
/// both without cancellation (even/odd parts of the series), for |μ| ≤ ½.
pub(crate) fn temme_gammas(mu: f64) -> (f64, f64) {
    let mu2 = mu * mu;
    // Odd part: (g(−μ) − g(μ))/(2μ) = −Σ_j c_{2j+2} μ^(2j); even part: Σ_j c_{2j+1} μ^(2j).
    let mut odd = 0.0;
    let mut even = 0.0;
    for j in (0..RECIP_GAMMA.len() / 2).rev() {
        odd = odd * mu2 + RECIP_GAMMA[2 * j + 1];
        even = even * mu2 + RECIP_GAMMA[2 * j];
    }
    (-odd, even)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn gamma_known_values() {
        assert_eq!(gamma(1.0), 1.0);
        assert_eq!(gamma(5.0), 24.0);
        assert!(rel(gamma(0.5), PI.sqrt()) < 1e-14);
        assert!(rel(gamma(1.5), 0.5 * PI.sqrt()) < 1e-14);
        // Γ(1/3), Γ(1/4) (DLMF 5.4.iii values), Γ(−1/2) = −2√π.
        assert!(rel(gamma(1.0 / 3.0), 2.678_938_534_707_747_6) < 1e-14);
        assert!(rel(gamma(0.25), 3.625_609_908_221_908_3) < 1e-14);
        assert!(rel(gamma(-0.5), -2.0 * PI.sqrt()) < 1e-14);
        assert!(rel(gamma(10.5), 1_133_278.388_948_785_6) < 1e-13);
        assert!(gamma(0.0).is_nan() && gamma(-3.0).is_nan());
        assert!(gamma(200.0).is_infinite());
    }

    #[test]
    fn gamma_recurrence_and_log() {
        for i in 0..50 {
            let x = 0.05 + 0.37 * i as f64;
            assert!(rel(gamma(x + 1.0), x * gamma(x)) < 2e-14, "x = {x}");
            assert!((ln_gamma(x) - gamma(x).abs().ln()).abs() < 1e-13 * (1.0 + ln_gamma(x).abs()));
        }
    }

    #[test]
    fn recip_series_matches_lanczos() {
        assert!(rel(recip_gamma_1p(0.5), 2.0 / PI.sqrt()) < 1e-15);
        assert!(rel(recip_gamma_1p(-0.5), 1.0 / PI.sqrt()) < 1e-15);
        for i in 0..=20 {
            let x = -0.5 + 0.05 * i as f64;
            assert!(
                rel(recip_gamma_1p(x), 1.0 / gamma(1.0 + x)) < 1e-14,
                "x = {x}"
            );
            let (g1, g2) = temme_gammas(x);
            if x.abs() > 0.1 {
                let direct = (1.0 / gamma(1.0 - x) - 1.0 / gamma(1.0 + x)) / (2.0 * x);
                assert!((g1 - direct).abs() < 1e-13, "x = {x}");
            }
            let direct2 = (1.0 / gamma(1.0 - x) + 1.0 / gamma(1.0 + x)) / 2.0;
            assert!((g2 - direct2).abs() < 1e-14);
        }
        // Γ₁(0) = −γ_E.
        assert!((temme_gammas(0.0).0 + 0.577_215_664_901_532_9).abs() < 1e-16);
    }
}
