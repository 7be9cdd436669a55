//! Support for the chapters' integration tests that run their real binaries: the contract of
//! DESIGN.md checked the same way in every crate (bad input ends with exit code 2 and one line
//! `error: ...`; the same seed gives the same outputs).
//!
//! ```no_run
//! use shared::testing;
//! let dir = tempfile::tempdir().unwrap();
//! # let bin = "rnn-adder";
//! for (what, path) in testing::bad_files(dir.path()) {
//!     let out = testing::run(bin, &["train", "--text", path.to_str().unwrap()]);
//!     testing::assert_user_error(&out, what, &[path.file_name().unwrap().to_str().unwrap()]);
//! }
//! ```

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs the binary at `bin` (e.g. `env!("CARGO_BIN_EXE_char-rnn")`) with `args`.
pub fn run<S: AsRef<std::ffi::OsStr>>(bin: &str, args: &[S]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"))
}

/// Runs the binary at `bin` with `args` in the folder `cwd` (where a run without `--out`
/// writes its default `runs/…` folder).
pub fn run_in(bin: &str, cwd: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"))
}

/// The arguments of a run: `base` (e.g. a short run's flags), then `--out out`, then `extra`
/// (the flags a test varies).
pub fn args_with_out(base: &[&str], out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    args.push("--out".into());
    args.push(out.display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Asserts the DESIGN.md contract for bad input: exit code 2, stderr is one line starting with
/// `error: ` that contains every string of `mentions`, and no panic text anywhere. `what`
/// names the case in the failure message.
pub fn assert_user_error(out: &Output, what: &str, mentions: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: exit code {:?}\nstderr: {stderr}\nstdout: {stdout}",
        out.status.code()
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    // clap's own usage errors add a usage block after their `error:` line; ours are one line.
    let first = lines.first().copied().unwrap_or("");
    assert!(
        first.starts_with("error: "),
        "{what}: stderr does not start with `error: `: {stderr}"
    );
    let clap_usage = stderr.contains("For more information, try '--help'");
    assert!(
        lines.len() == 1 || clap_usage,
        "{what}: expected one line on stderr, got {}: {stderr}",
        lines.len()
    );
    for m in mentions {
        assert!(
            first.contains(m),
            "{what}: the error does not mention {m:?}: {first}"
        );
    }
    for text in [&stderr, &stdout] {
        assert!(
            !text.contains("panicked") && !text.contains("internal error"),
            "{what}: panic: {text}"
        );
    }
}

/// Creates the bad inputs every file-reading flag must reject with a clear error, inside `dir`:
/// a missing file, a directory, an empty file, random binary bytes, non-UTF-8 text. Returns
/// (description, path) pairs; the file name of each path is unique, so an error can be checked
/// to name it.
pub fn bad_files(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let missing = dir.join("missing-file.txt");
    let folder = dir.join("a-folder");
    std::fs::create_dir_all(&folder).expect("create folder");
    let empty = dir.join("empty-file.txt");
    std::fs::write(&empty, b"").expect("write");
    let random = dir.join("random-bytes.bin");
    let mut rng = crate::rng::seeded(7);
    let bytes: Vec<u8> = (0..4096)
        .map(|_| crate::rng::below(&mut rng, 256) as u8)
        .collect();
    std::fs::write(&random, bytes).expect("write");
    let latin1 = dir.join("latin1.txt");
    std::fs::write(
        &latin1,
        b"caf\xe9 au lait, na\xefve r\xe9sum\xe9\n".repeat(200),
    )
    .expect("write");
    vec![
        ("a missing file", missing),
        ("a directory", folder),
        ("an empty file", empty),
        ("random bytes", random),
        ("non-UTF-8 text", latin1),
    ]
}

/// `summary.json` without the fields that measure time or echo the command line, so two runs
/// with the same seed and flags can be compared for equality.
pub fn summary_without_timing(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut v: Value = serde_json::from_str(&text).expect("summary.json is JSON");
    if let Value::Object(m) = &mut v {
        m.retain(|k, _| !is_timing_key(k));
        strip_timing(m);
        // Where and how a run ran (its folder, whether it was resumed, its threads) are not
        // results: the session's invocation flags.
        if let Some(Value::Object(flags)) = m.get_mut("flags") {
            for k in crate::session::INVOCATION_FLAGS {
                flags.remove(k);
            }
        }
    }
    v
}

fn is_timing_key(k: &str) -> bool {
    k == "args"
        || k.contains("seconds")
        || k.contains("per_second")
        || k.ends_with("_ms")
        || k.ends_with("_us")
}

fn strip_timing(m: &mut serde_json::Map<String, Value>) {
    m.retain(|k, _| !is_timing_key(k));
    m.values_mut().for_each(strip_value);
}

/// Strips timing keys inside objects at any depth, also inside arrays (e.g. a list of runs).
fn strip_value(v: &mut Value) {
    match v {
        Value::Object(inner) => strip_timing(inner),
        Value::Array(items) => items.iter_mut().for_each(strip_value),
        _ => {}
    }
}

/// Asserts two run folders hold the same results: every file in `a` named in `files` is
/// byte-identical in `b`, and `summary.json` agrees apart from timing (see
/// [`summary_without_timing`]).
pub fn assert_same_outputs(a: &Path, b: &Path, files: &[&str]) {
    for f in files {
        let (x, y) = (a.join(f), b.join(f));
        let bx = std::fs::read(&x).unwrap_or_else(|e| panic!("{}: {e}", x.display()));
        let by = std::fs::read(&y).unwrap_or_else(|e| panic!("{}: {e}", y.display()));
        assert!(
            bx == by,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
    assert_eq!(
        summary_without_timing(&a.join("summary.json")),
        summary_without_timing(&b.join("summary.json")),
        "summary.json differs beyond timing"
    );
}

/// The run session's contract (`shared::session`), checked through a chapter's real binary.
/// `short` is a training command that finishes in a second or two (without `--out`); `long` one
/// that runs for several seconds (long enough to be interrupted); `length` the flag of the run
/// length and a larger value for it (e.g. `("--iterations", "400")`), to continue `short`.
pub struct SessionContract<'a> {
    /// The binary (`env!("CARGO_BIN_EXE_<crate>")`).
    pub bin: &'a str,
    /// A short training command, e.g. `&["train", "--iterations", "200"]`.
    pub short: &'a [&'a str],
    /// A training command of several seconds.
    pub long: &'a [&'a str],
    /// The run-length flag and a value above `short`'s, for a resume that continues it.
    pub length: (&'a str, &'a str),
    /// The command that resumes (`["train"]`, or `[]` where training is the bare command).
    pub resume_cmd: &'a [&'a str],
    /// A flag of `short` that a resume may not change, with another value (e.g. `("--lr", "0.5")`).
    pub fixed: (&'a str, &'a str),
}

