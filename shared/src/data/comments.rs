//! CSV comments (`--csv FILE`): the reddit format of Britz's rnn-lm tutorial.
//!
//! The file is UTF-8 CSV (RFC 4180 quoting: fields in `"…"` may hold commas, doubled quotes
//! and newlines) with a header row; the comment text is the column named `body` (matched
//! ignoring case and surrounding spaces; other columns are ignored). HTML entities such as
//! `&amp;` are left as they are, as in the tutorial.
//!
//! A file cut off in the middle of its last record (a download or `head -c` stopped early,
//! as the team's 112,714-byte head of Britz's file is) still loads: a last record that ends
//! inside a quoted field, or that has fewer fields than the header, is left out and reported in
//! [`Comments::truncated`] instead of failing. A cut that happens to fall outside quotes
//! cannot be told from a complete record and is kept.

use super::text::{self, Corpus, SentenceMode};
use crate::error::{Error, Result};
use crate::files;
use std::fmt;
use std::path::Path;

/// The comments of a CSV file, in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct Comments {
    /// The `body` field of every complete record (may be empty strings).
    pub bodies: Vec<String>,
    /// The last record, when it was cut off and left out.
    pub truncated: Option<Truncated>,
}

/// Where the cut-off last record of a CSV file starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncated {
    /// 1-based line of the file where the record starts.
    pub line: u64,
    /// 0-based byte offset where the record starts.
    pub byte: u64,
    /// 1-based record number, the header not counted.
    pub record: u64,
    /// Bytes from the record's start to the end of the file (what was left out).
    pub bytes: u64,
}

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: record {} (byte {}, {} bytes to the end of the file) is cut off; left out",
            self.line, self.record, self.byte, self.bytes
        )
    }
}

impl Comments {
    /// Reads a comments CSV. Errors name the file and the line: unreadable, not UTF-8 (byte
    /// offset), empty, no `body` column (listing the columns found), a malformed record
    /// before the last one, or no comment at all.
    pub fn load(path: impl AsRef<Path>) -> Result<Comments> {
        let path = path.as_ref();
        Comments::parse(&files::read_text(path)?, path)
    }

    /// Parses the text of a comments CSV; `path` only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Comments> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(text.as_bytes());
        let header = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
        if header.is_empty() || (header.len() == 1 && header[0].trim().is_empty()) {
            return Err(Error::format(
                path,
                "line 1",
                "empty file: expected a header row with a `body` column",
            ));
        }
        let column = header
            .iter()
            .position(|h| {
                h.trim_start_matches('\u{feff}')
                    .trim()
                    .eq_ignore_ascii_case("body")
            })
            .ok_or_else(|| {
                let found: Vec<String> = header.iter().map(|h| format!("`{h}`")).collect();
                Error::format(
                    path,
                    "line 1",
                    format!(
                        "no `body` column in the header (columns found: {})",
                        found.join(", ")
                    ),
                )
            })?;

        // Every record, with where it starts; the last one is judged once the end is known.
        let mut records: Vec<(csv::StringRecord, csv::Position)> = Vec::new();
        for result in reader.records() {
            let record = result.map_err(|e| csv_error(path, &e))?;
            let pos = record
                .position()
                .cloned()
                .unwrap_or_else(csv::Position::new);
            records.push((record, pos));
        }

        let mut truncated = None;
        if let Some((record, pos)) = records.last() {
            let tail = &text.as_bytes()[pos.byte() as usize..];
            if ends_inside_quotes(tail) || record.len() < header.len() {
                truncated = Some(Truncated {
                    line: pos.line(),
                    byte: pos.byte(),
                    record: records.len() as u64,
                    bytes: tail.len() as u64,
                });
                records.pop();
            }
        }

        let mut bodies = Vec::with_capacity(records.len());
        for (record, pos) in &records {
            match record.get(column) {
                Some(body) => bodies.push(body.to_string()),
                None => {
                    return Err(Error::format(
                        path,
                        format!("line {}", pos.line()),
                        format!(
                            "record has {} field(s), the header has {} (`body` is column {})",
                            record.len(),
                            header.len(),
                            column + 1
                        ),
                    ));
                }
            }
        }
        if bodies.is_empty() {
            let what = match &truncated {
                Some(t) => format!("no complete comment: the only record is cut off ({t})"),
                None => "no comment after the header row".to_string(),
            };
            return Err(Error::format(path, "whole file", what));
        }
        Ok(Comments { bodies, truncated })
    }

    /// Every comment cut into lower-cased sentences ([`SentenceMode::Prose`]), comment by
    /// comment, as Britz runs `sent_tokenize` on each row: no sentence spans two comments.
    pub fn corpus(&self) -> Corpus {
        Corpus {
            sentences: self
                .bodies
                .iter()
                .flat_map(|b| text::split_sentences(b, SentenceMode::Prose))
                .collect(),
        }
    }
}

