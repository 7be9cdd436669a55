//! Text corpora (`--text FILE`): words, sentences, characters, vocabularies and n-grams.
//!
//! Two views of the same UTF-8 text:
//! - **words** ([`Corpus`]): lower-cased tokens with punctuation split off, grouped in sentences,
//!   for the word models (ngram-lm's 4-grams, rnn-lm's `SENTENCE_START … SENTENCE_END`);
//! - **characters** ([`CharStream`]): every character as it is (case kept, newlines included),
//!   for min-char-rnn.
//!
//! # The tokenizer
//!
//! [`tokenize`] is a small approximation of the Penn Treebank rules behind NLTK's
//! `word_tokenize` (what Britz's rnn-lm tutorial uses), chosen so that text that is *already*
//! tokenized, like Hinton's `raw_sentences.txt`, passes through unchanged. The text is
//! lower-cased, `’` becomes `'`, and each whitespace-separated chunk is split as follows:
//!
//! | chunk | tokens | rule |
//! |---|---|---|
//! | `--`, `...`, `?!`, `$` | `--` · `...` · `?` `!` · `$` | no letter or digit: runs of `-` or `.` stay whole, every other character is a token |
//! | `("Hello,` | `(` `"` `hello` `,` | opening `( [ { " “ ‘ `` ` `` `$` `#` and closing `) ] } " ” , ; : ? !` are split off the ends |
//! | `end.` `end...` | `end` `.` · `end` `...` | a final run of periods is split off ... |
//! | `mr.` `dr.` `u.s.` `e.g.` | unchanged | ... unless the chunk is a known abbreviation ([`ABBREVIATIONS`]) or has another period inside |
//! | `'s` `'m` `'ll` `'re` `'ve` `'d` `n't` | unchanged | a lone clitic is a token |
//! | `it's` `i'm` `don't` `can't` | `it` `'s` · `i` `'m` · `do` `n't` · `ca` `n't` | clitics are split off as the Treebank does |
//! | `'quoted'` `league-` | `'` `quoted` `'` · `league` `-` | other quotes and trailing dashes are split off |
//! | `mother,--i` `--thou` | `mother` `,` `--` `i` · `--` `thou` | a run of two or more `-` inside a chunk is a token of its own; the pieces around it are split by these rules |
//!
//! Everything else stays inside its word (`rec/rush/pass`, `3.5`, `https://a.b/c`, `&gt;`).
//!
//! # Sentences
//!
//! [`SentenceMode::Lines`]: every non-blank line is one sentence, nothing else splits it (Hinton's
//! `raw_sentences.txt`: one sentence per line). [`SentenceMode::Prose`]: a sentence ends after a
//! `.` `?` or `!` token (together with any directly following `.` `?` `!` and closing quotes or
//! brackets: `? ! !` ends once), and at every blank line (a paragraph break) and at the end of the
//! text. This approximates NLTK's Punkt `sent_tokenize` that Britz applies to each reddit
//! comment: abbreviations keep their period (`mr.`), so they do not end a sentence; unlike
//! Punkt, blank lines always end one, and `...` never does.
//!
//! # Vocabulary
//!
//! [`Vocab::top_n`] keeps the most frequent words; ties are broken by **first occurrence** in
//! the token stream, which is what Python 3's `Counter.most_common` (hence NLTK's `FreqDist`)
//! does. When words are left out, the last id is [`UNKNOWN_TOKEN`] and every left-out word maps
//! to it (Britz: `most_common(7999) + [UNKNOWN_TOKEN]`, so `UNKNOWN_TOKEN` = 7999).

use crate::error::{Error, Result};
use crate::files;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::Path;

/// First token of every sentence of a sentence model (Britz's rnn-lm input starts with it).
pub const SENTENCE_START: &str = "SENTENCE_START";
/// Last token of every sentence of a sentence model (Britz's rnn-lm target ends with it).
pub const SENTENCE_END: &str = "SENTENCE_END";
/// The token every word outside the vocabulary maps to.
///
/// The three markers are upper case and the tokenizer lower-cases everything, so no word of a
/// corpus can collide with them.
pub const UNKNOWN_TOKEN: &str = "UNKNOWN_TOKEN";

