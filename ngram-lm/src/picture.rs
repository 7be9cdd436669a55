//! `embedding.png`: the learned word embeddings (rows of W0) projected to 2-D by PCA, each word
//! written at its point, as the lecture shows its t-SNE map of the 250 words, with a zoomed inset
//! of the modal verbs, which crowd together (`shared::plot::Scatter`).

use nalgebra::{DMatrix, SymmetricEigen};
use plotters::style::RGBColor;
use shared::plot::Scatter;
use shared::{Error, Result};
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
/// words in `highlight` in red (e.g. the modal verbs the notes point to), with a zoomed inset
/// of the region around them (they crowd together when training went well).
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
    let mut plot = Scatter::new(
        format!(
            "Word embeddings W0 ({} × {}), first two principal components",
            W0.nrows(),
            W0.ncols()
        ),
        format!("PC1 ({:.0}% of variance)", 100.0 * explained[0]),
        format!("PC2 ({:.0}% of variance)", 100.0 * explained[1]),
    );
    let (red, ink) = (RGBColor(214, 39, 40), RGBColor(40, 40, 40));
    for (i, w) in words.iter().enumerate() {
        let c = if highlight.contains(&w.as_str()) {
            red
        } else {
            ink
        };
        plot.push(P[(i, 0)], P[(i, 1)], w.clone(), c);
    }
    plot.inset_around(highlight).save_png(path)
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
