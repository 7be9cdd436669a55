//! An English-like corpus from a stochastic grammar: the default data of the language-model
//! chapters (`ngram-lm`, `rnn-lm`, `char-rnn`, `lstm-gru`), in the flavour of Hinton's
//! `raw_sentences.txt` ("he could not say that ." "where is the money ?").
//!
//! The grammar ([`ENGLISH`], printed below the functions) is a probabilistic context-free
//! grammar written for this project: 250 lower-case words (as many as Hinton's) in real
//! syntactic classes (pronouns, names, the modals `can could should would might may will must`, auxiliaries,
//! verbs in their base / 3rd-person / past / participle / -ing forms, nouns, adjectives,
//! prepositions, determiners, numbers, and the punctuation tokens `.` `,` `?`), with subject–verb
//! agreement (`he goes`, `they go`, `i am`, `was` / `were`), determiner–noun agreement
//! (`this man`, `these men`, `a` / `an old`), verb subcategorisation (`want` takes things, `meet`
//! takes people, `go` takes a goal, `say` takes a clause), tense–adverb agreement (`yesterday ,`
//! takes a past clause) and questions with inversion (`did you see him ?`).
//!
//! Words of one class are drawn from the same slots, so they share their contexts: all eight
//! modals are interchangeable everywhere (`Modal` is one rule), which is what lets a neural
//! language model trained on this corpus find `can, should, would, ...` nearest to `could`.
//!
//! ## Exact probabilities
//!
//! Every random choice of the generator is a choice of one alternative of one rule, with a known
//! probability, so each [`Sentence`] carries `log_prob`, the natural log of the probability of
//! its derivation. The grammar is written to be unambiguous (one derivation per word string: no
//! prepositional phrase can attach to two places, a word used in two classes is used in slots
//! that cannot overlap), so `log_prob` is the log-probability of the word string itself. The
//! tests check this: [`Grammar::string_log_prob`] sums the probabilities of *all* derivations of
//! a string (the inside algorithm) and must equal `log_prob` for thousands of sampled sentences;
//! on a small ambiguous grammar the same check does fail, and on small grammars the inside sum
//! is compared with a brute-force enumeration of every derivation and with sampling frequencies.
//!
//! ## Entropy per word
//!
//! Sentences are drawn independently, and `.` and `?` occur only at the end of a sentence, so the
//! word stream (sentences one after the other) determines the sentence boundaries. The entropy of
//! the stream per word is therefore H(sentence) / E[words per sentence], counting every word of
//! every sentence: the first words (drawn with no context) and the final `.` or `?` included.
//! [`Grammar::entropy_per_word`] computes this exactly from the rules; [`entropy_per_word`]
//! measures −Σ log p / Σ words on a generated corpus (the cross-entropy of the true model on
//! it), which converges to it. No model of the word stream can have a lower expected
//! cross-entropy per word: it is the floor a language model's cross-entropy is compared to.
//!
//! A model that predicts the 4th word of a sentence from the previous three (`ngram-lm`,
//! trained on within-sentence 4-grams) is scored on other positions: it never predicts a
//! sentence's first three words, which are the most uncertain, so its cross-entropy can be
//! *below* the per-word figure. Its floor is [`conditional_entropy_after`] with k = 3: the mean
//! over positions t ≥ 4 of H(w_t | w_1 … w_{t−1}), computed from exact prefix probabilities
//! ([`Grammar::prefix_log_prob`]); three words of context can only do worse than the whole
//! prefix. Compare `rnn-lm` / `lstm-gru` (models of the stream) with [`entropy_per_word`], and
//! `ngram-lm` with `conditional_entropy_after(.., 3)`.
//!
//! Characters: the text of a corpus ([`text`]) is its words separated by single spaces, one
//! sentence per line, each line ending in `\n`; it is a one-to-one function of the word stream,
//! so its entropy per character is the same total divided by the number of characters
//! ([`entropy_per_char`]).

use crate::error::{Error, Result};
use crate::rng::{self, Rng};
use rand::RngExt;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The random stream (of [`rng::stream`]) the corpus generator draws from, so a chapter that
/// seeds its weights with `rng::seeded(seed)` does not reuse the numbers that made its data.
const STREAM: u64 = 0x6772_616d; // "gram"

/// One generated sentence: its words (the last is `.` or `?`) and the natural log of its
/// probability under the grammar.
#[derive(Clone, Debug, PartialEq)]
pub struct Sentence {
    /// The words, in order; every one is in [`vocabulary`] (or the generating grammar's).
    pub words: Vec<&'static str>,
    /// ln p(words): the sum of the log-probabilities of every choice made to generate them.
    pub log_prob: f64,
}

/// A symbol on the right-hand side of a rule.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Symbol {
    /// Index into [`Grammar::words`].
    Word(usize),
    /// Index into [`Grammar::rules`].
    Rule(usize),
}

/// One alternative of a rule: its symbols and its probability.
#[derive(Clone, Debug)]
struct Alternative {
    symbols: Vec<Symbol>,
    p: f64,
    log_p: f64,
}

/// A rule (a nonterminal): its alternatives and their cumulative probabilities for sampling.
#[derive(Clone, Debug)]
struct Rule {
    name: &'static str,
    alternatives: Vec<Alternative>,
    /// cumulative[k] = p_0 + ... + p_k, the last one set to exactly 1.
    cumulative: Vec<f64>,
    /// Fewest words the rule can yield (prunes the inside algorithm).
    min_len: usize,
    /// Most words the rule can yield (`usize::MAX` when recursive).
    max_len: usize,
    /// first[w]: the rule can yield a string starting with word w (prunes the inside algorithm).
    first: Vec<bool>,
}

/// A probabilistic context-free grammar over a fixed vocabulary.
///
/// Written in a small text format (see [`ENGLISH`] for the full example):
///
/// ```text
/// # a comment
/// Sentence = 3: Subject Verb .      <- "weight: symbols"; the first rule is the start
///          | 1: Subject Verb Object .
/// Subject  = he | she | Name         <- weight 1 when omitted
/// Object   = 2: _ | 1: it            <- `_` is the empty alternative
/// ```
///
/// A symbol starting with an upper-case ASCII letter is a rule; any other symbol is a word.
/// Weights are positive and normalised within each rule.
#[derive(Clone, Debug)]
pub struct Grammar {
    rules: Vec<Rule>,
    /// The vocabulary, in order of first appearance in the grammar text.
    words: Vec<&'static str>,
}

