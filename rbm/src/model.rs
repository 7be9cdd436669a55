//! The notes layer: notes §7's partition function and the restricted Boltzmann machine around
//! it (Hinton's NNML assignment 4 and "A Practical Guide to Training RBMs"), one equation per
//! line on nalgebra. No I/O, no CPU-specific code: this is what a reader puts beside the page,
//! and the reference [`crate::fast`] (what training runs) is tested against.
//!
//! Sizes: n_v visible units, n_h hidden units, B examples of a mini-batch (one per column).
//! Shapes: W is n_h × n_v (the notes' and PA4's orientation), a is n_v × 1, b is n_h × 1, a batch
//! V is n_v × B with entries 0 or 1, its hidden probabilities H are n_h × B.

#![allow(non_snake_case)]

use nalgebra::{DMatrix, DVector};
use shared::activation::sigmoid;
use shared::rng::{self, Rng};

// ANCHOR: softplus
/// softplus(x) = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^{−|x|}) so it never overflows.
#[inline]
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// log Σ_k e^{t_k}, with the largest term factored out (−∞ for an empty slice).
pub fn logsumexp(t: &[f64]) -> f64 {
    let m = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + t.iter().map(|&x| (x - m).exp()).sum::<f64>().ln()
}
// ANCHOR_END: softplus

/// 1ᵀ: a row of N ones (1 × N), to write "b 1ᵀ", a bias added to every column.
fn ones(N: usize) -> DMatrix<f64> {
    DMatrix::from_element(1, N, 1.0)
}

/// A binary restricted Boltzmann machine with energy E(v, h) = −aᵀv − bᵀh − hᵀWv.
#[derive(Clone, Debug, PartialEq)]
pub struct Rbm {
    /// n_h × n_v: W[j, i] couples hidden unit j and visible unit i (the notes' W).
    pub W: DMatrix<f64>,
    /// n_v × 1: visible biases.
    pub a: DMatrix<f64>,
    /// n_h × 1: hidden biases.
    pub b: DMatrix<f64>,
}

impl Rbm {
    /// An RBM from its parameters; panics if the shapes disagree (a programming error:
    /// user-given sizes are checked where they are parsed).
    pub fn new(W: DMatrix<f64>, a: DMatrix<f64>, b: DMatrix<f64>) -> Rbm {
        assert_eq!(a.shape(), (W.ncols(), 1), "a must be n_v × 1");
        assert_eq!(b.shape(), (W.nrows(), 1), "b must be n_h × 1");
        Rbm { W, a, b }
    }

    /// The notes' RBM: weights only, E(V, H) = −Hᵀ W V.
    pub fn without_biases(W: DMatrix<f64>) -> Rbm {
        let (n_h, n_v) = W.shape();
        Rbm::new(W, DMatrix::zeros(n_v, 1), DMatrix::zeros(n_h, 1))
    }

    /// The same machine with the layers' names exchanged (W ↦ Wᵀ, a ↔ b): E(v, h) is
    /// unchanged, so Z is, and a sum "over h" of the swapped machine is the sum over v.
    pub fn swapped(&self) -> Rbm {
        Rbm::new(self.W.transpose(), self.b.clone(), self.a.clone())
    }

    /// Number of visible units.
    pub fn n_v(&self) -> usize {
        self.W.ncols()
    }

    /// Number of hidden units.
    pub fn n_h(&self) -> usize {
        self.W.nrows()
    }

    // ANCHOR: energy
    /// E(v, h) = −aᵀv − bᵀh − hᵀWv for one configuration (v: n_v × 1, h: n_h × 1, 0 or 1).
    pub fn energy(&self, v: &DVector<f64>, h: &DVector<f64>) -> f64 {
        -self.a.dot(v) - self.b.dot(h) - h.dot(&(&self.W * v))
    }
    // ANCHOR_END: energy

    // ANCHOR: free_energy
    /// F(v) = −aᵀv − Σ_j softplus(b_j + (Wv)_j) for each column of V (n_v × N), so that
    /// e^{−F(v)} = Σ_h e^{−E(v, h)}. Returns N values.
    pub fn free_energy(&self, V: &DMatrix<f64>) -> Vec<f64> {
        let X = &self.W * V + &self.b * ones(V.ncols()); // n_h × N: X = W V + b 1ᵀ
        let F = -(self.a.transpose() * V) - ones(X.nrows()) * X.map(softplus); // 1 × N
        F.iter().copied().collect()
    }
    // ANCHOR_END: free_energy

    // ANCHOR: conditionals
    /// p(h_j = 1 | v) = σ(b_j + (Wv)_j) for each column of V: H = σ(W V + b 1ᵀ) (n_h × B).
    pub fn hidden_probs(&self, V: &DMatrix<f64>) -> DMatrix<f64> {
        (&self.W * V + &self.b * ones(V.ncols())).map(sigmoid)
    }

