//! `--groups N`: the mini-batch's sequences split over N threads give the run of one thread
//! up to rounding (1e-9 relative on every loss of the curve), the same bits on a repeat, and
//! the checkpoint (carried states included) of a run split over two threads continues exactly.
#![allow(non_snake_case)]

use lstm_gru::data::adding_batch;
use lstm_gru::fast::adding::FastAdding;
use lstm_gru::fast::parallel::AddingParallel;
use lstm_gru::fast::{Cache, FastCell};
use lstm_gru::model::{AddingNet, Gru, Lstm};
use lstm_gru::train::{AddingConfig, Eval, TextConfig, Training, train_adding, train_text};
use shared::data::text::CharStream;
use shared::rng;
use shared::run::Progress;

fn quiet() -> Progress {
    Progress::new(0, "", false)
}

/// |a − b| ≤ 1e-9 · max(|a|, |b|), for two curves of the same length.
fn close(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    assert!(!a.is_empty(), "{what}: empty");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        let tol = 1e-9 * x.abs().max(y.abs());
        assert!((x - y).abs() <= tol, "{what} point {k}: {x} vs {y}");
    }
}

fn adding_cfg(batch: usize, threads: usize) -> AddingConfig {
    AddingConfig {
        T: 12,
        hidden: 8,
        layers: 2,
        batch,
        steps: 6,
        lr: 0.01,
        clip: 1.0,
        eval_every: 2,
        test_size: 16,
        threads,
    }
}

/// Training and held-out MSE curves of a short adding run.
fn adding_curves<C: FastCell>(batch: usize, threads: usize) -> Vec<f64> {
    let (out, result) = train_adding::<C, f64>(&adding_cfg(batch, threads), 3, &quiet());
    result.unwrap();
    let mut v: Vec<f64> = out.train_mse.points.iter().map(|p| p.1).collect();
    v.extend(out.test_mse.points.iter().map(|p| p.1));
    v
}

fn adding_case<C: FastCell>() {
    // 7 sequences: groups of 3 and 4 (unequal weights w_g = B_g / B).
    let one = adding_curves::<C>(7, 1);
    let two = adding_curves::<C>(7, 2);
    close(C::NAME, &one, &two);
    let again = adding_curves::<C>(7, 2);
    assert_eq!(
        two.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        again.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        "{}: two runs on 2 threads",
        C::NAME
    );
    // More threads than sequences: one per sequence; a batch of 1 stays on one thread.
    close(C::NAME, &one, &adding_curves::<C>(7, 8));
    let b1 = adding_curves::<C>(1, 1);
    assert_eq!(b1, adding_curves::<C>(1, 2), "batch 1");
}

#[test]
fn adding_on_two_threads_matches_one() {
    adding_case::<Lstm>();
    adding_case::<Gru>();
}

/// One mini-batch: the split gradient equals the whole one up to rounding.
#[test]
fn split_gradient_matches_whole() {
    let net = FastAdding::<Lstm, f64>::from_model(&AddingNet::new(6, 2, &mut rng::seeded(4)));
    let b = adding_batch(9, 5, &mut rng::seeded(5));
    let mut whole = net.zero_grads();
    let X = b.X.columns(0, b.X.ncols());
    let e1 = net.backward_fast(X, &b.target, &mut net.fast_cache(9, 5), &mut whole);
    let mut par = AddingParallel::new(&net, 9, 5, 2);
    assert_eq!(par.threads(), 2);
    let mut split = net.zero_grads();
    let e2 = par.backward(&net, &b.X, &b.target, &mut split);
    close("mse", &[e1], &[e2]);
    for (g1, g2) in whole.list().into_iter().zip(split.list()) {
        let scale = g1.amax().max(1e-300);
        assert!(scale > 1e-8, "a gradient that is ~0 tests nothing");
        let diff = (g1 - g2).amax();
        assert!(diff <= 1e-12 * scale, "{diff} against {scale}");
    }
}

