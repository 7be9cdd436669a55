//! The commands, on the run session (`shared::session`): `train` (the default: flags → weights
//! → trask's loop → outputs), `chain-rule` (§2's worked numbers), `simple-nets` (§3's fits) and
//! `digits` (figure 6's classifier), and `eval` (a saved classifier on a digits CSV). Every run trains in seconds at most, so none has a
//! checkpoint to resume from.

#![allow(non_snake_case)]

use crate::checkpoint::Trained;
use crate::cli::{CommonArgs, DigitsArgs, EvalArgs, RngKind, TrainArgs};
use crate::data::{generated_8x8, split};
use crate::model::OneHidden;
use crate::report::{self, mean_abs_error, outputs_table};
use crate::train::{Evaluation, digits_epoch, evaluate};
use crate::{Init, XorNet, chain_rule, train, xor_data};
use anyhow::Result;
use serde_json::json;
use shared::Error;
use shared::data::batch::{Epochs, LastBatch};
use shared::plot::{Figure, Panel, Series};
use shared::rng;
use shared::say;
use shared::session::{Chapter, Checkpointed, Session, check_memory, model_file};

/// `backprop-xor` / `backprop-xor train`: trask's run (or a deeper net), its curve, the model.
pub fn train(chapter: Chapter, a: &TrainArgs) -> Result<()> {
    let l = &a.layers;
    if l.len() < 2 || l[0] != 3 || l[l.len() - 1] != 1 || l.contains(&0) {
        Err(Error::flag(
            "--layers",
            "must start with 3 (two bits and a constant 1), end with 1, and have no empty layer, e.g. 3,4,1",
        ))?;
    }
    // A layer of n units holds a few N × n matrices and an n × n' weight matrix.
    let weights: f64 = l.windows(2).map(|w| (w[0] * w[1]) as f64).sum();
    let bytes = 8.0 * (8.0 * l.iter().sum::<usize>() as f64 + 2.0 * weights);
    check_memory("--layers", &format!("layers {l:?}"), bytes)?;
    shared::cli::check_positive("--lr", a.lr)?;
    let (mut init, from) = match a.rng {
        RngKind::Numpy => match u32::try_from(a.run.seed) {
            Ok(s) => (Init::numpy(s), format!("np.random.seed({s})")),
            Err(_) => Err(Error::flag(
                "--seed",
                "numpy seeds are below 2^32 (or use --rng chacha)",
            ))?,
        },
        RngKind::Chacha => (
            Init::chacha(a.run.seed),
            format!("ChaCha8 seed {}", a.run.seed),
        ),
    };
    let session = Session::outputs(chapter, &a.run, None, a)?;
    let mut net = XorNet::new(l, a.lr, &mut init);
    let lines = if matches!(net, XorNet::Eleven(_)) {
        "11 lines"
    } else {
        "any depth"
    };
    say!(
        "notes §4.1, a neural network in {lines}: layers {l:?}, {} iterations, α = {}, weights from {from}",
        a.iterations,
        a.lr
    )?;
    let title = format!("XOR, layers {l:?}: mean absolute error");
    let figure = |curve: &Series| {
        Figure::single(
            Panel::new(title.as_str(), "iteration", "mean |t − output|")
                .log_y()
                .with(curve.clone()),
        )
    };
    let bar = session.progress(a.iterations, "train");
    let mut curve = Series::new("mean |t − X_L|");
    let mut X2 = [0.0; 4];
    for j in 0..a.iterations {
        X2 = net.iteration(); // the output before this iteration's update, as trask prints it
        let err = mean_abs_error(&X2);
        if let Err(diverged) = shared::error::check_finite(j, err) {
            session.save_loss(&figure(&curve))?; // the curve up to the last finite error
            Err(diverged)?;
        }
        if j % 100 == 0 || j + 1 == a.iterations {
            curve.push(j as f64, err);
            bar.set_position(j + 1);
        }
        if j % a.report_every == 0 {
            bar.println(format!("iteration {j:>7}   error {err:.12}"));
        }
    }
    bar.finish();
    let final_error = curve.last().unwrap_or(f64::NAN);
    say!("")?;
    for line in outputs_table(&X2).lines() {
        say!("{line}")?;
    }
    say!(
        "final mean |t − X_L| = {final_error:.6} after {} iterations",
        a.iterations
    )?;
    session.save_loss(&figure(&curve))?;
    let rng = ["numpy", "chacha"][(a.rng == RngKind::Chacha) as usize];
    let t = xor_data().1;
    session.save_summary(
        a.iterations,
        json!({"final_error": final_error, "outputs": X2, "targets": t.as_slice(), "layers": l, "lr": a.lr, "rng": rng}),
    )?;
    session.save_checkpoint(&Trained {
        layers: l.clone(),
        W: net.weights(),
    })?;
    session.finish()?;
    Ok(())
}

