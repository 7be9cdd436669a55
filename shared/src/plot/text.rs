//! Text that sits on its baseline.
//!
//! plotters' `ab_glyph` text path places every glyph by its own pixel bounding box: the glyph's
//! top row goes to `(size / 2 + top) as i32`, where `top` is the (whole-pixel) top of that
//! glyph's box above the baseline. The cast truncates towards zero, so for an odd font size
//! (15, 17: `size / 2` ends in .5) a glyph whose top lies less than `size / 2` above the
//! baseline is rounded up the page and a taller or rounder one is rounded down: in "example"
//! at 17 px the flat-topped `x` lands a pixel above its round neighbours ("eXample"). The pen
//! position is truncated too and each glyph's left side bearing is dropped.
//!
//! [`BaselineText`] wraps a drawing backend and draws `sans-serif` text itself: one baseline
//! (a whole pixel) for the whole string, each glyph outlined at its pen position (kerning and
//! side bearings kept), and its pixels put where the outline says. The text box plotters lays
//! out with (its width and height, the anchors, the rotated y-axis label) is unchanged, so
//! charts keep their layout; only the glyphs inside the box move, by a pixel or less.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::style::FontStyle;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};
use std::sync::OnceLock;

/// The family plotters' text is registered under (see [`super::fonts`]).
pub(crate) const FAMILY: &str = "sans-serif";

/// The embedded face for a style of [`FAMILY`]: regular, bold, or oblique (for italic too).
fn face(style: FontStyle) -> Option<&'static FontRef<'static>> {
    static FACES: OnceLock<[Option<FontRef<'static>>; 3]> = OnceLock::new();
    let faces = FACES.get_or_init(|| {
        [
            dejavu::sans::regular(),
            dejavu::sans::bold(),
            dejavu::sans::oblique(),
        ]
        .map(|bytes| FontRef::try_from_slice(bytes).ok())
    });
    let k = match style {
        FontStyle::Normal => 0,
        FontStyle::Bold => 1,
        FontStyle::Oblique | FontStyle::Italic => 2,
    };
    faces[k].as_ref()
}

/// The bytes of the embedded face for `style` (what [`super::fonts`] registers with plotters).
pub(crate) fn face_bytes(style: FontStyle) -> &'static [u8] {
    match style {
        FontStyle::Normal => dejavu::sans::regular(),
        FontStyle::Bold => dejavu::sans::bold(),
        FontStyle::Oblique | FontStyle::Italic => dejavu::sans::oblique(),
    }
}

/// One pixel of a glyph: position relative to the text box's top left corner, and coverage.
type Ink = (i32, i32, f32);

/// The pixels of `text` at `size` px in `font`, relative to the top left corner of the box
/// plotters lays the text out in (its baseline is `size / 2` below the top, rounded to a whole
/// pixel). Each glyph is outlined at its pen position: the advance widths and kerning plotters
/// measured the box with, plus the glyph's own side bearing, at fractional x.
pub(crate) fn glyph_pixels(font: &FontRef<'_>, size: f64, text: &str) -> Vec<Ink> {
    let scaled = font.as_scaled(PxScale::from(size as f32));
    let baseline = (size / 2.0).round() as f32;
    let mut pen = 0.0f32;
    let mut prev = None;
    let mut ink = Vec::new();
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        prev = Some(id);
        // At the exact pen position (the rasteriser shades the fraction of a pixel): rounding
        // each origin to a whole pixel left visibly uneven gaps ("exam ple" at 17 px).
        let glyph = id.with_scale_and_position(scaled.scale(), point(pen, baseline));
        if let Some(outline) = scaled.outline_glyph(glyph) {
            let b = outline.px_bounds();
            let (x0, y0) = (b.min.x as i32, b.min.y as i32);
            outline.draw(|x, y, c| {
                if c > 0.0 {
                    ink.push((x0 + x as i32, y0 + y as i32, c.min(1.0)));
                }
            });
        }
        pen += scaled.h_advance(id);
    }
    ink
}

/// A drawing backend that draws `sans-serif` text with its glyphs on one baseline (see the
/// module doc); everything else, and text in other families, goes to the wrapped backend.
///
/// [`png_backend`] gives one on a PNG file; a chapter that draws with plotters directly uses
/// it in place of `BitMapBackend::new`.
pub struct BaselineText<B> {
    inner: B,
}

impl<B> BaselineText<B> {
    /// Wraps `inner`.
    pub fn new(inner: B) -> Self {
        BaselineText { inner }
    }
}

/// A PNG at `path` of `size` = (width, height) pixels whose text sits on its baseline: use it
/// where a chapter would call `BitMapBackend::new(path, size)`, then `.into_drawing_area()`.
/// Call [`super::fonts`] first, as with any plotters text.
pub fn png_backend(
    path: &std::path::Path,
    size: (u32, u32),
) -> BaselineText<plotters::backend::BitMapBackend<'_>> {
    BaselineText::new(plotters::backend::BitMapBackend::new(path, size))
}

