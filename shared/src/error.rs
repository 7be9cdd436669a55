//! The one place where user-facing errors are defined and reported.
//!
//! Library code returns [`Result`]; a chapter's `main` hands its body to [`run_main`], which
//! prints a failure as one line `error: ...` on stderr and exits with code 2. Panics are bugs,
//! but even they end the same way (one line, exit code 2) instead of a backtrace dump.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Everything that can go wrong because of the user's input or environment.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read, written, created or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A file was read but its contents are not what was expected (`where_` is e.g.
    /// "line 12", "byte 4096" or "field `trainData`").
    #[error("{}: {where_}: {msg}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// Where in it: "line 12", "byte 4096", "field `trainData`".
        where_: String,
        /// What was wrong there.
        msg: String,
    },
    /// A command-line value out of range or inconsistent with the data (`flag` like `--hidden`).
    #[error("{flag}: {msg}")]
    Flag {
        /// The flag as the user writes it, e.g. `--hidden`.
        flag: String,
        /// Why its value cannot be used.
        msg: String,
    },
    /// Training produced a non-finite loss.
    #[error("training diverged at step {step}: the loss became {loss} (try a smaller --lr)")]
    Diverged {
        /// The training step (as the chapter counts them) whose loss was not finite.
        step: u64,
        /// That loss (NaN or ±∞).
        loss: f64,
    },
    /// The run was asked to stop (Ctrl-C, SIGTERM) and saved what it had: not a failure of the
    /// input; the program exits with 130 after saying how to continue.
    #[error(
        "stopped at step {step} (Ctrl-C); the checkpoint and curves are saved; continue with: {resume}"
    )]
    Interrupted {
        /// Steps done when it stopped.
        step: u64,
        /// The command that continues it.
        resume: String,
    },
    /// Anything else the user can act on (an unknown word, a checkpoint of another chapter, ...).
    #[error("{0}")]
    Msg(String),
}

/// `Result` with the workspace's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O failure on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A malformed file: `path`, where in it (`"line 3"`, `"byte 16"`), and what was wrong.
    pub fn format(path: impl AsRef<Path>, where_: impl Display, msg: impl Display) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            where_: where_.to_string(),
            msg: msg.to_string(),
        }
    }

    /// A flag whose value cannot be used.
    pub fn flag(flag: impl Display, msg: impl Display) -> Self {
        Error::Flag {
            flag: flag.to_string(),
            msg: msg.to_string(),
        }
    }

    /// Any other message for the user.
    pub fn msg(msg: impl Display) -> Self {
        Error::Msg(msg.to_string())
    }
}

/// −ln of the smallest positive f64 (4.9e-324): a target whose loss −ln p(target) is larger has
/// probability 0 in f64, where the tutorials' `−np.log(p)` is +∞. Losses computed from logits
/// (log-sum-exp) stay finite there, so a loss above this many nats per target is how a huge
/// learning rate shows.
pub const MAX_NATS: f64 = 744.440_071_921_381_2;

/// Checks a cross-entropy summed over `targets` predictions: finite ([`check_finite`]) and at
/// most `targets` · [`MAX_NATS`], else the divergence error (naming `what`, e.g. "characters").
pub fn check_nats(step: u64, loss: f64, targets: usize, what: &str) -> Result<f64> {
    let loss = check_finite(step, loss)?;
    if loss > targets as f64 * MAX_NATS {
        return Err(Error::msg(format!(
            "training diverged at step {step}: the loss became {loss:.3e} nats on {targets} \
             {what}, beyond {MAX_NATS:.2} per one (a probability that is 0 in f64, where \
             −log p is infinite); try a smaller --lr"
        )));
    }
    Ok(loss)
}

/// Checks a training loss: `Err(Error::Diverged)` at the first non-finite value.
pub fn check_finite(step: u64, loss: f64) -> Result<f64> {
    if loss.is_finite() {
        Ok(loss)
    } else {
        Err(Error::Diverged { step, loss })
    }
}

