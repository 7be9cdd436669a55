//! `backprop-xor`: notes §2–§4. With no flags (or `backprop-xor train`) it trains trask's
//! 11-line network (figure 12) on XOR with numpy's `np.random.seed(1)` weights and prints the
//! blog's numbers: the mean absolute error 0.4964 → 0.0086 → 0.0058 → 0.0046 → 0.0040 → 0.0035
//! and outputs near (0.003, 0.997, 0.997, 0.004). `chain-rule` prints §2's worked examples,
//! `simple-nets` fits §3's nets without a hidden layer, `digits` trains figure 6's one-hidden-
//! layer softmax classifier on the 8 × 8 digits (scikit-learn's set: about 97 % on the test
//! quarter), and `eval` measures a saved one on a digits CSV.

use backprop_xor::cli::{Cli, Cmd};
use backprop_xor::commands;
use shared::session::Chapter;

const CHAPTER: Chapter = shared::chapter!();

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let (cli, _) = shared::cli::parse::<Cli>(&CHAPTER);
        match cli.cmd {
            None => commands::train(CHAPTER, &cli.train),
            Some(Cmd::Train(a)) => commands::train(CHAPTER, &a),
            Some(Cmd::ChainRule(a)) => commands::chain_rule(CHAPTER, &a),
            Some(Cmd::SimpleNets(a)) => commands::simple_nets(CHAPTER, &a),
            Some(Cmd::Digits(a)) => commands::digits(CHAPTER, &a),
            Some(Cmd::Eval(a)) => commands::eval(CHAPTER, &a),
        }
    })
}