impl SessionContract<'_> {
    fn run_in(&self, base: &[&str], out: &Path, extra: &[&str]) -> Output {
        run(self.bin, &args_with_out(base, out, extra))
    }

    fn resume_args(&self, from: &Path, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = self.resume_cmd.iter().map(|s| s.to_string()).collect();
        a.push("--resume".into());
        a.push(from.display().to_string());
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    /// Every case: a finished run is never replaced, a resume continues in its own folder with
    /// its own flags, one run per folder, closed and full stdout, Ctrl-C, `--version`.
    pub fn check_all(&self, dir: &Path) {
        self.finished_run_is_kept(dir);
        self.resume_continues_in_its_folder(dir);
        self.second_run_is_refused(dir);
        self.closed_stdout_still_saves(dir);
        self.full_stdout_is_an_error(dir);
        self.ctrl_c_saves_and_resumes(dir);
        self.version();
    }

    /// Every case but those that resume (for a command that has no `--resume`, its runs being
    /// short): a finished run is never replaced, one run per folder, closed and full stdout,
    /// `--version`. `length`, `resume_cmd` and `fixed` are not used.
    pub fn check_all_but_resume(&self, dir: &Path) {
        self.finished_run_is_kept(dir);
        self.second_run_is_refused(dir);
        self.closed_stdout_still_saves(dir);
        self.full_stdout_is_an_error(dir);
        self.version();
    }

    /// A new run refuses a folder that holds a run; `--overwrite` replaces it.
    pub fn finished_run_is_kept(&self, dir: &Path) {
        let out = dir.join("kept");
        ok(&self.run_in(self.short, &out, &[]), "first run");
        let before = std::fs::read(out.join("summary.json")).expect("summary.json");
        let again = self.run_in(self.short, &out, &[]);
        assert_user_error(
            &again,
            "a second run on a finished run",
            &["already holds a run", "--overwrite"],
        );
        assert_eq!(
            std::fs::read(out.join("summary.json")).unwrap(),
            before,
            "the finished run was touched"
        );
        ok(
            &self.run_in(self.short, &out, &["--overwrite"]),
            "--overwrite",
        );
    }

    /// `--resume DIR` writes to DIR (not the default folder), keeps the stored flags, refuses a
    /// changed one by name, and takes the folder or the file in it.
    pub fn resume_continues_in_its_folder(&self, dir: &Path) {
        let (a, other) = (dir.join("resume-a"), dir.join("resume-other"));
        ok(&self.run_in(self.short, &other, &[]), "another run");
        let other_model = std::fs::read(other.join("model.safetensors")).expect("model");
        ok(&self.run_in(self.short, &a, &[]), "the run to resume");
        let before = std::fs::read(a.join("model.safetensors")).unwrap();
        let (flag, value) = self.fixed;
        let o = run(
            self.bin,
            &self.resume_args(&a, &[self.length.0, self.length.1, flag, value]),
        );
        assert_user_error(&o, "a resume with a changed flag", &[flag]);
        let model_file = a.join("model.safetensors");
        let o = run(
            self.bin,
            &self.resume_args(&model_file, &[self.length.0, self.length.1, "--quiet"]),
        );
        ok(&o, "resume from the model file");
        assert_ne!(
            std::fs::read(&model_file).unwrap(),
            before,
            "the resumed run did not save in its folder"
        );
        assert_eq!(
            std::fs::read(other.join("model.safetensors")).unwrap(),
            other_model,
            "another folder changed"
        );
    }

    /// A second run on a folder in use is refused with a line naming the folder and the process.
    pub fn second_run_is_refused(&self, dir: &Path) {
        let out = dir.join("busy");
        let mut first = self.spawn(self.long, &out, Stdio::null());
        wait_for_lock(&out, &mut first);
        let second = self.run_in(self.short, &out, &[]);
        let _ = first.kill();
        let _ = first.wait();
        assert_user_error(
            &second,
            "a second run on a busy folder",
            &["in use", &format!("process {}", first.id())],
        );
    }

    /// A run whose stdout reader goes away keeps training and saves everything (exit 0).
    pub fn closed_stdout_still_saves(&self, dir: &Path) {
        let out = dir.join("closed-stdout");
        let mut child = self.spawn(self.short, &out, Stdio::piped());
        drop(child.stdout.take());
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "a closed stdout");
        for f in ["loss.csv", "summary.json"] {
            assert!(out.join(f).is_file(), "{f} not written with stdout closed");
        }
    }

    /// A full stdout is an `error:` line with exit code 2, not a panic.
    pub fn full_stdout_is_an_error(&self, dir: &Path) {
        let Ok(full) = std::fs::File::create("/dev/full") else {
            return;
        };
        let out = dir.join("full-stdout");
        let child = self.spawn(self.short, &out, Stdio::from(full));
        let o = child.wait_with_output().expect("wait");
        assert_user_error(&o, "a full stdout", &["stdout"]);
    }

    /// The first Ctrl-C saves the checkpoint and the curves, says how to continue and exits
    /// 130; the resumed run ends with the same outputs as one never stopped.
    pub fn ctrl_c_saves_and_resumes(&self, dir: &Path) {
        let (stopped, whole) = (dir.join("ctrl-c"), dir.join("ctrl-c-whole"));
        let mut child = self.spawn(self.long, &stopped, Stdio::null());
        wait_for_lock(&stopped, &mut child);
        std::thread::sleep(std::time::Duration::from_millis(300));
        let killed = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        let o = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(130), "Ctrl-C: {stderr}");
        assert!(
            stderr.contains("--resume"),
            "Ctrl-C does not say how to continue: {stderr}"
        );
        for f in ["model.safetensors", "loss.csv"] {
            assert!(stopped.join(f).is_file(), "{f} not saved at Ctrl-C");
        }
        ok(
            &run(self.bin, &self.resume_args(&stopped, &["--quiet"])),
            "resume after Ctrl-C",
        );
        ok(
            &self.run_in(self.long, &whole, &[]),
            "the run never stopped",
        );
        assert_same_outputs(&stopped, &whole, &["model.safetensors", "loss.csv"]);
    }

    /// `--version` prints the name and version.
    pub fn version(&self) {
        let o = run(self.bin, &["--version"]);
        ok(&o, "--version");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(env!("CARGO_PKG_VERSION")) || text.split_whitespace().count() == 2,
            "{text}"
        );
    }

    fn spawn(&self, base: &[&str], out: &Path, stdout: Stdio) -> std::process::Child {
        Command::new(self.bin)
            .args(args_with_out(base, out, &["--quiet"]))
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin))
    }
}

