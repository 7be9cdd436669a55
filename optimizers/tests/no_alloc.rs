//! The epoch loop allocates nothing: every buffer (batch caches per batch size, gradients,
//! optimizer state, the epoch's order) is made in `Trainer::new`. Counted with a global
//! allocator, so this file holds a single test (its own process).

#![allow(non_snake_case)]

use optimizers::data::RngKind;
use optimizers::{Decay, Method, Setup};
use shared::testing::{CountingAlloc, allocations_during};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn epochs_allocate_nothing() {
    let (X, labels) = shared::data::moons::make_moons(1, 300, 0.2);
    let Y = optimizers::labels_row(&labels);
    // Both generators: numpy reseeds and reshuffles each epoch's order in place.
    for (method, rng) in Method::ALL
        .into_iter()
        .flat_map(|m| [(m, RngKind::Numpy), (m, RngKind::Chacha)])
    {
        let setup = Setup {
            rng,
            decay: Decay::Schedule {
                rate: 1.0,
                interval: 3,
            },
            ..Setup::default()
        };
        let mut tr = setup.trainer(method, 300).unwrap();
        let mut cost = 0.0;
        let n = allocations_during(|| {
            for _ in 0..20 {
                cost += tr.epoch(&X, &Y);
            }
        });
        assert!(cost.is_finite());
        assert_eq!(n, 0, "{} {rng:?}: allocations in 20 epochs", method.name());
    }
}
