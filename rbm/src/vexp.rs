//! e^x for x ≤ 0 written so that loops over it vectorise (libm's `exp` is one call per
//! value, about 3 ns; the sums of the exact log Z and every σ(·) of CD are made of them), and
//! the RBM's element-wise kernels built on it: σ over a matrix, and the notes' row-wise product
//! ln Π_i (1 + e^{y_i}) in log space.
//!
//! Every kernel is plain IEEE arithmetic (no FMA contraction, explicit accumulation order), so
//! the SSE2 build and the AVX2 variant chosen at run time give bit-identical results.

/// log₂ e.
const LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split in two (Cody–Waite, fdlibm's constants): HI has its low 21 mantissa bits zero,
/// so k·HI is exact for |k| < 2^11; HI + LO carries ln 2 to about 2^−86.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
/// 1.5 · 2^52: adding it rounds a double of magnitude < 2^51 to an integer held in the low
/// mantissa bits.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// Below this e^x is under 2^−1021: the kernels add it to 1 or divide by 1 + it, so it is
/// taken as e^−708 ≈ 3.3e−308 (no subnormals, no special cases).
const MIN_ARG: f64 = -708.0;

/// e^x for x ≤ 0 (x < −708 is taken as −708), to within 2 ulp of the exact value.
///
/// e^x = 2^k · e^r with k = round(x / ln 2) and r = x − k ln 2 in [−ln 2/2, ln 2/2]; e^r by its
/// Taylor series to r^13 (truncation below 1e−17 relative), 2^k by writing k + 1023 into the
/// exponent bits.
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    let x = x.max(MIN_ARG);
    let t = x * LOG2E + ROUND; // low bits of t: k = round(x log₂ e), in [−1022, 0]
    let k = t - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // e^r = 1 + r + r²/2! + … + r^13/13!, Horner
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 2^k: the exponent field k + 1023 (in 1..=1023), from the low 12 bits of t.
    let two_k = f64::from_bits((t.to_bits().wrapping_add(1023)) << 52);
    p * two_k
}

/// σ(x) = 1 / (1 + e^{−x}) from e = e^{−|x|}: 1 / (1 + e) for x ≥ 0, e / (1 + e) below.
#[inline(always)]
pub fn sigmoid(x: f64) -> f64 {
    let e = exp_nonpositive(-x.abs());
    let num = if x >= 0.0 { 1.0 } else { e };
    num / (1.0 + e)
}

/// `$avx2`: the same code as `$base` (an `#[inline(always)]` function), compiled for AVX2; the
/// public kernels call it when the CPU has AVX2 (checked at run time), else `$base`.
macro_rules! dispatch {
    ($avx2:ident, $base:ident, ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $avx2($($arg: $ty),*) -> $ret {
            $base($($arg),*)
        }
    };
}

/// x ← σ(x) for every entry (the CD sampler's probabilities).
pub fn sigmoid_mut(x: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { sigmoid_avx2(x) };
        return;
    }
    sigmoid_base(x)
}

#[inline(always)]
fn sigmoid_base(x: &mut [f64]) {
    for v in x.iter_mut() {
        *v = sigmoid(*v);
    }
}

dispatch!(sigmoid_avx2, sigmoid_base, (x: &mut [f64]) -> ());

