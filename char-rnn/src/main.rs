//! `char-rnn`: notes §6, Karpathy's minimal character-level RNN, as a tool: train on any text,
//! checkpoint, resume exactly, sample, evaluate; and figure 17's "hello".
//!
//! Expect (tinyshakespeare, `char-rnn train --text input.txt --iterations 100000`): the
//! smoothed loss falls from 25·ln 65 = 104.36 to ≈ 57 at 5k, ≈ 54 at 10k and ≈ 48 at 100k
//! iterations, and the samples grow speaker names ("JULIO CLENDO:") and word-like tokens.

use char_rnn::cli::{Cli, Cmd};
use char_rnn::commands;
use shared::session::Chapter;

const CHAPTER: Chapter = shared::chapter!();

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let (cli, given) = shared::cli::parse::<Cli>(&CHAPTER);
        match cli.cmd {
            None => commands::train(CHAPTER, &cli.train, &given),
            Some(Cmd::Train(a)) => commands::train(CHAPTER, &a, &given),
            Some(Cmd::Sample(a)) => commands::sample(CHAPTER, &a),
            Some(Cmd::Eval(a)) => commands::eval(CHAPTER, &a),
            Some(Cmd::Hello(a)) => commands::hello(CHAPTER, &a),
        }
    })
}
