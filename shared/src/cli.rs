//! Command-line checks every chapter shares: one wording for one kind of bad value.

use crate::error::{Error, Result};

/// clap value parser for a finite number above 0 (learning rates, temperatures, scales):
/// `#[arg(long, value_parser = shared::cli::positive)]`.
pub fn positive(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("{s} is not a positive number")),
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

    #[test]
    fn positive_takes_finite_numbers_above_zero_only() {
        assert_eq!(positive("0.5"), Ok(0.5));
        assert_eq!(positive("1e-3"), Ok(1e-3));
        for bad in ["0", "-1", "nan", "inf", "abc", ""] {
            let e = positive(bad).unwrap_err();
            assert!(e.contains("not a positive number"), "{bad}: {e}");
        }
        assert!(check_positive("--lr", 0.1).is_ok());
        let e = check_positive("--lr", f64::NAN).unwrap_err().to_string();
        assert_eq!(e, "--lr: NaN is not a positive number");
    }
}
