//! Loss curves, image grids and labelled scatter plots to PNG, and the curves' numbers to CSV.
//!
//! Text is drawn with the DejaVu Sans faces embedded in the binary (the `dejavu` crate), so
//! plots render on a machine with no fontconfig, no freetype and no system fonts; each glyph
//! sits on the text's baseline ([`BaselineText`]). The PNG bytes are deterministic: the same
//! numbers give the same file.
//!
//! A [`Figure`] is a grid of [`Panel`]s (two to a row by default, see [`Layout`]). Each panel
//! puts its legend where it covers no curve ([`Legend::Best`], the default): the first free
//! corner, else below the chart. Curves that lie on each other are told apart by a dashed
//! line; [`Panel::style`] sets a curve's line and markers by hand and [`Panel::note`] writes a
//! short remark in the legend box:
//!
//! ```
//! use shared::plot::{Figure, Line, Marker, Panel, Series, Style};
//! let (mut gd, mut momentum) = (Series::new("gd"), Series::new("momentum"));
//! for i in 0..100 {
//!     gd.push(i as f64, 1.0 / (1.0 + i as f64));
//!     momentum.push(i as f64, 1.0 / (1.0 + i as f64));
//! }
//! let panel = Panel::new("cost", "epoch", "cost")
//!     .with(gd)
//!     .with(momentum)
//!     .style("momentum", Style::line(Line::Dashed).marker(Marker::Circle))
//!     .note("gd and momentum coincide");
//! let dir = tempfile::tempdir().unwrap();
//! Figure::single(panel).save_png(dir.path().join("loss.png")).unwrap();
//! ```
//!
//! [`Scatter`] draws labelled points (word embeddings) with an optional zoomed inset of a
//! crowded region.

use crate::error::{Error, Result};
use crate::files;
use plotters::coord::{CoordTranslate, Shift};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind};
use std::path::Path;
use std::sync::OnceLock;

mod place;
mod scatter;
mod text;

use place::{Bounds, Corner};
pub use scatter::{Dot, Scatter};
pub use text::{BaselineText, png_backend};

/// Registers the embedded fonts with plotters, once per process (regular, bold and oblique
/// DejaVu Sans as `"sans-serif"`). Call it before drawing with plotters directly (a
/// chapter-specific picture): text in an unregistered family fails. Draw such a picture on
/// [`png_backend`] rather than `BitMapBackend::new`, so its text sits on its baseline.
pub fn fonts() -> Result<()> {
    static DONE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let bad = |_| "the embedded DejaVu font could not be loaded".to_string();
        for style in [FontStyle::Normal, FontStyle::Bold, FontStyle::Oblique] {
            plotters::style::register_font(text::FAMILY, style, text::face_bytes(style))
                .map_err(bad)?;
        }
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

/// Where a panel's legend (and its notes) go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Legend {
    /// The first corner (upper right, upper left, lower right, lower left) where the box
    /// covers no curve and no reference line; below the chart when every corner is taken.
    #[default]
    Best,
    /// Top right.
    UpperRight,
    /// Top left.
    UpperLeft,
    /// Bottom right (rising curves, e.g. accuracy, leave it free).
    LowerRight,
    /// Bottom left.
    LowerLeft,
    /// Below the chart, under the x axis's label: never on a curve.
    Below,
}

/// The line of a curve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Line {
    /// Unbroken.
    #[default]
    Solid,
    /// Dashes: a curve under it shows through the gaps.
    Dashed,
    /// Dots.
    Dotted,
}

/// Marks on a curve, a dozen at most, spread evenly along it (each curve's marks shifted a
/// little, so two curves on the same points show both).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Marker {
    /// No marks.
    #[default]
    None,
    /// Filled circles.
    Circle,
    /// Filled squares.
    Square,
    /// Filled triangles.
    Triangle,
}

/// How one curve is drawn: its line and its marks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// The line.
    pub line: Line,
    /// The marks on it.
    pub marker: Marker,
}

impl Style {
    /// A curve drawn with `line` and no marks.
    pub fn line(line: Line) -> Self {
        Style {
            line,
            marker: Marker::None,
        }
    }

