//! The one run session every chapter uses: where a run writes, who may write there, how a run
//! is saved, stopped and continued, and what it reports.
//!
//! ```text
//! let (cli, given) = shared::cli::parse::<Cli>(&CHAPTER);          // flags, and which were typed
//! let start = Session::train(CHAPTER, Start { run: &a.run, resume: a.resume.as_deref(),
//!                            flags: &a, given: &given, may_change: &["iterations"] })?;
//! let mut state = match start.resumed { Some(mut ck) => State::load(&mut ck, &data)?,
//!                                       None => State::new(&start.flags, &data) };
//! let session = start.session;
//! while state.step < start.flags.iterations {
//!     state.step(&data)?;                                           // the chapter's update
//!     if session.interrupted() { session.save_checkpoint(&state)?; return Err(session.stopped(state.step)) }
//! }
//! session.save_checkpoint(&state)?;  session.save_loss(&figure)?;  session.save_summary(steps, metrics)?;
//! session.finish()                                                  // "wrote runs/char-rnn/{…}"
//! ```
//!
//! What it guarantees (each has a test through a real binary in the chapters):
//! - **The folder.** `--out DIR`, else the folder a `--resume` names, else `runs/<chapter>`
//!   (`runs/<chapter>-<command>` for a chapter's other commands). A new run refuses a folder
//!   that already holds a run unless `--overwrite` is given: a finished run is never replaced
//!   by accident. A resumed run continues in its own folder unless `--out` says otherwise.
//! - **One run per folder.** A lock file (`.lock`, holding the process id) is taken when the
//!   session starts and removed when it ends; a second run on the same folder is refused with a
//!   line naming the folder and the running process. A killed run's lock is stale (its process
//!   is gone) and the next run takes it over.
//! - **One file holds the model.** [`Session::save_checkpoint`] writes `model.safetensors`
//!   atomically with everything the model needs (the chapter's tensors and metadata, e.g. the
//!   vocabulary), the program version and the run's effective flags.
//! - **Resume.** [`Session::train`] loads the checkpoint a `--resume` names (a folder or the
//!   file in it) and merges the flags: a flag not typed again keeps the stored value; a typed
//!   flag that differs is refused with the flag's name, unless the chapter lists it in
//!   `may_change` (the run length, which is a total, `--quiet`, `--threads`).
//! - **Ctrl-C.** The first Ctrl-C (or SIGTERM) asks the training loop to stop after the current
//!   step: the chapter saves the checkpoint and the curves and returns [`Session::stopped`],
//!   which prints how to continue and exits 130. A second Ctrl-C stops at once.
//! - **stdout.** [`say`] prints a line; a reader that goes away (`| head`) does not stop
//!   training (the run still saves everything), a failing stdout (`> /dev/full`) is an error.
//! - **The report.** `summary.json` records the chapter, the program version, the seed, the
//!   effective flags, steps and timing and the chapter's metrics; [`Session::finish`] prints one
//!   `wrote DIR/{…}` line listing every file the run wrote.

use crate::checkpoint::{self, Checkpoint};
use crate::cli::Dtype;
use crate::error::{Error, Result};
use crate::files;
use crate::kernels::{Float, widen};
use crate::plot::Figure;
use crate::run::{Progress, RunArgs};
use nalgebra::DMatrix;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::io::{ErrorKind, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// The model file inside a run folder.
pub const MODEL_FILE: &str = "model.safetensors";
/// The lock file inside a run folder while a run writes there.
pub const LOCK_FILE: &str = ".lock";
/// Metadata key of the program version in a checkpoint.
pub const VERSION_KEY: &str = checkpoint::VERSION_KEY;
/// Metadata key of the effective flags (a JSON object) in a checkpoint.
pub const FLAGS_KEY: &str = "flags";
/// The flags that say where and how one invocation runs, not what it computes: a resumed run
/// takes them from its own command line, and a checkpoint does not store them (the same
/// training gives the same model file wherever it was written, resumed or not).
pub const INVOCATION_FLAGS: [&str; 4] = ["out", "resume", "overwrite", "quiet"];

/// A chapter program: its crate name and version (use [`crate::chapter!`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chapter {
    /// The crate name, e.g. `"char-rnn"`.
    pub name: &'static str,
    /// The crate version, e.g. `"0.1.0"`.
    pub version: &'static str,
}

