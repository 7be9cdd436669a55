//! `fast::Cache::with_threads`: the products with V on several threads give the same training
//! run.
#![allow(non_snake_case)]

use rnn_lm::fast::{self, Cache, Net, Scalar};
use rnn_lm::train::{Evaluation, Position, Schedule, train_with_sgd};
use rnn_lm::{Bptt, Rnn};
use shared::kernels::softmax::softmax_mut;
use shared::kernels::tall::{LANES, tall_gemm};
use shared::kernels::threads::MIN_WORK_PER_THREAD;
use shared::parallel::MAX_THREADS;
use shared::rng;

/// Sizes at which every step is split: N_x · N_h · T ≥ 2 · MIN_WORK_PER_THREAD for T ≥ 20.
const N_X: usize = 2000;
const N_H: usize = 100;

/// Random sentences of 20 to 29 tokens (inputs and targets).
fn sentences() -> Vec<Vec<usize>> {
    const {
        assert!(
            N_X * N_H * 20 >= 2 * MIN_WORK_PER_THREAD,
            "the test must split the work"
        )
    };
    let mut r = rng::seeded(5);
    (0..8)
        .map(|_| {
            let n = 21 + rng::below(&mut r, 10);
            (0..n).map(|_| rng::below(&mut r, N_X)).collect()
        })
        .collect()
}

/// Four epochs of SGD on `threads` threads: the evaluations (loss curve), the per-step losses
/// and the trained model.
fn run(threads: usize, bptt: Bptt) -> (Vec<Evaluation>, Vec<f64>, Net<f64>) {
    let data = sentences();
    let pairs: Vec<(&[usize], &[usize])> =
        data.iter().map(|s| (&s[..s.len() - 1], &s[1..])).collect();
    let mut model = Net::from(Rnn::new(N_X, N_H, &mut rng::seeded(10)));
    let mut cache = Cache::new(&model, 8).with_threads(threads).unwrap();
    assert_eq!(cache.threads(), threads);
    let schedule = Schedule {
        lr: 0.1,
        epochs: 4,
        eval_every: 1,
        bptt,
    };
    let mut steps = Vec::new();
    let history = train_with_sgd(
        &mut model,
        &pairs,
        &schedule,
        Position::default(),
        &mut cache,
        |_, _| Ok(()),
        |_, loss| {
            steps.push(loss);
            true
        },
    )
    .unwrap()
    .history;
    (history, steps, model)
}

#[test]
fn two_threads_train_exactly_as_one() {
    for bptt in [Bptt::Truncated(4), Bptt::Full] {
        let (h1, s1, m1) = run(1, bptt);
        let (h2, s2, m2) = run(2, bptt);
        // The run learns (so that the comparison is of something that moves) ...
        assert!(h1[4].loss < h1[0].loss - 0.2, "{bptt:?}: {h1:?}");
        // ... and the loss curve on two threads is the one-thread curve to 1e-9 (relative) ...
        assert_eq!(h1.len(), h2.len());
        for (a, b) in h1
            .iter()
            .zip(&h2)
            .map(|(a, b)| (a.loss, b.loss))
            .chain(s1.iter().copied().zip(s2.iter().copied()))
        {
            assert!((a - b).abs() <= 1e-9 * a.abs(), "{bptt:?}: {a} vs {b}");
        }
        // ... in fact bit for bit, as are the weights: each entry is computed by one thread with
        // the same chain of operations.
        assert_eq!(h1, h2, "{bptt:?}");
        assert_eq!(s1, s2, "{bptt:?}");
        assert!(m1 == m2, "{bptt:?}: the weights differ");
    }
}

#[test]
fn more_threads_than_cores_still_give_the_same_weights() {
    // 3 threads cut N_h = 100 into 33 + 33 + 34 columns and T into uneven parts.
    let (h1, _, m1) = run(1, Bptt::Truncated(4));
    let (h3, _, m3) = run(3, Bptt::Truncated(4));
    assert_eq!(h1, h3);
    assert!(m1 == m3);
}

#[test]
fn two_thread_runs_are_deterministic() {
    let (h_a, s_a, m_a) = run(2, Bptt::Truncated(4));
    let (h_b, s_b, m_b) = run(2, Bptt::Truncated(4));
    assert_eq!(h_a, h_b);
    assert_eq!(s_a, s_b);
    let bytes = |m: &Net<f64>| -> Vec<u8> {
        [&m.U, &m.W, &m.V]
            .iter()
            .flat_map(|w| w.iter().flat_map(|v| v.to_le_bytes()))
            .collect()
    };
    assert_eq!(bytes(&m_a), bytes(&m_b));
}

#[test]
fn the_threaded_products_equal_the_kernels() {
    // N_x · N_h · T = 8000 · 100 · 20: split in two for both products.
    let (m, k, n) = (8000, 100, 20);
    let mut r = rng::seeded(7);
    let V = shared::init::uniform(m, k, -0.1, 0.1, &mut r); // N_x × N_h
    let Ht = shared::init::uniform(n, k, -1.0, 1.0, &mut r); // T × N_h
    let H = Ht.transpose(); // N_h × T
    let dY = shared::init::uniform(m, n, -1e-3, 1e-3, &mut r); // N_x × T
    let (mut Y1, mut Y2) = (vec![0.0; m * n], vec![f64::NAN; m * n]);
    fast::scores_softmax(V.as_slice(), Ht.as_slice(), &mut Y1, m, k, n, 1);
    fast::scores_softmax(V.as_slice(), Ht.as_slice(), &mut Y2, m, k, n, 2);
    assert!(Y1 == Y2);
    // And it is Y = V H with a softmax per column.
    let mut y0 = vec![0.0; m];
    tall_gemm(V.as_slice(), &H.as_slice()[..k], &mut y0, m, k, 1);
    softmax_mut(&mut y0);
    assert!(y0 == Y1[..m]);
    let mut out = Vec::new();
    for threads in [1, 2] {
        let mut V = V.as_slice().to_vec();
        let mut Z = vec![f64::NAN; k * n];
        let mut P = vec![[f64::NAN; LANES]; k * n];
        let (dY, H) = (dY.as_slice(), H.as_slice());
        f64::output_backward(&mut V, dY, H, 0.3, &mut Z, &mut P, m, k, n, threads);
        out.push((V, Z));
    }
    assert!(out[0] == out[1]);
}

#[test]
fn thread_counts_out_of_range_are_errors() {
    let model = Net::from(Rnn::new(10, 3, &mut rng::seeded(1)));
    for bad in [0, MAX_THREADS + 1] {
        let e = Cache::new(&model, 2).with_threads(bad).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("--threads") && e.contains(&format!("not {bad}")),
            "{e}"
        );
    }
    assert_eq!(Cache::new(&model, 2).threads(), 1);
}
