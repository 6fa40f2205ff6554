//! Fuzz the whole front end: any bytes, read as (lossy) UTF-8, must compile or give diagnostics
//! that render, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    if let Err(diagnostics) = genads_dsl::compile(&source, "fuzz.genads") {
        let _ = diagnostics.to_string();
    }
});