    /// The same style with `marker` on the curve.
    pub fn marker(self, marker: Marker) -> Self {
        Style { marker, ..self }
    }
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
    /// Styles set by [`Panel::style`], by series name. A curve without one is solid, or
    /// dashed when it lies on an earlier curve of the panel (which it would hide).
    pub styles: Vec<(String, Style)>,
    /// Short remarks written under the legend's entries ([`Panel::note`]).
    pub notes: Vec<String>,
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
            ..Panel::default()
        }
    }

    /// The same panel with its legend in a given place (e.g. [`Legend::LowerRight`] for
    /// accuracy curves that end at the top right) instead of the first free corner.
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

    /// The same panel with the series called `name` drawn in `style`, e.g.
    /// `.style("momentum", Style::line(Line::Dashed))` for a curve that lies on another.
    pub fn style(mut self, name: impl Into<String>, style: Style) -> Self {
        let name = name.into();
        self.styles.retain(|(n, _)| *n != name);
        self.styles.push((name, style));
        self
    }

    /// The same panel with a short remark (one line, e.g. "gd and momentum coincide") in its
    /// legend box, under the entries.
    pub fn note(mut self, text: impl Into<String>) -> Self {
        self.notes.push(text.into());
        self
    }

    /// The style set for the series called `name`, if any.
    fn style_of(&self, name: &str) -> Option<Style> {
        self.styles.iter().find(|(n, _)| n == name).map(|p| p.1)
    }
}

/// A figure: one or more panels in a grid under a common title.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figure {
    /// Title across the top.
    pub title: String,
    /// The charts, row by row.
    pub panels: Vec<Panel>,
}

/// Width of one panel in pixels.
pub const PANEL_WIDTH: u32 = 800;
/// Height of one row of panels in pixels (the figure's title included).
pub const HEIGHT: u32 = 520;

/// How a figure's panels are arranged: `cols` to a row, rows filled in order, each panel
/// `panel` = (width, height) pixels; a last row with fewer panels is centred.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Panels per row.
    pub cols: usize,
    /// Size of one panel: (width, height) in pixels.
    pub panel: (u32, u32),
}

impl Layout {
    /// The default for `n` panels: [`PANEL_WIDTH`] × [`HEIGHT`] each, two to a row, so a
    /// figure of two or more panels is 1600 pixels wide (a book page's width at half scale)
    /// and a single panel 800.
    pub fn auto(n: usize) -> Self {
        Layout {
            cols: n.clamp(1, 2),
            panel: (PANEL_WIDTH, HEIGHT),
        }
    }

    /// All `n` panels in one row (the layout before grids), each `panel` pixels.
    pub fn row(n: usize, panel: (u32, u32)) -> Self {
        Layout {
            cols: n.max(1),
            panel,
        }
    }

    /// Rows needed for `n` panels.
    pub fn rows(&self, n: usize) -> usize {
        n.max(1).div_ceil(self.cols.max(1))
    }

    /// Size of the PNG for `n` panels: (width, height).
    pub fn size(&self, n: usize) -> (u32, u32) {
        let cols = self.cols.clamp(1, n.max(1));
        (
            self.panel.0 * cols as u32,
            self.panel.1 * self.rows(n) as u32,
        )
    }

    /// The pixel rectangle (x, y, width, height) of each of `n` panels inside an area of
    /// `area` = (width, height) pixels: the area cut into equal cells, row by row, with a
    /// shorter last row centred.
    fn cells(&self, n: usize, area: (u32, u32)) -> Vec<(i32, i32, i32, i32)> {
        let cols = self.cols.clamp(1, n.max(1));
        let rows = self.rows(n);
        let (w, h) = (area.0 as i32 / cols as i32, area.1 as i32 / rows as i32);
        (0..n)
            .map(|k| {
                let (r, c) = (k / cols, k % cols);
                let in_row = cols.min(n - r * cols) as i32;
                let left = (cols as i32 - in_row) * w / 2;
                (left + c as i32 * w, r as i32 * h, w, h)
            })
            .collect()
    }
}

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

