//! `lstm-gru`: notes §6, LSTM and GRU networks against the vanilla RNN.
//!
//! - no flags: the adding problem with T = 100 for all three cells, one PNG. Expect the LSTM
//!   and the GRU to reach held-out MSE < 0.01 and the vanilla RNN to stay near 1/6 ≈ 0.167.
//! - `text --text FILE`: a character language model (2 × 128 LSTM by default) with validation
//!   loss and a checkpoint (`--resume` continues it); `sample` draws text from the checkpoint.
//! - `gradients`: ‖∂E/∂h_(T−k)‖ against the lag k per cell. Expect the tanh RNN to lose about 40 %
//!   per step back at initialisation and the IRNN (`--activation relu` in `adding`) almost nothing.
#![allow(non_snake_case)]

mod cli;

use clap::Parser;
use cli::{
    ActivationKind, AddingArgs, CellKind, Cli, Command, GradientsArgs, SampleArgs, TextArgs,
    check_memory, with_cell,
};
use lstm_gru::data::Corpus;
use lstm_gru::fast::{FastCell, stack_floats};
use lstm_gru::gradients::{self, GradientsConfig};
use lstm_gru::model::{AddingNet, CharLm, Rnn};
use lstm_gru::train::{self, AddingConfig, Session, TextConfig};
use lstm_gru::{checkpoint, report};
use shared::data::text::CharStream;
use shared::rng;
use shared::run::Run;

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let cli = Cli::parse();
        match cli.command {
            None => run_adding(&cli.adding),
            Some(Command::Adding(a)) => run_adding(&a),
            Some(Command::Text(a)) => with_cell!(a.cell, C => run_text::<C>(&a)),
            Some(Command::Sample(a)) => run_sample(&a),
            Some(Command::Gradients(a)) => run_gradients(&a),
        }
    })
}

fn run_adding(a: &AddingArgs) -> anyhow::Result<()> {
    if a.activation == ActivationKind::Relu
        && matches!(a.cell, Some(CellKind::Lstm | CellKind::Gru))
    {
        let why = "relu is the vanilla cell's f (--cell rnn, or no --cell)";
        return Err(shared::Error::flag("--activation", why).into());
    }
    let cfg = AddingConfig {
        T: a.length as usize,
        hidden: a.hidden as usize,
        layers: a.layers as usize,
        batch: a.batch as usize,
        steps: a.steps as usize,
        lr: a.lr,
        clip: 1.0,
        eval_every: 50,
        test_size: 256,
        threads: a.threads as usize,
    };
    // The training and held-out caches, weights and Adam.
    let floats = stack_floats(2, cfg.hidden, cfg.layers, cfg.T, cfg.batch + cfg.test_size);
    check_memory(floats, "--hidden, --layers, --length, --batch")?;
    let run = Run::start("lstm-gru", &a.run)?;
    println!("{}", report::adding_header(&cfg));
    let mut runs = Vec::new();
    for kind in a.cell.map_or(CellKind::ALL.to_vec(), |k| vec![k]) {
        let bar = run.progress(cfg.steps as u64, kind.name());
        let (out, result) = match (kind, a.activation) {
            (CellKind::Rnn, ActivationKind::Relu) => {
                let rng = &mut rng::stream(run.seed, 1);
                let mut net = AddingNet::with_layers(cfg.hidden, cfg.layers, rng, Rnn::irnn);
                train::train_adding_net(&cfg, run.seed, &mut net, &bar)
            }
            _ => with_cell!(kind, C => train::train_adding::<C>(&cfg, run.seed, &bar)),
        };
        bar.finish();
        runs.push(out);
        if let Err(e) = result {
            // The curves up to the divergence are still worth a look.
            run.save_loss(&report::adding_figure(&runs, cfg.T, cfg.steps))?;
            return Err(e.into());
        }
        println!("{}", runs[runs.len() - 1].row());
    }
    run.save_loss(&report::adding_figure(&runs, cfg.T, cfg.steps))?;
    run.save_summary(cfg.steps as u64, report::adding_summary(&cfg, &runs))?;
    println!("wrote {} and summary.json", run.path("loss.png").display());
    Ok(())
}

