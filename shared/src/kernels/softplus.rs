//! Sums of softplus over binary configurations: the exact partition function of a layer of
//! binary units whose partner layer is summed in closed form (a restricted Boltzmann machine's
//! log Z and the model expectations of its gradient).
//!
//! For M (n_o × n_s) and biases c_s (n_s × 1), c_o (n_o × 1), with p(s, o) ∝
//! exp(c_sᵀ s + c_oᵀ o + oᵀ M s) over binary s and o:
//!
//! log Z = log Σ_{s ∈ {0,1}^{n_s}} exp(c_sᵀ s + Σ_o softplus(c_o + M s)_o),
//!
//! because for each s the sum over the 2^{n_o} configurations of o is a product:
//! Σ_o e^{oᵀ y} = Π_o (1 + e^{y_o}), whose logarithm is Σ_o softplus(y_o) (the notes' "row-wise
//! product", taken in log space so that it cannot overflow).
//!
//! | kernel | computes | plain reference |
//! |---|---|---|
//! | [`log_row_products`] | t_c = Σ_o softplus(X[o, c] + s_o) for every column c, and σ(X[o, c] + s_o) | [`log_row_products_ref`] |
//! | [`log_partition`] | log Z above, the configurations in blocks | [`log_partition_ref`] |
//! | [`partition_expectations`] | log Z, ⟨s⟩, ⟨o⟩ and ⟨o sᵀ⟩ under p(s, o) | [`partition_expectations_ref`] |
//!
//! How the fast forms go: e^x comes from [`exp_nonpositive`] (no libm call, so the loops
//! vectorise); ln Π_o (1 + e^{y_o}) is Σ_o max(y_o, 0) + ln Π_o (1 + e^{−|y_o|}), whose factors
//! lie in (1, 2], so [`PRODUCT_RUN`] of them are multiplied before one logarithm; every sum and
//! product runs in 8 partial results combined in a fixed order, so the AVX-512, AVX2 and
//! baseline builds (one `multiversion` dispatch) give the same bits. The configurations of s
//! are split into "high" units enumerated one configuration g at a time and "low" units whose
//! 2^low configurations form one table X_low = M_low S_low, made by one GEMM and kept small
//! enough for the L2 cache; each g shifts every column of the table by c_o + M_high g.

#![allow(non_snake_case)]

use super::fastmath::exp_nonpositive;
use super::{gemm, gemm_nt};
use multiversion::multiversion;
use nalgebra::{DMatrix, DMatrixView};

/// Lanes of the independent partial sums and products (explicit, so the order of the
/// floating-point operations is fixed whatever the vector width).
const LANES: usize = 8;

/// Factors 1 + e^{−|y|} ≤ 2 multiplied before taking one log: 2^1000 < f64::MAX.
pub const PRODUCT_RUN: usize = 1000;

/// Size (in f64) of the table that one block of configurations reuses: 128 KB, so it stays in
/// the L2 cache (a 512 KB table, 2^10 columns of 64 units, made the sum at n_s = 20 2.3× slower).
const TABLE_DOUBLES: usize = 16_384;

/// Largest layer [`log_partition`] and [`partition_expectations`] enumerate (2^30 ≈ 10⁹
/// configurations; about 20 is practical).
pub const MAX_ENUMERATED: usize = 30;

/// Σ_o softplus(x_o + s_o) = ln Π_o (1 + e^{x_o + s_o}) for one column: [`log_row_products`]
/// with one column.
pub fn log_row_product(x: &[f64], s: &[f64]) -> f64 {
    let mut t = [0.0];
    log_row_products(x, x.len(), s, &mut t, None);
    t[0]
}

