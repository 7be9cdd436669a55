//! Writes the seed inputs of every fuzz target into `fuzz/seeds/<target>/` (committed; a few
//! KB in all). Run from the repository root:
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example make_seeds
//! ```
//!
//! Every seed is made here by `shared`'s own writers or by hand (no outside data): a valid
//! file of each format, so the fuzzer starts from inputs that reach deep into each loader.

use flate2::{Compression, write::GzEncoder};
use nalgebra::DMatrix;
use shared::data::grammar;
use shared::files::{create_dir_all, write_bytes_atomic};
use std::io::Write;
use std::path::{Path, PathBuf};

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory")
}

/// An IDX file: big-endian magic, sizes, then `data`.
fn idx(magic: u32, sizes: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b: Vec<u8> = magic.to_be_bytes().to_vec();
    for s in sizes {
        b.extend_from_slice(&s.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

/// `bytes` with the fuzz target's mode byte in front.
fn with_mode(mode: u8, bytes: &[u8]) -> Vec<u8> {
    let mut b = vec![mode];
    b.extend_from_slice(bytes);
    b
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let seeds = root.join("seeds");
        let put = |target: &str, name: &str, bytes: &[u8]| -> shared::Result<()> {
            let dir: PathBuf = seeds.join(target);
            create_dir_all(&dir)?;
            write_bytes_atomic(dir.join(name), bytes)
        };

        // text: prose (clitics, abbreviations, quotes, brackets, blank lines), the generated
        // English-like corpus (one sentence per line), a vocabulary file, non-ASCII letters.
        let prose = std::fs::read(root.join("../shared/tests/fixtures/prose.txt"))?;
        put("text", "prose.txt", &prose)?;
        put(
            "text",
            "grammar.txt",
            grammar::corpus_text(1, 12).as_bytes(),
        )?;
        put("text", "vocab.txt", b"the\nof\nUNKNOWN_TOKEN\nmr.\n--\n")?;
        put(
            "text",
            "unicode.txt",
            "İstanbul’s café — naïve “quotes” ‘n’ e.g. U.S. ... ?! $5 #1 can't-do league-\r\n\n\tΣΑΣ\n"
                .as_bytes(),
        )?;

        // comments: header with `body` among other columns, quoting, a cut-off last record.
        put(
            "comments",
            "reddit.csv",
            b"id,Body ,score\n1,\"Hello, \"\"world\"\".\nSecond line. Mr. Smith said hi!\",5\n2,plain text,3\n3,,0\n",
        )?;
        put(
            "comments",
            "cut.csv",
            b"\xef\xbb\xbfbody\n\"First.\"\n\"Second, cut",
        )?;

        // idx: images (2 of 3×2) and labels, plain and gzip; mode bit 0 = images, bit 1 =
        // gzip the rest in the target.
        let images = idx(
            0x803,
            &[2, 3, 2],
            &[0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255],
        );
        let labels = idx(0x801, &[3], &[7, 2, 1]);
        put("idx", "images", &with_mode(1, &images))?;
        put("idx", "images-regz", &with_mode(3, &images))?;
        put("idx", "images.gz", &with_mode(1, &gz(&images)))?;
        put("idx", "labels", &with_mode(0, &labels))?;
        put("idx", "labels-regz", &with_mode(2, &labels))?;
        put("idx", "labels.gz", &with_mode(0, &gz(&labels)))?;

        // digits: a pandas-style header row, then two images of 64 counts and a label.
        let mut csv = (0..64)
            .map(|k| format!("pixel_{}_{}", k / 8, k % 8))
            .collect::<Vec<_>>()
            .join(",");
        csv.push_str(",target\n");
        for label in [0u32, 9] {
            let row: Vec<String> = (0..64u32)
                .map(|k| ((k * 7 + label) % 17).to_string())
                .collect();
            csv.push_str(&format!("{},{label}\n", row.join(",")));
        }
        put("digits", "digits.csv", csv.as_bytes())?;

        // mat: the committed Hinton-like fixtures (whole files), and their elements after the
        // header, which the target puts behind its own header (mode 0) or compresses (mode 1).
        let fixtures = root.join("../shared/tests/fixtures");
        let plain = std::fs::read(fixtures.join("hinton_like.mat"))?;
        put("mat", "hinton_like.mat", &plain)?;
        put(
            "mat",
            "hinton_like_z.mat",
            &std::fs::read(fixtures.join("hinton_like_z.mat"))?,
        )?;
        put("mat", "elements", &with_mode(0, &plain[128..]))?;
        put("mat", "elements-z", &with_mode(1, &plain[128..]))?;

        // checkpoint: written by `checkpoint::save` for chapter "fuzz" (the target's).
        let tmp = std::env::temp_dir().join(format!("make_seeds{}", std::process::id()));
        create_dir_all(&tmp)?;
        let file = tmp.join("model.safetensors");
        let w = DMatrix::from_fn(2, 3, |i, j| i as f64 - 0.5 * j as f64);
        let b = DMatrix::from_fn(3, 1, |i, _| i as f64 * 1e-3);
        shared::checkpoint::save(
            &file,
            "fuzz",
            &[("W", &w), ("b", &b)],
            &[("hidden", "3".into()), ("lr", "0.1".into())],
        )?;
        put("checkpoint", "model.safetensors", &std::fs::read(&file)?)?;
        let empty = DMatrix::<f64>::zeros(0, 4);
        shared::checkpoint::save(&file, "fuzz", &[("b", &empty)], &[])?;
        put("checkpoint", "empty.safetensors", &std::fs::read(&file)?)?;
        std::fs::remove_dir_all(&tmp)?;
        println!("seeds written to {}", seeds.display());
        Ok(())
    })
}