/// The calling crate as a [`Chapter`]: `const CHAPTER: Chapter = shared::chapter!();`.
#[macro_export]
macro_rules! chapter {
    () => {
        $crate::session::Chapter {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    };
}

impl Chapter {
    /// The default output folder of `command` (`None` or `"train"`: `runs/<chapter>`, another
    /// command: `runs/<chapter>-<command>`).
    pub fn default_out(&self, command: Option<&str>) -> PathBuf {
        match command {
            None | Some("train") => Path::new("runs").join(self.name),
            Some(c) => Path::new("runs").join(format!("{}-{c}", self.name)),
        }
    }
}

/// The flags typed on the command line (clap ids, e.g. `"lr"`, `"seq_len"`), as opposed to
/// those left at their defaults: see [`crate::cli::parse`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Given(pub BTreeSet<String>);

impl Given {
    /// Was flag `id` typed?
    pub fn has(&self, id: &str) -> bool {
        self.0.contains(id)
    }
}

/// What [`Session::train`] needs to know about the command that starts it.
pub struct Start<'a, A> {
    /// `--seed`, `--out`, `--quiet`, `--overwrite`.
    pub run: &'a RunArgs,
    /// The command's name for the default folder (`None` for `train` / the bare default).
    pub command: Option<&'a str>,
    /// `--resume`: a run folder or the model file in it.
    pub resume: Option<&'a Path>,
    /// The command's flags as parsed (stored in the checkpoint and `summary.json`).
    pub flags: &'a A,
    /// Which flags were typed (a resumed run takes the others from the checkpoint).
    pub given: &'a Given,
    /// Flags a resumed run may change (clap ids): the run length (a total), `quiet`, `threads`.
    /// `out` and `resume` always may.
    pub may_change: &'a [&'a str],
}

/// A started training session: the session, the effective flags, and the checkpoint when it
/// resumes.
pub struct Started<A> {
    /// The session (folder locked, Ctrl-C armed).
    pub session: Session,
    /// The flags to train with: the typed ones over the stored ones when resuming.
    pub flags: A,
    /// The checkpoint to continue from (`--resume`), to be read by the chapter's
    /// [`Checkpointed::load`].
    pub resumed: Option<Checkpoint>,
}

/// One run of a chapter program: its folder (locked), seed, clock, and the files it wrote.
#[derive(Debug)]
pub struct Session {
    /// The chapter.
    pub chapter: Chapter,
    /// The output folder.
    pub out: PathBuf,
    /// The seed of the run.
    pub seed: u64,
    /// No progress bar.
    pub quiet: bool,
    flags: Value,
    start: Instant,
    steps_before: u64,
    written: Mutex<Vec<String>>,
    lock: Option<Lock>,
    /// The session made the folder (it did not exist): an empty one is removed at the end.
    created: bool,
}

impl Drop for Session {
    /// Releases the folder; a folder this session made and nothing was written to (a run
    /// refused after it started, e.g. on its data) is removed, so a failed start leaves nothing.
    fn drop(&mut self) {
        self.lock.take();
        if self.created {
            let _ = std::fs::remove_dir(&self.out);
        }
    }
}

/// What a chapter saves in `model.safetensors` and reads back: parameters and state in, out.
pub trait Checkpointed: Sized {
    /// What loading needs besides the file: the data (to check a vocabulary or a fingerprint
    /// against), the flags, or `()`.
    type Context<'a>;
    /// Puts every tensor and metadata value the run needs into `out`.
    fn save(&self, out: &mut Tensors);
    /// Reads back what [`Checkpointed::save`] wrote; a file that does not fit is an error that
    /// names it ([`Checkpoint::take`] and [`Checkpoint::meta`] do).
    fn load(ck: &mut Checkpoint, cx: Self::Context<'_>) -> Result<Self>;
}

/// The tensors and metadata of a checkpoint being written (see [`Checkpointed::save`]).
#[derive(Clone, Debug, Default)]
pub struct Tensors {
    /// Name, values (f32 ones held exactly in f64), the type to store them in.
    tensors: Vec<(String, DMatrix<f64>, Dtype)>,
    meta: Vec<(String, String)>,
}

impl Tensors {
    /// Adds matrix `name`, stored row-major in its own type: F64, or F32 for an f32 engine's.
    pub fn matrix<T: Float>(&mut self, name: impl Into<String>, m: &DMatrix<T>) {
        self.tensors.push((name.into(), widen(m), T::DTYPE));
    }

