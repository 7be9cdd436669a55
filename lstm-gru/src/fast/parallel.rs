//! `--groups N`: the B sequences (columns) of a mini-batch cut into N contiguous groups of B_g
//! columns (`shared::parallel::groups`); each group runs forward + backward on its own thread
//! (`std::thread::scope`: N − 1 scoped threads, the calling thread takes the last group) with
//! its own cache and gradients, made once per run. The loss is a mean over the batch, so with
//! w_g = B_g / B
//!
//!   E = (1/B) Σ_j E_j = Σ_g w_g · (1/B_g) Σ_{j∈g} E_j = Σ_g w_g E_g,   ∂E/∂θ = Σ_g w_g ∂E_g/∂θ,
//!
//! and both sums are taken in the fixed order g = 0, 1, …, N − 1 after the threads are joined:
//! a run is deterministic for a given N and equals N = 1 up to rounding (the sums over the
//! batch are grouped differently). N = 1 runs the single-threaded code unchanged.

use super::adding::{AddingCache, FastAdding};
use super::charlm::{FastLm, LmCache};
use super::{Cache, FastCell, Kernels, NetGrads};
use nalgebra::{DMatrix, DMatrixView};
use shared::parallel::groups;

/// `dst` (D × T·b) ← the columns of sequences j0 .. j0 + b of `src` (D × T·B, step t of
/// sequence j in column tB + j).
pub fn gather_columns<F: Kernels>(
    src: DMatrixView<'_, F>,
    B: usize,
    j0: usize,
    dst: &mut DMatrix<F>,
) {
    let b = dst.ncols() / (src.ncols() / B);
    for t in 0..src.ncols() / B {
        dst.columns_mut(t * b, b)
            .copy_from(&src.columns(t * B + j0, b));
    }
}

/// Runs `job` on every part, each on its own thread (the last on the calling thread), and
/// returns when all are done.
pub fn for_each_part<P: Send>(parts: &mut [P], job: impl Fn(&mut P) + Sync) {
    let Some((last, rest)) = parts.split_last_mut() else {
        return;
    };
    if rest.is_empty() {
        return job(last);
    }
    let job = &job;
    std::thread::scope(|s| {
        for p in rest {
            s.spawn(move || job(p));
        }
        job(last);
    });
}

/// ∂E/∂θ += Σ_g w_g ∂E_g/∂θ, g in order: `grad` and every `parts[g].1` list the same
/// parameters in the same order (w_g rounded to `F`).
pub fn add_weighted<F: Kernels>(grad: Vec<&mut DMatrix<F>>, parts: &[(f64, Vec<&mut DMatrix<F>>)]) {
    for (i, p) in grad.into_iter().enumerate() {
        for (w_g, g) in parts {
            let w_g = F::round_from(*w_g);
            for (a, b) in p.iter_mut().zip(g[i].iter()) {
                *a += w_g * *b;
            }
        }
    }
}

/// ∂E/∂θ += Σ_g w_g ∂E_g/∂θ over the groups' gradients; returns E = Σ_g w_g E_g (g in order).
fn reduce<'a, F: Kernels>(
    grads: &mut NetGrads<F>,
    parts: impl Iterator<Item = (f64, f64, &'a mut NetGrads<F>)>,
) -> f64 {
    let (mut sums, mut loss) = (Vec::new(), 0.0);
    for (w, e, g) in parts {
        sums.push((w, g.list_mut()));
        loss += w * e;
    }
    add_weighted(grads.list_mut(), &sums);
    loss
}

/// [`FastAdding::backward_fast`] with the batch's sequences split over threads: each group's
/// own copy of its sequences, cache and gradients.
#[derive(Clone, Debug)]
pub struct AddingParallel<C: FastCell, F: Kernels> {
    parts: Vec<AddingPart<C, F>>,
}

/// One group of sequences j0 .. j0 + B_g.
#[derive(Clone, Debug)]
struct AddingPart<C: FastCell, F: Kernels> {
    j0: usize,
    /// w_g = B_g / B.
    w: f64,
    /// 2 × T·B_g and 1 × B_g: the group's sequences and sums.
    X: DMatrix<F>,
    target: DMatrix<f64>,
    cache: AddingCache<C, F>,
    grads: NetGrads<F>,
    mse: f64,
}

impl<C: FastCell, F: Kernels> AddingParallel<C, F> {
    /// The groups of T steps of B sequences of `net` on `threads` threads (fewer if B is).
    pub fn new(net: &FastAdding<C, F>, T: usize, B: usize, threads: usize) -> Self {
        let parts = (groups(B, threads).into_iter())
            .map(|(j0, b)| AddingPart {
                j0,
                w: b as f64 / B as f64,
                X: DMatrix::zeros(net.rnn.input_size(), T * b),
                target: DMatrix::zeros(1, b),
                cache: net.fast_cache(T, b),
                grads: net.zero_grads(),
                mse: 0.0,
            })
            .collect();
        AddingParallel { parts }
    }

    /// Threads used (min(N, B)).
    pub fn threads(&self) -> usize {
        self.parts.len()
    }

