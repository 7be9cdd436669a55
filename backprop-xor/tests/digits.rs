//! `backprop-xor digits` through the real binary: a short run on generated digits and on a
//! digits CSV written here (tests never read `../shared`), its outputs and accuracy, the
//! session contract, bad flags and files, size flags checked against memory, divergence.

use backprop_xor::data::generated_8x8;
use shared::testing::{self, SessionContract, assert_user_error, ok};
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_backprop-xor");

/// 300 generated digits, 10 epochs: a fraction of a second.
const SHORT: &[&str] = &["digits", "--examples", "300", "--epochs", "10"];

fn run(args: &[&str], out: &Path) -> std::process::Output {
    testing::run(BIN, &testing::args_with_out(args, out, &["-q"]))
}

/// A digits CSV as scikit-learn's (64 counts 0..16 and the label per line) of `n` generated
/// digits.
fn write_csv(path: &Path, n: usize) {
    let set = generated_8x8(9, n);
    let mut text = String::new();
    for k in 0..n {
        for p in 0..64 {
            text += &format!("{},", (16.0 * set.images[(p, k)]).round() as u32);
        }
        text += &format!("{}\n", set.labels[k]);
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_short_run_learns_and_writes_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("digits");
    let o = run(
        &[
            "digits",
            "--examples",
            "1000",
            "--epochs",
            "30",
            "--lr",
            "1",
        ],
        &out,
    );
    ok(&o, "digits");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("750 to train, 250 to test"), "{text}");
    assert!(
        text.ends_with(&format!(
            "wrote {}/{{loss.png, loss.csv, summary.json, model.safetensors}}\n",
            out.display()
        )),
        "{text}"
    );
    let s = testing::summary_without_timing(&out.join("summary.json"));
    let (acc, loss) = (
        s["test_accuracy"].as_f64().unwrap(),
        s["test_loss"].as_f64().unwrap(),
    );
    // Chance is 10 % and ln 10 = 2.30 nats: see train.rs's test for the bound.
    assert!(acc > 0.5 && loss < 1.5, "{s}");
    assert_eq!(s["test_examples"], 250);
    assert_eq!(s["flags"]["hidden"], 32);
    assert!(
        text.contains(&format!("test accuracy {:.2} %", 100.0 * acc)),
        "{text}"
    );
    // Epochs 0..=30, four curves; the model file loads back.
    let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 4 * 31, "{csv}");
    let mut ck = shared::checkpoint::load(out.join("model.safetensors"), "backprop-xor").unwrap();
    use shared::session::Checkpointed;
    let net = backprop_xor::OneHidden::load(&mut ck, ()).unwrap();
    assert_eq!(net.hidden(), 32);
}

#[test]
fn a_digits_csv_is_read_and_split() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("digits.csv");
    write_csv(&csv, 200);
    let out = dir.path().join("csv");
    let o = run(
        &["digits", "--digits", csv.to_str().unwrap(), "--epochs", "3"],
        &out,
    );
    ok(&o, "digits --digits");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("digits.csv (scikit-learn's 8 × 8 digits): 150 to train, 50 to test"),
        "{text}"
    );
    let s = testing::summary_without_timing(&out.join("summary.json"));
    assert_eq!(s["data"], "csv");
    for (what, path) in testing::bad_files(dir.path()) {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let o = run(
            &["digits", "--digits", path.to_str().unwrap()],
            &dir.path().join("bad"),
        );
        assert_user_error(&o, &format!("--digits {what}"), &[&name]);
    }
    assert!(
        !dir.path().join("bad").exists(),
        "a bad file leaves no folder"
    );
}

#[test]
fn the_session_contract_without_resume() {
    let dir = tempfile::tempdir().unwrap();
    SessionContract {
        bin: BIN,
        short: SHORT,
        // 20,000 digits for 1000 epochs: minutes, killed by the test once it holds the lock.
        long: &["digits", "--examples", "20000", "--epochs", "1000"],
        length: ("--epochs", "20"),
        resume_cmd: &[],
        fixed: ("--lr", "0.1"),
    }
    .check_all_but_resume(dir.path());
}