/// `backprop-xor chain-rule`: §2's worked examples, printed, and the largest error in
/// summary.json.
pub fn chain_rule(chapter: Chapter, a: &CommonArgs) -> Result<()> {
    let session = Session::outputs(chapter, &a.run, Some("chain-rule"), a)?;
    let (text, worst) = chain_rule::report(session.seed);
    say!(
        "{text}\nlargest relative error of any backward value against finite differences: {worst:.1e}"
    )?;
    session.save_summary(0, json!({"max_rel_error": worst}))?;
    session.finish()?;
    Ok(())
}

/// `backprop-xor simple-nets`: §3's three fits, printed, with their cost curves.
pub fn simple_nets(chapter: Chapter, a: &CommonArgs) -> Result<()> {
    let session = Session::outputs(chapter, &a.run, Some("simple-nets"), a)?;
    let fits = train::fit_all(session.seed);
    for line in report::simple_nets(&fits).lines() {
        say!("{line}")?;
    }
    session.save_loss(&report::simple_nets_figure(&fits))?;
    session.save_summary(
        fits.iter().map(|f| f.losses.len() as u64 - 1).sum(),
        report::simple_nets_summary(&fits),
    )?;
    session.finish()?;
    Ok(())
}

/// The random stream (of `--seed`) of the classifier's initial weights.
const INIT_STREAM: u64 = 21;
/// The random stream (of `--seed`) of the mini-batches' order.
const BATCH_STREAM: u64 = 22;

/// `backprop-xor digits`: figure 6's network as a softmax classifier of the 8 × 8 digits,
/// trained by mini-batch gradient descent; costs and accuracies per epoch, the test accuracy.
pub fn digits(chapter: Chapter, a: &DigitsArgs) -> Result<()> {
    let f = a.test_fraction;
    if !(f > 0.0 && f < 1.0) {
        Err(Error::flag(
            "--test-fraction",
            format!("{f} is not between 0 and 1"),
        ))?;
    }
    shared::cli::check_positive("--lr", a.lr)?;
    if a.digits.is_none() {
        // Generation holds each 28 × 28 image before it becomes 8 × 8.
        let n = a.examples as f64;
        check_memory(
            "--examples",
            &format!("{n} generated digits"),
            8.0 * n * (784.0 + 300.0),
        )?;
    }
    let (H, B) = (a.hidden as f64, a.batch as f64);
    let n = if a.digits.is_some() {
        1797.0
    } else {
        a.examples as f64
    };
    // The forward pass of the whole set keeps X̄1, X1 and dX̄1 (N × H), plus W0 (64 × H).
    check_memory(
        "--hidden",
        &format!("{H} hidden units"),
        8.0 * H * (3.0 * n + 64.0 + 10.0),
    )?;
    check_memory(
        "--batch",
        &format!("batches of {B}"),
        8.0 * B.min(n) * (64.0 + 3.0 * H),
    )?;
    let (set, source) = match &a.digits {
        Some(file) => (
            shared::data::digits::load_digits_csv(file)?,
            format!("{} (scikit-learn's 8 × 8 digits)", file.display()),
        ),
        None => (
            generated_8x8(a.run.seed, a.examples as usize),
            "generated 8 × 8 digits (28 × 28 strokes, 4 × 4 blocks of a 32 × 32 frame)".into(),
        ),
    };
    let test = ((set.len() as f64 * f).round() as usize).clamp(1, set.len() - 1);
    let session = Session::outputs(chapter, &a.run, Some("digits"), a)?;
    let seed = session.seed;
    let d = split(&set, test, seed);
    let (N, K) = (d.X_train.nrows(), set.classes);
    let mut net = OneHidden::new(
        64,
        a.hidden as usize,
        K,
        &mut rng::stream(seed, INIT_STREAM),
    );
    say!(
        "notes §3 figure 6, one hidden layer as a softmax classifier: 64 → {} sigmoid → {K} softmax, \
         cross-entropy, α = {}, batches of {}, {} epochs",
        a.hidden,
        a.lr,
        a.batch,
        a.epochs
    )?;
    say!("data: {source}: {N} to train, {test} to test")?;
    let batches = Epochs::shuffled(
        rng::stream(seed, BATCH_STREAM),
        N,
        a.batch as usize,
        LastBatch::Keep,
    );
    let mut batches = batches.map_err(Error::msg)?;
    let names = ["train E", "test E", "train accuracy", "test accuracy"];
    let mut curves: Vec<Series> = names.iter().map(|n| Series::new(*n)).collect();
    let measure = |net: &OneHidden| {
        let tr = evaluate(net, &d.X_train, &d.T_train, &d.labels_train);
        let te = evaluate(net, &d.X_test, &d.T_test, &d.labels_test);
        (tr, te)
    };
    let shown = |epoch: u64| epoch.is_multiple_of(a.report_every) || epoch == a.epochs;
    let mut last = measure(&net);
    record(&mut curves, 0, last, shown(0))?;
    let bar = session.progress(a.epochs, "epochs");
    let mut steps = 0u64;
    for epoch in 1..=a.epochs {
        let order = batches.next().ok_or_else(|| Error::msg("no batches"))?;
        for (E, rows) in digits_epoch(&mut net, &d.X_train, &d.T_train, &order, a.lr)
            .into_iter()
            .zip(order.batches())
        {
            if let Err(e) =
                shared::error::check_nats(steps, E * rows.len() as f64, rows.len(), "digits")
            {
                session.save_loss(&digits_figure(&curves))?;
                Err(e)?;
            }
            steps += 1;
        }
        last = measure(&net);
        record(&mut curves, epoch, last, shown(epoch))?;
        bar.inc(1);
    }
    bar.finish();
    let (tr, te) = last;
    let right = (te.accuracy * test as f64).round();
    say!(
        "test accuracy {:.2} % ({right} of {test} held-out digits), train {:.2} %, after {} epochs",
        100.0 * te.accuracy,
        100.0 * tr.accuracy,
        a.epochs
    )?;
    session.save_loss(&digits_figure(&curves))?;
    session.save_summary(
        steps,
        json!({"train_loss": tr.loss, "test_loss": te.loss, "train_accuracy": tr.accuracy,
               "test_accuracy": te.accuracy, "train_examples": N, "test_examples": test,
               "data": if a.digits.is_some() { "csv" } else { "generated" }}),
    )?;
    session.save_checkpoint(&net)?;
    session.finish()?;
    Ok(())
}

