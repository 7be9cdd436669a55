//! Data-parallel mini-batches on several threads (issue 13: "use both cores where the work
//! allows it ... as an option that does not change results beyond rounding").
//!
//! The B sequences (columns) of a mini-batch are cut into N contiguous groups of B_g columns;
//! each group runs forward + backward on its own thread (`std::thread::scope`: N − 1 scoped
//! threads, the calling thread takes the last group) with its own tape and gradient buffer,
//! created once per run. The loss is a mean over the batch, so with w_g = B_g / B
//!
//!   E = (1/B) Σ_j E_j = Σ_g w_g · (1/B_g) Σ_{j∈g} E_j = Σ_g w_g E_g,   ∂E/∂θ = Σ_g w_g ∂E_g/∂θ,
//!
//! and both sums are taken in the fixed order g = 0, 1, …, N − 1 after the threads are joined:
//! a run is deterministic for a given N and equals N = 1 up to rounding (the sums over the
//! batch are grouped differently). N = 1 runs the single-threaded code unchanged.

use nalgebra::{DMatrix, DMatrixView};

pub use shared::parallel::{MAX_THREADS, check_threads, groups};

/// `dst` (D × T·b) ← the columns of sequences j0 .. j0 + b of `src` (D × T·B, step t of
/// sequence j in column tB + j).
pub fn gather_columns(src: DMatrixView<'_, f64>, B: usize, j0: usize, dst: &mut DMatrix<f64>) {
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
/// parameters in the same order.
pub fn add_weighted(grad: Vec<&mut DMatrix<f64>>, parts: &[(f64, Vec<&mut DMatrix<f64>>)]) {
    for (i, p) in grad.into_iter().enumerate() {
        for (w_g, g) in parts {
            for (a, b) in p.iter_mut().zip(g[i].iter()) {
                *a += w_g * b;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_picks_the_group_columns_of_every_step() {
        // D = 1, T = 2, B = 3: column tB + j holds 10t + j.
        let src = DMatrix::from_fn(1, 6, |_, c| (10 * (c / 3) + c % 3) as f64);
        let mut dst = DMatrix::zeros(1, 4);
        gather_columns(src.columns(0, 6), 3, 1, &mut dst);
        assert_eq!(dst.as_slice(), &[1.0, 2.0, 11.0, 12.0]);
    }
}
