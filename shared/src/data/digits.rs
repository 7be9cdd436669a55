//! Digit images: synthetic 28×28 digits generated here (the default image data) and the loader
//! of scikit-learn's 8×8 digits CSV.
//!
//! ## Synthetic digits
//!
//! [`synthetic_digits`]: 28×28 grey images of 0–9 drawn from stroke templates, the default
//! image data of the `conv-im2col` and `rbm` chapters (MNIST replaces them with `--mnist DIR`).
//!
//! Each digit is a few polylines and arcs in "font units" (x to the right, y up, the digit about
//! 0.6 wide and 1 high, centred on the origin), in one of a few styles per digit (a 1 with or
//! without a flag, a 4 open or closed, a 7 with or without a bar, a 9 with a straight or curved
//! tail). Each image then gets its own
//!
//! - smooth warp of the strokes (a random low-frequency displacement field),
//! - affine jitter: rotation, slant (shear), width and height scale, translation,
//! - stroke width (1.4 to 3.6 pixels) and ink intensity,
//! - anti-aliased rendering: pixel value = clamp(width/2 + 1/2 − distance to the stroke, 0, 1),
//! - clutter: sometimes a short stray stroke, and Gaussian pixel noise, clamped to [0, 1].
//!
//! The jitter is tuned so that the task is real: a linear softmax classifier reaches about 85 %
//! on held-out images, while models that see local shape (an MLP, a CNN) do clearly better.
//! Classes are balanced (counts differ by at most one) and in random order.
//!
//! ## The 8×8 digits CSV
//!
//! [`load_digits_csv`] (`--digits FILE`): scikit-learn's `load_digits` data (UCI optical
//! recognition of handwritten digits, 1,797 images).
//!
//! One image per line, 65 integers separated by commas: the 64 pixels of the 8×8 image in
//! row-major order, each a count 0..=16, then the label 0..=9. There is no header; a first line
//! whose fields are all non-numeric (e.g. `pixel_0_0,…,target` from a pandas export) is
//! skipped as one.

use super::ImageSet;
use crate::error::{Error, Result};
use crate::files;
use crate::rng::{self, Rng};
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
    parse_digits_csv(&files::read_text(path)?, path)
}