/// Abbreviations whose final period is part of the word (lower case, period included).
/// Words that also end sentences as ordinary words (`no.`) are deliberately not listed.
///
/// Chunks with a period inside (`u.s.`, `e.g.`, `a.m.`) keep their final period too, so they
/// need not be listed.
pub const ABBREVIATIONS: &[&str] = &[
    "mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "jr.", "sr.", "mt.", "gen.", "gov.", "sen.",
    "rep.", "rev.", "col.", "lt.", "sgt.", "capt.", "cpl.", "vs.", "etc.", "inc.", "ltd.", "co.",
    "corp.", "jan.", "feb.", "mar.", "apr.", "jun.", "jul.", "aug.", "sep.", "sept.", "oct.",
    "nov.", "dec.", "vol.", "fig.", "approx.", "dept.",
];

/// Clitics split off the end of a word (`it's` → `it` `'s`) and kept whole when alone.
const CLITICS: &[&str] = &["'s", "'m", "'d", "'ll", "'re", "'ve"];

/// Characters split off the front of a chunk.
const OPENERS: &[char] = &['(', '[', '{', '"', '“', '‘', '`', '$', '#'];
/// Characters split off the end of a chunk.
const CLOSERS: &[char] = &[')', ']', '}', '"', '”', ',', ';', ':', '?', '!'];

/// How a text is cut into sentences (see the [module docs](self#sentences)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentenceMode {
    /// One sentence per non-blank line (already sentence-split text such as `raw_sentences.txt`).
    Lines,
    /// Sentences end after `.` `?` `!` and at blank lines (running prose, reddit comments).
    Prose,
}

/// The lower-cased word tokens of `text`, with no sentence splitting (rules in the
/// [module docs](self#the-tokenizer)).
///
/// ```
/// use shared::data::text::tokenize;
/// assert_eq!(tokenize("I'm used to it, Dr. Who."), ["i", "'m", "used", "to", "it", ",", "dr.", "who", "."]);
/// assert_eq!(tokenize(" No ,  he says now ."), ["no", ",", "he", "says", "now", "."]);
/// ```
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in text.split_whitespace() {
        split_chunk(chunk, &mut out);
    }
    out
}

/// Splits one whitespace-free chunk into tokens, appending them to `out`.
fn split_chunk(chunk: &str, out: &mut Vec<String>) {
    let lower = chunk.to_lowercase().replace('’', "'");
    let mut word: &str = &lower;

    // A chunk of punctuation only: `--`, `...` stay whole, `?!` becomes `?` `!`.
    if !word.chars().any(char::is_alphanumeric) {
        push_punctuation_runs(word, out);
        return;
    }

    // A dash of two or more `-` inside a chunk separates words, as the Treebank's `--` rule:
    // `mother,--i` is `mother,` `--` `i`, each side split by the rules that follow.
    if let Some(at) = word.find("--") {
        let dashes = word[at..].len() - word[at..].trim_start_matches('-').len();
        let (before, rest) = word.split_at(at);
        let (dash, after) = rest.split_at(dashes);
        if !before.is_empty() {
            split_chunk(before, out);
        }
        out.push(dash.to_string());
        if !after.is_empty() {
            split_chunk(after, out);
        }
        return;
    }

    // Front: opening brackets and quotes, `$`, and a `'` that is a quote, not a clitic.
    while let Some(first) = word.chars().next() {
        let is_opener = OPENERS.contains(&first)
            || (first == '\'' && !CLITICS.contains(&word) && word.len() > 1);
        if !is_opener {
            break;
        }
        out.push(first.to_string());
        word = &word[first.len_utf8()..];
    }

    // Back: closing punctuation, collected in reverse and pushed after the word.
    let mut tail: Vec<String> = Vec::new();
    while let Some(last) = word.chars().next_back() {
        if CLOSERS.contains(&last) {
            tail.push(last.to_string());
            word = &word[..word.len() - last.len_utf8()];
        } else if last == '.' {
            let kept = word.trim_end_matches('.');
            let one_period = word.len() - kept.len() == 1;
            if one_period && (ABBREVIATIONS.contains(&word) || kept.contains('.')) {
                break;
            }
            tail.push(word[kept.len()..].to_string());
            word = kept;
        } else if last == '-' && word.len() > 1 {
            let kept = word.trim_end_matches('-');
            tail.push(word[kept.len()..].to_string());
            word = kept;
        } else if last == '\'' && word.len() > 1 {
            tail.push("'".to_string());
            word = &word[..word.len() - 1];
        } else {
            break;
        }
    }

    // Clitics: `don't` → `do` `n't`, `it's` → `it` `'s` (a lone clitic stays one token).
    if !word.is_empty() {
        let split_at = if word.len() > 3 && word.ends_with("n't") {
            Some(word.len() - 3)
        } else {
            CLITICS
                .iter()
                .find(|c| word.len() > c.len() && word.ends_with(*c))
                .map(|c| word.len() - c.len())
        };
        match split_at {
            Some(at) => {
                out.push(word[..at].to_string());
                out.push(word[at..].to_string());
            }
            None => out.push(word.to_string()),
        }
    }
    out.extend(tail.into_iter().rev());
}

