//! What one product of `shared::kernels` allocates, the figure the chapters' allocation tests
//! build on: the `gemm` crate sizes its blocking from the CPU's caches and keeps a packing
//! buffer per thread on the first call; after that, each call allocates at most
//! [`PER_CALL`] small buffers of its own (packing flags, a buffer for a packed operand), none
//! for products with a dimension of 1. Its own test binary, because it counts the allocations
//! of the whole process.

use nalgebra::DMatrix;
use shared::kernels::{gemm, gemm_nt, gemm_tn};
use shared::testing::allocations_during;

#[global_allocator]
static ALLOC: shared::testing::CountingAlloc = shared::testing::CountingAlloc;

/// The most allocations one product makes after the first on its thread.
const PER_CALL: usize = 3;

#[test]
fn after_the_first_call_a_product_allocates_at_most_three_buffers() {
    let shapes = [
        (8, 8, 8),
        (65, 100, 25),
        (512, 128, 32),
        (30, 25, 5760),
        (256, 256, 256),
        (700, 600, 3),
        (1, 50, 7),
        (50, 1, 7),
        (50, 7, 1),
    ];
    // The first call on this thread sets up the crate's per-thread state.
    let warm = allocations_during(|| {
        gemm(
            1.0,
            &DMatrix::zeros(8, 8),
            &DMatrix::zeros(8, 8),
            0.0,
            &mut DMatrix::zeros(8, 8),
        )
    });
    assert!(warm > 0, "the counter counts");
    for (m, k, n) in shapes {
        let a = DMatrix::<f64>::from_element(m, k, 0.5);
        let b = DMatrix::<f64>::from_element(k, n, 0.25);
        let mut c = DMatrix::<f64>::zeros(m, n);
        let bt = b.transpose();
        let at = a.transpose();
        let counts = [
            allocations_during(|| gemm(1.0, &a, &b, 0.0, &mut c)),
            allocations_during(|| gemm_nt(1.0, &a, &bt, 1.0, &mut c)),
            allocations_during(|| gemm_tn(1.0, &at, &b, 1.0, &mut c)),
        ];
        assert_eq!(c[(0, 0)], 3.0 * 0.125 * k as f64, "{m}x{k}x{n}");
        let (a, b, mut c) = (
            a.map(|x| x as f32),
            b.map(|x| x as f32),
            c.map(|x| x as f32),
        );
        let f32_count = allocations_during(|| gemm(1.0f32, &a, &b, 0.0, &mut c));
        for n_alloc in counts.into_iter().chain([f32_count]) {
            assert!(
                n_alloc <= PER_CALL,
                "{m}x{k}x{n}: {counts:?}, f32 {f32_count}"
            );
        }
        if m == 1 || k == 1 || n == 1 {
            assert_eq!(counts[0], 0, "{m}x{k}x{n}");
        }
    }
}
