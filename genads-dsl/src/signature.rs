//! The stable signature of a derived model: SHA-256 (hex) of a canonical serialisation of the
//! physics — constants by their f64 bit patterns, expressions by `Expr::canonical`. The model's
//! name, its parameter values and the signature itself are not part of it: two models with the
//! same physics share a signature.

use crate::derived::*;
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// Version tag of the serialisation; bump when it changes.
const FORMAT: &str = "genads-signature-v1";

/// The canonical serialisation hashed by [`signature`].
pub fn canonical_form(m: &Derived) -> String {
    let mut s = String::new();
    let num = |s: &mut String, key: &str, v: f64| {
        let _ = writeln!(s, "{key}={:016x}", v.to_bits());
    };
    let _ = writeln!(s, "{FORMAT}");
    let _ = writeln!(s, "d={}", m.constants.d);
    num(&mut s, "delta", m.constants.delta);
    num(&mut s, "m2", m.constants.m2);
    num(&mut s, "nu", m.constants.nu);
    let _ = writeln!(s, "massless={}", m.massless);
    num(&mut s, "r_ir", m.constants.r_ir);
    num(&mut s, "r_uv", m.constants.r_uv);
    num(&mut s, "alpha", m.constants.alpha);
    let _ = writeln!(s, "stabilised={}", m.constants.stabilised);
    let _ = writeln!(s, "path={:?}", m.constants.path);
    for (key, c) in [("phi", m.constants.prior.phi), ("pi", m.constants.prior.pi)] {
        num(&mut s, &format!("prior.{key}.scale"), c.scale);
        num(&mut s, &format!("prior.{key}.power"), c.sobolev_power);
    }
    let _ = writeln!(s, "encoding={:?}", m.constants.encoding);
    num(&mut s, "lift", m.constants.lift_noise);
    let _ = writeln!(s, "normalisation={:?}", m.normalisation);
    let _ = writeln!(s, "omega_weighting={}", m.constants.omega_weighting);
    for (key, e) in [
        ("warp", &m.warp),
        ("omega", &m.omega),
        ("omega_prime", &m.omega_prime),
        ("friction", &m.friction),
        ("inv_f2", &m.inv_f2),
    ] {
        let _ = writeln!(s, "{key}={}", e.canonical());
    }
    for (key, b) in [("backbone", &m.backbone), ("raw", &m.backbone_unstabilised)] {
        let _ = writeln!(s, "{key}.friction={}", b.friction.canonical());
        let _ = writeln!(s, "{key}.laplacian={}", b.laplacian.canonical());
        let _ = writeln!(s, "{key}.mass={}", b.mass.canonical());
    }
    match &m.affine {
        Affine::ClosedForm { u, dr_du, z, .. } => {
            let _ = writeln!(s, "affine.u={}", u.canonical());
            let _ = writeln!(s, "affine.dr_du={}", dr_du.canonical());
            num(&mut s, "affine.z", *z);
        }
        Affine::Numerical => {
            let _ = writeln!(s, "affine=numerical");
        }
    }
    match &m.constants.propagator {
        Propagator::Ads { nu } => num(&mut s, "propagator.ads.nu", *nu),
        Propagator::PowerLaw { p, beta } => {
            num(&mut s, "propagator.power_law.p", *p);
            num(&mut s, "propagator.power_law.beta", *beta);
        }
        Propagator::Flat { mass2 } => num(&mut s, "propagator.flat.mass2", *mass2),
        Propagator::Numerical => {
            let _ = writeln!(s, "propagator=numerical");
        }
    }
    s
}

/// SHA-256 hex digest of [`canonical_form`].
pub fn signature(m: &Derived) -> String {
    let digest = Sha256::digest(canonical_form(m).as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