/// Pushes a punctuation-only chunk: runs of `-` and of `.` as one token each, any other
/// character alone.
fn push_punctuation_runs(chunk: &str, out: &mut Vec<String>) {
    let mut chars = chunk.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let mut end = start + c.len_utf8();
        if c == '-' || c == '.' {
            while let Some(&(i, d)) = chars.peek() {
                if d != c {
                    break;
                }
                end = i + d.len_utf8();
                chars.next();
            }
        }
        out.push(chunk[start..end].to_string());
    }
}

/// True for a token after which a prose sentence ends.
fn ends_sentence(token: &str) -> bool {
    matches!(token, "." | "?" | "!")
}

/// True for a closing token that stays with the sentence it follows.
fn closes(token: &str) -> bool {
    matches!(token, ")" | "]" | "}" | "\"" | "”" | "'")
}

/// The sentences of `text`, each a list of lower-cased tokens (never empty), in text order.
///
/// ```
/// use shared::data::text::{split_sentences, SentenceMode};
/// let s = split_sentences("What are you doing?! Stop.\nNow \"go.\" Ok", SentenceMode::Prose);
/// assert_eq!(s, [vec!["what", "are", "you", "doing", "?", "!"], vec!["stop", "."],
///                vec!["now", "\"", "go", ".", "\""], vec!["ok"]]);
/// ```
pub fn split_sentences(text: &str, mode: SentenceMode) -> Vec<Vec<String>> {
    let mut sentences = Vec::new();
    match mode {
        SentenceMode::Lines => {
            for line in text.lines() {
                let tokens = tokenize(line);
                if !tokens.is_empty() {
                    sentences.push(tokens);
                }
            }
        }
        SentenceMode::Prose => {
            for paragraph in paragraphs(text) {
                let tokens = tokenize(&paragraph);
                let mut current: Vec<String> = Vec::new();
                let mut ending = false;
                for (i, token) in tokens.iter().enumerate() {
                    if ends_sentence(token) {
                        ending = true;
                    } else if !closes(token) {
                        ending = false;
                    }
                    current.push(token.clone());
                    let next_continues = tokens
                        .get(i + 1)
                        .is_some_and(|n| ends_sentence(n) || closes(n));
                    if ending && !next_continues {
                        sentences.push(std::mem::take(&mut current));
                        ending = false;
                    }
                }
                if !current.is_empty() {
                    sentences.push(current);
                }
            }
        }
    }
    sentences
}

/// The paragraphs of `text`: runs of non-blank lines joined by a space.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(line);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A word corpus: sentences of lower-cased tokens (see the [module docs](self)).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Corpus {
    /// The sentences in text order, each a non-empty list of tokens.
    pub sentences: Vec<Vec<String>>,
}

impl Corpus {
    /// The corpus of `text` cut into sentences by `mode`.
    pub fn from_text(text: &str, mode: SentenceMode) -> Corpus {
        Corpus {
            sentences: split_sentences(text, mode),
        }
    }

