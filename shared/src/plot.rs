//! Loss curves and image grids to PNG, and the same numbers to CSV.
//!
//! Text is drawn with the DejaVu Sans faces embedded in the binary (the `dejavu` crate), so
//! plots render on a machine with no fontconfig, no freetype and no system fonts. The PNG
//! bytes are deterministic: the same numbers give the same file.

use crate::error::{Error, Result};
use crate::files;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::OnceLock;

/// Registers the embedded fonts with plotters, once per process. Call it before drawing with
/// plotters directly (a chapter-specific picture): text in an unregistered family fails.
pub fn fonts() -> Result<()> {
    static DONE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let bad = |_| "the embedded DejaVu font could not be loaded".to_string();
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .map_err(bad)?;
        plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold())
            .map_err(bad)?;
        Ok(())
    })
    .clone()
    .map_err(Error::msg)
}

/// One named curve: (x, y) points in order of x.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Legend entry (and the `series` column of the CSV).
    pub name: String,
    /// The points; non-finite ones are skipped when drawing (they stay in the CSV).
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// An empty series called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Series {
            name: name.into(),
            points: Vec::new(),
        }
    }

    /// Appends the point (x, y).
    pub fn push(&mut self, x: f64, y: f64) {
        self.points.push((x, y));
    }

    /// The last y value, if any.
    pub fn last(&self) -> Option<f64> {
        self.points.last().map(|p| p.1)
    }

    /// The series smoothed by an exponential moving average with weight `keep` on the past
    /// (e.g. 0.99), as min-char-rnn smooths its loss; the first point starts the average.
    pub fn smoothed(&self, keep: f64, name: impl Into<String>) -> Series {
        let mut avg: Option<f64> = None;
        Series {
            name: name.into(),
            points: self
                .points
                .iter()
                .map(|&(x, y)| {
                    let a = match avg {
                        None => y,
                        Some(a) => keep * a + (1.0 - keep) * y,
                    };
                    avg = Some(a);
                    (x, a)
                })
                .collect(),
        }
    }
}

/// The corner of a panel its legend is drawn in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Legend {
    /// Top right (the default: falling loss curves leave it free).
    #[default]
    UpperRight,
    /// Top left.
    UpperLeft,
    /// Bottom right (rising curves, e.g. accuracy, leave it free).
    LowerRight,
    /// Bottom left.
    LowerLeft,
}

/// One chart: axes, labels and curves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panel {
    /// Caption above the chart.
    pub title: String,
    /// Label of the x axis (also the x column name of the CSV).
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Logarithmic y axis (points with y ≤ 0 are skipped when drawing).
    pub log_y: bool,
    /// The curves.
    pub series: Vec<Series>,
    /// Where the legend goes.
    pub legend: Legend,
}

impl Panel {
    /// An empty panel.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Panel {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_y: false,
            series: Vec::new(),
            legend: Legend::default(),
        }
    }

    /// The same panel with its legend in another corner (e.g. [`Legend::LowerRight`] for
    /// accuracy curves that end at the top right).
    pub fn legend(mut self, at: Legend) -> Self {
        self.legend = at;
        self
    }

    /// The same panel with a logarithmic y axis.
    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    /// Adds a curve.
    pub fn with(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }
}

/// A figure: one or more panels side by side under a common title.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figure {
    /// Title across the top.
    pub title: String,
    /// The charts, left to right.
    pub panels: Vec<Panel>,
}

/// Width of one panel in pixels.
pub const PANEL_WIDTH: u32 = 800;
/// Height of a figure in pixels.
pub const HEIGHT: u32 = 520;

/// The colour of the i-th curve (a palette that stays distinct on white).
pub fn color(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
    ];
    PALETTE[i % PALETTE.len()]
}

impl Figure {
    /// A figure of one panel.
    pub fn single(panel: Panel) -> Self {
        Figure {
            title: String::new(),
            panels: vec![panel],
        }
    }

    /// Size of the PNG [`Figure::save_png`] writes: (width, height).
    pub fn size(&self) -> (u32, u32) {
        (PANEL_WIDTH * self.panels.len().max(1) as u32, HEIGHT)
    }

