//! One training iteration of the XOR network (4 examples, full batch); the README's Speed
//! section compares it with numpy's 11 lines.

#![allow(non_snake_case)]

use backprop_xor::{ElevenLines, Init, Net, xor_data};
use divan::{Bencher, black_box};
use nalgebra::DMatrix;

fn main() {
    divan::main();
}

/// Figure 12's lines 6–11 with fixed-size matrices.
#[divan::bench]
fn eleven_lines(b: Bencher) {
    let (X0, t) = xor_data();
    let mut net = ElevenLines::new(&mut Init::numpy(1));
    b.bench_local(|| black_box(net.iteration(black_box(&X0), black_box(&t))));
}

/// The any-depth net (`--layers`) at the given sizes, with its cache allocated once.
#[divan::bench(args = ["3,4,1", "3,8,8,1"])]
fn any_depth(b: Bencher, layers: &str) {
    let layers: Vec<usize> = layers.split(',').map(|s| s.parse().unwrap()).collect();
    let (X0s, ts) = xor_data();
    let X0 = DMatrix::from_column_slice(4, 3, X0s.as_slice());
    let t = DMatrix::from_column_slice(4, 1, ts.as_slice());
    let mut net = Net::new(&layers, &mut Init::numpy(1));
    let mut cache = net.cache(4);
    b.bench_local(|| black_box(net.step(black_box(&X0), black_box(&t), 1.0, &mut cache)));
}