    /// Reads a UTF-8 text file (`--text FILE`). Errors name the file: unreadable, not UTF-8
    /// (with the byte offset), or holding no word at all.
    pub fn load(path: impl AsRef<Path>, mode: SentenceMode) -> Result<Corpus> {
        let path = path.as_ref();
        let corpus = Corpus::from_text(&files::read_text(path)?, mode);
        if corpus.sentences.is_empty() {
            return Err(Error::format(
                path,
                "whole file",
                "no words: the text is empty",
            ));
        }
        Ok(corpus)
    }

    /// Total number of tokens (no sentence markers).
    pub fn num_tokens(&self) -> usize {
        self.sentences.iter().map(Vec::len).sum()
    }

    /// The word stream: every token of every sentence in order, no markers.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.sentences.iter().flatten().map(String::as_str)
    }

    /// The sentences wrapped as `SENTENCE_START w1 … wn SENTENCE_END` (Britz's rnn-lm): the
    /// model's input is a sentence without its last token, its target without its first.
    pub fn marked_sentences(&self) -> Vec<Vec<&str>> {
        self.sentences
            .iter()
            .map(|s| {
                let mut m = Vec::with_capacity(s.len() + 2);
                m.push(SENTENCE_START);
                m.extend(s.iter().map(String::as_str));
                m.push(SENTENCE_END);
                m
            })
            .collect()
    }
}

/// All windows of `N` consecutive items *within* each sentence (none across a boundary), in
/// order: a sentence of length L gives max(L − N + 1, 0) n-grams.
///
/// For ngram-lm (`N = 4`), element j is column j of Hinton's `trainData`: (w1, w2, w3, target).
/// `raw_sentences.txt` gives 465,686 4-grams.
///
/// ```
/// use shared::data::text::ngrams;
/// let s = vec![vec![1, 2, 3, 4, 5], vec![6, 7, 8]];
/// assert_eq!(ngrams::<_, 4>(&s), [[1, 2, 3, 4], [2, 3, 4, 5]]);
/// ```
pub fn ngrams<T: Clone, const N: usize>(sentences: &[Vec<T>]) -> Vec<[T; N]> {
    sentences
        .iter()
        .flat_map(|s| s.windows(N))
        .map(|w| std::array::from_fn(|i| w[i].clone()))
        .collect()
}

/// Levenshtein edit distance between two words, counted in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // prev[j] = distance between the first i−1 chars of a and the first j chars of b.
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A vocabulary: words ↔ ids `0..len`, with the corpus count of each word.
#[derive(Clone, Debug, PartialEq)]
pub struct Vocab {
    words: Vec<String>,
    ids: HashMap<String, usize>,
    counts: Vec<u64>,
    unknown: Option<usize>,
}