/// t_c = Σ_o softplus(X[o, c] + s_o) for every column c of a table `X` (column-major, `n_o`
/// rows, `t.len()` columns), computed as Σ_o max(y_o, 0) + ln Π_o (1 + e^{−|y_o|}) with one
/// vectorised e^x per entry and one log per [`PRODUCT_RUN`] entries; with `sig`, also
/// σ(X[o, c] + s_o) into it (same layout as `X`), from the same e^{−|y|}.
pub fn log_row_products(X: &[f64], n_o: usize, s: &[f64], t: &mut [f64], sig: Option<&mut [f64]>) {
    assert!(n_o > 0 && X.len() == n_o * t.len() && s.len() == n_o);
    assert!(sig.as_ref().is_none_or(|p| p.len() == X.len()));
    rows(X, n_o, s, t, sig);
}

#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn rows(X: &[f64], n_o: usize, s: &[f64], t: &mut [f64], sig: Option<&mut [f64]>) {
    rows_body(X, n_o, s, t, sig)
}

#[inline(always)]
fn rows_body(X: &[f64], n_o: usize, s: &[f64], t: &mut [f64], mut sig: Option<&mut [f64]>) {
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

/// The reference of [`log_row_products`]: each softplus on its own through libm,
/// ln(1 + e^{−|y|}) + max(y, 0), and σ(y) = 1 / (1 + e^{−y}).
pub fn log_row_products_ref(
    X: &[f64],
    n_o: usize,
    s: &[f64],
    t: &mut [f64],
    mut sig: Option<&mut [f64]>,
) {
    for (c, tc) in t.iter_mut().enumerate() {
        *tc = 0.0;
        for o in 0..n_o {
            let y = X[c * n_o + o] + s[o];
            *tc += y.max(0.0) + (-y.abs()).exp().ln_1p();
            if let Some(sig) = sig.as_deref_mut() {
                sig[c * n_o + o] = 1.0 / (1.0 + (-y).exp());
            }
        }
    }
}

/// The block layout shared by [`log_partition`] and [`partition_expectations`] for M
/// n_o × n_s: the units of s split into `high` ones (enumerated one configuration g at a time)
/// and `low` ones, whose 2^low configurations make one table reused for every g.
struct Blocks<'a> {
    /// n_o × n_s, and the two layers' biases (n_s × 1, n_o × 1).
    M: &'a DMatrix<f64>,
    c_s: &'a DMatrix<f64>,
    c_o: &'a DMatrix<f64>,
    /// Units of s enumerated in the outer loop (the first ones).
    high: usize,
    /// Units of s in the table (the last ones).
    low: usize,
    /// low × 2^low: the low units' configurations as columns (unit 0 most significant).
    S_low: DMatrix<f64>,
    /// n_o × 2^low: X_low = M[:, high..] S_low (for an RBM summed over h: the notes' stacked
    /// rows HᵀW, for the low units, as columns).
    X_low: DMatrix<f64>,
    /// 2^low: c_sᵀ s for the low part of each configuration.
    bias_low: Vec<f64>,
}

