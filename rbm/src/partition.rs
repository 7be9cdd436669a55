//! Notes §7, "Partition Function": Z = Σ_{V,H} e^{−E(V,H)}, first exactly as the notes write it
//! (a table of 2^{n_h} rows, one per hidden configuration), then by brute force over every
//! (v, h) as the definition says, then in log space over whichever layer is smaller.
//!
//! | notes | here |
//! |---|---|
//! | Hᵀ = `[[0,0],[0,1],[1,0],[1,1]]` (the hidden configurations as rows) | [`crate::configurations`] |
//! | Hᵀ W (2^{n_h} × n_v) | [`NotesTable::HtW`] |
//! | → 1 + e^{·} entrywise | [`NotesTable::factors`] |
//! | "row-wise product" | [`NotesTable::rows`] |
//! | "and then sum" | [`NotesTable::Z`] |
//! | Z = Σ_{V,H} e^{−E(V,H)} (definition) | [`z_brute_force`] |
//! | log Z = logsumexp_h [bᵀh + Σ_i softplus(a_i + (Wᵀh)_i)] (the table in log space) | [`log_z`] |
//! | ⟨v⟩, ⟨h⟩, ⟨hvᵀ⟩ under p(v, h) = e^{−E} / Z, by the same enumeration | [`model_expectations`] |

use crate::{Grads, Rbm, configurations, logsumexp, row_product};
use nalgebra::{DMatrix, DMatrixView};
use shared::kernels::fastmath::exp_nonpositive;
use shared::kernels::{gemm, gemm_nt};

/// The notes' table: one row per hidden configuration H.
///
/// With biases (a, b) the row for H is e^{bᵀH} Π_i (1 + e^{a_i + (HᵀW)_i}); the notes have
/// a = b = 0, where it is Π_i (1 + e^{(HᵀW)_i}).
#[derive(Clone, Debug)]
pub struct NotesTable {
    /// 2^{n_h} × n_h: the hidden configurations as rows (the notes' Hᵀ).
    pub Ht: DMatrix<f64>,
    /// 2^{n_h} × n_v: Hᵀ W.
    pub HtW: DMatrix<f64>,
    /// 2^{n_h} × n_v: 1 + e^{a_i + (HᵀW)_{k,i}} (the notes' matrix of 1 + e^{…}).
    pub factors: DMatrix<f64>,
    /// 2^{n_h}: e^{bᵀH} (1 when there are no hidden biases).
    pub bias: Vec<f64>,
    /// 2^{n_h}: the row-wise products times e^{bᵀH}: Σ_V e^{−E(V,H)} for each H.
    pub rows: Vec<f64>,
    /// The sum of the rows: the partition function.
    pub Z: f64,
}

/// Z as the notes compute it, in plain (not log) space: overflows to ∞ for large weights or
/// many visible units; [`log_z`] does not.
pub fn notes_table(rbm: &Rbm) -> NotesTable {
    let Ht = configurations(rbm.n_h()); // 2^{n_h} × n_h
    let HtW = &Ht * &rbm.W; // 2^{n_h} × n_v
    // 1 + e^{a_i + (HᵀW)_{k,i}}
    let factors = DMatrix::from_fn(HtW.nrows(), HtW.ncols(), |k, i| {
        1.0 + (rbm.a[i] + HtW[(k, i)]).exp()
    });
    let bias: Vec<f64> = (0..Ht.nrows())
        .map(|k| Ht.row(k).dot(&rbm.b.transpose()).exp())
        .collect();
    // "row-wise product ..."
    let rows: Vec<f64> = (0..factors.nrows())
        .map(|k| bias[k] * factors.row(k).iter().product::<f64>())
        .collect();
    // "... and then sum"
    let Z = rows.iter().sum();
    NotesTable {
        Ht,
        HtW,
        factors,
        bias,
        rows,
        Z,
    }
}

/// Largest n_v + n_h [`z_brute_force`] accepts (2^26 ≈ 67 million energies).
pub const BRUTE_FORCE_MAX_UNITS: usize = 26;

