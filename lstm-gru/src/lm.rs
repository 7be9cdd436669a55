//! The trained language model in use: its validation loss over side-by-side streams, the loss
//! of a text on one stream (`eval`), and sampling text from it (on the engine's passes).

use crate::data::{Streams, encode};
use crate::fast::charlm::FastLm;
use crate::fast::{Cache, FastCell, Kernels};
use shared::data::text::CharStream;
use shared::rng::{self, Rng};
use shared::{Error, Result};

impl<C: FastCell, F: Kernels> FastLm<C, F> {
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

    /// Mean cross-entropy per character of `ids` on one stream, every character after the
    /// first predicted from all before it (chunks of up to 100 characters, state carried).
    pub fn cross_entropy(&self, ids: &[usize]) -> f64 {
        const T: usize = 100;
        let n = ids.len().saturating_sub(1);
        let mut cache = self.fast_cache(T.min(n), 1);
        let mut total = 0.0;
        for start in (0..n).step_by(T) {
            let len = T.min(n - start);
            if len < T {
                // The last, shorter chunk: a cache of its length, starting from the carried state.
                let mut last = self.fast_cache(len, 1);
                for (to, from) in last.rnn.layers.iter_mut().zip(&cache.rnn.layers) {
                    let state = from.initial_state();
                    to.set_initial_state(&state).expect("the same sizes");
                }
                cache = last;
            }
            let chunk = &ids[start..=start + len];
            // forward_fast gives the mean over the chunk's `len` predictions.
            total += len as f64 * self.forward_fast(&chunk[..len], &chunk[1..], &mut cache);
            cache.rnn.carry();
        }
        total / n as f64
    }

    /// Feeds `prime` (at least one character) and then draws `n` characters, each fed back
    /// in, from y_t with temperature τ (probabilities ∝ y^{1/τ}); τ = 0 takes the most likely
    /// character (the first of equals), with no draw.
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
            let y = cache.probabilities();
            next = if temperature == 0.0 {
                y.iter()
                    .enumerate()
                    .fold(0, |best, (i, &p)| if p > y[best] { i } else { best })
            } else {
                for (w, p) in weights.iter_mut().zip(y.iter()) {
                    *w = p.as_f64().powf(1.0 / temperature);
                }
                rng::weighted_index(rng, &weights)
            };
            out.push(next);
        }
        out
    }

    /// [`FastLm::sample`] on text: starts from `prime` (default: a newline, or the
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
