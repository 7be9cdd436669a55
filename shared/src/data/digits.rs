//! The 8×8 digits CSV (`--digits FILE`): scikit-learn's `load_digits` data (UCI optical
//! recognition of handwritten digits, 1,797 images).
//!
//! One image per line, 65 integers separated by commas: the 64 pixels of the 8×8 image in
//! row-major order, each a count 0..=16, then the label 0..=9. There is no header; a first line
//! whose fields are all non-numeric (e.g. `pixel_0_0,…,target` from a pandas export) is
//! skipped as one.

use super::ImageSet;
use crate::error::{Error, Result};
use crate::files;
use nalgebra::DMatrix;
use std::path::Path;

/// Side of a digits image.
pub const SIDE: usize = 8;
/// Largest pixel count of the digits data (pixels are scaled by 1/16).
pub const MAX_PIXEL: u32 = 16;

/// Reads the digits CSV into an [`ImageSet`]: images 64 × N in [0, 1] (counts / 16), labels
/// 0..=9, 10 classes. Errors name the file, the line and the field.
pub fn load_digits_csv(path: impl AsRef<Path>) -> Result<ImageSet> {
    let path = path.as_ref();
    let text = files::read_text(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let d = SIDE * SIDE;
    let mut pixels: Vec<f64> = Vec::new();
    let mut labels: Vec<usize> = Vec::new();
    for (i, result) in reader.records().enumerate() {
        let record = result.map_err(|e| {
            let at = e.position().map_or(0, |p| p.line());
            Error::format(path, format!("line {at}"), e)
        })?;
        let line = record.position().map_or(i as u64 + 1, |p| p.line());
        let at = |field: usize| format!("line {line}, field {field}");
        if i == 0 && record.iter().all(|f| f.trim().parse::<f64>().is_err()) {
            continue; // a header row
        }
        if record.len() == 1 && record[0].trim().is_empty() {
            continue; // a blank line
        }
        if record.len() != d + 1 {
            return Err(Error::format(
                path,
                format!("line {line}"),
                format!(
                    "{} fields, expected {} (64 pixels then the label)",
                    record.len(),
                    d + 1
                ),
            ));
        }
        for (j, field) in record.iter().enumerate() {
            let value: u32 = field.trim().parse().map_err(|_| {
                Error::format(path, at(j + 1), format!("'{field}' is not a whole number"))
            })?;
            if j < d {
                if value > MAX_PIXEL {
                    return Err(Error::format(
                        path,
                        at(j + 1),
                        format!("pixel {value} is outside 0..=16"),
                    ));
                }
                pixels.push(f64::from(value) / f64::from(MAX_PIXEL));
            } else if value > 9 {
                return Err(Error::format(
                    path,
                    at(j + 1),
                    format!("label {value} is outside 0..=9"),
                ));
            } else {
                labels.push(value as usize);
            }
        }
    }
    if labels.is_empty() {
        return Err(Error::format(
            path,
            "whole file",
            "no image: the file is empty",
        ));
    }
    Ok(ImageSet {
        // 64 × N: line k's 64 pixels (row-major 8×8) are column k.
        images: DMatrix::from_vec(d, labels.len(), pixels),
        labels,
        rows: SIDE,
        cols: SIDE,
        classes: 10,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(first: u32, label: u32) -> String {
        let mut f: Vec<String> = (0..64).map(|j| ((first + j) % 17).to_string()).collect();
        f.push(label.to_string());
        f.join(",")
    }

    #[test]
    fn reads_images_as_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("digits.csv");
        std::fs::write(&p, format!("{}\r\n{}\n", line(0, 3), line(5, 9))).unwrap();
        let set = load_digits_csv(&p).unwrap();
        assert_eq!((set.len(), set.rows, set.cols, set.classes), (2, 8, 8, 10));
        assert_eq!(set.images.shape(), (64, 2));
        assert_eq!(set.labels, [3, 9]);
        // Image 1, pixel (row 1, col 3) = field 12 of line 2 = (5 + 11) % 17 = 16 → 1.0.
        assert_eq!(set.images[(11, 1)], 1.0);
        assert_eq!(set.images[(0, 0)], 0.0);
        assert_eq!(set.images[(2, 0)], 2.0 / 16.0);

        let header: Vec<String> = (0..64)
            .map(|j| format!("pixel_{}_{}", j / 8, j % 8))
            .collect();
        std::fs::write(&p, format!("{},target\n{}\n", header.join(","), line(1, 0))).unwrap();
        assert_eq!(load_digits_csv(&p).unwrap().labels, [0]);
    }

    #[test]
    fn malformed_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("digits.csv");
        let check = |content: &[u8], want: &str| {
            std::fs::write(&p, content).unwrap();
            let e = load_digits_csv(&p).unwrap_err().to_string();
            assert!(e.contains("digits.csv") && e.contains(want), "{e}");
        };
        check(b"", "empty");
        check(
            format!("{}\n1,2,3\n", line(0, 1)).as_bytes(),
            "line 2: 3 fields, expected 65",
        );
        check(
            format!("{}\n", line(0, 1))
                .replace(",4,", ",x4,")
                .as_bytes(),
            "line 1, field 5: 'x4' is not a whole number",
        );
        check(
            format!("{}\n", line(0, 1))
                .replacen(",4,", ",17,", 1)
                .as_bytes(),
            "field 5: pixel 17 is outside 0..=16",
        );
        check(
            format!("{}\n", line(0, 12)).as_bytes(),
            "field 65: label 12",
        );
        check(b"0,1,\xff\n", "byte 4");
        // Truncated: the last line cut mid-way.
        let full = format!("{}\n{}\n", line(0, 1), line(2, 2));
        check(&full.as_bytes()[..full.len() - 40], "line 2");
    }
}