/// Z = Σ_{v,h} e^{−E(v,h)} straight from the definition: every one of the 2^{n_v + n_h}
/// joint configurations, its energy, its Boltzmann factor. Panics above
/// [`BRUTE_FORCE_MAX_UNITS`] units.
pub fn z_brute_force(rbm: &Rbm) -> f64 {
    let (n_v, n_h) = (rbm.n_v(), rbm.n_h());
    assert!(
        n_v + n_h <= BRUTE_FORCE_MAX_UNITS,
        "too many units to enumerate"
    );
    let Vs = configurations(n_v); // 2^{n_v} × n_v
    let Hs = configurations(n_h); // 2^{n_h} × n_h
    let mut Z = 0.0;
    let (mut v, mut h) = (vec![0.0; n_v], vec![0.0; n_h]);
    for r in 0..Vs.nrows() {
        v.iter_mut().enumerate().for_each(|(i, x)| *x = Vs[(r, i)]);
        for k in 0..Hs.nrows() {
            h.iter_mut().enumerate().for_each(|(j, x)| *x = Hs[(k, j)]);
            Z += (-rbm.energy(&v, &h)).exp();
        }
    }
    Z
}

/// F(v) = −log Σ_h e^{−E(v,h)} straight from the definition (every h), for one v.
pub fn free_energy_brute_force(rbm: &Rbm, v: &[f64]) -> f64 {
    let Hs = configurations(rbm.n_h());
    let t: Vec<f64> = (0..Hs.nrows())
        .map(|k| -rbm.energy(v, Hs.row(k).transpose().as_slice()))
        .collect();
    -logsumexp(&t)
}

/// Size (in f64) of the table of [`log_sum_over`] that one block of configurations reuses:
/// 128 KB, so it stays in the L2 cache (a 512 KB table, 2^10 columns of 64 units, made the
/// sum at n_h = 20 2.3× slower).
const TABLE_DOUBLES: usize = 16_384;

/// The block layout shared by [`log_sum_over`] and [`expectations_over`] for M n_o × n_s: the
/// summed layer's units split into `high` ones (enumerated one configuration g at a time) and
/// `low` ones, whose 2^low configurations make one table reused for every g.
struct Blocks<'a> {
    /// n_o × n_s, and the two layers' biases (n_s × 1, n_o × 1).
    M: &'a DMatrix<f64>,
    c_s: &'a DMatrix<f64>,
    c_o: &'a DMatrix<f64>,
    /// Units of s enumerated in the outer loop (the first ones).
    high: usize,
    /// Units of s in the table (the last ones).
    low: usize,
    /// low × 2^low: the low units' configurations as columns.
    S_low: DMatrix<f64>,
    /// n_o × 2^low: X_low = M[:, high..] S_low (the notes' stacked rows HᵀW, for the low units).
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
        // 2^low columns of n_o values fill at most TABLE_DOUBLES (n_o = 64: low = 8).
        let fit = (TABLE_DOUBLES / n_o.max(1)).max(2).ilog2() as usize;
        let low = n_s.min(fit);
        let high = n_s - low;
        let S_low = configurations(low).transpose(); // low × 2^low
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
        // the notes' row-wise product, in log space (X_low is column-major: column c, one
        // configuration, is contiguous)
        let n_o = self.X_low.nrows();
        row_product::log_row_products(self.X_low.as_slice(), n_o, shift, t, sig);
        for (tc, bl) in t.iter_mut().zip(&self.bias_low) {
            *tc += bias_g + bl; // + c_sᵀ s
        }
    }
}