impl<'a> Blocks<'a> {
    fn new(M: &'a DMatrix<f64>, c_s: &'a DMatrix<f64>, c_o: &'a DMatrix<f64>) -> Blocks<'a> {
        let (n_o, n_s) = M.shape();
        assert!(
            n_s <= MAX_ENUMERATED,
            "2^{n_s} configurations is too many to enumerate"
        );
        assert_eq!((c_s.shape(), c_o.shape()), ((n_s, 1), (n_o, 1)));
        // 2^low columns of n_o values fill at most TABLE_DOUBLES (n_o = 64: low = 8).
        let fit = (TABLE_DOUBLES / n_o.max(1)).max(2).ilog2() as usize;
        let low = n_s.min(fit);
        let high = n_s - low;
        let S_low = DMatrix::from_fn(low, 1 << low, |j, c| ((c >> (low - 1 - j)) & 1) as f64);
        // X_low = M[:, high..] S_low   (n_o × 2^low)
        let mut X_low = DMatrix::zeros(n_o, S_low.ncols());
        gemm(1.0, &M.columns(high, low), &S_low, 0.0, &mut X_low);
        let bias_low = (0..S_low.ncols())
            .map(|c| c_s.rows(high, low).column(0).dot(&S_low.column(c)))
            .collect();
        Blocks {
            M,
            c_s,
            c_o,
            high,
            low,
            S_low,
            X_low,
            bias_low,
        }
    }

    /// Whether high unit j is on in configuration g of the high units (unit 0 most significant).
    fn bit(&self, g: usize, j: usize) -> bool {
        (g >> (self.high - 1 - j)) & 1 == 1
    }

    /// shift ← c_o + M_high g (n_o), returning c_sᵀ g for the high part of s.
    fn shift(&self, g: usize, shift: &mut [f64]) -> f64 {
        shift.copy_from_slice(self.c_o.as_slice());
        let mut bias_g = 0.0;
        for j in (0..self.high).filter(|&j| self.bit(g, j)) {
            shift
                .iter_mut()
                .zip(self.M.column(j).iter())
                .for_each(|(s, w)| *s += w);
            bias_g += self.c_s[j];
        }
        bias_g
    }

    /// The table's log row products for configuration g of the high units, into t (2^low):
    /// t_c = c_sᵀ s + Σ_o softplus(X_low[o, c] + shift_o), with σ of the same sums into `sig`.
    fn log_rows(&self, bias_g: f64, shift: &[f64], t: &mut [f64], sig: Option<&mut [f64]>) {
        // X_low is column-major: column c, one configuration, is contiguous
        let n_o = self.X_low.nrows();
        log_row_products(self.X_low.as_slice(), n_o, shift, t, sig);
        for (tc, bl) in t.iter_mut().zip(&self.bias_low) {
            *tc += bias_g + bl; // + c_sᵀ s
        }
    }
}

/// log Σ_{s ∈ {0,1}^{n_s}} exp(c_sᵀ s + Σ_o softplus(c_o + M s)_o) for M n_o × n_s
/// (n_s ≤ [`MAX_ENUMERATED`]): the log partition function summed over the layer s, in closed
/// form over o. The configurations run in blocks (see the module doc); the blocks' terms are
/// combined by a running logsumexp.
pub fn log_partition(M: &DMatrix<f64>, c_s: &DMatrix<f64>, c_o: &DMatrix<f64>) -> f64 {
    let b = Blocks::new(M, c_s, c_o);
    let mut shift = vec![0.0; M.nrows()]; // c_o + M_high g   (n_o)
    let mut t = vec![0.0; b.S_low.ncols()];
    let (mut m, mut acc) = (f64::NEG_INFINITY, 0.0); // log Σ = m + ln acc
    for g in 0..(1usize << b.high) {
        let bias_g = b.shift(g, &mut shift);
        b.log_rows(bias_g, &shift, &mut t, None);
        let block_max = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if block_max > m {
            acc *= (m - block_max).exp();
            m = block_max;
        }
        acc += t.iter().map(|&x| exp_nonpositive(x - m)).sum::<f64>(); // x ≤ m
    }
    m + acc.ln()
}

/// What [`partition_expectations`] returns, in the layers' roles (s summed over, o in closed
/// form), under p(s, o) = exp(c_sᵀ s + c_oᵀ o + oᵀ M s) / Z.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectations {
    /// log Z.
    pub log_z: f64,
    /// n_s × 1: ⟨s⟩.
    pub s: DMatrix<f64>,
    /// n_o × 1: ⟨o⟩.
    pub o: DMatrix<f64>,
    /// n_o × n_s: ⟨o sᵀ⟩.
    pub os: DMatrix<f64>,
}

