//! Bad input on the real binary: every file flag fed bad files, truncated IDX / .gz / CSV,
//! labels and image sizes the network cannot take, flags out of range, an `--out` that cannot
//! be written, a diverging run (curves kept, the previous model untouched), two runs at once,
//! and the same seed giving the same bytes. Every bad input must end with exit code 2 and one
//! `error:` line naming the file or flag (`shared::testing::assert_user_error`).

use shared::testing::{self, assert_user_error};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_conv-im2col");

/// A tiny but complete training run: 40 generated digits to train, 10 to test, 2 epochs of
/// batch 20 (4 steps).
const TINY: [&str; 9] = [
    "train",
    "--train-size",
    "40",
    "--test-size",
    "10",
    "--batch",
    "20",
    "--epochs",
    "2",
];

fn run(args: &[&str], out: &Path) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--quiet", "--out", out.to_str().unwrap()]);
    testing::run(BIN, &all)
}

fn name(p: &Path) -> &str {
    p.file_name().unwrap().to_str().unwrap()
}

fn be32(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// IDX images (magic 0x803): `n` images of `side`×`side`, pixel i of image k = (k + i) mod 256.
fn idx_images(n: usize, side: usize) -> Vec<u8> {
    let mut b = be32(&[0x803, n as u32, side as u32, side as u32]);
    b.extend((0..n * side * side).map(|i| ((i / (side * side) + i) % 256) as u8));
    b
}

/// IDX labels (magic 0x801): the given bytes.
fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = be32(&[0x801, labels.len() as u32]);
    b.extend_from_slice(labels);
    b
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A folder `dir/name` holding `t10k-images-idx3-ubyte{ext}` and `t10k-labels-idx1-ubyte{ext}`.
fn mnist_dir(dir: &Path, name: &str, ext: &str, images: &[u8], labels: &[u8]) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(format!("t10k-images-idx3-ubyte{ext}")), images).unwrap();
    std::fs::write(d.join(format!("t10k-labels-idx1-ubyte{ext}")), labels).unwrap();
    d
}

/// `dir` does not exist or holds no file (the session may have made the folder before the run
/// was refused; it leaves nothing in it, not even its lock).
fn wrote_nothing(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

fn digit_labels(n: usize) -> Vec<u8> {
    (0..n).map(|k| (k % 10) as u8).collect()
}

#[test]
fn mnist_and_digits_flags_reject_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (what, path) in testing::bad_files(dir.path()) {
        let p = path.to_str().unwrap();
        // --digits FILE: each bad file is named in the error.
        let o = run(&["train", "--digits", p, "--filter-size", "3"], &out);
        assert_user_error(&o, &format!("--digits {what}"), &[name(&path)]);
        // --mnist DIR: a file, a missing path or an empty folder; the error names it.
        let o = run(&["train", "--mnist", p], &out);
        assert_user_error(&o, &format!("--mnist {what}"), &[name(&path)]);
    }
    // The same bad contents as the t10k image file of an MNIST folder.
    for (what, path) in testing::bad_files(dir.path()) {
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let d = mnist_dir(
            dir.path(),
            &format!("mnist-{}", name(&path)),
            "",
            &bytes,
            &idx_labels(&digit_labels(50)),
        );
        let o = run(&["train", "--mnist", d.to_str().unwrap()], &out);
        assert_user_error(
            &o,
            &format!("t10k images: {what}"),
            &["t10k-images-idx3-ubyte"],
        );
    }
    assert!(!out.join("model.safetensors").exists());
}

