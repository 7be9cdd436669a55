//! The vocabulary: the sorted set of the training text's characters.
//!
//! The reference builds it with `list(set(data))`, whose order depends on Python's per-process
//! string hashing, so its character indices change from run to run. Sorting by code point makes
//! index `i` mean the same character on every run (for Shakespeare: 0 = newline, 1 = space).

use shared::data::batch::SeqWindows;
use shared::data::text::CharStream;
use shared::{Error, Result};
use std::path::Path;

/// The characters a model reads and writes, sorted; a character's index is its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocab {
    /// The distinct characters in code-point order.
    pub chars: Vec<char>,
}

impl Vocab {
    /// The sorted set of the characters of `text` (as `shared::data`'s `CharStream` makes it).
    pub fn from_text(text: &str) -> Self {
        Vocab {
            chars: CharStream::from_text(text).chars,
        }
    }

    /// N_x, the number of characters.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// True when there is no character.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The index of `c`, if it is in the vocabulary.
    pub fn index(&self, c: char) -> Option<usize> {
        self.chars.binary_search(&c).ok()
    }

    /// `text` as character indices; a character outside the vocabulary is an error naming it
    /// (`what` says where the text came from, e.g. "--prime").
    pub fn encode(&self, text: &str, what: &str) -> Result<Vec<usize>> {
        text.chars()
            .enumerate()
            .map(|(i, c)| {
                self.index(c).ok_or_else(|| {
                    Error::msg(format!(
                        "{what}: character {c:?} (position {i}) is not in the model's \
                         vocabulary of {} characters",
                        self.len()
                    ))
                })
            })
            .collect()
    }

    /// The characters of `stream` (a text read by `shared::data`) as indices into this
    /// vocabulary. Characters outside it are an error that counts them and names the first few
    /// (`name` says where the text came from): a model cannot score a character it has no
    /// output for, and a text with those characters cut out would not be the text.
    pub fn encode_stream(&self, stream: &CharStream, name: &str) -> Result<Vec<usize>> {
        // Index of each of the stream's distinct characters in this vocabulary.
        let map: Vec<Option<usize>> = stream.chars.iter().map(|&c| self.index(c)).collect();
        let unknown: Vec<char> = stream
            .chars
            .iter()
            .zip(&map)
            .filter(|(_, m)| m.is_none())
            .map(|(&c, _)| c)
            .collect();
        if unknown.is_empty() {
            return Ok(stream.ids.iter().map(|&i| map[i].expect("known")).collect());
        }
        let count = stream.ids.iter().filter(|&&i| map[i].is_none()).count();
        let first = stream
            .ids
            .iter()
            .position(|&i| map[i].is_none())
            .expect("one unknown");
        let shown: Vec<String> = unknown.iter().take(5).map(|c| format!("{c:?}")).collect();
        let more = if unknown.len() > 5 { ", …" } else { "" };
        Err(Error::msg(format!(
            "{name}: {count} of its {} characters are not in the model's vocabulary of {} \
             ({} distinct: {}{more}; the first at character {first}); the model has no output \
             for them, so it cannot score this text",
            stream.ids.len(),
            self.len(),
            unknown.len(),
            shown.join(", ")
        )))
    }

    /// Character indices back to text.
    pub fn decode(&self, ix: &[usize]) -> String {
        ix.iter().map(|&i| self.chars[i]).collect()
    }

    /// The vocabulary as a JSON string of its characters (how checkpoints store it).
    pub fn to_json(&self) -> String {
        serde_json::Value::String(self.chars.iter().collect()).to_string()
    }

    /// Reads what [`Vocab::to_json`] wrote; `what` names the source for errors.
    pub fn from_json(json: &str, what: &str) -> Result<Self> {
        let bad = |msg: &str| Error::msg(format!("{what}: vocabulary {msg}"));
        let s: String = serde_json::from_str(json).map_err(|_| bad("is not a JSON string"))?;
        let chars: Vec<char> = s.chars().collect();
        if chars.len() < 2 || chars.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("is not a sorted set of at least two characters"));
        }
        Ok(Vocab { chars })
    }
}

/// A training text, checked: its character stream (read by `shared::data`), the windows of T
/// characters the reference walks through, and a fingerprint.
#[derive(Clone, Debug)]
pub struct Text {
    /// Where it came from: a file path, or `generated:<seed>:<sentences>` for the generated
    /// corpus (recorded in checkpoints; errors name it).
    pub source: String,
    /// The sorted character set.
    pub vocab: Vocab,
    /// The text as indices into `vocab`.
    pub data: Vec<usize>,
    /// The chunks: window k has inputs data[kT .. kT+T] and targets data[kT+1 .. kT+T+1].
    pub windows: SeqWindows,
    /// FNV-1a hash of the text's UTF-8 bytes: a resumed run checks it trains on the same text.
    pub hash: u64,
    /// The exact entropy of the text's source in nats per character, when known (the
    /// generated corpus): the floor of any model's loss per character.
    pub entropy: Option<f64>,
}

