//! The pictures `shared::plot` draws: sizes of the PNGs for each layout, files written, and
//! (ignored, run by hand) the book's pictures redrawn from saved runs for a person to compare.

use plotters::prelude::*;
use shared::plot::{
    Figure, Layout, Legend, Line, Marker, Panel, Scatter, Series, Style, png_backend,
};
use std::path::{Path, PathBuf};

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[1..4], b"PNG", "{}", path.display());
    let be = |r: std::ops::Range<usize>| u32::from_be_bytes(bytes[r].try_into().unwrap());
    (be(16..20), be(20..24))
}

/// A falling curve called `name`.
fn falling(name: &str, scale: f64) -> Series {
    let mut s = Series::new(name);
    for i in 0..200 {
        s.push(i as f64, scale * (-0.03 * i as f64).exp() + 0.05);
    }
    s
}

fn figure(n: usize) -> Figure {
    Figure {
        title: format!("{n} panels"),
        panels: (0..n)
            .map(|k| Panel::new(format!("panel {k}"), "step", "loss").with(falling("loss", 1.0)))
            .collect(),
    }
}

#[test]
fn panels_are_laid_out_two_to_a_row() {
    let dir = tempfile::tempdir().unwrap();
    for (n, want) in [
        (1, (800, 520)),
        (2, (1600, 520)),
        (3, (1600, 1040)),
        (4, (1600, 1040)),
        (5, (1600, 1560)),
    ] {
        let fig = figure(n);
        assert_eq!(fig.size(), want, "{n} panels");
        let p = dir.path().join(format!("{n}.png"));
        fig.save_png(&p).unwrap();
        assert_eq!(png_size(&p), want, "{n} panels");
    }
    // An explicit layout: four in a row, as before grids; or one column of smaller panels.
    let fig = figure(4);
    let p = dir.path().join("row.png");
    fig.save_png_with(&p, Layout::row(4, (800, 520))).unwrap();
    assert_eq!(png_size(&p), (3200, 520));
    let column = Layout {
        cols: 1,
        panel: (640, 400),
    };
    fig.save_png_with(&p, column).unwrap();
    assert_eq!(png_size(&p), (640, 1600));
    // No panel still gives a (blank) picture of one panel's size.
    let p = dir.path().join("none.png");
    Figure::default().save_png(&p).unwrap();
    assert_eq!(png_size(&p), (800, 520));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        7,
        "one file per picture, no temp file left"
    );
}

#[test]
fn every_legend_place_and_style_draws() {
    let dir = tempfile::tempdir().unwrap();
    let mut flat = Series::new("reference");
    flat.push(0.0, 1.0);
    flat.push(199.0, 1.0);
    let base = Panel::new("t", "step", "loss")
        .with(falling("a", 1.0))
        .with(falling("b", 1.0))
        .with(flat);
    let mut seen = Vec::new();
    for at in [
        Legend::Best,
        Legend::UpperRight,
        Legend::UpperLeft,
        Legend::LowerRight,
        Legend::LowerLeft,
        Legend::Below,
    ] {
        for style in [
            Style::default(),
            Style::line(Line::Dashed),
            Style::line(Line::Dotted).marker(Marker::Square),
            Style::default().marker(Marker::Triangle),
        ] {
            let panel = base
                .clone()
                .legend(at)
                .style("b", style)
                .note("a and b coincide");
            let p = dir.path().join("p.png");
            Figure::single(panel.clone()).save_png(&p).unwrap();
            assert_eq!(png_size(&p), (800, 520));
            seen.push(std::fs::read(&p).unwrap());
            // Same panel on a log axis.
            Figure::single(panel.log_y()).save_png(&p).unwrap();
        }
    }
    seen.sort();
    seen.dedup();
    // Best is one of the corners here (the upper right is free): 5 places × 4 styles.
    assert_eq!(
        seen.len(),
        5 * 4,
        "each place and style gives its own picture"
    );
}

