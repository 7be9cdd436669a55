//! Where a box (a legend, an inset) goes inside a chart, and which curves lie on each other:
//! plain geometry on pixel positions, so it can be tested without drawing.

/// A rectangle of pixels: x in `x0..x1`, y in `y0..y1` (y grows down the picture).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Bounds {
    pub fn width(&self) -> i32 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> i32 {
        self.y1 - self.y0
    }

    /// The same rectangle grown by `pad` pixels on every side.
    pub fn grown(&self, pad: i32) -> Bounds {
        Bounds {
            x0: self.x0 - pad,
            y0: self.y0 - pad,
            x1: self.x1 + pad,
            y1: self.y1 + pad,
        }
    }

    pub fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= f64::from(self.x0)
            && x < f64::from(self.x1)
            && y >= f64::from(self.y0)
            && y < f64::from(self.y1)
    }

    /// Whether the two rectangles share a pixel.
    pub fn meets(&self, o: &Bounds) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// A corner of a chart's plotting area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Corner {
    UpperRight,
    UpperLeft,
    LowerRight,
    LowerLeft,
}

impl Corner {
    /// The corners in the order they are tried: a falling curve leaves the upper right free.
    pub const ALL: [Corner; 4] = [
        Corner::UpperRight,
        Corner::UpperLeft,
        Corner::LowerRight,
        Corner::LowerLeft,
    ];

    /// The `w × h` box in this corner of `plot`, `gap` pixels in from its sides.
    pub fn place(self, plot: Bounds, (w, h): (i32, i32), gap: i32) -> Bounds {
        let x0 = match self {
            Corner::UpperLeft | Corner::LowerLeft => plot.x0 + gap,
            Corner::UpperRight | Corner::LowerRight => plot.x1 - gap - w,
        };
        let y0 = match self {
            Corner::UpperLeft | Corner::UpperRight => plot.y0 + gap,
            Corner::LowerLeft | Corner::LowerRight => plot.y1 - gap - h,
        };
        Bounds {
            x0,
            y0,
            x1: x0 + w,
            y1: y0 + h,
        }
    }
}

/// Places for a `size` box inside `plot`, `gap` pixels in from its sides: the four corners
/// (in [`Corner::ALL`]'s order), then seven places between each two corners along each side.
pub(crate) fn slots(plot: Bounds, size: (i32, i32), gap: i32) -> Vec<Bounds> {
    let mut out: Vec<Bounds> = Corner::ALL
        .iter()
        .map(|c| c.place(plot, size, gap))
        .collect();
    let (x0, y0) = (plot.x0 + gap, plot.y0 + gap);
    let (x1, y1) = (plot.x1 - gap - size.0, plot.y1 - gap - size.1);
    let at = |x: i32, y: i32| Bounds {
        x0: x,
        y0: y,
        x1: x + size.0,
        y1: y + size.1,
    };
    for k in 1..8 {
        let x = x0 + (x1 - x0) * k / 8;
        let y = y0 + (y1 - y0) * k / 8;
        out.extend([at(x, y1), at(x, y0), at(x0, y), at(x1, y)]);
    }
    out
}