impl Text {
    /// Reads the UTF-8 file `path` for chunks of `seq_len` characters (errors name the file;
    /// `shared::data` already refuses a file of fewer than two characters).
    pub fn load(path: &Path, seq_len: usize) -> Result<Self> {
        Self::from_stream(
            CharStream::load(path)?,
            seq_len,
            &path.display().to_string(),
        )
    }

    /// The text a run names: `generated:<seed>:<sentences>` for the generated corpus, else a
    /// file path.
    pub fn from_source(source: &str, seq_len: usize) -> Result<Self> {
        let generated = source
            .strip_prefix("generated:")
            .and_then(|s| s.split_once(':'))
            .and_then(|(seed, n)| Some((seed.parse().ok()?, n.parse().ok()?)));
        match generated {
            Some((seed, sentences)) => {
                let (raw, entropy) = crate::corpus::generated(seed, sentences);
                let mut text = Self::new(&raw, seq_len, source)?;
                text.entropy = Some(entropy);
                Ok(text)
            }
            None => Self::load(Path::new(source), seq_len),
        }
    }

    /// Checks the in-memory `text` (`name` says where it came from in errors).
    pub fn new(text: &str, seq_len: usize, name: &str) -> Result<Self> {
        if text.is_empty() {
            return Err(Self::empty(name));
        }
        Self::from_stream(CharStream::from_text(text), seq_len, name)
    }

    fn empty(name: &str) -> Error {
        Error::msg(format!(
            "{name} is empty: char-rnn needs a text to learn from"
        ))
    }

    /// Checks a character stream can train a model with chunks of `seq_len` characters.
    /// Errors: a text with one distinct character (nothing to predict), a text too short for
    /// one chunk.
    pub fn from_stream(stream: CharStream, seq_len: usize, name: &str) -> Result<Self> {
        if stream.ids.is_empty() {
            return Err(Self::empty(name));
        }
        if stream.vocab_size() < 2 {
            return Err(Error::msg(format!(
                "{name} has only one distinct character ({:?}): there is nothing to predict; \
                 give a text with at least two different characters",
                stream.chars[0]
            )));
        }
        let n = stream.ids.len();
        // The reference trains on data[p .. p + T + 1] only while p + T + 1 < len(data).
        let windows = SeqWindows::new(n, seq_len).map_err(|_| {
            Error::msg(format!(
                "{name} has {n} characters; chunks of --seq-len {seq_len} need at least {}",
                seq_len + 2
            ))
        })?;
        let mut hash = Fnv1a::new();
        let mut buf = [0u8; 4];
        for &i in &stream.ids {
            hash.write(stream.chars[i].encode_utf8(&mut buf).as_bytes());
        }
        Ok(Text {
            source: name.to_string(),
            vocab: Vocab {
                chars: stream.chars,
            },
            data: stream.ids,
            windows,
            hash: hash.finish(),
            entropy: None,
        })
    }
}

/// 64-bit FNV-1a, fed piece by piece.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// 64-bit FNV-1a: a small, stable fingerprint of a text (not a cryptographic hash).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = Fnv1a::new();
    h.write(bytes);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_set_and_round_trip() {
        let v = Vocab::from_text("First Citizen:\nBefore");
        assert_eq!(v.chars[0], '\n');
        assert_eq!(v.chars[1], ' ');
        assert!(v.chars.windows(2).all(|w| w[0] < w[1]));
        let ix = v.encode("Fire\n", "test").unwrap();
        assert_eq!(v.decode(&ix), "Fire\n");
        let e = v.encode("Fix", "--prime").unwrap_err().to_string();
        assert!(e.contains("--prime") && e.contains("'x'"), "{e}");
        let back = Vocab::from_json(&v.to_json(), "m").unwrap();
        assert_eq!(back, v);
        assert!(Vocab::from_json("\"ba\"", "m").is_err());
        assert!(Vocab::from_json("[1]", "m").is_err());
    }

    #[test]
    fn fnv1a_known_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        // A text's fingerprint is that of its bytes.
        let t = Text::new("héllo wörld", 3, "t").unwrap();
        assert_eq!(t.hash, fnv1a("héllo wörld".as_bytes()));
    }
}
