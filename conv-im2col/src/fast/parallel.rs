//! Data-parallel mini-batches on several threads, `train --threads N`: both cores where the
//! work allows it, with results that change only by rounding.
//!
//! The B examples (columns) of a mini-batch are cut into N contiguous groups of B_g columns;
//! each group runs forward + backward of FastConvNet on its own thread
//! (`std::thread::scope`: N − 1 scoped threads on replicas of the network, the calling thread
//! takes the last group on the network itself), each with its own activations, im2col buffer
//! and gradients, created once per run. The loss is a mean over the batch and each group's
//! backward starts from dS3 = (Y3 − T)/B_g, so with w_g = B_g / B
//!
//!   L = (1/B) Σ_n L_n = Σ_g w_g · (1/B_g) Σ_{n∈g} L_n = Σ_g w_g L_g,   ∂L/∂θ = Σ_g w_g ∂L_g/∂θ,
//!
//! and both sums are taken in the fixed order g = 0, 1, …, N − 1 after the threads are joined:
//! a run is deterministic for a given N and equals N = 1 up to rounding (the sums over the
//! batch in dW = dA·col etc. are grouped differently). The single Adam step then runs on the
//! network as before. Scores (the accuracy passes) are split the same way; a column's scores
//! depend on that column only, so the counts of right answers add up.
//!
//! N = 1 runs the single-threaded code unchanged (same bytes as before `--threads`). The
//! checkpoint does not record N: `--resume` may use another thread count (the continued run
//! then equals the uninterrupted one up to rounding; with the same N, to the bit).

#![allow(non_snake_case)]

use super::Float;
use super::im2col::ensure_shape;
use super::net::{Classifier, FastConvNet};
use nalgebra::DMatrix;
use shared::Result;

pub use shared::parallel::{MAX_THREADS, check_threads, groups};

/// One group's inputs and result.
#[derive(Clone, Debug)]
struct Group<T: Float> {
    /// (C·H·W) × B_g: the group's columns of the batch.
    X: DMatrix<T>,
    /// B_g labels.
    t: Vec<usize>,
    /// L_g, the group's mean loss.
    loss: f64,
}

impl<T: Float> Group<T> {
    fn empty() -> Self {
        Group {
            X: DMatrix::zeros(0, 0),
            t: Vec::new(),
            loss: 0.0,
        }
    }
}

/// The replicas and buffers of a run on N threads (made once per run).
#[derive(Clone, Debug)]
pub struct Parallel<T: Float = f64> {
    /// N − 1 copies of the network for groups 0 … N − 2 (their weights are copied from the
    /// network before each use; their activations and gradients are their own).
    replicas: Vec<FastConvNet<T>>,
    /// N groups.
    groups: Vec<Group<T>>,
    /// classes × B: the scores of a whole batch, assembled from the groups'.
    S: DMatrix<T>,
}

impl<T: Float> Parallel<T> {
    /// Buffers for `net` on `threads` threads (checked by [`check_threads`]).
    pub fn new(net: &FastConvNet<T>, threads: usize) -> Result<Self> {
        let n = check_threads(threads)?;
        Ok(Parallel {
            replicas: vec![net.clone(); n - 1],
            groups: vec![Group::empty(); n],
            S: DMatrix::zeros(0, 0),
        })
    }

    /// N.
    pub fn threads(&self) -> usize {
        self.groups.len()
    }

    /// `net` on these threads, as a [`Classifier`] (for [`crate::train::train_epoch`],
    /// [`crate::train::accuracy`]).
    pub fn on<'a>(&'a mut self, net: &'a mut FastConvNet<T>) -> Threaded<'a, T> {
        Threaded { net, par: self }
    }