    /// p(v_i = 1 | h) = σ(a_i + (Wᵀh)_i) for each column of H: V = σ(Wᵀ H + a 1ᵀ) (n_v × B).
    pub fn visible_probs(&self, H: &DMatrix<f64>) -> DMatrix<f64> {
        (self.W.transpose() * H + &self.a * ones(H.ncols())).map(sigmoid)
    }
    // ANCHOR_END: conditionals

    // ANCHOR: cd
    /// CD-k's estimate of the log-likelihood gradient on the batch V0 (n_v × B), as the guide
    /// §3 prescribes: the hidden states driven by data are sampled, the last reconstruction and
    /// the hidden units driven by it are kept as probabilities, the statistics use
    /// probabilities. CD-1 is k = 1.
    pub fn cd(&self, V0: &DMatrix<f64>, k: usize, rng: &mut Rng) -> Grads {
        let H0 = self.hidden_probs(V0); // n_h × B: p(h = 1 | v0), the positive phase
        let mut h = sample_bernoulli(&H0, rng); // n_h × B: h0 ~ p(h | v0)
        for _ in 1..k {
            let v = sample_bernoulli(&self.visible_probs(&h), rng); // n_v × B: v ~ p(v | h)
            h = sample_bernoulli(&self.hidden_probs(&v), rng); // n_h × B: h ~ p(h | v)
        }
        let Vk = self.visible_probs(&h); // n_v × B: the k-th reconstruction p(v = 1 | h)
        let Hk = self.hidden_probs(&Vk); // n_h × B: p(h = 1 | vk), the negative phase
        // ⟨h vᵀ⟩_data − ⟨h vᵀ⟩_model ≈ H0 V0ᵀ / B − Hk Vkᵀ / B (and the same for v and h)
        Grads::statistics(V0, &H0).minus(&Grads::statistics(&Vk, &Hk))
    }

    /// Persistent CD (Tieleman 2008): the negative statistics come from `chains` (n_v × C,
    /// binary), which take k full Gibbs steps from where the last update left them.
    pub fn pcd(
        &self,
        V0: &DMatrix<f64>,
        chains: &mut DMatrix<f64>,
        k: usize,
        rng: &mut Rng,
    ) -> Grads {
        let H0 = self.hidden_probs(V0); // n_h × B: p(h = 1 | v0), the positive phase
        for _ in 0..k {
            let h = sample_bernoulli(&self.hidden_probs(chains), rng); // n_h × C: h ~ p(h | v)
            *chains = sample_bernoulli(&self.visible_probs(&h), rng); // n_v × C: v ~ p(v | h)
        }
        let Hk = self.hidden_probs(chains); // n_h × C: p(h = 1 | v) of the chains
        // ⟨h vᵀ⟩_data − ⟨h vᵀ⟩_model ≈ H0 V0ᵀ / B − Hk chainsᵀ / C (and the same for v and h)
        Grads::statistics(V0, &H0).minus(&Grads::statistics(chains, &Hk))
    }
    // ANCHOR_END: cd

    // ANCHOR: update
    /// One update along an ascent direction g, PA4's `optimize` with the guide's weight cost λ
    /// (on W only): Δ ← μΔ + (g − λW), θ ← θ + εΔ for θ = W, a, b (`velocity` holds Δ).
    pub fn update(&mut self, g: &Grads, velocity: &mut Grads, lr: f64, mu: f64, weight_cost: f64) {
        // Δ ← μΔ + (g − λW), the weight cost on W only
        velocity.dW = &velocity.dW * mu + (&g.dW - &self.W * weight_cost); // n_h × n_v
        velocity.da = &velocity.da * mu + &g.da; // n_v × 1
        velocity.db = &velocity.db * mu + &g.db; // n_h × 1
        // θ ← θ + εΔ
        self.W += &velocity.dW * lr; // n_h × n_v
        self.a += &velocity.da * lr; // n_v × 1
        self.b += &velocity.db * lr; // n_h × 1
    }
    // ANCHOR_END: update
}

/// One binary sample of a unit that is on with probability p: 1 if u < p for u ~ U[0, 1).
pub fn bernoulli(p: f64, rng: &mut Rng) -> f64 {
    if rng::uniform(rng, 0.0, 1.0) < p {
        1.0
    } else {
        0.0
    }
}

/// A binary sample of every unit of P (entries are probabilities), column by column.
pub fn sample_bernoulli(P: &DMatrix<f64>, rng: &mut Rng) -> DMatrix<f64> {
    P.map(|p| bernoulli(p, rng))
}

