//! The training step allocates nothing: every buffer (h_i over time, y_i, dz, the dW sums)
//! is made once by `Adder::buffers`. A counting global allocator checks it.

use rnn_adder::{Adder, Cost, Sequence};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn training_and_adding_allocate_nothing() {
    let mut model = Adder::new(16, &mut shared::rng::seeded(1));
    let mut seq = Sequence::new(8);
    let mut ws = model.buffers(8);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for k in 0..200u64 {
        seq.set(k % 128, (7 * k) % 128);
        for cost in [Cost::L2, Cost::Logistic] {
            model.train_step(&seq, cost, 0.1, &mut ws);
        }
        model.add(&seq, &mut ws);
    }
    // (This is the only test in this file: no other thread allocates meanwhile.)
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed), before);
}
