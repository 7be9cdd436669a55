//! The command line every chapter shares: parsing with `--version` and the real `--out`
//! default in `--help`, which flags were typed, and one wording for one kind of bad value.

use crate::error::{Error, Result};
use crate::session::{Chapter, Given};
use clap::parser::ValueSource;
use clap::{ArgMatches, Command, CommandFactory, FromArgMatches};
use std::collections::BTreeSet;

/// `--dtype`: the float type the engine trains in (see [`crate::kernels::Float`]).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// 64-bit floats, the notes layer's type (every default run).
    #[default]
    F64,
    /// 32-bit floats: twice the lanes per vector instruction, half the bytes.
    F32,
}

impl Dtype {
    /// `"f64"` or `"f32"`: the flag's value and a checkpoint's `dtype` metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::F64 => "f64",
            Dtype::F32 => "f32",
        }
    }
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses the command line of `chapter` into `C`: adds `--version`, shows each command's real
/// default folder in the help of `--out`, and returns which flags were typed (a resumed run
/// takes the others from its checkpoint). Usage errors and `--help` exit as clap does. The
/// program run without a subcommand is taken to be `train`; see [`parse_bare`] otherwise.
pub fn parse<C: CommandFactory + FromArgMatches>(chapter: &Chapter) -> (C, Given) {
    parse_bare::<C>(chapter, "train")
}

/// [`parse`] for a chapter whose bare command (no subcommand) runs `bare`, e.g. lstm-gru's
/// `adding`: the top-level help of `--out` then shows `bare`'s folder.
pub fn parse_bare<C: CommandFactory + FromArgMatches>(chapter: &Chapter, bare: &str) -> (C, Given) {
    let cmd = command_bare::<C>(chapter, bare);
    let mut args = BTreeSet::new();
    arg_ids(&cmd, &mut args);
    let matches = cmd.get_matches();
    let cli = C::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let mut given = BTreeSet::new();
    typed(&matches, &args, &mut given);
    (cli, Given(given))
}

/// The clap command of `C` as [`parse`] shows it (for tests of `--help`).
pub fn command<C: CommandFactory>(chapter: &Chapter) -> Command {
    command_bare::<C>(chapter, "train")
}

/// The clap command of `C` as [`parse_bare`] shows it.
pub fn command_bare<C: CommandFactory>(chapter: &Chapter, bare: &str) -> Command {
    negative_values(out_default(
        C::command().version(chapter.version),
        chapter,
        Some(bare),
    ))
}

/// Lets every flag that takes a value take a negative one (`--epochs -1`), in `cmd` and its
/// subcommands, so that its own parser refuses it with a message naming the flag ("invalid
/// value '-1' for '--epochs'"), where clap would say "unexpected argument '-1' found".
fn negative_values(mut cmd: Command) -> Command {
    let ids: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.get_long().is_some() && a.get_action().takes_values())
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        cmd = cmd.mut_arg(&id, |a| a.allow_negative_numbers(true));
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for sub in subs {
        cmd = cmd.mut_subcommand(&sub, negative_values);
    }
    cmd
}

/// Writes the real default folder into the help of `--out`, in `cmd` and its subcommands.
fn out_default(mut cmd: Command, chapter: &Chapter, name: Option<&str>) -> Command {
    if cmd.get_arguments().any(|a| a.get_id() == "out") {
        let folder = chapter.default_out(name).display().to_string();
        cmd = cmd.mut_arg("out", |a| {
            a.help(format!(
                "Folder for the run's outputs (loss.png, loss.csv, summary.json, the model) \
                 [default: {folder}]"
            ))
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for sub in subs {
        cmd = cmd.mut_subcommand(&sub, |s| out_default(s, chapter, Some(sub.as_str())));
    }
    cmd
}

/// The ids of every argument of `cmd` and its subcommands (not of argument groups).
fn arg_ids(cmd: &Command, out: &mut BTreeSet<String>) {
    out.extend(cmd.get_arguments().map(|a| a.get_id().to_string()));
    for sub in cmd.get_subcommands() {
        arg_ids(sub, out);
    }
}

/// Collects the ids of the flags typed on the command line, in every subcommand level.
fn typed(m: &ArgMatches, args: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    for id in m.ids() {
        if args.contains(id.as_str())
            && m.value_source(id.as_str()) == Some(ValueSource::CommandLine)
        {
            out.insert(id.to_string());
        }
    }
    if let Some((_, sub)) = m.subcommand() {
        typed(sub, args, out);
    }
}

/// clap value parser for a finite number above 0 (learning rates, temperatures, scales):
/// `#[arg(long, value_parser = shared::cli::positive)]`.
pub fn positive(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("{s} is not a positive number")),
    }
}

/// clap value parser for a finite number of at least 0 (a sampling temperature, where 0 means
/// the most likely choice, no random draw): `#[arg(long, value_parser = shared::cli::non_negative)]`.
pub fn non_negative(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 && v.is_finite() => Ok(v.abs()),
        _ => Err(format!("{s} is not a number of at least 0")),
    }
}

