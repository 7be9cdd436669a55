//! The engine layer's kernels: the fast paths the chapters' models call, each beside the plain
//! loop it must agree with.
//!
//! The notes layer (each chapter's `model.rs`) is written on nalgebra, one equation per line;
//! what makes it fast and is not in the notes lives here. Every kernel keeps its reference, a
//! plain loop or a nalgebra expression, next to it; a test compares the two and a bench times
//! them.
//!
//! Instruction sets are picked in one way everywhere: a kernel body is written once, marked
//! `#[inline(always)]`, and a `#[multiversion(targets(...))]` wrapper compiles it for AVX-512 and
//! AVX2 besides the baseline and dispatches once per process. Rust never contracts a multiply
//! and an add into an FMA on its own, so every path gives the same bits.
//!
//! | module | what it holds |
//! |---|---|
//! | [`gemm`](mod@gemm) | `c ← α op(a) op(b) + β c` on any strided nalgebra matrix (the transposed products nalgebra runs slowly) |
//! | [`gemv`](mod@gemv) | the per-time-step matrix–vector products: `y ← y + A x`, `y ← α A x + β y`, `y ← α Aᵀ x + β y` |
//! | [`float`] | the engine's float type [`Float`] (f64, or f32 for `--dtype f32`) and the copies between them |
//! | [`fastmath32`] | σ, tanh and e^x (x ≤ 0) in f32 for `--dtype f32`, vectorisable |
//! | [`fastmath`] | vectorisable e^x, e^x − 1, tanh and σ (no libm call), and their in-place slice forms |
//! | [`sum`] | the bias gradient Σ_t dz_t (the sum of a matrix's columns) |
//! | [`softplus`] | Σ softplus over a column (a row product ln Π (1 + e^y) in log space) and its log-sum over every binary configuration of a layer: an RBM's exact log Z and model expectations |
//! | [`tall`] | products with a tall, thin matrix (a large output layer): `C ← A B`, and `Aᵀ dC` fused with `A ← A − lr dC Bᵀ` |
//! | [`softmax`] | softmax of one long column with the vectorised e^x |
//! | [`threads`] | a product's columns split over scoped threads, bit-identical to one thread |

pub mod fastmath;
pub mod fastmath32;
pub mod float;
pub mod gemm;
pub mod gemv;
pub mod softmax;
pub mod softplus;
pub mod sum;
pub mod tall;
pub mod threads;

pub use float::{Float, narrow, widen};
pub use gemm::{gemm, gemm_nt, gemm_tn};
pub use gemv::{gemv, gemv_t, matvec_acc};
pub use sum::sum_columns;