/// Waits (up to 30 s) until the run writing to `out` holds its lock.
fn wait_for_lock(out: &Path, child: &mut std::process::Child) {
    for _ in 0..3000 {
        if out.join(".lock").exists() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the run ended ({status}) before it locked {}",
                out.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("no lock in {} after 30 s", out.display());
}

/// Asserts a run succeeded.
pub fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what}: exit {:?}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A global allocator that counts the allocations made by the threads that asked to be
/// counted, for tests that a training loop allocates nothing. Only the calling thread is
/// counted (the test harness allocates on its own threads at any time). Declare it in the test
/// binary:
///
/// ```no_run
/// #[global_allocator]
/// static ALLOC: shared::testing::CountingAlloc = shared::testing::CountingAlloc;
///
/// let n = shared::testing::allocations_during(|| { /* the loop */ });
/// assert_eq!(n, 0);
/// ```
pub struct CountingAlloc;

static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

thread_local! {
    static COUNTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn note_allocation() {
    // `try_with`: the thread-local may already be gone while a thread shuts down.
    if COUNTING.try_with(|c| c.get()).unwrap_or(false) {
        COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is updated.
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        note_allocation();
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        note_allocation();
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

/// The number of allocations (and reallocations) `f` makes on the calling thread, when the
/// test binary's global allocator is [`CountingAlloc`] (otherwise always 0).
pub fn allocations_during(f: impl FnOnce()) -> usize {
    use std::sync::atomic::Ordering;
    COUNTING.with(|c| c.set(true));
    let before = COUNT.load(Ordering::SeqCst);
    f();
    let after = COUNT.load(Ordering::SeqCst);
    COUNTING.with(|c| c.set(false));
    after - before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_made() {
        let dir = tempfile::tempdir().unwrap();
        let files = bad_files(dir.path());
        assert_eq!(files.len(), 5);
        assert!(!files[0].1.exists());
        assert!(files[1].1.is_dir());
        assert_eq!(std::fs::metadata(&files[2].1).unwrap().len(), 0);
        assert!(String::from_utf8(std::fs::read(&files[4].1).unwrap()).is_err());
    }

    #[test]
    fn timing_is_stripped_at_every_depth() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("summary.json");
        std::fs::write(
            &p,
            r#"{"seed":1,"wall_seconds":2.5,"steps_per_second":9,"args":["x"],"final_loss":0.5,"adam":{"seconds":1,"acc":0.9},"runs":[{"train_seconds":0.1,"cost":2},[{"x_ms":3}]]}"#,
        )
        .unwrap();
        let v = summary_without_timing(&p);
        assert_eq!(
            v,
            serde_json::json!({"seed":1,"final_loss":0.5,"adam":{"acc":0.9},"runs":[{"cost":2},[{}]]})
        );
    }
}