    /// Draws the figure to a PNG at `path` (atomically: temp file, then rename).
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        fonts()?;
        let tmp = files::temp_path(path);
        let drawn = self.draw(&tmp);
        if let Err(msg) = drawn {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::msg(format!(
                "{}: drawing the plot failed: {msg}",
                path.display()
            )));
        }
        files::commit_temp(&tmp, path)
    }

    fn draw(&self, path: &Path) -> std::result::Result<(), String> {
        let root = BitMapBackend::new(path, self.size()).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let area = if self.title.is_empty() {
            root.clone()
        } else {
            root.titled(&self.title, ("sans-serif", 26, FontStyle::Bold))
                .map_err(|e| e.to_string())?
        };
        let cells = area.split_evenly((1, self.panels.len().max(1)));
        for (panel, cell) in self.panels.iter().zip(cells.iter()) {
            draw_panel(panel, cell).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Writes every point of every series as CSV rows `panel,series,x,y` (atomically), with a
    /// header naming the columns. These are the numbers the PNG shows.
    pub fn save_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        files::write_atomic(path, |w| {
            let mut out = csv::Writer::from_writer(w);
            out.write_record(["panel", "series", "x", "y"])?;
            for panel in &self.panels {
                for s in &panel.series {
                    for &(x, y) in &s.points {
                        out.write_record([
                            panel.title.as_str(),
                            s.name.as_str(),
                            &x.to_string(),
                            &y.to_string(),
                        ])?;
                    }
                }
            }
            out.flush()?;
            Ok(())
        })
    }
}

/// (min, max) of the finite values, widened a little so curves don't touch the frame.
fn range(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        let (lo, hi) = if hi / lo < 1.01 {
            (lo / 1.1, hi * 1.1)
        } else {
            (lo, hi)
        };
        return (lo / 1.15, hi * 1.15);
    }
    let pad = if hi > lo {
        0.04 * (hi - lo)
    } else {
        0.5f64.max(lo.abs() * 0.1)
    };
    (lo - pad, hi + pad)
}

/// An (x, y) point of a curve.
type Point = (f64, f64);

/// Above this many points a curve is reduced to its per-pixel envelope.
const DENSE: usize = 2 * PANEL_WIDTH as usize;

/// Above this many points a curve is drawn one pixel wide (see `draw_panel`).
const THIN: usize = 200;

/// Reduces a dense curve to its envelope: the x range is cut into one bucket per pixel column
/// and each bucket keeps its lowest and highest point (in x order), so spikes and the band of
/// a noisy loss stay visible while the drawing has at most two points per column.
fn envelope(pts: Vec<(f64, f64)>, x0: f64, x1: f64) -> Vec<(f64, f64)> {
    if pts.len() <= DENSE || x1 <= x0 {
        return pts;
    }
    let buckets = PANEL_WIDTH as usize;
    let mut out = Vec::with_capacity(2 * buckets);
    // (pixel column, lowest point, highest point) of the bucket being filled
    let mut current: Option<(usize, Point, Point)> = None;
    let flush = |out: &mut Vec<(f64, f64)>, lo: (f64, f64), hi: (f64, f64)| {
        if lo.0 <= hi.0 {
            out.push(lo);
            out.push(hi);
        } else {
            out.push(hi);
            out.push(lo);
        }
    };
    for p in pts {
        let b =
            (((p.0 - x0) / (x1 - x0)) * buckets as f64).clamp(0.0, (buckets - 1) as f64) as usize;
        current = match current {
            Some((cb, lo, hi)) if cb == b => Some((
                cb,
                if p.1 < lo.1 { p } else { lo },
                if p.1 > hi.1 { p } else { hi },
            )),
            Some((_, lo, hi)) => {
                flush(&mut out, lo, hi);
                Some((b, p, p))
            }
            None => Some((b, p, p)),
        };
    }
    if let Some((_, lo, hi)) = current {
        flush(&mut out, lo, hi);
    }
    out
}

/// Tick values of a log axis over [lo, hi]: labelled ticks at 1, 2, 5 × 10ᵏ (every 1…9 × 10ᵏ
/// when that gives fewer than three, every decade when 1-2-5 gives more than twelve), and grid
/// lines at every 1…9 × 10ᵏ. plotters' own log ticks start at the first power of ten inside
/// the range, which leaves an axis like [0.18, 0.9] without any label.
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let inside = |mults: &[f64]| -> Vec<f64> {
        let mut v = Vec::new();
        for k in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
            for m in mults {
                let t = m * 10f64.powi(k);
                if t >= lo && t <= hi {
                    v.push(t);
                }
            }
        }
        v
    };
    let all: Vec<f64> = (1..10).map(f64::from).collect();
    let mut bold = inside(&[1.0, 2.0, 5.0]);
    if bold.len() < 3 {
        bold = inside(&all);
    } else if bold.len() > 12 {
        bold = inside(&[1.0]);
    }
    (bold, inside(&all))
}

