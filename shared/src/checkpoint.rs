//! Model checkpoints as safetensors files (loadable by PyTorch's / numpy's `safetensors`).
//!
//! Each matrix is stored as an F64 tensor (F32 for an f32 run's, [`save_typed`]) of shape
//! [rows, cols] in row-major order (nalgebra is column-major; the conversion happens here).
//! The metadata records the chapter that wrote the file, so loading another chapter's checkpoint is a clear error instead of a silently
//! wrong model, and [`Checkpoint::take`] checks every shape. A checksum of the tensors' bytes
//! and of the metadata (metadata `checksum`) turns a flipped bit in the weights or in a value
//! the model needs (a vocabulary, a size) into an error as well. Older files still load: those
//! whose checksum covers the tensors only, and those from before there was a checksum (but not
//! a file of the run session without one: the session has always written it).

use crate::cli::Dtype;
use crate::error::{Error, Result};
use crate::files;
use crate::kernels;
use nalgebra::DMatrix;
use safetensors::{Dtype as Stored, SafeTensors, tensor::TensorView};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Metadata key holding the chapter name.
pub const CHAPTER_KEY: &str = "chapter";
/// Metadata key holding the checksum of the tensors and the metadata (see [`checksum`]).
pub const CHECKSUM_KEY: &str = "checksum";
/// The checksum written today: FNV-1a 64 over the tensors, then over the metadata.
const WHOLE: &str = "fnv1a64+meta:";
/// The checksum of older files: FNV-1a 64 over the tensors only.
const TENSORS_ONLY: &str = "fnv1a64:";
/// Metadata key of the program version, which the run session writes in every checkpoint
/// (`shared::session::VERSION_KEY`). A checksum has been written for longer, so a file with
/// a version and no checksum is corrupted (the checksum's key itself lost a bit).
pub const VERSION_KEY: &str = "version";
/// Metadata key of the float type an f32 run was trained in (`"f32"`); absent for f64.
pub const DTYPE_KEY: &str = "dtype";

/// `fnv1a64:<16 hex digits>`: FNV-1a (64-bit) over each tensor's name and data bytes as stored,
/// tensors in name order. Not cryptographic: it catches corruption, not tampering.
pub fn checksum<'a>(tensors: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    format!("{TENSORS_ONLY}{:016x}", fnv1a(FNV_START, tensors))
}

