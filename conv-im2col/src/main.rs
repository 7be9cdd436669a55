//! `conv-im2col`: notes §5, im2col / col2im and Saito's SimpleConvNet.
//!
//! `conv-im2col example` prints figure 15 (the 9 × 75 im2col matrix and pixel 22's gradient
//! 0.32). `conv-im2col train` (the default) trains conv 30×5×5 → ReLU → pool 2×2 → affine 100 →
//! ReLU → affine 10 with Adam. On the generated digits (default) it should reach about 98 % test
//! accuracy against about 80 % for a linear softmax classifier; on MNIST t10k split 8000 / 2000
//! (`--mnist DIR --init he`) about 98.4 % in 8 epochs (96.1–96.8 % with Saito's 0.01 init); on
//! the full MNIST (a folder with train-* and t10k-*) with Saito's recipe about 98.9 % from epoch
//! 8 on (the book: 98.96 % after 20).
//! model.safetensors is rewritten (atomically) after every epoch and at Ctrl-C; `train --resume
//! RUN` continues a stopped run to `--epochs` with the same bytes as an uninterrupted run.
//! `conv-im2col eval --model RUN --mnist DIR` gives a saved network's test accuracy and loss.

use conv_im2col::cli::{Cli, Command};
use conv_im2col::commands;
use shared::session::Chapter;

const CHAPTER: Chapter = shared::chapter!();

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let (cli, given) = shared::cli::parse::<Cli>(&CHAPTER);
        match cli.command {
            None => commands::train(CHAPTER, &cli.train, &given),
            Some(Command::Train(a)) => commands::train(CHAPTER, &a, &given),
            Some(Command::Eval(a)) => commands::eval(CHAPTER, &a),
            Some(Command::Example) => commands::example(),
        }
    })
}