/// log Z, ⟨s⟩, ⟨o⟩ and ⟨o sᵀ⟩, exact, enumerating s as [`log_partition`] does. Given s the
/// units of o are independent, p(o = 1 | s) = σ(c_o + M s), so ⟨o sᵀ⟩ = Σ_s p(s) σ(c_o + M s) sᵀ
/// with p(s) = exp(c_sᵀ s + Σ_o softplus(c_o + M s)_o − log Z).
///
/// One pass in blocks: each block's unnormalised weights w_s = e^{t_s − m} against the running
/// maximum m, the accumulators rescaled when m grows; ⟨o sᵀ⟩ of a block is one GEMM,
/// σ(·)·diag(w) times the low units' configurations.
pub fn partition_expectations(
    M: &DMatrix<f64>,
    c_s: &DMatrix<f64>,
    c_o: &DMatrix<f64>,
) -> Expectations {
    let (n_o, n_s) = M.shape();
    let b = Blocks::new(M, c_s, c_o);
    let (high, low, n_low) = (b.high, b.low, b.S_low.ncols());
    let mut P = DMatrix::zeros(n_o, n_low); // σ(c_o + M s) of the block, then × w_s
    let mut t = vec![0.0; n_low]; // c_sᵀ s + Σ_o softplus(c_o + M s)_o
    let mut shift = vec![0.0; n_o]; // c_o + M_high g
    let mut Po = DMatrix::zeros(n_o, 1); // Σ_s w_s σ(c_o + M s) of the block
    let mut sum = Expectations {
        log_z: 0.0,
        s: DMatrix::zeros(n_s, 1),
        o: DMatrix::zeros(n_o, 1),
        os: DMatrix::zeros(n_o, n_s),
    };
    let (mut m, mut total) = (f64::NEG_INFINITY, 0.0); // Z = e^m · total
    for g in 0..(1usize << high) {
        let bias_g = b.shift(g, &mut shift);
        // t_c and P[:, c] = σ(y), y = c_o + M s, from the same e^{−|y|}
        b.log_rows(bias_g, &shift, &mut t, Some(P.as_mut_slice()));
        let block_max = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if block_max > m {
            let r = (m - block_max).exp(); // 0 on the first block
            total *= r;
            sum.s.apply(|x| *x *= r);
            sum.o.apply(|x| *x *= r);
            sum.os.apply(|x| *x *= r);
            m = block_max;
        }
        // w_s = e^{t_s − m} (into t); P ← P diag(w)
        let mut w_block = 0.0;
        for (tc, mut col) in t.iter_mut().zip(P.column_iter_mut()) {
            *tc = exp_nonpositive(*tc - m); // t ≤ m
            w_block += *tc;
            col *= *tc;
        }
        total += w_block;
        Po.fill(0.0);
        for col in P.column_iter() {
            Po.column_mut(0).axpy(1.0, &col, 1.0);
        }
        sum.o += &Po;
        // high units: constant g in the block: ⟨o s_jᵀ⟩ += Po, ⟨s_j⟩ += Σ w
        for j in (0..high).filter(|&j| b.bit(g, j)) {
            sum.os.column_mut(j).axpy(1.0, &Po.column(0), 1.0);
            sum.s[j] += w_block;
        }
        // low units: ⟨o sᵀ⟩ += P diag(w) S_lowᵀ, ⟨s⟩ += S_low w
        gemm_nt(1.0, &P, &b.S_low, 1.0, &mut sum.os.columns_mut(high, low));
        let w = DMatrixView::from_slice(&t, n_low, 1);
        gemm(1.0, &b.S_low, &w, 1.0, &mut sum.s.rows_mut(high, low));
    }
    let inv = 1.0 / total;
    sum.s *= inv;
    sum.o *= inv;
    sum.os *= inv;
    sum.log_z = m + total.ln();
    sum
}

/// Every configuration s (n_s × 1, unit 0 most significant) with y = c_o + M s and the log of
/// its unnormalised probability c_sᵀ s + Σ_o softplus(y_o), through libm: the references'
/// enumeration.
fn terms_ref(
    M: &DMatrix<f64>,
    c_s: &DMatrix<f64>,
    c_o: &DMatrix<f64>,
) -> Vec<(DMatrix<f64>, DMatrix<f64>, f64)> {
    let n_s = M.ncols();
    (0..1usize << n_s)
        .map(|k| {
            let s = DMatrix::from_fn(n_s, 1, |j, _| ((k >> (n_s - 1 - j)) & 1) as f64);
            let y = M * &s + c_o;
            let softplus: f64 = y
                .iter()
                .map(|y| y.max(0.0) + (-y.abs()).exp().ln_1p())
                .sum();
            let log_weight = c_s.dot(&s) + softplus;
            (s, y, log_weight)
        })
        .collect()
}

