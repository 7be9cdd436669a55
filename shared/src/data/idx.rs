//! MNIST in IDX format (`--mnist DIR`): big-endian image and label files, plain or gzip.
//!
//! Layout (all integers big-endian u32):
//!
//! | file | bytes 0..4 (magic) | then | data |
//! |---|---|---|---|
//! | images | `0x00000803` (u8, 3 dims) | n, rows, cols | n·rows·cols u8 pixels, image by image, row-major |
//! | labels | `0x00000801` (u8, 1 dim) | n | n u8 labels |
//!
//! A file is gunzipped first when it starts with the gzip magic `1f 8b` (whatever its name).
//! Every header value and length is checked; byte offsets in errors count in the decompressed
//! data for `.gz` files.

use super::ImageSet;
use crate::error::{Error, Result};
use crate::files;
use nalgebra::DMatrix;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Magic number of an IDX file of u8 with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of u8 with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// The raw contents of an IDX image file.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxImages {
    /// Number of images N.
    pub n: usize,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
    /// N·rows·cols pixels 0..=255: image k is `pixels[k·rows·cols ..][..rows·cols]`, row-major.
    pub pixels: Vec<u8>,
}

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Deflate's best compression ratio (a 258-byte match per two 1-bit codes): a gzip stream
/// of L bytes never decompresses to more than 1032·L bytes.
const MAX_GZIP_RATIO: usize = 1032;

/// Reads a whole file, gunzipping it when it starts with the gzip magic bytes.
pub fn read_maybe_gz(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let bytes = files::read(path)?;
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    Ok(gunzip(&bytes, path, usize::MAX, false)?.0)
}

/// Decompresses the gzip stream `gz`, keeping at most its first `keep` bytes. Returns them
/// and, with `count_rest`, the whole decompressed length (what follows the kept bytes is
/// decompressed into nothing, only counted), else the number of bytes kept.
fn gunzip(gz: &[u8], path: &Path, keep: usize, count_rest: bool) -> Result<(Vec<u8>, usize)> {
    let corrupt = |e: std::io::Error| {
        Error::format(
            path,
            "gzip stream",
            format!("cannot decompress ({e}): the .gz file is truncated or corrupt"),
        )
    };
    let mut decoder = flate2::read::GzDecoder::new(gz);
    let mut out = Vec::new();
    (&mut decoder)
        .take(keep as u64)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    let mut total = out.len();
    if count_rest && total == keep {
        let rest = std::io::copy(&mut decoder, &mut std::io::sink()).map_err(corrupt)?;
        total = total.saturating_add(usize::try_from(rest).unwrap_or(usize::MAX));
    }
    Ok((out, total))
}

/// Big-endian u32 at `at` (the caller has checked the length).
fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Checks the magic number and the header length; returns the `dims` u32 values after the magic.
fn header(bytes: &[u8], path: &Path, magic: u32, dims: usize, what: &str) -> Result<Vec<usize>> {
    let need = 4 + 4 * dims;
    if bytes.len() >= 4 {
        check_magic(bytes, path, magic, what)?;
    }
    if bytes.len() < need {
        return Err(Error::format(
            path,
            format!("byte {}", bytes.len()),
            format!(
                "file ends after {} bytes: an IDX {what} header has {need}",
                bytes.len()
            ),
        ));
    }
    Ok((0..dims)
        .map(|d| be_u32(bytes, 4 + 4 * d) as usize)
        .collect())
}

/// Checks the magic number in bytes 0..4.
fn check_magic(bytes: &[u8], path: &Path, magic: u32, what: &str) -> Result<()> {
    let found = be_u32(bytes, 0);
    if found != magic {
        let hint = match found {
            IMAGES_MAGIC => " (this is an image file)",
            LABELS_MAGIC => " (this is a label file)",
            _ => "",
        };
        return Err(Error::format(
            path,
            "byte 0",
            format!("magic number {found:#010x} is not that of IDX {what} ({magic:#010x}){hint}"),
        ));
    }
    Ok(())
}