fn run_text<C: FastCell>(a: &TextArgs) -> anyhow::Result<()> {
    // Data, settings and checkpoint first: bad input leaves no output folder behind.
    let corpus = Corpus::load(a.text.as_deref(), a.run.seed)?;
    let default_lr = if C::NAME == "rnn" { 2e-3 } else { 6e-3 };
    let cfg = TextConfig {
        layers: a.layers as usize,
        hidden: a.hidden as usize,
        seq_len: a.seq_len as usize,
        batch: a.batch as usize,
        steps: a.steps as usize,
        seconds: a.seconds,
        lr: a.lr.unwrap_or(default_lr),
        clip: 5.0,
        eval_every: a.eval_every as usize,
        threads: a.threads as usize,
    };
    let V = corpus.stream.vocab_size();
    // The stack over V inputs and its caches, the one-hot inputs, probabilities and gradients.
    let (T, B) = (cfg.seq_len, cfg.batch);
    let floats =
        stack_floats(V, cfg.hidden, cfg.layers, T, B) + 3.0 * (V as f64 * T as f64 * B as f64);
    check_memory(floats, "--hidden, --layers, --seq-len, --batch")?;
    let mut session = match &a.resume {
        Some(path) => Session::<C>::resume(path, &cfg, &corpus)?,
        None => Session::<C>::new(&cfg, V, a.run.seed),
    };
    let mut args = a.run.clone();
    args.out.get_or_insert_with(|| "runs/lstm-gru/text".into());
    let run = Run::start("lstm-gru", &args)?;
    println!("{}", corpus.describe(&cfg, C::NAME));
    if let Some(path) = &a.resume {
        println!("resuming at step {} of {}", session.step, path.display());
    }
    let model_path = run.path("model.safetensors");
    let bar = run.progress(cfg.steps as u64, C::NAME);
    let (train_ids, valid_ids) = (corpus.train_ids(), corpus.valid_ids());
    let trained = train::train_text(&cfg, &mut session, train_ids, valid_ids, &bar, |s, e| {
        bar.println(e.line());
        s.save(&model_path, &cfg, &corpus) // the checkpoint of every validation
    });
    bar.finish();
    let title = format!(
        "{} × {} {} on {}",
        cfg.layers,
        cfg.hidden,
        C::NAME,
        corpus.source
    );
    // The curves are written even when training stopped on a divergence.
    run.save_loss(&session.figure(title, corpus.floor))?;
    trained?;
    run.save_summary(session.step as u64, session.summary(&cfg, corpus.floor))?;
    let mut rng = rng::stream(run.seed, 9);
    println!("{}", session.report(&corpus, &mut rng, &model_path)?);
    Ok(())
}

fn run_sample(a: &SampleArgs) -> anyhow::Result<()> {
    let ck = shared::checkpoint::load(&a.model, "lstm-gru")?;
    let kind = CellKind::from_name(checkpoint::checkpoint_cell(&ck)?);
    let (n, mut rng) = (a.len as usize, rng::seeded(a.seed));
    let text = with_cell!(kind, C => {
        let (model, vocab): (CharLm<C>, CharStream) = checkpoint::load(ck)?;
        model.sample_text(&vocab, a.prime.as_deref(), n, a.temperature, &mut rng)?
    });
    println!("{text}");
    Ok(())
}

fn run_gradients(a: &GradientsArgs) -> anyhow::Result<()> {
    let (T, H) = (a.length as usize, a.hidden as usize);
    let cfg = GradientsConfig {
        train: AddingConfig {
            T,
            hidden: H,
            layers: 1,
            batch: 32,
            steps: a.steps as usize,
            lr: a.lr,
            clip: 1.0,
            eval_every: 50,
            test_size: 256,
            threads: 1,
        },
        sequences: a.sequences as usize,
    };
    let floats = stack_floats(2, H, 1, T, 256 + cfg.sequences) * 2.0; // engine + notes layer
    check_memory(floats, "--hidden, --length, --sequences")?;
    let mut args = a.run.clone();
    args.out
        .get_or_insert_with(|| "runs/lstm-gru/gradients".into());
    let run = Run::start("lstm-gru", &args)?;
    let steps = cfg.train.steps as u64;
    let profiles = gradients::measure_all(&cfg, run.seed, &|name| run.progress(steps, name))?;
    println!("{}", gradients::table(&cfg, &profiles));
    gradients::figure(&cfg, &profiles, true).save_png(run.path("gradients.png"))?;
    gradients::figure(&cfg, &profiles, false).save_csv(run.path("gradients.csv"))?;
    let runs: Vec<_> = profiles.iter().map(|p| p.outcome.clone()).collect();
    run.save_loss(&report::adding_figure(&runs, T, cfg.train.steps))?;
    run.save_summary(steps, gradients::summary(&cfg, &profiles))?;
    println!(
        "wrote {} and summary.json",
        run.path("gradients.png").display()
    );
    Ok(())
}