    /// Forward and backward pass of the sequences `X` (2 × T·B) with sums `target` (1 × B),
    /// group g on thread g; *accumulates* ∂MSE/∂θ = Σ_g w_g ∂MSE_g/∂θ into `grads` and returns
    /// MSE = Σ_g w_g MSE_g (g in order).
    pub fn backward(
        &mut self,
        net: &FastAdding<C, F>,
        X: &DMatrix<F>,
        target: &DMatrix<f64>,
        grads: &mut NetGrads<F>,
    ) -> f64 {
        let B = target.ncols();
        for p in self.parts.iter_mut() {
            let b = p.target.ncols();
            gather_columns(X.columns(0, X.ncols()), B, p.j0, &mut p.X);
            p.target.copy_from(&target.columns(p.j0, b));
        }
        for_each_part(&mut self.parts, |p| {
            p.grads.zero();
            let X = p.X.columns(0, p.X.ncols());
            p.mse = net.backward_fast(X, &p.target, &mut p.cache, &mut p.grads);
        });
        reduce(
            grads,
            self.parts.iter_mut().map(|p| (p.w, p.mse, &mut p.grads)),
        )
    }
}

/// [`FastLm::backward_fast`] with the B streams split into contiguous groups, one per thread.
/// Each group has its own inputs, cache (which carries its streams' states from chunk to
/// chunk) and gradients, made once per run.
#[derive(Clone, Debug)]
pub struct LmParallel<C: FastCell, F: Kernels> {
    parts: Vec<LmPart<C, F>>,
}

/// The streams j0 .. j0 + B_g.
#[derive(Clone, Debug)]
struct LmPart<C: FastCell, F: Kernels> {
    j0: usize,
    /// w_g = B_g / B.
    w: f64,
    inputs: Vec<usize>,
    targets: Vec<usize>,
    cache: LmCache<C, F>,
    grads: NetGrads<F>,
    loss: f64,
}

impl<C: FastCell, F: Kernels> LmParallel<C, F> {
    /// Groups for the T and B of `cache` on `threads` threads (fewer if B < threads), starting
    /// from `cache`'s carried states (those of a resumed checkpoint).
    pub fn new(model: &FastLm<C, F>, cache: &LmCache<C, F>, threads: usize) -> Self {
        let (T, B) = (cache.rnn.steps(), cache.rnn.batch());
        let parts = (groups(B, threads).into_iter())
            .map(|(j0, b)| {
                let mut mine = model.fast_cache(T, b);
                for (mine, all) in mine.rnn.layers.iter_mut().zip(&cache.rnn.layers) {
                    let state: Vec<DMatrix<F>> = (all.initial_state().iter())
                        .map(|m| m.columns(j0, b).into_owned())
                        .collect();
                    mine.set_initial_state(&state)
                        .expect("same layers and shapes");
                }
                LmPart {
                    j0,
                    w: b as f64 / B as f64,
                    inputs: vec![0; T * b],
                    targets: vec![0; T * b],
                    cache: mine,
                    grads: model.zero_grads(),
                    loss: 0.0,
                }
            })
            .collect();
        LmParallel { parts }
    }

    /// Threads used.
    pub fn threads(&self) -> usize {
        self.parts.len()
    }

    /// Zero states in every group.
    pub fn reset(&mut self) {
        self.parts.iter_mut().for_each(|p| p.cache.rnn.reset());
    }

    /// h_0 ← h_T (and c_0 ← c_T) in every group.
    pub fn carry(&mut self) {
        self.parts.iter_mut().for_each(|p| p.cache.rnn.carry());
    }

    /// Copies the groups' carried states into `cache` (columns j0 .. j0 + B_g).
    pub fn store_state(&self, cache: &mut LmCache<C, F>) {
        for (l, all) in cache.rnn.layers.iter_mut().enumerate() {
            let mut state = all.initial_state();
            for p in &self.parts {
                let mine = p.cache.rnn.layers[l].initial_state();
                for (m, g) in state.iter_mut().zip(&mine) {
                    m.columns_mut(p.j0, g.ncols()).copy_from(g);
                }
            }
            all.set_initial_state(&state)
                .expect("same layers and shapes");
        }
    }

    /// Forward and backward pass of the chunk (`inputs`, `targets`: T·B ids, step t of stream
    /// j at tB + j), group g on thread g; *accumulates* ∂E/∂θ = Σ_g w_g ∂E_g/∂θ into `grads`
    /// and returns E = Σ_g w_g E_g (g in order).
    pub fn backward(
        &mut self,
        model: &FastLm<C, F>,
        inputs: &[usize],
        targets: &[usize],
        grads: &mut NetGrads<F>,
    ) -> f64 {
        let T = self.parts[0].cache.rnn.steps();
        let B = inputs.len() / T;
        for p in self.parts.iter_mut() {
            let b = p.inputs.len() / T;
            for t in 0..T {
                let (mine, all) = (t * b..(t + 1) * b, t * B + p.j0..t * B + p.j0 + b);
                p.inputs[mine.clone()].copy_from_slice(&inputs[all.clone()]);
                p.targets[mine].copy_from_slice(&targets[all]);
            }
        }
        for_each_part(&mut self.parts, |p| {
            p.grads.zero();
            p.loss = model.backward_fast(&p.inputs, &p.targets, &mut p.cache, &mut p.grads);
        });
        reduce(
            grads,
            self.parts.iter_mut().map(|p| (p.w, p.loss, &mut p.grads)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_picks_the_group_columns_of_every_step() {
        // D = 1, T = 2, B = 3: column tB + j holds 10t + j.
        let src = DMatrix::from_fn(1, 6, |_, c| (10 * (c / 3) + c % 3) as f64);
        let mut dst = DMatrix::<f64>::zeros(1, 4);
        gather_columns(src.columns(0, 6), 3, 1, &mut dst);
        assert_eq!(dst.as_slice(), &[1.0, 2.0, 11.0, 12.0]);
    }
}
