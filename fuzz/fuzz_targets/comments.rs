//! The reddit comments CSV loader ([`Comments::parse`]) and the corpus made from it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::data::comments::Comments;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // Non-UTF-8 is refused by `files::read_text` before the parser runs.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("comments.csv");
    match Comments::parse(text, path) {
        Ok(comments) => {
            assert!(!comments.bodies.is_empty(), "Ok without a comment");
            if let Some(t) = &comments.truncated {
                assert!(t.byte as usize + t.bytes as usize == text.len(), "{t}");
                let _ = t.to_string();
            }
            let corpus = comments.corpus();
            assert!(corpus.sentences.iter().all(|s| !s.is_empty()));
        }
        Err(e) => assert!(e.to_string().starts_with("comments.csv: "), "{e}"),
    }
});
