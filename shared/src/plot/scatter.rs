//! A scatter plot of labelled points (e.g. word embeddings projected to 2-D) with an optional
//! zoomed inset of a crowded region.

use super::place::{self, Bounds, Corner};
use super::{text, tick, write_png};
use crate::error::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;

/// One labelled point of a [`Scatter`].
#[derive(Clone, Debug, PartialEq)]
pub struct Dot {
    /// Position on the x axis.
    pub x: f64,
    /// Position on the y axis.
    pub y: f64,
    /// Text written beside the point.
    pub label: String,
    /// Colour of the point and its label.
    pub color: RGBColor,
}

/// A scatter plot of labelled points, optionally with an inset that shows one region of it
/// enlarged (in a corner of the chart that covers the fewest points, the region framed on the
/// chart and joined to the inset). Labels that would overlap inside the inset are moved apart
/// and joined to their points.
///
/// ```
/// use shared::plot::Scatter;
/// use plotters::style::RGBColor;
/// let mut s = Scatter::new("embeddings", "PC1", "PC2");
/// s.push(0.0, 0.0, "can", RGBColor(214, 39, 40));
/// s.push(0.01, 0.02, "could", RGBColor(214, 39, 40));
/// s.push(3.0, 2.0, "what", RGBColor(40, 40, 40));
/// let dir = tempfile::tempdir().unwrap();
/// s.inset_around(&["can", "could"]).save_png(dir.path().join("embedding.png")).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Scatter {
    /// Caption above the chart.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// The points.
    pub dots: Vec<Dot>,
    /// The region drawn enlarged in an inset: (x from, x to), (y from, y to).
    pub inset: Option<((f64, f64), (f64, f64))>,
    /// Size of the PNG: (width, height) in pixels.
    pub size: (u32, u32),
}

/// Size of the labels' text.
const LABEL_FONT: u32 = 14;
/// An inset's width and height as fractions of the plotting area's, largest first: the
/// largest that finds a free place is drawn.
const INSET_SHARES: [f64; 3] = [0.36, 0.3, 0.25];
/// Gap between the inset and the sides of the plotting area.
const INSET_GAP: i32 = 12;

