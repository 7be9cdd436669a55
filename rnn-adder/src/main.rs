//! `cargo run --release -p rnn-adder`: notes §6, RNN toy model (trask's binary adder).
//!
//! A vanilla RNN with 16 sigmoid hidden units reads two numbers one bit pair per step, least
//! significant first, and outputs the bits of their sum. The default run draws its weights and
//! examples from numpy's `np.random.seed(0)` stream, as trask's post does, and prints his
//! numbers (error 3.45638663 on 9 + 60 = 1 at example 0, … 0.21595037 on 11 + 3 = 14 at 9000).
//! Expect the error to stay near 4 for a few thousand examples, then fall; after 10 000
//! examples all 16 384 sums a + b (a, b < 128) are right, and the same weights, run for more
//! steps, add 10-, 16-, 32- and 64-bit numbers. `rnn-adder example-6-1` prints Example 6.1.

use rnn_adder::cli::{Cli, Command};
use rnn_adder::commands;
use shared::session::Chapter;

const CHAPTER: Chapter = shared::chapter!();

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let (cli, _) = shared::cli::parse::<Cli>(&CHAPTER);
        match cli.command {
            None => commands::train(CHAPTER, &cli.train),
            Some(Command::Train(a)) => commands::train(CHAPTER, &a),
            Some(Command::Example61(a)) => commands::example_6_1(CHAPTER, &a),
        }
    })
}