    /// Adds a vector as an n × 1 tensor (F64).
    pub fn vector(&mut self, name: impl Into<String>, v: &[f64]) {
        self.tensors.push((
            name.into(),
            DMatrix::from_column_slice(v.len(), 1, v),
            Dtype::F64,
        ));
    }

    /// Adds a metadata value (numbers with Rust's shortest round-trip formatting).
    pub fn meta(&mut self, key: impl Into<String>, value: impl ToString) {
        self.meta.push((key.into(), value.to_string()));
    }

    /// Adds a metadata value as JSON (a vocabulary, a list of curves).
    pub fn json(&mut self, key: impl Into<String>, value: &impl Serialize) {
        let text = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
        self.meta.push((key.into(), text));
    }
}

impl Session {
    /// Starts a run that trains: resolves the folder, locks it, refuses to replace a run that
    /// is there (unless `--overwrite` or it is the run being resumed), loads the `--resume`
    /// checkpoint and merges the flags, arms Ctrl-C.
    pub fn train<A: Serialize + DeserializeOwned>(
        chapter: Chapter,
        start: Start<'_, A>,
    ) -> Result<Started<A>> {
        // Armed first: a Ctrl-C during the setup then stops the run at its first step.
        arm_ctrl_c();
        let resume_file = match start.resume {
            Some(p) => Some(model_file(p, "--resume")?),
            None => None,
        };
        let out = match (&start.run.out, &resume_file) {
            (Some(out), _) => out.clone(),
            (None, Some(file)) => folder_of(file),
            (None, None) => chapter.default_out(start.command),
        };
        let continuing_here = resume_file
            .as_deref()
            .is_some_and(|f| same_path(&folder_of(f), &out));
        let session = Session::open(chapter, start.run, &out, !continuing_here)?;
        let now = serde_json::to_value(start.flags).map_err(Error::msg)?;
        let (flags, resumed) = match resume_file {
            None => (now, None),
            Some(file) => {
                let ck = checkpoint::load(&file, chapter.name)?;
                (
                    merge_flags(&ck, &now, start.given, start.may_change)?,
                    Some(ck),
                )
            }
        };
        let typed: A = serde_json::from_value(flags.clone())
            .map_err(|e| Error::msg(format!("the checkpoint's flags cannot be read ({e})")))?;
        // A resumed run keeps its stored seed (merged above) unless the chapter lets it change.
        let mut session = session;
        session.seed = flags
            .get("seed")
            .and_then(Value::as_u64)
            .unwrap_or(session.seed);
        session.flags = flags;
        Ok(Started {
            session,
            flags: typed,
            resumed,
        })
    }

    /// Starts a run that writes outputs but trains nothing resumable (a demo, an experiment):
    /// the same folder rules and lock as [`Session::train`], no checkpoint.
    pub fn outputs<A: Serialize>(
        chapter: Chapter,
        run: &RunArgs,
        command: Option<&str>,
        flags: &A,
    ) -> Result<Session> {
        let out = run
            .out
            .clone()
            .unwrap_or_else(|| chapter.default_out(command));
        let session = Session::open(chapter, run, &out, false)?;
        if !run.overwrite
            && let Some(what) = holds_a_run(&out)
        {
            return Err(Error::flag(
                "--out",
                format!(
                    "{} already holds a run ({what}); choose another --out, or add --overwrite \
                     to replace it",
                    out.display()
                ),
            ));
        }
        let flags = serde_json::to_value(flags).map_err(Error::msg)?;
        let mut session = session;
        session.flags = flags;
        Ok(session)
    }

    fn open(chapter: Chapter, run: &RunArgs, out: &Path, new_run: bool) -> Result<Session> {
        if out.exists() && !out.is_dir() {
            return Err(Error::flag(
                "--out",
                format!("{} exists and is not a folder", out.display()),
            ));
        }
        let existed = out.exists();
        files::create_dir_all(out)?;
        // A refused run leaves no folder behind that it made itself.
        let refuse = |e: Error| {
            if !existed {
                let _ = std::fs::remove_dir(out);
            }
            e
        };
        let lock = Lock::take(out, chapter.name).map_err(refuse)?;
        if new_run
            && !run.overwrite
            && let Some(what) = holds_a_run(out)
        {
            drop(lock);
            return Err(Error::flag(
                "--out",
                format!(
                    "{} already holds a run ({what}); continue it with --resume {}, \
                     choose another --out, or add --overwrite to replace it",
                    out.display(),
                    out.display()
                ),
            ));
        }
        Ok(Session {
            chapter,
            out: out.to_path_buf(),
            seed: run.seed,
            quiet: run.quiet,
            flags: Value::Null,
            start: Instant::now(),
            steps_before: 0,
            written: Mutex::new(Vec::new()),
            lock: Some(lock),
            created: !existed,
        })
    }