impl Scatter {
    /// An empty scatter plot of 1400 × 1000 pixels.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Scatter {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            dots: Vec::new(),
            inset: None,
            size: (1400, 1000),
        }
    }

    /// Adds the point (x, y) labelled `label` in `color`.
    pub fn push(&mut self, x: f64, y: f64, label: impl Into<String>, color: RGBColor) {
        self.dots.push(Dot {
            x,
            y,
            label: label.into(),
            color,
        });
    }

    /// The same plot with an inset showing x in `x` and y in `y` enlarged.
    pub fn with_inset(mut self, x: (f64, f64), y: (f64, f64)) -> Self {
        self.inset = Some((x, y));
        self
    }

    /// The same plot with an inset of the region around the points labelled one of `labels`
    /// (their bounding box with a margin of a fifth of its size on each side, at least 1% of
    /// the whole plot's span); no inset when no point has one of these labels.
    pub fn inset_around(mut self, labels: &[&str]) -> Self {
        let chosen: Vec<&Dot> = self
            .dots
            .iter()
            .filter(|d| labels.contains(&d.label.as_str()) && d.x.is_finite() && d.y.is_finite())
            .collect();
        if chosen.is_empty() {
            return self;
        }
        let whole = (
            span(self.dots.iter().map(|d| d.x)),
            span(self.dots.iter().map(|d| d.y)),
        );
        let around = |v: (f64, f64), all: (f64, f64)| {
            let pad = (0.2 * (v.1 - v.0)).max(0.01 * (all.1 - all.0));
            (v.0 - pad, v.1 + pad)
        };
        let x = around(span(chosen.iter().map(|d| d.x)), whole.0);
        let y = around(span(chosen.iter().map(|d| d.y)), whole.1);
        self.inset = Some((x, y));
        self
    }

    /// Draws the plot to a PNG at `path` (atomically: temp file, then rename).
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        write_png(path.as_ref(), self.size, "the scatter plot", |root| {
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            self.draw(root)
        })
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let padded = |v: (f64, f64)| {
            let pad = 0.06 * (v.1 - v.0).max(1e-9);
            (v.0 - pad)..(v.1 + pad)
        };
        let (xs, ys) = (
            padded(span(self.dots.iter().map(|d| d.x))),
            padded(span(self.dots.iter().map(|d| d.y))),
        );
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (text::FAMILY, 26, FontStyle::Bold))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(xs, ys)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v| format!("{v:.1}"))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .label_style((text::FAMILY, 15))
            .axis_desc_style((text::FAMILY, 17))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(err)?;
        let finite = || {
            self.dots
                .iter()
                .filter(|d| d.x.is_finite() && d.y.is_finite())
        };
        chart
            .draw_series(finite().map(|d| {
                let font = (text::FAMILY, LABEL_FONT).into_font().color(&d.color);
                EmptyElement::at((d.x, d.y))
                    + Circle::new((0, 0), 2, d.color.filled())
                    + Text::new(d.label.clone(), (3, -7), font)
            }))
            .map_err(err)?;
        let Some((rx, ry)) = self.inset else {
            return Ok(());
        };
        // The region on the chart, in pixels (y grows down).
        let (a, b) = (
            chart.backend_coord(&(rx.0, ry.1)),
            chart.backend_coord(&(rx.1, ry.0)),
        );
        let region = Bounds {
            x0: a.0,
            y0: a.1,
            x1: b.0,
            y1: b.1,
        };
        let (px, py) = chart.plotting_area().get_pixel_range();
        let plot = Bounds {
            x0: px.start,
            y0: py.start,
            x1: px.end,
            y1: py.end,
        };
        // The first place (largest size first, corners first) where the inset covers no
        // point or label and not the region itself; else the place, of every size, covering
        // the fewest (a corner of the largest size can cut into several labels).
        let mut ink = Vec::new();
        for d in finite() {
            let (x, y) = chart.backend_coord(&(d.x, d.y));
            let (w, _) = root
                .estimate_text_size(&d.label, &(text::FAMILY, LABEL_FONT).into())
                .map_err(err)?;
            ink.extend(
                (0..=w as i32 + 3)
                    .step_by(4)
                    .map(|dx| (f64::from(x + dx), f64::from(y))),
            );
        }
        let apart = |b: &Bounds| !b.grown(INSET_GAP).meets(&region);
        let size = |share: f64| {
            (
                (share * f64::from(plot.width())) as i32,
                (share * f64::from(plot.height())) as i32,
            )
        };
        let places = || {
            INSET_SHARES
                .iter()
                .flat_map(|&share| place::slots(plot, size(share), INSET_GAP))
                .filter(apart)
        };
        let corner = places()
            .find(|b| place::covered(*b, &ink, 4) == 0)
            .or_else(|| places().min_by_key(|b| place::covered(*b, &ink, 4)))
            .unwrap_or_else(|| Corner::UpperRight.place(plot, size(INSET_SHARES[0]), INSET_GAP));
        self.draw_inset(root, region, corner)
    }

    /// Draws the inset of the region `region` (pixels of the chart) in the box `at`.
    fn draw_inset<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        region: Bounds,
        at: Bounds,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let Some((rx, ry)) = self.inset else {
            return Ok(());
        };
        let frame = RGBColor(90, 90, 90);
        // The region's frame and two lines from it to the inset (the two shortest joins of
        // corresponding corners).
        let corners = |b: Bounds| [(b.x0, b.y0), (b.x1, b.y0), (b.x0, b.y1), (b.x1, b.y1)];
        let mut joins: Vec<((i32, i32), (i32, i32))> =
            corners(region).into_iter().zip(corners(at)).collect();
        joins.sort_by_key(|(p, q)| (p.0 - q.0).pow(2) + (p.1 - q.1).pow(2));
        for (p, q) in joins.into_iter().take(2) {
            root.draw(&PathElement::new(vec![p, q], frame.mix(0.5)))
                .map_err(err)?;
        }
        root.draw(&Rectangle::new(
            [(region.x0, region.y0), (region.x1, region.y1)],
            frame.stroke_width(1),
        ))
        .map_err(err)?;
        root.draw(&Rectangle::new(
            [(at.x0, at.y0), (at.x1, at.y1)],
            WHITE.filled(),
        ))
        .map_err(err)?;
        root.draw(&Rectangle::new(
            [(at.x0, at.y0), (at.x1, at.y1)],
            frame.stroke_width(1),
        ))
        .map_err(err)?;
        let area = root
            .clone()
            .shrink((at.x0, at.y0), (at.width(), at.height()));
        let mut chart = ChartBuilder::on(&area)
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(44)
            .build_cartesian_2d(rx.0..rx.1, ry.0..ry.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(4)
            .y_labels(4)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style((text::FAMILY, 12))
            .light_line_style(RGBColor(245, 245, 245))
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(err)?;
        let inside: Vec<&Dot> = self
            .dots
            .iter()
            .filter(|d| d.x >= rx.0 && d.x <= rx.1 && d.y >= ry.0 && d.y <= ry.1)
            .collect();
        // Label boxes placed top to bottom, each moved down (or up) until it overlaps none
        // placed before it.
        let mut order: Vec<(&Dot, (i32, i32))> = inside
            .iter()
            .map(|d| (*d, chart.backend_coord(&(d.x, d.y))))
            .collect();
        order.sort_by_key(|(_, p)| (p.1, p.0));
        let mut placed: Vec<Bounds> = Vec::new();
        let base = root.get_base_pixel();
        for (d, (x, y)) in order {
            let (w, h) = root
                .estimate_text_size(&d.label, &(text::FAMILY, LABEL_FONT).into())
                .map_err(err)?;
            let at_dy = |dy: i32| Bounds {
                x0: x + 5,
                y0: y - 8 + dy,
                x1: x + 5 + w as i32,
                y1: y - 8 + dy + h as i32,
            };
            let dy = (0..40)
                .flat_map(|k| [2 * k, -2 * k])
                .find(|&dy| placed.iter().all(|p| !p.meets(&at_dy(dy))))
                .unwrap_or(0);
            let label = at_dy(dy);
            placed.push(label);
            let (x, y) = (x - base.0, y - base.1);
            let (lx, ly) = (label.x0 - base.0, label.y0 - base.1);
            if dy.abs() > 4 {
                root.draw(&PathElement::new(
                    vec![(x, y), (lx - 1, ly + h as i32 / 2)],
                    d.color.mix(0.6),
                ))
                .map_err(err)?;
            }
            root.draw(&Circle::new((x, y), 3, d.color.filled()))
                .map_err(err)?;
            let font = (text::FAMILY, LABEL_FONT).into_font().color(&d.color);
            root.draw(&Text::new(d.label.clone(), (lx, ly), font))
                .map_err(err)?;
        }
        Ok(())
    }
}