const TEXT: &str = "the cat sat on the mat; a dog ran to the log.\n";

fn text_cfg(threads: usize, steps: usize) -> TextConfig {
    TextConfig {
        layers: 2,
        hidden: 8,
        seq_len: 6,
        batch: 5,
        steps,
        seconds: None,
        lr: 0.01,
        clip: 5.0,
        eval_every: 2,
        threads,
    }
}

fn text_run<C: FastCell>(
    session: &mut Training<C, f64>,
    cfg: &TextConfig,
    ids: &[usize],
) -> Vec<f64> {
    let (train, valid) = ids.split_at(ids.len() * 3 / 4);
    let mut evals: Vec<Eval> = Vec::new();
    train_text(cfg, session, train, valid, &quiet(), |_, e| {
        evals.push(*e);
        Ok(())
    })
    .unwrap();
    evals.iter().flat_map(|e| [e.train, e.valid]).collect()
}

fn text_case<C: FastCell>() {
    let vocab = CharStream::from_text(&TEXT.repeat(20));
    let V = vocab.vocab_size();
    let curves = |threads: usize| {
        let mut s = Training::<C, f64>::new(&text_cfg(threads, 12), V, 2).unwrap();
        let c = text_run(&mut s, &text_cfg(threads, 12), &vocab.ids);
        (c, s)
    };
    let (one, s1) = curves(1);
    let (two, s2) = curves(2);
    // 12 steps of 5 streams × 6 characters cross chunk boundaries: the carried states count.
    close(C::NAME, &one, &two);
    let (again, s3) = curves(2);
    let bits = |s: &Training<C, f64>| -> Vec<u64> {
        (s.model.params().iter())
            .flat_map(|(_, p)| p.iter().map(|x| x.to_bits()))
            .collect()
    };
    assert_eq!(bits(&s2), bits(&s3), "{}: two runs on 2 threads", C::NAME);
    assert_eq!(
        two.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        again.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    // The session's cache holds the streams' states after a split run, as after a whole one.
    for (a, b) in s1.cache.rnn.layers.iter().zip(&s2.cache.rnn.layers) {
        for (x, y) in a.initial_state().iter().zip(b.initial_state()) {
            assert!(x.amax() > 1e-3, "states are carried");
            assert!((x - &y).amax() <= 1e-9 * x.amax());
        }
    }
    // 6 steps on 2 threads, then 6 more from that session: the 12-step run on 2 threads.
    let mut s = Training::<C, f64>::new(&text_cfg(2, 6), V, 2).unwrap();
    let mut parts = text_run(&mut s, &text_cfg(2, 6), &vocab.ids);
    parts.extend(text_run(&mut s, &text_cfg(2, 12), &vocab.ids));
    assert_eq!(parts, two, "{}: stopped and continued", C::NAME);
}

#[test]
fn text_on_two_threads_matches_one() {
    text_case::<Lstm>();
    text_case::<Gru>();
}

/// The binary with `--groups 2`, twice: the same bytes (loss curves and checkpoint).
#[test]
fn binary_on_two_threads_writes_the_same_bytes_twice() {
    let bin = env!("CARGO_BIN_EXE_lstm-gru");
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        let out = out.to_str().unwrap();
        let adding = [
            "adding", "--length", "10", "--hidden", "4", "--steps", "20", "--batch", "6",
            "--groups", "2", "--out", out, "-q",
        ];
        let o = shared::testing::run(bin, &adding);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = format!("{out}/text");
        let o = shared::testing::run(
            bin,
            &[
                "text",
                "--layers",
                "1",
                "--hidden",
                "8",
                "--steps",
                "4",
                "--eval-every",
                "2",
                "--batch",
                "6",
                "--groups",
                "2",
                "--out",
                &text,
                "-q",
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    shared::testing::assert_same_outputs(&a, &b, &["loss.csv", "loss.png"]);
    let files = ["loss.csv", "model.safetensors"];
    shared::testing::assert_same_outputs(&a.join("text"), &b.join("text"), &files);
}