#[test]
fn truncated_idx_and_gz_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (images, labels) = (idx_images(50, 28), idx_labels(&digit_labels(50)));
    let cut = |b: &[u8], keep: usize| b[..keep].to_vec();
    let cases: Vec<(&str, PathBuf, &str, &str)> = vec![
        (
            "images cut in the pixels",
            mnist_dir(
                dir.path(),
                "a",
                "",
                &cut(&images, images.len() - 100),
                &labels,
            ),
            "t10k-images-idx3-ubyte",
            "truncated",
        ),
        (
            "images cut in the header",
            mnist_dir(dir.path(), "b", "", &cut(&images, 10), &labels),
            "t10k-images-idx3-ubyte",
            "header",
        ),
        (
            "labels cut",
            mnist_dir(
                dir.path(),
                "c",
                "",
                &images,
                &cut(&labels, labels.len() - 3),
            ),
            "t10k-labels-idx1-ubyte",
            "truncated",
        ),
        (
            "labels and images swapped",
            mnist_dir(dir.path(), "d", "", &labels, &images),
            "t10k-images-idx3-ubyte",
            "magic",
        ),
        (
            "trailing bytes",
            mnist_dir(
                dir.path(),
                "e",
                "",
                &[&images[..], &[0; 7]].concat(),
                &labels,
            ),
            "t10k-images-idx3-ubyte",
            "trailing",
        ),
        (
            "more labels than images",
            mnist_dir(dir.path(), "f", "", &images, &idx_labels(&digit_labels(51))),
            "t10k-labels-idx1-ubyte",
            "51 labels",
        ),
    ];
    let gz_images = gzip(&images);
    let gz_cases: Vec<(&str, PathBuf, &str, &str)> = vec![
        (
            ".gz cut in half",
            mnist_dir(
                dir.path(),
                "g",
                ".gz",
                &cut(&gz_images, gz_images.len() / 2),
                &gzip(&labels),
            ),
            "t10k-images-idx3-ubyte.gz",
            "truncated or corrupt",
        ),
        (
            ".gz without its last 4 bytes (the length)",
            mnist_dir(
                dir.path(),
                "h",
                ".gz",
                &cut(&gz_images, gz_images.len() - 4),
                &gzip(&labels),
            ),
            "t10k-images-idx3-ubyte.gz",
            ".gz",
        ),
        (
            "a whole .gz of a truncated IDX",
            mnist_dir(
                dir.path(),
                "i",
                ".gz",
                &gzip(&cut(&images, images.len() - 1)),
                &gzip(&labels),
            ),
            "t10k-images-idx3-ubyte.gz",
            "truncated",
        ),
    ];
    for (what, d, file, says) in cases.iter().chain(&gz_cases) {
        let o = run(&["train", "--mnist", d.to_str().unwrap()], &out);
        assert_user_error(&o, what, &[file, says]);
    }
    // The intact files train (so the cases above fail for the stated reason only).
    let ok = mnist_dir(dir.path(), "ok", ".gz", &gz_images, &gzip(&labels));
    let o = run(
        &[
            "train",
            "--mnist",
            ok.to_str().unwrap(),
            "--epochs",
            "1",
            "--batch",
            "20",
        ],
        &out,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn mnist_data_the_network_cannot_take_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // A label byte that is not a digit (SimpleConvNet has 10 outputs).
    let mut labels = digit_labels(50);
    labels[17] = 12;
    let d = mnist_dir(
        dir.path(),
        "label12",
        "",
        &idx_images(50, 28),
        &idx_labels(&labels),
    );
    let o = run(&["train", "--mnist", d.to_str().unwrap()], &out);
    assert_user_error(&o, "label 12", &["label12", "item 17", "label 12"]);
    // train-* images of another size than t10k-*.
    let d = mnist_dir(
        dir.path(),
        "sizes",
        "",
        &idx_images(50, 28),
        &idx_labels(&digit_labels(50)),
    );
    std::fs::write(d.join("train-images-idx3-ubyte"), idx_images(30, 20)).unwrap();
    std::fs::write(
        d.join("train-labels-idx1-ubyte"),
        idx_labels(&digit_labels(30)),
    )
    .unwrap();
    let o = run(&["train", "--mnist", d.to_str().unwrap()], &out);
    assert_user_error(&o, "train 20×20, t10k 28×28", &["sizes", "20×20", "28×28"]);
    // Too few images to train on and test: none, or one.
    for n in [0, 1] {
        let d = mnist_dir(
            dir.path(),
            &format!("n{n}"),
            "",
            &idx_images(n, 28),
            &idx_labels(&digit_labels(n)),
        );
        let o = run(&["train", "--mnist", d.to_str().unwrap()], &out);
        assert_user_error(&o, &format!("{n} images"), &[&format!("n{n}"), "too few"]);
    }
    // Images too small for the 5×5 filter, or for the pooling after it.
    for (side, fs) in [(3, "5"), (8, "8")] {
        let d = mnist_dir(
            dir.path(),
            &format!("side{side}"),
            "",
            &idx_images(20, side),
            &idx_labels(&digit_labels(20)),
        );
        let o = run(
            &["train", "--mnist", d.to_str().unwrap(), "--filter-size", fs],
            &out,
        );
        assert_user_error(&o, &format!("{side}×{side} images"), &["--filter-size"]);
    }
    assert!(!out.join("model.safetensors").exists());
}