/// (min, max) of the finite values; (0, 1) when there are none.
fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inset_frames_the_chosen_points() {
        let red = RGBColor(214, 39, 40);
        let mut s = Scatter::new("t", "x", "y");
        s.push(0.0, 0.0, "can", red);
        s.push(0.1, 0.3, "could", red);
        s.push(5.0, 5.0, "far", red);
        let with = s.clone().inset_around(&["can", "could"]);
        let ((x0, x1), (y0, y1)) = with.inset.unwrap();
        assert!(x0 < 0.0 && x1 > 0.1 && y0 < 0.0 && y1 > 0.3);
        assert!(
            x1 < 1.0 && y1 < 1.0,
            "only the chosen points: {:?}",
            with.inset
        );
        assert_eq!(s.clone().inset_around(&["none"]).inset, None);
        // A single chosen point still gets a region (1% of the whole span around it).
        let ((a, b), _) = s.inset_around(&["far"]).inset.unwrap();
        assert!((b - a - 0.1).abs() < 1e-12, "{a} {b}");
    }

    #[test]
    fn span_skips_non_finite_values() {
        assert_eq!(span([1.0, f64::NAN, -2.0].into_iter()), (-2.0, 1.0));
        assert_eq!(span(std::iter::empty()), (0.0, 1.0));
    }
}
