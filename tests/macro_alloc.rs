//! Heap allocations of the fused kernels of a `genads_model!` type, counted by a global allocator
//! (per thread, so that other tests do not interfere): a call allocates its output tensors (one
//! buffer of B·N f32 each, plus candle's small per-tensor bookkeeping) and, for a path sample, the
//! per-sample t and r (B f64 each); nothing else, and no allocation count grows with the batch.

use genads::runtime::physics::{Modes, Physics};
use genads::runtime::rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

#[path = "integration/macro_common/mod.rs"]
mod macro_common;

genads::genads_model!(file = "models/ads_kg_linear.genads");
genads::genads_model!(file = "models/ads_kg_hermite.genads");

struct Counting;

thread_local! {
    /// (allocations, bytes) made by this thread.
    static COUNT: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

fn record(bytes: usize) {
    // `try_with`: the thread-local may already be gone while the thread shuts down.
    let _ = COUNT.try_with(|c| {
        let (n, b) = c.get();
        c.set((n + 1, b + bytes));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// (allocations, bytes) made by `f` on this thread; the result is dropped outside the count.
fn counted<T>(f: impl FnOnce() -> T) -> (usize, usize) {
    let before = COUNT.with(Cell::get);
    let out = f();
    let after = COUNT.with(Cell::get);
    drop(out);
    (after.0 - before.0, after.1 - before.1)
}

/// Counts of the fused path+target and velocity calls of `model` on a batch of `shape`, after
/// checking that the fused kernels (not the generic fallback) ran.
fn counts(model: &dyn Physics, shape: &[usize]) -> [(usize, usize); 2] {
    let mut rng = rng::seeded(3);
    let s0 = macro_common::random_state(&mut rng, shape);
    let s1 = macro_common::random_state(&mut rng, shape);
    let residual = macro_common::random_state(&mut rng, shape);
    let modes: Modes = macro_common::modes(shape);
    let t: Vec<f64> = (0..shape[0]).map(|i| i as f64 / shape[0] as f64).collect();
    let ts = vec![0.5; shape[0]];
    let path = counted(|| {
        model
            .fused_path_target(&s0, &s1, &t, &modes)
            .expect("fused path kernel applies")
            .expect("path")
    });
    let velocity = counted(|| {
        model
            .fused_velocity_t(&s0, &ts, &residual, &modes)
            .expect("fused velocity kernel applies")
            .expect("velocity")
    });
    // A warm call allocates as the first one did (nothing is cached on first use).
    let again = counted(|| model.fused_velocity_t(&s0, &ts, &residual, &modes));
    assert_eq!(again, velocity, "second call");
    [path, velocity]
}

#[test]
fn fused_kernels_allocate_only_their_outputs() {
    for model in [&AdsKgLinear as &dyn Physics, &AdsKgHermite] {
        let small = counts(model, &[2, 4, 8, 8]);
        let large = counts(model, &[16, 4, 8, 8]);
        for (what, outputs, s, l) in [
            ("path+target", 6, small[0], large[0]),
            ("velocity", 2, small[1], large[1]),
        ] {
            eprintln!("{what}: B = 2: {s:?}, B = 16: {l:?} (allocations, bytes)");
            assert_eq!(s.0, l.0, "{what}: allocations grow with the batch");
            for (b, (_, bytes)) in [(2usize, s), (16, l)] {
                let data = outputs * b * 4 * 8 * 8 * 4;
                let per_sample = if outputs == 6 { 2 * 8 * b } else { 0 };
                // Candle's per-tensor bookkeeping (Arcs, shape and stride vectors) stays small.
                let slack = 512 * outputs;
                assert!(
                    bytes >= data && bytes <= data + per_sample + slack,
                    "{what}, B = {b}: {bytes} bytes allocated for {data} bytes of outputs"
                );
            }
        }
    }
}