/// Checks that exactly `expected` data bytes follow the header, when `have` do.
fn check_length(path: &Path, start: usize, have: usize, expected: usize, what: &str) -> Result<()> {
    if have != expected {
        let how = if have < expected {
            "truncated"
        } else {
            "trailing bytes"
        };
        return Err(Error::format(
            path,
            format!("byte {start}"),
            format!("{how}: the header announces {expected} bytes of {what}, the file has {have}"),
        ));
    }
    Ok(())
}

/// Parses the bytes of an IDX file (plain, or gzip when they start with `1f 8b`): checks the
/// magic number and the header of `dims` sizes, and that exactly their product of data bytes
/// follows. Returns the sizes and the data bytes.
///
/// A gzip file is read header first: sizes that announce more data than the file could
/// decompress to are refused before anything is allocated for them, and the data is then
/// decompressed up to the announced length (anything after it is only counted).
fn parse_idx(
    bytes: &[u8],
    path: &Path,
    magic: u32,
    dims: usize,
    what: &str,
    items: &str,
) -> Result<(Vec<usize>, Vec<u8>)> {
    let start = 4 + 4 * dims;
    let gz = bytes.starts_with(&GZIP_MAGIC);
    let h = if gz {
        header(
            &gunzip(bytes, path, start, false)?.0,
            path,
            magic,
            dims,
            what,
        )?
    } else {
        header(bytes, path, magic, dims, what)?
    };
    let expected = h
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| {
            Error::format(
                path,
                "byte 4",
                format!("the header's sizes {h:?} overflow: too large"),
            )
        })?;
    if !gz {
        check_length(path, start, bytes.len() - start, expected, items)?;
        return Ok((h, bytes[start..].to_vec()));
    }
    let most = bytes.len().saturating_mul(MAX_GZIP_RATIO);
    if expected.saturating_add(start) > most {
        return Err(Error::format(
            path,
            format!("byte {start}"),
            format!(
                "truncated: the header announces {expected} bytes of {items}, more than the \
                 {} bytes of this .gz file can decompress to (at most {most})",
                bytes.len()
            ),
        ));
    }
    let (mut data, total) = gunzip(bytes, path, start + expected, true)?;
    check_length(path, start, total - start, expected, items)?;
    data.drain(..start);
    Ok((h, data))
}

/// Reads an IDX image file (magic `0x00000803`), plain or gzip.
pub fn read_idx_images(path: impl AsRef<Path>) -> Result<IdxImages> {
    let path = path.as_ref();
    parse_idx_images(&files::read(path)?, path)
}

/// Parses the bytes of an IDX image file, plain or gzip ([`read_idx_images`] without the
/// file system); `path` only names the source in errors.
pub fn parse_idx_images(bytes: &[u8], path: &Path) -> Result<IdxImages> {
    let (h, pixels) = parse_idx(bytes, path, IMAGES_MAGIC, 3, "images", "pixels")?;
    let (n, rows, cols) = (h[0], h[1], h[2]);
    if rows == 0 || cols == 0 {
        return Err(Error::format(
            path,
            "byte 8",
            format!("image size {rows}×{cols} has no pixel"),
        ));
    }
    Ok(IdxImages {
        n,
        rows,
        cols,
        pixels,
    })
}

/// Reads an IDX label file (magic `0x00000801`), plain or gzip: N labels.
pub fn read_idx_labels(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    parse_idx_labels(&files::read(path)?, path)
}

/// Parses the bytes of an IDX label file, plain or gzip ([`read_idx_labels`] without the file
/// system); `path` only names the source in errors.
pub fn parse_idx_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    Ok(parse_idx(bytes, path, LABELS_MAGIC, 1, "labels", "labels")?.1)
}

