//! The scikit-learn 8×8 digits CSV loader ([`parse_digits_csv`]).

#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::data::digits::parse_digits_csv;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // Non-UTF-8 is refused by `files::read_text` before the parser runs.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_digits_csv(text, Path::new("digits.csv")) {
        Ok(set) => {
            assert!(!set.is_empty());
            assert_eq!(set.images.shape(), (64, set.len()));
            assert!(set.labels.iter().all(|&l| l < set.classes));
            assert!(set.images.iter().all(|&p| (0.0..=1.0).contains(&p)));
        }
        Err(e) => assert!(e.to_string().starts_with("digits.csv: "), "{e}"),
    }
});