#[test]
fn notes_alone_get_a_box() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.png");
    let panel = Panel::new("t", "x", "y").with(falling("", 1.0));
    Figure::single(panel.clone()).save_png(&p).unwrap();
    let plain = std::fs::read(&p).unwrap();
    Figure::single(panel.note("a note")).save_png(&p).unwrap();
    assert_ne!(std::fs::read(&p).unwrap(), plain);
}

#[test]
fn styles_are_kept_by_name() {
    let p = Panel::new("t", "x", "y")
        .style("a", Style::line(Line::Dashed))
        .style("a", Style::line(Line::Dotted));
    assert_eq!(p.styles, vec![("a".to_string(), Style::line(Line::Dotted))]);
    assert_eq!(Style::default().line, Line::Solid);
    assert_eq!(Style::default().marker, Marker::None);
    assert_eq!(Panel::default().legend, Legend::Best);
}

#[test]
fn csv_is_unchanged_by_styles_and_notes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    let plain = Figure::single(Panel::new("t", "x", "y").with(falling("a", 1.0)));
    let mut dressed = plain.clone();
    dressed.panels[0] = dressed.panels[0]
        .clone()
        .style("a", Style::line(Line::Dashed))
        .note("n")
        .legend(Legend::Below);
    plain.save_csv(&a).unwrap();
    dressed.save_csv(&b).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn scatter_with_and_without_inset() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Scatter::new("words", "PC1", "PC2");
    for i in 0..60 {
        let t = i as f64;
        s.push(t.sin() * 3.0, (1.7 * t).cos() * 2.0, format!("w{i}"), BLACK);
    }
    for (k, w) in ["can", "could", "would", "should", "must"]
        .iter()
        .enumerate()
    {
        s.push(
            -0.3 + 0.01 * k as f64,
            -2.2 + 0.002 * k as f64,
            *w,
            RGBColor(214, 39, 40),
        );
    }
    let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
    s.save_png(&a).unwrap();
    s.clone()
        .inset_around(&["can", "could", "would", "should", "must"])
        .save_png(&b)
        .unwrap();
    assert_eq!(png_size(&a), (1400, 1000));
    assert_eq!(png_size(&b), (1400, 1000));
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let mut small = s;
    small.size = (600, 400);
    small.save_png(&a).unwrap();
    assert_eq!(png_size(&a), (600, 400));
}

#[test]
fn the_png_backend_writes_its_size() {
    shared::plot::fonts().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.png");
    {
        let root = png_backend(&p, (300, 80)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        root.draw(&Text::new("example", (10, 30), ("sans-serif", 17)))
            .unwrap();
        root.present().unwrap();
    }
    assert_eq!(png_size(&p), (300, 80));
}

// ---- pictures for a person to look at --------------------------------------------------

/// Where the pictures for eyes go: `$PICS`, else `target/pics` of the workspace.
fn pics() -> PathBuf {
    let dir = std::env::var_os("PICS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
                .join("pics")
        });
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The saved runs the book's pictures come from: `$BASELINE`, else the team's baseline.
fn baseline() -> PathBuf {
    std::env::var_os("BASELINE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/baseline/main0"))
}

/// The series of a `loss.csv` (`panel,series,x,y`), grouped by panel, in file order.
fn read_loss_csv(path: &Path) -> Option<Vec<(String, Vec<Series>)>> {
    let mut r = csv::Reader::from_path(path).ok()?;
    let mut panels: Vec<(String, Vec<Series>)> = Vec::new();
    for rec in r.records() {
        let rec = rec.ok()?;
        let (panel, name) = (&rec[0], &rec[1]);
        let (x, y): (f64, f64) = (rec[2].parse().ok()?, rec[3].parse().ok()?);
        if panels.last().is_none_or(|p| p.0 != panel) {
            panels.push((panel.to_string(), Vec::new()));
        }
        let series = &mut panels.last_mut()?.1;
        if series.last().is_none_or(|s| s.name != name) {
            series.push(Series::new(name));
        }
        series.last_mut()?.push(x, y);
    }
    Some(panels)
}