#[test]
fn bad_digits_csv_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let line = |label: u32| {
        let mut f: Vec<String> = (0..64).map(|i| (i % 17).to_string()).collect();
        f.push(label.to_string());
        f.join(",")
    };
    let good: String = (0..20).map(|i| line(i % 10) + "\n").collect();
    let cases = [
        (
            "truncated.csv",
            good[..good.len() - 40].to_string(),
            "line 20",
        ),
        (
            "header-only.csv",
            "pixel_0,pixel_1,target\n".into(),
            "no image",
        ),
        ("label-11.csv", line(11) + "\n" + &good, "label 11"),
        ("one-image.csv", line(3) + "\n", "too few"),
        (
            "words.csv",
            good.replacen("16", "sixteen", 1),
            "not a whole number",
        ),
    ];
    for (file, text, says) in cases {
        let p = dir.path().join(file);
        std::fs::write(&p, text).unwrap();
        let o = run(
            &[
                "train",
                "--digits",
                p.to_str().unwrap(),
                "--filter-size",
                "3",
            ],
            &out,
        );
        assert_user_error(&o, file, &[file, says]);
    }
    // The intact file trains.
    let p = dir.path().join("good.csv");
    std::fs::write(&p, &good).unwrap();
    let o = run(
        &[
            "train",
            "--digits",
            p.to_str().unwrap(),
            "--filter-size",
            "3",
            "--epochs",
            "1",
        ],
        &out,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn flags_out_of_range_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cases: [(&[&str], &str); 19] = [
        (&["--epochs", "0"], "--epochs"),
        (&["--batch", "0"], "--batch"),
        (&["--train-size", "0"], "--train-size"),
        (&["--test-size", "0"], "--test-size"),
        (&["--filter-size", "0"], "--filter-size"),
        (&["--filter-size", "29"], "--filter-size"),
        (&["--lr=-1"], "--lr"),
        (&["--lr", "0"], "--lr"),
        (&["--lr", "NaN"], "--lr"),
        (&["--lr", "inf"], "--lr"),
        (&["--lr", "fast"], "--lr"),
        (&["--init", "xavier"], "--init"),
        (&["--adam", "nadam"], "--adam"),
        (&["--sampling", "random"], "--sampling"),
        (&["--mnist", "a", "--digits", "b"], "--digits"),
        (&["--groups", "0"], "--groups"),
        (&["--groups", "9"], "--groups"),
        (&["--threads", "0"], "--threads"),
        (&["--threads", "two"], "--threads"),
    ];
    for (flags, mention) in cases {
        let mut args = vec!["train"];
        args.extend_from_slice(flags);
        let o = run(&args, &out);
        assert_user_error(&o, &format!("{flags:?}"), &[mention]);
    }
    assert!(
        wrote_nothing(&out),
        "a refused flag must not write into --out"
    );
}

#[test]
fn an_out_that_cannot_be_written_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("regular-file");
    std::fs::write(&file, "x").unwrap();
    let o = run(&TINY, &file.join("sub"));
    assert_user_error(&o, "--out under a regular file", &["regular-file"]);
    let o = run(&TINY, &file);
    assert_user_error(&o, "--out is a regular file", &["regular-file"]);
}