/// The checksum [`save`] writes: [`checksum`]'s hash of the tensors, continued over every
/// metadata key and value (in key order, the checksum itself left out), as
/// `fnv1a64+meta:<16 hex digits>`.
fn whole_checksum<'a>(
    tensors: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    metadata: &HashMap<String, String>,
) -> String {
    let meta = metadata
        .iter()
        .filter(|(k, _)| k.as_str() != CHECKSUM_KEY)
        .map(|(k, v)| (k.as_str(), v.as_bytes()));
    format!("{WHOLE}{:016x}", fnv1a(fnv1a(FNV_START, tensors), meta))
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a 64 from state `h` over each (name, bytes) pair in name order: the name, a 0 byte,
/// the bytes.
fn fnv1a<'a>(mut h: u64, pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> u64 {
    let mut sorted: Vec<(&str, &[u8])> = pairs.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    for (name, data) in sorted {
        for &byte in name.as_bytes().iter().chain([0u8].iter()).chain(data) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Writes `tensors` (name, matrix) and `metadata` to a safetensors file at `path`, atomically,
/// every tensor as F64. The chapter name is stored under the `chapter` metadata key.
pub fn save(
    path: impl AsRef<Path>,
    chapter: &str,
    tensors: &[(&str, &DMatrix<f64>)],
    metadata: &[(&str, String)],
) -> Result<()> {
    let typed: Vec<(&str, &DMatrix<f64>, Dtype)> =
        tensors.iter().map(|(n, m)| (*n, *m, Dtype::F64)).collect();
    save_typed(path, chapter, &typed, metadata)
}

/// [`save`] with each tensor's stored type: `Dtype::F32` stores the matrix's values (which must
/// be f32 values held in f64, e.g. `kernels::widen` of an f32 matrix) as F32, exactly.
pub fn save_typed(
    path: impl AsRef<Path>,
    chapter: &str,
    tensors: &[(&str, &DMatrix<f64>, Dtype)],
    metadata: &[(&str, String)],
) -> Result<()> {
    let path = path.as_ref();
    // Row-major little-endian bytes of each matrix.
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, m, dtype)| {
            let mut b = Vec::with_capacity(m.len() * 8);
            for i in 0..m.nrows() {
                for j in 0..m.ncols() {
                    match dtype {
                        Dtype::F64 => b.extend_from_slice(&m[(i, j)].to_le_bytes()),
                        Dtype::F32 => b.extend_from_slice(&(m[(i, j)] as f32).to_le_bytes()),
                    }
                }
            }
            b
        })
        .collect();
    let mut views = Vec::with_capacity(tensors.len());
    for ((name, m, dtype), b) in tensors.iter().zip(&bytes) {
        let stored = match dtype {
            Dtype::F64 => Stored::F64,
            Dtype::F32 => Stored::F32,
        };
        let view = TensorView::new(stored, vec![m.nrows(), m.ncols()], b)
            .map_err(|e| Error::msg(format!("{}: tensor {name}: {e}", path.display())))?;
        views.push((name.to_string(), view));
    }
    let mut meta: HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    meta.insert(CHAPTER_KEY.into(), chapter.into());
    let sum = whole_checksum(
        tensors
            .iter()
            .zip(&bytes)
            .map(|((n, _, _), b)| (*n, b.as_slice())),
        &meta,
    );
    meta.insert(CHECKSUM_KEY.into(), sum);
    let buf = safetensors::serialize(views, Some(meta))
        .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    files::write_bytes_atomic(path, &sorted_header(buf))
}

/// safetensors writes the metadata in the order of a `HashMap`, which changes from run to run;
/// this rewrites the JSON header with every key sorted (same length, same padding), so the same
/// model and metadata always give the same bytes.
fn sorted_header(buf: Vec<u8>) -> Vec<u8> {
    let Some(n) = buf
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
    else {
        return buf;
    };
    let Some(header) = buf.get(8..8 + n) else {
        return buf;
    };
    // serde_json's maps are BTreeMaps (no `preserve_order`): printing sorts the keys.
    let sorted = match serde_json::from_slice::<serde_json::Value>(header) {
        Ok(v) => v.to_string(),
        Err(_) => return buf,
    };
    if sorted.len() > n {
        return buf;
    }
    let mut out = Vec::with_capacity(buf.len());
    out.extend_from_slice(&buf[..8]);
    out.extend_from_slice(sorted.as_bytes());
    out.resize(8 + n, b' ');
    out.extend_from_slice(&buf[8 + n..]);
    out
}

/// A loaded checkpoint: matrices by name and string metadata.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// Where it was read from (for error messages).
    pub path: PathBuf,
    /// The matrices.
    pub tensors: HashMap<String, DMatrix<f64>>,
    /// The metadata (including `chapter`).
    pub metadata: HashMap<String, String>,
}

/// Reads a checkpoint written by [`save`] for `chapter`; any other file, a checkpoint of
/// another chapter, a truncated or corrupted file is a clear error.
pub fn load(path: impl AsRef<Path>, chapter: &str) -> Result<Checkpoint> {
    let path = path.as_ref();
    parse(&files::read(path)?, path, chapter)
}

