use clap::Parser;
use lstm_gru::{Gru, Lstm, Rnn, adding};
use shared::run::Progress;

#[derive(Parser)]
struct Cli {
    #[arg(long, default_value_t = 100)]
    length: usize,
    #[arg(long, default_value_t = 32)]
    hidden: usize,
    #[arg(long, default_value_t = 1)]
    layers: usize,
    #[arg(long, default_value_t = 32)]
    batch: usize,
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    #[arg(long, default_value_t = 1e-2)]
    lr: f64,
    #[arg(long, default_value_t = 1.0)]
    clip: f64,
    #[arg(long, default_value = "lstm")]
    cell: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let a = Cli::parse();
        let cfg = adding::Config {
            T: a.length,
            hidden: a.hidden,
            layers: a.layers,
            batch: a.batch,
            steps: a.steps,
            lr: a.lr,
            clip: a.clip,
            eval_every: 100,
            test_size: 256,
        };
        let p = Progress::new(0, "", false);
        let o = match a.cell.as_str() {
            "rnn" => adding::train::<Rnn>(&cfg, a.seed, &p)?,
            "gru" => adding::train::<Gru>(&cfg, a.seed, &p)?,
            _ => adding::train::<Lstm>(&cfg, a.seed, &p)?,
        };
        for (s, m) in &o.test_mse.points {
            println!("{s} {m:.4}");
        }
        println!("{} {:.1}s solved {:?}", o.cell, o.seconds, o.solved_at);
        Ok(())
    })
}
