//! The safetensors checkpoint loader ([`checkpoint::parse`]), then `take` and `meta` the way
//! a chapter restores its model.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::checkpoint;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("model.safetensors");
    let mut ck = match checkpoint::parse(data, path, "fuzz") {
        Ok(ck) => ck,
        Err(e) => {
            assert!(e.to_string().starts_with("model.safetensors: "), "{e}");
            return;
        }
    };
    let _ = ck.meta::<usize>("hidden");
    let _ = ck.meta::<f64>("lr");
    let _ = ck.meta_str("chapter").expect("checked by parse");
    // A chapter asks for fixed names and shapes; some are there, some not, some differ.
    for (name, rows, cols) in [("W", 2, 3), ("b", 3, 1), ("missing", 1, 1)] {
        let _ = ck.clone().take(name, rows, cols);
    }
    let mut names: Vec<String> = ck.tensors.keys().cloned().collect();
    names.sort();
    for name in names {
        let (rows, cols) = ck.shape(&name).expect("listed");
        assert!(ck.clone().take(&name, rows + 1, cols).is_err());
        let finite = ck.tensors[&name].iter().all(|v| v.is_finite());
        match ck.take(&name, rows, cols) {
            Ok(m) => assert!(finite && m.shape() == (rows, cols)),
            Err(e) => assert!(!finite, "{e}"),
        }
        assert!(ck.take(&name, rows, cols).is_err(), "taken twice");
    }
});