/// Parses the bytes of a checkpoint of `chapter` ([`load`] without the file system); `path`
/// names the source in errors and is kept in [`Checkpoint::path`].
pub fn parse(buf: &[u8], path: &Path, chapter: &str) -> Result<Checkpoint> {
    let bad = |msg: String| Error::format(path, "safetensors", msg);
    let st = SafeTensors::deserialize(buf)
        .map_err(|e| bad(format!("not a readable safetensors file ({e})")))?;
    let (_, header) = SafeTensors::read_metadata(buf)
        .map_err(|e| bad(format!("not a readable safetensors file ({e})")))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    match metadata.get(CHAPTER_KEY) {
        Some(c) if c == chapter => {}
        Some(c) => {
            return Err(bad(format!(
                "is a checkpoint of chapter `{c}`, not `{chapter}`"
            )));
        }
        None => {
            return Err(bad(format!(
                "is not a checkpoint of `{chapter}` (no chapter in its metadata)"
            )));
        }
    }
    let views = st.tensors();
    let tensor_bytes = || views.iter().map(|(n, v)| (n.as_str(), v.data()));
    match metadata.get(CHECKSUM_KEY) {
        Some(want) if want.starts_with(WHOLE) => {
            let got = whole_checksum(tensor_bytes(), &metadata);
            if &got != want {
                return Err(bad(format!(
                    "the tensors and metadata do not match their checksum ({got}, recorded \
                     {want}): the file is corrupted"
                )));
            }
        }
        Some(want) if want.starts_with(TENSORS_ONLY) => {
            let got = checksum(tensor_bytes());
            if &got != want {
                return Err(bad(format!(
                    "the tensors do not match their checksum ({got}, recorded {want}): the file is corrupted"
                )));
            }
        }
        Some(want) => {
            return Err(bad(format!(
                "its checksum {want:?} is of no known kind: the file is corrupted"
            )));
        }
        None if metadata.contains_key(VERSION_KEY) => {
            return Err(bad(
                "it has no checksum, which every run writes: the file is corrupted".into(),
            ));
        }
        None => {}
    }
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        let (rows, cols) = match view.shape() {
            [r, c] => (*r, *c),
            [n] => (*n, 1),
            s => return Err(bad(format!("tensor {name} has shape {s:?}, expected 2-D"))),
        };
        let data = view.data();
        // F32 tensors (an f32 run's) are widened to f64, exactly.
        let m = match view.dtype() {
            Stored::F64 => DMatrix::from_row_iterator(
                rows,
                cols,
                data.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8-byte chunk"))),
            ),
            Stored::F32 => DMatrix::from_row_iterator(
                rows,
                cols,
                data.chunks_exact(4)
                    .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4-byte chunk")))),
            ),
            other => {
                return Err(bad(format!(
                    "tensor {name} is {other:?}, expected F64 or F32"
                )));
            }
        };
        tensors.insert(name, m);
    }
    Ok(Checkpoint {
        path: path.to_path_buf(),
        tensors,
        metadata,
    })
}

impl Checkpoint {
    /// Removes and returns the matrix `name`, checking it is `rows × cols`.
    pub fn take(&mut self, name: &str, rows: usize, cols: usize) -> Result<DMatrix<f64>> {
        let m = self.tensors.remove(name).ok_or_else(|| {
            Error::format(&self.path, "safetensors", format!("no tensor `{name}`"))
        })?;
        if m.shape() != (rows, cols) {
            return Err(Error::format(
                &self.path,
                "safetensors",
                format!(
                    "tensor `{name}` is {}×{}, expected {rows}×{cols}",
                    m.nrows(),
                    m.ncols()
                ),
            ));
        }
        if m.iter().any(|v| !v.is_finite()) {
            return Err(Error::format(
                &self.path,
                "safetensors",
                format!("tensor `{name}` holds non-finite values"),
            ));
        }
        Ok(m)
    }

    /// [`Checkpoint::take`] in the engine's float type `T` (exact for a tensor stored in `T`).
    pub fn take_as<T: kernels::Float>(
        &mut self,
        name: &str,
        rows: usize,
        cols: usize,
    ) -> Result<DMatrix<T>> {
        Ok(kernels::narrow(&self.take(name, rows, cols)?))
    }