impl Grammar {
    /// Parses a grammar written in the format above. The start symbol is the first rule.
    ///
    /// Errors name the line: an alternative with a bad weight, a rule used but never defined, a
    /// rule defined twice, a rule that can never finish (no finite derivation).
    pub fn parse(text: &'static str) -> Result<Grammar> {
        let err =
            |line: usize, msg: String| Error::format("<grammar>", format!("line {line}"), msg);
        // Pass 1: split into rules of raw alternatives (weight, symbol strings).
        // (name, line of definition, alternatives as (weight, symbol strings))
        type RawRule = (&'static str, usize, Vec<(f64, Vec<&'static str>)>);
        let mut raw: Vec<RawRule> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let body = if let Some(rest) = line.strip_prefix('|') {
                if raw.is_empty() {
                    return Err(err(line_no, "an alternative `|` before any rule".into()));
                }
                rest
            } else {
                let (name, rest) = line.split_once('=').ok_or_else(|| {
                    err(line_no, format!("expected `Name = ...`, found `{line}`"))
                })?;
                let name = name.trim();
                if !is_rule_name(name) || name.contains(char::is_whitespace) {
                    return Err(err(line_no, format!("`{name}` is not a rule name")));
                }
                if raw.iter().any(|r| r.0 == name) {
                    return Err(err(line_no, format!("rule `{name}` is defined twice")));
                }
                raw.push((name, line_no, Vec::new()));
                rest
            };
            let alternatives = &mut raw.last_mut().expect("a rule was pushed above").2;
            for alt in body.split('|') {
                let mut tokens: Vec<&'static str> = alt.split_whitespace().collect();
                let mut weight = 1.0;
                if let Some(w) = tokens.first().and_then(|t| t.strip_suffix(':')) {
                    weight = w
                        .parse::<f64>()
                        .ok()
                        .filter(|w| w.is_finite() && *w > 0.0)
                        .ok_or_else(|| err(line_no, format!("bad weight `{w}:`")))?;
                    tokens.remove(0);
                }
                if tokens.is_empty() {
                    return Err(err(line_no, "an empty alternative (write `_`)".into()));
                }
                if tokens == ["_"] {
                    tokens.clear();
                }
                alternatives.push((weight, tokens));
            }
        }
        if raw.is_empty() {
            return Err(err(1, "no rules".into()));
        }
        // Pass 2: resolve names to indices; number the words in order of first appearance.
        let index: HashMap<&str, usize> = raw.iter().enumerate().map(|(k, r)| (r.0, k)).collect();
        let mut words: Vec<&'static str> = Vec::new();
        let mut word_index: HashMap<&str, usize> = HashMap::new();
        let mut rules = Vec::with_capacity(raw.len());
        for (name, line_no, alts) in &raw {
            let total: f64 = alts.iter().map(|a| a.0).sum();
            let mut alternatives = Vec::with_capacity(alts.len());
            for (weight, tokens) in alts {
                let mut symbols = Vec::with_capacity(tokens.len());
                for &t in tokens {
                    if is_rule_name(t) {
                        let k = *index.get(t).ok_or_else(|| {
                            err(
                                *line_no,
                                format!("rule `{t}` (used in `{name}`) is not defined"),
                            )
                        })?;
                        symbols.push(Symbol::Rule(k));
                    } else {
                        let k = *word_index.entry(t).or_insert_with(|| {
                            words.push(t);
                            words.len() - 1
                        });
                        symbols.push(Symbol::Word(k));
                    }
                }
                let p = weight / total;
                alternatives.push(Alternative {
                    symbols,
                    p,
                    log_p: p.ln(),
                });
            }
            let mut cumulative: Vec<f64> = alternatives
                .iter()
                .scan(0.0, |acc, a| {
                    *acc += a.p;
                    Some(*acc)
                })
                .collect();
            *cumulative
                .last_mut()
                .expect("every rule has an alternative") = 1.0;
            rules.push(Rule {
                name,
                alternatives,
                cumulative,
                min_len: usize::MAX,
                max_len: 0,
                first: Vec::new(),
            });
        }
        let mut grammar = Grammar { rules, words };
        grammar.compute_lengths();
        grammar.compute_first_words();
        if let Some(r) = grammar.rules.iter().position(|r| r.min_len == usize::MAX) {
            return Err(err(
                raw[r].1,
                format!("rule `{}` has no finite derivation", raw[r].0),
            ));
        }
        Ok(grammar)
    }

    /// Fills `min_len` (fixed point from "infinitely long") and `max_len` (`usize::MAX` for
    /// rules that reach themselves).
    fn compute_lengths(&mut self) {
        let sym_min = |rules: &[Rule], s: &Symbol| match *s {
            Symbol::Word(_) => 1,
            Symbol::Rule(r) => rules[r].min_len,
        };
        loop {
            let mut changed = false;
            for r in 0..self.rules.len() {
                let m = self.rules[r]
                    .alternatives
                    .iter()
                    .map(|a| {
                        a.symbols
                            .iter()
                            .map(|s| sym_min(&self.rules, s))
                            .fold(0usize, usize::saturating_add)
                    })
                    .min()
                    .unwrap_or(usize::MAX);
                if m < self.rules[r].min_len {
                    self.rules[r].min_len = m;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // max_len by depth-first search with an "on the stack" mark: a rule met again while on
        // the stack is recursive, and so is everything that uses it.
        let n = self.rules.len();
        let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
        let mut max_len = vec![0usize; n];
        fn visit(g: &Grammar, r: usize, state: &mut [u8], max_len: &mut [usize]) -> usize {
            match state[r] {
                1 => return usize::MAX,
                2 => return max_len[r],
                _ => {}
            }
            state[r] = 1;
            let mut best = 0usize;
            for a in &g.rules[r].alternatives {
                let mut len = 0usize;
                for s in &a.symbols {
                    let l = match *s {
                        Symbol::Word(_) => 1,
                        Symbol::Rule(q) => visit(g, q, state, max_len),
                    };
                    len = len.saturating_add(l);
                }
                best = best.max(len);
            }
            state[r] = 2;
            max_len[r] = best;
            best
        }
        for r in 0..n {
            visit(self, r, &mut state, &mut max_len);
        }
        for (rule, m) in self.rules.iter_mut().zip(max_len) {
            rule.max_len = m;
        }
    }

    /// Fills `first`: the fixed point of FIRST(A) = ∪_alternatives FIRST(s_1) ∪ FIRST(s_2) if s_1
    /// can be empty ∪ ... (a word's FIRST is itself).
    fn compute_first_words(&mut self) {
        let v = self.words.len();
        for r in &mut self.rules {
            r.first = vec![false; v];
        }
        loop {
            let mut changed = false;
            for r in 0..self.rules.len() {
                for k in 0..self.rules[r].alternatives.len() {
                    for s in self.rules[r].alternatives[k].symbols.clone() {
                        let (nullable, add): (bool, Vec<usize>) = match s {
                            Symbol::Word(w) => (false, vec![w]),
                            Symbol::Rule(q) => (
                                self.rules[q].min_len == 0,
                                (0..v).filter(|&w| self.rules[q].first[w]).collect(),
                            ),
                        };
                        for w in add {
                            changed |= !self.rules[r].first[w];
                            self.rules[r].first[w] = true;
                        }
                        if !nullable {
                            break;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The built-in English-like grammar ([`ENGLISH`]), parsed once.
    pub fn english() -> &'static Grammar {
        static ENGLISH_GRAMMAR: OnceLock<Grammar> = OnceLock::new();
        ENGLISH_GRAMMAR
            .get_or_init(|| Grammar::parse(ENGLISH).expect("the built-in grammar parses"))
    }

    /// The vocabulary: every word the grammar can emit, in order of first appearance in its text.
    pub fn vocabulary(&self) -> &[&'static str] {
        &self.words
    }

    /// One sentence drawn from the start rule, with its log-probability.
    pub fn sample(&self, rng: &mut Rng) -> Sentence {
        let mut words = Vec::with_capacity(16);
        let log_prob = self.expand(0, rng, &mut words);
        Sentence { words, log_prob }
    }

    /// Expands rule `r` into `out` and returns the log-probability of the choices made.
    fn expand(&self, r: usize, rng: &mut Rng, out: &mut Vec<&'static str>) -> f64 {
        let rule = &self.rules[r];
        let u: f64 = rng.random();
        let k = rule.cumulative.iter().position(|&c| u < c).unwrap_or(0);
        let alt = &rule.alternatives[k];
        let mut log_p = alt.log_p;
        for s in &alt.symbols {
            match *s {
                Symbol::Word(w) => out.push(self.words[w]),
                Symbol::Rule(q) => log_p += self.expand(q, rng, out),
            }
        }
        log_p
    }

    /// `n` sentences drawn independently with the generator `rng`.
    pub fn sample_many(&self, rng: &mut Rng, n: usize) -> Vec<Sentence> {
        (0..n).map(|_| self.sample(rng)).collect()
    }

    /// ln of the total probability of all derivations of `words` from the start rule (the inside
    /// algorithm), `-inf` when the grammar cannot produce them. For an unambiguous grammar it
    /// equals the `log_prob` the generator reported; for an ambiguous one it is larger.
    ///
    /// Cost grows like the cube of the sentence length: meant for tests, not for corpora.
    pub fn string_log_prob(&self, words: &[&str]) -> f64 {
        let ids: Option<Vec<usize>> = words
            .iter()
            .map(|w| self.words.iter().position(|v| v == w))
            .collect();
        let Some(ids) = ids else {
            return f64::NEG_INFINITY;
        };
        let mut chart = Inside::new(self, &ids);
        chart.rule(0, 0, ids.len()).ln()
    }

    /// ln of the probability that a sentence starts with `words` (summed over every sentence
    /// that does, with all their derivations): a prefix probability. For a whole sentence
    /// (ending in `.` or `?`, which end every sentence) it equals [`Grammar::string_log_prob`].
    /// Meant for short prefixes (the cost grows quickly with their length).
    pub fn prefix_log_prob(&self, words: &[&str]) -> f64 {
        let ids: Option<Vec<usize>> = words
            .iter()
            .map(|w| self.words.iter().position(|v| v == w))
            .collect();
        let Some(ids) = ids else {
            return f64::NEG_INFINITY;
        };
        let mut chart = Inside::new(self, &ids);
        chart.prefix_rule(0, 0).ln()
    }

    /// The mean conditional entropy of the words after the first `k` of each sentence, given
    /// everything before them in their sentence (nats per predicted word), estimated on
    /// `sentences` drawn from this grammar: Σ_s [−ln p(s) + ln P(s starts with its first k
    /// words)] / Σ_s max(len s − k, 0), since Σ_{t>k} ln p(w_t | w_<t) = ln p(s) − ln P(w_1..w_k).
    ///
    /// With k = 3 these are exactly the targets of within-sentence 4-grams (`ngram-lm`), so this
    /// is the floor of that model's expected cross-entropy (three words of context can only do
    /// worse than the whole prefix). With k = 0 it is [`entropy_per_word`].
    pub fn conditional_entropy_after(&self, sentences: &[Sentence], k: usize) -> f64 {
        let mut nats = 0.0;
        let mut predicted = 0usize;
        for s in sentences {
            if s.words.len() > k {
                nats += -s.log_prob + self.prefix_log_prob(&s.words[..k]);
                predicted += s.words.len() - k;
            }
        }
        nats / predicted as f64
    }

    /// The exact expected number of words per sentence and the exact entropy (nats) of the
    /// derivation of a sentence, from the rules: the fixed point of
    /// E[len A] = Σ_k p_k Σ_{s ∈ alt k} E[len s] and H(A) = Σ_k p_k (−ln p_k + Σ_{B ∈ alt k} H(B)).
    /// For an unambiguous grammar the derivation entropy is the entropy of the sentence.
    /// `None` if the iteration does not settle (a grammar whose sentences have infinite
    /// expected length).
    pub fn expected_length_and_entropy(&self) -> Option<(f64, f64)> {
        let n = self.rules.len();
        let mut len = vec![0.0; n];
        let mut ent = vec![0.0; n];
        for _ in 0..100_000 {
            let mut change: f64 = 0.0;
            for r in 0..n {
                let (mut l, mut h) = (0.0, 0.0);
                for a in &self.rules[r].alternatives {
                    let (mut la, mut ha) = (0.0, -a.log_p);
                    for s in &a.symbols {
                        match *s {
                            Symbol::Word(_) => la += 1.0,
                            Symbol::Rule(q) => {
                                la += len[q];
                                ha += ent[q];
                            }
                        }
                    }
                    l += a.p * la;
                    h += a.p * ha;
                }
                change = change.max((l - len[r]).abs()).max((h - ent[r]).abs());
                len[r] = l;
                ent[r] = h;
            }
            if !(len[0].is_finite() && len[0] < 1e9) {
                return None;
            }
            if change < 1e-13 {
                return Some((len[0], ent[0]));
            }
        }
        None
    }

    /// The exact entropy of the word stream in nats per word (H(sentence) / E[words per
    /// sentence], final punctuation and first words counted; see the module doc), or `None` as
    /// in [`Grammar::expected_length_and_entropy`].
    pub fn entropy_per_word(&self) -> Option<f64> {
        self.expected_length_and_entropy().map(|(l, h)| h / l)
    }

    /// Names of the rules (the nonterminals), in order of definition; the first is the start.
    pub fn rule_names(&self) -> Vec<&'static str> {
        self.rules.iter().map(|r| r.name).collect()
    }
}

/// A symbol name is a rule name when it starts with an upper-case ASCII letter.
fn is_rule_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
}

/// The memo table of the inside algorithm for one word string:
/// β(r, i, j) = P(rule r derives words[i..j]).
struct Inside<'g> {
    grammar: &'g Grammar,
    words: &'g [usize],
    /// (rules × (n+1) × (n+1)), NaN until computed.
    beta: Vec<f64>,
    /// Marks entries being computed, to catch a cycle of rules that yield the empty string.
    busy: Vec<bool>,
    /// π(r, i) = P(rule r yields a string that starts with words[i..]), NaN until computed.
    pi: Vec<f64>,
    pi_busy: Vec<bool>,
}

impl<'g> Inside<'g> {
    fn new(grammar: &'g Grammar, words: &'g [usize]) -> Self {
        let size = grammar.rules.len() * (words.len() + 1) * (words.len() + 1);
        Inside {
            grammar,
            words,
            beta: vec![f64::NAN; size],
            busy: vec![false; size],
            pi: vec![f64::NAN; grammar.rules.len() * (words.len() + 1)],
            pi_busy: vec![false; grammar.rules.len() * (words.len() + 1)],
        }
    }

    /// π(r, i) = Σ_k p_k · P(alternative k yields a string starting with words[i..]).
    fn prefix_rule(&mut self, r: usize, i: usize) -> f64 {
        let n = self.words.len();
        if i == n {
            return 1.0; // any continuation: the rules are proper and finish with probability 1
        }
        if !self.grammar.rules[r].first[self.words[i]] {
            return 0.0;
        }
        let at = r * (n + 1) + i;
        if !self.pi[at].is_nan() {
            return self.pi[at];
        }
        assert!(
            !self.pi_busy[at],
            "rule `{}` is left-recursive",
            self.grammar.rules[r].name
        );
        self.pi_busy[at] = true;
        let grammar = self.grammar;
        let mut pi = 0.0;
        for a in &grammar.rules[r].alternatives {
            pi += a.p * self.prefix_sequence(&a.symbols, i);
        }
        self.pi_busy[at] = false;
        self.pi[at] = pi;
        pi
    }

    /// P(the symbols, in order, yield a string starting with words[i..]): the first symbol
    /// either ends inside the prefix (inside probability, then the rest) or covers what is
    /// left of it (prefix probability; the rest is then free).
    fn prefix_sequence(&mut self, symbols: &[Symbol], i: usize) -> f64 {
        let n = self.words.len();
        if i == n {
            return 1.0;
        }
        let Some((first, rest)) = symbols.split_first() else {
            return 0.0;
        };
        match *first {
            Symbol::Word(w) => {
                if self.words[i] == w {
                    self.prefix_sequence(rest, i + 1)
                } else {
                    0.0
                }
            }
            Symbol::Rule(q) => {
                let mut total = self.prefix_rule(q, i);
                for e in i..n {
                    let b = self.rule(q, i, e);
                    if b > 0.0 {
                        total += b * self.prefix_sequence(rest, e);
                    }
                }
                total
            }
        }
    }

    /// β(r, i, j) = Σ_k p_k · P(alternative k derives words[i..j]).
    fn rule(&mut self, r: usize, i: usize, j: usize) -> f64 {
        let rule = &self.grammar.rules[r];
        let len = j - i;
        if len < rule.min_len || len > rule.max_len || (len > 0 && !rule.first[self.words[i]]) {
            return 0.0;
        }
        let n1 = self.words.len() + 1;
        let at = (r * n1 + i) * n1 + j;
        if !self.beta[at].is_nan() {
            return self.beta[at];
        }
        assert!(
            !self.busy[at],
            "rule `{}` derives itself on the same span: a cycle of empty/unit rules",
            rule.name
        );
        self.busy[at] = true;
        let grammar = self.grammar;
        let mut beta = 0.0;
        for a in &grammar.rules[r].alternatives {
            beta += a.p * self.sequence(&a.symbols, i, j);
        }
        self.busy[at] = false;
        self.beta[at] = beta;
        beta
    }

    /// P(the symbols, in order, derive words[i..j]): a left-to-right sum over split points.
    fn sequence(&mut self, symbols: &[Symbol], i: usize, j: usize) -> f64 {
        // f[p - i] = P(the symbols so far derive words[i..p]).
        let mut f = vec![0.0; j - i + 1];
        f[0] = 1.0;
        for s in symbols {
            let mut g = vec![0.0; j - i + 1];
            for p in i..=j {
                if f[p - i] == 0.0 {
                    continue;
                }
                match *s {
                    Symbol::Word(w) => {
                        if p < j && self.words[p] == w {
                            g[p + 1 - i] += f[p - i];
                        }
                    }
                    Symbol::Rule(q) => {
                        for e in p..=j {
                            let b = self.rule(q, p, e);
                            g[e - i] += f[p - i] * b;
                        }
                    }
                }
            }
            f = g;
        }
        f[j - i]
    }
}

/// The vocabulary of the built-in grammar (250 words, `.` `,` `?` included), in order of
/// first appearance in [`ENGLISH`], i.e. grouped by class.
pub fn vocabulary() -> &'static [&'static str] {
    Grammar::english().vocabulary()
}

/// `n` sentences of the built-in grammar, deterministic by `seed`. The sentences for `n` are
/// the first `n` of those for any larger count with the same seed.
pub fn generate_sentences(seed: u64, n: usize) -> Vec<Sentence> {
    let mut rng = rng::stream(seed, STREAM);
    Grammar::english().sample_many(&mut rng, n)
}

/// The text of `n_sentences` sentences of the built-in grammar (see [`text`]), in the layout of
/// `raw_sentences.txt`, so the text loader reads it exactly as it reads the real corpus.
pub fn corpus_text(seed: u64, n_sentences: usize) -> String {
    text(&generate_sentences(seed, n_sentences))
}

/// One sentence per line, words separated by single spaces, every line ending in `\n`.
pub fn text(sentences: &[Sentence]) -> String {
    let chars: usize = sentences
        .iter()
        .map(|s| s.words.iter().map(|w| w.len() + 1).sum::<usize>())
        .sum();
    let mut out = String::with_capacity(chars);
    for s in sentences {
        for (k, w) in s.words.iter().enumerate() {
            if k > 0 {
                out.push(' ');
            }
            out.push_str(w);
        }
        out.push('\n');
    }
    out
}

/// The word stream: the sentences' words one after the other (length Σ words).
pub fn word_stream(sentences: &[Sentence]) -> Vec<&'static str> {
    sentences
        .iter()
        .flat_map(|s| s.words.iter().copied())
        .collect()
}

/// The character stream: the characters of [`text`] (spaces and line ends included).
pub fn char_stream(sentences: &[Sentence]) -> Vec<char> {
    text(sentences).chars().collect()
}

/// −Σ log p / Σ words over `sentences`, in nats per word: the cross-entropy of the true
/// distribution on this corpus, counting every word of every sentence (first words and final
/// punctuation included). `NaN` for no words.
pub fn entropy_per_word(sentences: &[Sentence]) -> f64 {
    let nats: f64 = sentences.iter().map(|s| -s.log_prob).sum();
    let words: usize = sentences.iter().map(|s| s.words.len()).sum();
    nats / words as f64
}

/// [`Grammar::conditional_entropy_after`] for the built-in grammar: the mean entropy of the
/// words after the first `k` of each sentence given the rest of their sentence; with k = 3 the
/// floor for a model of within-sentence 4-grams (`ngram-lm`).
pub fn conditional_entropy_after(sentences: &[Sentence], k: usize) -> f64 {
    Grammar::english().conditional_entropy_after(sentences, k)
}

/// −Σ log p / (characters of [`text`]), in nats per character (spaces and `\n` counted).
pub fn entropy_per_char(sentences: &[Sentence]) -> f64 {
    let nats: f64 = sentences.iter().map(|s| -s.log_prob).sum();
    let chars: usize = sentences
        .iter()
        .map(|s| s.words.iter().map(|w| w.chars().count() + 1).sum::<usize>())
        .sum();
    nats / chars as f64
}

/// The built-in grammar. Rules are upper-case; suffixes name the agreement: `1` (the subject
/// `i`), `3` (third person singular), `P` (`you`, `we`, `they`, plural nouns); `B`, `3`, `D`,
/// `N`, `G` on verb classes are the base, 3rd-singular, past, participle and -ing forms.
/// Each verb class lists its lemmas in the same order in every form.
pub const ENGLISH: &str = r##"
# ---------------------------------------------------------------- sentences
Sentence      = 34: Clause .
              | 5: Conj Clause .
              | 4: Interj , Clause .
              | 5: PastTime , PastClause .
              | 3: FutureTime , ModalClause .
              | 3: PresentTime , PresentClause .
              | 3: Clause , Conj Clause .
              | 2: Clause because Clause .
              | 12: YesNo ?
              | 12: WhQuestion ?
              | 4: Imperative .

Conj          = and | but | so
Interj        = yes | no | well | oh

# ---------------------------------------------------------------- clauses (subject-verb agreement)
Clause        = 2: I Pred1 | 6: Subj3 Pred3 | 4: SubjP PredP | 3: ThingClause | 1: ThereClause
PresentClause = 2: I Pres1 | 6: Subj3 Pres3 | 4: SubjP PresP
PastClause    = 2: I PastSg | 6: Subj3 PastSg | 4: SubjP PastPl
ModalClause   = 2: I ModalPred | 6: Subj3 ModalPred | 4: SubjP ModalPred

I             = i
Subj3         = 4: he | 4: she | 3: Name | 3: PersonSg
SubjP         = 3: you | 3: we | 3: they | 3: PersonPl
AnySubj       = 1: I | 3: Subj3 | 3: SubjP
DoSubj        = 1: I | 3: SubjP

Pred1         = 4: Pres1 | 4: PastSg | 3: ModalPred | 1: have Perfect
Pred3         = 4: Pres3 | 4: PastSg | 3: ModalPred | 1: has Perfect
PredP         = 4: PresP | 4: PastPl | 3: ModalPred | 1: have Perfect

Pres1         = 3: Present | 1: am Not BePred
Pres3         = 3: Freq VP3 | 1: does not VPB | 1: is Not BePred
PresP         = 3: Present | 1: are Not BePred
Present       = 3: Freq VPB | 1: do not VPB
PastSg        = 3: Freq VPD | 1: did not VPB | 2: was Not BePred
PastPl        = 3: Freq VPD | 1: did not VPB | 2: were Not BePred
ModalPred     = 4: Modal Not VPB | 2: Modal Not be BePred | 1: Modal have Perfect
Perfect       = 3: Freq VPN | 1: been BePred

Modal         = can | could | should | would | might | may | will | must
Not           = 3: _ | 1: not
Freq          = 8: _ | always | never | often | sometimes | also | just

BePred        = 4: Intens AdjPerson | 3: Loc | 2: VPG | 1: going to VPB
Intens        = 5: _ | very | too | so | really
AdjPerson     = happy | sad | tired | ready | busy | right | wrong | good | young | old
Loc           = 2: here | 2: there | 2: at home | 2: at PlaceNP | 2: in PlaceNP | with PersonObj

# things as subjects take only "be"
ThingClause   = 3: ThingSg BeSg Not ThingPred | 2: ThingPl BePl Not ThingPred | 1: ThingAny Modal Not be ThingPred
BeSg          = 2: is | 1: was
BePl          = 2: are | 1: were
ThingAny      = 3: ThingSg | 2: ThingPl
ThingSg       = 4: it | 2: this | 3: that | 4: ThingSgNP
ThingPl       = 4: ThingPlNP | these | those
ThingPred     = 3: Intens AdjThing | 1: Loc
AdjThing      = good | bad | big | small | new | old | nice | right | wrong | important | ready

ThereClause   = 2: there BeSg ThereSg LocOpt | 2: there BePl TherePl LocOpt
ThereSg       = 3: a AdjCOpt Noun | an old Noun | no Noun | some Mass | no Mass
TherePl       = 2: Num AdjOpt Nouns | some AdjOpt Nouns | many AdjOpt Nouns | no Nouns
LocOpt        = 1: _ | 2: Loc
Noun          = PersonN | ThingN
Nouns         = PersonNs | ThingNs

# ---------------------------------------------------------------- verb phrases, by form
VPB           = 5: VtB ThingObj Adjunct | 5: VpB PersonObj Adjunct | 3: ViB Adjunct | 3: VmB Goal | 2: VsB SComp
VP3           = 5: Vt3 ThingObj Adjunct | 5: Vp3 PersonObj Adjunct | 3: Vi3 Adjunct | 3: Vm3 Goal | 2: Vs3 SComp
VPD           = 5: VtD ThingObj Adjunct | 5: VpD PersonObj Adjunct | 3: ViD Adjunct | 3: VmD Goal | 2: VsD SComp
VPN           = 5: VtN ThingObj Adjunct | 5: VpN PersonObj Adjunct | 3: ViN Adjunct | 3: VmN Goal | 2: VsN SComp
VPG           = 2: playing ThingObj Adjunct | 3: ViG Adjunct | 3: VmG Goal

# transitive, things as objects
VtB           = want | need | buy | take | make | get | have | find | play | do
Vt3           = wants | needs | buys | takes | makes | gets | has | finds | plays | does
VtD           = wanted | needed | bought | took | made | got | had | found | played | did
VtN           = wanted | needed | bought | taken | made | got | had | found | played | done
# transitive, people as objects
VpB           = see | know | meet | help | call | like
Vp3           = sees | knows | meets | helps | calls | likes
VpD           = saw | knew | met | helped | called | liked
VpN           = seen | known | met | helped | called | liked
# intransitive
ViB           = work | live | wait
Vi3           = works | lives | waits
ViD           = worked | lived | waited
ViN           = worked | lived | waited
ViG           = working | living | waiting
# motion, with a goal
VmB           = go | come | run
Vm3           = goes | comes | runs
VmD           = went | came | ran
VmN           = gone | come | run
VmG           = going | coming | running
# saying and thinking, with a clause
VsB           = say | think
Vs3           = says | thinks
VsD           = said | thought
VsN           = said | thought

SComp         = 2: so | 4: Clause | 3: that Clause | 1: that
Goal          = 3: home | here | there | back | 3: to PlaceNP | from PlaceNP
Adjunct       = 6: _ | in PlaceNP | at PlaceNP | at home | with PersonObj | for PersonObj | after the game | again

# ---------------------------------------------------------------- noun phrases
PersonObj     = 2: me | 2: you | 2: him | 2: her | us | 2: them | 2: Name | 3: PersonSg | 2: PersonPl
ThingObj      = 3: it | this | 2: that | 4: ThingSgNP | 2: ThingPlNP

PersonSg      = 4: DetSg AdjOpt PersonN | 2: a AdjCOpt PersonN | an old PersonN
PersonPl      = 4: DetPl AdjOpt PersonNs | AdjOpt PersonNs
ThingSgNP     = 4: DetSg AdjOpt ThingN | 2: a AdjCOpt ThingN | an old ThingN | 2: DetMass Mass
ThingPlNP     = 4: DetPl AdjOpt ThingNs | AdjOpt ThingNs
PlaceNP       = 4: the Place | PossDet Place

DetSg         = 6: the | 2: this | 2: that | 4: PossDet | every | another | no | one
DetPl         = 6: the | 2: these | 2: those | 4: PossDet | 2: some | many | no | 2: Num
DetMass       = 2: _ | 3: the | 2: PossDet | some | no
PossDet       = my | your | his | her | our | their
Num           = two | three | four | five

AdjOpt        = 4: _ | Adj
AdjCOpt       = 4: _ | AdjC
Adj           = 6: AdjC | old
AdjC          = good | bad | big | small | new | little | young | nice

Name          = john | mary | david | sarah | james | anna
PersonN       = man | woman | child | boy | girl | friend | teacher | person
PersonNs      = men | women | children | boys | girls | friends | teachers | people
ThingN        = book | car | house | dog | letter | game
ThingNs       = books | cars | houses | dogs | letters | games
Mass          = money | food | water | music
Place         = city | school | office | park | street | store | town

# ---------------------------------------------------------------- questions and imperatives
YesNo         = 3: AuxSubj VPB | 2: BeSubj Not BePred | 1: HaveSubj VPN | 1: BeThing ThingPred
AuxSubj       = 2: does Subj3 | 2: do DoSubj | 2: did AnySubj | 4: Modal AnySubj
BeSubj        = am i | 3: is Subj3 | 3: are SubjP | was i | 2: was Subj3 | 2: were SubjP
BeThing       = 3: is ThingSg | 2: are ThingPl
HaveSubj      = has Subj3 | have DoSubj

WhQuestion    = 3: what AuxSubj WhatVerb | 2: who AuxSubj VpB | 3: who Pred3 | 2: where AuxSubj VmB
              | 2: where BeSubj | 2: where BeThing | 2: WhenWhy AuxSubj VPB | how BeSubj
              | how many ThingNs AuxSubj VtB | how many PersonNs AuxSubj VpB | what is ThingPron
WhatVerb      = 4: VtB | say | think
WhenWhy       = when | why | how
ThingPron     = it | this | that

Imperative    = 4: VPB | do not VPB

# ---------------------------------------------------------------- time
PastTime      = 3: yesterday | last night | 2: last TimeUnit | 2: Num TimeUnits ago | a TimeUnit ago
              | this morning | after that
FutureTime    = 3: tomorrow | 2: next TimeUnit | in Num TimeUnits
PresentTime   = 2: now | 2: today | 2: every TimeUnit | every night | every morning | these days
              | at night | in the morning
TimeUnit      = day | week | month | year
TimeUnits     = days | weeks | months | years
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn same_seed_same_corpus_and_prefix_property() {
        let a = generate_sentences(5, 300);
        let b = generate_sentences(5, 300);
        assert_eq!(a, b);
        let c = generate_sentences(5, 100);
        assert_eq!(&a[..100], &c[..]);
        assert_ne!(generate_sentences(6, 300), a);
        assert_eq!(corpus_text(5, 300), text(&a));
    }

    #[test]
    fn the_text_loader_reads_the_corpus_back_exactly() {
        use crate::data::text::{Corpus, SentenceMode, Vocab};
        let sentences = generate_sentences(8, 30_000);
        let t = text(&sentences);
        let words: Vec<Vec<String>> = sentences
            .iter()
            .map(|s| s.words.iter().map(|w| w.to_string()).collect())
            .collect();
        // One sentence per line, as raw_sentences.txt; and as prose, since `.` and `?` end
        // every sentence and occur nowhere else.
        assert_eq!(Corpus::from_text(&t, SentenceMode::Lines).sentences, words);
        assert_eq!(Corpus::from_text(&t, SentenceMode::Prose).sentences, words);
        // The top-250 vocabulary of the text is exactly the grammar's 250 words, no unknown.
        let corpus = Corpus::from_text(&t, SentenceMode::Lines);
        let vocab = Vocab::top_n(corpus.tokens(), vocabulary().len()).unwrap();
        assert_eq!(vocab.unknown(), None);
        let mut a: Vec<&str> = vocab.words().iter().map(String::as_str).collect();
        let mut b = vocabulary().to_vec();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
    }

    #[test]
    fn vocabulary_has_250_distinct_words_all_reachable() {
        let v = vocabulary();
        let distinct: HashSet<&str> = v.iter().copied().collect();
        assert_eq!(distinct.len(), v.len(), "vocabulary has duplicates");
        assert_eq!(v.len(), 250, "the vocabulary is sized like Hinton's");
        for p in [".", ",", "?"] {
            assert!(v.contains(&p), "{p} missing");
        }
        for m in [
            "can", "could", "should", "would", "might", "may", "will", "must",
        ] {
            assert!(v.contains(&m), "{m} missing");
        }
        for w in v {
            assert!(
                !w.chars().any(|c| c.is_uppercase() || c.is_whitespace()),
                "`{w}`"
            );
        }
        // Every word is emitted by a corpus of modest size (so every word is reachable from
        // the start rule), and nothing outside the vocabulary is.
        let sentences = generate_sentences(1, 60_000);
        let seen: HashSet<&str> = word_stream(&sentences).into_iter().collect();
        let missing: Vec<&&str> = v.iter().filter(|w| !seen.contains(**w)).collect();
        assert!(missing.is_empty(), "never emitted: {missing:?}");
        assert!(seen.iter().all(|w| distinct.contains(w)));
    }

    #[test]
    fn sentences_look_like_raw_sentences() {
        let sentences = generate_sentences(2, 20_000);
        for s in &sentences {
            let last = *s.words.last().expect("no empty sentence");
            assert!(last == "." || last == "?", "{:?}", s.words);
            // `.` and `?` end a sentence and occur nowhere else (the stream keeps boundaries).
            let inner = &s.words[..s.words.len() - 1];
            assert!(
                !inner.contains(&".") && !inner.contains(&"?"),
                "{:?}",
                s.words
            );
            assert!(s.log_prob.is_finite() && s.log_prob < 0.0);
        }
        let lens: Vec<usize> = sentences.iter().map(|s| s.words.len()).collect();
        let mean = lens.iter().sum::<usize>() as f64 / lens.len() as f64;
        let short = lens.iter().filter(|&&l| l <= 12).count() as f64 / lens.len() as f64;
        assert!((5.0..=10.0).contains(&mean), "mean length {mean}");
        assert!(
            short > 0.85,
            "only {short} of sentences have at most 12 words"
        );
        assert!(*lens.iter().min().unwrap() >= 2);
        let t = corpus_text(2, 3);
        assert_eq!(t.lines().count(), 3);
        assert!(t.ends_with('\n') && !t.contains("  ") && !t.contains(" \n"));
    }

    /// The word after `subject` in sentences that start with it, when it is a verb form.
    fn next_words_after(sentences: &[Sentence], first: &str) -> HashSet<&'static str> {
        sentences
            .iter()
            .filter(|s| s.words[0] == first)
            .map(|s| s.words[1])
            .collect()
    }

    #[test]
    fn subject_verb_agreement() {
        let sentences = generate_sentences(3, 40_000);
        let he = next_words_after(&sentences, "he");
        let they = next_words_after(&sentences, "they");
        let i = next_words_after(&sentences, "i");
        for w in ["goes", "is", "has", "does", "was", "says", "sees"] {
            assert!(he.contains(w), "he {w}");
            assert!(!they.contains(w), "they {w}");
            assert!(w == "was" || !i.contains(w), "i {w}");
        }
        for w in ["go", "are", "have", "were", "say", "see"] {
            assert!(they.contains(w), "they {w}");
            assert!(!he.contains(w), "he {w}");
        }
        assert!(i.contains("am") && i.contains("was") && !i.contains("are") && !i.contains("is"));
        assert!(!he.contains("am") && !they.contains("am"));
        // After a modal or do-support with "not", a base form; determiners agree with the noun.
        let g = Grammar::english();
        let base: HashSet<&str> = ["VtB", "VpB", "ViB", "VmB", "VsB"]
            .iter()
            .flat_map(|r| words_of(g, r))
            .chain(["be"])
            .collect();
        let finite: HashSet<&str> = [
            "Vt3", "Vp3", "Vi3", "Vm3", "Vs3", "VtD", "VpD", "ViD", "VmD", "VsD",
        ]
        .iter()
        .flat_map(|r| words_of(g, r))
        .filter(|w| !base.contains(w))
        .collect();
        assert!(finite.contains("goes") && finite.contains("went") && !finite.contains("have"));
        let plural_det: HashSet<&str> =
            ["these", "those", "many", "two", "three", "four", "five"].into();
        let singular_n = words_of(g, "PersonN")
            .into_iter()
            .chain(words_of(g, "ThingN"))
            .collect::<HashSet<_>>();
        let mut after_not = 0;
        for s in &sentences {
            for w in s.words.windows(3) {
                if ["could", "does", "did", "do"].contains(&w[0]) && w[1] == "not" {
                    assert!(base.contains(w[2]), "{:?}", s.words);
                    after_not += 1;
                }
            }
            for pair in s.words.windows(2) {
                assert!(
                    !(pair[0] == "could" && finite.contains(pair[1])),
                    "{:?}",
                    s.words
                );
                assert!(
                    !(plural_det.contains(pair[0]) && singular_n.contains(pair[1])),
                    "{:?}",
                    s.words
                );
                assert!(!(pair[0] == "a" && pair[1] == "old"), "{:?}", s.words);
                assert!(!(pair[0] == "an" && pair[1] != "old"), "{:?}", s.words);
            }
        }
        assert!(after_not > 1000, "{after_not}");
    }

    /// The words of the single-word alternatives of rule `name`.
    fn words_of(g: &Grammar, name: &str) -> HashSet<&'static str> {
        let r = g
            .rules
            .iter()
            .position(|r| r.name == name)
            .expect("rule exists");
        g.rules[r]
            .alternatives
            .iter()
            .filter_map(|a| match a.symbols[..] {
                [Symbol::Word(w)] => Some(g.words[w]),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn all_modals_share_the_same_contexts() {
        // Every modal is drawn from the one `Modal` rule, so each appears in the same contexts
        // with the same frequencies (up to sampling noise): compare next-word counts.
        let sentences = generate_sentences(4, 100_000);
        let modals = [
            "can", "could", "should", "would", "might", "may", "will", "must",
        ];
        let mut counts: HashMap<&str, HashMap<&str, f64>> = HashMap::new();
        for s in &sentences {
            for pair in s.words.windows(2) {
                if modals.contains(&pair[0]) {
                    *counts
                        .entry(pair[0])
                        .or_default()
                        .entry(pair[1])
                        .or_default() += 1.0;
                }
            }
        }
        // Each modal's next-word counts against the pooled distribution of all eight.
        let mut pooled: HashMap<&str, f64> = HashMap::new();
        for c in counts.values() {
            for (w, k) in c {
                *pooled.entry(w).or_default() += k;
            }
        }
        let all: f64 = pooled.values().sum();
        let mut compared = 0;
        for m in modals {
            let total: f64 = counts[m].values().sum();
            assert!(
                (total / (all / 8.0) - 1.0).abs() < 0.05,
                "{m}: {total} of {all}"
            );
            for (w, k) in &pooled {
                let expected = k / all * total;
                if expected >= 50.0 {
                    let seen = counts[m].get(w).copied().unwrap_or(0.0);
                    assert!(
                        (seen - expected).abs() < 5.0 * expected.sqrt(),
                        "{m} {w}: {seen} vs {expected}"
                    );
                    compared += 1;
                }
            }
        }
        assert!(compared >= 8 * 5, "{compared}");
    }

    #[test]
    fn reported_log_prob_is_the_probability_of_the_string() {
        // The inside algorithm sums over all derivations; equality with the generator's single
        // derivation means no sampled sentence had a second derivation.
        let g = Grammar::english();
        let mut rng = rng::seeded(11);
        for _ in 0..3000 {
            let s = g.sample(&mut rng);
            let inside = g.string_log_prob(&s.words);
            assert!(
                (inside - s.log_prob).abs() < 1e-9,
                "{:?}: derivation {} but string {}",
                s.words,
                s.log_prob,
                inside
            );
        }
        assert_eq!(
            g.string_log_prob(&["he", "go", "home", "."]),
            f64::NEG_INFINITY
        );
        assert_eq!(g.string_log_prob(&["he", "xyzzy", "."]), f64::NEG_INFINITY);
    }

    /// All derivations of a finite grammar: (words, probability) for each.
    fn enumerate(g: &Grammar, r: usize) -> Vec<(Vec<&'static str>, f64)> {
        let mut all = Vec::new();
        for a in &g.rules[r].alternatives {
            let mut partial: Vec<(Vec<&'static str>, f64)> = vec![(Vec::new(), a.p)];
            for s in &a.symbols {
                let options = match *s {
                    Symbol::Word(w) => vec![(vec![g.words[w]], 1.0)],
                    Symbol::Rule(q) => enumerate(g, q),
                };
                partial = partial
                    .iter()
                    .flat_map(|(w, p)| {
                        options.iter().map(move |(v, q)| {
                            let mut joined = w.clone();
                            joined.extend(v);
                            (joined, p * q)
                        })
                    })
                    .collect();
            }
            all.extend(partial);
        }
        all
    }

    const SMALL_AMBIGUOUS: &str = "
        S    = 3: NP VP . | 1: VP ?
        NP   = 2: he | she | the N | the N PP
        N    = man | dog
        VP   = 3: V NP | 2: V NP PP | V
        V    = saw | ran
        PP   = with NP
    ";

    const SMALL_UNAMBIGUOUS: &str = "
        S    = 3: NP VP . | 1: VP ?
        NP   = 2: he | she | the N
        N    = man | dog
        VP   = 3: V NP | 2: V NP PP | V
        V    = saw | ran
        PP   = with NP
    ";

    #[test]
    fn inside_matches_brute_force_enumeration_on_a_small_ambiguous_grammar() {
        // "he saw the man with the dog ." has two derivations (PP on the noun or on the verb).
        let g = Grammar::parse(SMALL_AMBIGUOUS.trim_start_matches('\n')).unwrap();
        // Restrict recursion: NP -> the N PP -> with NP ... is infinite, so enumerate with a
        // depth-limited copy: strings up to the length where the enumeration is complete.
        let g_finite = Grammar::parse(
            "S = 3: NP VP . | 1: VP ?
             NP = 2: he | she | the N | the N PP
             N = man | dog
             VP = 3: V NP | 2: V NP PP | V
             V = saw | ran
             PP = with NP0
             NP0 = 2: he | she | the N | the N PP0
             PP0 = with NP1
             NP1 = 2: he | she | the N",
        )
        .unwrap();
        let mut by_string: HashMap<Vec<&str>, f64> = HashMap::new();
        let mut derivations: HashMap<Vec<&str>, usize> = HashMap::new();
        for (w, p) in enumerate(&g_finite, 0) {
            *by_string.entry(w.clone()).or_default() += p;
            *derivations.entry(w).or_default() += 1;
        }
        // Strings of at most 7 words only use the first two levels of PP nesting, so their
        // enumerated probability is complete and must equal the inside sum of the real grammar.
        let mut checked = 0;
        let mut ambiguous = 0;
        for (w, p) in &by_string {
            if w.len() <= 7 {
                let inside = g.string_log_prob(w);
                assert!(
                    (inside - p.ln()).abs() < 1e-12,
                    "{w:?}: {inside} vs {}",
                    p.ln()
                );
                checked += 1;
                ambiguous += (derivations[w] > 1) as usize;
            }
        }
        assert!(checked > 50 && ambiguous > 5, "{checked} {ambiguous}");
        let two = ["he", "saw", "the", "man", "with", "the", "dog", "."];
        assert_eq!(derivations[&two.to_vec()], 2);
    }

    #[test]
    fn inside_check_detects_ambiguity_and_sampling_frequencies_match_probabilities() {
        // On the ambiguous grammar some sampled sentences have a larger string probability
        // than the probability of the derivation that produced them: the check above can fail.
        let amb = Grammar::parse(SMALL_AMBIGUOUS).unwrap();
        let mut rng = rng::seeded(2);
        let caught = (0..2000)
            .map(|_| amb.sample(&mut rng))
            .filter(|s| amb.string_log_prob(&s.words) > s.log_prob + 1e-9)
            .count();
        assert!(caught > 20, "{caught}");

        // On the unambiguous one, frequencies of whole sentences match exp(log_prob).
        let g = Grammar::parse(SMALL_UNAMBIGUOUS).unwrap();
        let n = 200_000;
        let mut counts: HashMap<Vec<&str>, (usize, f64)> = HashMap::new();
        for _ in 0..n {
            let s = g.sample(&mut rng);
            assert!((g.string_log_prob(&s.words) - s.log_prob).abs() < 1e-12);
            let e = counts.entry(s.words).or_insert((0, s.log_prob));
            e.0 += 1;
            assert_eq!(e.1, s.log_prob, "one string, one probability");
        }
        let mut frequent = 0;
        for (w, (c, lp)) in &counts {
            let p = lp.exp();
            let expected = p * n as f64;
            if expected > 200.0 {
                frequent += 1;
                let sd = (expected * (1.0 - p)).sqrt();
                assert!(
                    (*c as f64 - expected).abs() < 5.0 * sd,
                    "{w:?}: {c} vs {expected}"
                );
            }
        }
        assert!(frequent >= 10, "{frequent}");
    }

    #[test]
    fn entropy_per_word_is_exact_and_matches_the_corpus() {
        let g = Grammar::english();
        let (len, h) = g.expected_length_and_entropy().unwrap();
        let exact = g.entropy_per_word().unwrap();
        assert!((exact - h / len).abs() < 1e-15);
        // Finite and sensible: below a uniform choice over the vocabulary, well above zero.
        assert!(
            exact > 1.0 && exact < (vocabulary().len() as f64).ln(),
            "{exact}"
        );
        let sentences = generate_sentences(9, 100_000);
        let measured = entropy_per_word(&sentences);
        let mean_len = word_stream(&sentences).len() as f64 / sentences.len() as f64;
        assert!((measured - exact).abs() < 0.02, "{measured} vs {exact}");
        assert!((mean_len - len).abs() < 0.05, "{mean_len} vs {len}");
        let per_char = entropy_per_char(&sentences);
        let chars = char_stream(&sentences).len() as f64;
        let nats: f64 = sentences.iter().map(|s| -s.log_prob).sum();
        assert!((per_char - nats / chars).abs() < 1e-12);

        // On the small grammar, the exact entropy equals the brute-force sum over sentences.
        let small = Grammar::parse(
            "S = 3: NP VP . | 1: VP ?
             NP = 2: he | she | the N
             N = man | dog
             VP = 3: V NP | V
             V = saw | ran",
        )
        .unwrap();
        let all = enumerate(&small, 0);
        let total: f64 = all.iter().map(|(_, p)| p).sum();
        let h_brute: f64 = all.iter().map(|(_, p)| -p * p.ln()).sum();
        let len_brute: f64 = all.iter().map(|(w, p)| p * w.len() as f64).sum();
        let (l, h) = small.expected_length_and_entropy().unwrap();
        assert!((total - 1.0).abs() < 1e-12);
        assert!((h - h_brute).abs() < 1e-12 && (l - len_brute).abs() < 1e-12);
    }

    #[test]
    fn prefix_probabilities_match_enumeration() {
        // A finite ambiguous grammar: every derivation enumerated, summed by prefix.
        let g = Grammar::parse(
            "S = 3: NP VP . | 1: VP ?
             NP = 2: he | she | the N | the N PP
             N = man | dog
             VP = 3: V NP | 2: V NP PP | V
             V = saw | ran
             PP = with NP0
             NP0 = 2: he | she | the N",
        )
        .unwrap();
        let all = enumerate(&g, 0);
        let mut by_prefix: HashMap<Vec<&str>, f64> = HashMap::new();
        for (w, p) in &all {
            for k in 0..=w.len().min(4) {
                *by_prefix.entry(w[..k].to_vec()).or_default() += p;
            }
        }
        for (prefix, p) in &by_prefix {
            let lp = g.prefix_log_prob(prefix);
            assert!(
                (lp - p.ln()).abs() < 1e-12,
                "{prefix:?}: {lp} vs {}",
                p.ln()
            );
        }
        assert!(by_prefix.len() > 40);
        assert_eq!(g.prefix_log_prob(&["saw", "saw"]), f64::NEG_INFINITY);
    }

    #[test]
    fn conditional_entropy_after_k_words() {
        let g = Grammar::english();
        let sentences = generate_sentences(13, 3000);
        // A whole sentence is its own only prefix-extension.
        for s in &sentences[..200] {
            assert!(
                (g.prefix_log_prob(&s.words) - s.log_prob).abs() < 1e-9,
                "{:?}",
                s.words
            );
        }
        let h0 = conditional_entropy_after(&sentences, 0);
        assert!((h0 - entropy_per_word(&sentences)).abs() < 1e-12);
        let h3 = conditional_entropy_after(&sentences, 3);
        // Later words are more predictable than the average word (the first ones are the
        // least predictable), but still uncertain.
        assert!(h3 > 0.5 && h3 < h0, "{h3} vs {h0}");
    }

    #[test]
    fn parse_errors_name_the_line() {
        let e = Grammar::parse("S = a B\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("`B`"), "{e}");
        let e = Grammar::parse("S = a\nS = b\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("twice"), "{e}");
        let e = Grammar::parse("S = 0: a | b\n").unwrap_err().to_string();
        assert!(e.contains("weight"), "{e}");
        let e = Grammar::parse("S = a S\n").unwrap_err().to_string();
        assert!(e.contains("no finite derivation"), "{e}");
        assert!(Grammar::parse("# nothing\n").is_err());
    }
}
