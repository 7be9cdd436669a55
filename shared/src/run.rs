//! The run-output contract every chapter binary keeps (DESIGN.md): `--seed`, `--out`,
//! `--quiet`; `loss.png` + `loss.csv` + `summary.json` in the output folder, written
//! atomically; a progress bar on a terminal.

use crate::error::{Error, Result};
use crate::files;
use crate::plot::Figure;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The flags every chapter shares; flatten into a clap parser with `#[command(flatten)]`.
#[derive(clap::Args, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunArgs {
    /// Random seed: the same seed and flags give the same numbers on any machine.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder for loss.png, loss.csv, summary.json and checkpoints [default: runs/CHAPTER]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Hide the progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Replace the run already in --out (a new run refuses a folder that holds one)
    #[arg(long)]
    pub overwrite: bool,
    /// Threads for the large matrix products [default: every core]; the numbers are the same
    /// on any number (`--threads 1` for timing runs)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            seed: 1,
            out: None,
            quiet: false,
            overwrite: false,
            threads: None,
        }
    }
}

/// One run of a chapter: its output folder, seed and clock.
#[derive(Debug)]
pub struct Run {
    /// The crate name, e.g. `"backprop-xor"`.
    pub chapter: &'static str,
    /// The seed of the run.
    pub seed: u64,
    /// The output folder (created by [`Run::start`]).
    pub out: PathBuf,
    /// No progress bar.
    pub quiet: bool,
    start: Instant,
}

impl Run {
    /// Starts a run: resolves `--out` (default `runs/<chapter>`), creates it and checks it can
    /// be written to, so a bad `--out` fails before any training time is spent.
    pub fn start(chapter: &'static str, args: &RunArgs) -> Result<Run> {
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| Path::new("runs").join(chapter));
        if out.exists() && !out.is_dir() {
            return Err(Error::flag(
                "--out",
                format!("{} exists and is not a folder", out.display()),
            ));
        }
        files::create_dir_all(&out)?;
        let probe = out.join(format!(".write-test-{}", std::process::id()));
        std::fs::File::create(&probe)
            .and_then(|mut f| f.write_all(b"ok"))
            .map_err(|e| Error::io(&out, e))?;
        let _ = std::fs::remove_file(&probe);
        Ok(Run {
            chapter,
            seed: args.seed,
            out,
            quiet: args.quiet,
            start: Instant::now(),
        })
    }

    /// A file in the output folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    /// Seconds since the run started.
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// A progress bar of `len` steps, hidden under `--quiet` or when stderr is not a terminal.
    pub fn progress(&self, len: u64, label: &str) -> Progress {
        Progress::new(len, label, !self.quiet && std::io::stderr().is_terminal())
    }

    /// Writes `loss.png` and `loss.csv` (the same numbers) for `figure`.
    pub fn save_loss(&self, figure: &Figure) -> Result<()> {
        figure.save_png(self.path("loss.png"))?;
        figure.save_csv(self.path("loss.csv"))
    }

    /// Writes `summary.json`: `chapter`, `seed`, `steps`, `wall_seconds`, `steps_per_second`,
    /// the command line, then the chapter's `metrics` (a JSON object, e.g. `json!({"final_loss":
    /// 0.01})`). Returns the path written.
    pub fn save_summary(&self, steps: u64, metrics: Value) -> Result<PathBuf> {
        let wall = self.elapsed();
        let mut m = Map::new();
        m.insert("chapter".into(), json!(self.chapter));
        m.insert("seed".into(), json!(self.seed));
        m.insert("steps".into(), json!(steps));
        m.insert("wall_seconds".into(), json!(wall));
        m.insert(
            "steps_per_second".into(),
            json!(if wall > 0.0 { steps as f64 / wall } else { 0.0 }),
        );
        m.insert(
            "args".into(),
            json!(std::env::args().skip(1).collect::<Vec<_>>()),
        );
        match metrics {
            Value::Object(extra) => m.extend(extra),
            Value::Null => {}
            other => {
                m.insert("metrics".into(), other);
            }
        }
        let path = self.path("summary.json");
        let text = serde_json::to_string_pretty(&Value::Object(m)).map_err(Error::msg)?;
        files::write_bytes_atomic(&path, format!("{text}\n").as_bytes())?;
        Ok(path)
    }
}

/// A progress bar that also prints log lines without tearing the bar (and prints them
/// normally when the bar is hidden).
#[derive(Clone, Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar of `len` steps; `visible = false` draws nothing.
    pub fn new(len: u64, label: &str, visible: bool) -> Self {
        let bar = if visible {
            let bar = ProgressBar::new(len);
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix} [{bar:32.cyan/blue}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(label.to_string());
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress { bar }
    }

    /// Advances by `n` steps.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Sets the position.
    pub fn set_position(&self, pos: u64) {
        self.bar.set_position(pos);
    }

    /// Shows a short message after the counter (e.g. the current loss).
    pub fn set_message(&self, msg: impl Into<String>) {
        if !self.bar.is_hidden() {
            self.bar.set_message(msg.into());
        }
    }

    /// Prints a line on stdout above the bar, through [`crate::session::say`]: a closed pipe
    /// does not stop the run, another failure is reported when the program ends.
    pub fn println(&self, line: impl AsRef<str>) {
        if self.bar.is_hidden() {
            let _ = crate::session::say(line.as_ref());
        } else {
            self.bar.suspend(|| {
                let _ = crate::session::say(line.as_ref());
            });
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::{Panel, Series};

    #[test]
    fn a_run_writes_the_three_files() {
        let dir = tempfile::tempdir().unwrap();
        let args = RunArgs {
            seed: 9,
            out: Some(dir.path().join("nested/out")),
            quiet: true,
            overwrite: false,
            threads: None,
        };
        let run = Run::start("demo", &args).unwrap();
        let mut s = Series::new("loss");
        s.push(0.0, 1.0);
        s.push(1.0, 0.5);
        run.save_loss(&Figure::single(Panel::new("loss", "step", "E").with(s)))
            .unwrap();
        let p = run.save_summary(2, json!({"final_loss": 0.5})).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        assert_eq!(v["chapter"], "demo");
        assert_eq!(v["seed"], 9);
        assert_eq!(v["steps"], 2);
        assert_eq!(v["final_loss"], 0.5);
        assert!(v["wall_seconds"].as_f64().unwrap() >= 0.0);
        assert!(v["steps_per_second"].is_number());
        for f in ["loss.png", "loss.csv", "summary.json"] {
            assert!(run.path(f).is_file(), "{f}");
        }
        let names: Vec<_> = std::fs::read_dir(&run.out).unwrap().collect();
        assert_eq!(names.len(), 3, "no temp or probe files left");
    }

    #[test]
    fn out_that_is_a_file_is_a_flag_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("file");
        std::fs::write(&f, b"x").unwrap();
        let args = RunArgs {
            out: Some(f),
            ..RunArgs::default()
        };
        let e = Run::start("demo", &args).unwrap_err().to_string();
        assert!(e.starts_with("--out:"), "{e}");
        let args = RunArgs {
            out: Some(dir.path().join("file/sub")),
            ..RunArgs::default()
        };
        assert!(Run::start("demo", &args).is_err());
    }
}