/// A run's figure rebuilt from its `loss.csv`: `axes` gives each panel's (x label, y label,
/// log y, legend), in order.
fn refigure(run: &str, title: &str, axes: &[(&str, &str, bool, Legend)]) -> Option<Figure> {
    let panels = read_loss_csv(&baseline().join(run).join("loss.csv"))?;
    Some(Figure {
        title: title.into(),
        panels: panels
            .into_iter()
            .zip(axes)
            .map(|((t, series), &(x, y, log, at))| {
                let p = series
                    .into_iter()
                    .fold(Panel::new(t, x, y).legend(at), Panel::with);
                if log { p.log_y() } else { p }
            })
            .collect(),
    })
}

/// The sample lines of [`text_sample`].
const SAMPLE_TEXT: [&str; 2] = [
    "example  x-axis: gxyp jqQ  Σ|t − y|  x² y³ 10⁻⁴ v̂_i  (N_h = 16)",
    "eXample? no: example, sentences seen, step, epoch, nats per image",
];

/// Draws [`SAMPLE_TEXT`] on `root` at the sizes the figures use.
fn draw_sample<DB: DrawingBackend>(root: DrawingArea<DB, plotters::coord::Shift>) {
    root.fill(&WHITE).unwrap();
    let mut y = 8;
    for size in [15, 17, 22, 26] {
        for line in SAMPLE_TEXT {
            root.draw(&Text::new(line, (8, y), ("sans-serif", size)))
                .unwrap();
            y += size + 10;
        }
    }
    root.present().unwrap();
}

/// The sample text drawn by plotters' own text path (`before`) or by the shared backend
/// (`after`).
fn text_sample(path: &Path, after: bool) {
    shared::plot::fonts().unwrap();
    if after {
        draw_sample(png_backend(path, (760, 340)).into_drawing_area());
    } else {
        draw_sample(BitMapBackend::new(path, (760, 340)).into_drawing_area());
    }
}

/// PCA of the rows of W to 2-D by the SVD of the centred matrix (the sign of each axis
/// fixed by its largest loading), and the variance each axis explains.
fn pca2(w: &nalgebra::DMatrix<f64>) -> (Vec<(f64, f64)>, [f64; 2]) {
    let mean = w.row_mean();
    let centred = nalgebra::DMatrix::from_fn(w.nrows(), w.ncols(), |i, j| w[(i, j)] - mean[j]);
    let svd = centred.clone().svd(false, true);
    let vt = svd.v_t.unwrap();
    let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
    order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
    let total: f64 = svd.singular_values.iter().map(|s| s * s).sum();
    let axis = |k: usize| {
        let v = vt.row(order[k]).transpose();
        let big = v.iamax();
        if v[big] < 0.0 { -v } else { v }
    };
    let (a, b) = (axis(0), axis(1));
    let pa = &centred * a;
    let pb = &centred * b;
    let ex = |k: usize| svd.singular_values[order[k]].powi(2) / total;
    (
        pa.iter().zip(pb.iter()).map(|(&x, &y)| (x, y)).collect(),
        [ex(0), ex(1)],
    )
}