/// Points along each polyline at most `step` pixels apart (its vertices and enough points on
/// each segment between them), so a long straight segment, e.g. a horizontal reference line
/// drawn from two points, counts wherever it passes.
pub(crate) fn trace(lines: &[Vec<(f64, f64)>], step: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for line in lines {
        if let Some(&first) = line.first() {
            out.push(first);
        }
        for w in line.windows(2) {
            let (a, b) = (w[0], w[1]);
            let n = ((b.0 - a.0).hypot(b.1 - a.1) / step).ceil().max(1.0) as usize;
            out.extend((1..=n).map(|k| {
                let t = k as f64 / n as f64;
                (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
            }));
        }
    }
    out
}

/// How many of `points` fall inside `b` grown by `pad` pixels (a line's own width).
pub(crate) fn covered(b: Bounds, points: &[(f64, f64)], pad: i32) -> usize {
    let b = b.grown(pad);
    points.iter().filter(|&&p| b.contains(p)).count()
}

/// The corner of `plot` where a `size` box (`gap` pixels in from the sides) covers the fewest
/// of `points` (within `pad` pixels), the earlier of [`Corner::ALL`] on a tie; `None` when the
/// box does not fit or covers a point in every corner (it then goes outside the chart).
pub(crate) fn free_corner(
    plot: Bounds,
    size: (i32, i32),
    gap: i32,
    points: &[(f64, f64)],
    pad: i32,
) -> Option<Corner> {
    if size.0 + 2 * gap > plot.width() || size.1 + 2 * gap > plot.height() {
        return None;
    }
    Corner::ALL
        .into_iter()
        .map(|c| (covered(c.place(plot, size, gap), points, pad), c))
        .min_by_key(|&(n, _)| n)
        .filter(|&(n, _)| n == 0)
        .map(|(_, c)| c)
}

/// The share of the points traced along the polyline `b` (every 2 px) over a's x extent that
/// `a` passes within `tol` pixels of vertically (both in pixels, in order of x); 0 when they
/// share no x.
pub(crate) fn share_near(a: &[(f64, f64)], b: &[(f64, f64)], tol: f64) -> f64 {
    let (Some(a_first), Some(a_last)) = (a.first(), a.last()) else {
        return 0.0;
    };
    let (ax0, ax1) = (a_first.0, a_last.0);
    let along = trace(&[b.to_vec()], 2.0);
    let inside: Vec<&(f64, f64)> = along.iter().filter(|p| p.0 >= ax0 && p.0 <= ax1).collect();
    if a.len() < 2 || inside.is_empty() {
        return 0.0;
    }
    let near = inside
        .iter()
        .filter(|p| {
            // a's segment over p.x (the first one reaching it)
            let k = a.partition_point(|q| q.0 < p.0).clamp(1, a.len() - 1);
            let (l, r) = (a[k - 1], a[k]);
            let y = if r.0 > l.0 {
                l.1 + (p.0 - l.0) / (r.0 - l.0) * (r.1 - l.1)
            } else {
                r.1
            };
            (y - p.1).abs() <= tol
        })
        .count();
    near as f64 / inside.len() as f64
}

/// Whether the polyline `b` lies on `a` (both in pixels, in order of x): over at least 90% of
/// b's x extent a is drawn too, and a passes within `tol` pixels of 90% of b there
/// ([`share_near`]). A curve that does is hidden where the other is drawn over it.
pub(crate) fn lies_on(a: &[(f64, f64)], b: &[(f64, f64)], tol: f64) -> bool {
    let (Some(a_first), Some(a_last), Some(b_first), Some(b_last)) =
        (a.first(), a.last(), b.first(), b.last())
    else {
        return false;
    };
    let shared = a_last.0.min(b_last.0) - a_first.0.max(b_first.0);
    let extent = b_last.0 - b_first.0;
    extent > 0.0 && shared >= 0.9 * extent && share_near(a, b, tol) >= 0.9
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLOT: Bounds = Bounds {
        x0: 70,
        y0: 50,
        x1: 770,
        y1: 450,
    };

    /// A falling curve from the top left corner of PLOT to near its bottom (y grows down).
    fn falling() -> Vec<(f64, f64)> {
        (0..=70)
            .map(|i| {
                (
                    70.0 + 10.0 * i as f64,
                    400.0 - 350.0 * (-(i as f64) / 12.0).exp(),
                )
            })
            .collect()
    }

    #[test]
    fn a_box_sits_in_its_corner() {
        let b = Corner::LowerLeft.place(PLOT, (200, 80), 10);
        assert_eq!(
            b,
            Bounds {
                x0: 80,
                y0: 360,
                x1: 280,
                y1: 440
            }
        );
        let b = Corner::UpperRight.place(PLOT, (200, 80), 10);
        assert_eq!((b.x1, b.y0), (760, 60));
    }

    #[test]
    fn slots_start_with_the_corners_and_stay_inside() {
        let all = slots(PLOT, (200, 80), 10);
        assert_eq!(all.len(), 4 + 4 * 7);
        for (c, b) in Corner::ALL.iter().zip(&all) {
            assert_eq!(c.place(PLOT, (200, 80), 10), *b);
        }
        let inner = PLOT.grown(-10);
        for b in &all {
            assert!(b.x0 >= inner.x0 && b.x1 <= inner.x1 && b.y0 >= inner.y0 && b.y1 <= inner.y1);
            assert_eq!((b.width(), b.height()), (200, 80));
        }
    }

    #[test]
    fn tracing_fills_long_segments() {
        let flat = vec![(70.0, 100.0), (770.0, 100.0)];
        let t = trace(&[flat], 2.0);
        assert_eq!(t.len(), 351);
        assert!(t.windows(2).all(|w| (w[1].0 - w[0].0) <= 2.0 + 1e-9));
        // A box in the middle of the line's span covers it, though no vertex is inside.
        let mid = Bounds {
            x0: 300,
            y0: 90,
            x1: 400,
            y1: 110,
        };
        assert!(covered(mid, &t, 0) > 0);
    }

    #[test]
    fn a_falling_curve_leaves_the_upper_right() {
        let pts = trace(&[falling()], 2.0);
        assert_eq!(
            free_corner(PLOT, (200, 80), 10, &pts, 4),
            Some(Corner::UpperRight)
        );
    }

    #[test]
    fn a_reference_line_along_the_top_pushes_the_box_down() {
        // rbm's picture: curves rising to a flat optimum line near the top.
        let rising: Vec<(f64, f64)> = falling().iter().map(|p| (p.0, 500.0 - p.1)).collect();
        assert!(rising.last().unwrap().1 < 102.0);
        let optimum = vec![(70.0, 56.0), (770.0, 56.0)];
        let pts = trace(&[rising, optimum], 2.0);
        let c = free_corner(PLOT, (200, 80), 10, &pts, 4).unwrap();
        assert_eq!(c, Corner::LowerRight);
    }

    #[test]
    fn no_free_corner_means_outside() {
        // Flat lines along the top and the bottom (rnn-lm: ln N_x and the entropy floor).
        let lines = vec![
            vec![(70.0, 60.0), (770.0, 60.0)],
            vec![(70.0, 440.0), (770.0, 440.0)],
        ];
        let pts = trace(&lines, 2.0);
        assert_eq!(free_corner(PLOT, (200, 80), 10, &pts, 4), None);
        // A box larger than the chart never fits.
        assert_eq!(free_corner(PLOT, (800, 80), 10, &[], 4), None);
    }

    /// A small deterministic generator for the property test below.
    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn the_box_never_covers_a_point_when_a_free_corner_exists() {
        let mut s = 7u64;
        let mut free_found = 0;
        for _ in 0..500 {
            // A few random polylines with a few vertices each, anywhere in the plot.
            let lines: Vec<Vec<(f64, f64)>> = (0..1 + (lcg(&mut s) * 4.0) as usize)
                .map(|_| {
                    (0..2 + (lcg(&mut s) * 6.0) as usize)
                        .map(|_| (70.0 + 700.0 * lcg(&mut s), 50.0 + 400.0 * lcg(&mut s)))
                        .collect()
                })
                .collect();
            let pts = trace(&lines, 2.0);
            let size = (
                100 + (lcg(&mut s) * 200.0) as i32,
                40 + (lcg(&mut s) * 80.0) as i32,
            );
            let any_free = Corner::ALL
                .iter()
                .any(|c| covered(c.place(PLOT, size, 10), &pts, 4) == 0);
            match free_corner(PLOT, size, 10, &pts, 4) {
                Some(c) => {
                    free_found += 1;
                    assert_eq!(covered(c.place(PLOT, size, 10), &pts, 4), 0);
                    // The first free corner in the order of preference.
                    let first = Corner::ALL
                        .into_iter()
                        .find(|c| covered(c.place(PLOT, size, 10), &pts, 4) == 0);
                    assert_eq!(Some(c), first);
                }
                None => assert!(!any_free, "a free corner was missed"),
            }
        }
        assert!(
            free_found > 50,
            "the test exercised free corners: {free_found}"
        );
    }

    #[test]
    fn curves_on_top_of_each_other_are_found() {
        let a = falling();
        let b: Vec<(f64, f64)> = a.iter().map(|p| (p.0, p.1 + 1.0)).collect();
        assert!(lies_on(&a, &b, 2.5));
        let c: Vec<(f64, f64)> = a.iter().map(|p| (p.0, p.1 + 20.0)).collect();
        assert!(!lies_on(&a, &c, 2.5));
        // A reference line through a curve's flat tail lies on it only where they touch.
        let flat = vec![(70.0, 55.0), (770.0, 55.0)];
        assert!(!lies_on(&a, &flat, 2.5));
        // A curve that only covers half of the other's x range does not hide it.
        let half: Vec<(f64, f64)> = a[..35].to_vec();
        assert!(!lies_on(&half, &a, 2.5));
        assert!(lies_on(&a, &half, 2.5));
        assert!(!lies_on(&a, &[], 2.5) && !lies_on(&[], &a, 2.5));
        // The share of a curve near a line: the last sixth of `falling` runs along y = 400
        // (a smaller share of its trace, which is longer where the curve is steep).
        let tail = vec![(70.0, 400.0), (770.0, 400.0)];
        let s = share_near(&tail, &a, 2.5);
        assert!(s > 0.1 && s < 0.2, "{s}");
        assert_eq!(share_near(&tail, &[], 2.5), 0.0);
        assert_eq!(share_near(&[], &a, 2.5), 0.0);
    }
}
