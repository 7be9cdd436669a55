//! The GRU cell as the notes write it (§6, Colah's figure; Cho et al. 2014, arXiv:1406.1078 —
//! the notes date the GRU 2004, a typo for 2014):
//!
//! ```text
//! z_t = σ(W_z · [h_{t−1}, x_t])
//! r_t = σ(W_r · [h_{t−1}, x_t])
//! h̃_t = tanh(W · [r_t ∗ h_{t−1}, x_t])
//! h_t = (1 − z_t) ∗ h_{t−1} + z_t ∗ h̃_t
//! ```
//!
//! The concatenation is split as for the LSTM: W_z · [h, x] = W^z_hh h + W^z_xh x, with the
//! three blocks z, r, h̃ stacked as rows of `W_xh` (3H × D) and `W_hh` (3H × H).
//!
//! One departure: biases b^z, b^r, b^h̃ are added, as the notes' LSTM has them (Colah's GRU
//! has none). They start at 0, so an untrained cell computes exactly the notes' equations.
//!
//! **Where PyTorch differs.** `nn.GRU` (like Britz's tutorial) weights the two terms the other
//! way round, h_t = (1 − z_t) ∗ h̃_t + z_t ∗ h_{t−1}: its z is our 1 − z. It also applies r
//! *after* the recurrent product, h̃_t = tanh(W_in x_t + b_in + r_t ∗ (W_hn h_{t−1} + b_hn)),
//! and keeps two bias vectors, so its numbers match neither form bit for bit. Here z → 0 keeps
//! the old state and z → 1 replaces it by the candidate.

use super::{Bptt, Cell, Grads, side_by_side, stack_rows};
use nalgebra::DMatrix;
use shared::activation::{sigmoid, sigmoid_grad, tanh_grad};
use shared::rng::Rng;

/// Row block of the update gate z in `W_xh`, `W_hh`, `b_h` (block k is rows kH..(k+1)H).
pub const Z: usize = 0;
/// Row block of the reset gate r.
pub const R: usize = 1;
/// Row block of the candidate h̃ (its `W_hh` block multiplies r ∗ h_{t−1}).
pub const N: usize = 2;

/// GRU parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Gru {
    /// 3H × D: the x-columns of W_z, W_r and W, stacked as row blocks z, r, h̃.
    pub W_xh: DMatrix<f64>,
    /// 3H × H: the h-columns of W_z, W_r (applied to h_{t−1}) and W (applied to r ∗ h_{t−1}).
    pub W_hh: DMatrix<f64>,
    /// 3H × 1: b^z, b^r, b^h̃ (not in the notes; zero at the start).
    pub b_h: DMatrix<f64>,
}

/// What [`Gru`]'s forward pass keeps for the backward pass.
#[derive(Clone, Debug)]
pub struct Cache {
    /// D × T·B: the input the pass ran on.
    pub X: DMatrix<f64>,
    /// B.
    pub B: usize,
    /// z_1 … z_T, each H × B.
    pub z: Vec<DMatrix<f64>>,
    /// r_1 … r_T.
    pub r: Vec<DMatrix<f64>>,
    /// h̃_1 … h̃_T.
    pub h_tilde: Vec<DMatrix<f64>>,
    /// h_0 … h_T, each H × B.
    pub h: Vec<DMatrix<f64>>,
}

impl Cell for Gru {
    const NAME: &'static str = "gru";
    type Cache = Cache;

    // ANCHOR: init
    /// Weights uniform in ±1/√H, biases 0.
    fn new(D: usize, H: usize, rng: &mut Rng) -> Self {
        Gru {
            W_xh: shared::init::uniform_inv_sqrt(3 * H, D, H, rng),
            W_hh: shared::init::uniform_inv_sqrt(3 * H, H, H, rng),
            b_h: DMatrix::zeros(3 * H, 1),
        }
    }
    // ANCHOR_END: init

    fn weights(&self) -> [&DMatrix<f64>; 3] {
        [&self.W_xh, &self.W_hh, &self.b_h]
    }

    fn weights_mut(&mut self) -> [&mut DMatrix<f64>; 3] {
        [&mut self.W_xh, &mut self.W_hh, &mut self.b_h]
    }

    // ANCHOR: forward
    fn forward(&self, X: &DMatrix<f64>, B: usize, state: &[DMatrix<f64>]) -> Cache {
        let T = X.ncols() / B;
        let mut cache = Cache {
            X: X.clone(),
            B,
            z: Vec::with_capacity(T),
            r: Vec::with_capacity(T),
            h_tilde: Vec::with_capacity(T),
            h: vec![state[0].clone()], // h_0: H × B
        };
        for t in 0..T {
            let (x_t, h_prev) = (X.columns(t * B, B), &cache.h[t]); // D × B, H × B
            // z_t = σ(W_z · [h_{t−1}, x_t])                                     H × B
            let z_t = self.affine(Z, x_t, h_prev).map(sigmoid);
            // r_t = σ(W_r · [h_{t−1}, x_t])                                     H × B
            let r_t = self.affine(R, x_t, h_prev).map(sigmoid);
            // h̃_t = tanh(W · [r_t ∗ h_{t−1}, x_t])                              H × B
            let rh = r_t.component_mul(h_prev);
            let h_tilde = self.affine(N, x_t, &rh).map(f64::tanh);
            // h_t = (1 − z_t) ∗ h_{t−1} + z_t ∗ h̃_t                             H × B
            let h_t = z_t.map(|z| 1.0 - z).component_mul(h_prev) + z_t.component_mul(&h_tilde);
            cache.z.push(z_t);
            cache.r.push(r_t);
            cache.h_tilde.push(h_tilde);
            cache.h.push(h_t);
        }
        cache
    }
    // ANCHOR_END: forward