#[test]
fn divergence_stops_with_the_step_and_keeps_curves_and_the_previous_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // A good run first: its model is the "last good checkpoint".
    assert!(run(&TINY, &out).status.success());
    let model = std::fs::read(out.join("model.safetensors")).unwrap();
    // Adam moves every weight by about lr per step. At 1e200 the second step's scores
    // overflow to inf and the loss is NaN; at 1e6 the weights stay finite (~1e6) but the
    // second step's loss jumps to about 26 nats, most of the batch at the cross-entropy's
    // floor of 30 (a right class with probability 0): both are divergence, at step 2.
    for lr in ["1e200", "1e6"] {
        std::fs::remove_file(out.join("loss.csv")).unwrap();
        std::fs::remove_file(out.join("loss.png")).unwrap();
        let mut args = TINY.to_vec();
        args.extend(["--lr", lr, "--overwrite"]);
        let o = run(&args, &out);
        assert_user_error(
            &o,
            &format!("--lr {lr}"),
            &["training diverged at step 2", "--lr"],
        );
        assert_eq!(std::fs::read(out.join("model.safetensors")).unwrap(), model);
        // The curves up to the last good loss: step 1 only.
        assert!(out.join("loss.png").is_file());
        let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
        let steps: Vec<&str> = csv
            .lines()
            .filter(|l| l.starts_with("training loss,loss per step,"))
            .collect();
        assert_eq!(steps.len(), 1, "{csv}");
        let loss: f64 = steps[0].rsplit(',').next().unwrap().parse().unwrap();
        assert!(
            loss.is_finite() && (loss - 10f64.ln()).abs() < 0.1,
            "{loss}"
        );
    }
}

const OUTPUTS: [&str; 4] = ["loss.csv", "model.safetensors", "filters.png", "loss.png"];

#[test]
fn the_same_seed_gives_the_same_outputs_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    assert!(run(&TINY, &a).status.success());
    assert!(run(&TINY, &b).status.success());
    testing::assert_same_outputs(&a, &b, &OUTPUTS);
    let mut other = TINY.to_vec();
    other.extend(["--seed", "2"]);
    assert!(run(&other, &c).status.success());
    let csv = |d: &Path| std::fs::read(d.join("loss.csv")).unwrap();
    assert_ne!(csv(&a), csv(&c), "seed 2 gave the same curves as seed 1");
}

#[test]
fn two_runs_at_once_in_different_folders_do_not_interfere() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let start = |out: &Path| {
        Command::new(BIN)
            .args(TINY)
            .args(["--quiet", "--out"])
            .arg(out)
            .output()
    };
    let (oa, ob) = std::thread::scope(|s| {
        let ta = s.spawn(|| start(&a));
        let tb = s.spawn(|| start(&b));
        (ta.join().unwrap().unwrap(), tb.join().unwrap().unwrap())
    });
    assert!(oa.status.success() && ob.status.success());
    testing::assert_same_outputs(&a, &b, &OUTPUTS);
    for d in [&a, &b] {
        let names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| !n.contains(".tmp") && !n.starts_with('.')),
            "temporary files left: {names:?}"
        );
    }
}

/// `TINY` with `--epochs` set to `epochs`, then the flag-value pairs of `extra` (replacing
/// TINY's value of the same flag, as a flag may be given once).
fn tiny(epochs: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = TINY.iter().map(|s| s.to_string()).collect();
    for pair in ["--epochs", epochs].chunks(2).chain(extra.chunks(2)) {
        match args.iter().position(|a| a == pair[0]) {
            Some(i) => args[i + 1] = pair[1].to_string(),
            None => args.extend(pair.iter().map(|s| s.to_string())),
        }
    }
    args
}