impl<B: DrawingBackend> DrawingBackend for BaselineText<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<B::ErrorType>> {
        self.inner.estimate_text_size(text, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let font = match style.family().as_str() {
            FAMILY => face(style.style()),
            _ => None,
        };
        let Some(font) = font else {
            return self.inner.draw_text(text, style, pos);
        };
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        // The box and anchor exactly as plotters' own text path computes them.
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let turn = style.transform();
        let (w, h) = self.inner.get_size();
        for (x, y, c) in glyph_pixels(font, style.size(), text) {
            let (x, y) = turn.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                self.inner.draw_pixel((x, y), color.mix(f64::from(c)))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lowest row a glyph inks at least half a pixel in, relative to the box top.
    fn bottom(ink: &[Ink]) -> i32 {
        ink.iter()
            .filter(|p| p.2 >= 0.5)
            .map(|p| p.1)
            .max()
            .unwrap()
    }

    #[test]
    fn glyphs_that_sit_on_the_baseline_end_on_the_same_row() {
        let font = face(FontStyle::Normal).unwrap();
        for size in [13.0, 14.0, 15.0, 16.0, 17.0, 20.0, 22.0, 26.0] {
            let rows: Vec<i32> = "examl"
                .chars()
                .map(|c| bottom(&glyph_pixels(font, size, &c.to_string())))
                .collect();
            let want = (size / 2.0_f64).round() as i32 - 1;
            // Round glyphs (e, a) overshoot the baseline by a fraction of a pixel.
            assert!(
                rows.iter().all(|&r| r == want || r == want + 1),
                "size {size}: bottom rows {rows:?}, baseline row {want}"
            );
            let x = bottom(&glyph_pixels(font, size, "x"));
            let m = bottom(&glyph_pixels(font, size, "m"));
            assert_eq!(
                x, m,
                "size {size}: x and m (both flat) share the bottom row"
            );
        }
    }

    /// The bottom row plotters' own `ab_glyph` path gives glyph `c` at `size` px: its box's top
    /// row goes to `(size / 2 + top) as i32` (plotters-0.3.7's `FontDataInternal::draw`).
    fn plotters_bottom(font: &FontRef<'_>, size: f32, c: char) -> i32 {
        let scaled = font.as_scaled(PxScale::from(size));
        let outline = scaled.outline_glyph(scaled.scaled_glyph(c)).unwrap();
        let top = outline.px_bounds().min.y;
        let mut rows = Vec::new();
        outline.draw(|_, y, cov| {
            if cov >= 0.5 {
                rows.push(y as i32);
            }
        });
        (size / 2.0 + top) as i32 + rows.into_iter().max().unwrap()
    }

    #[test]
    fn plotters_own_path_lifts_x_at_odd_sizes() {
        // The bug this module works around: at 17 px the flat-bottomed x ends a row above m.
        let font = face(FontStyle::Normal).unwrap();
        let (x, m) = (
            plotters_bottom(font, 17.0, 'x'),
            plotters_bottom(font, 17.0, 'm'),
        );
        assert_eq!(m - x, 1, "x {x}, m {m}");
        let ours = |c: &str| bottom(&glyph_pixels(font, 17.0, c));
        assert_eq!(ours("x"), ours("m"));
    }

    #[test]
    fn descenders_go_below_and_superscripts_above() {
        let font = face(FontStyle::Normal).unwrap();
        let base = bottom(&glyph_pixels(font, 17.0, "x"));
        for c in ['g', 'y', 'p'] {
            assert!(
                bottom(&glyph_pixels(font, 17.0, &c.to_string())) >= base + 3,
                "{c}"
            );
        }
        assert!(bottom(&glyph_pixels(font, 17.0, "²")) < base - 3);
    }

    #[test]
    fn a_string_is_its_glyphs_side_by_side() {
        let font = face(FontStyle::Normal).unwrap();
        let ink = |s: &str| glyph_pixels(font, 17.0, s);
        let total = |p: &[Ink]| p.iter().map(|q| f64::from(q.2)).sum::<f64>();
        let (two, one) = (ink("xx"), ink("x"));
        // The same ink, shaded at another fraction of a pixel.
        assert!((total(&two) / total(&one) - 2.0).abs() < 0.02);
        let right = |p: &[Ink]| p.iter().map(|q| q.0).max().unwrap();
        let adv = font
            .as_scaled(PxScale::from(17.0))
            .h_advance(font.glyph_id('x'));
        assert!((right(&two) - right(&one) - adv.round() as i32).abs() <= 1);
    }
}