/// `v` if it is a finite number above 0, else a [`Error::Flag`] for `flag` (for values that are
/// optional or come from elsewhere than clap).
pub fn check_positive(flag: &str, v: f64) -> Result<f64> {
    if v > 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(Error::flag(flag, format!("{v} is not a positive number")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Parser, Subcommand};

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        cmd: Option<Cmd>,
        #[command(flatten)]
        run: crate::run::RunArgs,
    }

    #[derive(Subcommand, Debug)]
    enum Cmd {
        Train {
            #[arg(long, default_value_t = 0.1)]
            lr: f64,
            #[arg(long, default_value_t = 10)]
            seq_len: u64,
            #[command(flatten)]
            run: crate::run::RunArgs,
        },
        Paths {
            #[command(flatten)]
            run: crate::run::RunArgs,
        },
    }

    const CH: Chapter = Chapter {
        name: "demo",
        version: "9.8.7",
    };

    #[test]
    fn typed_flags_are_told_from_defaults_in_subcommands() {
        let cmd = command::<Cli>(&CH);
        let mut args = BTreeSet::new();
        arg_ids(&cmd, &mut args);
        let m = cmd
            .try_get_matches_from(["demo", "train", "--seq-len", "25", "--seed", "3"])
            .unwrap();
        let mut given = BTreeSet::new();
        typed(&m, &args, &mut given);
        let want: BTreeSet<String> = ["seq_len", "seed"].iter().map(|s| s.to_string()).collect();
        assert_eq!(given, want);
    }

    #[test]
    fn help_shows_each_commands_folder_and_version_exists() {
        // Help is wrapped to the terminal's width (100 columns without one): compare words.
        let words = |help: String| help.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut cmd = command::<Cli>(&CH);
        let help = words(cmd.render_long_help().to_string());
        assert!(help.contains("[default: runs/demo]"), "{help}");
        let mut paths = cmd.find_subcommand_mut("paths").unwrap().clone();
        let help = words(paths.render_long_help().to_string());
        assert!(help.contains("[default: runs/demo-paths]"), "{help}");
        let e = command::<Cli>(&CH)
            .try_get_matches_from(["demo", "--version"])
            .unwrap_err();
        assert!(e.to_string().contains("9.8.7"), "{e}");
    }

    #[test]
    fn help_of_a_bare_command_that_is_not_train_shows_its_folder() {
        let words = |help: String| help.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut cmd = command_bare::<Cli>(&CH, "paths");
        let help = words(cmd.render_long_help().to_string());
        assert!(help.contains("[default: runs/demo-paths]"), "{help}");
        let mut train = cmd.find_subcommand_mut("train").unwrap().clone();
        let help = words(train.render_long_help().to_string());
        assert!(help.contains("[default: runs/demo]"), "{help}");
    }

    #[test]
    fn a_negative_value_is_refused_by_the_flags_own_parser() {
        // clap alone says "unexpected argument '-1' found", naming no flag.
        let e = command::<Cli>(&CH)
            .try_get_matches_from(["demo", "train", "--seq-len", "-1"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid value '-1' for '--seq-len"), "{e}");
        let m = command::<Cli>(&CH)
            .try_get_matches_from(["demo", "train", "--lr", "-0.5"])
            .unwrap();
        let (_, sub) = m.subcommand().unwrap();
        assert_eq!(sub.get_one::<f64>("lr"), Some(&-0.5));
        // A flag without a value is still a flag.
        assert!(
            command::<Cli>(&CH)
                .try_get_matches_from(["demo", "--quiet", "-1"])
                .is_err()
        );
    }

    #[test]
    fn positive_takes_finite_numbers_above_zero_only() {
        assert_eq!(positive("0.5"), Ok(0.5));
        assert_eq!(positive("1e-3"), Ok(1e-3));
        for bad in ["0", "-1", "nan", "inf", "abc", ""] {
            let e = positive(bad).unwrap_err();
            assert!(e.contains("not a positive number"), "{bad}: {e}");
        }
        assert_eq!(non_negative("0"), Ok(0.0));
        assert_eq!(non_negative("-0"), Ok(0.0));
        assert_eq!(non_negative("0.7"), Ok(0.7));
        for bad in ["-1", "nan", "inf", "x", ""] {
            let e = non_negative(bad).unwrap_err();
            assert!(e.contains("not a number of at least 0"), "{bad}: {e}");
        }
        assert!(check_positive("--lr", 0.1).is_ok());
        let e = check_positive("--lr", f64::NAN).unwrap_err().to_string();
        assert_eq!(e, "--lr: NaN is not a positive number");
    }
}