/// log Σ_{s ∈ {0,1}^{n_s}} exp(c_sᵀ s + Σ_o softplus(c_o + (M s)_o)) for M n_o × n_s: the
/// partition function summed over one layer (s) in closed form over the other (o).
///
/// The summed layer's units are split into high and low ones ([`Blocks`]): the table
/// X_low = M_low S_low (the notes' stacked rows HᵀW, for the configurations of the low units)
/// is made once by one GEMM; each configuration g of the high units shifts every column by
/// the same vector c_o + M_high g. Terms are combined by a running logsumexp.
fn log_sum_over(M: &DMatrix<f64>, c_s: &DMatrix<f64>, c_o: &DMatrix<f64>) -> f64 {
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

/// log Z summed over the 2^{n_h} hidden configurations:
/// log Z = logsumexp_h [bᵀh + Σ_i softplus(a_i + (Wᵀh)_i)] (the notes' order of summation).
pub fn log_z_over_hidden(rbm: &Rbm) -> f64 {
    // M = Wᵀ (n_v × n_h): the visible layer's input from h is Wᵀh.
    log_sum_over(&rbm.W.transpose(), &rbm.b, &rbm.a)
}

/// log Z summed over the 2^{n_v} visible configurations:
/// log Z = logsumexp_v [aᵀv + Σ_j softplus(b_j + (Wv)_j)] = logsumexp_v (−F(v)).
pub fn log_z_over_visible(rbm: &Rbm) -> f64 {
    log_sum_over(&rbm.W, &rbm.a, &rbm.b)
}

/// Largest layer [`log_z`] will enumerate (2^30 ≈ 10⁹ configurations).
pub const MAX_ENUMERATED: usize = 30;

/// log Z, exact, summing over whichever layer is smaller (min(n_v, n_h) ≤ [`MAX_ENUMERATED`];
/// about 20 is practical: 2^20 configurations).
pub fn log_z(rbm: &Rbm) -> f64 {
    assert!(
        rbm.n_v().min(rbm.n_h()) <= MAX_ENUMERATED,
        "both layers are too large to enumerate"
    );
    if rbm.n_h() <= rbm.n_v() {
        log_z_over_hidden(rbm)
    } else {
        log_z_over_visible(rbm)
    }
}

/// log p(v) = −F(v) − log Z for each column of V (n_v × N), given log Z.
pub fn log_probs(rbm: &Rbm, V: &DMatrix<f64>, log_z: f64) -> Vec<f64> {
    rbm.free_energy(V).iter().map(|F| -F - log_z).collect()
}

/// Mean of log p(v) over the columns of V (nats per example), given log Z.
pub fn mean_log_prob(rbm: &Rbm, V: &DMatrix<f64>, log_z: f64) -> f64 {
    let lp = log_probs(rbm, V, log_z);
    lp.iter().sum::<f64>() / lp.len().max(1) as f64
}

/// The model's expectations, exact: log Z, ⟨v⟩_model (n_v × 1), ⟨h⟩_model (n_h × 1) and
/// ⟨h vᵀ⟩_model (n_h × n_v), with p(v, h) = e^{−E(v,h)} / Z.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelExpectations {
    /// log Z.
    pub log_z: f64,
    /// n_v × 1: ⟨v⟩_model.
    pub v: DMatrix<f64>,
    /// n_h × 1: ⟨h⟩_model.
    pub h: DMatrix<f64>,
    /// n_h × n_v: ⟨h vᵀ⟩_model.
    pub hv: DMatrix<f64>,
}

