//! `--csv FILE`: labelled points in the plane instead of the generated moons.
//!
//! One point per line, `x1,x2,label` with label 0 or 1; an optional header line (any line
//! whose first field is not a number, e.g. `x1,x2,label`); blank lines are skipped. Every
//! problem is reported with the file and line: a wrong number of fields, a value that is not a
//! finite number, a label other than 0 or 1, no points, or only one class.

use nalgebra::DMatrix;
use shared::{Error, Result};
use std::path::Path;

/// Points read from a CSV file: X is 2 × N (one point per column), labels 0/1.
#[allow(non_snake_case)]
pub fn load_csv(path: impl AsRef<Path>) -> Result<(DMatrix<f64>, Vec<usize>)> {
    let path = path.as_ref();
    let bytes = shared::files::read(path)?;
    parse_csv(path, &bytes)
}

/// [`load_csv`] on bytes already read (`path` names them in errors).
#[allow(non_snake_case)]
pub fn parse_csv(path: &Path, bytes: &[u8]) -> Result<(DMatrix<f64>, Vec<usize>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut coords: Vec<f64> = Vec::new();
    let mut labels: Vec<usize> = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Error::format(path, format!("line {line}"), e)
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        let at = format!("line {line}");
        if record.iter().all(str::is_empty) {
            continue;
        }
        let header = first && record.get(0).is_some_and(|f| f.parse::<f64>().is_err());
        first = false;
        if header {
            if record.len() != 3 {
                return Err(Error::format(
                    path,
                    at,
                    format!(
                        "the header has {} columns; expected 3: x1,x2,label",
                        record.len()
                    ),
                ));
            }
            continue;
        }
        if record.len() != 3 {
            return Err(Error::format(
                path,
                at,
                format!(
                    "{} fields; expected 3: x1,x2,label (e.g. 0.5,-0.2,1)",
                    record.len()
                ),
            ));
        }
        for (k, name) in ["x1", "x2"].iter().enumerate() {
            let v: f64 = record[k].parse().map_err(|_| {
                Error::format(
                    path,
                    &at,
                    format!("{name} = `{}` is not a number", &record[k]),
                )
            })?;
            if !v.is_finite() {
                return Err(Error::format(
                    path,
                    &at,
                    format!("{name} = {v} is not finite"),
                ));
            }
            coords.push(v);
        }
        let label = match &record[2] {
            "0" | "0.0" => 0,
            "1" | "1.0" => 1,
            other => {
                return Err(Error::format(
                    path,
                    &at,
                    format!("label = `{other}`; the label must be 0 or 1"),
                ));
            }
        };
        labels.push(label);
    }
    if labels.is_empty() {
        return Err(Error::format(
            path,
            "end of file",
            "no points (expected lines x1,x2,label)",
        ));
    }
    for class in [0, 1] {
        if !labels.contains(&class) {
            return Err(Error::format(
                path,
                "all lines",
                format!("no point has label {class}: two classes are needed"),
            ));
        }
    }
    let X = DMatrix::from_column_slice(2, labels.len(), &coords);
    Ok((X, labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<(DMatrix<f64>, Vec<usize>)> {
        parse_csv(Path::new("pts.csv"), text.as_bytes())
    }

    #[test]
    fn reads_points_with_or_without_header() {
        let (X, y) = parse("x1,x2,label\n0.5,-0.25,1\n\n -1, 2e-1 ,0\n").unwrap();
        assert_eq!(X.shape(), (2, 2));
        assert_eq!(X.column(0).as_slice(), &[0.5, -0.25]);
        assert_eq!(X.column(1).as_slice(), &[-1.0, 0.2]);
        assert_eq!(y, [1, 0]);
        let (X2, y2) = parse("0.5,-0.25,1\n-1,0.2,0.0").unwrap();
        assert_eq!((X2, y2), (X, vec![1, 0]));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let cases = [
            ("x1,x2,label\n1,2,1\n3,4\n", "pts.csv: line 3: 2 fields"),
            (
                "1,2,1\n3,abc,0\n",
                "pts.csv: line 2: x2 = `abc` is not a number",
            ),
            ("1,2,1\n3,4,2\n", "pts.csv: line 2: label = `2`"),
            ("1,inf,1\n3,4,0\n", "line 1: x2 = inf is not finite"),
            ("x1,x2,label\n", "pts.csv: end of file: no points"),
            ("", "no points"),
            ("1,2,1\n3,4,1\n", "no point has label 0"),
            ("x,y\n1,2,0\n", "pts.csv: line 1: the header has 2 columns"),
        ];
        for (text, want) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let e = load_csv("/nonexistent/pts.csv").unwrap_err().to_string();
        assert!(e.starts_with("/nonexistent/pts.csv"), "{e}");
    }
}
