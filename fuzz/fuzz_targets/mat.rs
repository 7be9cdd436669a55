//! The MATLAB Level-5 reader ([`parse_mat`]) and Hinton's `data.mat` on top of it
//! ([`parse_hinton_a2`]).
//!
//! An input starting with `M` is a whole file (the seeds are real MAT-files). Any other first
//! byte puts a valid 128-byte header in front of the rest, which is then either the data
//! elements themselves (bit 0 clear) or zlib-compressed here into one `miCOMPRESSED` element
//! (bit 0 set), so the fuzzer spends its time on the elements, compressed ones included.

#![no_main]

use flate2::{Compression, write::ZlibEncoder};
use libfuzzer_sys::fuzz_target;
use shared::data::mat::{MatArray, MatValue, parse_hinton_a2, parse_mat};
use std::io::Write;
use std::path::Path;

/// Touches everything an array offers, recursively.
fn walk(a: &MatArray) {
    let _ = (a.numel(), a.class_name(), a.shape(), a.string(), a.to_f64());
    match &a.value {
        MatValue::Numeric { real, imag, .. } => {
            assert_eq!(real.len(), a.numel());
            if let Some(imag) = imag {
                assert_eq!(imag.len(), a.numel());
            }
            for k in 0..real.len().min(8) {
                let _ = real.integer(k);
            }
        }
        MatValue::Char(c) => assert_eq!(c.len(), a.numel()),
        MatValue::Cell(cells) => {
            assert_eq!(cells.len(), a.numel());
            cells.iter().for_each(walk);
        }
        MatValue::Struct { fields, elements } => {
            assert_eq!(elements.len(), a.numel());
            for e in elements {
                assert_eq!(e.len(), fields.len());
                e.iter().for_each(walk);
            }
            if let Some(f) = fields.first() {
                let _ = a.field(f);
            }
        }
        MatValue::Unsupported(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode == b'M' {
        data.to_vec()
    } else {
        let mut b = b"MATLAB 5.0 MAT-file, fuzz".to_vec();
        b.resize(124, b' ');
        b.extend_from_slice(&[0x00, 0x01, b'I', b'M']);
        if mode & 1 == 0 {
            b.extend_from_slice(rest);
        } else {
            let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
            z.write_all(rest).expect("in memory");
            let z = z.finish().expect("in memory");
            b.extend_from_slice(&15u32.to_le_bytes());
            b.extend_from_slice(&(z.len() as u32).to_le_bytes());
            b.extend_from_slice(&z);
        }
        b
    };
    let path = Path::new("data.mat");
    match parse_mat(&bytes, path) {
        Ok(mat) => {
            let _ = mat.names();
            mat.arrays.iter().for_each(walk);
        }
        Err(e) => assert!(e.to_string().starts_with("data.mat: "), "{e}"),
    }
    match parse_hinton_a2(&bytes, path) {
        Ok(a2) => {
            let v = a2.vocab.len();
            assert!(v > 0);
            for set in [&a2.train, &a2.valid, &a2.test] {
                assert!(set.iter().flatten().all(|&id| id < v));
            }
            let _ = a2.to_string();
        }
        Err(e) => assert!(e.to_string().starts_with("data.mat: "), "{e}"),
    }
});
