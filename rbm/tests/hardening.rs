//! Hardening of the `rbm` binary: bad input ends with exit code 2 and one `error:` line naming
//! the file or flag; divergence keeps the curves and the last good model; a killed run leaves
//! the previous outputs loadable; the same seed gives the same bytes, also when two runs
//! share the machine; `--mnist` with train-* and t10k-* trains on one and holds out the other.

#![allow(non_snake_case)]

use shared::testing::{self, assert_user_error};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_rbm");

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn fails(args: &[&str], what: &str, mentions: &[&str]) {
    let out = testing::run(BIN, args);
    assert_user_error(&out, what, mentions);
}

/// A tiny, fast training run: 3 × 3 bars and stripes (9 visible), 4 hidden, CD-2, few epochs.
fn tiny(out: &Path, seed: &str, epochs: &str) -> Vec<String> {
    [
        "--side", "3", "--hidden", "4", "--k", "2", "--epochs", epochs, "--seed", seed, "--quiet",
        "--out",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([s(out).to_string()])
    .collect()
}

/// A digits CSV of `n` made-up 8 × 8 images (a vertical stroke at a column set by the label).
fn digits_csv(n: usize) -> String {
    let mut text = String::new();
    for k in 0..n {
        let label = k % 4;
        let px: Vec<&str> = (0..64)
            .map(|p| if p % 8 == 2 + label { "16" } else { "0" })
            .collect();
        text.push_str(&format!("{},{label}\n", px.join(",")));
    }
    text
}

/// IDX bytes: `n` images of 2 × 2 pixels and their labels.
fn idx_pair(n: usize) -> (Vec<u8>, Vec<u8>) {
    let mut images = vec![0, 0, 8, 3];
    for d in [n as u32, 2, 2] {
        images.extend(d.to_be_bytes());
    }
    images.extend((0..4 * n).map(|i| if i % 3 == 0 { 255 } else { 0 }));
    let mut labels = vec![0, 0, 8, 1];
    labels.extend((n as u32).to_be_bytes());
    labels.extend((0..n).map(|i| (i % 10) as u8));
    (images, labels)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    // A stored (uncompressed) deflate stream in a gzip member, enough for the loader's gunzip.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let len = bytes.len() as u16;
    out.push(1); // final block, stored
    out.extend(len.to_le_bytes());
    out.extend((!len).to_le_bytes());
    out.extend(bytes);
    out.extend(crc32(bytes).to_le_bytes());
    out.extend((bytes.len() as u32).to_le_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[test]
fn partition_flags_are_clear_errors() {
    let p = |args: &[&str], what: &str, mentions: &[&str]| {
        let mut all = vec!["partition"];
        all.extend_from_slice(args);
        fails(&all, what, mentions);
    };
    p(
        &["--weights", "1,2"],
        "too few weights",
        &["--weights", "2 values given, 6 needed"],
    );
    p(
        &[
            "--visible",
            "4",
            "--hidden",
            "3",
            "--weights",
            "1,2,3,4,5,6",
        ],
        "weights for other sizes",
        &["--weights", "6 values given, 12 needed (3 × 4)"],
    );
    p(
        &["--weights", "1,2,3,4,5,NaN"],
        "a NaN weight",
        &["--weights", "value 6 is NaN"],
    );
    p(
        &["--weights", "inf,2,3,4,5,6"],
        "an infinite weight",
        &["--weights", "value 1 is inf"],
    );
    p(
        &["--weights", "1,2,x,4,5,6"],
        "a weight that is not a number",
        &["--weights"],
    );
    p(
        &["--visible-bias", "1,2"],
        "visible biases",
        &["--visible-bias", "2 values given, 3 needed"],
    );
    p(
        &["--hidden-bias", "1,2,3"],
        "hidden biases",
        &["--hidden-bias", "3 values given, 2 needed"],
    );
    p(
        &["--hidden-bias", "1,-inf"],
        "an infinite bias",
        &["--hidden-bias", "value 2 is -inf"],
    );
    p(
        &["--visible", "0"],
        "no visible unit",
        &["--visible", "0 visible units: need 1 to 16"],
    );
    p(
        &["--hidden", "0"],
        "no hidden unit",
        &["--hidden", "0 hidden units: need 1 to 16"],
    );
    p(
        &["--visible", "17"],
        "too many visible units",
        &["--visible", "17 visible units", "2^17"],
    );
    p(
        &["--hidden", "40"],
        "too many hidden units",
        &["--hidden", "40 hidden units", "2^40"],
    );
    p(&["--visible", "-3"], "a negative size", &["-3"]);
}

#[test]
fn training_flags_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("run");
    let o = s(&o);
    let t = |args: &[&str], what: &str, mentions: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--out", o]);
        fails(&all, what, mentions);
    };
    t(&["--hidden", "0"], "--hidden 0", &["--hidden"]);
    t(&["--batch", "0"], "--batch 0", &["--batch"]);
    t(&["--epochs", "0"], "--epochs 0", &["--epochs"]);
    t(&["--k", "0"], "--k 0", &["--k"]);
    t(&["--train", "0"], "--train 0", &["--train"]);
    t(
        &["--report-every", "0"],
        "--report-every 0",
        &["--report-every"],
    );
    t(&["--side", "1"], "--side 1", &["--side"]);
    t(&["--side", "6"], "--side 6", &["--side"]);
    t(&["--method", "gibbs"], "an unknown method", &["--method"]);
    t(
        &["--schedule", "cosine"],
        "an unknown schedule",
        &["--schedule"],
    );
    t(&["--lr", "-1"], "--lr -1", &["--lr", "positive", "-1"]);
    t(&["--lr", "0"], "--lr 0", &["--lr", "positive"]);
    t(&["--lr", "NaN"], "--lr NaN", &["--lr", "NaN"]);
    t(&["--lr", "inf"], "--lr inf", &["--lr", "inf"]);
    t(
        &["--weight-cost", "-0.5"],
        "a negative weight cost",
        &["--weight-cost", "-0.5"],
    );
    // 5 × 5 bars: 25 visible, 30 hidden: neither layer can be enumerated.
    t(
        &["--side", "5", "--hidden", "30"],
        "both layers too large for an exact Z",
        &["--hidden", "30 hidden and 25 visible", "at most 20"],
    );
    assert!(
        !Path::new(o).join("loss.csv").exists(),
        "no output for bad flags"
    );
}

#[test]
fn every_file_flag_rejects_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    for (what, path) in testing::bad_files(dir.path()) {
        let name = path.file_name().unwrap().to_str().unwrap();
        fails(
            &["--digits", s(&path), "--out", s(&out)],
            &format!("--digits: {what}"),
            &[name],
        );
        fails(
            &["--mnist", s(&path), "--out", s(&out)],
            &format!("--mnist: {what}"),
            &[name],
        );
    }
    // A folder with no MNIST files in it: the error names the folder and the missing file.
    let empty = dir.path().join("no-mnist-here");
    std::fs::create_dir(&empty).unwrap();
    fails(
        &["--mnist", s(&empty), "--out", s(&out)],
        "--mnist: a folder without the files",
        &["no-mnist-here", "t10k-images-idx3-ubyte"],
    );
}

