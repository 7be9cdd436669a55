//! The engine pass of a [`Stack`] (see [`crate::model::stack`]): layer l reads the outputs of
//! layer l − 1 straight from that layer's cache (a view, no copy), and the backward pass hands
//! each layer's ∂E/∂x down through buffers made once.

use super::{Cache, FastCell};
use crate::model::{Grads, Stack};
use nalgebra::{DMatrix, DMatrixView};

/// The caches of a [`Stack`]'s layers plus the buffers that carry ∂E/∂y between them.
#[derive(Clone, Debug)]
pub struct StackCache<C: FastCell> {
    /// One cache per layer, bottom first.
    pub layers: Vec<C::FastCache>,
    /// H × T·B per layer above the first: ∂E/∂(input of layer l) = ∂E/∂y_{l−1}.
    dX: Vec<DMatrix<f64>>,
}

impl<C: FastCell> StackCache<C> {
    /// H × T·B: the top layer's outputs h_1 … h_T.
    pub fn outputs(&self) -> DMatrixView<'_, f64> {
        self.layers.last().expect("at least one layer").outputs()
    }
    /// H × B: the top layer's state h_t (t = T: the last).
    pub fn h(&self, t: usize) -> DMatrixView<'_, f64> {
        self.layers.last().expect("at least one layer").h(t)
    }
    /// Carries every layer's final state over to the next chunk.
    pub fn carry(&mut self) {
        self.layers.iter_mut().for_each(Cache::carry);
    }
    /// Zeroes every layer's initial state.
    pub fn reset(&mut self) {
        self.layers.iter_mut().for_each(Cache::reset);
    }
    /// Every layer's initial state, as the model's [`Stack::zero_state`].
    pub fn initial_state(&self) -> Vec<Vec<DMatrix<f64>>> {
        self.layers.iter().map(Cache::initial_state).collect()
    }
    /// T.
    pub fn steps(&self) -> usize {
        self.layers[0].steps()
    }
    /// B.
    pub fn batch(&self) -> usize {
        self.layers[0].batch()
    }
}

impl<C: FastCell> Stack<C> {
    /// Caches for T steps of B examples, zero initial states.
    pub fn fast_cache(&self, T: usize, B: usize) -> StackCache<C> {
        StackCache {
            layers: self.layers.iter().map(|c| c.fast_cache(T, B)).collect(),
            dX: (self.layers[1..].iter())
                .map(|c| DMatrix::zeros(c.input_size(), T * B))
                .collect(),
        }
    }

    /// y₁ = RNN₁(x), y₂ = RNN₂(y₁), …: `X` is D × T·B; the result is `cache.outputs()`.
    pub fn forward_fast(&self, X: DMatrixView<'_, f64>, cache: &mut StackCache<C>) {
        for (l, layer) in self.layers.iter().enumerate() {
            let (below, rest) = cache.layers.split_at_mut(l);
            let input = match below.last() {
                None => X.columns(0, X.ncols()),
                Some(c) => c.outputs(),
            };
            layer.forward_fast(input, &mut rest[0]);
        }
    }

    /// BPTT through every layer, top-down: `dY` (H × T·B) is ∂E/∂y of the top layer's
    /// outputs. Accumulates into `grads` (one per layer, bottom first).
    pub fn backward_fast(
        &self,
        X: DMatrixView<'_, f64>,
        cache: &mut StackCache<C>,
        dY: DMatrixView<'_, f64>,
        grads: &mut [Grads],
    ) {
        let L = self.layers.len();
        for l in (0..L).rev() {
            let (below, rest) = cache.layers.split_at_mut(l);
            let input = match below.last() {
                None => X.columns(0, X.ncols()),
                Some(c) => c.outputs(),
            };
            // dX[l − 1] holds ∂E/∂(input of layer l); layer l's ∂E/∂y came from above.
            let (dX_below, dX_above) = cache.dX.split_at_mut(l);
            let dy = if l + 1 == L {
                dY.columns(0, dY.ncols())
            } else {
                dX_above[0].columns(0, dX_above[0].ncols())
            };
            let dx = dX_below.last_mut(); // None for layer 0: ∂E/∂x is not needed
            self.layers[l].backward_fast(input, &mut rest[0], dy, &mut grads[l], dx);
        }
    }
}
