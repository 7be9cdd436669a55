//! The training iteration allocates nothing of its own once its buffers exist: the only
//! allocations left are the buffers the GEMM kernels take inside each of the four GEMMs (its
//! own test binary, because it counts the allocations of the whole process).

use char_rnn::train::{Config, Trainer};
use char_rnn::vocab::Text;
use shared::rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Only the test's own thread is counted (the harness allocates on its threads too).
    static COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn count() {
    if COUNTED.with(|c| c.get()) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn an_iteration_allocates_nothing_but_the_gemm_buffers() {
    COUNTED.with(|c| c.set(true));
    // What one GEMM allocates inside the gemm crate, after the first call on this thread
    // (which sets up the crate's per-thread packing buffer).
    let a = nalgebra::DMatrix::from_element(65, 100, 0.5);
    let b = nalgebra::DMatrix::from_element(100, 25, 0.25);
    let mut c = nalgebra::DMatrix::zeros(65, 25);
    shared::kernels::gemm(1.0, &a, &b, 0.0, &mut c);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    shared::kernels::gemm(1.0, &a, &b, 0.0, &mut c);
    let per_gemm = ALLOCATIONS.load(Ordering::SeqCst) - before;
    // A product with a transposed left operand (Vᵀ dY) runs on matrixmultiply instead (its
    // packing buffer).
    let dy = nalgebra::DMatrix::from_element(65, 25, 0.25);
    let mut dz = nalgebra::DMatrix::zeros(100, 25);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    shared::kernels::gemm_tn(1.0, &a, &dy, 0.0, &mut dz);
    let per_gemm_tn = ALLOCATIONS.load(Ordering::SeqCst) - before;

    let alphabet: Vec<char> = (0..65u8).map(|i| (b'!' + i) as char).collect();
    let mut r = rng::seeded(1);
    let raw: String = (0..5_000)
        .map(|_| alphabet[rng::below(&mut r, 65)])
        .collect();
    let text = Text::new(&raw, 25, "random").unwrap();
    let mut t = Trainer::<f64>::new(65, Config::default(), 1).unwrap();
    // The first step creates Adagrad's memories; the history grows every 10 iterations.
    t.step(&text).unwrap();
    t.history.reserve(1000);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..150 {
        t.step(&text).unwrap();
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    // Four GEMMs per iteration: V S, dY Sᵀ, dZ Sᵀ and Vᵀ dY.
    assert_eq!(
        after - before,
        150 * (3 * per_gemm + per_gemm_tn),
        "allocations in 150 iterations"
    );
}
