//! Stacked recurrent layers, notes §6: "independent RNNs (or LSTMs) stacked into a deep
//! network":
//!
//! ```text
//! y₁ = RNN₁(x),  y₂ = RNN₂(y₁),  …,  y = RNN_n(y_{n−1})
//! ```
//!
//! Layer l reads the outputs h_1 … h_T of layer l − 1; the backward pass runs the layers
//! top-down, each one's ∂E/∂x becoming the ∂E/∂y of the layer below.

use super::{Cell, Grads};
use nalgebra::DMatrix;
use shared::rng::Rng;

/// L layers of one cell type.
#[derive(Clone, Debug, PartialEq)]
pub struct Stack<C: Cell> {
    /// Layer 0 reads the input (D → H), the others read the layer below (H → H).
    pub layers: Vec<C>,
}

/// What [`Stack::forward`] keeps: each layer's cache (which holds that layer's input).
#[derive(Clone, Debug)]
pub struct Cache<C: Cell> {
    /// Bottom first.
    pub layers: Vec<C::Cache>,
}

impl<C: Cell> Stack<C> {
    /// `L` layers of `C` (L ≥ 1): D → H, then H → H.
    pub fn new(D: usize, H: usize, L: usize, rng: &mut Rng) -> Self {
        assert!(L >= 1, "at least one layer");
        let layers = (0..L)
            .map(|l| C::new(if l == 0 { D } else { H }, H, rng))
            .collect();
        Stack { layers }
    }

    /// D.
    pub fn input_size(&self) -> usize {
        self.layers[0].input_size()
    }

    /// H (the top layer's hidden size).
    pub fn hidden_size(&self) -> usize {
        self.layers
            .last()
            .expect("at least one layer")
            .hidden_size()
    }

    /// Every layer's zero state (see [`Cell::zero_state`]).
    pub fn zero_state(&self, B: usize) -> Vec<Vec<DMatrix<f64>>> {
        self.layers.iter().map(|c| c.zero_state(B)).collect()
    }

    /// y₁ = RNN₁(x), y₂ = RNN₂(y₁), …: `X` is D × T·B, `state[l]` the state layer l starts from.
    pub fn forward(&self, X: &DMatrix<f64>, B: usize, state: &[Vec<DMatrix<f64>>]) -> Cache<C> {
        let mut layers = Vec::with_capacity(self.layers.len());
        let mut y = X.clone(); // y₀ = x                                                   D × T·B
        for (layer, s) in self.layers.iter().zip(state) {
            let cache = layer.forward(&y, B, s); // y_l = RNN_l(y_{l−1})
            y = C::outputs(&cache); //                                                     H × T·B
            layers.push(cache);
        }
        Cache { layers }
    }

    /// y = the top layer's outputs h_1 … h_T (H × T·B).
    pub fn outputs(cache: &Cache<C>) -> DMatrix<f64> {
        C::outputs(cache.layers.last().expect("at least one layer"))
    }

    /// Every layer's last state (see [`Cell::last_state`]).
    pub fn last_state(cache: &Cache<C>) -> Vec<Vec<DMatrix<f64>>> {
        cache.layers.iter().map(C::last_state).collect()
    }

    /// BPTT through every layer, top-down, from ∂E/∂y (`dY`, H × T·B): each layer's gradients
    /// (bottom first) and ∂E/∂x.
    pub fn backward(&self, cache: &Cache<C>, dY: &DMatrix<f64>) -> (Vec<Grads>, DMatrix<f64>) {
        let mut grads = Vec::with_capacity(self.layers.len());
        let mut dy = dY.clone(); //                                                      H × T·B
        for (layer, c) in self.layers.iter().zip(&cache.layers).rev() {
            // y_l = RNN_l(y_{l−1})  ⇒  ∂E/∂y_{l−1} is layer l's ∂E/∂x
            let (g, dx) = layer.backward(c, &dy);
            grads.push(g);
            dy = dx;
        }
        grads.reverse();
        (grads, dy)
    }

    /// Every layer's parameters, named `l{layer}.{name}` (e.g. `l0.W_hh`).
    pub fn params(&self) -> Vec<(String, &DMatrix<f64>)> {
        (self.layers.iter().enumerate())
            .flat_map(|(l, c)| {
                (c.params().into_iter()).map(move |(name, p)| (format!("l{l}.{name}"), p))
            })
            .collect()
    }

    /// The same parameters, mutable, in the same order.
    pub fn params_mut(&mut self) -> Vec<&mut DMatrix<f64>> {
        self.layers
            .iter_mut()
            .flat_map(|c| c.params_mut())
            .collect()
    }
}