/// M ← σ(M) entrywise for a matrix or a view of whole columns (one dispatch for all columns).
pub fn sigmoid_matrix<S>(M: &mut Matrix<f64, Dyn, Dyn, S>)
where
    S: RawStorageMut<f64, Dyn, Dyn, RStride = U1>,
{
    #[inline(always)]
    fn body<S: RawStorageMut<f64, Dyn, Dyn, RStride = U1>>(M: &mut Matrix<f64, Dyn, Dyn, S>) {
        for mut col in M.column_iter_mut() {
            sigmoid_base(col.as_mut_slice());
        }
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn body_avx2<S: RawStorageMut<f64, Dyn, Dyn, RStride = U1>>(M: &mut Matrix<f64, Dyn, Dyn, S>) {
        body(M)
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { body_avx2(M) };
        return;
    }
    body(M)
}

use nalgebra::{Dyn, Matrix, RawStorageMut, U1};

/// Lanes of the kernels' independent partial sums and products (explicit, so the order of
/// the floating-point operations is fixed whatever the vector width).
const LANES: usize = 8;

/// Factors 1 + e^{−|y|} ≤ 2 multiplied before taking one log: 2^1000 < f64::MAX.
pub const PRODUCT_RUN: usize = 1000;

/// Σ_o softplus(x_o + s_o) = ln Π_o (1 + e^{x_o + s_o}) for one column, the notes' row-wise
/// product in log space: Σ_o max(y_o, 0) + ln Π_o (1 + e^{−|y_o|}). Each factor of the second
/// product lies in (1, 2], so a run of [`PRODUCT_RUN`] of them cannot overflow: one vectorised
/// exp per unit and one log per run.
pub fn log_row_product(x: &[f64], s: &[f64]) -> f64 {
    let mut t = [0.0];
    log_row_products(x, x.len(), s, &mut t, None);
    t[0]
}

/// y ← x + s, e ← e^{−|y|} (element-wise: these loops vectorise).
#[inline(always)]
fn shifted_exp(x: &[f64], s: &[f64], y: &mut [f64], e: &mut [f64]) {
    for ((y, x), s) in y.iter_mut().zip(x).zip(s) {
        *y = x + s;
    }
    for (e, y) in e.iter_mut().zip(y.iter()) {
        *e = exp_nonpositive(-y.abs());
    }
}

/// Σ_o max(y_o, 0) + ln Π_o (1 + e_o): LANES partial sums and products in a fixed order (so
/// they vectorise and give the same bits at any width), one log per run of [`PRODUCT_RUN`].
#[inline(always)]
fn softplus_sum(y: &[f64], e: &[f64]) -> f64 {
    let mut total = 0.0;
    for (yr, er) in y.chunks(PRODUCT_RUN).zip(e.chunks(PRODUCT_RUN)) {
        let (mut lin, mut prod) = ([0.0; LANES], [1.0; LANES]);
        let (yc, ec) = (yr.chunks_exact(LANES), er.chunks_exact(LANES));
        let (y_rest, e_rest) = (yc.remainder(), ec.remainder());
        for (yl, el) in yc.zip(ec) {
            for l in 0..LANES {
                lin[l] += yl[l].max(0.0);
                prod[l] *= 1.0 + el[l];
            }
        }
        for l in 0..y_rest.len() {
            lin[l] += y_rest[l].max(0.0);
            prod[l] *= 1.0 + e_rest[l];
        }
        let (mut l_sum, mut p_all) = (0.0, 1.0);
        for l in 0..LANES {
            l_sum += lin[l];
            p_all *= prod[l];
        }
        total += l_sum + p_all.ln();
    }
    total
}

/// [`log_row_product`] for every column of a table: t_c = Σ_o softplus(X[o, c] + s_o) for the
/// columns of `X` (column-major, `n_o` rows), into `t`; with `sig`, σ(X[o, c] + s_o) into it
/// (same layout as `X`), from the same e^{−|y|}.
pub fn log_row_products(X: &[f64], n_o: usize, s: &[f64], t: &mut [f64], sig: Option<&mut [f64]>) {
    assert!(n_o > 0 && X.len() == n_o * t.len() && s.len() == n_o);
    assert!(sig.as_ref().is_none_or(|p| p.len() == X.len()));
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { rows_avx2(X, n_o, s, t, sig) };
        return;
    }
    rows_base(X, n_o, s, t, sig)
}

#[inline(always)]
fn rows_base(X: &[f64], n_o: usize, s: &[f64], t: &mut [f64], mut sig: Option<&mut [f64]>) {
    let (mut y, mut e) = (vec![0.0; n_o], vec![0.0; n_o]);
    for (c, (tc, x)) in t.iter_mut().zip(X.chunks_exact(n_o)).enumerate() {
        shifted_exp(x, s, &mut y, &mut e);
        if let Some(sig) = sig.as_deref_mut() {
            // σ(y) = 1 / (1 + e) for y ≥ 0, e / (1 + e) below
            let p = &mut sig[c * n_o..(c + 1) * n_o];
            for ((p, y), e) in p.iter_mut().zip(&y).zip(&e) {
                *p = if *y >= 0.0 { 1.0 } else { *e } / (1.0 + e);
            }
        }
        *tc = softplus_sum(&y, &e);
    }
}

