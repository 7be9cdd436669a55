//! The run session through the real binary: the shared contract's cases that apply to runs
//! without `--resume` (a finished run is kept unless `--overwrite`, one run per folder, closed
//! and full stdout, `--version`; every command here trains in well under a second, so there is
//! no checkpoint to resume from), `train` equal to the bare command, the model file, and each
//! command's own default folder and `wrote` line.

use shared::testing::{self, SessionContract, assert_same_outputs, ok};

const BIN: &str = env!("CARGO_BIN_EXE_backprop-xor");

#[test]
fn the_session_contract_without_resume() {
    let dir = tempfile::tempdir().unwrap();
    SessionContract {
        bin: BIN,
        short: &["train", "--iterations", "2000"],
        // About a microsecond an iteration: a minute, killed by the test once it holds the lock.
        long: &["train", "--iterations", "50000000", "--layers", "3,8,8,1"],
        length: ("--iterations", "4000"),
        resume_cmd: &[],
        fixed: ("--lr", "0.5"),
    }
    .check_all_but_resume(dir.path());
}

#[test]
fn train_is_the_bare_command_and_its_model_file_holds_the_weights() {
    let dir = tempfile::tempdir().unwrap();
    let (bare, train) = (dir.path().join("bare"), dir.path().join("train"));
    let flags = ["--iterations", "3000", "--layers", "3,5,2,1", "-q"];
    ok(
        &testing::run(BIN, &testing::args_with_out(&flags, &bare, &[])),
        "bare",
    );
    let args = [&["train"][..], &flags].concat();
    ok(
        &testing::run(BIN, &testing::args_with_out(&args, &train, &[])),
        "train",
    );
    assert_same_outputs(&bare, &train, &["loss.csv", "model.safetensors"]);
    let s = testing::summary_without_timing(&train.join("summary.json"));
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(s["flags"]["layers"], serde_json::json!([3, 5, 2, 1]));
    assert_eq!(s["flags"]["iterations"], 3000);
    let mut ck = shared::checkpoint::load(train.join("model.safetensors"), "backprop-xor").unwrap();
    use shared::session::Checkpointed;
    let t = backprop_xor::checkpoint::Trained::load(&mut ck, ()).unwrap();
    assert_eq!(t.layers, [3, 5, 2, 1]);
    assert_eq!(ck.meta_str("version").unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn each_command_writes_its_own_default_folder_and_says_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    for (args, tail) in [
        (
            &["--iterations", "100", "-q"][..],
            "wrote runs/backprop-xor/{loss.png, loss.csv, summary.json, model.safetensors}\n",
        ),
        (
            &["chain-rule"][..],
            "wrote runs/backprop-xor-chain-rule/{summary.json}\n",
        ),
        (
            &["simple-nets", "-q"][..],
            "wrote runs/backprop-xor-simple-nets/{loss.png, loss.csv, summary.json}\n",
        ),
    ] {
        let o = testing::run_in(BIN, dir.path(), args);
        ok(&o, &format!("{args:?}"));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.ends_with(tail), "{args:?}: {text}");
    }
}
