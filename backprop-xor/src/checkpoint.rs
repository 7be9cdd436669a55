//! `model.safetensors`: the trained weights (row-major F64, loadable by Python's `safetensors`)
//! and their sizes, as the run session's [`Checkpointed`] state (the session writes it
//! atomically, with the program version and the run's flags): the XOR network's W_0 … W_{L−1}
//! ([`Trained`]) and the digits classifier's W0, b0, W1, b1 ([`OneHidden`]).

#![allow(non_snake_case)]

use crate::model::OneHidden;
use nalgebra::DMatrix;
use shared::checkpoint::Checkpoint;
use shared::session::{Checkpointed, Tensors};

/// The weights of a trained XOR network and its layer sizes n_0, …, n_L.
#[derive(Clone, Debug, PartialEq)]
pub struct Trained {
    /// Layer sizes n_0, …, n_L.
    pub layers: Vec<usize>,
    /// W_0 … W_{L−1}; W_i is n_i × n_{i+1}.
    pub W: Vec<DMatrix<f64>>,
}

impl Checkpointed for Trained {
    type Context<'a> = ();

    fn save(&self, out: &mut Tensors) {
        for (i, W) in self.W.iter().enumerate() {
            out.matrix(format!("W{i}"), W);
        }
        let layers: Vec<String> = self.layers.iter().map(usize::to_string).collect();
        out.meta("layers", layers.join(","));
    }

    /// The weights, checked against the layer sizes in the metadata.
    fn load(ck: &mut Checkpoint, _: ()) -> shared::Result<Self> {
        let text = ck.meta_str("layers")?.to_string();
        let layers: Vec<usize> = text
            .split(',')
            .map(|n| n.trim().parse().ok().filter(|&n: &usize| n > 0))
            .collect::<Option<_>>()
            .filter(|l: &Vec<usize>| l.len() >= 2)
            .ok_or_else(|| {
                let msg = format!("`layers` = {text:?} is not a list of two or more sizes");
                shared::Error::format(&ck.path, "safetensors metadata", msg)
            })?;
        let W = layers
            .windows(2)
            .enumerate()
            .map(|(i, n)| ck.take(&format!("W{i}"), n[0], n[1]))
            .collect::<shared::Result<_>>()?;
        Ok(Trained { layers, W })
    }
}

impl Checkpointed for OneHidden {
    type Context<'a> = ();

    fn save(&self, out: &mut Tensors) {
        out.matrix("W0", &self.W0);
        out.matrix("b0", &self.b0);
        out.matrix("W1", &self.W1);
        out.matrix("b1", &self.b1);
        out.meta("inputs", self.W0.nrows());
        out.meta("hidden", self.hidden());
        out.meta("classes", self.W1.ncols());
    }

    /// The weights, checked against the sizes in the metadata.
    fn load(ck: &mut Checkpoint, _: ()) -> shared::Result<Self> {
        let (D, H, K): (usize, usize, usize) =
            (ck.meta("inputs")?, ck.meta("hidden")?, ck.meta("classes")?);
        Ok(OneHidden {
            W0: ck.take("W0", D, H)?,
            b0: ck.take("b0", 1, H)?,
            W1: ck.take("W1", H, K)?,
            b1: ck.take("b1", 1, K)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Init;
    use shared::run::RunArgs;
    use shared::session::Session;

    #[test]
    fn saved_weights_load_back_and_a_wrong_shape_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunArgs {
            out: Some(dir.path().join("run")),
            ..RunArgs::default()
        };
        let session = Session::outputs(shared::chapter!(), &run, None, &()).unwrap();
        let mut init = Init::chacha(3);
        let mut t = Trained {
            layers: vec![3, 5, 2, 1],
            W: vec![init.weights(3, 5), init.weights(5, 2), init.weights(2, 1)],
        };
        let path = session.save_checkpoint(&t).unwrap();
        let mut ck = shared::checkpoint::load(&path, "backprop-xor").unwrap();
        assert_eq!(Trained::load(&mut ck, ()).unwrap(), t);
        t.layers[2] = 3;
        session.save_checkpoint(&t).unwrap();
        let mut ck = shared::checkpoint::load(&path, "backprop-xor").unwrap();
        let e = Trained::load(&mut ck, ()).unwrap_err().to_string();
        assert!(e.contains("W1") && e.contains("expected 5×3"), "{e}");
        let net = OneHidden::new(64, 7, 10, &mut shared::rng::seeded(1));
        session.save_checkpoint(&net).unwrap();
        let mut ck = shared::checkpoint::load(&path, "backprop-xor").unwrap();
        assert_eq!(OneHidden::load(&mut ck, ()).unwrap(), net);
    }
}
