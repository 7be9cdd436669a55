//! The notes' row-wise product ln Π_i (1 + e^{y_i}) in log space, with its σ(y_i) on the side:
//! the kernel of the exact log Z and of the model's expectations ([`crate::partition`]).
//!
//! e^x comes from [`shared::kernels::fastmath::exp_nonpositive`] (no libm call, so the loops vectorise);
//! every sum and product runs in `LANES` (8) partial results combined in a fixed order, and Rust
//! never contracts a multiply and an add on its own, so the portable build and the AVX2 /
//! AVX-512 variants chosen at run time give bit-identical results.

use shared::kernels::fastmath::exp_nonpositive;

/// `$wide`: the same code as `$base` (an `#[inline(always)]` function), compiled with
/// `$feature`; the public kernel calls the widest one the CPU has (checked at run time).
macro_rules! variant {
    ($wide:ident, $feature:literal, $base:ident, ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        fn $wide($($arg: $ty),*) -> $ret {
            $base($($arg),*)
        }
    };
}

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
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked on the line above.
            return unsafe { rows_avx512(X, n_o, s, t, sig) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked on the line above.
            return unsafe { rows_avx2(X, n_o, s, t, sig) };
        }
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

variant!(rows_avx512, "avx512f", rows_base, (X: &[f64], n_o: usize, s: &[f64], t: &mut [f64], sig: Option<&mut [f64]>) -> ());
variant!(rows_avx2, "avx2", rows_base, (X: &[f64], n_o: usize, s: &[f64], t: &mut [f64], sig: Option<&mut [f64]>) -> ());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_wide_variants_give_the_same_bits() {
        let x: Vec<f64> = (0..3000)
            .map(|i| ((i * 7919 % 2003) as f64 - 1000.0) * 0.013)
            .collect();
        let s: Vec<f64> = (0..1500).map(|i| (i % 11) as f64 * 0.3 - 1.5).collect();
        let (mut ta, mut pa) = (vec![0.0; 2], vec![0.0; 3000]);
        rows_base(&x, 1500, &s, &mut ta, Some(&mut pa));
        let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let mut checked = 0;
        for feature in ["avx2", "avx512f"] {
            let (mut tb, mut pb) = (vec![0.0; 2], vec![0.0; 3000]);
            match feature {
                // SAFETY: each variant runs only when the CPU has its feature.
                "avx2" if std::arch::is_x86_feature_detected!("avx2") => unsafe {
                    rows_avx2(&x, 1500, &s, &mut tb, Some(&mut pb))
                },
                // SAFETY: as above.
                "avx512f" if std::arch::is_x86_feature_detected!("avx512f") => unsafe {
                    rows_avx512(&x, 1500, &s, &mut tb, Some(&mut pb))
                },
                _ => continue,
            }
            assert_eq!(bits(&ta), bits(&tb), "{feature}");
            assert_eq!(bits(&pa), bits(&pb), "{feature}");
            checked += 1;
        }
        eprintln!("{checked} wide variant(s) checked");
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
            assert_eq!(*p, shared::kernels::fastmath::sigmoid(x + s));
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