/// Writes a PNG of `size` pixels at `path` atomically (temp file, then rename) with `draw`
/// painting it on a white area whose text sits on its baseline. `what` names the picture in
/// an error ("the plot").
pub(crate) fn write_png(
    path: &Path,
    size: (u32, u32),
    what: &str,
    draw: impl FnOnce(
        &DrawingArea<BaselineText<BitMapBackend<'_>>, plotters::coord::Shift>,
    ) -> std::result::Result<(), String>,
) -> Result<()> {
    fonts()?;
    let tmp = files::temp_path(path);
    let drawn = (|| {
        let root = png_backend(&tmp, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| e.to_string())
    })();
    if let Err(msg) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::msg(format!(
            "{}: drawing {what} failed: {msg}",
            path.display()
        )));
    }
    files::commit_temp(&tmp, path)
}

impl Figure {
    /// A figure of one panel.
    pub fn single(panel: Panel) -> Self {
        Figure {
            title: String::new(),
            panels: vec![panel],
        }
    }

    /// The layout [`Figure::save_png`] uses: [`Layout::auto`] for the panel count.
    pub fn layout(&self) -> Layout {
        Layout::auto(self.panels.len())
    }

    /// Size of the PNG [`Figure::save_png`] writes: (width, height).
    pub fn size(&self) -> (u32, u32) {
        self.layout().size(self.panels.len())
    }

    /// Draws the figure to a PNG at `path` (atomically: temp file, then rename), its panels
    /// laid out by [`Figure::layout`].
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        self.save_png_with(path, self.layout())
    }

    /// Draws the figure to a PNG at `path` with the panels laid out by `layout`, e.g.
    /// `Layout::row(4, (800, 520))` for four panels side by side.
    pub fn save_png_with(&self, path: impl AsRef<Path>, layout: Layout) -> Result<()> {
        let n = self.panels.len();
        write_png(path.as_ref(), layout.size(n), "the plot", |root| {
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let area = if self.title.is_empty() {
                root.clone()
            } else {
                root.titled(&self.title, (text::FAMILY, 26, FontStyle::Bold))
                    .map_err(|e| e.to_string())?
            };
            for (panel, (x, y, w, h)) in
                self.panels.iter().zip(layout.cells(n, area.dim_in_pixel()))
            {
                draw_panel(panel, &area.clone().shrink((x, y), (w, h)))?;
            }
            Ok(())
        })
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

/// A curve's points in pixels of its panel, in order of x.
type Pixels = Vec<Point>;

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

/// The axes of a panel: the x range, the y range, and whether y is on a log scale.
struct Axes {
    x: (f64, f64),
    y: (f64, f64),
    log_y: bool,
}

impl Axes {
    fn of(panel: &Panel) -> Axes {
        // x axis: exactly the data's extent (padded only when it is a single value).
        let x = {
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
        Axes {
            x,
            y: range(y_values(), log_y),
            log_y,
        }
    }
}

/// A curve as it is drawn: the points that can be (finite, positive on a log axis), reduced
/// to their envelope when dense; colour, line width and style.
struct Curve<'a> {
    name: &'a str,
    color: RGBColor,
    points: Vec<Point>,
    width: u32,
    style: Style,
    /// The style was set by [`Panel::style`] (it is not changed for overlaps).
    set: bool,
    /// A horizontal line (a reference level): two or more points, all at one y.
    flat: bool,
}

/// The curves of `panel` on `axes`.
fn curves<'a>(panel: &'a Panel, axes: &Axes) -> Vec<Curve<'a>> {
    panel
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let pts: Vec<Point> = s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite() && (!axes.log_y || *y > 0.0))
                .collect();
            // plotters draws lines wider than one pixel as polygons whose miter joins shoot
            // far out of the chart at sharp turns: a noisy curve of many points gets a
            // one-pixel line.
            let width = if pts.len() > THIN { 1 } else { 2 };
            let set = panel.style_of(&s.name);
            let flat = pts.len() > 1 && pts.iter().all(|p| p.1 == pts[0].1);
            Curve {
                flat,
                name: &s.name,
                color: color(i),
                points: envelope(pts, axes.x.0, axes.x.1),
                width,
                style: set.unwrap_or_default(),
                set: set.is_some(),
            }
        })
        .collect()
}

