//! `embedding.png`: the learned word embeddings (rows of W0) projected to 2-D by PCA, each word
//! written at its point, as the lecture shows its t-SNE map of the 250 words.

use nalgebra::{DMatrix, SymmetricEigen};
use plotters::prelude::*;
use plotters::style::FontStyle;
use shared::{Error, Result, files};
use std::path::Path;

/// The rows of `W` (V × D) projected on their first two principal components: V × 2, and the
/// fraction of the variance each component explains. Each axis's sign is fixed so that its
/// largest loading is positive (the same W always gives the same picture). The covariance is
/// taken of W / max|W| (same components; no overflow for the huge weights of a diverged run).
pub fn pca2(W: &DMatrix<f64>) -> (DMatrix<f64>, [f64; 2]) {
    let (v, d) = W.shape();
    let scale = match W.amax() {
        s if s > 0.0 && s.is_finite() => s,
        _ => 1.0,
    };
    let mean = W.row_mean() / scale; // 1 × D
    let mut Xc = W / scale; // V × D, scaled and centred
    for mut row in Xc.row_iter_mut() {
        row -= &mean;
    }
    // C = Xcᵀ Xc / (V − 1)  (D × D)
    let mut C = DMatrix::zeros(d, d);
    shared::kernels::gemm_tn(1.0 / (v.max(2) - 1) as f64, &Xc, &Xc, 0.0, &mut C);
    let eig = SymmetricEigen::new(C);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let total: f64 = eig.eigenvalues.iter().map(|l| l.max(0.0)).sum();
    let mut E = DMatrix::zeros(d, 2); // D × 2: the two leading eigenvectors
    let mut explained = [0.0; 2];
    for (k, &i) in order.iter().take(2).enumerate() {
        let mut e = eig.eigenvectors.column(i).clone_owned();
        let big = e.iamax();
        if e[big] < 0.0 {
            e = -e;
        }
        E.set_column(k, &e);
        explained[k] = if total > 0.0 {
            eig.eigenvalues[i].max(0.0) / total
        } else {
            0.0
        };
    }
    (&Xc * E * scale, explained)
}

/// Draws `embedding.png`: each word of `words` at its PCA coordinates of `W0`'s rows, the
/// words in `highlight` in red (e.g. the modal verbs the notes point to).
pub fn save_embedding(
    path: impl AsRef<Path>,
    W0: &DMatrix<f64>,
    words: &[String],
    highlight: &[&str],
) -> Result<()> {
    let path = path.as_ref();
    assert_eq!(W0.nrows(), words.len(), "one word per row of W0");
    let (P, explained) = pca2(W0); // V × 2
    if !P.iter().all(|x| x.is_finite()) {
        return Err(Error::msg(format!(
            "{}: the embeddings W0 are not finite numbers: nothing to draw",
            path.display()
        )));
    }
    shared::plot::fonts()?;
    let span = |c: usize| {
        let (lo, hi) = (P.column(c).min(), P.column(c).max());
        let pad = 0.06 * (hi - lo).max(1e-9);
        (lo - pad)..(hi + pad)
    };
    let tmp = files::temp_path(path);
    let drawn = (|| -> std::result::Result<(), String> {
        let root = BitMapBackend::new(&tmp, (1400, 1000)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "Word embeddings W0 ({} × {}), first two principal components",
                    W0.nrows(),
                    W0.ncols()
                ),
                ("sans-serif", 26, FontStyle::Bold),
            )
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(span(0), span(1))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(format!("PC1 ({:.0}% of variance)", 100.0 * explained[0]))
            .y_desc(format!("PC2 ({:.0}% of variance)", 100.0 * explained[1]))
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(|e| e.to_string())?;
        let red = RGBColor(214, 39, 40);
        let ink = RGBColor(40, 40, 40);
        chart
            .draw_series(words.iter().enumerate().map(|(i, w)| {
                let c = if highlight.contains(&w.as_str()) {
                    red
                } else {
                    ink
                };
                let font = ("sans-serif", 14).into_font().color(&c);
                EmptyElement::at((P[(i, 0)], P[(i, 1)]))
                    + Circle::new((0, 0), 2, c.filled())
                    + Text::new(w.clone(), (3, -7), font)
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    })();
    if let Err(msg) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::msg(format!(
            "{}: drawing the embedding failed: {msg}",
            path.display()
        )));
    }
    files::commit_temp(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pca_finds_the_dominant_direction() {
        // Points along (1, 2, 0) with small noise in the other directions.
        let W = DMatrix::from_fn(40, 3, |i, j| {
            let s = i as f64 - 20.0;
            let noise = 0.01 * ((i * 7 + j * 13) as f64).sin();
            [s, 2.0 * s, 0.0][j] + noise
        });
        let (P, ex) = pca2(&W);
        assert!(ex[0] > 0.999 && ex[1] < 1e-3, "{ex:?}");
        // PC1 coordinate = projection on (1, 2, 0)/√5 of the centred points.
        let want = 19.5 * 5f64.sqrt(); // centred s = −19.5 for i = 0
        assert!((P[(0, 0)].abs() - want.abs()).abs() < 0.1, "{}", P[(0, 0)]);
    }
}
