//! The MNIST IDX loaders, plain and gzip ([`parse_idx_images`], [`parse_idx_labels`]).
//!
//! The first byte picks the file kind (bit 0: images or labels) and whether the rest is
//! parsed as it is (bit 1 clear: plain, or gzip when it starts with `1f 8b`, as the seeds do)
//! or gzipped here first (bit 1 set), so the IDX parser behind the gzip path sees well-formed
//! gzip streams of every header the fuzzer makes, and must then agree with the plain parse.

#![no_main]

use flate2::{Compression, write::GzEncoder};
use libfuzzer_sys::fuzz_target;
use shared::data::idx::{parse_idx_images, parse_idx_labels};
use std::io::Write;
use std::path::Path;

/// Parses `bytes` as the picked kind; images are reduced to (n, rows, cols, pixels).
fn parse(
    images: bool,
    bytes: &[u8],
    path: &Path,
) -> shared::Result<(usize, usize, usize, Vec<u8>)> {
    if images {
        let x = parse_idx_images(bytes, path)?;
        assert_eq!(x.pixels.len(), x.n * x.rows * x.cols);
        Ok((x.n, x.rows, x.cols, x.pixels))
    } else {
        let y = parse_idx_labels(bytes, path)?;
        Ok((y.len(), 1, 1, y))
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let images = mode & 1 == 1;
    let path = Path::new("mnist-idx");
    let plain = parse(images, rest, path);
    if let Err(e) = &plain {
        assert!(e.to_string().starts_with("mnist-idx: "), "{e}");
    }
    if mode & 2 == 2 && !rest.starts_with(&[0x1f, 0x8b]) {
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(rest).expect("in memory");
        let gz = gz.finish().expect("in memory");
        let unzipped = parse(images, &gz, path);
        match (&plain, &unzipped) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "plain and gzip differ"),
            (Err(_), Err(_)) => {}
            _ => panic!("plain {plain:?} but gzip {unzipped:?}"),
        }
    }
});