/// A tick value that is zero up to rounding (plotters' −6.9e−18 for 0) as 0, given the axis
/// range [lo, hi].
fn snap(v: f64, lo: f64, hi: f64) -> f64 {
    if v.abs() <= 1e-9 * (hi - lo).abs() {
        0.0
    } else {
        v
    }
}

/// A tick label: integers without decimals, others with three significant digits.
fn tick(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v == v.round() && v.abs() < 1e9 {
        format!("{v:.0}")
    } else if v.abs() >= 1e-3 && v.abs() < 1e5 {
        let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{v:.1e}")
    }
}

fn draw_panel<DB: DrawingBackend>(
    panel: &Panel,
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    // x axis: exactly the data's extent (padded only when it is a single value).
    let (x0, x1) = {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &(x, _) in panel.series.iter().flat_map(|s| s.points.iter()) {
            if x.is_finite() {
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        if !lo.is_finite() {
            (0.0, 1.0)
        } else if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, hi + 0.5)
        }
    };
    // A log axis spanning less than a decade would get no labelled tick: draw it linear.
    let y_values = || {
        panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
    };
    let log_y = panel.log_y && {
        let (lo, hi) = range(y_values(), true);
        hi / lo >= 10.0
    };
    let (y0, y1) = range(y_values(), log_y);
    let mut chart = ChartBuilder::on(area);
    chart
        .caption(&panel.title, ("sans-serif", 22, FontStyle::Bold))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70);
    // plotters draws lines wider than one pixel as polygons whose miter joins shoot far out
    // of the chart at sharp turns: a noisy curve of many points gets a one-pixel line.
    let style = |s: &Series, i: usize| {
        let c = color(i);
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && (!log_y || *y > 0.0))
            .collect();
        let width = if pts.len() > THIN { 1 } else { 2 };
        (c, envelope(pts, x0, x1), width)
    };
    macro_rules! body {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(panel.x_label.as_str())
                .y_desc(panel.y_label.as_str())
                .x_label_formatter(&|v| tick(snap(*v, x0, x1)))
                .y_label_formatter(&|v| tick(snap(*v, y0, y1)))
                .label_style(("sans-serif", 15))
                .axis_desc_style(("sans-serif", 17))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            for (i, s) in panel.series.iter().enumerate() {
                let (c, pts, width) = style(s, i);
                let single = pts.len() == 1;
                let drawn =
                    chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(width)))?;
                drawn.label(s.name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(3))
                });
                if single {
                    chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
                }
            }
            if panel.series.iter().any(|s| !s.name.is_empty()) {
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK.mix(0.4))
                    .label_font(("sans-serif", 15))
                    .position(match panel.legend {
                        Legend::UpperRight => SeriesLabelPosition::UpperRight,
                        Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                        Legend::LowerRight => SeriesLabelPosition::LowerRight,
                        Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
                    })
                    .draw()?;
            }
        }};
    }
    if log_y {
        let (bold, light) = log_ticks(y0, y1);
        body!(
            chart.build_cartesian_2d(
                x0..x1,
                (y0..y1)
                    .log_scale()
                    .with_key_points(bold)
                    .with_light_points(light)
            )?
        );
    } else {
        body!(chart.build_cartesian_2d(x0..x1, y0..y1)?);
    }
    Ok(())
}

/// One grey image for [`save_image_grid`]: `pixels` row-major, `rows × cols`.
#[derive(Clone, Debug)]
pub struct Image<'a> {
    /// rows·cols values, row-major.
    pub pixels: &'a [f64],
    /// Height in pixels.
    pub rows: usize,
    /// Width in pixels.
    pub cols: usize,
}

/// How the values of each image are mapped to grey levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Values in [0, 1] drawn as they are (0 black, 1 white), clamped.
    Unit,
    /// Each image stretched from its own min (black) to its max (white): for weights/filters.
    PerImage,
}