    /// Tells the session that a resumed run had already done `steps` steps: `summary.json`'s
    /// `steps` stays the run's total, its `steps_per_second` counts this session's steps only.
    pub fn resumed_at(&mut self, steps: u64) {
        self.steps_before = steps;
    }

    /// A file in the output folder (for reading; [`Session::output`] for writing).
    pub fn path(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    /// The path of output file `name`, recorded for the final `wrote …` line: call it for every
    /// file the chapter writes itself (a PNG of filters, a vocabulary list).
    pub fn output(&self, name: &str) -> PathBuf {
        let mut w = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if !w.iter().any(|n| n == name) {
            w.push(name.to_string());
        }
        self.out.join(name)
    }

    /// Seconds since the session started.
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// A progress bar of `len` steps, hidden under `--quiet` or when stderr is not a terminal.
    pub fn progress(&self, len: u64, label: &str) -> Progress {
        Progress::new(len, label, !self.quiet && std::io::stderr().is_terminal())
    }

    /// Has Ctrl-C (or SIGTERM) asked the run to stop? Check it once per step; when it is true,
    /// save and return [`Session::stopped`].
    pub fn interrupted(&self) -> bool {
        INTERRUPTS.load(Ordering::SeqCst) > 0
    }

    /// The error that ends a run stopped by Ctrl-C after `step` steps, once its checkpoint and
    /// curves are saved: prints how to continue and exits 130.
    pub fn stopped(&self, step: u64) -> anyhow::Error {
        anyhow::Error::new(Error::Interrupted {
            step,
            resume: format!("{} --resume {}", self.chapter.name, self.out.display()),
        })
    }

    /// Writes `model.safetensors`: the chapter's tensors and metadata, the program version and
    /// the effective flags, atomically. A model whose weights are no longer finite is not
    /// written (the one on disk stays the last good one): that is a divergence error.
    pub fn save_checkpoint(&self, state: &impl Checkpointed) -> Result<PathBuf> {
        let mut t = Tensors::default();
        state.save(&mut t);
        if let Some((name, _, _)) = t
            .tensors
            .iter()
            .find(|(_, m, _)| m.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::msg(format!(
                "training diverged: tensor `{name}` is no longer finite (try a smaller --lr); \
                 {} was left as it was",
                self.path(MODEL_FILE).display()
            )));
        }
        t.meta(VERSION_KEY, self.chapter.version);
        t.json(FLAGS_KEY, &self.stored_flags());
        let tensors: Vec<(&str, &DMatrix<f64>, Dtype)> = t
            .tensors
            .iter()
            .map(|(n, m, d)| (n.as_str(), m, *d))
            .collect();
        let meta: Vec<(&str, String)> = t
            .meta
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let path = self.output(MODEL_FILE);
        checkpoint::save_typed(&path, self.chapter.name, &tensors, &meta)?;
        Ok(path)
    }

    /// The effective flags without the [`INVOCATION_FLAGS`]: what a checkpoint stores.
    fn stored_flags(&self) -> Value {
        let mut flags = self.flags.clone();
        if let Value::Object(m) = &mut flags {
            m.retain(|k, _| !INVOCATION_FLAGS.contains(&k.as_str()));
        }
        flags
    }

    /// Writes `loss.png` and `loss.csv` (the same numbers) for `figure`.
    pub fn save_loss(&self, figure: &Figure) -> Result<()> {
        figure.save_png(self.output("loss.png"))?;
        figure.save_csv(self.output("loss.csv"))
    }