impl Vocab {
    /// The `n` most frequent tokens of `tokens`, most frequent first, ties by first occurrence.
    ///
    /// If there are at most `n` distinct tokens, all of them are kept and there is no unknown
    /// token. Otherwise the top `n − 1` are kept and id `n − 1` is [`UNKNOWN_TOKEN`], whose
    /// count is the total count of the words left out. A literal `UNKNOWN_TOKEN` in `tokens`
    /// counts as a left-out word. Error if `n` is 0.
    pub fn top_n<'a>(tokens: impl IntoIterator<Item = &'a str>, n: usize) -> Result<Vocab> {
        if n == 0 {
            return Err(Error::msg("vocabulary size must be at least 1"));
        }
        // word -> (count, first position)
        let mut seen: HashMap<&str, (u64, usize)> = HashMap::new();
        let mut order = 0usize;
        let mut unknown_count = 0u64;
        for t in tokens {
            if t == UNKNOWN_TOKEN {
                unknown_count += 1;
                continue;
            }
            match seen.entry(t) {
                Entry::Occupied(mut e) => e.get_mut().0 += 1,
                Entry::Vacant(e) => {
                    e.insert((1, order));
                    order += 1;
                }
            }
        }
        let mut ranked: Vec<(&str, u64, usize)> = seen
            .into_iter()
            .map(|(w, (c, first))| (w, c, first))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));

        let fits = ranked.len() <= n && unknown_count == 0;
        let keep = if fits { ranked.len() } else { n - 1 };
        let mut words: Vec<String> = ranked[..keep].iter().map(|r| r.0.to_string()).collect();
        let mut counts: Vec<u64> = ranked[..keep].iter().map(|r| r.1).collect();
        let mut unknown = None;
        if !fits {
            unknown = Some(words.len());
            words.push(UNKNOWN_TOKEN.to_string());
            counts.push(unknown_count + ranked[keep..].iter().map(|r| r.1).sum::<u64>());
        }
        Ok(Vocab::build(words, counts, unknown))
    }

    /// A vocabulary with exactly these words as ids `0..len` (e.g. `vocab.txt` or `data.mat`'s
    /// `vocab`), counts 0. Error on an empty list or a repeated word.
    /// [`UNKNOWN_TOKEN`], if listed, becomes the unknown id.
    pub fn from_words(words: Vec<String>) -> Result<Vocab> {
        if words.is_empty() {
            return Err(Error::msg("the vocabulary is empty"));
        }
        let mut ids = HashMap::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            if let Some(j) = ids.insert(w.as_str(), i) {
                return Err(Error::msg(format!(
                    "the vocabulary lists '{w}' twice (ids {j} and {i})"
                )));
            }
        }
        let unknown = ids.get(UNKNOWN_TOKEN).copied();
        let counts = vec![0; words.len()];
        Ok(Vocab::build(words, counts, unknown))
    }

    fn build(words: Vec<String>, counts: Vec<u64>, unknown: Option<usize>) -> Vocab {
        let ids = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i))
            .collect();
        Vocab {
            words,
            ids,
            counts,
            unknown,
        }
    }

    /// Reads a vocabulary file: one word per line, line k = id k − 1 (blank lines are errors).
    pub fn read(path: impl AsRef<Path>) -> Result<Vocab> {
        let path = path.as_ref();
        Vocab::parse(&files::read_text(path)?, path)
    }

    /// Parses the text of a vocabulary file ([`Vocab::read`] without the file system); `path`
    /// only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Vocab> {
        let mut words = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let word = line.trim_end_matches('\r');
            if word.trim().is_empty() {
                return Err(Error::format(path, format!("line {}", i + 1), "empty word"));
            }
            words.push(word.to_string());
        }
        Vocab::from_words(words).map_err(|e| Error::format(path, "whole file", e))
    }

    /// Writes the words one per line in id order (the format [`Vocab::read`] reads), atomically.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        use std::io::Write;
        files::write_atomic(path, |w| {
            for word in &self.words {
                writeln!(w, "{word}")?;
            }
            Ok(())
        })
    }

    /// Number of words, the unknown token included.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True for an empty vocabulary (never the case for one that was built successfully).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words in id order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The word with id `id` (panics if `id >= len`, like slice indexing).
    pub fn word(&self, id: usize) -> &str {
        &self.words[id]
    }

    /// Corpus count of the word with id `id` (0 for vocabularies made by [`Vocab::from_words`]).
    pub fn count(&self, id: usize) -> u64 {
        self.counts[id]
    }

    /// The id of [`UNKNOWN_TOKEN`], if the vocabulary has one.
    pub fn unknown(&self) -> Option<usize> {
        self.unknown
    }

    /// The id of `word` itself, if it is in the vocabulary.
    pub fn id(&self, word: &str) -> Option<usize> {
        self.ids.get(word).copied()
    }

    /// The id `word` maps to: its own, else the unknown token's, else `None`.
    pub fn encode(&self, word: &str) -> Option<usize> {
        self.id(word).or(self.unknown)
    }

    /// The ids of `words` ([`Vocab::encode`] each). Error naming the first word that has no id
    /// (only possible without an unknown token), with the closest vocabulary words.
    pub fn encode_all<S: AsRef<str>>(&self, words: &[S]) -> Result<Vec<usize>> {
        words
            .iter()
            .map(|w| match self.encode(w.as_ref()) {
                Some(id) => Ok(id),
                None => Err(self.not_found(w.as_ref())),
            })
            .collect()
    }

    /// The id of a word the user typed (ngram-lm `nearest`/`predict`): error
    /// `'xyz' is not in the vocabulary (closest: …)` when missing. Does not fall back to the
    /// unknown token.
    pub fn require(&self, word: &str) -> Result<usize> {
        self.id(word).ok_or_else(|| self.not_found(word))
    }

    fn not_found(&self, word: &str) -> Error {
        let closest = self.closest(word, 5);
        Error::msg(format!(
            "'{word}' is not in the vocabulary of {} words (closest: {})",
            self.len(),
            closest.join(", ")
        ))
    }

    /// The `k` vocabulary words closest to `word` by [`edit_distance`], nearest first, ties in
    /// id order (the unknown token is never suggested).
    pub fn closest(&self, word: &str, k: usize) -> Vec<&str> {
        let mut scored: Vec<(usize, usize)> = (0..self.len())
            .filter(|&i| Some(i) != self.unknown)
            .map(|i| (edit_distance(word, &self.words[i]), i))
            .collect();
        scored.sort();
        scored
            .into_iter()
            .take(k)
            .map(|(_, i)| self.words[i].as_str())
            .collect()
    }
}

