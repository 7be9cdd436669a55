//! The engine's hot loop allocates nothing of its own: in a forward + backward pass over a
//! sequence batch (cache made beforehand), the only heap allocations on this thread (counted by
//! a global allocator) are the small buffers the gemm crate takes inside a GEMM, at most three
//! per call (shared/tests/gemm_alloc.rs). At batch 1 the per-step products are matrix–vector
//! products in f64 (no allocation) and only the once-per-sequence GEMMs remain: one allocation
//! per step would break the bound; the same in f32.
#![allow(non_snake_case)]

use lstm_gru::fast::{FastCell, Grads, Kernels, Layer, narrow};
use lstm_gru::model::{Gru, Lstm, Rnn};
use nalgebra::DMatrix;
use shared::rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell as StdCell;

struct Counting;

thread_local! {
    static ALLOCATIONS: StdCell<usize> = const { StdCell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(|n| n.get())
}

fn allocations_in_one_pass<C: FastCell, F: Kernels>(B: usize, T: usize) -> usize {
    let (D, H) = (16, 32);
    let cell = C::new(D, H, &mut rng::seeded(1)).to_layer::<F>();
    let X: DMatrix<F> = narrow(&shared::init::uniform(
        D,
        T * B,
        -1.0,
        1.0,
        &mut rng::seeded(2),
    ));
    let dH: DMatrix<F> = narrow(&shared::init::uniform(
        H,
        T * B,
        -1.0,
        1.0,
        &mut rng::seeded(3),
    ));
    let mut cache = cell.fast_cache(T, B);
    let mut grads = Grads::zeros(&cell);
    let mut dX = DMatrix::zeros(D, T * B);
    let mut pass = |cache: &mut <C::Layer<F> as Layer<F>>::Cache, grads: &mut Grads<F>| {
        cell.forward_fast(X.columns(0, T * B), cache);
        cell.backward_fast(
            X.columns(0, T * B),
            cache,
            dH.columns(0, T * B),
            grads,
            Some(&mut dX),
        );
    };
    pass(&mut cache, &mut grads); // warm-up
    let before = allocations();
    pass(&mut cache, &mut grads);
    allocations() - before
}

/// The most allocations one GEMM makes (shared/tests/gemm_alloc.rs).
const PER_GEMM: usize = 3;

#[test]
fn the_only_allocations_are_the_gemm_buffers() {
    bounded::<f64>();
    bounded::<f32>();
}

fn bounded<F: Kernels>() {
    // Per sequence: the input part (1 GEMM), dW_hh (1; the GRU's is split in 2), dW_xh and dX
    // (2). Per step with B > 1: the recurrent product forward and its transpose backward (the
    // GRU has two of each: [z; r] and h̃).
    let dtype = F::DTYPE;
    for (B, T) in [(1, 10), (1, 20), (8, 10)] {
        let per_step = |products: usize| if B == 1 { 0 } else { products * T };
        let rnn = allocations_in_one_pass::<Rnn, F>(B, T);
        assert!(
            rnn <= PER_GEMM * (4 + per_step(2)),
            "rnn {dtype}, B {B}, T {T}: {rnn}"
        );
        let lstm = allocations_in_one_pass::<Lstm, F>(B, T);
        assert!(
            lstm <= PER_GEMM * (4 + per_step(2)),
            "lstm {dtype}, B {B}, T {T}: {lstm}"
        );
        let gru = allocations_in_one_pass::<Gru, F>(B, T);
        assert!(
            gru <= PER_GEMM * (5 + per_step(4)),
            "gru {dtype}, B {B}, T {T}: {gru}"
        );
    }
}