fn run_ok(args: &[String], out: &Path) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&args, out);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The epoch a checkpoint holds (it must load as a network, too).
fn epoch_of(file: &Path) -> u64 {
    conv_im2col::checkpoint::load_net::<f64>(file).unwrap();
    let ck = shared::checkpoint::load(file, "conv-im2col").unwrap();
    ck.meta("epoch").unwrap()
}

#[test]
fn a_resumed_run_gives_the_same_bytes_as_one_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n);
    for (sampling, extra) in [
        ("shuffled", &[][..]),
        (
            "replacement",
            &["--sampling", "replacement", "--init", "he"][..],
        ),
    ] {
        let (straight, part) = (d(&format!("{sampling}-3")), d(&format!("{sampling}-2")));
        run_ok(&tiny("3", extra), &straight);
        // 2 epochs, then --resume FOLDER to 3 into another folder.
        run_ok(&tiny("2", extra), &part);
        assert_eq!(epoch_of(&part.join("model.safetensors")), 2);
        let resumed = d(&format!("{sampling}-resumed"));
        let mut args = tiny("3", extra);
        args.extend(["--resume".into(), part.to_str().unwrap().into()]);
        run_ok(&args, &resumed);
        testing::assert_same_outputs(&straight, &resumed, &OUTPUTS);
        // 1 epoch, then --resume FILE in place to 2, then to 3.
        let inplace = d(&format!("{sampling}-inplace"));
        run_ok(&tiny("1", extra), &inplace);
        for epochs in ["2", "3"] {
            let mut args = tiny(epochs, extra);
            let file = inplace.join("model.safetensors");
            args.extend(["--resume".into(), file.to_str().unwrap().into()]);
            run_ok(&args, &inplace);
        }
        testing::assert_same_outputs(&straight, &inplace, &OUTPUTS);
    }
}

/// Rewrites the checkpoint `src` to `dst` after `edit` changed its tensors or metadata.
fn edited(
    src: &Path,
    dst: &Path,
    edit: impl FnOnce(
        &mut std::collections::HashMap<String, nalgebra::DMatrix<f64>>,
        &mut std::collections::HashMap<String, String>,
    ),
) -> PathBuf {
    let mut ck = shared::checkpoint::load(src, "conv-im2col").unwrap();
    edit(&mut ck.tensors, &mut ck.metadata);
    let tensors: Vec<(&str, &nalgebra::DMatrix<f64>)> =
        ck.tensors.iter().map(|(k, m)| (k.as_str(), m)).collect();
    let meta: Vec<(&str, String)> = ck
        .metadata
        .iter()
        .filter(|(k, _)| !["chapter", "checksum"].contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    shared::checkpoint::save(dst, "conv-im2col", &tensors, &meta).unwrap();
    dst.to_path_buf()
}

#[test]
fn resume_refuses_bad_checkpoints_and_contradicting_flags() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    run_ok(&tiny("2", &[]), &good);
    let file = good.join("model.safetensors");
    let out = dir.path().join("out");
    let resume = |path: &Path, flags: &[&str]| {
        let mut args = tiny("3", flags);
        args.extend(["--resume".into(), path.to_str().unwrap().into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args, &out)
    };
    // Files that are not a checkpoint at all, and a folder without one.
    for (what, path) in testing::bad_files(dir.path()) {
        let o = resume(&path, &[]);
        assert_user_error(&o, &format!("--resume {what}"), &[name(&path)]);
    }
    // Another chapter's checkpoint, truncated, a flipped bit.
    let other = dir.path().join("char-rnn.safetensors");
    let w = nalgebra::DMatrix::from_element(2, 2, 0.5);
    shared::checkpoint::save(&other, "char-rnn", &[("W", &w)], &[]).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 1000]).unwrap();
    let flipped = dir.path().join("flipped.safetensors");
    let mut f = bytes.clone();
    let at = f.len() - 5000;
    f[at] ^= 0x10;
    std::fs::write(&flipped, f).unwrap();
    for (path, says) in [
        (&other, "chapter `char-rnn`"),
        (&cut, "cut.safetensors"),
        (&flipped, "corrupted"),
    ] {
        assert_user_error(&resume(path, &[]), name(path), &[says]);
    }
    // Edited: other sizes than its tensors, counts that do not fit, a missing moment.
    let d = dir.path();
    let cases = [
        (
            edited(&file, &d.join("hidden.safetensors"), |_, m| {
                m.insert("hidden".into(), "50".into());
            }),
            "expected 50×",
        ),
        (
            edited(&file, &d.join("epoch.safetensors"), |_, m| {
                m.insert("epoch".into(), "1".into());
            }),
            "do not fit",
        ),
        (
            edited(&file, &d.join("moment.safetensors"), |t, _| {
                t.remove("adam.v.W2");
            }),
            "adam.v.W2",
        ),
        (
            edited(&file, &d.join("curve.safetensors"), |t, _| {
                t.get_mut("curve.loss").unwrap()[(1, 0)] = 7.0;
            }),
            "curve.loss",
        ),
    ];
    for (path, says) in &cases {
        assert_user_error(&resume(path, &[]), name(path), &[name(path), says]);
    }
    // Flags that contradict the checkpoint (the run folder or the file itself).
    let flags: [(&[&str], &str); 10] = [
        (&["--seed", "2"], "--seed"),
        (&["--lr", "0.002"], "--lr"),
        (&["--init", "he"], "--init"),
        (&["--adam", "saito"], "--adam"),
        (&["--sampling", "replacement"], "--sampling"),
        (&["--filter-size", "3"], "--filter-size"),
        (&["--train-size", "30"], "--train-size"),
        (&["--test-size", "5"], "--test-size"),
        (&["--batch", "10"], "--batch"),
        (&["--epochs", "2"], "already done 2 epochs"),
    ];
    for (extra, says) in flags {
        for path in [&good, &file] {
            let o = resume(path, extra);
            assert_user_error(&o, &format!("{extra:?}"), &[says]);
        }
    }
    assert!(
        wrote_nothing(&out),
        "a refused resume must not write into --out"
    );
    // The good checkpoint itself resumes.
    assert!(resume(&good, &[]).status.success());
}

