//! Model checkpoints as safetensors files (loadable by PyTorch's / numpy's `safetensors`).
//!
//! Each matrix is stored as an F64 tensor of shape [rows, cols] in row-major order (nalgebra
//! is column-major; the conversion happens here). The metadata records the chapter that wrote
//! the file, so loading another chapter's checkpoint is a clear error instead of a silently
//! wrong model, and [`Checkpoint::take`] checks every shape.

use crate::error::{Error, Result};
use crate::files;
use nalgebra::DMatrix;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Metadata key holding the chapter name.
pub const CHAPTER_KEY: &str = "chapter";

/// Writes `tensors` (name, matrix) and `metadata` to a safetensors file at `path`, atomically.
/// The chapter name is stored under the `chapter` metadata key.
pub fn save(
    path: impl AsRef<Path>,
    chapter: &str,
    tensors: &[(&str, &DMatrix<f64>)],
    metadata: &[(&str, String)],
) -> Result<()> {
    let path = path.as_ref();
    // Row-major little-endian bytes of each matrix.
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, m)| {
            let mut b = Vec::with_capacity(m.len() * 8);
            for i in 0..m.nrows() {
                for j in 0..m.ncols() {
                    b.extend_from_slice(&m[(i, j)].to_le_bytes());
                }
            }
            b
        })
        .collect();
    let mut views = Vec::with_capacity(tensors.len());
    for ((name, m), b) in tensors.iter().zip(&bytes) {
        let view = TensorView::new(Dtype::F64, vec![m.nrows(), m.ncols()], b)
            .map_err(|e| Error::msg(format!("{}: tensor {name}: {e}", path.display())))?;
        views.push((name.to_string(), view));
    }
    let mut meta: HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    meta.insert(CHAPTER_KEY.into(), chapter.into());
    let buf = safetensors::serialize(views, Some(meta))
        .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    files::write_bytes_atomic(path, &sorted_header(buf))
}

/// safetensors writes the metadata in its `HashMap`'s order, which changes from one process
/// to the next; this rewrites the JSON header (8-byte little-endian length, JSON padded with
/// spaces to a multiple of 8) with every object's keys sorted, so the same model and metadata
/// always give the same bytes. Readers do not depend on the order of the header's keys.
fn sorted_header(buf: Vec<u8>) -> Vec<u8> {
    fn sort(v: &mut serde_json::Value) {
        if let serde_json::Value::Object(m) = v {
            m.sort_keys();
            m.values_mut().for_each(sort);
        }
    }
    let n = u64::from_le_bytes(buf[..8].try_into().expect("8-byte length")) as usize;
    let Ok(mut header) = serde_json::from_slice::<serde_json::Value>(&buf[8..8 + n]) else {
        return buf; // cannot happen: safetensors just wrote it
    };
    sort(&mut header);
    let mut text = header.to_string().into_bytes();
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + text.len() + buf.len() - 8 - n);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
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
    let buf = files::read(path)?;
    let bad = |msg: String| Error::format(path, "safetensors", msg);
    let st = SafeTensors::deserialize(&buf)
        .map_err(|e| bad(format!("not a readable safetensors file ({e})")))?;
    let (_, header) = SafeTensors::read_metadata(&buf)
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
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F64 {
            return Err(bad(format!(
                "tensor {name} is {:?}, expected F64",
                view.dtype()
            )));
        }
        let (rows, cols) = match view.shape() {
            [r, c] => (*r, *c),
            [n] => (*n, 1),
            s => return Err(bad(format!("tensor {name} has shape {s:?}, expected 2-D"))),
        };
        let data = view.data();
        let m = DMatrix::from_row_iterator(
            rows,
            cols,
            data.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8-byte chunk"))),
        );
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
    fn same_model_same_bytes() {
        // The metadata map's order used to follow a HashMap's random state.
        let dir = tempfile::tempdir().unwrap();
        let w = DMatrix::from_fn(2, 3, |i, j| (i * 3 + j) as f64);
        let meta: Vec<(&str, String)> = ["n_v", "n_h", "rows", "cols", "k", "lr"]
            .iter()
            .map(|k| (*k, format!("{k}-value")))
            .collect();
        let bytes: Vec<Vec<u8>> = (0..4)
            .map(|k| {
                let p = dir.path().join(format!("m{k}.safetensors"));
                save(&p, "rbm", &[("W", &w), ("a", &w)], &meta).unwrap();
                std::fs::read(&p).unwrap()
            })
            .collect();
        assert!(bytes.iter().all(|b| *b == bytes[0]));
        let mut ck = load(dir.path().join("m0.safetensors"), "rbm").unwrap();
        assert_eq!(ck.take("a", 2, 3).unwrap(), w);
        assert_eq!(ck.metadata["lr"], "lr-value");
        // Header length is a multiple of 8, as safetensors writes it.
        let n = u64::from_le_bytes(bytes[0][..8].try_into().unwrap());
        assert_eq!(n % 8, 0);
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
}