/// Gives each curve that would hide an earlier one a line the earlier shows through: dashed,
/// or dotted when an earlier one under it is dashed. A curve hides an earlier one that lies on
/// it ([`place::lies_on`]); a horizontal reference line hides a curve a quarter of which runs
/// along it. `px` are the curves' points in pixels. Styles set by hand are kept.
fn tell_apart(curves: &mut [Curve<'_>], px: &[Pixels]) {
    for j in 0..curves.len() {
        if curves[j].set {
            continue;
        }
        let under: Vec<Line> = (0..j)
            .filter(|&i| {
                let tol = 1.0 + 0.5 * f64::from(curves[i].width + curves[j].width);
                place::lies_on(&px[j], &px[i], tol)
                    || (curves[j].flat && place::share_near(&px[j], &px[i], tol) >= 0.25)
            })
            .map(|i| curves[i].style.line)
            .collect();
        if !under.is_empty() {
            curves[j].style.line = [Line::Dashed, Line::Dotted]
                .into_iter()
                .find(|l| !under.contains(l))
                .unwrap_or(Line::Dotted);
        }
    }
}

/// A backend that draws nothing: a chart built on it says where its plotting area and its
/// points land in a cell of its size, before anything is drawn.
struct Measure((u32, u32));

impl DrawingBackend for Measure {
    type ErrorType = std::io::Error;

    fn get_size(&self) -> (u32, u32) {
        self.0
    }

    fn ensure_prepared(&mut self) -> std::result::Result<(), DrawingErrorKind<std::io::Error>> {
        Ok(())
    }

    fn present(&mut self) -> std::result::Result<(), DrawingErrorKind<std::io::Error>> {
        Ok(())
    }

    fn draw_pixel(
        &mut self,
        _: BackendCoord,
        _: BackendColor,
    ) -> std::result::Result<(), DrawingErrorKind<std::io::Error>> {
        Ok(())
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        _: &str,
        _: &S,
        _: BackendCoord,
    ) -> std::result::Result<(), DrawingErrorKind<std::io::Error>> {
        Ok(())
    }
}

/// The chart of `panel` on `area` (caption, margins and label areas), before its axes.
fn chart_builder<'a, 'b, DB: DrawingBackend>(
    panel: &Panel,
    area: &'a DrawingArea<DB, Shift>,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.caption(&panel.title, (text::FAMILY, 22, FontStyle::Bold))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70);
    b
}

/// Builds the chart of `$builder` on `$axes` (log y with our ticks when the axes say so) and
/// runs `$body` with it as `$chart` (its type differs between the two scales).
macro_rules! on_chart {
    ($builder:expr, $axes:expr, |$chart:ident| $body:block) => {{
        let (a, x, y) = ($axes, $axes.x, $axes.y);
        if a.log_y {
            let (bold, light) = log_ticks(y.0, y.1);
            let y = (y.0..y.1)
                .log_scale()
                .with_key_points(bold)
                .with_light_points(light);
            #[allow(unused_mut)]
            let mut $chart = $builder
                .build_cartesian_2d(x.0..x.1, y)
                .map_err(|e| e.to_string())?;
            $body
        } else {
            #[allow(unused_mut)]
            let mut $chart = $builder
                .build_cartesian_2d(x.0..x.1, y.0..y.1)
                .map_err(|e| e.to_string())?;
            $body
        }
    }};
}

/// Where `panel`'s plotting area lands in a cell of `size` pixels, and its curves' points
/// in pixels of that cell.
fn measure(
    panel: &Panel,
    axes: &Axes,
    curves: &[Curve<'_>],
    size: (u32, u32),
) -> std::result::Result<(Bounds, Vec<Pixels>), String> {
    let area = Measure(size).into_drawing_area();
    let mut builder = chart_builder(panel, &area);
    on_chart!(builder, axes, |chart| {
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let plot = Bounds {
            x0: xs.start,
            y0: ys.start,
            x1: xs.end,
            y1: ys.end,
        };
        let px = curves
            .iter()
            .map(|c| {
                c.points
                    .iter()
                    .map(|p| {
                        let (x, y) = chart.backend_coord(p);
                        (f64::from(x), f64::from(y))
                    })
                    .collect()
            })
            .collect();
        Ok((plot, px))
    })
}

/// Draws `points` (in `area`'s coordinates) as `line` in `style`.
fn stroke<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    points: Vec<CT::From>,
    line: Line,
    style: ShapeStyle,
) -> std::result::Result<(), String>
where
    CT::From: Clone,
{
    let drawn = match line {
        Line::Solid => area.draw(&PathElement::new(points, style)),
        Line::Dashed => area.draw(&DashedPathElement::new(points, 8.0, 5.0, style)),
        Line::Dotted => area.draw(&DashedPathElement::new(points, 2.0, 3.5, style)),
    };
    drawn.map_err(|e| e.to_string())
}

/// Draws one `marker` in `color` centred on the pixel `at` of `area`.
fn mark<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    marker: Marker,
    color: RGBColor,
) -> std::result::Result<(), String> {
    let fill = color.filled();
    let drawn = match marker {
        Marker::None => Ok(()),
        Marker::Circle => area.draw(&Circle::new(at, 4, fill)),
        Marker::Square => area.draw(&Rectangle::new(
            [(at.0 - 4, at.1 - 4), (at.0 + 4, at.1 + 4)],
            fill,
        )),
        Marker::Triangle => area.draw(&TriangleMarker::new(at, 6, fill)),
    };
    drawn.map_err(|e| e.to_string())
}

