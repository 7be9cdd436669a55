//! `rnn-lm`: notes §6, Denny Britz's word-level RNN language model. No flags (or `rnn-lm
//! train`): 5000 sentences of the generated English-like corpus, 10 epochs (ln 252 = 5.53 →
//! 2.23 nats per word, corpus entropy 2.06), then ten generated sentences. `--csv FILE
//! --sentences 100` is the tutorial's small run; `sample` draws sentences from a saved model,
//! `eval` scores it on another file; `gradcheck` is the tutorial's check.

use rnn_lm::cli::{Cli, Cmd};
use rnn_lm::commands;

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let (cli, given) = shared::cli::parse::<Cli>(&rnn_lm::CHAPTER);
        match cli.cmd {
            None => commands::train(rnn_lm::CHAPTER, &cli.train, &given),
            Some(Cmd::Train(a)) => commands::train(rnn_lm::CHAPTER, &a, &given),
            Some(Cmd::Sample(a)) => commands::sample(rnn_lm::CHAPTER, &a),
            Some(Cmd::Eval(a)) => commands::eval(rnn_lm::CHAPTER, &a),
            Some(Cmd::Gradcheck(a)) => commands::gradcheck(&a),
        }
    })
}
