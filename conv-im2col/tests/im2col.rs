//! im2col / col2im: the notes' figure 15 numbers, shapes, an independent element-wise
//! definition, the adjoint identity ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩, and the engine's
//! `im2col_into` / `col2im_into` equal to them bit for bit.

use conv_im2col::example::{NOTES_DCOL, PIXEL, figure15};
use conv_im2col::fast::{col2im_into, im2col_into};
use conv_im2col::{Geometry, col2im, im2col};
use nalgebra::DMatrix;
use shared::rng;

/// The notes' im2col table: the first 21 of 75 columns of the 9 rows (figure 15).
const NOTES_TABLE: [[u32; 21]; 9] = [
    [
        0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 21, 22, 23, 24, 25, 28,
    ],
    [
        1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 15, 16, 17, 18, 19, 22, 23, 24, 25, 26, 29,
    ],
    [
        2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 23, 24, 25, 26, 27, 30,
    ],
    [
        7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 21, 22, 23, 24, 25, 28, 29, 30, 31, 32, 35,
    ],
    [
        8, 9, 10, 11, 12, 15, 16, 17, 18, 19, 22, 23, 24, 25, 26, 29, 30, 31, 32, 33, 36,
    ],
    [
        9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 23, 24, 25, 26, 27, 30, 31, 32, 33, 34, 37,
    ],
    [
        14, 15, 16, 17, 18, 21, 22, 23, 24, 25, 28, 29, 30, 31, 32, 35, 36, 37, 38, 39, 42,
    ],
    [
        15, 16, 17, 18, 19, 22, 23, 24, 25, 26, 29, 30, 31, 32, 33, 36, 37, 38, 39, 40, 43,
    ],
    [
        16, 17, 18, 19, 20, 23, 24, 25, 26, 27, 30, 31, 32, 33, 34, 37, 38, 39, 40, 41, 44,
    ],
];

/// col[r, k] straight from the definition, one entry at a time (no shared code with im2col).
fn im2col_by_definition(x: &DMatrix<f64>, g: &Geometry) -> DMatrix<f64> {
    let (oh, ow) = (g.oh(), g.ow());
    let n_img = x.ncols();
    DMatrix::from_fn(n_img * oh * ow, g.c * g.fh * g.fw, |r, k| {
        let (n, oy, ox) = (r / (oh * ow), (r / ow) % oh, r % ow);
        let (c, fy, fx) = (k / (g.fh * g.fw), (k / g.fw) % g.fh, k % g.fw);
        // x_padded[n, c, S·oy + fy, S·ox + fx]
        let y = (g.stride * oy + fy) as isize - g.pad as isize;
        let xx = (g.stride * ox + fx) as isize - g.pad as isize;
        if y < 0 || xx < 0 || y >= g.h as isize || xx >= g.w as isize {
            0.0
        } else {
            x[(c * g.h * g.w + y as usize * g.w + xx as usize, n)]
        }
    })
}

fn random(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let mut r = rng::seeded(seed);
    DMatrix::from_fn(rows, cols, |_, _| rng::normal(&mut r))
}

#[test]
fn figure15_shape_and_the_notes_table() {
    let f = figure15();
    assert_eq!(f.col.shape(), (9, 75));
    for (r, row) in NOTES_TABLE.iter().enumerate() {
        for (k, &v) in row.iter().enumerate() {
            assert_eq!(f.col[(r, k)], v as f64, "row {r}, column {k}");
        }
    }
    // The notes' rule: row r = (oy, ox), column k = (c, fy, fx), entry c·49 + (oy + fy)·7 + ox + fx.
    for r in 0..9 {
        for k in 0..75 {
            let (oy, ox, c, fy, fx) = (r / 3, r % 3, k / 25, (k / 5) % 5, k % 5);
            assert_eq!(f.col[(r, k)], (c * 49 + (oy + fy) * 7 + ox + fx) as f64);
        }
    }
    // Ten images: (10, 3, 7, 7) → (90, 75).
    let g = Geometry::new(3, 7, 7, 5, 5, 1, 0).unwrap();
    assert_eq!(im2col(&random(147, 10, 1), &g).shape(), (90, 75));
}

#[test]
fn figure15_pixel_22_and_its_gradient() {
    let f = figure15();
    // The six 0-based places the notes' sum adds up.
    assert_eq!(
        f.positions,
        [(0, 16), (1, 15), (3, 11), (4, 10), (6, 6), (7, 5)]
    );
    assert_eq!(f.positions.len(), NOTES_DCOL.len());
    // (−0.53) + 0.77 + 0.05 + 0.03 + 0.29 + (−0.29) = 0.32
    assert!((f.dx[PIXEL] - 0.32).abs() < 1e-12, "{}", f.dx[PIXEL]);
    // Every other pixel's gradient is 0: the six values all went to pixel 22.
    let others: f64 = (0..147)
        .filter(|&i| i != PIXEL)
        .map(|i| f.dx[i].abs())
        .sum();
    assert_eq!(others, 0.0);
    // col2im(ones): the multiplicity map of the reference sheet, the same for each channel.
    let want = [1., 2., 3., 3., 3., 2., 1.];
    for c in 0..3 {
        for y in 0..7 {
            for x in 0..7 {
                assert_eq!(f.multiplicity[c * 49 + y * 7 + x], want[y] * want[x]);
            }
        }
    }
    assert_eq!(f.multiplicity.sum(), 675.0);
    let report = f.report();
    assert!(report.contains("dx[22] = (-0.53) + 0.77 + 0.05 + 0.03 + 0.29 + (-0.29) = 0.32"));
}

