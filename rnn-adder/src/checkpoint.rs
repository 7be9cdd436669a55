//! `model.safetensors`: the trained weights (row-major F64, see `shared::checkpoint`), loadable
//! by Python's `safetensors`.

#![allow(non_snake_case)]

use crate::CHAPTER;
use crate::model::Adder;
use std::path::Path;

/// Saves the weights of `model` to `path`, with `meta` (e.g. the training width and cost) in
/// its metadata.
pub fn save(model: &Adder, path: &Path, meta: &[(&str, String)]) -> shared::Result<()> {
    let mut meta = meta.to_vec();
    meta.push(("hidden", model.hidden().to_string()));
    let tensors = [
        ("W_xh", &model.W_xh),
        ("W_hh", &model.W_hh),
        ("W_hy", &model.W_hy),
    ];
    shared::checkpoint::save(path, CHAPTER, &tensors, &meta)
}

/// Loads weights saved by [`save`]; a file of another chapter or with other shapes is an
/// error naming the file.
pub fn load(path: &Path) -> shared::Result<Adder> {
    let mut ck = shared::checkpoint::load(path, CHAPTER)?;
    let N_h: usize = ck.meta("hidden")?;
    Ok(Adder {
        W_xh: ck.take("W_xh", N_h, 2)?,
        W_hh: ck.take("W_hh", N_h, N_h)?,
        W_hy: ck.take("W_hy", 1, N_h)?,
    })
}