#[test]
fn truncated_and_malformed_data_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // Digits CSV: cut in the middle of the last line; a pixel out of range; a word.
    let full = digits_csv(12);
    let csv = dir.path().join("truncated.csv");
    std::fs::write(&csv, &full[..full.len() - 40]).unwrap();
    fails(
        &["--digits", s(&csv), "--out", s(&out)],
        "a truncated digits CSV",
        &["truncated.csv", "line 12", "expected 65"],
    );
    let csv = dir.path().join("pixel.csv");
    std::fs::write(&csv, full.replacen("16", "17", 1)).unwrap();
    fails(
        &["--digits", s(&csv), "--out", s(&out)],
        "a pixel of 17",
        &["pixel.csv", "line 1", "outside 0..=16"],
    );
    let csv = dir.path().join("word.csv");
    std::fs::write(&csv, full.replacen(",0,", ",zero,", 3)).unwrap();
    fails(
        &["--digits", s(&csv), "--out", s(&out)],
        "a word among the pixels",
        &["word.csv", "not a whole number"],
    );
    // Too few digits for the default split: --train names the problem.
    let csv = dir.path().join("few.csv");
    std::fs::write(&csv, digits_csv(20)).unwrap();
    fails(
        &["--digits", s(&csv), "--out", s(&out)],
        "fewer images than --train",
        &["--train", "1500", "20 images"],
    );
    // MNIST: truncated IDX, truncated .gz, labels that disagree with the images.
    let (images, labels) = idx_pair(30);
    let mnist = |name: &str, img: &[u8], img_file: &str, lab: &[u8]| -> PathBuf {
        let d = dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(img_file), img).unwrap();
        std::fs::write(d.join("t10k-labels-idx1-ubyte"), lab).unwrap();
        d
    };
    let d = mnist(
        "cut-idx",
        &images[..images.len() - 7],
        "t10k-images-idx3-ubyte",
        &labels,
    );
    fails(
        &["--mnist", s(&d), "--out", s(&out)],
        "a truncated IDX file",
        &["t10k-images-idx3-ubyte", "truncated"],
    );
    let d = mnist(
        "cut-header",
        &images[..10],
        "t10k-images-idx3-ubyte",
        &labels,
    );
    fails(
        &["--mnist", s(&d), "--out", s(&out)],
        "an IDX file cut in its header",
        &["t10k-images-idx3-ubyte", "header"],
    );
    let gz = gzip(&images);
    let d = mnist(
        "cut-gz",
        &gz[..gz.len() / 2],
        "t10k-images-idx3-ubyte.gz",
        &labels,
    );
    fails(
        &["--mnist", s(&d), "--out", s(&out)],
        "a truncated .gz file",
        &["t10k-images-idx3-ubyte.gz", "truncated or corrupt"],
    );
    let (_, labels_29) = idx_pair(29);
    let d = mnist("mismatch", &images, "t10k-images-idx3-ubyte", &labels_29);
    fails(
        &["--mnist", s(&d), "--out", s(&out), "--train", "20"],
        "labels that disagree with the images",
        &["t10k-labels-idx1-ubyte", "29 labels"],
    );
    // The same files, complete, train (the gzip helper is right, so the cuts above are what fail).
    let d = mnist("good-gz", &gz, "t10k-images-idx3-ubyte.gz", &labels);
    let ok = testing::run(
        BIN,
        &[
            "--mnist",
            s(&d),
            "--train",
            "20",
            "--epochs",
            "1",
            "--quiet",
            "--out",
            s(&out),
        ],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn an_out_that_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    fails(
        &["--out", s(&file)],
        "--out is a file",
        &["--out", "a-file", "not a folder"],
    );
    let under = file.join("sub");
    fails(&["--out", s(&under)], "--out under a file", &["a-file"]);
}

