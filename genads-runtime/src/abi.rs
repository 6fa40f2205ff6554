//! The interface of `genads_model!` output: every runtime item the generated code names, and the
//! only runtime module it names. Renaming or moving anything behind these re-exports keeps
//! generated code compiling; changing this list is a change of the ABI, which the test
//! `tests/runtime/abi.rs` pins.

pub use crate::envelope::{
    ads_envelope_reference, flat_envelope_reference, numerical_envelope_of, REFERENCE_EPS,
};
pub use crate::interpreter::quadrature::IntegralTable;
pub use crate::physics::fused::{path_target, velocity_t, Folded, PathMatrix};
pub use crate::physics::{
    AffinePoint, CompiledModel, Constants, Encoding, Modes, PathKind, PathSample, Physics, Prior,
    PriorComponent, Propagator, RadialCoefficients, State,
};
pub use crate::special::bessel_k;
pub use crate::{Error, Result};
