//! The 4-gram sets: the generated corpus (sizes, ids, floor, determinism) and the split.

use ngram_lm::Gram;
use ngram_lm::data::{Dataset, Source, split};

#[test]
fn generated_corpus_sets_and_floor() {
    let d = Dataset::load(&Source::Generated(2000), 5).unwrap();
    assert_eq!(d.vocab.len(), 250);
    let n = d.train.len() + d.valid.len() + d.test.len();
    // ≈ 4.1 within-sentence 4-grams per sentence (7.1 words on average, minus 3).
    assert!((7000..9500).contains(&n), "{n}");
    assert_eq!(d.valid.len(), n / 10);
    assert_eq!(d.test.len(), n / 10);
    assert!(d.train.iter().flatten().all(|&w| w < 250));
    // The exact floor of these sentences' 4-gram targets; the grammar's value is 1.85.
    let h = d.entropy_floor.unwrap();
    assert!((1.7..2.0).contains(&h), "{h}");
    // The same seed gives the same sets; another seed other sentences.
    let again = Dataset::load(&Source::Generated(2000), 5).unwrap();
    assert_eq!((&d.train, &d.valid), (&again.train, &again.valid));
    let other = Dataset::load(&Source::Generated(2000), 6).unwrap();
    assert_ne!(d.train, other.train);
    // The demo words exist in the generated vocabulary.
    assert!(d.vocab.id("could").is_some());
    assert_eq!(d.example_context(), ["john", "might", "be"]);
}

#[test]
fn split_is_a_shuffled_partition() {
    let mut grams: Vec<Gram> = (0..1003).map(|i| [i, i + 1, i + 2, i + 3]).collect();
    let (train, valid, test) = split(&mut grams, 9);
    assert_eq!((train.len(), valid.len(), test.len()), (803, 100, 100));
    let mut all: Vec<Gram> = [train.clone(), valid, test].concat();
    assert_ne!(
        all[..10],
        (0..10)
            .map(|i| [i, i + 1, i + 2, i + 3])
            .collect::<Vec<_>>()[..]
    );
    all.sort();
    assert_eq!(
        all,
        (0..1003)
            .map(|i| [i, i + 1, i + 2, i + 3])
            .collect::<Vec<_>>()
    );
    // The assignment's sizes for raw_sentences.txt's 465,686 4-grams.
    let mut big = vec![[0; 4]; 465_686];
    let (train, valid, test) = split(&mut big, 1);
    assert_eq!(
        (train.len(), valid.len(), test.len()),
        (372_550, 46_568, 46_568)
    );
}

#[test]
fn missing_text_file_is_a_clear_error() {
    let e = Dataset::load(&Source::Text("no/such/corpus.txt".into(), 250), 1)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("no/such/corpus.txt:"), "{e}");
}