#[test]
fn divergence_stops_with_the_step_and_keeps_the_curves_and_the_last_good_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // ε λ = 100: the weight cost alone multiplies W by about −99 per update, so W overflows
    // after some 150 updates: 14 patterns × 10 = 140 examples, 14 updates per epoch.
    let mut args = tiny(&out, "1", "40");
    args.extend(["--lr", "1e6", "--train", "140"].map(String::from));
    let res = testing::run(BIN, &args);
    assert_user_error(&res, "--lr 1e6", &["training diverged at step", "--lr"]);
    let err = String::from_utf8_lossy(&res.stderr);
    let step: usize = err
        .split("step ")
        .nth(1)
        .and_then(|t| t.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no step number in {err}"));
    assert!((15..40 * 14).contains(&step), "{err}");
    // The curves up to the last good epoch, all finite, and that epoch's model.
    let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
    let epochs: Vec<usize> = csv
        .lines()
        .filter(|l| l.starts_with("exact mean log p(v),train,"))
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    let last_good = (step - 1) / 14; // the epoch before the one that blew up
    assert_eq!(epochs, (0..=last_good).collect::<Vec<_>>(), "{err}");
    for l in csv.lines().skip(1) {
        let y: f64 = l.rsplit(',').next().unwrap().parse().unwrap();
        assert!(y.is_finite(), "{l}");
    }
    assert!(out.join("loss.png").is_file());
    let mut ck = shared::checkpoint::load(out.join("model.safetensors"), "rbm").unwrap();
    let W = ck.take("W", 4, 9).unwrap();
    assert!(W.iter().all(|w| w.is_finite()), "{W}");
    assert!(
        W.amax() > 1e6,
        "the model of epoch {last_good}, not the initial one: {W}"
    );
    assert!(
        !out.join("summary.json").exists(),
        "no summary of a failed run"
    );
}

#[test]
fn same_seed_same_bytes_even_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    // Two runs at the same time, different --out, same seed; a third with another seed.
    let spawn = |out: &Path, seed: &str| {
        Command::new(BIN)
            .args(tiny(out, seed, "4"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut pa, mut pb) = (spawn(&a, "5"), spawn(&b, "5"));
    assert!(pa.wait().unwrap().success() && pb.wait().unwrap().success());
    let files = [
        "loss.csv",
        "model.safetensors",
        "samples.png",
        "filters.png",
    ];
    testing::assert_same_outputs(&a, &b, &files);
    assert!(spawn(&c, "6").wait().unwrap().success());
    let read = |d: &Path| std::fs::read(d.join("model.safetensors")).unwrap();
    assert_ne!(read(&a), read(&c), "another seed, another model");
    // Nothing but the outputs in the folders (no temporary or probe files).
    let mut names: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "filters.png",
            "loss.csv",
            "loss.png",
            "model.safetensors",
            "samples.png",
            "summary.json"
        ]
    );
}

