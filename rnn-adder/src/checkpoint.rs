//! `model.safetensors`: the trained weights (row-major F64, see `shared::checkpoint`), loadable
//! by Python's `safetensors`, as the run session's [`Checkpointed`] state (the session writes
//! it atomically, with the program version and the run's flags).

#![allow(non_snake_case)]

use crate::CHAPTER;
use crate::model::{Adder, Cost};
use shared::checkpoint::Checkpoint;
use shared::session::{Checkpointed, Tensors};
use std::path::Path;

/// A trained adder and what it was trained on: the width of the sums and the cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Trained {
    /// W_xh, W_hh, W_hy.
    pub model: Adder,
    /// Bits of the training sums.
    pub bits: usize,
    /// The cost trained with.
    pub cost: Cost,
}

impl Checkpointed for Trained {
    type Context<'a> = ();

    fn save(&self, out: &mut Tensors) {
        out.matrix("W_xh", &self.model.W_xh);
        out.matrix("W_hh", &self.model.W_hh);
        out.matrix("W_hy", &self.model.W_hy);
        out.meta("hidden", self.model.hidden());
        out.meta("bits", self.bits);
        out.meta("cost", self.cost.name());
    }

    /// The weights, checked against the sizes in the metadata.
    fn load(ck: &mut Checkpoint, _: ()) -> shared::Result<Self> {
        let N_h: usize = ck.meta("hidden")?;
        let cost = match ck.meta_str("cost")? {
            "l2" => Cost::L2,
            "logistic" => Cost::Logistic,
            other => {
                let msg = format!("cost {other:?} is neither l2 nor logistic");
                return Err(shared::Error::format(&ck.path, "safetensors metadata", msg));
            }
        };
        let model = Adder {
            W_xh: ck.take("W_xh", N_h, 2)?,
            W_hh: ck.take("W_hh", N_h, N_h)?,
            W_hy: ck.take("W_hy", 1, N_h)?,
        };
        Ok(Trained {
            model,
            bits: ck.meta("bits")?,
            cost,
        })
    }
}

/// Loads weights saved by a training run; a file of another chapter or with other shapes is
/// an error naming the file.
pub fn load(path: &Path) -> shared::Result<Trained> {
    Trained::load(&mut shared::checkpoint::load(path, CHAPTER)?, ())
}