/// `backprop-xor eval`: the cross-entropy and accuracy of a saved `digits` classifier on every
/// image of a digits CSV.
pub fn eval(chapter: Chapter, a: &EvalArgs) -> Result<()> {
    let default = chapter.default_out(Some("digits"));
    let file = model_file(a.model.as_deref().unwrap_or(&default), "--model")?;
    let mut ck = shared::checkpoint::load(&file, chapter.name)?;
    if ck.shape("b0").is_none() {
        let msg = "holds an XOR network (`train`), not a digits classifier (`digits`)";
        Err(Error::flag("--model", format!("{} {msg}", file.display())))?;
    }
    let net = OneHidden::load(&mut ck, ())?;
    let set = shared::data::digits::load_digits_csv(&a.digits)?;
    if net.W0.nrows() != 64 || net.W1.ncols() != set.classes {
        let msg = format!(
            "{} is not a classifier of 8 × 8 digits into 10 classes",
            file.display()
        );
        Err(Error::flag("--model", msg))?;
    }
    say!(
        "model: {} (64 → {} sigmoid → 10 softmax)",
        file.display(),
        net.hidden()
    )?;
    say!("data: all {} images of {}", set.len(), a.digits.display())?;
    let X0 = set.images.transpose();
    let e = evaluate(
        &net,
        &X0,
        &crate::model::one_hot(&set.labels, set.classes),
        &set.labels,
    );
    let right = (e.accuracy * set.len() as f64).round();
    say!(
        "accuracy {:.2} % ({right} of {} right), cross-entropy {:.4} nats per image",
        100.0 * e.accuracy,
        set.len(),
        e.loss
    )?;
    Ok(())
}

/// Adds the train and test cost and accuracy after `epoch` to the curves, and prints them.
fn record(
    curves: &mut [Series],
    epoch: u64,
    (tr, te): (Evaluation, Evaluation),
    show: bool,
) -> Result<()> {
    for (c, v) in curves
        .iter_mut()
        .zip([tr.loss, te.loss, tr.accuracy, te.accuracy])
    {
        c.push(epoch as f64, v);
    }
    if show {
        say!(
            "epoch {epoch:>4}   train E {:.4}   test E {:.4}   train {:>5.1} %   test {:>5.1} %",
            tr.loss,
            te.loss,
            100.0 * tr.accuracy,
            100.0 * te.accuracy
        )?;
    }
    Ok(())
}

/// The cost and accuracy curves of `digits`: two panels, train and test in each.
fn digits_figure(c: &[Series]) -> Figure {
    Figure {
        title: "§3 figure 6 on the 8 × 8 digits: one sigmoid hidden layer, softmax output".into(),
        panels: vec![
            Panel::new("cross-entropy E", "epoch", "nats per example")
                .log_y()
                .with(c[0].clone())
                .with(c[1].clone()),
            Panel::new("accuracy", "epoch", "fraction right")
                .with(c[2].clone())
                .with(c[3].clone()),
        ],
    }
}
