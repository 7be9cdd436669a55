//! What a run prints and keeps: trask's error and the table of outputs for XOR, and the report,
//! curves and summary of §3's fits.

use crate::model::xor_data;
use crate::train::Fit;
use nalgebra::DMatrix;

/// The mean absolute error trask prints, mean |t − X_L| over the four examples.
pub fn mean_abs_error(X_L: &[f64; 4]) -> f64 {
    let (_, t) = xor_data();
    X_L.iter()
        .zip(t.iter())
        .map(|(y, t)| (t - y).abs())
        .sum::<f64>()
        / 4.0
}

/// The table of the four examples after training: inputs, target, output X_L.
pub fn outputs_table(X_L: &[f64; 4]) -> String {
    let (X0, t) = xor_data();
    let mut s = String::from("  x1 x2 | target | output\n");
    for i in 0..4 {
        s += &format!(
            "   {}  {} |   {}    | {:.8}\n",
            X0[(i, 0)],
            X0[(i, 1)],
            t[i],
            X_L[i]
        );
    }
    s
}

/// A matrix as rows, e.g. `[[2.0000, -1.0000], [0.0000, 2.0000]]`.
fn rows(m: &DMatrix<f64>) -> String {
    let r: Vec<String> = m
        .row_iter()
        .map(|r| {
            let v: Vec<String> = r.iter().map(|v| format!("{v:.4}")).collect();
            format!("[{}]", v.join(", "))
        })
        .collect();
    if r.len() == 1 {
        r[0].clone()
    } else {
        format!("[{}]", r.join(", "))
    }
}

/// The printed report of the fits: true and fitted parameters, final cost, accuracy.
pub fn simple_nets(fits: &[Fit]) -> String {
    let mut out = String::new();
    for f in fits {
        let last = f.losses.last().map_or(f64::NAN, |l| l.1);
        out += &format!(
            "§3 {}: {} examples, {} gradient-descent steps\n  true   W = {}  b = {}\n  fitted W = {}  b = {}\n  final cost {last:.5}",
            f.net.kind.name(),
            f.net.X.nrows(),
            f.losses.len() - 1,
            rows(&f.W_true),
            rows(&f.b_true),
            rows(&f.net.W),
            rows(&f.net.b),
        );
        match f.net.accuracy() {
            Some(acc) => out += &format!(", training accuracy {:.1}%\n\n", 100.0 * acc),
            None => out += "\n\n",
        }
    }
    out
}

/// The cost curves, one panel per net.
pub fn simple_nets_figure(fits: &[Fit]) -> shared::plot::Figure {
    use shared::plot::{Panel, Series};
    let panels = fits
        .iter()
        .map(|f| {
            let s = Series {
                name: "cost".into(),
                points: f.losses.clone(),
            };
            Panel::new(f.net.kind.name(), "gradient-descent step", "cost E")
                .log_y()
                .with(s)
        })
        .collect();
    shared::plot::Figure {
        title: "§3 nets without a hidden layer".into(),
        panels,
    }
}

/// The fits as JSON for `summary.json` (parameters as lists of rows).
pub fn simple_nets_summary(fits: &[Fit]) -> serde_json::Value {
    let rows_of = |m: &DMatrix<f64>| -> Vec<Vec<f64>> {
        m.row_iter().map(|r| r.iter().copied().collect()).collect()
    };
    let mut map = serde_json::Map::new();
    for f in fits {
        map.insert(
            f.net.kind.name().into(),
            serde_json::json!({
                "final_cost": f.losses.last().map(|l| l.1),
                "accuracy": f.net.accuracy(),
                "W": rows_of(&f.net.W), "b": rows_of(&f.net.b),
                "W_true": rows_of(&f.W_true), "b_true": rows_of(&f.b_true),
            }),
        );
    }
    map.into()
}
