//! The LSTM cell of the notes (§6, after Colah; Hochreiter & Schmidhuber 1997):
//!
//! ```text
//! f_t = σ(W^f_xh x_t + W^f_hh h_{t−1} + b^f_h)     forget gate
//! i_t = σ(W^i_xh x_t + W^i_hh h_{t−1} + b^i_h)     input gate
//! o_t = σ(W^o_xh x_t + W^o_hh h_{t−1} + b^o_h)     output gate
//! g_t = tanh(W^g_xh x_t + W^g_hh h_{t−1} + b^g_h)
//! c_t = f_t ∘ c_{t−1} + i_t ∘ g_t                   cell state
//! h_t = o_t ∘ tanh(c_t)                             hidden state
//! ```
//!
//! The four gates' weights are stacked as row blocks f, i, o, g of one matrix (the notes'
//! W^f_xh is rows 0..H of `W_xh`, W^i_xh rows H..2H, …). PyTorch's `nn.LSTM` stacks them
//! i, f, g, o and has two bias vectors (b_ih + b_hh); the model is the same.

use super::{Bptt, Cell, Grads, side_by_side, stack_rows};
use nalgebra::DMatrix;
use shared::activation::{sigmoid, sigmoid_grad, tanh_grad};
use shared::rng::Rng;

/// Row block of the forget gate f in `W_xh`, `W_hh`, `b_h` (block k is rows kH..(k+1)H).
pub const F: usize = 0;
/// Row block of the input gate i.
pub const I: usize = 1;
/// Row block of the output gate o.
pub const O: usize = 2;
/// Row block of the candidate g.
pub const G: usize = 3;

/// LSTM parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Lstm {
    /// 4H × D: W^f_xh, W^i_xh, W^o_xh, W^g_xh stacked as row blocks.
    pub W_xh: DMatrix<f64>,
    /// 4H × H: W^f_hh, W^i_hh, W^o_hh, W^g_hh stacked as row blocks.
    pub W_hh: DMatrix<f64>,
    /// 4H × 1: b^f_h, b^i_h, b^o_h, b^g_h.
    pub b_h: DMatrix<f64>,
}

/// What [`Lstm`]'s forward pass keeps for the backward pass: the input, the four gates of
/// every step and the states.
#[derive(Clone, Debug)]
pub struct Cache {
    /// D × T·B: the input the pass ran on.
    pub X: DMatrix<f64>,
    /// B.
    pub B: usize,
    /// f_1 … f_T, each H × B (and likewise the other gates).
    pub f: Vec<DMatrix<f64>>,
    /// i_1 … i_T.
    pub i: Vec<DMatrix<f64>>,
    /// o_1 … o_T.
    pub o: Vec<DMatrix<f64>>,
    /// g_1 … g_T.
    pub g: Vec<DMatrix<f64>>,
    /// c_0 … c_T, each H × B.
    pub c: Vec<DMatrix<f64>>,
    /// h_0 … h_T, each H × B.
    pub h: Vec<DMatrix<f64>>,
}

impl Cell for Lstm {
    const NAME: &'static str = "lstm";
    type Cache = Cache;

    // ANCHOR: init
    /// Weights uniform in ±1/√H; biases 0 except the forget gate's, 1, so that c_t starts
    /// out remembered (Gers et al. 2000; char-rnn does the same; the notes give no values).
    fn new(D: usize, H: usize, rng: &mut Rng) -> Self {
        let W_xh = shared::init::uniform_inv_sqrt(4 * H, D, H, rng);
        let W_hh = shared::init::uniform_inv_sqrt(4 * H, H, H, rng);
        let mut b_h = DMatrix::zeros(4 * H, 1);
        b_h.rows_mut(F * H, H).fill(1.0);
        Lstm { W_xh, W_hh, b_h }
    }
    // ANCHOR_END: init

    fn weights(&self) -> [&DMatrix<f64>; 3] {
        [&self.W_xh, &self.W_hh, &self.b_h]
    }

    fn weights_mut(&mut self) -> [&mut DMatrix<f64>; 3] {
        [&mut self.W_xh, &mut self.W_hh, &mut self.b_h]
    }

    /// `[h_0, c_0]`.
    fn zero_state(&self, B: usize) -> Vec<DMatrix<f64>> {
        vec![DMatrix::zeros(self.hidden_size(), B); 2]
    }