    /// Writes `summary.json`: `chapter`, `version`, `seed`, `steps`, `wall_seconds`,
    /// `steps_per_second` (of this session's steps, see [`Session::resumed_at`]), the command line (`args`) and the effective `flags`, then the
    /// chapter's `metrics` (a JSON object). Returns the path written.
    pub fn save_summary(&self, steps: u64, metrics: Value) -> Result<PathBuf> {
        let wall = self.elapsed();
        let mut m = Map::new();
        m.insert("chapter".into(), json!(self.chapter.name));
        m.insert("version".into(), json!(self.chapter.version));
        m.insert("seed".into(), json!(self.seed));
        m.insert("steps".into(), json!(steps));
        m.insert("wall_seconds".into(), json!(wall));
        m.insert(
            "steps_per_second".into(),
            json!(if wall > 0.0 {
                steps.saturating_sub(self.steps_before) as f64 / wall
            } else {
                0.0
            }),
        );
        m.insert(
            "args".into(),
            json!(std::env::args().skip(1).collect::<Vec<_>>()),
        );
        m.insert("flags".into(), self.flags.clone());
        match metrics {
            Value::Object(extra) => m.extend(extra),
            Value::Null => {}
            other => {
                m.insert("metrics".into(), other);
            }
        }
        let path = self.output("summary.json");
        let text = serde_json::to_string_pretty(&Value::Object(m)).map_err(Error::msg)?;
        files::write_bytes_atomic(&path, format!("{text}\n").as_bytes())?;
        Ok(path)
    }

    /// The files written so far, in the order they were first written.
    pub fn written(&self) -> Vec<String> {
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The `wrote DIR/{a, b, c}` line.
    pub fn wrote_line(&self) -> String {
        format!(
            "wrote {}/{{{}}}",
            self.out.display(),
            self.written().join(", ")
        )
    }

    /// Ends the run: prints the `wrote …` line and releases the folder.
    pub fn finish(mut self) -> Result<()> {
        say(&self.wrote_line())?;
        self.lock.take();
        Ok(())
    }
}

/// The model file a `--model` / `--resume` value names: the value itself if it is a file, else
/// `model.safetensors` in that folder. `flag` names the flag in errors.
pub fn model_file(path: &Path, flag: &str) -> Result<PathBuf> {
    if path.is_dir() {
        let file = path.join(MODEL_FILE);
        if file.is_file() {
            Ok(file)
        } else {
            Err(Error::flag(
                flag,
                format!(
                    "{} holds no {MODEL_FILE} (is it a run folder?)",
                    path.display()
                ),
            ))
        }
    } else if path.exists() {
        Ok(path.to_path_buf())
    } else {
        Err(Error::flag(
            flag,
            format!("{} does not exist", path.display()),
        ))
    }
}

/// The folder a model file is in (`.` for a bare file name).
fn folder_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// What makes `dir` hold a run: a model or a summary (`None` for an empty or foreign folder).
fn holds_a_run(dir: &Path) -> Option<&'static str> {
    if dir.join("summary.json").is_file() {
        Some("summary.json: a finished run")
    } else if dir.join(MODEL_FILE).is_file() {
        Some("model.safetensors: a run that can be resumed")
    } else {
        None
    }
}

/// The flags a resumed run trains with: the stored ones, with every typed flag that the
/// chapter lets change (and `out`, `resume`, `overwrite`) taken from the command line. A typed
/// flag with another value than the stored one is an error naming it.
fn merge_flags(ck: &Checkpoint, now: &Value, given: &Given, may_change: &[&str]) -> Result<Value> {
    let stored_text = ck.meta_str(FLAGS_KEY).map_err(|_| {
        Error::format(
            &ck.path,
            "metadata",
            "has no record of its flags (written by an older version?); it cannot be resumed",
        )
    })?;
    let stored: Value = serde_json::from_str(stored_text)
        .map_err(|e| Error::format(&ck.path, "metadata `flags`", format!("is not JSON ({e})")))?;
    let (Value::Object(stored), Value::Object(now)) = (stored, now) else {
        return Err(Error::format(
            &ck.path,
            "metadata `flags`",
            "is not a JSON object",
        ));
    };
    let always = INVOCATION_FLAGS;
    let mut merged = stored.clone();
    for (id, value) in now {
        let keep = match stored.get(id) {
            // Where the command decides, or the stored run has no such flag: the value now.
            _ if always.contains(&id.as_str()) => value,
            None => value,
            Some(_) if may_change.contains(&id.as_str()) && given.has(id) => value,
            Some(old) if given.has(id) && old != value => {
                return Err(Error::flag(
                    format!("--{}", id.replace('_', "-")),
                    format!(
                        "the run in {} was trained with {}, not {}; a resumed run keeps its \
                         flags (leave the flag out, or start a new run with another --out)",
                        folder_of(&ck.path).display(),
                        show(old),
                        show(value)
                    ),
                ));
            }
            // Not typed (or typed with the same value): the stored value.
            Some(old) => old,
        };
        merged.insert(id.clone(), keep.clone());
    }
    Ok(Value::Object(merged))
}

/// A flag value as the user would type it.
fn show(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The lock of a run folder: `.lock` holding the process id and the chapter, removed on drop.
#[derive(Debug)]
struct Lock {
    path: PathBuf,
}

impl Lock {
    fn take(dir: &Path, chapter: &str) -> Result<Lock> {
        let path = dir.join(LOCK_FILE);
        let me = std::process::id();
        for _ in 0..3 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    writeln!(f, "{me} {chapter}").map_err(|e| Error::io(&path, e))?;
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let mut words = text.split_whitespace();
                    let pid: Option<u32> = words.next().and_then(|p| p.parse().ok());
                    let who = words.next().unwrap_or("another run").to_string();
                    if let Some(pid) = pid
                        && pid != me
                        && process_alive(pid)
                    {
                        return Err(Error::flag(
                            "--out",
                            format!(
                                "{} is in use by {who} (process {pid}); wait for it to finish \
                                 or choose another --out",
                                dir.display()
                            ),
                        ));
                    }
                    // Stale: its process is gone. Move it aside (only one taker wins the
                    // rename), then try again.
                    let aside = dir.join(format!("{LOCK_FILE}.stale{me}"));
                    if std::fs::rename(&path, &aside).is_ok() {
                        let _ = std::fs::remove_file(&aside);
                    }
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::flag(
            "--out",
            format!(
                "{} is locked ({}); remove it if no run is using the folder",
                dir.display(),
                path.display()
            ),
        ))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Is process `pid` running? Asked of `/proc`; where there is none, every process is taken to
/// be running (a lock is then never taken over silently). A zombie (a killed run that its
/// parent has not reaped yet, which can last as long as the parent, e.g. in a container whose
/// first process reaps nothing) is not running: its lock is stale.
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    let dir = proc.join(pid.to_string());
    match std::fs::read_to_string(dir.join("stat")) {
        // `pid (comm) S …`: the state follows the last ')' (comm may hold any character).
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next()),
            Some('Z' | 'X' | 'x')
        ),
        Err(_) => dir.exists(),
    }
}

