//! The training loop allocates nothing of its own: after the first batch (which sizes the
//! optimizer's velocities), an epoch of [`train_epoch`] (forward, backward, momentum update,
//! the divergence checks) makes no heap allocation but the GEMMs' own: the gemm crate allocates
//! at most three small buffers in a call (shared/tests/gemm_alloc.rs), six GEMMs per batch.

use ngram_lm::{Gram, Hyper, Trainer, train_epoch};
use shared::rng;

#[global_allocator]
static ALLOC: shared::testing::CountingAlloc = shared::testing::CountingAlloc;

#[test]
fn an_epoch_allocates_only_the_gemm_buffers() {
    let mut r = rng::seeded(2);
    let grams: Vec<Gram> = (0..2_000)
        .map(|_| std::array::from_fn(|_| rng::below(&mut r, 40)))
        .collect();
    let hyper = Hyper {
        embed: 6,
        hidden: 10,
        batch: 10,
        ..Hyper::default()
    };
    let mut t = Trainer::<f64>::new(40, &hyper, &mut rng::seeded(1)).unwrap();
    t.step(&grams[..10]);
    let mut reports = 0;
    let n = shared::testing::allocations_during(|| {
        train_epoch(&mut t, &grams, &[], hyper.batch, |_| reports += 1).unwrap();
    });
    assert_eq!((t.steps, reports), (201, 2)); // Train events at batches 100 and 200
    println!("{n} allocations in 200 batches");
    assert!(
        n <= 3 * 6 * 200,
        "{n} allocations in an epoch of 200 batches"
    );
    // The counter works: one GEMM allocates (the gemm crate's packing flags).
    let (a, b) = (
        nalgebra::DMatrix::<f64>::zeros(8, 8),
        nalgebra::DMatrix::<f64>::zeros(8, 8),
    );
    let mut c = nalgebra::DMatrix::<f64>::zeros(8, 8);
    let n = shared::testing::allocations_during(|| shared::kernels::gemm(1.0, &a, &b, 0.0, &mut c));
    assert!((1..=3).contains(&n), "{n} allocations in one GEMM");
}