/// At most this many marks on a curve.
const MARKS: usize = 12;

/// The indices of the points of a curve of `n` points that carry marks: evenly spaced, the
/// `k`-th curve's shifted by a third of the spacing per curve so that curves on the same
/// points show their marks side by side.
fn mark_points(n: usize, k: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let m = MARKS.min(n);
    let step = n as f64 / m as f64;
    let shift = step * (((k % 3) as f64 + 0.5) / 3.0);
    (0..m)
        .map(|j| ((j as f64 * step + shift) as usize).min(n - 1))
        .collect()
}

/// Font size of a legend's entries and notes.
const KEY_FONT: u32 = 15;
/// Height of one line of a legend.
const KEY_ROW: i32 = 20;
/// Padding inside a legend's frame, left and right.
const KEY_PAD: i32 = 8;
/// Length of an entry's line sample, and the gap between it and the name.
const SAMPLE: (i32, i32) = (30, 8);
/// Gap between the columns of a legend laid out in several.
const KEY_COL_GAP: i32 = 20;
/// Gap between a legend in a corner and the sides of the plotting area.
const KEY_GAP: i32 = 10;

/// A panel's legend: an entry per named curve (its line, marks and name) and the panel's
/// notes, in a framed box of one or more columns.
struct Key {
    /// (name, colour, style, name's width in pixels)
    entries: Vec<(String, RGBColor, Style, i32)>,
    /// (note, its width in pixels)
    notes: Vec<(String, i32)>,
}