/// Ctrl-C presses (and SIGTERMs) so far.
static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

/// Installs the Ctrl-C handler once: the first press asks the run to stop after its step, the
/// second ends the process at once (exit 130).
fn arm_ctrl_c() {
    static ARMED: AtomicBool = AtomicBool::new(false);
    if ARMED.swap(true, Ordering::SeqCst) {
        return;
    }
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) > 0 {
            std::process::exit(130);
        }
        eprintln!("\nstopping after this step (press Ctrl-C again to stop at once)");
    });
}

/// Set when stdout's reader has gone away (`| head`): later lines are dropped, the run goes on.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
/// The first failure to write stdout other than a closed pipe (`> /dev/full`).
static STDOUT_FAILED: Mutex<Option<String>> = Mutex::new(None);

/// The first failure to write stdout that was not a closed pipe, if any: [`crate::error::run_main`]
/// turns it into an error at the end of a run that otherwise succeeded.
pub fn stdout_failure() -> Option<String> {
    STDOUT_FAILED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Prints `line` and a newline on stdout. A closed pipe is not an error (the run goes on and
/// saves everything; later lines are dropped); any other failure (`> /dev/full`) is.
pub fn say(line: &str) -> Result<()> {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let result = out
        .write_all(line.as_bytes())
        .and_then(|_| out.write_all(b"\n"))
        .and_then(|_| out.flush());
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            STDOUT_GONE.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => {
            let mut first = STDOUT_FAILED.lock().unwrap_or_else(|e| e.into_inner());
            first.get_or_insert_with(|| e.to_string());
            Err(Error::io("stdout", e))
        }
    }
}

/// `say!("loss {l:.3}")?`: [`say`] with `format!` arguments.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::session::say(&format!($($arg)*))
    };
}