    fn outputs(cache: &Cache) -> DMatrix<f64> {
        side_by_side(&cache.h[1..])
    }

    fn last_state(cache: &Cache) -> Vec<DMatrix<f64>> {
        vec![cache.h[cache.h.len() - 1].clone()]
    }

    // ANCHOR: backward
    fn backward_states(&self, cache: &Cache, dH: &DMatrix<f64>) -> Bptt {
        let (X, B, H) = (&cache.X, cache.B, self.hidden_size());
        let W_zr = self.W_hh.rows(Z * H, 2 * H); // [W^z_hh; W^r_hh], on h_{t−1}: 2H × H
        let W_n = self.W_hh.rows(N * H, H); // W^h̃_hh, on r_t ∗ h_{t−1}: H × H
        let mut grads = Grads::zeros(self);
        let mut dX = DMatrix::zeros(X.nrows(), X.ncols()); // D × T·B
        let mut dh_all = vec![DMatrix::zeros(H, B); cache.z.len() + 1]; // ∂E/∂h_0 … ∂E/∂h_T
        let mut dh_next = DMatrix::zeros(H, B); // ∂E/∂h_t from step t + 1 (none after T)
        for t in (0..cache.z.len()).rev() {
            let (z, r, h_tilde) = (&cache.z[t], &cache.r[t], &cache.h_tilde[t]); // H × B
            let (x_t, h_prev) = (X.columns(t * B, B), &cache.h[t]);
            let rh = r.component_mul(h_prev); // r_t ∗ h_{t−1}: H × B
            // h_t feeds the layer above (dH_t) and step t + 1                   H × B
            let dh = dH.columns(t * B, B) + &dh_next;
            // h_t = (1 − z_t) ∗ h_{t−1} + z_t ∗ h̃_t  ⇒  ∂E/∂z_t, ∂E/∂h̃_t, ∂E/∂h_{t−1} (direct)
            let dz = dh.component_mul(&(h_tilde - h_prev));
            let dh_tilde = dh.component_mul(z);
            let mut dh_prev = dh.component_mul(&z.map(|z| 1.0 - z));
            // h̃_t = tanh(W^h̃_xh x_t + W^h̃_hh (r_t ∗ h_{t−1}) + b^h̃)  ⇒  ∂E/∂a^h̃, ∂E/∂(r_t ∗ h_{t−1})
            let da_n = dh_tilde.component_mul(&h_tilde.map(tanh_grad)); // H × B
            let drh = W_n.transpose() * &da_n; // H × B
            // r_t ∗ h_{t−1}  ⇒  ∂E/∂r_t, and h_{t−1}'s share through the reset gate
            let dr = drh.component_mul(h_prev);
            dh_prev += drh.component_mul(r);
            // z_t, r_t = σ(a^z, a^r), a = W^·_xh x_t + W^·_hh h_{t−1} + b^·  ⇒  ∂E/∂a, h_{t−1}'s share
            let da_zr = stack_rows(&[
                dz.component_mul(&z.map(sigmoid_grad)),
                dr.component_mul(&r.map(sigmoid_grad)),
            ]); // [da^z; da^r]: 2H × B
            dh_prev += W_zr.transpose() * &da_zr;
            // summed over t: the h-columns of W_z, W_r (on h_{t−1}) and of W (on r_t ∗ h_{t−1}) …
            let mut dW_zr = grads.dW_hh.rows_mut(Z * H, 2 * H); // 2H × H
            dW_zr += &da_zr * h_prev.transpose();
            let mut dW_n = grads.dW_hh.rows_mut(N * H, H); // H × H
            dW_n += &da_n * rh.transpose();
            // … and the x-columns and biases of all three blocks
            let da = stack_rows(&[da_zr, da_n]); // [da^z; da^r; da^h̃]: 3H × B
            grads.dW_xh += &da * x_t.transpose(); // 3H × D
            grads.db_h += da.column_sum(); // 3H × 1
            let dx_t = self.W_xh.transpose() * &da; // D × B
            dX.columns_mut(t * B, B).copy_from(&dx_t);
            dh_next = dh_prev; // ∂E/∂h_{t−1}: H × B
            dh_all[t + 1] = dh;
        }
        Bptt::ending_at(grads, dX, dh_all, dh_next)
    }
    // ANCHOR_END: backward
}