/// A text as a stream of character ids (min-char-rnn).
#[derive(Clone, Debug, PartialEq)]
pub struct CharStream {
    /// The distinct characters, sorted by code point: id i is `chars[i]` (tinyshakespeare:
    /// 65, `'\n'` = 0, `' '` = 1). Sorting fixes the map, unlike the gist's `list(set(data))`.
    pub chars: Vec<char>,
    /// The text, one id per character (length L = number of characters).
    pub ids: Vec<usize>,
}

impl CharStream {
    /// The character stream of `text` (case and newlines kept).
    pub fn from_text(text: &str) -> CharStream {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        let index: HashMap<char, usize> = chars.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        let ids = text.chars().map(|c| index[&c]).collect();
        CharStream { chars, ids }
    }

    /// Reads a UTF-8 text file as characters. Errors name the file: unreadable, not UTF-8
    /// (with the byte offset), or shorter than 2 characters (no input/target pair).
    pub fn load(path: impl AsRef<Path>) -> Result<CharStream> {
        let path = path.as_ref();
        let stream = CharStream::from_text(&files::read_text(path)?);
        if stream.ids.len() < 2 {
            return Err(Error::format(
                path,
                "whole file",
                format!(
                    "{} characters: a character model needs at least 2",
                    stream.ids.len()
                ),
            ));
        }
        Ok(stream)
    }

    /// Number of distinct characters (the model's N_x).
    pub fn vocab_size(&self) -> usize {
        self.chars.len()
    }

    /// The id of `c`, if it occurs in the text.
    pub fn id(&self, c: char) -> Option<usize> {
        self.chars.binary_search(&c).ok()
    }