/// Refuses a size that would not fit in memory before anything is allocated: `bytes` is the
/// chapter's estimate for the value of `flag`. The limit is the memory the system reports as
/// available (`/proc/meminfo`), or 64 GiB where it reports none.
pub fn check_memory(flag: &str, what: &str, bytes: f64) -> Result<()> {
    let available = available_memory().unwrap_or(64.0 * GIB);
    if !(bytes.is_finite() && bytes <= available) {
        return Err(Error::flag(
            flag,
            format!(
                "{what} would need about {} of memory; this machine has {} available",
                human_bytes(bytes),
                human_bytes(available)
            ),
        ));
    }
    Ok(())
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The memory the system reports as available (`/proc/meminfo`'s `MemAvailable`), in bytes.
pub(crate) fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// `b` bytes as "1.2 GB" or "35 MB".
pub(crate) fn human_bytes(b: f64) -> String {
    if !b.is_finite() {
        "more than any machine has".into()
    } else if b >= GIB {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", (b / 1e6).ceil())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    const CH: Chapter = Chapter {
        name: "demo",
        version: "1.2.3",
    };

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
    struct Flags {
        lr: f64,
        iterations: u64,
        seed: u64,
        out: Option<PathBuf>,
        quiet: bool,
        overwrite: bool,
        resume: Option<PathBuf>,
    }

    struct State {
        w: DMatrix<f64>,
        step: u64,
    }

    impl Checkpointed for State {
        type Context<'a> = ();
        fn save(&self, out: &mut Tensors) {
            out.matrix("W", &self.w);
            out.meta("step", self.step);
        }
        fn load(ck: &mut Checkpoint, _: ()) -> Result<Self> {
            Ok(State {
                w: ck.take("W", 2, 2)?,
                step: ck.meta("step")?,
            })
        }
    }

    fn run_args(out: &Path) -> RunArgs {
        RunArgs {
            out: Some(out.to_path_buf()),
            quiet: true,
            ..RunArgs::default()
        }
    }

    fn flags(lr: f64, iterations: u64) -> Flags {
        Flags {
            lr,
            iterations,
            seed: 1,
            out: None,
            quiet: true,
            overwrite: false,
            resume: None,
        }
    }

    fn given(ids: &[&str]) -> Given {
        Given(ids.iter().map(|s| s.to_string()).collect())
    }

    fn train(run: &RunArgs, resume: Option<&Path>, f: &Flags, g: &Given) -> Result<Started<Flags>> {
        Session::train(
            CH,
            Start {
                run,
                command: None,
                resume,
                flags: f,
                given: g,
                may_change: &["iterations"],
            },
        )
    }

    #[test]
    fn a_run_saves_resumes_and_keeps_its_flags() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let st = train(&run_args(&a), None, &flags(0.5, 10), &given(&["lr"])).unwrap();
        assert!(
            a.join(LOCK_FILE).is_file(),
            "the folder is locked while the run works"
        );
        let s = st.session;
        let state = State {
            w: DMatrix::from_element(2, 2, 0.25),
            step: 10,
        };
        s.save_checkpoint(&state).unwrap();
        s.save_summary(10, json!({"final_loss": 0.1})).unwrap();
        assert_eq!(
            s.wrote_line(),
            format!("wrote {}/{{model.safetensors, summary.json}}", a.display())
        );
        s.finish().unwrap();
        assert!(!a.join(LOCK_FILE).exists(), "the lock goes with the run");
        let summary: Value =
            serde_json::from_str(&std::fs::read_to_string(a.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(summary["version"], "1.2.3");
        assert_eq!(summary["flags"]["lr"], 0.5);

        // A new run may not replace it ...
        let e = train(&run_args(&a), None, &flags(0.5, 10), &given(&[]))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("--out:") && e.contains("already holds a run"),
            "{e}"
        );
        // ... a resume continues it in place, with the stored lr (not typed again) and the
        // new total length (typed).
        let resume_args = RunArgs {
            quiet: true,
            ..RunArgs::default()
        };
        let st = train(
            &resume_args,
            Some(&a),
            &flags(0.1, 20),
            &given(&["iterations"]),
        )
        .unwrap();
        assert_eq!(st.session.out, a);
        assert_eq!(st.flags.lr, 0.5);
        assert_eq!(st.flags.iterations, 20);
        let loaded = State::load(&mut st.resumed.unwrap(), ()).unwrap();
        assert_eq!(loaded.step, 10);
        drop(st.session);
        // A typed flag that differs is refused, by name; typing the same value is fine.
        let e = train(&resume_args, Some(&a), &flags(0.1, 20), &given(&["lr"]))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("--lr: the run in") && e.contains("0.5"),
            "{e}"
        );
        assert!(train(&resume_args, Some(&a), &flags(0.5, 20), &given(&["lr"])).is_ok());
        // --model/--resume take the folder or the file.
        let file = a.join(MODEL_FILE);
        assert_eq!(model_file(&a, "--model").unwrap(), file);
        assert_eq!(model_file(&file, "--model").unwrap(), file);
        let e = model_file(dir.path(), "--model").unwrap_err().to_string();
        assert!(e.contains("holds no model.safetensors"), "{e}");
        // --overwrite replaces it.
        let mut over = run_args(&a);
        over.overwrite = true;
        assert!(train(&over, None, &flags(0.5, 10), &given(&[])).is_ok());
    }

    #[test]
    fn one_run_per_folder_and_stale_locks_are_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x");
        let first = Session::outputs(CH, &run_args(&out), None, &json!({})).unwrap();
        assert!(out.join(LOCK_FILE).is_file());
        drop(first);
        assert!(
            !out.exists(),
            "a session that wrote nothing leaves no folder it made"
        );
        std::fs::create_dir(&out).unwrap();
        // Another live process holds the folder (pid 1 always exists on Linux): refused, by name.
        if Path::new("/proc/1").exists() {
            std::fs::write(out.join(LOCK_FILE), "1 other-chapter\n").unwrap();
            let e = Session::outputs(CH, &run_args(&out), None, &json!({}))
                .unwrap_err()
                .to_string();
            assert!(e.contains("in use by other-chapter (process 1)"), "{e}");
        }
        // A lock whose process is gone (Linux pids stay below 2²²) is taken over.
        std::fs::write(out.join(LOCK_FILE), "999999999 gone\n").unwrap();
        let s = Session::outputs(CH, &run_args(&out), None, &json!({})).unwrap();
        let text = std::fs::read_to_string(out.join(LOCK_FILE)).unwrap();
        assert_eq!(text, format!("{} demo\n", std::process::id()));
        drop(s);
    }

    #[test]
    fn the_model_file_does_not_depend_on_where_or_how_the_run_was_started() {
        let dir = tempfile::tempdir().unwrap();
        let state = State {
            w: DMatrix::from_element(2, 2, 0.5),
            step: 4,
        };
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let st = train(&run_args(&a), None, &flags(0.5, 10), &given(&[])).unwrap();
        st.session.save_checkpoint(&state).unwrap();
        st.session.finish().unwrap();
        // Another folder, a resume of the first run, loud: the same model, the same bytes.
        let mut f = flags(0.5, 10);
        (f.out, f.resume, f.quiet) = (Some(b.clone()), Some(a.clone()), false);
        let mut run = run_args(&b);
        run.quiet = false;
        let st = train(&run, Some(&a), &f, &given(&["out", "quiet"])).unwrap();
        st.session.save_checkpoint(&state).unwrap();
        let bytes = |d: &Path| std::fs::read(d.join(MODEL_FILE)).unwrap();
        assert!(bytes(&a) == bytes(&b));
        let ck = checkpoint::load(b.join(MODEL_FILE), CH.name).unwrap();
        let stored: Value = serde_json::from_str(ck.meta_str(FLAGS_KEY).unwrap()).unwrap();
        assert_eq!(stored, json!({"lr": 0.5, "iterations": 10, "seed": 1}));
    }

    #[test]
    fn diverged_weights_are_not_saved() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("d");
        let st = train(&run_args(&out), None, &flags(0.5, 10), &given(&[])).unwrap();
        let bad = State {
            w: DMatrix::from_element(2, 2, f64::NAN),
            step: 3,
        };
        let e = st.session.save_checkpoint(&bad).unwrap_err().to_string();
        assert!(e.contains("diverged") && e.contains("`W`"), "{e}");
        assert!(!out.join(MODEL_FILE).exists());
    }

    #[test]
    fn memory_checks_refuse_impossible_sizes() {
        assert!(check_memory("--hidden", "100 hidden units", 1e6).is_ok());
        let e = check_memory("--train-size", "1e18 examples", 1e30)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--train-size: 1e18 examples would need about"),
            "{e}"
        );
        assert!(check_memory("--x", "x", f64::INFINITY).is_err());
    }

    #[test]
    fn default_folders_name_the_command() {
        assert_eq!(CH.default_out(None), Path::new("runs/demo"));
        assert_eq!(CH.default_out(Some("train")), Path::new("runs/demo"));
        assert_eq!(CH.default_out(Some("paths")), Path::new("runs/demo-paths"));
    }
}