/// log Σ_k e^{t_k} with the largest term factored out.
fn logsumexp_ref(t: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = t.clone().fold(f64::NEG_INFINITY, f64::max);
    max + t.map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// The reference of [`log_partition`]: one configuration at a time, libm's exp and ln.
pub fn log_partition_ref(M: &DMatrix<f64>, c_s: &DMatrix<f64>, c_o: &DMatrix<f64>) -> f64 {
    logsumexp_ref(terms_ref(M, c_s, c_o).iter().map(|term| term.2))
}

/// The reference of [`partition_expectations`]: one configuration at a time,
/// p(s) = e^{t_s − log Z}, ⟨s⟩ = Σ p(s) s, ⟨o⟩ = Σ p(s) σ(y), ⟨o sᵀ⟩ = Σ p(s) σ(y) sᵀ.
pub fn partition_expectations_ref(
    M: &DMatrix<f64>,
    c_s: &DMatrix<f64>,
    c_o: &DMatrix<f64>,
) -> Expectations {
    let (n_o, n_s) = M.shape();
    let terms = terms_ref(M, c_s, c_o);
    let log_z = logsumexp_ref(terms.iter().map(|term| term.2));
    let mut e = Expectations {
        log_z,
        s: DMatrix::zeros(n_s, 1),
        o: DMatrix::zeros(n_o, 1),
        os: DMatrix::zeros(n_o, n_s),
    };
    for (s, y, log_weight) in &terms {
        let p = (log_weight - log_z).exp();
        let sigma_y = y.map(|y| 1.0 / (1.0 + (-y).exp()));
        e.s += s * p;
        e.o += &sigma_y * p;
        e.os += &sigma_y * s.transpose() * p;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|v| v.to_bits()).collect()
    }

    /// A deterministic n_o × n_s table and biases of size `scale`.
    fn layer(n_o: usize, n_s: usize, scale: f64) -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
        let M = DMatrix::from_fn(n_o, n_s, |o, s| {
            ((o * 31 + s * 17) as f64 * 0.61).sin() * scale
        });
        let c_s = DMatrix::from_fn(n_s, 1, |s, _| (s as f64 * 1.3).cos() * scale);
        let c_o = DMatrix::from_fn(n_o, 1, |o, _| (o as f64 * 0.7).sin() * scale - 0.2);
        (M, c_s, c_o)
    }

    /// max |a − b| / max |b|.
    fn rel(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        assert_eq!(a.shape(), b.shape());
        (a - b).amax() / b.amax()
    }

    #[test]
    fn row_products_equal_the_reference_and_every_path_gives_the_same_bits() {
        // 2500 units: three runs of the product, lanes with a remainder; and 3 columns of 832.
        for (n_o, cols) in [(2500, 1), (832, 3), (12, 40), (1, 5)] {
            let X: Vec<f64> = (0..n_o * cols)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) * 0.7)
                .collect();
            let s: Vec<f64> = (0..n_o).map(|i| (i % 7) as f64 - 3.0).collect();
            let (mut t, mut sig) = (vec![0.0; cols], vec![0.0; n_o * cols]);
            log_row_products(&X, n_o, &s, &mut t, Some(&mut sig));
            let (mut t_ref, mut sig_ref) = (vec![0.0; cols], vec![0.0; n_o * cols]);
            log_row_products_ref(&X, n_o, &s, &mut t_ref, Some(&mut sig_ref));
            // ln Π (1 + e^{−|y|}) is exact to rounding in absolute terms: a sum of tiny
            // softplus values (y ≪ 0) keeps its absolute, not its relative, accuracy.
            for (got, want) in t.iter().zip(&t_ref) {
                assert!(
                    (got - want).abs() <= 1e-13 * want.abs().max(1.0),
                    "{got} {want}"
                );
            }
            for (got, want) in sig.iter().zip(&sig_ref) {
                assert!(
                    (got - want).abs() <= 4.0 * f64::EPSILON * want,
                    "{got} {want}"
                );
                assert!(*got > 0.0 || *want < 1e-300);
            }
            // The dispatched kernel and its inline body (the baseline build) agree bit for bit,
            // and σ is fastmath's σ exactly.
            let (mut t_body, mut sig_body) = (vec![0.0; cols], vec![0.0; n_o * cols]);
            rows_body(&X, n_o, &s, &mut t_body, Some(&mut sig_body));
            assert_eq!(bits(&t), bits(&t_body));
            assert_eq!(bits(&sig), bits(&sig_body));
            for (c, x) in X.chunks(n_o).enumerate() {
                let y = |o: usize| x[o] + s[o];
                assert!(
                    (0..n_o).all(|o| sig[c * n_o + o] == super::super::fastmath::sigmoid(y(o)))
                );
                assert_eq!(t[c], log_row_product(x, &s));
            }
            // Without σ the sums are the same.
            let mut t_only = vec![0.0; cols];
            log_row_products(&X, n_o, &s, &mut t_only, None);
            assert_eq!(bits(&t), bits(&t_only));
        }
    }

    #[test]
    fn large_sums_stay_finite() {
        // 2000 units at y = 1: ln Π (1 + e) = 2000 ln(1 + e), where Π overflows f64.
        let x = vec![1.0; 2000];
        let got = log_row_product(&x, &vec![0.0; 2000]);
        let want = 2000.0 * 1f64.exp().ln_1p();
        assert!((got - want).abs() <= 1e-12 * want, "{got} {want}");
    }

    #[test]
    fn log_partition_equals_the_reference_in_one_block_and_in_many() {
        // n_o = 64: blocks of 2^8 configurations; n_o = 400: 2^5 (so 2^9 takes 16 blocks);
        // n_o = 3: everything in one block.
        for (n_o, n_s, scale) in [(64, 11, 0.5), (400, 9, 0.3), (3, 6, 2.0), (5, 1, 1.0)] {
            let (M, c_s, c_o) = layer(n_o, n_s, scale);
            let got = log_partition(&M, &c_s, &c_o);
            let want = log_partition_ref(&M, &c_s, &c_o);
            assert!((got - want).abs() <= 1e-13 * want.abs(), "{got} {want}");
        }
    }

    #[test]
    fn expectations_equal_the_reference_in_one_block_and_in_many() {
        for (n_o, n_s, scale) in [(64, 11, 0.5), (400, 9, 0.3), (3, 6, 2.0)] {
            let (M, c_s, c_o) = layer(n_o, n_s, scale);
            let got = partition_expectations(&M, &c_s, &c_o);
            let want = partition_expectations_ref(&M, &c_s, &c_o);
            assert!((got.log_z - want.log_z).abs() <= 1e-13 * want.log_z.abs());
            assert_eq!(got.log_z, log_partition(&M, &c_s, &c_o));
            for (g, w) in [(&got.s, &want.s), (&got.o, &want.o), (&got.os, &want.os)] {
                let r = rel(g, w);
                assert!(r < 1e-12, "({n_o}, {n_s}): relative error {r}");
                assert!(w.amax() > 0.1);
            }
        }
    }

    #[test]
    fn the_reference_is_the_definition_on_a_tiny_layer() {
        // n_o = 1, n_s = 1, M = w, no biases: Z = Σ_{s,o} e^{o w s} = 3 + e^w; ⟨o s⟩ = e^w / Z.
        let w = 0.8f64;
        let (M, zero) = (DMatrix::from_element(1, 1, w), DMatrix::zeros(1, 1));
        let z = 3.0 + w.exp();
        assert!((log_partition_ref(&M, &zero, &zero) - z.ln()).abs() < 1e-15);
        let e = partition_expectations_ref(&M, &zero, &zero);
        assert!((e.os[0] - w.exp() / z).abs() < 1e-15);
        assert!((e.s[0] - (1.0 + w.exp()) / z).abs() < 1e-15);
    }
}