#[test]
#[ignore = "writes pictures to target/pics (or $PICS) for a person to compare with the book's"]
fn pictures_for_eyes() {
    let out = pics();
    // 1. Text on its baseline.
    text_sample(&out.join("before-1-text.png"), false);
    text_sample(&out.join("after-1-text.png"), true);
    // 1-3. The book's loss pictures, redrawn from their runs' loss.csv.
    let figures = [
        (
            "adder",
            "rnn-adder: a vanilla RNN learns binary addition (N_h = 16, L² cost, np.random.seed(0))",
            vec![
                ("example", "Σ|t − y| over the 8 bits", false, Legend::Best),
                (
                    "example",
                    "fraction of sums right",
                    false,
                    Legend::LowerRight,
                ),
            ],
        ),
        (
            "rbm",
            "RBM, CD-20, n_h = 16",
            vec![
                ("epoch", "nats per image", false, Legend::Best),
                ("epoch", "nats per image", true, Legend::Best),
                ("epoch", "Σ_i (v_i − v̂_i)² per image", true, Legend::Best),
                ("epoch", "nats", false, Legend::Best),
            ],
        ),
        (
            "lstm",
            "Adding problem, T = 100: the gated cells remember, the vanilla RNN does not",
            vec![
                ("step", "MSE", true, Legend::Best),
                ("step", "MSE", true, Legend::Best),
            ],
        ),
        (
            "rnnlm",
            "",
            vec![(
                "sentences seen",
                "cross-entropy (nats per target word)",
                false,
                Legend::Best,
            )],
        ),
        (
            "opt",
            "",
            vec![("epoch", "cost (cross-entropy)", false, Legend::Best)],
        ),
        (
            "charrnn",
            "",
            vec![
                ("step", "loss", false, Legend::Best),
                ("step", "loss", false, Legend::Best),
            ],
        ),
        (
            "conv",
            "",
            vec![
                ("step", "cross-entropy", true, Legend::Best),
                ("epoch", "accuracy", false, Legend::LowerRight),
            ],
        ),
        (
            "xor",
            "",
            vec![("iteration", "mean |t − output|", false, Legend::Best)],
        ),
    ];
    for (run, title, axes) in figures {
        let Some(fig) = refigure(run, title, &axes) else {
            eprintln!("no {run}/loss.csv under {}", baseline().display());
            continue;
        };
        fig.save_png(out.join(format!("after-{run}-loss.png")))
            .unwrap();
        // The numbers are written as before: the same loss.csv, byte for byte.
        let csv = out.join(format!("after-{run}-loss.csv"));
        fig.save_csv(&csv).unwrap();
        assert_eq!(
            std::fs::read(&csv).unwrap(),
            std::fs::read(baseline().join(run).join("loss.csv")).unwrap(),
            "{run}/loss.csv"
        );
        std::fs::remove_file(csv).unwrap();
        if run == "opt" {
            // 4. What the chapter can add: a note, and markers on the curve drawn on top.
            let mut p = fig.panels[0].clone();
            p = p
                .style("momentum", Style::line(Line::Dashed).marker(Marker::Circle))
                .note("gd and momentum coincide");
            Figure::single(p)
                .save_png(out.join("after-opt-loss-noted.png"))
                .unwrap();
        }
    }
    // 3. Three panels: two in the first row, the third centred under them.
    figure(3).save_png(out.join("after-3-panels.png")).unwrap();
    // 5. The embedding picture with an inset of the modal verbs.
    let run = baseline().join("ngram");
    if let (Ok(ck), Ok(vocab)) = (
        shared::checkpoint::load(run.join("model.safetensors"), "ngram-lm"),
        std::fs::read_to_string(run.join("vocab.txt")),
    ) {
        let w0 = &ck.tensors["W0"];
        let (p, ex) = pca2(w0);
        let modals = [
            "can", "could", "should", "would", "might", "may", "will", "must",
        ];
        let mut s = Scatter::new(
            format!(
                "Word embeddings W0 ({} × {}), first two principal components",
                w0.nrows(),
                w0.ncols()
            ),
            format!("PC1 ({:.0}% of variance)", 100.0 * ex[0]),
            format!("PC2 ({:.0}% of variance)", 100.0 * ex[1]),
        );
        for (&(x, y), w) in p.iter().zip(vocab.lines()) {
            let c = if modals.contains(&w) {
                RGBColor(214, 39, 40)
            } else {
                RGBColor(40, 40, 40)
            };
            s.push(x, y, w, c);
        }
        s.save_png(out.join("after-ngram-embedding-no-inset.png"))
            .unwrap();
        s.inset_around(&modals)
            .save_png(out.join("after-ngram-embedding.png"))
            .unwrap();
    }
}
