//! The training step allocates nothing: every buffer (h_i over time, y_i, dz, the dW sums)
//! is made once by `Adder::buffers`. A counting global allocator checks it.

use rnn_adder::{Adder, Cost, Sequence};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Allocations made by this thread only: the test harness's own threads may allocate while
    // the test runs (a global count made this test fail now and then on a loaded machine).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

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
fn training_and_adding_allocate_nothing() {
    let mut model = Adder::new(16, &mut shared::rng::seeded(1));
    let mut seq = Sequence::new(8);
    let mut ws = model.buffers(8);
    let before = allocations();
    for k in 0..200u64 {
        seq.set(k % 128, (7 * k) % 128);
        for cost in [Cost::L2, Cost::Logistic] {
            model.train_step(&seq, cost, 0.1, &mut ws);
        }
        model.add(&seq, &mut ws);
    }
    assert_eq!(allocations(), before);
}