dispatch!(rows_avx2, rows_base, (X: &[f64], n_o: usize, s: &[f64], t: &mut [f64], sig: Option<&mut [f64]>) -> ());

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut worst = 0;
        for k in 0..=200_000 {
            let x = -708.0 * (k as f64 / 200_000.0).powi(3); // dense near 0, down to −708
            worst = worst.max(ulps(exp_nonpositive(x), x.exp()));
        }
        for x in [
            0.0, -0.0, -1e-300, -1e-17, -0.3465, -0.3466, -0.5, -1.0, -700.0, -708.0,
        ] {
            worst = worst.max(ulps(exp_nonpositive(x), x.exp()));
        }
        assert!(worst <= 2, "worst {worst} ulp");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(
            exp_nonpositive(-1e5),
            (-708f64).exp().max(exp_nonpositive(-708.0))
        );
        assert!(exp_nonpositive(f64::NEG_INFINITY) > 0.0);
    }

    #[test]
    fn sigmoid_matches_the_definition() {
        for k in -4000..=4000 {
            let x = k as f64 * 0.01;
            let want = 1.0 / (1.0 + (-x).exp());
            assert!(
                (sigmoid(x) - want).abs() <= 4.0 * f64::EPSILON * want,
                "{x}"
            );
        }
        assert_eq!(sigmoid(800.0), 1.0);
        assert!(sigmoid(-800.0) < 1e-300);
        let mut v = vec![-3.0, 0.0, 2.5, 40.0];
        sigmoid_mut(&mut v);
        assert_eq!(v, [sigmoid(-3.0), 0.5, sigmoid(2.5), sigmoid(40.0)]);
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_avx2_variants_give_the_same_bits() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let x: Vec<f64> = (0..3000)
            .map(|i| ((i * 7919 % 2003) as f64 - 1000.0) * 0.013)
            .collect();
        let s: Vec<f64> = (0..1500).map(|i| (i % 11) as f64 * 0.3 - 1.5).collect();
        let (mut a, mut b) = (x.clone(), x.clone());
        sigmoid_base(&mut a);
        // SAFETY: AVX2 checked above.
        unsafe { sigmoid_avx2(&mut b) };
        assert!(a.iter().zip(&b).all(|(a, b)| a.to_bits() == b.to_bits()));
        let (mut ta, mut tb) = (vec![0.0; 2], vec![0.0; 2]);
        let (mut pa, mut pb) = (vec![0.0; 3000], vec![0.0; 3000]);
        rows_base(&x, 1500, &s, &mut ta, Some(&mut pa));
        // SAFETY: AVX2 checked above.
        unsafe { rows_avx2(&x, 1500, &s, &mut tb, Some(&mut pb)) };
        assert_eq!(
            ta.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            tb.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert!(pa.iter().zip(&pb).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn row_products_are_sums_of_softplus_and_give_sigma() {
        // 2500 units: three runs of the product, lanes with a remainder.
        let x: Vec<f64> = (0..2500)
            .map(|i| ((i * 37 % 101) as f64 - 50.0) * 0.7)
            .collect();
        let s: Vec<f64> = (0..2500).map(|i| (i % 7) as f64 - 3.0).collect();
        let want: f64 = x.iter().zip(&s).map(|(x, s)| crate::softplus(x + s)).sum();
        let mut sig = vec![0.0; 2500];
        let mut got = [0.0];
        log_row_products(&x, 2500, &s, &mut got, Some(&mut sig));
        let got = got[0];
        assert_eq!(got, log_row_product(&x, &s));
        assert!((got - want).abs() < 1e-12 * want.abs(), "{got} {want}");
        for ((x, s), p) in x.iter().zip(&s).zip(&sig) {
            assert_eq!(*p, sigmoid(x + s));
        }
        // The table form, column by column, equals the single-column form.
        let X: Vec<f64> = x[..2496].to_vec(); // 3 columns of 832
        let mut t = vec![0.0; 3];
        log_row_products(&X, 832, &s[..832], &mut t, None);
        for c in 0..3 {
            assert_eq!(t[c], log_row_product(&X[c * 832..(c + 1) * 832], &s[..832]));
        }
    }
}
