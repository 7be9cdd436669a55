//! `boundary-<optimizer>.png`: the trained network's decision regions over the training points
//! (the notebook's `plot_decision_boundary`: the plane from min − 1 to max + 1 of the data,
//! coloured by the predicted class, the points on top coloured by their label).

use crate::fast;
use crate::model::Net;
use crate::paths::contour;
use nalgebra::DMatrix;
use plotters::prelude::*;
use plotters::style::FontStyle;
use shared::{Error, Result};
use std::path::Path;

/// Cells of the coloured grid along x and y.
const GRID: (usize, usize) = (240, 180);

/// Draws the decision regions of `net` and the points X (2 × N) with `labels` to a PNG at
/// `path` (atomically). The region's shade is P(label 1) = A3: pale near 0.5, deeper where
/// the network is sure; the black line is A3 = 0.5.
#[allow(non_snake_case)]
pub fn save_png(
    path: impl AsRef<Path>,
    net: &Net,
    X: &DMatrix<f64>,
    labels: &[usize],
    title: &str,
) -> Result<()> {
    let path = path.as_ref();
    shared::plot::fonts()?;
    let tmp = shared::files::temp_path(path);
    let drawn = draw(&tmp, net, X, labels, title);
    if let Err(msg) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::msg(format!(
            "{}: drawing the decision boundary failed: {msg}",
            path.display()
        )));
    }
    shared::files::commit_temp(&tmp, path)
}

/// The colour of class 0 (red) and class 1 (blue), as the notebook's Spectral map ends.
const CLASS: [RGBColor; 2] = [RGBColor(213, 62, 79), RGBColor(50, 136, 189)];

/// White blended toward a class colour by `strength` in [0, 1].
fn tint(c: RGBColor, strength: f64) -> RGBColor {
    let mix = |v: u8| (255.0 + (v as f64 - 255.0) * strength).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

#[allow(non_snake_case)]
fn draw(
    path: &Path,
    net: &Net,
    X: &DMatrix<f64>,
    labels: &[usize],
    title: &str,
) -> std::result::Result<(), String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let span = |r: usize| {
        let row = X.row(r);
        (row.min() - 1.0, row.max() + 1.0)
    };
    let ((x0, x1), (y0, y1)) = (span(0), span(1));
    let root = shared::plot::png_backend(path, (900, 680)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22, FontStyle::Bold))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x1")
        .y_desc("x2")
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(|x| e(&x))?;
    // A3 at the centre of every grid cell: one forward pass over all of them.
    let (nx, ny) = GRID;
    let (dx, dy) = ((x1 - x0) / nx as f64, (y1 - y0) / ny as f64);
    let centres = DMatrix::from_fn(2, nx * ny, |r, k| {
        let (i, j) = (k % nx, k / nx);
        if r == 0 {
            x0 + (i as f64 + 0.5) * dx
        } else {
            y0 + (j as f64 + 0.5) * dy
        }
    });
    let A3 = fast::probabilities(net, &centres); // 1 × (nx·ny)
    chart
        .draw_series((0..nx * ny).map(|k| {
            let (i, j) = (k % nx, k / nx);
            let p = A3[k];
            let class = usize::from(p > 0.5);
            let colour = tint(CLASS[class], 0.2 + 0.3 * (2.0 * p - 1.0).abs());
            let (cx, cy) = (x0 + i as f64 * dx, y0 + j as f64 * dy);
            Rectangle::new([(cx, cy), (cx + dx, cy + dy)], colour.filled())
        }))
        .map_err(|x| e(&x))?;
    // The boundary A3 = 0.5 through the cell centres.
    let xs: Vec<f64> = (0..nx).map(|i| x0 + (i as f64 + 0.5) * dx).collect();
    let ys: Vec<f64> = (0..ny).map(|j| y0 + (j as f64 + 0.5) * dy).collect();
    let segs = contour(&xs, &ys, A3.as_slice(), 0.5);
    chart
        .draw_series(
            segs.into_iter()
                .map(|[a, b]| PathElement::new(vec![a, b], BLACK.stroke_width(2))),
        )
        .map_err(|x| e(&x))?;
    for class in [0, 1] {
        let c = CLASS[class];
        chart
            .draw_series(
                X.column_iter()
                    .zip(labels)
                    .filter(|&(_, &l)| l == class)
                    .map(|(p, _)| {
                        EmptyElement::at((p[0], p[1]))
                            + Circle::new((0, 0), 4, c.filled())
                            + Circle::new((0, 0), 4, BLACK.stroke_width(1))
                    }),
            )
            .map_err(|x| e(&x))?
            .label(format!("label {class}"))
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, c.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 14))
        // The moons leave the lower right corner empty; the boundary leaves the chart at the
        // top, where an upper-right legend would cover it.
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))
}