/// Formats an error and its causes on one line: `outer: inner: innermost`. Line breaks become
/// spaces and other control characters (e.g. bytes of a corrupted file quoted in a message)
/// are escaped, so the message stays one printable line.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text: String = cause
            .to_string()
            .chars()
            .map(|c| match c {
                '\n' | '\r' | '\t' => " ".to_string(),
                c if c.is_control() => c.escape_unicode().to_string(),
                c => c.to_string(),
            })
            .collect();
        // thiserror's `{source}` already embeds the cause's text: don't say it twice.
        if parts.last().is_some_and(|prev| prev.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

/// Runs a chapter's `main` body: `Ok` exits 0; an error prints `error: ...` (one line) and
/// exits 2; a panic (a bug) is reported the same way rather than as a backtrace.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     shared::error::run_main(|| {
///         // parse flags, train, write outputs ...
///         Ok(())
///     })
/// }
/// ```
pub fn run_main(body: impl FnOnce() -> anyhow::Result<()>) -> ExitCode {
    use std::sync::atomic::{AtomicBool, Ordering};
    // `println!` panics when stdout is a closed pipe (`| head`) or full: the chapters print
    // through `shared::session::say`, which does neither; this is the safety net for any
    // `println!` left.
    static BROKEN_PIPE: AtomicBool = AtomicBool::new(false);
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        if msg.starts_with("failed printing to std") {
            if msg.contains("Broken pipe") {
                BROKEN_PIPE.store(true, Ordering::SeqCst);
            } else {
                // e.g. `> /dev/full`: the environment's failure, not a bug.
                eprintln!("error: {}", msg.replace('\n', " "));
            }
            return;
        }
        let loc = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error (a bug, please report it): {}{loc}",
            msg.replace('\n', " ")
        );
    }));
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(Ok(())) => match crate::session::stdout_failure() {
            // Lines were lost on a failing stdout (`> /dev/full`): the run is not a success.
            Some(e) => {
                eprintln!("error: stdout: {e}");
                ExitCode::from(2)
            }
            None => ExitCode::SUCCESS,
        },
        Ok(Err(err)) => {
            if let Some(Error::Interrupted { .. }) = err.downcast_ref::<Error>() {
                eprintln!("{}", one_line(&err));
                return ExitCode::from(130);
            }
            eprintln!("error: {}", one_line(&err));
            ExitCode::from(2)
        }
        // A `println!` whose reader went away: the run did not finish what it was doing, so it
        // does not report success (128 + SIGPIPE, as a shell reports a process the pipe ended).
        Err(_) if BROKEN_PIPE.load(Ordering::SeqCst) => ExitCode::from(141),
        Err(_) => ExitCode::from(2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_one_line_naming_the_file() {
        let e = Error::format("data/x.csv", "line 3", "no `body` column");
        assert_eq!(e.to_string(), "data/x.csv: line 3: no `body` column");
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let e = anyhow::Error::new(Error::io("a.txt", io)).context("reading the corpus");
        assert_eq!(one_line(&e), "reading the corpus: a.txt: No such file");
        assert_eq!(
            Error::flag("--hidden", "must be at least 1").to_string(),
            "--hidden: must be at least 1"
        );
    }

    #[test]
    fn control_characters_cannot_break_the_line() {
        let e = anyhow::Error::new(Error::format("x.mat", "byte 9", "name `a\x0bb\rc\u{85}`"));
        assert_eq!(one_line(&e), "x.mat: byte 9: name `a\\u{b}b c\\u{85}`");
    }

    #[test]
    fn a_probability_of_zero_is_divergence() {
        assert_eq!((-MAX_NATS).exp(), f64::from_bits(1));
        assert_eq!((-MAX_NATS - 1.0).exp(), 0.0);
        assert_eq!(
            check_nats(3, 2.0 * MAX_NATS, 2, "x").unwrap(),
            2.0 * MAX_NATS
        );
        let e = check_nats(3, 2.0 * MAX_NATS + 1.0, 2, "characters").unwrap_err();
        assert!(e.to_string().contains("step 3") && e.to_string().contains("2 characters"));
        assert!(check_nats(1, f64::NAN, 1, "x").is_err());
    }

    #[test]
    fn non_finite_loss_is_divergence() {
        assert!(check_finite(3, 1.5).is_ok());
        let e = check_finite(7, f64::NAN).unwrap_err();
        assert!(e.to_string().contains("step 7"));
    }
}
