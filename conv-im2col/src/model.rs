//! The notes layer: §5 as code, on nalgebra, one equation per line, in the notes' and Saito's
//! symbols, with every matrix's shape beside it. No buffers, threads or tuned loops: this is
//! the reference the engine ([`crate::fast`]) is tested against, and the code the finite-
//! difference checks run on.
//!
//! | file | what |
//! |---|---|
//! | [`im2col`](mod@im2col) | [`Geometry`], [`im2col()`], [`col2im`]: the matrix of figures 14 and 15, entry by entry |
//! | [`layers`] | convolution, max pooling, ReLU, affine, softmax-with-loss: forward and backward |
//! | [`net`] | [`SimpleConvNet`] (figure 13): [`forward`](SimpleConvNet::forward) → [`Cache`], [`backward`](SimpleConvNet::backward) → [`Grads`], [`update`](SimpleConvNet::update) |

pub mod im2col;
pub mod layers;
pub mod net;

pub use im2col::{Geometry, col2im, im2col};
pub use net::{Cache, Config, Grads, Init, NAMES, SimpleConvNet};