/// Enumerates one layer s (n_s units) and sums the other, o, in closed form, as
/// [`log_sum_over`] does (M n_o × n_s, biases c_s, c_o): returns log Z, ⟨s⟩, ⟨o⟩ (n_o × 1) and
/// ⟨o sᵀ⟩ (n_o × n_s). For a configuration s of the summed layer the other layer is
/// independent given s: p(o = 1 | s) = σ(c_o + M s), so ⟨o sᵀ⟩ = Σ_s p(s) σ(c_o + M s) sᵀ with
/// p(s) = exp(c_sᵀ s + Σ_o softplus(c_o + (M s)_o) − log Z).
///
/// One pass in blocks (the table of [`log_sum_over`]): each block's unnormalised weights
/// w_s = e^{t_s − m} against the running maximum m, the accumulators rescaled when m grows;
/// ⟨o sᵀ⟩ of a block is one GEMM, σ(·)·diag(w) times the low units' configurations.
fn expectations_over(M: &DMatrix<f64>, c_s: &DMatrix<f64>, c_o: &DMatrix<f64>) -> Sums {
    let (n_o, n_s) = M.shape();
    let b = Blocks::new(M, c_s, c_o);
    let (high, low, n_low) = (b.high, b.low, b.S_low.ncols());
    let mut P = DMatrix::zeros(n_o, n_low); // σ(c_o + M s) of the block, then × w_s
    let mut t = vec![0.0; n_low]; // c_sᵀ s + Σ_o softplus(c_o + (M s)_o)
    let mut shift = vec![0.0; n_o]; // c_o + M_high g
    let mut Po = DMatrix::zeros(n_o, 1); // Σ_s w_s σ(c_o + M s) of the block
    let mut sum = Sums {
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

/// What [`expectations_over`] returns, in the layers' roles (s summed over, o in closed form).
struct Sums {
    log_z: f64,
    s: DMatrix<f64>,  // n_s × 1
    o: DMatrix<f64>,  // n_o × 1
    os: DMatrix<f64>, // n_o × n_s
}

/// log Z and the model's expectations ⟨v⟩, ⟨h⟩, ⟨h vᵀ⟩, exact, enumerating whichever layer is
/// smaller (about 2^20 configurations at most is practical).
pub fn model_expectations(rbm: &Rbm) -> ModelExpectations {
    if rbm.n_h() <= rbm.n_v() {
        // s = h, o = v: M = Wᵀ (n_v × n_h), ⟨o sᵀ⟩ = ⟨v hᵀ⟩
        let e = expectations_over(&rbm.W.transpose(), &rbm.b, &rbm.a);
        ModelExpectations {
            log_z: e.log_z,
            v: e.o,
            h: e.s,
            hv: e.os.transpose(),
        }
    } else {
        // s = v, o = h: M = W (n_h × n_v), ⟨o sᵀ⟩ = ⟨h vᵀ⟩
        let e = expectations_over(&rbm.W, &rbm.a, &rbm.b);
        ModelExpectations {
            log_z: e.log_z,
            v: e.s,
            h: e.o,
            hv: e.os,
        }
    }
}

/// The exact gradient of the mean log-likelihood (1/N) Σ_n log p(v_n) over the columns of V:
/// ∂/∂W = ⟨h vᵀ⟩_data − ⟨h vᵀ⟩_model, ∂/∂a = ⟨v⟩_data − ⟨v⟩_model, ∂/∂b = ⟨h⟩_data − ⟨h⟩_model,
/// the model expectations by enumerating the smaller layer ([`model_expectations`]).
/// This is the ascent direction CD estimates. Also returns log Z (of the same parameters).
pub fn exact_gradient_and_log_z(rbm: &Rbm, V: &DMatrix<f64>) -> (Grads, f64) {
    let (n_v, n_h, N) = (rbm.n_v(), rbm.n_h(), V.ncols());
    let mut g = Grads::zeros(n_v, n_h);
    // Data term: H_d = σ(W V + b)   (n_h × N);  ⟨h vᵀ⟩_data = H_d Vᵀ / N
    let mut Hd = DMatrix::zeros(n_h, N);
    rbm.hidden_probs(V, &mut Hd);
    gemm_nt(1.0 / N as f64, &Hd, V, 0.0, &mut g.dW);
    g.da.copy_from(&(V.column_sum() / N as f64));
    g.db.copy_from(&(Hd.column_sum() / N as f64));
    // Model term.
    let e = model_expectations(rbm);
    g.dW -= &e.hv;
    g.da -= &e.v;
    g.db -= &e.h;
    (g, e.log_z)
}

/// [`exact_gradient_and_log_z`] without log Z.
pub fn exact_gradient(rbm: &Rbm, V: &DMatrix<f64>) -> Grads {
    exact_gradient_and_log_z(rbm, V).0
}

/// Every visible configuration (as the columns of an n_v × 2^{n_v} matrix, in the notes'
/// order) with its exact log p(v).
pub fn all_visible_log_probs(rbm: &Rbm) -> (DMatrix<f64>, Vec<f64>) {
    let Vs = configurations(rbm.n_v()).transpose();
    let lp = log_probs(rbm, &Vs, log_z(rbm));
    (Vs, lp)
}

/// Largest layer the `partition` report takes: it lists the notes' table (2^{n_h} rows of
/// n_v entries), every one of the 2^{n_v} visible vectors, and sums Z by brute force.
pub const REPORT_MAX_UNITS: usize = 16;

/// The RBM of the `partition` command from its flags: n_v and n_h in 1..=[`REPORT_MAX_UNITS`],
/// W row by row (n_h × n_v finite values; default the reference sheet's
/// [[1, −2, 0.5], [0.3, 0.7, −1]] for 3 × 2, else N(0, 1) draws from `seed`), visible and
/// hidden biases (default 0). Errors name the flag.
pub fn rbm_from_flags(
    n_v: usize,
    n_h: usize,
    weights: Option<Vec<f64>>,
    a: Option<Vec<f64>>,
    b: Option<Vec<f64>>,
    seed: u64,
) -> shared::Result<Rbm> {
    for (flag, n, layer) in [("--visible", n_v, "visible"), ("--hidden", n_h, "hidden")] {
        if !(1..=REPORT_MAX_UNITS).contains(&n) {
            return Err(shared::Error::flag(
                flag,
                format!(
                    "{n} {layer} units: need 1 to {REPORT_MAX_UNITS} (the report enumerates all \
                     2^{n} {layer} configurations; training sums exactly over up to 20)"
                ),
            ));
        }
    }
    let list = |flag: &str, v: Option<Vec<f64>>, default: DMatrix<f64>| match v {
        None => Ok(default),
        Some(v) if v.len() != default.len() => Err(shared::Error::flag(
            flag,
            format!(
                "{} values given, {} needed ({} × {})",
                v.len(),
                default.len(),
                default.nrows(),
                default.ncols()
            ),
        )),
        Some(v) => match v.iter().position(|x| !x.is_finite()) {
            Some(k) => Err(shared::Error::flag(
                flag,
                format!("value {} is {}: every value must be finite", k + 1, v[k]),
            )),
            None => Ok(DMatrix::from_row_slice(
                default.nrows(),
                default.ncols(),
                &v,
            )),
        },
    };
    let W0 = if (n_v, n_h) == (3, 2) {
        DMatrix::from_row_slice(2, 3, &[1.0, -2.0, 0.5, 0.3, 0.7, -1.0])
    } else {
        shared::init::normal(n_h, n_v, 0.0, 1.0, &mut shared::rng::seeded(seed))
    };
    Ok(Rbm::new(
        list("--weights", weights, W0)?,
        list("--visible-bias", a, DMatrix::zeros(n_v, 1))?,
        list("--hidden-bias", b, DMatrix::zeros(n_h, 1))?,
    ))
}

/// A number with 10 decimals, or in scientific notation when that would hide it.
fn num(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e9).contains(&x.abs()) {
        format!("{x:.10e}")
    } else {
        format!("{x:.10}")
    }
}

/// Units printed as a 0/1 string: "010".
fn bits(x: impl IntoIterator<Item = f64>) -> String {
    x.into_iter()
        .map(|b| if b > 0.5 { '1' } else { '0' })
        .collect()
}

/// H as the notes write it: "(0,1)" without the parentheses.
fn hidden(x: impl IntoIterator<Item = f64>) -> String {
    let b: Vec<String> = x.into_iter().map(|v| format!("{v}")).collect();
    b.join(",")
}

/// A matrix as [[row], [row]] with 4 decimals (trailing zeros dropped).
fn rows_of(m: &DMatrix<f64>) -> String {
    let rows: Vec<String> = m
        .row_iter()
        .map(|r| {
            let v: Vec<String> = r
                .iter()
                .map(|x| format!("{}", (x * 1e4).round() / 1e4))
                .collect();
            format!("[{}]", v.join(", "))
        })
        .collect();
    format!("[{}]", rows.join(", "))
}

/// The `partition` report: the notes' table (at most `max_rows` rows shown), Z by the notes'
/// closed form and by brute force and their agreement, log Z in log space, then p(v) and F(v)
/// for every v (at most `max_rows` shown).
pub fn report(rbm: &Rbm, max_rows: usize) -> String {
    use std::fmt::Write;
    let (n_v, n_h) = (rbm.n_v(), rbm.n_h());
    let biased = rbm.a.iter().chain(rbm.b.iter()).any(|&x| x != 0.0);
    let mut s = String::new();
    let w = &mut s;
    let energy = if biased {
        "E(v,h) = −aᵀv − bᵀh − hᵀWv"
    } else {
        "E(V,H) = −HᵀWV"
    };
    let _ = writeln!(
        w,
        "notes §7, partition function: n_v = {n_v} visible, n_h = {n_h} hidden, {energy}"
    );
    let _ = writeln!(w, "W (n_h × n_v) = {}", rows_of(&rbm.W));
    if biased {
        let _ = writeln!(
            w,
            "a = {}, b = {}",
            rows_of(&rbm.a.transpose()),
            rows_of(&rbm.b.transpose())
        );
    }
    let t = notes_table(rbm);
    let hw = 9 * n_v;
    let head = if biased {
        ("a + HᵀW", "1 + e^{a + HᵀW}", "e^{bᵀH}·Π")
    } else {
        ("HᵀW", "1 + e^{HᵀW}", "row product")
    };
    let _ = writeln!(
        w,
        "{:>h$} | {:>hw$} | {:>hw$} | {:>15}",
        "H",
        head.0,
        head.1,
        head.2,
        h = 2 * n_h + 1
    );
    let shown = t.rows.len().min(max_rows);
    for k in 0..shown {
        let x: String = (0..n_v)
            .map(|i| format!("{:9.4}", rbm.a[i] + t.HtW[(k, i)]))
            .collect();
        let f: String = (0..n_v)
            .map(|i| format!("{:9.4}", t.factors[(k, i)]))
            .collect();
        let _ = writeln!(
            w,
            "({}) | {x} | {f} | {:>15}",
            hidden(t.Ht.row(k).iter().copied()),
            num(t.rows[k])
        );
    }
    if shown < t.rows.len() {
        let _ = writeln!(w, "… {} more rows", t.rows.len() - shown);
    }
    if !biased {
        let _ = writeln!(
            w,
            "H = ({}) row: 1 + e⁰ = 2 in each of the {n_v} columns, product 2^{n_v} = {}",
            hidden(vec![0.0; n_h]),
            t.rows[0]
        );
    }
    let _ = writeln!(
        w,
        "{:<40} = {}",
        "Z (notes: row-wise product, then sum)",
        num(t.Z)
    );
    if !t.Z.is_finite() {
        let _ = writeln!(
            w,
            "(the plain-space product overflows f64; the log-space sum below does not)"
        );
    }
    let lz = log_z(rbm);
    if n_v + n_h <= BRUTE_FORCE_MAX_UNITS {
        let zb = z_brute_force(rbm);
        let _ = writeln!(
            w,
            "{:<40} = {}",
            format!(
                "Z (brute force, all 2^{} = {} (v, h))",
                n_v + n_h,
                1u64 << (n_v + n_h)
            ),
            num(zb)
        );
        let agreement = if t.Z.is_finite() && zb.is_finite() {
            let d = (t.Z - zb).abs();
            format!(
                "|closed form − brute force| = {d:.2e} (relative {:.2e})",
                d / zb
            )
        } else {
            "both overflow f64".to_string()
        };
        let _ = writeln!(w, "agreement: {agreement}");
    } else {
        let _ = writeln!(w, "Z by brute force: skipped (2^{} states)", n_v + n_h);
    }
    let layer = if n_h <= n_v { "hidden" } else { "visible" };
    let _ = writeln!(
        w,
        "{:<40} = {lz:.10}",
        format!("log Z (logsumexp over the {layer} layer)")
    );
    let Vs = configurations(n_v).transpose();
    let F = rbm.free_energy(&Vs);
    let _ = writeln!(w, "{:>v$} | {:>16} | {:>14}", "v", "p(v)", "F(v)", v = n_v);
    for (k, Fk) in F.iter().enumerate().take(max_rows) {
        let _ = writeln!(
            w,
            "{} | {:>16} | {Fk:14.10}",
            bits(Vs.column(k).iter().copied()),
            num((-Fk - lz).exp())
        );
    }
    if F.len() > max_rows {
        let _ = writeln!(w, "… {} more visible vectors", F.len() - max_rows);
    }
    let total: f64 = F.iter().map(|f| (-f - lz).exp()).sum();
    let _ = writeln!(
        w,
        "Σ_v p(v) = {total:.12}  (p(v) = e^{{−F(v)}} / Z, F(v) = −aᵀv − Σ_j softplus(b_j + (Wv)_j))"
    );
    s
}