    /// The text of `ids` (panics on an id ≥ [`CharStream::vocab_size`], like slice indexing).
    pub fn decode(&self, ids: &[usize]) -> String {
        ids.iter().map(|&i| self.chars[i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokenize(s)
    }

    #[test]
    fn pre_tokenized_text_passes_through_unchanged() {
        let line = " No ,  he says now . Mr. Smith 's  dr. money -- $ nt ( ms. ) ; : ? - day";
        let expected: Vec<String> = line.split_whitespace().map(str::to_lowercase).collect();
        assert_eq!(toks(line), expected);
    }

    #[test]
    fn prose_gets_punctuation_and_clitics_split() {
        assert_eq!(
            toks("We've moved, so I'm told, to the club's new hall."),
            [
                "we", "'ve", "moved", ",", "so", "i", "'m", "told", ",", "to", "the", "club", "'s",
                "new", "hall", "."
            ]
        );
        assert_eq!(
            toks("What aren't you understanding about this?!"),
            [
                "what",
                "are",
                "n't",
                "you",
                "understanding",
                "about",
                "this",
                "?",
                "!"
            ]
        );
        assert_eq!(
            toks("(\"Hello,\" she said...) It’s U.S. policy; can't-do"),
            [
                "(", "\"", "hello", ",", "\"", "she", "said", "...", ")", "it", "'s", "u.s.",
                "policy", ";", "can't-do"
            ]
        );
        assert_eq!(
            toks("'quoted' league- $5 #1"),
            ["'", "quoted", "'", "league", "-", "$", "5", "#", "1"]
        );
        assert_eq!(toks("What ?!!! ..."), ["what", "?", "!", "!", "!", "..."]);
        assert!(toks(" \n\t ").is_empty());
    }

    #[test]
    fn a_double_dash_inside_a_chunk_is_its_own_token() {
        // tinyshakespeare writes dashes glued to words and punctuation: `mother,--i`.
        assert_eq!(toks("Mother,--I"), ["mother", ",", "--", "i"]);
        assert_eq!(
            toks("thus--speak--it --thou me,-- not--'Sdeath!"),
            [
                "thus", "--", "speak", "--", "it", "--", "thou", "me", ",", "--", "not", "--", "'",
                "sdeath", "!"
            ]
        );
        assert_eq!(
            toks("hag-born--not wretch.---"),
            ["hag-born", "--", "not", "wretch", ".", "---"]
        );
        // One dash stays inside a word or is split off its end, as before.
        assert_eq!(toks("can't-do league-"), ["can't-do", "league", "-"]);
    }

    #[test]
    fn sentences_by_line_and_by_punctuation() {
        let text = "The money 's there .\n\n  That was less than a year ago . Ok\n";
        let lines = split_sentences(text, SentenceMode::Lines);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].len(), 9);
        let prose = split_sentences(text, SentenceMode::Prose);
        assert_eq!(prose.len(), 3);
        assert_eq!(prose[2], ["ok"]);

        // Abbreviations do not end a sentence; a blank line does; closing quotes stay.
        let s = split_sentences(
            "Mr. Smith said \"no.\" Then left!\nAnd\n\nnew paragraph",
            SentenceMode::Prose,
        );
        assert_eq!(
            s,
            [
                vec!["mr.", "smith", "said", "\"", "no", ".", "\""],
                vec!["then", "left", "!"],
                vec!["and"],
                vec!["new", "paragraph"]
            ]
        );
    }

    #[test]
    fn markers_wrap_sentences_and_ngrams_stay_inside() {
        let c = Corpus::from_text("a b c d e\nf g h\ni j k l\n", SentenceMode::Lines);
        assert_eq!(c.num_tokens(), 12);
        assert_eq!(c.tokens().count(), 12);
        let m = c.marked_sentences();
        assert_eq!(m[1], [SENTENCE_START, "f", "g", "h", SENTENCE_END]);
        let ids: Vec<Vec<&str>> = c
            .sentences
            .iter()
            .map(|s| s.iter().map(String::as_str).collect())
            .collect();
        let four = ngrams::<_, 4>(&ids);
        // 2 from the 5-word sentence, 0 from the 3-word one, 1 from the 4-word one.
        assert_eq!(
            four,
            [
                ["a", "b", "c", "d"],
                ["b", "c", "d", "e"],
                ["i", "j", "k", "l"]
            ]
        );
    }

    #[test]
    fn vocab_top_n_ranks_by_count_then_first_occurrence() {
        let tokens = "b a c a d b e a".split(' ');
        // counts: a 3, b 2, c 1, d 1, e 1; c, d, e tie and keep their order of appearance.
        let all = Vocab::top_n(tokens.clone(), 10).unwrap();
        assert_eq!(all.words(), ["a", "b", "c", "d", "e"]);
        assert_eq!(all.unknown(), None);
        assert_eq!(all.count(0), 3);

        let v = Vocab::top_n(tokens.clone(), 4).unwrap();
        assert_eq!(v.words(), ["a", "b", "c", UNKNOWN_TOKEN]);
        assert_eq!(v.unknown(), Some(3));
        assert_eq!(v.count(3), 2);
        assert_eq!(v.encode("e"), Some(3));
        assert_eq!(v.encode_all(&["a", "zzz"]).unwrap(), [0, 3]);
        assert_eq!(v.id("e"), None);

        assert!(Vocab::top_n(tokens, 0).is_err());
    }

