//! `lstm-gru`: notes §6, LSTM and GRU networks against the vanilla RNN.
//!
//! - no flags (or `adding`): the adding problem with T = 100 for all three cells, one PNG.
//!   Expect the LSTM and the GRU to reach held-out MSE < 0.01 and the vanilla RNN to stay near
//!   1/6 ≈ 0.167.
//! - `train` (alias `text`): a character language model (2 × 128 LSTM by default) with
//!   validation loss and a checkpoint (`--resume` continues it); `sample` draws text from it,
//!   `eval` scores it on another text.
//! - `gradients`: ‖∂E/∂h_(T−k)‖ against the lag k per cell. Expect the tanh RNN to lose about 40 %
//!   per step back at initialisation and the IRNN (`--activation relu` in `adding`) almost nothing.
#![allow(non_snake_case)]

mod cli;
mod commands;

use cli::{Cli, Command};
use shared::session::Chapter;

const CHAPTER: Chapter = shared::chapter!();

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let (cli, given) = shared::cli::parse_bare::<Cli>(&CHAPTER, "adding");
        match cli.command {
            None => commands::adding(CHAPTER, &cli.adding),
            Some(Command::Adding(a)) => commands::adding(CHAPTER, &a),
            Some(Command::Train(a)) => commands::train(CHAPTER, &a, &given),
            Some(Command::Sample(a)) => commands::sample(CHAPTER, &a),
            Some(Command::Eval(a)) => commands::eval(CHAPTER, &a),
            Some(Command::Gradients(a)) => commands::gradients(CHAPTER, &a),
        }
    })
}