#[test]
fn bad_flags_sizes_and_divergence_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (flag, value) in [
        ("--test-fraction", "0"),
        ("--test-fraction", "1"),
        ("--test-fraction", "NaN"),
        ("--lr", "0"),
        ("--lr", "-1"),
        ("--hidden", "0"),
        ("--epochs", "0"),
        ("--batch", "0"),
        ("--examples", "10"),
        // Sizes that cannot fit in memory are refused before anything is allocated.
        ("--examples", "1000000000000"),
        ("--hidden", "100000000000"),
    ] {
        let what = format!("{flag}={value}");
        let o = run(&[SHORT, &[&what]].concat(), &out);
        assert_user_error(&o, &what, &[flag]);
    }
    assert!(!out.exists(), "a bad flag is refused before --out is made");
    // A step so large that a probability becomes 0 in f64: the step and a hint.
    let o = run(&[SHORT, &["--lr", "1e6"]].concat(), &out);
    assert_user_error(&o, "--lr 1e6", &["diverged at step", "--lr"]);
}

#[test]
fn eval_measures_a_saved_classifier_and_refuses_an_xor_network() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, run_dir, xor) = (
        dir.path().join("digits.csv"),
        dir.path().join("run"),
        dir.path().join("xor"),
    );
    write_csv(&csv, 200);
    let c = csv.to_str().unwrap();
    // test fraction 0.25 of 200: the run's test set is 50 images; eval sees all 200.
    ok(
        &run(&["digits", "--digits", c, "--epochs", "20"], &run_dir),
        "digits",
    );
    let o = testing::run(
        BIN,
        &["eval", "--model", run_dir.to_str().unwrap(), "--digits", c],
    );
    ok(&o, "eval");
    // The model file in the folder names the same model.
    let file = run_dir.join("model.safetensors");
    let o2 = testing::run(
        BIN,
        &["eval", "--model", file.to_str().unwrap(), "--digits", c],
    );
    ok(&o2, "eval --model FILE");
    assert_eq!(o2.stdout, o.stdout);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("data: all 200 images of"), "{text}");
    let acc: f64 = text
        .split("accuracy ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no accuracy: {text}"));
    let s = testing::summary_without_timing(&run_dir.join("summary.json"));
    let (tr, te) = (
        s["train_accuracy"].as_f64().unwrap(),
        s["test_accuracy"].as_f64().unwrap(),
    );
    // All 200 = the 150 it trained on and the 50 it was tested on.
    let all = 100.0 * (150.0 * tr + 50.0 * te) / 200.0;
    assert!((acc - all).abs() < 0.006, "eval {acc} %, run {all} %");
    ok(&run(&["--iterations", "10"], &xor), "xor");
    let o = testing::run(
        BIN,
        &["eval", "--model", xor.to_str().unwrap(), "--digits", c],
    );
    assert_user_error(&o, "eval of an XOR network", &["--model", "XOR network"]);
    for (what, path) in testing::bad_files(dir.path()) {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let args = [
            "eval",
            "--model",
            run_dir.to_str().unwrap(),
            "--digits",
            path.to_str().unwrap(),
        ];
        assert_user_error(&testing::run(BIN, &args), &format!("eval {what}"), &[&name]);
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    ok(&run(SHORT, &a), "a");
    ok(&run(SHORT, &b), "b");
    ok(&run(&[SHORT, &["--seed", "2"]].concat(), &c), "c");
    let files = ["loss.csv", "loss.png", "model.safetensors"];
    testing::assert_same_outputs(&a, &b, &files);
    let read = |d: &Path| std::fs::read(d.join("loss.csv")).unwrap();
    assert_ne!(
        read(&a),
        read(&c),
        "seed 2 drew the same digits, weights and batches"
    );
}
