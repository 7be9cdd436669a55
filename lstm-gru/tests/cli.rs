//! The binary's contract (DESIGN.md): bad input ends with exit code 2 and one line `error: ...`
//! naming what was wrong; the same seed gives the same files.

use shared::testing;

const BIN: &str = env!("CARGO_BIN_EXE_lstm-gru");

fn run(args: &[&str]) -> std::process::Output {
    testing::run(BIN, args)
}

#[test]
fn bad_text_files_and_bad_checkpoints_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    for (what, path) in testing::bad_files(dir.path()) {
        let name = path.file_name().unwrap().to_str().unwrap();
        let p = path.to_str().unwrap();
        let o = run(&["text", "--text", p, "--out", out, "--quiet"]);
        testing::assert_user_error(&o, &format!("text: {what}"), &[name]);
        let o = run(&["sample", "--model", p]);
        testing::assert_user_error(&o, &format!("sample: {what}"), &[name]);
    }
    let short = dir.path().join("short.txt");
    std::fs::write(&short, "to be or not to be\n").unwrap();
    let o = run(&[
        "text",
        "--text",
        short.to_str().unwrap(),
        "--out",
        out,
        "-q",
    ]);
    testing::assert_user_error(&o, "a text too short for one chunk", &["too few"]);
}

#[test]
fn bad_flags_are_one_line_errors() {
    for (args, mention) in [
        (&["--hidden", "0"][..], "--hidden"),
        (&["adding", "--length", "1"], "--length"),
        (&["adding", "--lr=-1"], "--lr"),
        (&["text", "--seconds", "0"], "--seconds"),
        (&["text", "--layers", "0"], "--layers"),
        (&["sample", "--temperature=-1"], "--temperature"),
        (&["adding", "--cell", "transformer"], "--cell"),
    ] {
        let o = run(args);
        testing::assert_user_error(&o, &format!("{args:?}"), &[mention]);
    }
}

#[test]
fn same_seed_same_files_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        let out = out.to_str().unwrap();
        let o = run(&[
            "adding", "--length", "10", "--hidden", "4", "--steps", "20", "--out", out, "-q",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = format!("{out}/text");
        let o = run(&[
            "text",
            "--layers",
            "1",
            "--hidden",
            "8",
            "--steps",
            "4",
            "--eval-every",
            "2",
            "--out",
            &text,
            "-q",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    testing::assert_same_outputs(&a, &b, &["loss.csv", "loss.png"]);
    let files = ["loss.csv", "model.safetensors"];
    testing::assert_same_outputs(&a.join("text"), &b.join("text"), &files);
    let sample = |dir: &std::path::Path| {
        let model = dir.join("text/model.safetensors");
        let o = run(&[
            "sample",
            "--model",
            model.to_str().unwrap(),
            "--len",
            "50",
            "--prime",
            "the ",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8(o.stdout).unwrap();
        // The first line names the model that answers.
        let (first, text) = out.split_once('\n').unwrap();
        assert!(
            first.starts_with("model: ") && first.contains("1 × 8 lstm"),
            "{first}"
        );
        text.to_string()
    };
    let s = sample(&a);
    assert!(
        s.starts_with("the ") && s.trim_end().chars().count() >= 40,
        "{s:?}"
    );
    assert_eq!(s, sample(&b));
}