impl Key {
    /// The legend of `panel` drawn as `curves`, measured on `area`; `None` when there is
    /// nothing to show (no named curve, no note).
    fn of<DB: DrawingBackend>(
        panel: &Panel,
        curves: &[Curve<'_>],
        area: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<Option<Key>, String> {
        let width = |s: &str, style: FontStyle| -> std::result::Result<i32, String> {
            let font = (text::FAMILY, KEY_FONT, style).into_font();
            let (w, _) = area
                .estimate_text_size(s, &font.into())
                .map_err(|e| e.to_string())?;
            Ok(w as i32)
        };
        let mut entries = Vec::new();
        for c in curves.iter().filter(|c| !c.name.is_empty()) {
            entries.push((
                c.name.to_string(),
                c.color,
                c.style,
                width(c.name, FontStyle::Normal)?,
            ));
        }
        let mut notes = Vec::new();
        for n in &panel.notes {
            notes.push((n.clone(), width(n, FontStyle::Oblique)?));
        }
        Ok((!entries.is_empty() || !notes.is_empty()).then_some(Key { entries, notes }))
    }

    /// The widths of the columns when the entries are laid out row by row in `cols` columns.
    fn columns(&self, cols: usize) -> Vec<i32> {
        let cols = cols.clamp(1, self.entries.len().max(1));
        (0..cols)
            .map(|c| {
                self.entries
                    .iter()
                    .skip(c)
                    .step_by(cols)
                    .map(|e| SAMPLE.0 + SAMPLE.1 + e.3)
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// (width, height) of the box with the entries in `cols` columns.
    fn size(&self, cols: usize) -> (i32, i32) {
        let widths = self.columns(cols);
        let entries = widths.iter().sum::<i32>() + (widths.len() as i32 - 1) * KEY_COL_GAP;
        let notes = self.notes.iter().map(|n| n.1).max().unwrap_or(0);
        let rows = self.entries.len().div_ceil(widths.len()) + self.notes.len();
        (2 * KEY_PAD + entries.max(notes), KEY_ROW * rows as i32 + 10)
    }

    /// The most columns (one per entry at most) whose box is at most `width` pixels wide.
    fn columns_within(&self, width: i32) -> usize {
        (1..=self.entries.len().max(1))
            .rev()
            .find(|&c| self.size(c).0 <= width)
            .unwrap_or(1)
    }

    /// Draws the box at `at` (its size from [`Key::size`] for `cols`) on `area`.
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        at: Bounds,
        cols: usize,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let widths = self.columns(cols);
        let cols = widths.len();
        area.draw(&Rectangle::new(
            [(at.x0, at.y0), (at.x1, at.y1)],
            WHITE.mix(0.85).filled(),
        ))
        .map_err(err)?;
        area.draw(&Rectangle::new(
            [(at.x0, at.y0), (at.x1, at.y1)],
            BLACK.mix(0.4),
        ))
        .map_err(err)?;
        let middle = |row: usize| at.y0 + 5 + row as i32 * KEY_ROW + KEY_ROW / 2;
        let left = Pos::new(HPos::Left, VPos::Center);
        for (k, (name, color, style, _)) in self.entries.iter().enumerate() {
            let c = k % cols;
            let x = at.x0 + KEY_PAD + widths[..c].iter().sum::<i32>() + c as i32 * KEY_COL_GAP;
            let y = middle(k / cols);
            let width = if style.line == Line::Solid { 3 } else { 2 };
            stroke(
                area,
                vec![(x, y), (x + SAMPLE.0, y)],
                style.line,
                color.stroke_width(width),
            )?;
            mark(area, (x + SAMPLE.0 / 2, y), style.marker, *color)?;
            let font = (text::FAMILY, KEY_FONT).into_font().color(&BLACK).pos(left);
            area.draw(&Text::new(name.clone(), (x + SAMPLE.0 + SAMPLE.1, y), font))
                .map_err(err)?;
        }
        let first = self.entries.len().div_ceil(cols);
        for (k, (note, _)) in self.notes.iter().enumerate() {
            let font = (text::FAMILY, KEY_FONT, FontStyle::Oblique)
                .into_font()
                .color(&RGBColor(70, 70, 70))
                .pos(left);
            area.draw(&Text::new(
                note.clone(),
                (at.x0 + KEY_PAD, middle(first + k)),
                font,
            ))
            .map_err(err)?;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(
    panel: &Panel,
    cell: &DrawingArea<DB, Shift>,
) -> std::result::Result<(), String> {
    let axes = Axes::of(panel);
    let mut curves = curves(panel, &axes);
    let size = cell.dim_in_pixel();
    let (plot, px) = measure(panel, &axes, &curves, size)?;
    tell_apart(&mut curves, &px);
    let key = Key::of(panel, &curves, cell)?;
    // The legend in a corner of the plotting area, or (`None`) below the chart.
    let corner = key.as_ref().and_then(|k| match panel.legend {
        Legend::UpperRight => Some(Corner::UpperRight),
        Legend::UpperLeft => Some(Corner::UpperLeft),
        Legend::LowerRight => Some(Corner::LowerRight),
        Legend::LowerLeft => Some(Corner::LowerLeft),
        Legend::Below => None,
        Legend::Best => {
            let along = place::trace(&px, 2.0);
            place::free_corner(plot, k.size(1), KEY_GAP, &along, 3)
        }
    });
    // Below: a strip at the bottom of the cell, the chart above it.
    let below = match (&key, corner) {
        (Some(k), None) => {
            let cols = k.columns_within(size.0 as i32 - 2 * KEY_GAP);
            let (w, h) = k.size(cols);
            let x0 = ((plot.x0 + plot.x1 - w) / 2).clamp(0, (size.0 as i32 - w).max(0));
            let y0 = size.1 as i32 - h - KEY_GAP;
            Some((
                cols,
                Bounds {
                    x0,
                    y0,
                    x1: x0 + w,
                    y1: y0 + h,
                },
            ))
        }
        _ => None,
    };
    let area = match below {
        Some((_, b)) => cell.split_vertically(b.y0 - 4).0,
        None => cell.clone(),
    };
    let base = cell.get_base_pixel();
    let mut builder = chart_builder(panel, &area);
    on_chart!(builder, &axes, |chart| {
        chart
            .configure_mesh()
            .x_desc(panel.x_label.as_str())
            .y_desc(panel.y_label.as_str())
            .x_label_formatter(&|v| tick(snap(*v, axes.x.0, axes.x.1)))
            .y_label_formatter(&|v| tick(snap(*v, axes.y.0, axes.y.1)))
            .label_style((text::FAMILY, 15))
            .axis_desc_style((text::FAMILY, 17))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, c) in curves.iter().enumerate() {
            let style = c.color.stroke_width(c.width);
            stroke(chart.plotting_area(), c.points.clone(), c.style.line, style)?;
            let marker = match (c.style.marker, c.points.len()) {
                (Marker::None, 1) => Marker::Circle,
                (m, _) => m,
            };
            for i in mark_points(c.points.len(), k) {
                let (x, y) = chart.backend_coord(&c.points[i]);
                mark(cell, (x - base.0, y - base.1), marker, c.color)?;
            }
        }
    });
    match (key, corner, below) {
        (Some(k), Some(c), _) => k.draw(cell, c.place(plot, k.size(1), KEY_GAP), 1),
        (Some(k), None, Some((cols, at))) => k.draw(cell, at, cols),
        _ => Ok(()),
    }
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
    write_png(path, (width, height), "the images", |root| {
        root.fill(&RGBColor(128, 128, 128))
            .map_err(|e| e.to_string())?;
        if !title.is_empty() {
            root.draw(&Text::new(
                title.to_string(),
                (8, 8),
                (text::FAMILY, 20, FontStyle::Bold)
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
        Ok(())
    })
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
        let png = |panel: &Panel, name: &str| {
            let p = dir.path().join(name);
            Figure::single(panel.clone()).save_png(&p).unwrap();
            std::fs::read(p).unwrap()
        };
        let panel = demo().panels.remove(0);
        assert_eq!(panel.legend, Legend::Best);
        let best = png(&panel, "best.png");
        // Falling curves leave the upper right free: the best corner is the first one tried.
        assert_eq!(
            best,
            png(&panel.clone().legend(Legend::UpperRight), "ur.png")
        );
        let moved = panel.legend(Legend::LowerRight);
        assert_eq!(moved.legend, Legend::LowerRight);
        assert_ne!(best, png(&moved, "lr.png"));
    }

    #[test]
    fn with_every_corner_taken_the_legend_goes_below() {
        let dir = tempfile::tempdir().unwrap();
        let png = |panel: Panel, name: &str| {
            let p = dir.path().join(name);
            Figure::single(panel).save_png(&p).unwrap();
            std::fs::read(p).unwrap()
        };
        // Flat lines along the top and the bottom (rnn-lm's uniform guess and floor).
        let flat = |name: &str, y: f64| Series {
            name: name.into(),
            points: vec![(0.0, y), (100.0, y)],
        };
        let mut falling = Series::new("loss");
        for i in 0..=100 {
            falling.push(i as f64, 1.0 + 4.0 * (-0.05 * i as f64).exp());
        }
        let panel = Panel::new("t", "x", "y")
            .with(falling)
            .with(flat("top", 5.0))
            .with(flat("floor", 0.95));
        let best = png(panel.clone(), "best.png");
        assert_eq!(best, png(panel.clone().legend(Legend::Below), "below.png"));
        for c in [
            Legend::UpperRight,
            Legend::UpperLeft,
            Legend::LowerRight,
            Legend::LowerLeft,
        ] {
            assert_ne!(best, png(panel.clone().legend(c), "corner.png"));
        }
    }

    #[test]
    fn a_curve_on_an_earlier_one_is_dashed_unless_styled() {
        fonts().unwrap();
        let a = demo().panels[0].series[0].clone();
        let mut b = a.clone();
        b.name = "b".into();
        let panel = Panel::new("t", "x", "y").with(a).with(b);
        let axes = Axes::of(&panel);
        let mut cs = curves(&panel, &axes);
        let (_, px) = measure(&panel, &axes, &cs, (800, 520)).unwrap();
        tell_apart(&mut cs, &px);
        assert_eq!(
            (cs[0].style.line, cs[1].style.line),
            (Line::Solid, Line::Dashed)
        );
        // A third one on both: dotted.
        let mut c = panel.series[0].clone();
        c.name = "c".into();
        let three = panel.clone().with(c);
        let mut cs = curves(&three, &axes);
        let (_, px) = measure(&three, &axes, &cs, (800, 520)).unwrap();
        tell_apart(&mut cs, &px);
        assert_eq!(cs[2].style.line, Line::Dotted);
        // Set by hand: kept.
        let styled = panel.style("b", Style::line(Line::Solid).marker(Marker::Square));
        let mut cs = curves(&styled, &axes);
        tell_apart(&mut cs, &px);
        assert_eq!(cs[1].style, Style::line(Line::Solid).marker(Marker::Square));
        // Curves apart stay solid.
        let apart = demo().panels.remove(0);
        let mut cs = curves(&apart, &Axes::of(&apart));
        let (_, px) = measure(&apart, &Axes::of(&apart), &cs, (800, 520)).unwrap();
        tell_apart(&mut cs, &px);
        assert!(cs.iter().all(|c| c.style.line == Line::Solid));
    }

    #[test]
    fn grid_cells_fill_rows_and_centre_the_last() {
        let l = Layout::auto(3);
        assert_eq!((l.cols, l.rows(3)), (2, 2));
        assert_eq!(
            l.cells(3, (1600, 1000)),
            vec![(0, 0, 800, 500), (800, 0, 800, 500), (400, 500, 800, 500)]
        );
        assert_eq!(Layout::auto(1).size(1), (800, 520));
        assert_eq!(Layout::auto(2).size(2), (1600, 520));
        assert_eq!(Layout::auto(4).size(4), (1600, 1040));
        assert_eq!(Layout::row(4, (800, 520)).size(4), (3200, 520));
        // More columns than panels: the figure is only as wide as its panels.
        assert_eq!(Layout::row(5, (100, 100)).size(2), (200, 100));
        assert_eq!(Layout::auto(0).size(0), (800, 520));
    }

    #[test]
    fn marks_are_spread_and_shifted_per_curve() {
        let a = mark_points(1000, 0);
        let b = mark_points(1000, 1);
        assert_eq!(a.len(), MARKS);
        assert!(a.windows(2).all(|w| w[1] > w[0]) && *a.last().unwrap() < 1000);
        assert!(a.iter().zip(&b).all(|(x, y)| x != y), "{a:?} {b:?}");
        assert_eq!(mark_points(1, 0), vec![0]);
        assert_eq!(mark_points(3, 2).len(), 3);
        assert!(mark_points(0, 0).is_empty());
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