    /// Copies the columns of each group of `X` (and their labels `t`, if any) into the
    /// group buffers and the network's weights into the replicas; returns the groups.
    fn scatter(
        &mut self,
        net: &FastConvNet<T>,
        X: &DMatrix<T>,
        t: &[usize],
    ) -> Vec<(usize, usize)> {
        let parts = groups(X.ncols(), self.threads());
        let len = X.nrows();
        for (&(n0, b), grp) in parts.iter().zip(&mut self.groups) {
            ensure_shape(&mut grp.X, len, b);
            grp.X
                .as_mut_slice()
                .copy_from_slice(&X.as_slice()[n0 * len..(n0 + b) * len]);
            grp.t.clear();
            grp.t.extend_from_slice(t.get(n0..n0 + b).unwrap_or(&[]));
        }
        for r in &mut self.replicas[..parts.len() - 1] {
            r.conv1.W.copy_from(&net.conv1.W);
            r.conv1.b.copy_from(&net.conv1.b);
            r.affine2.W.copy_from(&net.affine2.W);
            r.affine2.b.copy_from(&net.affine2.b);
            r.affine3.W.copy_from(&net.affine3.W);
            r.affine3.b.copy_from(&net.affine3.b);
        }
        parts
    }
}

/// Runs `job(net, group)` for the first `k` groups: groups 0 … k − 2 on scoped threads with
/// the replicas, group k − 1 on the calling thread with `net`; returns when all are done.
fn run_groups<T: Float>(
    net: &mut FastConvNet<T>,
    replicas: &mut [FastConvNet<T>],
    groups: &mut [Group<T>],
    job: impl Fn(&mut FastConvNet<T>, &mut Group<T>) + Sync,
) {
    let Some((last, rest)) = groups.split_last_mut() else {
        return;
    };
    let job = &job;
    std::thread::scope(|s| {
        for (r, g) in replicas.iter_mut().zip(rest) {
            s.spawn(move || job(r, g));
        }
        job(net, last);
    });
}

/// A network and its [`Parallel`] buffers: a [`Classifier`] whose gradient and scores are
/// computed group by group on N threads.
pub struct Threaded<'a, T: Float = f64> {
    net: &'a mut FastConvNet<T>,
    par: &'a mut Parallel<T>,
}

impl<T: Float> Classifier for Threaded<'_, T> {
    type T = T;

    fn scores(&mut self, X: &DMatrix<T>) -> &DMatrix<T> {
        let parts = self.par.scatter(self.net, X, &[]);
        let k = parts.len();
        let Parallel {
            replicas,
            groups,
            S,
            ..
        } = &mut *self.par;
        // S3 = scores of each group's columns (forward only).
        run_groups(self.net, replicas, &mut groups[..k], |net, g| {
            net.forward(&g.X);
        });
        ensure_shape(S, self.net.config.classes, X.ncols());
        // S = [S3_0 | S3_1 | … ]: the groups' scores side by side (classes × B).
        let nets = replicas[..k - 1].iter().chain(std::iter::once(&*self.net));
        for (&(n0, b), net) in parts.iter().zip(nets) {
            S.columns_mut(n0, b).copy_from(net.last_scores());
        }
        S
    }

    fn gradient(&mut self, X: &DMatrix<T>, t: &[usize]) -> f64 {
        let parts = self.par.scatter(self.net, X, t);
        let k = parts.len();
        let Parallel {
            replicas, groups, ..
        } = &mut *self.par;
        // L_g and ∂L_g/∂θ of each group, dS3 = (Y3 − T)/B_g.
        run_groups(self.net, replicas, &mut groups[..k], |net, g| {
            g.loss = net.gradient(&g.X, &g.t);
        });
        // w_g = B_g / B; the network holds the last group's gradients.
        let B = X.ncols() as f64;
        let w: Vec<f64> = parts.iter().map(|&(_, b)| b as f64 / B).collect();
        let wT: Vec<T> = w.iter().map(|&w_g| T::round_from(w_g)).collect();
        let others: Vec<[&DMatrix<T>; 6]> = replicas[..k - 1].iter().map(|r| r.grads()).collect();
        // ∂L/∂θ = Σ_g w_g ∂L_g/∂θ, g = 0 … N − 1 in order.
        for (i, d) in self.net.grads_mut().into_iter().enumerate() {
            for (j, x) in d.iter_mut().enumerate() {
                let mut sum = T::zero();
                for (&w_g, r) in wT.iter().zip(&others) {
                    sum += w_g * r[i][j];
                }
                *x = sum + wT[k - 1] * *x;
            }
        }
        // L = Σ_g w_g L_g, in order.
        w.iter()
            .zip(&groups[..k])
            .map(|(w_g, g)| w_g * g.loss)
            .sum()
    }

    fn update(&mut self, opt: &mut T::Optimizer) {
        self.net.update(opt);
    }
}