#[test]
fn sigkill_mid_training_leaves_a_checkpoint_that_resume_continues_exactly() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    // 20 epochs of 5 steps, a 10 MB checkpoint (synced, renamed) after each: a kill lands in
    // a step, an evaluation or a write.
    let args = tiny("20", &["--train-size", "50", "--batch", "10"]);
    let straight = dir.path().join("straight");
    run_ok(&args, &straight);
    for (k, wait_ms) in [0u64, 170, 450].into_iter().enumerate() {
        let killed = dir.path().join(format!("killed-{k}"));
        let mut child = Command::new(BIN)
            .args(&args)
            .args(["--quiet", "--out"])
            .arg(&killed)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let file = killed.join("model.safetensors");
        let start = Instant::now();
        while !file.exists() {
            assert!(start.elapsed() < Duration::from_secs(60), "no checkpoint");
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(wait_ms));
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the kill: make it longer"
        );
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // The checkpoint on disk is whole: it loads, at an epoch the run had finished.
        let n = epoch_of(&file);
        assert!((1..20).contains(&n), "epoch {n}");
        let temp = std::fs::read_dir(&killed)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".tmp")
            })
            .count();
        println!(
            "kill {k} after {wait_ms} ms: checkpoint of epoch {n}, {temp} temporary file(s) left"
        );
        // --resume (in place) finishes the run: the same bytes as the uninterrupted one.
        let mut resume = args.clone();
        resume.extend(["--resume".into(), killed.to_str().unwrap().into()]);
        run_ok(&resume, &killed);
        testing::assert_same_outputs(&straight, &killed, &OUTPUTS);
        // The resumed run's writes removed what the killed writer left behind.
        let left: Vec<_> = std::fs::read_dir(&killed)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect();
        assert!(left.is_empty(), "kill {k}: temporary files left: {left:?}");
    }
}
