//! The engine pass of a [`Stack`] ([`FastStack`], see [`crate::model::stack`]): layer l reads
//! the outputs of layer l − 1 straight from that layer's cache (a view, no copy), and the
//! backward pass hands each layer's ∂E/∂x down through buffers made once.

use super::{Cache, FastCell, Grads, Kernels, Layer};
use crate::model::Stack;
use nalgebra::{DMatrix, DMatrixView};

/// A [`Stack`] of cells `C` in the engine, parameters in `F`.
#[derive(Clone, Debug)]
pub struct FastStack<C: FastCell, F: Kernels> {
    /// Layer 0 reads the input (D → H), the others read the layer below (H → H).
    pub layers: Vec<C::Layer<F>>,
}

/// The caches of a [`FastStack`]'s layers plus the buffers that carry ∂E/∂y between them.
#[derive(Clone, Debug)]
pub struct StackCache<C: FastCell, F: Kernels> {
    /// One cache per layer, bottom first.
    pub layers: Vec<<C::Layer<F> as Layer<F>>::Cache>,
    /// H × T·B per layer above the first: ∂E/∂(input of layer l) = ∂E/∂y_{l−1}.
    dX: Vec<DMatrix<F>>,
}

impl<C: FastCell, F: Kernels> StackCache<C, F> {
    /// H × T·B: the top layer's outputs h_1 … h_T.
    pub fn outputs(&self) -> DMatrixView<'_, F> {
        self.layers.last().expect("at least one layer").outputs()
    }
    /// H × B: the top layer's state h_t (t = T: the last).
    pub fn h(&self, t: usize) -> DMatrixView<'_, F> {
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
    pub fn initial_state(&self) -> Vec<Vec<DMatrix<F>>> {
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

impl<C: FastCell, F: Kernels> FastStack<C, F> {
    /// The engine twin of `stack` (parameters rounded to `F`).
    pub fn from_model(stack: &Stack<C>) -> Self {
        FastStack {
            layers: stack.layers.iter().map(C::to_layer).collect(),
        }
    }

    /// The notes-layer stack of this one (parameters as f64, exact).
    pub fn to_model(&self) -> Stack<C> {
        Stack {
            layers: self.layers.iter().map(C::from_layer).collect(),
        }
    }

    /// D.
    pub fn input_size(&self) -> usize {
        self.layers[0].input_size()
    }

    /// H (the top layer's hidden size).
    pub fn hidden_size(&self) -> usize {
        let top = self.layers.last().expect("at least one layer");
        top.hidden_size()
    }

    /// Every parameter, the layers' bottom first, each W_xh, W_hh, b_h.
    pub fn params_mut(&mut self) -> Vec<&mut DMatrix<F>> {
        self.layers
            .iter_mut()
            .flat_map(Layer::weights_mut)
            .collect()
    }

    /// Zero gradients, one [`Grads`] per layer.
    pub fn zero_grads(&self) -> Vec<Grads<F>> {
        self.layers.iter().map(Grads::zeros).collect()
    }

    /// Caches for T steps of B examples, zero initial states.
    pub fn fast_cache(&self, T: usize, B: usize) -> StackCache<C, F> {
        StackCache {
            layers: self.layers.iter().map(|c| c.fast_cache(T, B)).collect(),
            dX: (self.layers[1..].iter())
                .map(|c| DMatrix::zeros(c.input_size(), T * B))
                .collect(),
        }
    }

    /// y₁ = RNN₁(x), y₂ = RNN₂(y₁), …: `X` is D × T·B; the result is `cache.outputs()`.
    pub fn forward_fast(&self, X: DMatrixView<'_, F>, cache: &mut StackCache<C, F>) {
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
        X: DMatrixView<'_, F>,
        cache: &mut StackCache<C, F>,
        dY: DMatrixView<'_, F>,
        grads: &mut [Grads<F>],
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
