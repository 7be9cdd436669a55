//! The trained language model in use: its validation loss over side-by-side streams, and
//! sampling text from it (on the engine's passes).

use crate::data::{Streams, encode};
use crate::fast::FastCell;
use crate::model::CharLm;
use shared::data::text::CharStream;
use shared::rng::{self, Rng};
use shared::{Error, Result};

impl<C: FastCell> CharLm<C> {
    /// Mean cross-entropy per character of `ids` (predicting ids[k + 1] from ids[..=k]), read
    /// as B streams in chunks of T with carried state; no updates.
    pub fn evaluate(&self, ids: &[usize], T: usize, B: usize) -> f64 {
        let streams = Streams::new(ids.len(), T, B);
        let mut cache = self.fast_cache(T, B);
        let (mut inputs, mut targets) = (vec![0; T * B], vec![0; T * B]);
        let mut total = 0.0;
        for k in 0..streams.chunks {
            streams.chunk(ids, k, &mut inputs, &mut targets);
            total += self.forward_fast(&inputs, &targets, &mut cache);
            cache.rnn.carry();
        }
        total / streams.chunks as f64
    }

    /// Feeds `prime` (at least one character) and then draws `n` characters, each fed back
    /// in, from y_t with temperature τ (probabilities ∝ y^{1/τ}).
    pub fn sample(&self, prime: &[usize], n: usize, temperature: f64, rng: &mut Rng) -> Vec<usize> {
        assert!(!prime.is_empty(), "sampling needs a first character");
        let mut cache = self.fast_cache(1, 1);
        let mut out = Vec::with_capacity(n);
        let mut weights = vec![0.0; self.vocab_size()];
        let mut next = prime[0];
        for k in 0..prime.len() + n - 1 {
            // The target is irrelevant here; only y_t is used.
            self.forward_fast(&[next], &[0], &mut cache);
            cache.rnn.carry();
            if k + 1 < prime.len() {
                next = prime[k + 1];
                continue;
            }
            for (w, y) in weights.iter_mut().zip(cache.probabilities().iter()) {
                *w = y.powf(1.0 / temperature);
            }
            next = rng::weighted_index(rng, &weights);
            out.push(next);
        }
        out
    }

    /// [`CharLm::sample`] on text: starts from `prime` (default: a newline, or the
    /// vocabulary's first character if the text has none) and returns prime + the drawn text.
    pub fn sample_text(
        &self,
        vocab: &CharStream,
        prime: Option<&str>,
        n: usize,
        temperature: f64,
        rng: &mut Rng,
    ) -> Result<String> {
        let prime = match prime {
            Some("") => return Err(Error::flag("--prime", "must not be empty")),
            Some(p) => encode(vocab, p).map_err(|e| Error::flag("--prime", e))?,
            None => vec![vocab.id('\n').unwrap_or(0)],
        };
        let drawn = self.sample(&prime, n, temperature, rng);
        Ok(vocab.decode(&prime) + &vocab.decode(&drawn))
    }
}
