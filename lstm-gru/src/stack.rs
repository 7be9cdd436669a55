//! Stacked recurrent layers, notes §6: "independent RNNs (or LSTMs) stacked into a deep
//! network": y₁ = RNN₁(x), y₂ = RNN₂(y₁), …, y = RNN_n(y_{n−1}).
//!
//! Layer l reads the outputs h_1 … h_T of layer l − 1 (an H × T·B view of that layer's tape,
//! no copy); the backward pass runs the layers top-down, each one's ∂E/∂x becoming the ∂E/∂y
//! of the layer below.

use crate::{Cell, Tape};
use nalgebra::{DMatrix, DMatrixView};
use shared::rng::Rng;

/// L layers of one cell type (or, for a gradient buffer, their gradients).
#[derive(Clone, Debug, PartialEq)]
pub struct Stack<C: Cell> {
    /// Layer 0 reads the input (D → H), the others read the layer below (H → H).
    pub layers: Vec<C>,
}

/// The tapes of a [`Stack`]'s layers plus the buffers that carry ∂E/∂y between them.
#[derive(Clone, Debug)]
pub struct StackTape<C: Cell> {
    /// One tape per layer.
    pub tapes: Vec<C::Tape>,
    /// H × T·B per layer above the first: ∂E/∂(input of layer l) = ∂E/∂y_{l−1}.
    dX: Vec<DMatrix<f64>>,
}

impl<C: Cell> StackTape<C> {
    /// H × T·B: the top layer's outputs h_1 … h_T.
    pub fn outputs(&self) -> DMatrixView<'_, f64> {
        self.tapes.last().expect("at least one layer").outputs()
    }
    /// H × B: the top layer's state h_t (t = T: the last).
    pub fn h(&self, t: usize) -> DMatrixView<'_, f64> {
        self.tapes.last().expect("at least one layer").h(t)
    }
    /// Carries every layer's final state over to the next chunk.
    pub fn carry(&mut self) {
        self.tapes.iter_mut().for_each(Tape::carry);
    }
    /// Zeroes every layer's initial state.
    pub fn reset(&mut self) {
        self.tapes.iter_mut().for_each(Tape::reset);
    }
    /// T.
    pub fn steps(&self) -> usize {
        self.tapes[0].steps()
    }
    /// B.
    pub fn batch(&self) -> usize {
        self.tapes[0].batch()
    }
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

    /// H (the top layer's hidden size).
    pub fn hidden_size(&self) -> usize {
        self.layers
            .last()
            .expect("at least one layer")
            .hidden_size()
    }

    /// D.
    pub fn input_size(&self) -> usize {
        self.layers[0].input_size()
    }

    /// Tapes for T steps of B examples, zero initial states.
    pub fn tape(&self, T: usize, B: usize) -> StackTape<C> {
        StackTape {
            tapes: self.layers.iter().map(|c| c.tape(T, B)).collect(),
            dX: self.layers[1..]
                .iter()
                .map(|c| DMatrix::zeros(c.input_size(), T * B))
                .collect(),
        }
    }

    /// y₁ = RNN₁(x), y₂ = RNN₂(y₁), …: `X` is D × T·B; the result is `tape.outputs()`.
    pub fn forward(&self, X: DMatrixView<'_, f64>, tape: &mut StackTape<C>) {
        for (l, layer) in self.layers.iter().enumerate() {
            let (below, rest) = tape.tapes.split_at_mut(l);
            let input = match below.last() {
                None => X.columns(0, X.ncols()),
                Some(t) => t.outputs(),
            };
            layer.forward(input, &mut rest[0]);
        }
    }

    /// BPTT through every layer, top-down: `dY` (H × T·B) is ∂E/∂y of the top layer's
    /// outputs. Accumulates into `grad` (zero it first with [`Stack::zero`]).
    pub fn backward(
        &self,
        X: DMatrixView<'_, f64>,
        tape: &mut StackTape<C>,
        dY: DMatrixView<'_, f64>,
        grad: &mut Stack<C>,
    ) {
        let L = self.layers.len();
        for l in (0..L).rev() {
            let (below, rest) = tape.tapes.split_at_mut(l);
            let input = match below.last() {
                None => X.columns(0, X.ncols()),
                Some(t) => t.outputs(),
            };
            // dX[l − 1] holds ∂E/∂(input of layer l); layer l's ∂E/∂y came from above.
            let (dX_below, dX_above) = tape.dX.split_at_mut(l);
            let dy = if l + 1 == L {
                dY.columns(0, dY.ncols())
            } else {
                dX_above[0].columns(0, dX_above[0].ncols())
            };
            let dx = dX_below.last_mut(); // None for layer 0: ∂E/∂x is not needed
            self.layers[l].backward(input, &mut rest[0], dy, &mut grad.layers[l], dx);
        }
    }

    /// A zero gradient buffer of the same shape.
    pub fn zeros_like(&self) -> Self {
        Stack {
            layers: self.layers.iter().map(Cell::zeros_like).collect(),
        }
    }

    /// Sets every parameter to zero.
    pub fn zero(&mut self) {
        self.layers.iter_mut().for_each(Cell::zero);
    }

    /// Every layer's parameters, named `l{layer}.{name}` (e.g. `l0.W_hh`).
    pub fn params(&self) -> Vec<(String, &DMatrix<f64>)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(l, c)| {
                c.params()
                    .into_iter()
                    .map(move |(name, p)| (format!("l{l}.{name}"), p))
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
