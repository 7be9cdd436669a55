//! Prints what the `shared::data` loaders make of real data files: a manual check of the
//! public datasets (tests never read them). Every path comes from the command line.
//!
//! ```text
//! cargo run --release -p shared --example data_report -- \
//!     --text raw_sentences.txt --vocab vocab.txt --csv reddit.csv --mnist mnist/ \
//!     --digits digits.csv --chars input.txt --mat data.mat
//! ```

use clap::Parser;
use shared::data::text::{CharStream, Corpus, SentenceMode, Vocab, ngrams};
use shared::data::{batch, comments, digits, idx, mat};
use std::collections::BTreeSet;
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    /// A text corpus read one sentence per line (e.g. raw_sentences.txt).
    #[arg(long)]
    text: Option<PathBuf>,
    /// Read --text as prose instead (sentences end at . ? ! and blank lines).
    #[arg(long)]
    prose: bool,
    /// A vocabulary file (one word per line) to compare the --text words with.
    #[arg(long)]
    vocab: Option<PathBuf>,
    /// A comments CSV with a `body` column (Britz's reddit file).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Vocabulary size for the --csv report (Britz: 8000).
    #[arg(long, default_value_t = 8000)]
    csv_vocab: usize,
    /// A folder with MNIST IDX files.
    #[arg(long)]
    mnist: Option<PathBuf>,
    /// Which MNIST part: t10k or train.
    #[arg(long, default_value = "t10k")]
    which: String,
    /// The 8×8 digits CSV.
    #[arg(long)]
    digits: Option<PathBuf>,
    /// A text read as characters (min-char-rnn).
    #[arg(long)]
    chars: Option<PathBuf>,
    /// A MAT-file (Hinton's data.mat layout, or any: its variables are listed).
    #[arg(long)]
    mat: Option<PathBuf>,
}

fn histogram(labels: &[usize], classes: usize) -> Vec<usize> {
    let mut h = vec![0; classes];
    for &l in labels {
        h[l] += 1;
    }
    h
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let a = Args::parse();
        if let Some(path) = &a.text {
            let mode = if a.prose {
                SentenceMode::Prose
            } else {
                SentenceMode::Lines
            };
            let corpus = Corpus::load(path, mode)?;
            let vocab = Vocab::top_n(corpus.tokens(), usize::MAX)?;
            let four = ngrams::<_, 4>(&corpus.sentences).len();
            println!(
                "text {}: {} sentences, {} tokens, {} distinct words, {} within-sentence 4-grams",
                path.display(),
                corpus.sentences.len(),
                corpus.num_tokens(),
                vocab.len(),
                four
            );
            if mode == SentenceMode::Lines {
                // Does the tokenizer leave already-tokenized lines as they are?
                let raw = shared::files::read_text(path)?;
                let changed = raw
                    .lines()
                    .filter(|l| {
                        let plain: Vec<String> =
                            l.split_whitespace().map(str::to_lowercase).collect();
                        shared::data::text::tokenize(l) != plain
                    })
                    .count();
                println!(
                    "  lines whose tokens differ from a lower-cased whitespace split: {changed}"
                );
            }
            if let Some(vp) = &a.vocab {
                let reference = Vocab::read(vp)?;
                let ours: BTreeSet<&str> = vocab.words().iter().map(String::as_str).collect();
                let theirs: BTreeSet<&str> = reference.words().iter().map(String::as_str).collect();
                println!(
                    "  vs {} ({} words): same set: {}; only in text: {:?}; only in vocab file: {:?}",
                    vp.display(),
                    reference.len(),
                    ours == theirs,
                    ours.difference(&theirs).take(10).collect::<Vec<_>>(),
                    theirs.difference(&ours).take(10).collect::<Vec<_>>()
                );
            }
            println!(
                "  most frequent: {:?}",
                (0..vocab.len().min(10))
                    .map(|i| (vocab.word(i), vocab.count(i)))
                    .collect::<Vec<_>>()
            );
        }
        if let Some(path) = &a.csv {
            let c = comments::Comments::load(path)?;
            println!(
                "csv {}: {} complete comments",
                path.display(),
                c.bodies.len()
            );
            match &c.truncated {
                Some(t) => println!("  truncated: {t}"),
                None => println!("  no truncated record"),
            }
            let corpus = c.corpus();
            let marked = corpus.marked_sentences();
            let vocab = Vocab::top_n(marked.iter().flatten().copied(), usize::MAX)?;
            println!(
                "  {} sentences, {} tokens, {} unique tokens (with SENTENCE_START/END)",
                corpus.sentences.len(),
                corpus.num_tokens(),
                vocab.len()
            );
            let v = Vocab::top_n(marked.iter().flatten().copied(), a.csv_vocab)?;
            let last = v.len() - 1 - usize::from(v.unknown().is_some());
            println!(
                "  vocabulary of {}: ids 0..3 {:?}, least frequent kept '{}' x{}",
                v.len(),
                &v.words()[..4.min(v.len())],
                v.word(last),
                v.count(last)
            );
            println!("  first sentence: {:?}", marked.first());
        }
        if let Some(dir) = &a.mnist {
            let set = idx::load_mnist_dir(dir, &a.which)?;
            let mean = set.images.mean();
            println!(
                "mnist {} {}: {} images {}×{}, {} classes, pixel mean {mean:.4}, max {}",
                dir.display(),
                a.which,
                set.len(),
                set.rows,
                set.cols,
                set.classes,
                set.images.max()
            );
            println!("  label counts: {:?}", histogram(&set.labels, set.classes));
            println!("  first labels: {:?}", &set.labels[..10.min(set.len())]);
        }
        if let Some(path) = &a.digits {
            let set = digits::load_digits_csv(path)?;
            println!(
                "digits {}: {} images {}×{}, pixel mean {:.4}, max {}",
                path.display(),
                set.len(),
                set.rows,
                set.cols,
                set.images.mean(),
                set.images.max()
            );
            println!("  label counts: {:?}", histogram(&set.labels, set.classes));
        }
        if let Some(path) = &a.chars {
            let s = CharStream::load(path)?;
            let w = batch::SeqWindows::new(s.ids.len(), 25)?;
            println!(
                "chars {}: {} characters, {} distinct, {} windows of 25 per pass",
                path.display(),
                s.ids.len(),
                s.vocab_size(),
                w.per_pass()
            );
        }
        if let Some(path) = &a.mat {
            let m = mat::read_mat(path)?;
            for v in &m.arrays {
                println!(
                    "mat {}: {} {} {}",
                    path.display(),
                    v.name,
                    v.shape(),
                    v.class_name()
                );
            }
            if m.get("data").is_some() {
                println!("  {}", mat::load_hinton_a2(path)?);
            }
        }
        Ok(())
    })
}
