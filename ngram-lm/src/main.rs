//! `ngram-lm`: notes §1, Bengio's neural language model as Hinton's assignment 2.
//!
//! `cargo run --release -p ngram-lm` trains on the generated English-like corpus and prints
//! the assignment's log, then `nearest could`, a prediction and a distance. On the
//! assignment's own corpus (`train --text raw_sentences.txt --epochs 10`) expect train ≈ 2.53,
//! validation ≈ 2.60, test ≈ 2.61 nats per word, and the modals nearest to `could`.

use ngram_lm::CHAPTER;
use ngram_lm::cli::{Cli, Cmd};
use ngram_lm::{commands, words};

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let (cli, given) = shared::cli::parse::<Cli>(&CHAPTER);
        match cli.cmd {
            None => commands::train(CHAPTER, &cli.train, &given),
            Some(Cmd::Train(a)) => commands::train(CHAPTER, &a, &given),
            Some(Cmd::Eval(a)) => commands::eval(CHAPTER, &a),
            Some(Cmd::Nearest { word, k, model }) => commands::ask(CHAPTER, &model, |t| {
                words::show_nearest(&t.model, &t.vocab, &word, k)
            }),
            Some(Cmd::Predict {
                w1,
                w2,
                w3,
                k,
                model,
            }) => commands::ask(CHAPTER, &model, |t| {
                words::show_predict(&t.model, &t.vocab, [&w1, &w2, &w3], k)
            }),
            Some(Cmd::Distance { w1, w2, model }) => commands::ask(CHAPTER, &model, |t| {
                words::show_distance(&t.model, &t.vocab, &w1, &w2)
            }),
        }
    })
}