/// A gradient (or an update direction) for each parameter of an [`Rbm`].
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// n_h × n_v, for W.
    pub dW: DMatrix<f64>,
    /// n_v × 1, for a.
    pub da: DMatrix<f64>,
    /// n_h × 1, for b.
    pub db: DMatrix<f64>,
}

impl Grads {
    /// Zeros shaped like the parameters of an RBM with n_v visible and n_h hidden units.
    pub fn zeros(n_v: usize, n_h: usize) -> Grads {
        Grads {
            dW: DMatrix::zeros(n_h, n_v),
            da: DMatrix::zeros(n_v, 1),
            db: DMatrix::zeros(n_h, 1),
        }
    }

    // ANCHOR: statistics
    /// One side of ∂ log p / ∂θ = ⟨·⟩_data − ⟨·⟩_model, as means over the B columns of the
    /// visible states V (n_v × B) and their hidden probabilities H (n_h × B):
    /// ⟨h vᵀ⟩ = H Vᵀ / B, ⟨v⟩ = V 1 / B, ⟨h⟩ = H 1 / B.
    pub fn statistics(V: &DMatrix<f64>, H: &DMatrix<f64>) -> Grads {
        let B = V.ncols();
        Grads {
            dW: H * V.transpose() / B as f64,       // n_h × n_v
            da: V * ones(B).transpose() / B as f64, // n_v × 1
            db: H * ones(B).transpose() / B as f64, // n_h × 1
        }
    }
    // ANCHOR_END: statistics

    /// self − other, parameter by parameter.
    pub fn minus(&self, other: &Grads) -> Grads {
        Grads {
            dW: &self.dW - &other.dW,
            da: &self.da - &other.da,
            db: &self.db - &other.db,
        }
    }
}

// ANCHOR: configurations
/// The 2^n binary configurations of n units as the rows of a 2^n × n matrix, in the notes'
/// order: for n = 2 the rows are (0, 0), (0, 1), (1, 0), (1, 1), i.e. row k holds the bits of
/// k with unit 1 the most significant.
pub fn configurations(n: usize) -> DMatrix<f64> {
    assert!(n < 31, "2^{n} configurations is too many to list");
    DMatrix::from_fn(1 << n, n, |k, j| ((k >> (n - 1 - j)) & 1) as f64)
}
// ANCHOR_END: configurations

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

// ANCHOR: notes_table
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
// ANCHOR_END: notes_table

/// Largest n_v + n_h [`z_brute_force`] accepts (2^26 ≈ 67 million energies).
pub const BRUTE_FORCE_MAX_UNITS: usize = 26;

// ANCHOR: z_brute_force
/// Z = Σ_{v,h} e^{−E(v,h)} straight from the definition: every one of the 2^{n_v + n_h}
/// joint configurations, its energy, its Boltzmann factor. Panics above
/// [`BRUTE_FORCE_MAX_UNITS`] units.
pub fn z_brute_force(rbm: &Rbm) -> f64 {
    let (n_v, n_h) = (rbm.n_v(), rbm.n_h());
    assert!(
        n_v + n_h <= BRUTE_FORCE_MAX_UNITS,
        "too many units to enumerate"
    );
    let Vs = configurations(n_v).transpose(); // n_v × 2^{n_v}
    let Hs = configurations(n_h).transpose(); // n_h × 2^{n_h}
    let mut Z = 0.0;
    for v in Vs.column_iter() {
        for h in Hs.column_iter() {
            Z += (-rbm.energy(&v.into_owned(), &h.into_owned())).exp();
        }
    }
    Z
}
// ANCHOR_END: z_brute_force

/// F(v) = −log Σ_h e^{−E(v,h)} straight from the definition (every h), for one v (n_v × 1).
pub fn free_energy_brute_force(rbm: &Rbm, v: &DVector<f64>) -> f64 {
    let Hs = configurations(rbm.n_h()).transpose(); // n_h × 2^{n_h}
    let t: Vec<f64> = Hs
        .column_iter()
        .map(|h| -rbm.energy(v, &h.into_owned()))
        .collect();
    -logsumexp(&t)
}

// ANCHOR: log_z
/// For each hidden configuration, log Σ_v e^{−E(v, h)} = bᵀh + Σ_i softplus(a_i + (hᵀW)_i):
/// the logarithm of the notes' rows (2^{n_h} × 1), and the rows' a + HᵀW (2^{n_h} × n_v).
fn log_rows(rbm: &Rbm) -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
    let Ht = configurations(rbm.n_h()); // 2^{n_h} × n_h: the notes' Hᵀ
    // X = Hᵀ W + 1 aᵀ: the notes' rows HᵀW, each plus aᵀ   (2^{n_h} × n_v)
    let X = &Ht * &rbm.W + ones(Ht.nrows()).transpose() * rbm.a.transpose();
    // t = Hᵀ b + softplus(X) 1: ln(e^{bᵀH} · row-wise product of 1 + e^X)   (2^{n_h} × 1)
    let t = &Ht * &rbm.b + X.map(softplus) * ones(X.ncols()).transpose();
    (Ht, X, t)
}