    // ANCHOR: forward
    fn forward(&self, X: &DMatrix<f64>, B: usize, state: &[DMatrix<f64>]) -> Cache {
        let T = X.ncols() / B;
        let mut cache = Cache {
            X: X.clone(),
            B,
            f: Vec::with_capacity(T),
            i: Vec::with_capacity(T),
            o: Vec::with_capacity(T),
            g: Vec::with_capacity(T),
            c: vec![state[1].clone()], // c_0: H × B
            h: vec![state[0].clone()], // h_0: H × B
        };
        for t in 0..T {
            let x_t = X.columns(t * B, B); // D × B
            let (h_prev, c_prev) = (&cache.h[t], &cache.c[t]); // H × B each
            // f_t = σ(W^f_xh x_t + W^f_hh h_{t−1} + b^f_h)                     H × B
            let f_t = self.affine(F, x_t, h_prev).map(sigmoid);
            // i_t = σ(W^i_xh x_t + W^i_hh h_{t−1} + b^i_h)                     H × B
            let i_t = self.affine(I, x_t, h_prev).map(sigmoid);
            // o_t = σ(W^o_xh x_t + W^o_hh h_{t−1} + b^o_h)                     H × B
            let o_t = self.affine(O, x_t, h_prev).map(sigmoid);
            // g_t = tanh(W^g_xh x_t + W^g_hh h_{t−1} + b^g_h)                  H × B
            let g_t = self.affine(G, x_t, h_prev).map(f64::tanh);
            // c_t = f_t ∘ c_{t−1} + i_t ∘ g_t                                   H × B
            let c_t = f_t.component_mul(c_prev) + i_t.component_mul(&g_t);
            // h_t = o_t ∘ tanh(c_t)                                             H × B
            let h_t = o_t.component_mul(&c_t.map(f64::tanh));
            cache.f.push(f_t);
            cache.i.push(i_t);
            cache.o.push(o_t);
            cache.g.push(g_t);
            cache.c.push(c_t);
            cache.h.push(h_t);
        }
        cache
    }
    // ANCHOR_END: forward

    fn outputs(cache: &Cache) -> DMatrix<f64> {
        side_by_side(&cache.h[1..])
    }

    /// `[h_T, c_T]`.
    fn last_state(cache: &Cache) -> Vec<DMatrix<f64>> {
        let T = cache.f.len();
        vec![cache.h[T].clone(), cache.c[T].clone()]
    }

    // ANCHOR: backward
    fn backward_states(&self, cache: &Cache, dH: &DMatrix<f64>) -> Bptt {
        let (X, B, H) = (&cache.X, cache.B, self.hidden_size());
        let mut grads = Grads::zeros(self);
        let mut dX = DMatrix::zeros(X.nrows(), X.ncols()); // D × T·B
        let mut dh_all = vec![DMatrix::zeros(H, B); cache.f.len() + 1]; // ∂E/∂h_0 … ∂E/∂h_T
        // ∂E/∂h_t and ∂E/∂c_t arriving from step t + 1 (none after step T)     H × B each
        let (mut dh_next, mut dc_next) = (DMatrix::zeros(H, B), DMatrix::zeros(H, B));
        for t in (0..cache.f.len()).rev() {
            let (f, i, o, g) = (&cache.f[t], &cache.i[t], &cache.o[t], &cache.g[t]); // H × B
            let (x_t, h_prev, c_prev) = (X.columns(t * B, B), &cache.h[t], &cache.c[t]);
            let tanh_c = cache.c[t + 1].map(f64::tanh); // H × B
            // h_t feeds the layer above (dH_t) and step t + 1                   H × B
            let dh = dH.columns(t * B, B) + &dh_next;
            // h_t = o_t ∘ tanh(c_t)  ⇒  ∂E/∂o_t                                 H × B
            let do_ = dh.component_mul(&tanh_c);
            // … ⇒ ∂E/∂c_t, plus what came back through c_{t+1} = f_{t+1} ∘ c_t + …
            let dc = dh.component_mul(o).component_mul(&tanh_c.map(tanh_grad)) + &dc_next;
            // c_t = f_t ∘ c_{t−1} + i_t ∘ g_t  ⇒  ∂E/∂f_t, ∂E/∂i_t, ∂E/∂g_t, ∂E/∂c_{t−1}
            let df = dc.component_mul(c_prev);
            let di = dc.component_mul(g);
            let dg = dc.component_mul(i);
            dc_next = dc.component_mul(f);
            // f, i, o = σ(a^f, a^i, a^o), g = tanh(a^g)  ⇒  ∂E/∂a (σ' = y(1 − y), tanh' = 1 − y²)
            let da = stack_rows(&[
                df.component_mul(&f.map(sigmoid_grad)),
                di.component_mul(&i.map(sigmoid_grad)),
                do_.component_mul(&o.map(sigmoid_grad)),
                dg.component_mul(&g.map(tanh_grad)),
            ]); // [da^f; da^i; da^o; da^g]: 4H × B
            // a_t = W_xh x_t + W_hh h_{t−1} + b_h (the four blocks)  ⇒  summed over t:
            grads.dW_xh += &da * x_t.transpose(); // 4H × D
            grads.dW_hh += &da * h_prev.transpose(); // 4H × H
            grads.db_h += da.column_sum(); // 4H × 1
            let dx_t = self.W_xh.transpose() * &da; // D × B
            dX.columns_mut(t * B, B).copy_from(&dx_t);
            dh_next = self.W_hh.transpose() * &da; // ∂E/∂h_{t−1}: H × B
            dh_all[t + 1] = dh;
        }
        Bptt::ending_at(grads, dX, dh_all, dh_next)
    }
    // ANCHOR_END: backward
}