    /// The float type the model was trained in: its `dtype` metadata, F64 when there is none
    /// (f64 runs do not write it).
    pub fn dtype(&self) -> Result<Dtype> {
        match self.meta_str(DTYPE_KEY) {
            Err(_) => Ok(Dtype::F64),
            Ok("f64") => Ok(Dtype::F64),
            Ok("f32") => Ok(Dtype::F32),
            Ok(d) => Err(Error::format(
                &self.path,
                "metadata `dtype`",
                format!("`{d}` is neither f64 nor f32"),
            )),
        }
    }

    /// An error naming the file unless the model was trained in `T` ([`Checkpoint::dtype`]).
    pub fn expect_dtype<T: kernels::Float>(&self) -> Result<()> {
        let stored = self.dtype()?;
        if stored != T::DTYPE {
            return Err(Error::format(
                &self.path,
                "metadata `dtype`",
                format!("the model is {stored}, not {}", T::DTYPE),
            ));
        }
        Ok(())
    }

    /// The shape of tensor `name`, if present.
    pub fn shape(&self, name: &str) -> Option<(usize, usize)> {
        self.tensors.get(name).map(|m| m.shape())
    }

    /// Metadata value `key`, parsed (e.g. a size or a step count).
    pub fn meta<T: std::str::FromStr>(&self, key: &str) -> Result<T> {
        let v = self.metadata.get(key).ok_or_else(|| {
            Error::format(&self.path, "safetensors metadata", format!("no `{key}`"))
        })?;
        v.parse().map_err(|_| {
            Error::format(
                &self.path,
                "safetensors metadata",
                format!("`{key}` = {v:?} is not valid"),
            )
        })
    }

    /// Metadata value `key` as text.
    pub fn meta_str(&self, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| Error::format(&self.path, "safetensors metadata", format!("no `{key}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_model_gives_the_same_bytes() {
        // The metadata goes through a HashMap: its order must not reach the file.
        let dir = tempfile::tempdir().unwrap();
        let w = DMatrix::from_fn(3, 2, |i, j| (i * 2 + j) as f64 - 2.5);
        let meta: Vec<(&str, String)> = ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .map(|k| (*k, format!("value of {k}")))
            .collect();
        let mut files = Vec::new();
        for i in 0..6 {
            let p = dir.path().join(format!("m{i}.safetensors"));
            save(&p, "test", &[("W", &w), ("V", &w)], &meta).unwrap();
            files.push(std::fs::read(&p).unwrap());
        }
        assert!(files.iter().all(|f| f == &files[0]));
        let mut ck = load(dir.path().join("m3.safetensors"), "test").unwrap();
        assert_eq!(ck.take("W", 3, 2).unwrap(), w);
        assert_eq!(ck.meta_str("h").unwrap(), "value of h");
        let n = u64::from_le_bytes(files[0][..8].try_into().unwrap());
        assert_eq!(n % 8, 0);
    }

    #[test]
    fn f32_tensors_are_stored_as_f32_and_read_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.safetensors");
        let w32 = DMatrix::from_fn(2, 3, |i, j| (i as f32 - j as f32) * 0.1 + 1e-7);
        let w = kernels::widen(&w32);
        let b = DMatrix::from_element(2, 1, 0.1f64);
        save_typed(
            &p,
            "test",
            &[("W", &w, Dtype::F32), ("b", &b, Dtype::F64)],
            &[(DTYPE_KEY, "f32".into())],
        )
        .unwrap();
        let bytes = std::fs::read(&p).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.tensor("W").unwrap().dtype(), Stored::F32);
        assert_eq!(st.tensor("W").unwrap().data().len(), 6 * 4);
        assert_eq!(st.tensor("b").unwrap().dtype(), Stored::F64);
        let mut ck = load(&p, "test").unwrap();
        assert_eq!(ck.dtype().unwrap(), Dtype::F32);
        assert!(ck.expect_dtype::<f32>().is_ok());
        let err = ck.expect_dtype::<f64>().unwrap_err().to_string();
        assert!(err.contains("the model is f32, not f64"), "{err}");
        assert_eq!(ck.take_as::<f32>("W", 2, 3).unwrap(), w32);
        assert_eq!(ck.take("b", 2, 1).unwrap(), b);
    }