/// Parses the text of a digits CSV ([`load_digits_csv`] without the file system); `path` only
/// names the source in errors.
pub fn parse_digits_csv(text: &str, path: &Path) -> Result<ImageSet> {
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

/// Side of a synthetic digit image in pixels.
pub const SYNTHETIC_SIDE: usize = 28;

/// The random stream (of [`rng::stream`]) the digit generator draws from.
const STREAM: u64 = 0x6469_6769; // "digi"

/// A point in font units (x right, y up) or pixels (x = column, y = row).
type Point = (f64, f64);

/// `n` labelled 28×28 digit images, deterministic by `seed`.
///
/// `images` is 784 × n (one image per column, pixel (r, c) at row 28·r + c, values in [0, 1],
/// ink bright on a dark background as in MNIST); `labels[k]` in 0..10; `classes` = 10.
/// The images for `n` are the first `n` of those for any larger count with the same seed
/// (labels are dealt in shuffled blocks of ten, which is what keeps the classes balanced).
pub fn synthetic_digits(seed: u64, n: usize) -> ImageSet {
    let mut rng = rng::stream(seed, STREAM);
    let mut images = DMatrix::<f64>::zeros(SYNTHETIC_SIDE * SYNTHETIC_SIDE, n);
    let mut labels = Vec::with_capacity(n);
    let mut block: [usize; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    let mut canvas = [0.0; SYNTHETIC_SIDE * SYNTHETIC_SIDE];
    for k in 0..n {
        if k % 10 == 0 {
            rng::shuffle(&mut rng, &mut block);
        }
        let digit = block[k % 10];
        draw_digit(&mut rng, digit, &mut canvas);
        images.column_mut(k).copy_from_slice(&canvas);
        labels.push(digit);
    }
    ImageSet {
        images,
        labels,
        rows: SYNTHETIC_SIDE,
        cols: SYNTHETIC_SIDE,
        classes: 10,
    }
}

/// Draws one random instance of `digit` into `canvas` (784 pixels, row-major).
fn draw_digit(rng: &mut Rng, digit: usize, canvas: &mut [f64; SYNTHETIC_SIDE * SYNTHETIC_SIDE]) {
    let strokes = template(rng, digit);

    // Smooth warp: two random sinusoidal displacement waves, amplitude ~0.035 font units.
    let waves: Vec<[f64; 5]> = (0..2)
        .map(|_| {
            let angle = rng::uniform(rng, 0.0, std::f64::consts::TAU);
            [
                rng::uniform(rng, 1.5, 4.0) * angle.cos(), // wave vector
                rng::uniform(rng, 1.5, 4.0) * angle.sin(),
                rng::uniform(rng, 0.0, std::f64::consts::TAU), // phase
                rng::uniform(rng, -0.045, 0.045),              // amplitude in x
                rng::uniform(rng, -0.045, 0.045),              // amplitude in y
            ]
        })
        .collect();

    // Affine jitter A = R(θ) · Shear(s) · diag(sx, sy), then translation; 1 font unit ≈ 19 px.
    let theta = (13.0 * rng::normal(rng)).clamp(-30.0, 30.0).to_radians();
    let shear = rng::uniform(rng, -0.35, 0.35);
    let height = 19.0 * rng::uniform(rng, 0.7, 1.1);
    let sx = height * rng::uniform(rng, 0.8, 1.25);
    let sy = height;
    let (c, s) = (theta.cos(), theta.sin());
    // [a b; d e] = R · [1 shear; 0 1] · diag(sx, sy)
    let (a, b) = (c * sx, (c * shear - s) * sy);
    let (d, e) = (s * sx, (s * shear + c) * sy);
    let tx = 13.5 + rng::uniform(rng, -3.0, 3.0);
    let ty = 13.5 + rng::uniform(rng, -2.2, 2.2);
    let to_pixels = |(x, y): Point| -> Point {
        let (mut x, mut y) = (x, y);
        for w in &waves {
            let phase = w[0] * x + w[1] * y + w[2];
            x += w[3] * phase.sin();
            y += w[4] * phase.cos();
        }
        // column = tx + a·x + b·y; row = ty − (d·x + e·y) (y points up in font units)
        (tx + a * x + b * y, ty - (d * x + e * y))
    };

    let width = rng::uniform(rng, 1.4, 3.6);
    let ink = rng::uniform(rng, 0.75, 1.0);
    canvas.fill(0.0);
    for stroke in &strokes {
        let pixels: Vec<Point> = stroke.iter().map(|&p| to_pixels(p)).collect();
        for seg in pixels.windows(2) {
            draw_segment(canvas, seg[0], seg[1], width, ink);
        }
    }
    // A stray short stroke in one image out of four.
    if rng::uniform(rng, 0.0, 1.0) < 0.25 {
        let p = (rng::uniform(rng, 2.0, 26.0), rng::uniform(rng, 2.0, 26.0));
        let angle = rng::uniform(rng, 0.0, std::f64::consts::TAU);
        let len = rng::uniform(rng, 2.0, 6.0);
        let q = (p.0 + len * angle.cos(), p.1 + len * angle.sin());
        draw_segment(
            canvas,
            p,
            q,
            rng::uniform(rng, 1.0, 2.0),
            rng::uniform(rng, 0.3, 0.8),
        );
    }
    // Pixel noise N(0, σ²), σ per image, clamped to [0, 1].
    let sigma = rng::uniform(rng, 0.02, 0.12);
    for v in canvas.iter_mut() {
        *v = (*v + sigma * rng::normal(rng)).clamp(0.0, 1.0);
    }
}

/// Paints the segment p–q (pixel coordinates: x = column, y = row) of the given width:
/// coverage = clamp(width/2 + 1/2 − distance(pixel centre, segment), 0, 1), kept as the max
/// with what is already there.
fn draw_segment(
    canvas: &mut [f64; SYNTHETIC_SIDE * SYNTHETIC_SIDE],
    p: Point,
    q: Point,
    width: f64,
    ink: f64,
) {
    let reach = width / 2.0 + 0.5;
    let lo = |a: f64, b: f64| ((a.min(b) - reach).floor().max(0.0)) as usize;
    let hi = |a: f64, b: f64| {
        ((a.max(b) + reach).ceil().min(SYNTHETIC_SIDE as f64 - 1.0)).max(0.0) as usize
    };
    let (c0, c1, r0, r1) = (lo(p.0, q.0), hi(p.0, q.0), lo(p.1, q.1), hi(p.1, q.1));
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let len2 = dx * dx + dy * dy;
    for r in r0..=r1 {
        for c in c0..=c1 {
            let (x, y) = (c as f64, r as f64);
            // distance from (x, y) to the segment: project, clamp to [0, 1], measure
            let t = if len2 > 0.0 {
                (((x - p.0) * dx + (y - p.1) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (ex, ey) = (x - p.0 - t * dx, y - p.1 - t * dy);
            let dist2 = ex * ex + ey * ey;
            if dist2 >= reach * reach {
                continue; // outside the stroke: most of the bounding box
            }
            let coverage = (reach - dist2.sqrt()).min(1.0) * ink;
            let v = &mut canvas[r * SYNTHETIC_SIDE + c];
            *v = v.max(coverage);
        }
    }
}

/// Points of an elliptic arc centred at (cx, cy) with radii (rx, ry), from angle `a0` to `a1`
/// (degrees, counter-clockwise positive; a1 < a0 runs clockwise).
fn arc(cx: f64, cy: f64, rx: f64, ry: f64, a0: f64, a1: f64) -> Vec<Point> {
    let steps = ((a1 - a0).abs() / 15.0).ceil().max(2.0) as usize;
    (0..=steps)
        .map(|k| {
            let a = (a0 + (a1 - a0) * k as f64 / steps as f64).to_radians();
            (cx + rx * a.cos(), cy + ry * a.sin())
        })
        .collect()
}

/// Points of the quadratic Bézier curve from p0 to p2 with control point p1.
fn bezier(p0: Point, p1: Point, p2: Point) -> Vec<Point> {
    (0..=10)
        .map(|k| {
            let t = k as f64 / 10.0;
            let (u, v, w) = ((1.0 - t) * (1.0 - t), 2.0 * t * (1.0 - t), t * t);
            (
                u * p0.0 + v * p1.0 + w * p2.0,
                u * p0.1 + v * p1.1 + w * p2.1,
            )
        })
        .collect()
}

/// The strokes (polylines in font units) of one style of `digit`, the style drawn at random.
fn template(rng: &mut Rng, digit: usize) -> Vec<Vec<Point>> {
    let u = rng::uniform(rng, 0.0, 1.0);
    match digit {
        0 => {
            let rx = rng::uniform(rng, 0.24, 0.34);
            vec![arc(0.0, 0.0, rx, 0.48, 95.0, 95.0 + 360.0)]
        }
        1 => {
            let mut s = vec![vec![(0.02, 0.5), (0.0, -0.5)]];
            if u < 0.6 {
                s.push(vec![(-0.2, 0.3), (0.02, 0.5)]); // flag
            }
            if u < 0.25 {
                s.push(vec![(-0.18, -0.5), (0.2, -0.5)]); // base
            }
            s
        }
        2 => {
            let mut top = arc(0.0, 0.22, 0.27, 0.26, 160.0, -35.0);
            if u < 0.3 {
                // a small loop at the bottom left
                top.extend([(-0.3, -0.5), (-0.22, -0.38), (-0.12, -0.47), (0.32, -0.47)]);
            } else {
                top.extend([(-0.3, -0.5), (0.32, -0.5)]);
            }
            vec![top]
        }
        3 => {
            let mut s = arc(0.0, 0.25, 0.24, 0.24, 150.0, -90.0);
            s.extend(arc(0.0, -0.23, 0.28, 0.27, 90.0, -150.0));
            if u < 0.3 {
                // a flat top
                vec![
                    vec![(-0.25, 0.5), (0.25, 0.5), (-0.02, 0.05)],
                    arc(0.0, -0.2, 0.28, 0.3, 100.0, -150.0),
                ]
            } else {
                vec![s]
            }
        }
        4 => {
            if u < 0.5 {
                vec![
                    vec![(0.12, 0.5), (-0.3, -0.12), (0.32, -0.12)],
                    vec![(0.12, 0.5), (0.12, -0.5)],
                ]
            } else {
                vec![
                    vec![(-0.22, 0.5), (-0.28, -0.1), (0.3, -0.1)],
                    vec![(0.15, 0.3), (0.15, -0.5)],
                ]
            }
        }
        5 => {
            let mut s = vec![(0.28, 0.5), (-0.18, 0.5), (-0.22, 0.05)];
            s.extend(arc(0.0, -0.2, 0.27, 0.29, 125.0, -150.0));
            if u < 0.4 {
                // the top bar drawn as a separate stroke
                vec![vec![(-0.18, 0.5), (0.3, 0.52)], s[1..].to_vec()]
            } else {
                vec![s]
            }
        }
        6 => {
            let mut s = bezier((0.2, 0.5), (-0.32, 0.28), (-0.27, -0.22));
            s.extend(arc(0.0, -0.22, 0.27, 0.27, 180.0, -180.0));
            vec![s]
        }
        7 => {
            let stem = if u < 0.5 {
                vec![(-0.3, 0.5), (0.3, 0.5), (-0.05, -0.5)]
            } else {
                let mut s = vec![(-0.3, 0.5), (0.3, 0.5)];
                s.extend(bezier((0.3, 0.5), (0.0, 0.0), (0.0, -0.5)));
                s
            };
            let mut s = vec![stem];
            if rng::uniform(rng, 0.0, 1.0) < 0.3 {
                s.push(vec![(-0.12, 0.0), (0.22, 0.0)]); // crossbar
            }
            s
        }
        8 => vec![
            arc(0.0, 0.26, 0.22, 0.23, -90.0, 270.0),
            arc(0.0, -0.22, 0.27, 0.27, 90.0, 450.0),
        ],
        _ => {
            let mut s = vec![arc(0.0, 0.22, 0.25, 0.26, 0.0, 360.0)];
            if u < 0.5 {
                s.push(vec![(0.25, 0.22), (0.18, -0.5)]);
            } else {
                s.push(bezier((0.25, 0.2), (0.25, -0.35), (-0.15, -0.5)));
            }
            s
        }
    }
}

/// The first `count` images of `set` as text, side by side in rows of up to 8 images, each
/// under its label: ` .:-=+*#%@` from dark to bright. For eyeballing any [`ImageSet`]
/// (generated or loaded) in a terminal.
pub fn ascii_art(set: &ImageSet, count: usize) -> String {
    const RAMP: &[u8] = b" .:-=+*#%@";
    let count = count.min(set.len());
    let mut out = String::new();
    for start in (0..count).step_by(8) {
        let end = (start + 8).min(count);
        for k in start..end {
            out.push_str(&format!(
                "{:<w$}",
                format!("label {}", set.labels[k]),
                w = set.cols + 2
            ));
        }
        out.push('\n');
        for r in 0..set.rows {
            for k in start..end {
                for c in 0..set.cols {
                    let v = set.images[(r * set.cols + c, k)].clamp(0.0, 1.0);
                    let level = ((v * (RAMP.len() - 1) as f64).round()) as usize;
                    out.push(RAMP[level] as char);
                }
                out.push_str("  ");
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod synthetic_tests {
    use super::*;

    #[test]
    fn shape_range_balance_and_determinism() {
        let set = synthetic_digits(3, 1003);
        assert_eq!(set.images.shape(), (784, 1003));
        assert_eq!(
            (set.rows, set.cols, set.classes, set.len()),
            (28, 28, 10, 1003)
        );
        assert!(set.images.iter().all(|v| (0.0..=1.0).contains(v)));
        let mut counts = [0usize; 10];
        for &l in &set.labels {
            counts[l] += 1;
        }
        assert!(counts.iter().all(|&c| c == 100 || c == 101), "{counts:?}");
        let again = synthetic_digits(3, 1003);
        assert_eq!(set.images, again.images);
        assert_eq!(set.labels, again.labels);
        let prefix = synthetic_digits(3, 500);
        assert_eq!(prefix.images, set.images.columns(0, 500));
        assert_ne!(synthetic_digits(4, 10).images, set.images.columns(0, 10));
    }

    #[test]
    fn digits_have_ink_inside_the_frame() {
        let set = synthetic_digits(5, 500);
        for k in 0..set.len() {
            let img = set.images.column(k);
            let bright = img.iter().filter(|&&v| v > 0.5).count();
            assert!(
                (12..=400).contains(&bright),
                "image {k}: {bright} bright pixels"
            );
            // The border rows and columns stay mostly dark: the digit is inside the frame.
            let border: f64 = (0..28)
                .flat_map(|i| [i, 27 * 28 + i, i * 28, i * 28 + 27])
                .map(|p| img[p])
                .sum();
            assert!(
                border < 0.35 * (bright as f64),
                "image {k}: border ink {border}"
            );
        }
        let art = ascii_art(&set, 3);
        assert_eq!(art.lines().count(), 29);
        assert!(art.starts_with(&format!("label {}", set.labels[0])));
    }

    /// Multinomial logistic regression (softmax of W x + b) by mini-batch gradient descent with
    /// momentum; returns the accuracy on `test`.
    #[allow(non_snake_case)]
    fn softmax_regression_accuracy(train: &ImageSet, test: &ImageSet, epochs: usize) -> f64 {
        let (d, k) = (train.images.nrows(), 10);
        let mut W = DMatrix::<f64>::zeros(k, d); // 10 × 784
        let mut b = nalgebra::DVector::<f64>::zeros(k); // 10
        let mut vW = W.clone();
        let mut vb = b.clone();
        let (lr, momentum, batch) = (0.1, 0.9, 100);
        let mut rng = rng::seeded(0);
        for _ in 0..epochs {
            let order = rng::permutation(&mut rng, train.len());
            for idx in order.chunks(batch) {
                let X = train.images.select_columns(idx); // 784 × B
                let mut Y = &W * &X; // 10 × B logits
                for (c, mut col) in Y.column_iter_mut().enumerate() {
                    col += &b;
                    let m = col.max();
                    col.apply(|z| *z = (*z - m).exp());
                    let s = col.sum();
                    col /= s;
                    col[train.labels[idx[c]]] -= 1.0; // dZ = softmax − onehot
                }
                let n = idx.len() as f64;
                vW = &vW * momentum + (&Y * X.transpose()) / n;
                vb = &vb * momentum + Y.column_sum() / n;
                W -= &vW * lr;
                b -= &vb * lr;
            }
        }
        let logits = &W * &test.images; // 10 × N
        let correct = (0..test.len())
            .filter(|&c| {
                let col = logits.column(c) + &b;
                col.argmax().0 == test.labels[c]
            })
            .count();
        correct as f64 / test.len() as f64
    }

    #[test]
    fn a_linear_classifier_learns_them_but_far_from_perfectly() {
        let train = synthetic_digits(1, 6000);
        let test = synthetic_digits(2, 2000);
        let acc = softmax_regression_accuracy(&train, &test, 8);
        eprintln!("linear softmax test accuracy {acc}");
        assert!(
            acc > 0.70 && acc < 0.93,
            "linear softmax test accuracy {acc}"
        );
    }
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