#[test]
fn a_killed_run_leaves_the_previous_outputs_loadable() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    assert!(testing::run(BIN, &tiny(&out, "1", "2")).status.success());
    let before = std::fs::read(out.join("model.safetensors")).unwrap();
    // SIGKILL runs that replace it (--overwrite) at different moments (while training, and
    // for the later ones possibly while writing): every output stays whole, the old or the new
    // one, and the lock a killed run leaves behind does not stop the next one.
    let mut replaced = 0;
    for ms in [30u64, 100, 200, 400, 700, 1000, 1500] {
        let mut child = Command::new(BIN)
            .args(tiny(&out, "2", "6"))
            .arg("--overwrite")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill(); // the run may have finished already
        let _ = child.wait();
        let mut ck = shared::checkpoint::load(out.join("model.safetensors"), "rbm")
            .unwrap_or_else(|e| panic!("killed after {ms} ms: {e}"));
        assert!(ck.take("W", 4, 9).unwrap().iter().all(|w| w.is_finite()));
        replaced += (std::fs::read(out.join("model.safetensors")).unwrap() != before) as usize;
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&summary).unwrap();
        assert!(v["final_train_ll"].is_f64(), "{summary}");
        let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
        assert!(
            csv.starts_with("panel,series,x,y\n") && csv.lines().count() > 10,
            "{csv}"
        );
    }
    eprintln!("{replaced} of 7 killed runs had already replaced the model");
    // And the folder still takes a complete run, which gives the first run's bytes again.
    let mut again = tiny(&out, "1", "2");
    again.push("--overwrite".into());
    testing::ok(&testing::run(BIN, &again), "a run after the killed ones");
    assert_eq!(
        std::fs::read(out.join("model.safetensors")).unwrap(),
        before
    );
}

/// A folder with MNIST-format files: `t10k` test images, and `train` training images if any.
fn mnist_folder(dir: &Path, name: &str, train: Option<usize>, t10k: usize) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    let parts = [("train", train), ("t10k", Some(t10k))];
    for (part, n) in parts.iter().filter_map(|(p, n)| n.map(|n| (p, n))) {
        let (images, labels) = idx_pair(n);
        std::fs::write(d.join(format!("{part}-images-idx3-ubyte")), images).unwrap();
        std::fs::write(d.join(format!("{part}-labels-idx1-ubyte")), labels).unwrap();
    }
    d
}

#[test]
fn mnist_trains_on_train_and_holds_out_t10k_or_splits_t10k_alone() {
    let dir = tempfile::tempdir().unwrap();
    let run = |mnist: &Path, out: &str, extra: &[&str]| {
        let out = dir.path().join(out);
        let mut args = vec!["--mnist", s(mnist), "--epochs", "1", "--hidden", "3"];
        args.extend_from_slice(extra);
        args.extend(["--quiet", "--out", s(&out)]);
        (testing::run(BIN, &args), out)
    };
    // The split is said in the first (data) line and in summary.json (`data`, the counts).
    let says = |(o, out): (std::process::Output, PathBuf), split: &[&str], counts: (u64, u64)| {
        testing::ok(&o, split[0]);
        let text = String::from_utf8_lossy(&o.stdout);
        let first = text.lines().next().unwrap();
        let json = std::fs::read_to_string(out.join("summary.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        for words in split {
            assert!(first.contains(words), "{first}");
            assert!(v["data"].as_str().unwrap().contains(words), "{v}");
        }
        let count = |k: &str| v[k].as_u64().unwrap();
        assert_eq!(
            (count("train_examples"), count("held_out_examples")),
            counts
        );
    };
    // Both parts: all 30 training images to train, all 12 test images held out.
    let both = mnist_folder(dir.path(), "both", Some(30), 12);
    let all = "30 train-* images to train, the 12 t10k-* images held out";
    says(run(&both, "both", &[]), &[all], (30, 12));
    // --train takes some of train-*, never more than it holds.
    let some = "20 train-* images to train, the 12 t10k-* images held out";
    says(run(&both, "both-20", &["--train", "20"]), &[some], (20, 12));
    let (o, _) = run(&both, "both-31", &["--train", "31"]);
    assert_user_error(&o, "--train 31 of 30", &["--train", "31", "holds 30"]);
    // t10k alone: today's split of it, said as such.
    let alone = mnist_folder(dir.path(), "t10k-only", None, 12);
    let split = [
        "MNIST t10k in",
        "no train-* files there: 8 of its 12 images to train",
    ];
    says(run(&alone, "alone", &["--train", "8"]), &split, (8, 4));
}
