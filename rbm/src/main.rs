//! `rbm`: notes §7. With no flags (or `rbm train`) it trains a 16-hidden-unit RBM by CD-20 on
//! 4 × 4 bars and stripes and prints the exact mean log-likelihood per epoch: it climbs from
//! −11.09 (uniform pixels) towards the optimum −ln 30 = −3.401 (−3.52 after 300 epochs;
//! `--method exact`, the exact gradient: −3.43). `--digits FILE` (12 hidden, CD-1, 50 epochs)
//! goes from the independent-pixel baseline ≈ −25.1 to about −19.5. `rbm sample` draws Gibbs
//! samples from the saved model; `rbm partition` prints the notes' table: rows Hᵀ W,
//! 1 + e^{·}, row-wise product, then sum.

use rbm::cli::{Cli, Cmd};
use rbm::commands;
use shared::session::Chapter;

const CHAPTER: Chapter = shared::chapter!();

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let (cli, given) = shared::cli::parse::<Cli>(&CHAPTER);
        match cli.cmd {
            None => commands::train(CHAPTER, &cli.train, &given),
            Some(Cmd::Train(a)) => commands::train(CHAPTER, &a, &given),
            Some(Cmd::Sample(a)) => commands::sample(CHAPTER, &a),
            Some(Cmd::Partition(p)) => commands::partition(CHAPTER, &p),
        }
    })
}