/// An image file and a label file as one [`ImageSet`]: images (rows·cols) × N with pixels
/// scaled by 1/255 into [0, 1], and `classes` = largest label + 1 (10 for MNIST).
/// Error if the two files hold different numbers of items.
pub fn load_mnist(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<ImageSet> {
    let (images, labels) = (images.as_ref(), labels.as_ref());
    let x = read_idx_images(images)?;
    let y = read_idx_labels(labels)?;
    if x.n != y.len() {
        return Err(Error::format(
            labels,
            "byte 4",
            format!(
                "{} labels, but {} holds {} images",
                y.len(),
                images.display(),
                x.n
            ),
        ));
    }
    let d = x.rows * x.cols;
    // (rows·cols) × N: the pixels of image k, row-major, are column k.
    let matrix = DMatrix::from_iterator(d, x.n, x.pixels.iter().map(|&p| f64::from(p) / 255.0));
    let classes = y.iter().max().map_or(0, |&m| usize::from(m) + 1);
    Ok(ImageSet {
        images: matrix,
        labels: y.into_iter().map(usize::from).collect(),
        rows: x.rows,
        cols: x.cols,
        classes,
    })
}

/// Finds `{which}-{kind}-{idx}-ubyte` in `dir`, also with `.gz` or the `{kind}.{idx}` spelling.
fn find_idx(dir: &Path, which: &str, kind: &str, idx: &str) -> Result<PathBuf> {
    let stems = [
        format!("{which}-{kind}-{idx}-ubyte"),
        format!("{which}-{kind}.{idx}-ubyte"),
    ];
    for stem in &stems {
        for name in [stem.clone(), format!("{stem}.gz")] {
            let p = dir.join(&name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    Err(Error::format(
        dir,
        "folder",
        format!(
            "no {}[.gz] (files found: {})",
            stems[0],
            if found.is_empty() {
                "none".to_string()
            } else {
                found.join(", ")
            }
        ),
    ))
}

/// Loads MNIST's `which` part from a folder (`--mnist DIR`): `"train"` (60,000 images) or
/// `"t10k"` (the 10,000 test images), from `{which}-images-idx3-ubyte[.gz]` and
/// `{which}-labels-idx1-ubyte[.gz]`. Images are 784 × N in [0, 1]. Errors list the files
/// found when one is missing.
pub fn load_mnist_dir(dir: impl AsRef<Path>, which: &str) -> Result<ImageSet> {
    let dir = dir.as_ref();
    if which != "train" && which != "t10k" {
        return Err(Error::msg(format!(
            "MNIST part '{which}' is neither 'train' nor 't10k'"
        )));
    }
    if !dir.is_dir() {
        return Err(Error::format(
            dir,
            "path",
            "is not a folder (expected the folder holding the MNIST files)",
        ));
    }
    let images = find_idx(dir, which, "images", "idx3")?;
    let labels = find_idx(dir, which, "labels", "idx1")?;
    load_mnist(images, labels)
}

/// Both parts of MNIST in `dir`: the training images (`None` when the folder holds no
/// `train-images` file, under any name [`load_mnist_dir`] accepts) and the t10k images,
/// checked to be of one size.
pub fn load_mnist_parts(dir: impl AsRef<Path>) -> Result<(Option<ImageSet>, ImageSet)> {
    let dir = dir.as_ref();
    let t10k = load_mnist_dir(dir, "t10k")?;
    if find_idx(dir, "train", "images", "idx3").is_err() {
        return Ok((None, t10k));
    }
    let train = load_mnist_dir(dir, "train")?;
    if (train.rows, train.cols) != (t10k.rows, t10k.cols) {
        return Err(Error::format(
            dir,
            "train images",
            format!(
                "they are {}×{}, the t10k images {}×{}: one model cannot read both",
                train.rows, train.cols, t10k.rows, t10k.cols
            ),
        ));
    }
    Ok((Some(train), t10k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// An IDX image file of `n` images `rows`×`cols` whose pixel i is `i % 256`.
    fn images_bytes(n: u32, rows: u32, cols: u32) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [IMAGES_MAGIC, n, rows, cols] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend((0..n * rows * cols).map(|i| (i % 256) as u8));
        b
    }

    fn labels_bytes(labels: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [LABELS_MAGIC, labels.len() as u32] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(labels);
        b
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_plain_and_gz_into_columns() {
        let dir = tempfile::tempdir().unwrap();
        let img = images_bytes(3, 2, 4);
        std::fs::write(dir.path().join("t10k-images-idx3-ubyte"), &img).unwrap();
        std::fs::write(
            dir.path().join("t10k-labels-idx1-ubyte.gz"),
            gz(&labels_bytes(&[7, 2, 1])),
        )
        .unwrap();
        let set = load_mnist_dir(dir.path(), "t10k").unwrap();
        assert_eq!((set.len(), set.rows, set.cols, set.classes), (3, 2, 4, 8));
        assert_eq!(set.images.shape(), (8, 3));
        assert_eq!(set.labels, [7, 2, 1]);
        // Image 1, pixel (row 1, col 2) is byte 16 + 8 + 6 of the file: value 14.
        assert_eq!(set.images[(4 + 2, 1)], 14.0 / 255.0);
        assert!(set.images.iter().all(|&p| (0.0..=1.0).contains(&p)));

        // The same images gzipped read the same.
        let p = dir.path().join("x.gz");
        std::fs::write(&p, gz(&img)).unwrap();
        assert_eq!(read_idx_images(&p).unwrap().pixels, img[16..]);
    }

    #[test]
    fn wrong_magic_and_bad_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("imgs");
        std::fs::write(&p, labels_bytes(&[1, 2])).unwrap();
        let e = read_idx_images(&p).unwrap_err().to_string();
        assert!(
            e.contains("imgs: byte 0: magic number 0x00000801") && e.contains("label file"),
            "{e}"
        );
        std::fs::write(&p, b"").unwrap();
        let e = read_idx_labels(&p).unwrap_err().to_string();
        assert!(e.contains("byte 0: file ends after 0 bytes"), "{e}");
        let mut b = images_bytes(1, 0, 3);
        b.truncate(16);
        std::fs::write(&p, &b).unwrap();
        let e = read_idx_images(&p).unwrap_err().to_string();
        assert!(e.contains("no pixel"), "{e}");
        let mut b = images_bytes(0, 28, 28);
        b[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        b[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        std::fs::write(&p, &b).unwrap();
        assert!(read_idx_images(&p).is_err());
        // Random bytes (not gzip) fail on the magic number.
        let random: Vec<u8> = (0..999u32)
            .map(|i| (i.wrapping_mul(2246822519) >> 7) as u8 | 1)
            .collect();
        std::fs::write(&p, &random).unwrap();
        assert!(read_idx_images(&p).is_err() && read_idx_labels(&p).is_err());
    }

    #[test]
    fn truncated_plain_and_gz_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("images");
        let mut img = images_bytes(5, 3, 3);
        img.truncate(img.len() - 4);
        std::fs::write(&p, &img).unwrap();
        let e = read_idx_images(&p).unwrap_err().to_string();
        assert!(
            e.contains(
                "byte 16: truncated: the header announces 45 bytes of pixels, the file has 41"
            ),
            "{e}"
        );
        let mut lab = labels_bytes(&[1, 2, 3, 4]);
        lab.push(9);
        std::fs::write(&p, &lab).unwrap();
        let e = read_idx_labels(&p).unwrap_err().to_string();
        assert!(e.contains("trailing bytes"), "{e}");

        // A gzip stream cut in the middle, and a gzip of a truncated IDX file.
        let full = gz(&images_bytes(50, 28, 28));
        std::fs::write(&p, &full[..full.len() / 2]).unwrap();
        let e = read_idx_images(&p).unwrap_err().to_string();
        assert!(
            e.contains("images: gzip stream") && e.contains("truncated"),
            "{e}"
        );
        std::fs::write(&p, &full[..full.len() - 3]).unwrap();
        assert!(read_idx_images(&p).is_err());
        let short = images_bytes(50, 28, 28);
        std::fs::write(&p, gz(&short[..1000])).unwrap();
        let e = read_idx_images(&p).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn gz_header_announcing_more_than_the_file_can_hold_is_refused_before_decompressing() {
        let p = Path::new("big.gz");
        // 60,000 images of 28×28 (47 MB) announced by a .gz of a few dozen bytes.
        let mut b = images_bytes(0, 28, 28);
        b[4..8].copy_from_slice(&60_000u32.to_be_bytes());
        let small = gz(&b);
        let e = parse_idx_images(&small, p).unwrap_err().to_string();
        assert!(
            e.contains("big.gz: byte 16: truncated: the header announces 47040000 bytes")
                && e.contains(&format!("the {} bytes of this .gz file", small.len())),
            "{e}"
        );
        // The bound is deflate's: 1 MB of zeros compresses ~1000:1 and still reads.
        let mut zeros = labels_bytes(&[]);
        zeros[4..8].copy_from_slice(&1_000_000u32.to_be_bytes());
        zeros.resize(8 + 1_000_000, 0);
        let packed = gz(&zeros);
        assert!(packed.len() * 900 < zeros.len(), "{}", packed.len());
        assert_eq!(parse_idx_labels(&packed, p).unwrap().len(), 1_000_000);
        // Trailing bytes after the announced data are counted, not kept.
        zeros.extend([7; 5]);
        let e = parse_idx_labels(&gz(&zeros), p).unwrap_err().to_string();
        assert!(
            e.contains("trailing bytes") && e.contains("the file has 1000005"),
            "{e}"
        );
    }

    #[test]
    fn count_mismatch_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("train-images-idx3-ubyte"),
            images_bytes(3, 2, 2),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("train-labels.idx1-ubyte"),
            labels_bytes(&[1, 2]),
        )
        .unwrap();
        let e = load_mnist_dir(dir.path(), "train").unwrap_err().to_string();
        assert!(
            e.contains("train-labels.idx1-ubyte: byte 4: 2 labels") && e.contains("3 images"),
            "{e}"
        );
        let e = load_mnist_dir(dir.path(), "t10k").unwrap_err().to_string();
        assert!(
            e.contains("no t10k-images-idx3-ubyte[.gz]")
                && e.contains("files found: train-images-idx3-ubyte, train-labels.idx1-ubyte"),
            "{e}"
        );
        assert!(load_mnist_dir(dir.path(), "test").is_err());
        let e = load_mnist_dir(dir.path().join("nope"), "t10k").unwrap_err();
        assert!(e.to_string().contains("not a folder"));
    }

    #[test]
    fn both_parts_or_t10k_alone() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.path().join(name), bytes);
        write("t10k-images-idx3-ubyte", images_bytes(2, 2, 2)).unwrap();
        write("t10k-labels-idx1-ubyte", labels_bytes(&[0, 1])).unwrap();
        let (train, t10k) = load_mnist_parts(dir.path()).unwrap();
        assert!(train.is_none());
        assert_eq!(t10k.len(), 2);
        write("train-images.idx3-ubyte", gz(&images_bytes(3, 2, 2))).unwrap();
        write("train-labels-idx1-ubyte", labels_bytes(&[0, 1, 2])).unwrap();
        let (train, _) = load_mnist_parts(dir.path()).unwrap();
        assert_eq!(train.unwrap().len(), 3);
        write("train-images.idx3-ubyte", images_bytes(3, 3, 2)).unwrap();
        let e = load_mnist_parts(dir.path()).unwrap_err().to_string();
        assert!(e.contains("they are 3×2, the t10k images 2×2"), "{e}");
    }
}