    #[test]
    fn round_trip_keeps_values_shapes_and_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.safetensors");
        let w = DMatrix::from_fn(3, 2, |i, j| i as f64 * 10.0 + j as f64 + 0.25);
        let b = DMatrix::from_fn(3, 1, |i, _| -(i as f64));
        save(
            &p,
            "char-rnn",
            &[("W", &w), ("b", &b)],
            &[("hidden", "3".into())],
        )
        .unwrap();
        let mut ck = load(&p, "char-rnn").unwrap();
        assert_eq!(ck.meta::<usize>("hidden").unwrap(), 3);
        assert_eq!(ck.take("W", 3, 2).unwrap(), w);
        assert_eq!(ck.take("b", 3, 1).unwrap(), b);
        // Row-major on disk: the first two values are W[0,0], W[0,1].
        let raw = std::fs::read(&p).unwrap();
        let n = u64::from_le_bytes(raw[..8].try_into().unwrap()) as usize;
        let first = f64::from_le_bytes(raw[8 + n..16 + n].try_into().unwrap());
        let second = f64::from_le_bytes(raw[16 + n..24 + n].try_into().unwrap());
        assert_eq!((first, second), (w[(0, 0)], w[(0, 1)]));
    }

    #[test]
    fn wrong_chapter_shape_or_corruption_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.safetensors");
        let w = DMatrix::from_element(2, 2, 1.0);
        save(&p, "rnn-lm", &[("W", &w)], &[]).unwrap();
        let e = load(&p, "char-rnn").unwrap_err().to_string();
        assert!(e.contains("chapter `rnn-lm`"), "{e}");
        let mut ck = load(&p, "rnn-lm").unwrap();
        let e = ck.take("W", 3, 2).unwrap_err().to_string();
        assert!(e.contains("expected 3×2"), "{e}");
        assert!(ck.take("U", 1, 1).is_err());
        let raw = std::fs::read(&p).unwrap();
        std::fs::write(&p, &raw[..raw.len() - 5]).unwrap();
        assert!(load(&p, "rnn-lm").is_err());
        std::fs::write(&p, b"garbage bytes that are not safetensors").unwrap();
        assert!(load(&p, "rnn-lm").is_err());
        std::fs::write(&p, b"").unwrap();
        assert!(load(&p, "rnn-lm").is_err());
    }

    #[test]
    fn a_flipped_bit_in_the_weights_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.safetensors");
        let w = DMatrix::from_fn(3, 4, |i, j| (i * 4 + j) as f64 * 0.5);
        let b = DMatrix::from_fn(3, 1, |i, _| i as f64 - 1.0);
        save(&p, "rbm", &[("W", &w), ("b", &b)], &[]).unwrap();
        assert!(load(&p, "rbm").is_ok());
        let raw = std::fs::read(&p).unwrap();
        for at in [
            raw.len() - 1,
            raw.len() - 60,
            raw.len() - 3 * 8 - 12 * 8 + 3,
        ] {
            let mut bad = raw.clone();
            bad[at] ^= 0x10; // a finite, plausible but wrong value
            std::fs::write(&p, &bad).unwrap();
            let e = load(&p, "rbm").unwrap_err().to_string();
            assert!(e.contains("checksum") && e.contains("corrupted"), "{e}");
        }
        // Without the checksum (files written before it existed) the file still loads.
        let mut meta = HashMap::new();
        meta.insert(CHAPTER_KEY.to_string(), "rbm".to_string());
        let bytes: Vec<u8> = w.transpose().iter().flat_map(|v| v.to_le_bytes()).collect();
        let view = TensorView::new(Stored::F64, vec![3, 4], &bytes).unwrap();
        let old = safetensors::serialize(vec![("W".to_string(), view)], Some(meta)).unwrap();
        std::fs::write(&p, old).unwrap();
        assert_eq!(load(&p, "rbm").unwrap().take("W", 3, 4).unwrap(), w);
    }

    /// A file as an older writer made it: `meta` as given (a checksum or none), the tensor `W`.
    fn written_as_before(p: &Path, w: &DMatrix<f64>, meta: &[(&str, &str)]) {
        let meta: HashMap<String, String> = meta
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let bytes: Vec<u8> = w.transpose().iter().flat_map(|v| v.to_le_bytes()).collect();
        let view = TensorView::new(Stored::F64, vec![w.nrows(), w.ncols()], &bytes).unwrap();
        let buf = safetensors::serialize(vec![("W".to_string(), view)], Some(meta)).unwrap();
        std::fs::write(p, buf).unwrap();
    }

    #[test]
    fn a_flipped_bit_in_the_metadata_is_an_error() {
        // The sweep of issue 19: one bit in char-rnn's vocabulary (' ' → '!') or in the
        // checksum's own key loaded silently, a model answering with the wrong characters.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.safetensors");
        let w = DMatrix::from_fn(2, 3, |i, j| (i * 3 + j) as f64 * 0.25);
        let meta = [
            ("vocabulary", "\" abc\"".to_string()),
            (VERSION_KEY, "0.1.0".to_string()),
        ];
        save(&p, "char-rnn", &[("W", &w)], &meta).unwrap();
        let ck = load(&p, "char-rnn").unwrap();
        assert_eq!(ck.meta_str("vocabulary").unwrap(), "\" abc\"");
        assert!(ck.meta_str(CHECKSUM_KEY).unwrap().starts_with(WHOLE));
        let raw = std::fs::read(&p).unwrap();
        let n = u64::from_le_bytes(raw[..8].try_into().unwrap()) as usize;
        let header = std::str::from_utf8(&raw[8..8 + n]).unwrap();
        let at = |what: &str, skip: usize| 8 + header.find(what).unwrap() + skip;
        for (what, i) in [
            ("a character of the vocabulary", at("\\\" abc", 2)),
            ("the checksum's key", at("\"checksum\"", 1)),
            ("the version's key", at("\"version\"", 1)),
            ("the version", at("0.1.0", 2)),
            ("the checksum's kind", at("fnv1a64+meta", 3)),
            ("a digit of the checksum", at("fnv1a64+meta:", 14)),
        ] {
            let mut bad = raw.clone();
            bad[i] ^= 0x01;
            std::fs::write(&p, &bad).unwrap();
            let e = load(&p, "char-rnn").unwrap_err().to_string();
            assert!(
                e.contains("checksum") && e.contains("corrupted"),
                "{what}: {e}"
            );
        }
        // Files of older writers still load: a checksum of the tensors only (with or without
        // a version), no checksum and no version.
        let tensors_only = checksum([(
            "W",
            {
                let b: Vec<u8> = w.transpose().iter().flat_map(|v| v.to_le_bytes()).collect();
                b
            }
            .as_slice(),
        )]);
        written_as_before(
            &p,
            &w,
            &[
                ("chapter", "char-rnn"),
                ("checksum", &tensors_only),
                (VERSION_KEY, "0.1.0"),
            ],
        );
        assert_eq!(load(&p, "char-rnn").unwrap().take("W", 2, 3).unwrap(), w);
        written_as_before(&p, &w, &[("chapter", "char-rnn")]);
        assert!(load(&p, "char-rnn").is_ok());
        // A version without a checksum is a file the session wrote whose checksum key broke.
        written_as_before(&p, &w, &[("chapter", "char-rnn"), (VERSION_KEY, "0.1.0")]);
        let e = load(&p, "char-rnn").unwrap_err().to_string();
        assert!(e.contains("no checksum") && e.contains("corrupted"), "{e}");
    }
}
