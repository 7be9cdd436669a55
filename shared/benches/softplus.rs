//! `shared::kernels::softplus` against its plain references: the row products Σ_o softplus(·)
//! over a table, the exact log partition function and the model expectations of a layer of
//! binary units (an RBM with 64 visible units summed over 12 or 16 hidden ones, and bars and
//! stripes' 16 × 16).
//!
//! Throughput is counted in (configuration, unit) pairs: one e^x, one max and one product each.

#![allow(non_snake_case)]

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use nalgebra::DMatrix;
use shared::kernels::softplus::{
    log_partition, log_partition_ref, log_row_products, log_row_products_ref,
    partition_expectations, partition_expectations_ref,
};

fn main() {
    divan::main();
}

/// M (n_o × n_s) with entries of about ±1.5, and small biases: a trained RBM's size.
fn layer(n_o: usize, n_s: usize) -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
    let mut r = shared::rng::seeded(3);
    let M = shared::init::normal(n_o, n_s, 0.0, 1.5, &mut r);
    let c_s = shared::init::normal(n_s, 1, 0.0, 0.1, &mut r);
    let c_o = shared::init::normal(n_o, 1, 0.0, 0.1, &mut r);
    (M, c_s, c_o)
}

/// A table of 256 columns of n_o units (one block of the exact log Z at n_o = 64).
fn table(n_o: usize) -> (Vec<f64>, Vec<f64>) {
    let (M, _, c_o) = layer(n_o, 256);
    (M.as_slice().to_vec(), c_o.as_slice().to_vec())
}

mod row_products {
    use super::*;

    const SIZES: [usize; 3] = [12, 64, 784];

    #[divan::bench(args = SIZES)]
    fn kernel(b: Bencher, n_o: usize) {
        let (X, s) = table(n_o);
        let (mut t, mut sig) = (vec![0.0; 256], vec![0.0; X.len()]);
        b.counter(ItemsCount::new(X.len())).bench_local(|| {
            log_row_products(black_box(&X), n_o, &s, &mut t, Some(&mut sig));
        });
    }

    #[divan::bench(args = SIZES)]
    fn reference(b: Bencher, n_o: usize) {
        let (X, s) = table(n_o);
        let (mut t, mut sig) = (vec![0.0; 256], vec![0.0; X.len()]);
        b.counter(ItemsCount::new(X.len())).bench_local(|| {
            log_row_products_ref(black_box(&X), n_o, &s, &mut t, Some(&mut sig));
        });
    }
}

mod log_z {
    use super::*;

    /// (n_o, n_s): 64 visible units summed over 12 and 16 hidden ones.
    const SIZES: [(usize, usize); 2] = [(64, 12), (64, 16)];

    #[divan::bench(args = SIZES, sample_count = 10, sample_size = 1)]
    fn kernel(b: Bencher, (n_o, n_s): (usize, usize)) {
        let (M, c_s, c_o) = layer(n_o, n_s);
        b.counter(ItemsCount::new(n_o << n_s))
            .bench_local(|| black_box(log_partition(black_box(&M), &c_s, &c_o)));
    }

    #[divan::bench(args = SIZES, sample_count = 10, sample_size = 1)]
    fn reference(b: Bencher, (n_o, n_s): (usize, usize)) {
        let (M, c_s, c_o) = layer(n_o, n_s);
        b.counter(ItemsCount::new(n_o << n_s))
            .bench_local(|| black_box(log_partition_ref(black_box(&M), &c_s, &c_o)));
    }
}

mod expectations {
    use super::*;

    /// (n_o, n_s): bars and stripes (16, 16) and the binarised digits (64 visible, 12 hidden).
    const SIZES: [(usize, usize); 2] = [(16, 16), (64, 12)];

    #[divan::bench(args = SIZES, sample_count = 10, sample_size = 1)]
    fn kernel(b: Bencher, (n_o, n_s): (usize, usize)) {
        let (M, c_s, c_o) = layer(n_o, n_s);
        b.counter(ItemsCount::new(n_o << n_s))
            .bench_local(|| black_box(partition_expectations(black_box(&M), &c_s, &c_o)));
    }

    #[divan::bench(args = SIZES, sample_count = 10, sample_size = 1)]
    fn reference(b: Bencher, (n_o, n_s): (usize, usize)) {
        let (M, c_s, c_o) = layer(n_o, n_s);
        b.counter(ItemsCount::new(n_o << n_s))
            .bench_local(|| black_box(partition_expectations_ref(black_box(&M), &c_s, &c_o)));
    }
}