    #[test]
    fn unknown_word_suggests_closest() {
        let v = Vocab::from_words(
            ["could", "would", "should", "can", "the"]
                .map(String::from)
                .to_vec(),
        )
        .unwrap();
        assert_eq!(v.require("would").unwrap(), 1);
        let e = v.require("coud").unwrap_err().to_string();
        assert!(e.contains("'coud' is not in the vocabulary"), "{e}");
        assert!(e.contains("closest: could, would"), "{e}");
        let e = v.encode_all(&["the", "cold"]).unwrap_err().to_string();
        assert!(e.contains("'cold'"), "{e}");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("héllo", "hello"), 1);
        assert!(Vocab::from_words(vec!["a".into(), "a".into()]).is_err());
        assert!(Vocab::from_words(vec![]).is_err());
    }

    #[test]
    fn vocab_file_round_trip_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("vocab.txt");
        let v = Vocab::top_n("x y y z".split(' '), 2).unwrap();
        v.write(&p).unwrap();
        let back = Vocab::read(&p).unwrap();
        assert_eq!(back.words(), v.words());
        assert_eq!(back.unknown(), Some(1));

        std::fs::write(&p, "a\n\nb\n").unwrap();
        let e = Vocab::read(&p).unwrap_err().to_string();
        assert!(e.contains("vocab.txt: line 2"), "{e}");
        std::fs::write(&p, "a\nb\na\n").unwrap();
        let e = Vocab::read(&p).unwrap_err().to_string();
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn loading_reports_empty_and_non_utf8_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("corpus.txt");
        std::fs::write(&p, "").unwrap();
        let e = Corpus::load(&p, SentenceMode::Lines)
            .unwrap_err()
            .to_string();
        assert!(e.contains("corpus.txt") && e.contains("empty"), "{e}");
        std::fs::write(&p, " \n\n \t\n").unwrap();
        assert!(Corpus::load(&p, SentenceMode::Prose).is_err());
        std::fs::write(&p, b"good words\nthen \xe9t\xe9\n").unwrap();
        let e = Corpus::load(&p, SentenceMode::Lines)
            .unwrap_err()
            .to_string();
        assert!(e.contains("corpus.txt: byte 16"), "{e}");
        let e = CharStream::load(&p).unwrap_err().to_string();
        assert!(e.contains("byte 16"), "{e}");
        std::fs::write(&p, "x").unwrap();
        assert!(CharStream::load(&p).is_err());
        let e = Corpus::load(dir.path().join("missing.txt"), SentenceMode::Lines).unwrap_err();
        assert!(e.to_string().contains("missing.txt"));
    }

    #[test]
    fn char_stream_is_sorted_and_round_trips() {
        let text = "First Citizen:\nBefore we";
        let s = CharStream::from_text(text);
        assert_eq!(s.chars[0], '\n');
        assert_eq!(s.chars[1], ' ');
        assert!(s.chars.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(s.ids.len(), text.chars().count());
        assert_eq!(s.decode(&s.ids), text);
        assert_eq!(s.id('F'), Some(s.ids[0]));
        assert_eq!(s.id('q'), None);
    }

    #[test]
    fn committed_fixture_corpus() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/prose.txt");
        let c = Corpus::load(path, SentenceMode::Prose).unwrap();
        let v = Vocab::top_n(c.tokens(), 1000).unwrap();
        // The fixture's first sentence, split by the rules of the module docs.
        assert_eq!(
            c.sentences[0],
            [
                "i",
                "joined",
                "a",
                "new",
                "chess",
                "club",
                "this",
                "spring",
                "and",
                "they",
                "have",
                "different",
                "scoring",
                "rules",
                "than",
                "i",
                "'m",
                "used",
                "to",
                "."
            ]
        );
        assert_eq!(c.sentences.len(), 8);
        assert_eq!(
            c.sentences[3],
            [
                "mr.", "park", "said", "\"", "ask", "the", "captain", ".", "\""
            ]
        );
        assert_eq!(
            c.sentences[4],
            [
                "so", "i", "did", "...", "she", "was", "n't", "there", "(", "again", ")", "."
            ]
        );
        assert_eq!(c.sentences[7], ["thanks", "for", "reading", "!"]);
        assert_eq!(v.word(0), ".");
        assert!(c.sentences.iter().all(|s| !s.is_empty()));
    }
}
