//! The epoch loop allocates nothing: every buffer (batch caches per batch size, gradients,
//! optimizer state, the epoch's order) is made in `Trainer::new`. Counted with a global
//! allocator, so this file holds a single test (its own process).

#![allow(non_snake_case)]

use optimizers::{Decay, Method, Setup};
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
fn epochs_allocate_nothing() {
    let (X, labels) = shared::data::moons::make_moons(1, 300, 0.2);
    let Y = optimizers::labels_row(&labels);
    for method in Method::ALL {
        let setup = Setup {
            decay: Decay::Schedule {
                rate: 1.0,
                interval: 3,
            },
            ..Setup::default()
        };
        let mut tr = setup.trainer(method, 300).unwrap();
        let before = allocations();
        let mut cost = 0.0;
        for _ in 0..20 {
            cost += tr.epoch(&X, &Y);
        }
        let after = allocations();
        assert!(cost.is_finite());
        assert_eq!(
            after - before,
            0,
            "{}: allocations in 20 epochs",
            method.name()
        );
    }
}
