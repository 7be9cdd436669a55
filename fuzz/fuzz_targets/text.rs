//! The text loaders: tokenizer, sentence splitting (both modes), vocabularies (built from the
//! tokens, and parsed from a vocabulary file), n-grams and the character stream.
//!
//! Besides "no panic", it checks what the docs promise: tokens are never empty and hold no
//! whitespace, sentences are never empty, both sentence modes cut the very token stream of
//! `tokenize`, every token encodes, and the character stream decodes back to the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::data::text::{CharStream, Corpus, SentenceMode, Vocab, ngrams, tokenize};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // Non-UTF-8 is refused by `files::read_text` before any of this runs.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    let tokens = tokenize(text);
    for t in &tokens {
        assert!(!t.is_empty(), "empty token in {text:?}");
        assert!(
            !t.contains(char::is_whitespace),
            "token {t:?} holds whitespace"
        );
    }

    for mode in [SentenceMode::Lines, SentenceMode::Prose] {
        let corpus = Corpus::from_text(text, mode);
        assert!(corpus.sentences.iter().all(|s| !s.is_empty()));
        let flat: Vec<&str> = corpus.tokens().collect();
        assert_eq!(flat, tokens, "{mode:?} sentences lost or added tokens");
        assert_eq!(corpus.num_tokens(), tokens.len());
        let marked = corpus.marked_sentences();
        assert!(
            marked
                .iter()
                .zip(&corpus.sentences)
                .all(|(m, s)| m.len() == s.len() + 2)
        );
        let four = ngrams::<_, 4>(&corpus.sentences);
        let expected: usize = corpus
            .sentences
            .iter()
            .map(|s| s.len().saturating_sub(3))
            .sum();
        assert_eq!(four.len(), expected);
    }

    for n in [1, 2, 7, 1000] {
        let vocab = Vocab::top_n(tokens.iter().map(String::as_str), n).expect("n ≥ 1");
        assert!(vocab.len() <= n && !vocab.is_empty() || tokens.is_empty());
        let ids = vocab
            .encode_all(&tokens)
            .expect("every token has an id or the unknown one");
        assert!(ids.iter().all(|&i| i < vocab.len()));
        for (id, word) in vocab.words().iter().enumerate() {
            assert_eq!(vocab.id(word), Some(id));
        }
        if let Some(first) = tokens.first() {
            let _ = vocab.closest(first, 3);
        }
    }

    // The same text as a vocabulary file (one word per line).
    if let Ok(vocab) = Vocab::parse(text, Path::new("vocab.txt")) {
        assert_eq!(vocab.len(), text.lines().count());
        let _ = vocab.require(vocab.word(0));
    }

    let chars = CharStream::from_text(text);
    assert_eq!(chars.decode(&chars.ids), text);
    assert!(chars.chars.windows(2).all(|w| w[0] < w[1]));
});