/// log Z = logsumexp_h [bᵀh + Σ_i softplus(a_i + (hᵀW)_i)]: the notes' table in log space
/// ("row-wise product" → sum of softplus, "then sum" → logsumexp), summed over whichever layer
/// is smaller (the formula is symmetric in the layers).
pub fn log_z(rbm: &Rbm) -> f64 {
    if rbm.n_h() > rbm.n_v() {
        return log_z(&rbm.swapped());
    }
    let (_, _, t) = log_rows(rbm); // 2^{n_h} × 1
    logsumexp(t.as_slice())
}
// ANCHOR_END: log_z

// ANCHOR: log_probs
/// log p(v) = −F(v) − log Z for each column of V (n_v × N), given log Z.
pub fn log_probs(rbm: &Rbm, V: &DMatrix<f64>, log_z: f64) -> Vec<f64> {
    rbm.free_energy(V).iter().map(|F| -F - log_z).collect()
}
// ANCHOR_END: log_probs

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

// ANCHOR: exact_gradient
/// ⟨v⟩, ⟨h⟩, ⟨h vᵀ⟩ under p(v, h) = e^{−E(v,h)} / Z by the notes' enumeration of the hidden
/// layer (of the visible one when it is smaller): p(h) = e^{t_h − log Z} with t_h the log of
/// h's row, and given h the visible units are independent with E[v | h] = σ(a + Wᵀh).
pub fn model_expectations(rbm: &Rbm) -> ModelExpectations {
    if rbm.n_h() > rbm.n_v() {
        let e = model_expectations(&rbm.swapped());
        return ModelExpectations {
            log_z: e.log_z,
            v: e.h,
            h: e.v,
            hv: e.hv.transpose(),
        };
    }
    let (Ht, X, t) = log_rows(rbm); // 2^{n_h} × n_h, 2^{n_h} × n_v, 2^{n_h} × 1
    let log_z = logsumexp(t.as_slice());
    let p = t.map(|t| (t - log_z).exp()); // 2^{n_h} × 1: p(h)
    let Ev = X.map(sigmoid); // 2^{n_h} × n_v: row k is E[v | h_k]ᵀ = σ(a + Wᵀh_k)ᵀ
    let pEv = Ev.map_with_location(|k, _, e| p[k] * e); // 2^{n_h} × n_v: p(h_k) E[v | h_k]ᵀ
    ModelExpectations {
        log_z,
        v: Ev.transpose() * &p,    // n_v × 1: Σ_h p(h) E[v | h]
        h: Ht.transpose() * &p,    // n_h × 1: Σ_h p(h) h
        hv: Ht.transpose() * &pEv, // n_h × n_v: Σ_h p(h) h E[v | h]ᵀ
    }
}

/// The exact gradient of the mean log-likelihood (1/N) Σ_n log p(v_n) over the columns of V
/// (n_v × N): ∂/∂W = ⟨h vᵀ⟩_data − ⟨h vᵀ⟩_model, ∂/∂a = ⟨v⟩_data − ⟨v⟩_model,
/// ∂/∂b = ⟨h⟩_data − ⟨h⟩_model; the data term with H = p(h = 1 | v), the model term by
/// enumeration. This is the ascent direction CD estimates.
pub fn exact_gradient(rbm: &Rbm, V: &DMatrix<f64>) -> Grads {
    let data = Grads::statistics(V, &rbm.hidden_probs(V)); // ⟨·⟩_data
    let e = model_expectations(rbm); // ⟨·⟩_model
    Grads {
        dW: data.dW - e.hv,
        da: data.da - e.v,
        db: data.db - e.h,
    }
}
// ANCHOR_END: exact_gradient

/// Every visible configuration (as the columns of an n_v × 2^{n_v} matrix, in the notes'
/// order) with its exact log p(v).
pub fn all_visible_log_probs(rbm: &Rbm) -> (DMatrix<f64>, Vec<f64>) {
    let Vs = configurations(rbm.n_v()).transpose();
    let lp = log_probs(rbm, &Vs, log_z(rbm));
    (Vs, lp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softplus_and_logsumexp_are_stable() {
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(softplus(1000.0), 1000.0);
        assert!(softplus(-1000.0) >= 0.0 && softplus(-1000.0) < 1e-300);
        assert!((logsumexp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(logsumexp(&[]), f64::NEG_INFINITY);
    }

    #[test]
    fn configurations_in_the_notes_order() {
        let H = configurations(2);
        assert_eq!(
            H,
            DMatrix::from_row_slice(4, 2, &[0., 0., 0., 1., 1., 0., 1., 1.])
        );
    }
}
