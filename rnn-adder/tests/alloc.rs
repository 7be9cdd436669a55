//! The training step allocates nothing: every buffer (the example, h_i over time, y_i in the
//! `Cache`; dz and the dW sums in `Grads`) is made once by `Adder::cache` and `Adder::grads`. A counting global allocator checks it.

use rnn_adder::{Adder, Cost, Sequence};
use shared::testing::{CountingAlloc, allocations_during};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn training_and_adding_allocate_nothing() {
    let mut model = Adder::new(16, &mut shared::rng::seeded(1));
    let mut seq = Sequence::new(8);
    let (mut cache, mut g) = (model.cache(8), model.grads());
    let n = allocations_during(|| {
        for k in 0..200u64 {
            seq.set(k % 128, (7 * k) % 128);
            for cost in [Cost::L2, Cost::Logistic] {
                model.train_step(&seq, cost, 0.1, &mut cache, &mut g);
            }
            model.add(&seq, &mut cache);
        }
    });
    assert_eq!(n, 0);
}