#[test]
fn every_pixel_appears_where_the_rule_says() {
    // Pixel (c, y, x) sits in row oy·3 + ox, column c·25 + (y − oy)·5 + (x − ox), for every
    // oy ∈ [y − 4, y] ∩ [0, 2] and ox ∈ [x − 4, x] ∩ [0, 2].
    let f = figure15();
    for p in 0..147usize {
        let (c, y, x) = (p / 49, (p / 7) % 7, p % 7);
        let mut want = Vec::new();
        for oy in y.saturating_sub(4)..=y.min(2) {
            for ox in x.saturating_sub(4)..=x.min(2) {
                want.push((oy * 3 + ox, c * 25 + (y - oy) * 5 + (x - ox)));
            }
        }
        want.sort();
        let mut got: Vec<(usize, usize)> = (0..9)
            .flat_map(|r| (0..75).map(move |k| (r, k)))
            .filter(|&(r, k)| f.col[(r, k)] == p as f64)
            .collect();
        got.sort();
        assert_eq!(got, want, "pixel {p}");
    }
}

#[test]
fn col2im_of_a_synthetic_dcol() {
    // dcol[r, k] = 75r + k: dx[21] = 705 and dx[22] = 1638 (reference sheet, section 3).
    let g = Geometry::new(3, 7, 7, 5, 5, 1, 0).unwrap();
    let dcol = DMatrix::from_fn(9, 75, |r, k| (75 * r + k) as f64);
    let dx = col2im(&dcol, &g);
    assert_eq!(dx.shape(), (147, 1));
    assert_eq!(dx[21], 705.0);
    assert_eq!(dx[22], 1638.0);
    // col2im keeps the total: every entry lands on exactly one pixel (no padding here).
    assert_eq!(dx.sum(), dcol.sum());
}

/// (C, H, W, FH, FW, S, P, N).
type Case = (usize, usize, usize, usize, usize, usize, usize, usize);

/// Geometries with strides 1–3, pads 0–2, one and several channels, and MNIST's.
const CASES: [Case; 7] = [
    (3, 7, 7, 5, 5, 1, 0, 2),
    (2, 6, 5, 3, 2, 2, 1, 3),
    (1, 9, 8, 4, 3, 3, 2, 2),
    (2, 5, 5, 5, 5, 1, 2, 1),
    (1, 28, 28, 5, 5, 1, 0, 2),
    (1, 7, 7, 2, 2, 2, 0, 2),
    (3, 5, 7, 3, 3, 2, 2, 4),
];

#[test]
fn im2col_matches_its_definition_with_stride_and_pad() {
    for (i, &(c, h, w, fh, fw, s, p, n)) in CASES.iter().enumerate() {
        let g = Geometry::new(c, h, w, fh, fw, s, p).unwrap();
        let x = random(g.input_len(), n, 10 + i as u64);
        let col = im2col(&x, &g);
        assert_eq!(col.shape(), (n * g.oh() * g.ow(), c * fh * fw), "case {i}");
        assert_eq!(col, im2col_by_definition(&x, &g), "case {i}: {g:?}");
    }
}

#[test]
fn col2im_is_the_adjoint_of_im2col() {
    // ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ for random x and y, with strides and padding.
    let cases = [
        (3, 7, 7, 5, 5, 1, 0, 2),
        (2, 6, 5, 3, 2, 2, 1, 3),
        (1, 9, 8, 4, 3, 3, 2, 2),
        (3, 5, 7, 3, 3, 2, 2, 4),
        (2, 8, 8, 2, 2, 2, 0, 3),
    ];
    for (i, &(c, h, w, fh, fw, s, p, n)) in cases.iter().enumerate() {
        let g = Geometry::new(c, h, w, fh, fw, s, p).unwrap();
        let x = random(g.input_len(), n, 100 + i as u64);
        let y = random(n * g.windows(), g.taps(), 200 + i as u64);
        let lhs = im2col(&x, &g).dot(&y);
        let rhs = x.dot(&col2im(&y, &g));
        assert!(
            (lhs - rhs).abs() < 1e-12 * (1.0 + lhs.abs()),
            "case {i}: {lhs} vs {rhs}"
        );
        assert!(lhs.abs() > 1e-3, "case {i}: a non-trivial product");
    }
}

#[test]
fn col2im_adds_overlaps_it_does_not_invert() {
    // With stride 1 and overlapping windows col2im(im2col(x)) = x ∘ multiplicity ≠ x.
    let g = Geometry::new(2, 6, 6, 3, 3, 1, 1).unwrap();
    let x = random(g.input_len(), 2, 7);
    let back = col2im(&im2col(&x, &g), &g);
    let ones = DMatrix::from_element(g.input_len(), 2, 1.0);
    let mult = col2im(&im2col(&ones, &g), &g);
    assert!((back - x.component_mul(&mult)).amax() < 1e-14 * x.amax() * 9.0);
    assert_eq!(mult[0], 4.0); // a corner pixel is seen by 4 windows of a 3×3 with pad 1
    assert_eq!(mult[7], 9.0); // an inner one by 9
}

#[test]
fn the_engines_im2col_into_and_col2im_into_are_these_bit_for_bit() {
    let (mut col, mut dx) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    for (i, &(c, h, w, fh, fw, s, p, n)) in CASES.iter().enumerate() {
        let g = Geometry::new(c, h, w, fh, fw, s, p).unwrap();
        let x = random(g.input_len(), n, 300 + i as u64);
        // The buffers are reused across cases of other shapes: resized, fully overwritten.
        im2col_into(&x, &g, &mut col);
        assert_eq!(col, im2col(&x, &g), "case {i}: {g:?}");
        let y = random(n * g.windows(), g.taps(), 400 + i as u64);
        col2im_into(&y, &g, &mut dx);
        assert_eq!(dx, col2im(&y, &g), "case {i}: {g:?}");
    }
}