/// Draws images in a grid of `grid_cols` columns, each pixel a `zoom × zoom` square, under a
/// title, to a PNG at `path` (atomically). For filters (conv-im2col) and samples (rbm).
pub fn save_image_grid(
    path: impl AsRef<Path>,
    title: &str,
    images: &[Image<'_>],
    grid_cols: usize,
    zoom: u32,
    scale: Scale,
) -> Result<()> {
    let path = path.as_ref();
    fonts()?;
    if images.is_empty() {
        return Err(Error::msg(format!("{}: no images to draw", path.display())));
    }
    let grid_cols = grid_cols.clamp(1, images.len());
    let grid_rows = images.len().div_ceil(grid_cols);
    let (ih, iw) = (
        images.iter().map(|i| i.rows).max().unwrap_or(1) as u32,
        images.iter().map(|i| i.cols).max().unwrap_or(1) as u32,
    );
    let gap = 2u32.max(zoom / 2);
    let head = if title.is_empty() { 0 } else { 36 };
    let width = (grid_cols as u32 * (iw * zoom + gap) + gap).max(240);
    let height = grid_rows as u32 * (ih * zoom + gap) + gap + head;
    let tmp = files::temp_path(path);
    let drawn = (|| -> std::result::Result<(), String> {
        let root = BitMapBackend::new(&tmp, (width, height)).into_drawing_area();
        root.fill(&RGBColor(128, 128, 128))
            .map_err(|e| e.to_string())?;
        if !title.is_empty() {
            root.draw(&Text::new(
                title.to_string(),
                (8, 8),
                ("sans-serif", 20, FontStyle::Bold)
                    .into_font()
                    .color(&WHITE),
            ))
            .map_err(|e| e.to_string())?;
        }
        for (k, img) in images.iter().enumerate() {
            let (gr, gc) = ((k / grid_cols) as u32, (k % grid_cols) as u32);
            let (ox, oy) = (
                gap + gc * (iw * zoom + gap),
                head + gap + gr * (ih * zoom + gap),
            );
            let (lo, hi) = match scale {
                Scale::Unit => (0.0, 1.0),
                Scale::PerImage => img
                    .pixels
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    }),
            };
            let span = if hi > lo { hi - lo } else { 1.0 };
            for r in 0..img.rows {
                for c in 0..img.cols {
                    let v = ((img.pixels[r * img.cols + c] - lo) / span).clamp(0.0, 1.0);
                    let g = (v * 255.0).round() as u8;
                    let x = ox + c as u32 * zoom;
                    let y = oy + r as u32 * zoom;
                    root.draw(&Rectangle::new(
                        [(x as i32, y as i32), ((x + zoom) as i32, (y + zoom) as i32)],
                        RGBColor(g, g, g).filled(),
                    ))
                    .map_err(|e| e.to_string())?;
                }
            }
        }
        root.present().map_err(|e| e.to_string())
    })();
    if let Err(msg) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::msg(format!(
            "{}: drawing the images failed: {msg}",
            path.display()
        )));
    }
    files::commit_temp(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Figure {
        let mut a = Series::new("train");
        let mut b = Series::new("valid");
        for i in 0..50 {
            a.push(i as f64, 3.0 * (-0.05 * i as f64).exp() + 0.1);
            b.push(i as f64, 3.2 * (-0.04 * i as f64).exp() + 0.2);
        }
        Figure {
            title: "demo".into(),
            panels: vec![
                Panel::new("loss", "step", "cross-entropy")
                    .with(a.clone())
                    .with(b),
                Panel::new("log loss", "step", "loss").log_y().with(a),
            ],
        }
    }

    #[test]
    fn png_has_the_figure_size_and_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("loss.png");
        let fig = demo();
        fig.save_png(&p).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        // IHDR: width and height, big-endian, at bytes 16..24.
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!((w, h), fig.size());
        assert_eq!((w, h), (1600, 520));
        fig.save_png(&p).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), bytes);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
        // Text was drawn: a blank chart (no fonts) compresses to far fewer bytes.
        assert!(bytes.len() > 20_000, "{}", bytes.len());
    }

    #[test]
    #[ignore = "writes /tmp/shared-plot-demo.png for a person to look at"]
    fn demo_png_for_eyes() {
        demo().save_png("/tmp/shared-plot-demo.png").unwrap();
        let px: Vec<f64> = (0..25).map(|i| i as f64 / 24.0).collect();
        let imgs = vec![
            Image {
                pixels: &px,
                rows: 5,
                cols: 5
            };
            7
        ];
        save_image_grid(
            "/tmp/shared-grid-demo.png",
            "filters",
            &imgs,
            4,
            6,
            Scale::PerImage,
        )
        .unwrap();
    }

    #[test]
    fn legend_corner_changes_the_picture() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
        let panel = demo().panels.remove(0);
        assert_eq!(panel.legend, Legend::UpperRight);
        Figure::single(panel.clone()).save_png(&a).unwrap();
        let moved = panel.legend(Legend::LowerRight);
        assert_eq!(moved.legend, Legend::LowerRight);
        Figure::single(moved).save_png(&b).unwrap();
        assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    }

    #[test]
    fn dense_curves_keep_their_envelope() {
        let pts: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (i as f64, if i == 5000 { 9.0 } else { (i % 7) as f64 }))
            .collect();
        let e = envelope(pts.clone(), 0.0, 9999.0);
        assert!(e.len() <= 2 * PANEL_WIDTH as usize, "{}", e.len());
        let max = e.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        let min = e.iter().map(|p| p.1).fold(f64::MAX, f64::min);
        assert_eq!((min, max), (0.0, 9.0), "the spike and the floor survive");
        assert!(e.windows(2).all(|w| w[0].0 <= w[1].0), "x order kept");
        let few: Vec<(f64, f64)> = pts.into_iter().take(100).collect();
        assert_eq!(envelope(few.clone(), 0.0, 99.0), few);
    }

    #[test]
    fn log_axes_always_get_labels() {
        // Less than a decade: 1-2-5 gives only 0.2 and 0.5, so every 1…9 × 10ᵏ is labelled.
        let (bold, light) = log_ticks(0.18, 0.9);
        assert_eq!(bold.len(), 8, "{bold:?}");
        assert!((bold[0] - 0.2).abs() < 1e-12 && (bold[7] - 0.9).abs() < 1e-12);
        assert_eq!(light, bold);
        // Two decades: 1-2-5.
        let (bold, light) = log_ticks(0.05, 3.0);
        assert_eq!(bold.len(), 6, "{bold:?}"); // 0.05 0.1 0.2 0.5 1 2
        assert!(light.len() > bold.len());
        // Many decades: powers of ten only.
        let (bold, _) = log_ticks(1e-6, 10.0);
        assert_eq!(bold.len(), 8, "{bold:?}");
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick(5000.0), "5000");
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(0.125), "0.125");
        assert_eq!(tick(0.0012), "0.0012");
        assert_eq!(tick(0.00012), "1.2e-4");
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(snap(-6.9e-18, -0.05, 0.005)), "0");
        assert_eq!(tick(snap(1e-4, 1e-4, 5.0)), "1.0e-4");
    }

    #[test]
    fn csv_holds_every_point() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("loss.csv");
        demo().save_csv(&p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "panel,series,x,y");
        assert_eq!(lines.len(), 1 + 50 + 50 + 50);
        assert!(lines[1].starts_with("loss,train,0,3.1"));
    }

    #[test]
    fn odd_data_still_draws() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Series::new("x");
        s.push(0.0, f64::NAN);
        s.push(1.0, 2.0);
        let fig = Figure::single(
            Panel::new("t", "x", "y")
                .log_y()
                .with(s)
                .with(Series::new("empty")),
        );
        fig.save_png(dir.path().join("a.png")).unwrap();
        let fig = Figure::single(Panel::new("t", "x", "y"));
        fig.save_png(dir.path().join("b.png")).unwrap();
    }

    #[test]
    fn image_grid_and_smoothing() {
        let dir = tempfile::tempdir().unwrap();
        let px: Vec<f64> = (0..25).map(|i| i as f64 / 24.0).collect();
        let imgs = vec![
            Image {
                pixels: &px,
                rows: 5,
                cols: 5
            };
            7
        ];
        let p = dir.path().join("filters.png");
        save_image_grid(&p, "filters", &imgs, 4, 6, Scale::PerImage).unwrap();
        assert!(std::fs::metadata(&p).unwrap().len() > 100);
        let mut s = Series::new("l");
        s.push(0.0, 10.0);
        s.push(1.0, 0.0);
        let sm = s.smoothed(0.9, "smooth");
        assert_eq!(sm.points, vec![(0.0, 10.0), (1.0, 9.0)]);
    }

    #[test]
    fn unwritable_path_is_an_error_not_a_panic() {
        let e = demo().save_png("/nonexistent-dir/x/loss.png").unwrap_err();
        assert!(e.to_string().contains("loss.png"), "{e}");
    }
}