/// A csv crate error as a format error naming the line.
fn csv_error(path: &Path, e: &csv::Error) -> Error {
    let at = match e.position() {
        Some(p) => format!("line {}", p.line()),
        None => "CSV".to_string(),
    };
    Error::format(path, at, e)
}

/// True when `raw` (one CSV record and whatever follows it up to the end of the file) ends
/// inside a quoted field: an opening `"` at the start of a field whose closing `"` never came
/// (`""` inside quotes is an escaped quote).
fn ends_inside_quotes(raw: &[u8]) -> bool {
    let mut in_quotes = false;
    let mut field_start = true;
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if in_quotes {
            if b == b'"' {
                if raw.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
            field_start = false;
        } else {
            in_quotes = b == b'"' && field_start;
            field_start = matches!(b, b',' | b'\n' | b'\r');
        }
        i += 1;
    }
    in_quotes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Comments> {
        Comments::parse(text, Path::new("comments.csv"))
    }

    #[test]
    fn reads_quoted_multiline_bodies_and_other_columns() {
        let csv = "id,Body ,score\n\
                   1,\"Hello, \"\"world\"\".\nSecond line here.\",5\n\
                   2,plain text,3\n\
                   3,,0\n";
        let c = parse(csv).unwrap();
        assert_eq!(
            c.bodies,
            ["Hello, \"world\".\nSecond line here.", "plain text", ""]
        );
        assert_eq!(c.truncated, None);
        let corpus = c.corpus();
        assert_eq!(corpus.sentences.len(), 3);
        assert_eq!(
            corpus.sentences[0],
            ["hello", ",", "\"", "world", "\"", "."]
        );
    }

    #[test]
    fn cut_off_last_record_is_left_out_and_reported() {
        let csv = "body\n\"First comment.\"\n\"Second, with \"\"quotes\"\"\nand a newline.\"\n\"Third is cut";
        let c = parse(csv).unwrap();
        assert_eq!(c.bodies.len(), 2);
        let t = c.truncated.unwrap();
        assert_eq!((t.line, t.record), (5, 3));
        assert_eq!(t.byte as usize, csv.find("\"Third").unwrap());
        assert_eq!(t.bytes, "\"Third is cut".len() as u64);
        assert!(t.to_string().contains("line 5: record 3"), "{t}");

        // A cut right after an escaped quote is still inside the field.
        let c = parse("body\nok\n\"she said \"\"hi\"\"").unwrap();
        assert_eq!(c.bodies, ["ok"]);
        assert!(c.truncated.is_some());

        // A last record missing columns counts as cut off too.
        let c = parse("body,score\nfine,1\nhalf").unwrap();
        assert_eq!(c.bodies, ["fine"]);
        assert_eq!(c.truncated.unwrap().line, 3);

        // A complete last record without a final newline is kept.
        let c = parse("body\n\"a\"\n\"b, c\"").unwrap();
        assert_eq!(c.bodies, ["a", "b, c"]);
        assert_eq!(c.truncated, None);
    }

    #[test]
    fn malformed_files_give_clear_errors() {
        let e = parse("").unwrap_err().to_string();
        assert!(e.contains("comments.csv: line 1: empty file"), "{e}");

        let e = parse("id,text,score\n1,hello,2\n").unwrap_err().to_string();
        assert!(
            e.contains("no `body` column") && e.contains("`id`, `text`, `score`"),
            "{e}"
        );

        let e = parse("body\n").unwrap_err().to_string();
        assert!(e.contains("no comment after the header"), "{e}");

        let e = parse("body\n\"only one, cut").unwrap_err().to_string();
        assert!(e.contains("no complete comment"), "{e}");

        let e = parse("id,body\n1,a\n2\n3,c\n").unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("1 field(s)"), "{e}");
    }

    #[test]
    fn file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("reddit.csv");
        std::fs::write(&p, b"body\n\"caf\xe9\"\n").unwrap();
        let e = Comments::load(&p).unwrap_err().to_string();
        assert!(e.contains("reddit.csv: byte 9"), "{e}");
        std::fs::write(&p, b"\xef\xbb\xbfbody\nhello there\n").unwrap();
        assert_eq!(Comments::load(&p).unwrap().bodies, ["hello there"]);
        let random: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        std::fs::write(&p, &random).unwrap();
        assert!(Comments::load(&p).is_err());
    }

    #[test]
    fn quote_state_machine() {
        assert!(!ends_inside_quotes(b"\"a\"\"b\"\n"));
        assert!(ends_inside_quotes(b"\"a\"\"b\n"));
        assert!(!ends_inside_quotes(b"ab\"c\n"));
        assert!(ends_inside_quotes(b"x,\"y"));
        assert!(!ends_inside_quotes(b""));
    }
}
