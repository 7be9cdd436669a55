//! MATLAB Level-5 `.mat` files (`--mat FILE`), read by hand, and Hinton's assignment-2
//! `data.mat` on top of it ([`load_hinton_a2`]).
//!
//! No crate reads the layout of `data.mat` (a struct of int32 arrays and a cell of char
//! arrays; see `reference/rust-crates.md` §8), so this is a small reader of the format:
//!
//! - a 128-byte header: 116 bytes of text starting `MATLAB 5.0 MAT-file` (MATLAB writes a comma
//!   after it, scipy does not: both are accepted), 8 bytes of subsystem offset, the version
//!   `0x0100` and the endian indicator `IM` (little-endian) or `MI` (big-endian: read too);
//! - then data elements, each an 8-byte tag (u32 type, u32 byte count) and its data padded to
//!   8 bytes, or in the *small element format* (type and count as two u16 in the first 4 bytes,
//!   up to 4 data bytes in the other 4); top-level elements are `miMATRIX` (14), or
//!   `miCOMPRESSED` (15), a zlib stream holding one or more elements (not padded);
//! - a `miMATRIX` holds array flags (class, complex, global, logical), dimensions, a name, then
//!   its content by class: numeric (real part, imaginary part if complex, in a storage type
//!   that may differ from the class: converted, and checked to fit), char (`miUINT16`, `miUTF8`,
//!   `miUTF16`, `miUTF32` or 8-bit), cell (one `miMATRIX` per element), struct (field-name
//!   length, the names, one `miMATRIX` per field per element).
//!
//! Sparse, object, function-handle and opaque arrays are kept as [`MatValue::Unsupported`]
//! (their bytes are skipped), so the other variables of the file can still be read. v7.3
//! files (HDF5) and v4 files are refused with a clear error. All values are in column-major
//! order, as MATLAB stores them: element (i, j) of an r × c array is at `i + j·r`.

use crate::error::{Error, Result};
use crate::files;
use std::fmt;
use std::io::Read;
use std::path::Path;

// Data types of element tags.
const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
const MI_UTF8: u32 = 16;
const MI_UTF16: u32 = 17;
const MI_UTF32: u32 = 18;

/// Deepest nesting of cells and structs read (guards against hostile files).
const MAX_DEPTH: usize = 64;

/// Most elements of field-less struct arrays read from one file. Such elements take no byte
/// of the file (their number is only the product of the dimensions), so the file's length
/// cannot bound them, yet each costs an empty `Vec` here: without this cap, a 4.6 KB file of
/// 70 such 1 × 2^20 structs in a cell made the reader allocate 1.7 GB.
const MAX_FIELDLESS_ELEMENTS: usize = 1 << 20;

/// A parsed MAT-file: its header text and its top-level variables in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct MatFile {
    /// The descriptive header text (e.g. `MATLAB 5.0 MAT-file, Platform: GLNXA64, …`).
    pub header: String,
    /// True for a big-endian (`MI`) file.
    pub big_endian: bool,
    /// The variables, in file order.
    pub arrays: Vec<MatArray>,
}

impl MatFile {
    /// The variable called `name`.
    pub fn get(&self, name: &str) -> Option<&MatArray> {
        self.arrays.iter().find(|a| a.name == name)
    }

    /// The variable names, in file order.
    pub fn names(&self) -> Vec<&str> {
        self.arrays.iter().map(|a| a.name.as_str()).collect()
    }
}

/// One MATLAB array: a variable, a field value or a cell.
#[derive(Clone, Debug, PartialEq)]
pub struct MatArray {
    /// The variable name (empty inside structs and cells).
    pub name: String,
    /// The dimensions, at least two (a 4 × 57 matrix is `[4, 57]`).
    pub dims: Vec<usize>,
    /// The content.
    pub value: MatValue,
    /// MATLAB's logical flag (a `logical` array stored as uint8).
    pub logical: bool,
    /// MATLAB's global flag.
    pub global: bool,
}

/// The numeric classes of MATLAB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumClass {
    /// `double` (f64).
    Double,
    /// `single` (f32, kept as f64 here).
    Single,
    /// `int8`.
    Int8,
    /// `uint8`.
    UInt8,
    /// `int16`.
    Int16,
    /// `uint16`.
    UInt16,
    /// `int32`.
    Int32,
    /// `uint32`.
    UInt32,
    /// `int64`.
    Int64,
    /// `uint64`.
    UInt64,
}

impl NumClass {
    fn from_code(code: u8) -> Option<NumClass> {
        Some(match code {
            6 => NumClass::Double,
            7 => NumClass::Single,
            8 => NumClass::Int8,
            9 => NumClass::UInt8,
            10 => NumClass::Int16,
            11 => NumClass::UInt16,
            12 => NumClass::Int32,
            13 => NumClass::UInt32,
            14 => NumClass::Int64,
            15 => NumClass::UInt64,
            _ => return None,
        })
    }

    /// MATLAB's name of the class (`"int32"`).
    pub fn name(self) -> &'static str {
        match self {
            NumClass::Double => "double",
            NumClass::Single => "single",
            NumClass::Int8 => "int8",
            NumClass::UInt8 => "uint8",
            NumClass::Int16 => "int16",
            NumClass::UInt16 => "uint16",
            NumClass::Int32 => "int32",
            NumClass::UInt32 => "uint32",
            NumClass::Int64 => "int64",
            NumClass::UInt64 => "uint64",
        }
    }

    /// The integer range of an integer class, `None` for double and single.
    fn range(self) -> Option<(i128, i128)> {
        Some(match self {
            NumClass::Double | NumClass::Single => return None,
            NumClass::Int8 => (i8::MIN.into(), i8::MAX.into()),
            NumClass::UInt8 => (0, u8::MAX.into()),
            NumClass::Int16 => (i16::MIN.into(), i16::MAX.into()),
            NumClass::UInt16 => (0, u16::MAX.into()),
            NumClass::Int32 => (i32::MIN.into(), i32::MAX.into()),
            NumClass::UInt32 => (0, u32::MAX.into()),
            NumClass::Int64 => (i64::MIN.into(), i64::MAX.into()),
            NumClass::UInt64 => (0, u64::MAX.into()),
        })
    }
}

/// The values of a numeric array, in column-major order, in the class's own domain.
#[derive(Clone, Debug, PartialEq)]
pub enum Numbers {
    /// double and single.
    Float(Vec<f64>),
    /// int8, int16, int32, int64.
    Int(Vec<i64>),
    /// uint8, uint16, uint32, uint64.
    UInt(Vec<u64>),
}

impl Numbers {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Numbers::Float(v) => v.len(),
            Numbers::Int(v) => v.len(),
            Numbers::UInt(v) => v.len(),
        }
    }

    /// True when there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as f64 (integers beyond 2^53 are rounded).
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            Numbers::Float(v) => v.clone(),
            Numbers::Int(v) => v.iter().map(|&x| x as f64).collect(),
            Numbers::UInt(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }

    /// Value k as an integer, `None` if it is a non-integral or non-finite float.
    pub fn integer(&self, k: usize) -> Option<i128> {
        match self {
            Numbers::Float(v) => float_to_integer(v[k]),
            Numbers::Int(v) => Some(v[k].into()),
            Numbers::UInt(v) => Some(v[k].into()),
        }
    }
}

/// `x` as an integer if it is a whole number within ±2^100 (far beyond any class).
fn float_to_integer(x: f64) -> Option<i128> {
    (x.is_finite() && x.fract() == 0.0 && x.abs() < 2f64.powi(100)).then_some(x as i128)
}

/// The content of a [`MatArray`].
#[derive(Clone, Debug, PartialEq)]
pub enum MatValue {
    /// A numeric array: `real` (and `imag` for a complex one) hold prod(dims) values.
    Numeric {
        /// The MATLAB class.
        class: NumClass,
        /// Real parts, column-major.
        real: Numbers,
        /// Imaginary parts of a complex array.
        imag: Option<Numbers>,
    },
    /// A char array: prod(dims) characters, column-major (a 1 × n array is a string).
    Char(Vec<char>),
    /// A cell array: prod(dims) arrays, column-major.
    Cell(Vec<MatArray>),
    /// A struct array: field names, and for each of the prod(dims) elements (column-major)
    /// one array per field, in field order.
    Struct {
        /// Field names in file order.
        fields: Vec<String>,
        /// `elements[e][f]` is field `fields[f]` of element e.
        elements: Vec<Vec<MatArray>>,
    },
    /// A class this reader skips: `"sparse"`, `"object"`, `"function handle"`, `"opaque"`.
    Unsupported(&'static str),
}

impl MatArray {
    /// Number of elements, prod(dims).
    pub fn numel(&self) -> usize {
        self.dims.iter().product()
    }

    /// MATLAB's name of the array's class (`"int32"`, `"char"`, `"cell"`, `"struct"`, …).
    pub fn class_name(&self) -> &'static str {
        match &self.value {
            MatValue::Numeric { class, .. } => class.name(),
            MatValue::Char(_) => "char",
            MatValue::Cell(_) => "cell",
            MatValue::Struct { .. } => "struct",
            MatValue::Unsupported(name) => name,
        }
    }

    /// The dimensions written as MATLAB prints them (`4×57`).
    pub fn shape(&self) -> String {
        dims_text(&self.dims)
    }

    /// Field `name` of a struct's first element (e.g. of a 1 × 1 struct).
    pub fn field(&self, name: &str) -> Option<&MatArray> {
        match &self.value {
            MatValue::Struct { fields, elements } => {
                let f = fields.iter().position(|n| n == name)?;
                elements.first().map(|e| &e[f])
            }
            _ => None,
        }
    }

    /// The text of a char array with one row (1 × n, or empty).
    pub fn string(&self) -> Option<String> {
        match &self.value {
            MatValue::Char(chars)
                if self.dims.len() == 2 && (self.dims[0] == 1 || chars.is_empty()) =>
            {
                Some(chars.iter().collect())
            }
            _ => None,
        }
    }

    /// The arrays of a cell array, column-major.
    pub fn cells(&self) -> Option<&[MatArray]> {
        match &self.value {
            MatValue::Cell(c) => Some(c),
            _ => None,
        }
    }

    /// The real values of a numeric array as f64, column-major.
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        match &self.value {
            MatValue::Numeric { real, .. } => Some(real.to_f64()),
            _ => None,
        }
    }
}

fn dims_text(dims: &[usize]) -> String {
    dims.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("×")
}

/// Reads a MAT-file. Errors name the file, the byte offset and the array concerned.
pub fn read_mat(path: impl AsRef<Path>) -> Result<MatFile> {
    let path = path.as_ref();
    parse_mat(&files::read(path)?, path)
}

/// Parses the bytes of a MAT-file; `path` only names the source in errors.
pub fn parse_mat(bytes: &[u8], path: &Path) -> Result<MatFile> {
    let err = |at: &str, msg: String| Error::format(path, at, msg);
    if bytes.len() < 128 {
        return Err(err(
            &format!("byte {}", bytes.len()),
            format!(
                "the file ends after {} bytes, before the end of the 128-byte MAT-file header",
                bytes.len()
            ),
        ));
    }
    let text = &bytes[..116];
    if text.starts_with(b"MATLAB 7.3 MAT-file") {
        return Err(err(
            "byte 0",
            "a MATLAB v7.3 (HDF5) file: re-save it with save(..., '-v7') to read it here".into(),
        ));
    }
    if !text.starts_with(b"MATLAB 5.0 MAT-file") {
        let start: String = String::from_utf8_lossy(&bytes[..24])
            .chars()
            .flat_map(char::escape_debug)
            .collect();
        return Err(err(
            "byte 0",
            format!(
                "not a MATLAB 5.0 MAT-file: the header should begin \"MATLAB 5.0 MAT-file\", it begins \"{start}\""
            ),
        ));
    }
    let big_endian = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        other => {
            return Err(err(
                "byte 126",
                format!("endian indicator {other:?} is neither \"IM\" nor \"MI\""),
            ));
        }
    };
    let version = if big_endian {
        u16::from_be_bytes([bytes[124], bytes[125]])
    } else {
        u16::from_le_bytes([bytes[124], bytes[125]])
    };
    if version != 0x0100 {
        return Err(err(
            "byte 124",
            format!("version {version:#06x}, expected 0x0100"),
        ));
    }
    let header = String::from_utf8_lossy(text)
        .trim_end_matches(['\0', ' '])
        .to_string();

    let parser = Parser {
        path,
        big_endian,
        fieldless: std::cell::Cell::new(0),
    };
    let mut arrays = Vec::new();
    let mut top = Cursor {
        bytes: &bytes[128..],
        pos: 0,
        loc: Loc {
            base: 128,
            zlib_at: None,
        },
    };
    while top.pos < top.bytes.len() {
        // Some writers pad the end of the file with zeros: ignore fewer than 8 of them.
        if top.bytes.len() - top.pos < 8 && top.bytes[top.pos..].iter().all(|&b| b == 0) {
            break;
        }
        let el = parser.element(&mut top, "top-level element")?;
        match el.ty {
            MI_MATRIX => arrays.push(parser.matrix(&el, 0, "variable")?),
            MI_COMPRESSED => {
                let zlib_at = el.tag_at;
                let mut inflated = Vec::new();
                flate2::read::ZlibDecoder::new(el.data)
                    .read_to_end(&mut inflated)
                    .map_err(|e| {
                        err(
                            &format!("byte {zlib_at}"),
                            format!(
                                "compressed element: the zlib data is truncated or corrupt ({e})"
                            ),
                        )
                    })?;
                let mut inner = Cursor {
                    bytes: &inflated,
                    pos: 0,
                    loc: Loc {
                        base: 0,
                        zlib_at: Some(zlib_at),
                    },
                };
                while inner.pos < inner.bytes.len() {
                    let el = parser.element(&mut inner, "compressed element")?;
                    if el.ty != MI_MATRIX {
                        return Err(parser.error(
                            el.loc.at(el.tag_at),
                            format!(
                                "compressed element holds data type {}, expected miMATRIX (14)",
                                el.ty
                            ),
                        ));
                    }
                    arrays.push(parser.matrix(&el, 0, "variable")?);
                }
            }
            other => {
                return Err(parser.error(
                    el.loc.at(el.tag_at),
                    format!("top-level element of data type {other}, expected miMATRIX (14) or miCOMPRESSED (15)"),
                ));
            }
        }
    }
    Ok(MatFile {
        header,
        big_endian,
        arrays,
    })
}

/// Where a byte range lies, for error messages: in the file, or in decompressed data.
#[derive(Clone, Copy)]
struct Loc {
    /// Offset of the cursor's first byte (in the file, or in the decompressed data).
    base: usize,
    /// File offset of the compressed element the bytes come from.
    zlib_at: Option<usize>,
}

impl Loc {
    fn at(&self, offset: usize) -> String {
        match self.zlib_at {
            None => format!("byte {}", self.base + offset),
            Some(z) => format!(
                "byte {} of the data decompressed from byte {z}",
                self.base + offset
            ),
        }
    }

    fn shifted(&self, by: usize) -> Loc {
        Loc {
            base: self.base + by,
            zlib_at: self.zlib_at,
        }
    }
}

/// A read position in a byte range.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    loc: Loc,
}

/// One data element: its type, its data bytes, and where it was.
struct Element<'a> {
    ty: u32,
    data: &'a [u8],
    /// Offset of the tag, in the file or the decompressed data (see `loc`).
    tag_at: usize,
    /// Location of `data[0]`, for the elements nested inside.
    data_loc: Loc,
    /// Location of the cursor the element was read from.
    loc: Loc,
}

struct Parser<'p> {
    path: &'p Path,
    big_endian: bool,
    /// Elements of field-less struct arrays read so far (see [`MAX_FIELDLESS_ELEMENTS`]).
    fieldless: std::cell::Cell<usize>,
}

impl Parser<'_> {
    fn error(&self, at: String, msg: String) -> Error {
        Error::format(self.path, at, msg)
    }

    fn u32_at(&self, b: &[u8], at: usize) -> u32 {
        let a = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }

    /// Reads the next data element of `c` (regular or small format), skipping its padding.
    fn element<'a>(&self, c: &mut Cursor<'a>, what: &str) -> Result<Element<'a>> {
        let start = c.pos;
        let left = c.bytes.len() - start;
        if left < 8 {
            return Err(self.error(
                c.loc.at(start),
                format!("{what}: truncated: {left} bytes left, a data element tag needs 8"),
            ));
        }
        let first = self.u32_at(c.bytes, start);
        let (ty, data, data_start) = if first >> 16 != 0 {
            // Small element format: count in the upper 16 bits, up to 4 bytes of data.
            let (ty, size) = (first & 0xffff, (first >> 16) as usize);
            if size > 4 {
                return Err(self.error(
                    c.loc.at(start),
                    format!("{what}: small data element of {size} bytes (at most 4)"),
                ));
            }
            c.pos = start + 8;
            (ty, &c.bytes[start + 4..start + 4 + size], start + 4)
        } else {
            let size = self.u32_at(c.bytes, start + 4) as usize;
            if size > left - 8 {
                return Err(self.error(
                    c.loc.at(start),
                    format!(
                        "{what}: truncated: the element (data type {first}) announces {size} bytes, {} remain",
                        left - 8
                    ),
                ));
            }
            let end = start + 8 + size;
            let padded = if first == MI_COMPRESSED {
                end
            } else {
                end.next_multiple_of(8)
            };
            c.pos = padded.min(c.bytes.len());
            (first, &c.bytes[start + 8..end], start + 8)
        };
        Ok(Element {
            ty,
            data,
            tag_at: c.loc.base + start,
            data_loc: c.loc.shifted(data_start),
            loc: Loc {
                base: 0,
                zlib_at: c.loc.zlib_at,
            },
        })
    }

    /// Reads a sub-element that must have data type `ty`.
    fn typed<'a>(&self, c: &mut Cursor<'a>, ty: &[u32], what: &str) -> Result<Element<'a>> {
        let at = c.loc.at(c.pos);
        let el = self.element(c, what)?;
        if !ty.contains(&el.ty) {
            return Err(self.error(
                at,
                format!(
                    "{what}: data type {}, expected {}",
                    el.ty,
                    ty.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ));
        }
        Ok(el)
    }

    /// Parses a miMATRIX element; `what` names it in errors (`variable`, `` `data`.vocab{3} ``).
    fn matrix(&self, el: &Element<'_>, depth: usize, what: &str) -> Result<MatArray> {
        let at = el.loc.at(el.tag_at);
        if depth > MAX_DEPTH {
            return Err(self.error(
                at,
                format!("{what}: cells and structs nested more than {MAX_DEPTH} deep"),
            ));
        }
        if el.data.is_empty() {
            // MATLAB writes an empty array ([]) inside cells and structs as a bare tag.
            return Ok(MatArray {
                name: String::new(),
                dims: vec![0, 0],
                value: MatValue::Numeric {
                    class: NumClass::Double,
                    real: Numbers::Float(Vec::new()),
                    imag: None,
                },
                logical: false,
                global: false,
            });
        }
        let mut c = Cursor {
            bytes: el.data,
            pos: 0,
            loc: el.data_loc,
        };
        let flags_el = self.typed(&mut c, &[MI_UINT32], &format!("{what}: array flags"))?;
        if flags_el.data.len() < 4 {
            return Err(self.error(at, format!("{what}: array flags shorter than 4 bytes")));
        }
        let flags = self.u32_at(flags_el.data, 0);
        let class_code = (flags & 0xff) as u8;
        let complex = flags & 0x0800 != 0;
        let global = flags & 0x0400 != 0;
        let logical = flags & 0x0200 != 0;

        let dims_el = self.typed(&mut c, &[MI_INT32], &format!("{what}: dimensions"))?;
        if dims_el.data.len() % 4 != 0 || dims_el.data.len() < 8 {
            return Err(self.error(
                at,
                format!(
                    "{what}: dimensions of {} bytes, expected at least 2 int32",
                    dims_el.data.len()
                ),
            ));
        }
        let mut dims = Vec::new();
        for k in 0..dims_el.data.len() / 4 {
            let d = self.u32_at(dims_el.data, 4 * k) as i32;
            if d < 0 {
                return Err(self.error(at, format!("{what}: negative dimension {d}")));
            }
            dims.push(d as usize);
        }
        let numel = dims
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| {
                self.error(
                    at.clone(),
                    format!("{what}: dimensions {} overflow", dims_text(&dims)),
                )
            })?;

        let name_el = self.typed(
            &mut c,
            &[MI_INT8, MI_UINT8, MI_UTF8],
            &format!("{what}: name"),
        )?;
        let name = String::from_utf8_lossy(name_el.data)
            .trim_end_matches('\0')
            .to_string();
        let what = if name.is_empty() {
            what.to_string()
        } else if what == "variable" {
            format!("variable `{name}`")
        } else {
            format!("{what} (`{name}`)")
        };
        let what = what.as_str();

        let value = match class_code {
            1 => {
                self.check_room(&c, numel, &at, what, "cells")?;
                let mut cells = Vec::new();
                for k in 0..numel {
                    let sub = self.typed(&mut c, &[MI_MATRIX], &format!("{what}{{{}}}", k + 1))?;
                    cells.push(self.matrix(&sub, depth + 1, &format!("{what}{{{}}}", k + 1))?);
                }
                MatValue::Cell(cells)
            }
            2 => self.structure(&mut c, numel, depth, &at, what)?,
            4 => {
                let data = self.typed(
                    &mut c,
                    &[MI_UINT16, MI_UTF16, MI_UTF8, MI_UINT8, MI_INT8, MI_UTF32],
                    &format!("{what}: characters"),
                )?;
                let chars = self.chars(&data, what)?;
                if chars.len() != numel {
                    return Err(self.error(
                        at,
                        format!(
                            "{what}: {} characters for a {} char array",
                            chars.len(),
                            dims_text(&dims)
                        ),
                    ));
                }
                MatValue::Char(chars)
            }
            6..=15 => {
                // 6..=15 are exactly the numeric class codes.
                let class = NumClass::from_code(class_code).unwrap_or(NumClass::Double);
                let real_el = self.element(&mut c, &format!("{what}: real part"))?;
                let real = self.numbers(&real_el, class, numel, &format!("{what}: real part"))?;
                let imag = if complex {
                    let imag_el = self.element(&mut c, &format!("{what}: imaginary part"))?;
                    Some(self.numbers(
                        &imag_el,
                        class,
                        numel,
                        &format!("{what}: imaginary part"),
                    )?)
                } else {
                    None
                };
                MatValue::Numeric { class, real, imag }
            }
            3 => MatValue::Unsupported("object"),
            5 => MatValue::Unsupported("sparse"),
            16 => MatValue::Unsupported("function handle"),
            17 => MatValue::Unsupported("opaque"),
            other => {
                return Err(self.error(at, format!("{what}: unknown array class {other}")));
            }
        };
        Ok(MatArray {
            name,
            dims,
            value,
            logical,
            global,
        })
    }

    /// Errors unless `c` has room for `count` more element tags (guards huge announced sizes).
    fn check_room(
        &self,
        c: &Cursor<'_>,
        count: usize,
        at: &str,
        what: &str,
        of: &str,
    ) -> Result<()> {
        let room = (c.bytes.len() - c.pos) / 8;
        if count > room {
            return Err(self.error(
                at.to_string(),
                format!("{what}: truncated: {count} {of} announced, room for at most {room}"),
            ));
        }
        Ok(())
    }

    /// The content of a struct array of `numel` elements.
    fn structure(
        &self,
        c: &mut Cursor<'_>,
        numel: usize,
        depth: usize,
        at: &str,
        what: &str,
    ) -> Result<MatValue> {
        let len_el = self.typed(c, &[MI_INT32], &format!("{what}: field name length"))?;
        if len_el.data.len() != 4 {
            return Err(self.error(
                at.to_string(),
                format!("{what}: field name length is not one int32"),
            ));
        }
        let len = self.u32_at(len_el.data, 0) as usize;
        let names_el = self.typed(
            c,
            &[MI_INT8, MI_UINT8, MI_UTF8],
            &format!("{what}: field names"),
        )?;
        let names = names_el.data;
        if (len == 0 && !names.is_empty()) || (len > 0 && names.len() % len != 0) {
            return Err(self.error(
                at.to_string(),
                format!(
                    "{what}: {} bytes of field names is not a multiple of {len}",
                    names.len()
                ),
            ));
        }
        let fields: Vec<String> = if len == 0 {
            Vec::new()
        } else {
            names
                .chunks(len)
                .map(|n| {
                    let end = n.iter().position(|&b| b == 0).unwrap_or(n.len());
                    String::from_utf8_lossy(&n[..end]).into_owned()
                })
                .collect()
        };
        if fields.is_empty() {
            let so_far = self.fieldless.get().saturating_add(numel);
            if so_far > MAX_FIELDLESS_ELEMENTS {
                return Err(self.error(
                    at.to_string(),
                    format!(
                        "{what}: a struct array of {numel} elements with no field, which \
                         makes {so_far} such elements in the file (at most \
                         {MAX_FIELDLESS_ELEMENTS} are read)"
                    ),
                ));
            }
            self.fieldless.set(so_far);
        }
        let total = numel.saturating_mul(fields.len());
        self.check_room(c, total, at, what, "field values")?;
        let mut elements = Vec::new();
        for e in 0..numel {
            let mut values = Vec::with_capacity(fields.len());
            for field in &fields {
                let label = if numel == 1 {
                    format!("{what}.{field}")
                } else {
                    format!("{what}({}).{field}", e + 1)
                };
                let sub = self.typed(c, &[MI_MATRIX], &label)?;
                values.push(self.matrix(&sub, depth + 1, &label)?);
            }
            elements.push(values);
        }
        Ok(MatValue::Struct { fields, elements })
    }

    /// Decodes the characters of a char array.
    fn chars(&self, el: &Element<'_>, what: &str) -> Result<Vec<char>> {
        let d = el.data;
        let units = |size: usize| -> Result<()> {
            if !d.len().is_multiple_of(size) {
                return Err(self.error(
                    el.loc.at(el.tag_at),
                    format!(
                        "{what}: {} bytes of characters is not a multiple of {size}",
                        d.len()
                    ),
                ));
            }
            Ok(())
        };
        Ok(match el.ty {
            MI_UINT16 | MI_UTF16 => {
                units(2)?;
                let u: Vec<u16> = d
                    .chunks_exact(2)
                    .map(|b| {
                        if self.big_endian {
                            u16::from_be_bytes([b[0], b[1]])
                        } else {
                            u16::from_le_bytes([b[0], b[1]])
                        }
                    })
                    .collect();
                if el.ty == MI_UTF16 {
                    char::decode_utf16(u)
                        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                        .collect()
                } else {
                    // MATLAB chars are UTF-16 code units, one per array element.
                    u.into_iter()
                        .map(|x| char::from_u32(x.into()).unwrap_or(char::REPLACEMENT_CHARACTER))
                        .collect()
                }
            }
            MI_UTF8 => std::str::from_utf8(d)
                .map_err(|e| {
                    self.error(
                        el.data_loc.at(e.valid_up_to()),
                        format!("{what}: characters are not valid UTF-8"),
                    )
                })?
                .chars()
                .collect(),
            MI_UTF32 => {
                units(4)?;
                (0..d.len() / 4)
                    .map(|k| {
                        char::from_u32(self.u32_at(d, 4 * k)).unwrap_or(char::REPLACEMENT_CHARACTER)
                    })
                    .collect()
            }
            _ => d.iter().map(|&b| char::from(b)).collect(),
        })
    }

    /// Reads `numel` values stored as the element's data type into `class`'s domain, checking
    /// that each fits (an int8 array stored as miINT16 must hold values in -128..=127).
    fn numbers(
        &self,
        el: &Element<'_>,
        class: NumClass,
        numel: usize,
        what: &str,
    ) -> Result<Numbers> {
        let at = el.loc.at(el.tag_at);
        let size = match el.ty {
            MI_INT8 | MI_UINT8 => 1,
            MI_INT16 | MI_UINT16 => 2,
            MI_INT32 | MI_UINT32 | MI_SINGLE => 4,
            MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
            other => {
                return Err(
                    self.error(at, format!("{what}: data type {other} cannot hold numbers"))
                );
            }
        };
        let d = el.data;
        if d.len() != numel.saturating_mul(size) {
            return Err(self.error(
                at,
                format!(
                    "{what}: {} bytes of data type {}, expected {numel} values of {size} bytes",
                    d.len(),
                    el.ty
                ),
            ));
        }
        let word = |k: usize| -> [u8; 8] {
            let mut b = [0u8; 8];
            let src = &d[k * size..(k + 1) * size];
            if self.big_endian {
                b[8 - size..].copy_from_slice(src);
                b
            } else {
                b[..size].copy_from_slice(src);
                b
            }
        };
        // Every stored value as f64 (floats) or i128 (integers), in the file's byte order.
        enum Raw {
            F(f64),
            I(i128),
        }
        let raw = |k: usize| -> Raw {
            let v = if self.big_endian {
                u64::from_be_bytes(word(k))
            } else {
                u64::from_le_bytes(word(k))
            };
            match el.ty {
                MI_INT8 => Raw::I((v as u8 as i8).into()),
                MI_UINT8 => Raw::I((v as u8).into()),
                MI_INT16 => Raw::I((v as u16 as i16).into()),
                MI_UINT16 => Raw::I((v as u16).into()),
                MI_INT32 => Raw::I((v as u32 as i32).into()),
                MI_UINT32 => Raw::I((v as u32).into()),
                MI_INT64 => Raw::I((v as i64).into()),
                MI_UINT64 => Raw::I(v.into()),
                MI_SINGLE => Raw::F(f32::from_bits(v as u32).into()),
                _ => Raw::F(f64::from_bits(v)),
            }
        };
        let Some((lo, hi)) = class.range() else {
            return Ok(Numbers::Float(
                (0..numel)
                    .map(|k| match raw(k) {
                        Raw::F(x) => x,
                        Raw::I(i) => i as f64,
                    })
                    .collect(),
            ));
        };
        let mut ints: Vec<i128> = Vec::with_capacity(numel);
        for k in 0..numel {
            let value = match raw(k) {
                Raw::I(i) => Some(i),
                Raw::F(x) => float_to_integer(x),
            }
            .filter(|i| (lo..=hi).contains(i));
            match value {
                Some(i) => ints.push(i),
                None => {
                    let shown = match raw(k) {
                        Raw::F(x) => x.to_string(),
                        Raw::I(i) => i.to_string(),
                    };
                    return Err(self.error(
                        at,
                        format!(
                            "{what}: value {shown} (element {}) does not fit class {}",
                            k + 1,
                            class.name()
                        ),
                    ));
                }
            }
        }
        // The range check above makes these conversions exact.
        Ok(if lo < 0 {
            Numbers::Int(ints.into_iter().map(|i| i as i64).collect())
        } else {
            Numbers::UInt(ints.into_iter().map(|i| i as u64).collect())
        })
    }
}

/// Hinton's assignment-2 data (`data.mat`), with ids made 0-based.
///
/// Each n-gram set is 4 × N: element j is column j of the MATLAB array, (w1, w2, w3, target)
/// as 0-based indices into `vocab`. The original has train 4 × 372,550, valid and test
/// 4 × 46,568, and 250 words.
#[derive(Clone, Debug, PartialEq)]
pub struct HintonA2 {
    /// `trainData`: 4 × N_train.
    pub train: Vec<[usize; 4]>,
    /// `validData`: 4 × N_valid.
    pub valid: Vec<[usize; 4]>,
    /// `testData`: 4 × N_test.
    pub test: Vec<[usize; 4]>,
    /// `vocab`: the words, word id k (0-based) is `vocab[k]`.
    pub vocab: Vec<String>,
}

impl fmt::Display for HintonA2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "train 4×{}, valid 4×{}, test 4×{}, vocabulary {}",
            self.train.len(),
            self.valid.len(),
            self.test.len(),
            self.vocab.len()
        )
    }
}

/// Reads Hinton's assignment-2 `data.mat` (`--mat FILE`): the 1 × 1 struct `data` with fields
/// `trainData`, `validData`, `testData` (4 × N, whole numbers 1..=V: int32 in the original,
/// any real numeric class accepted) and `vocab` (a cell of V char rows).
///
/// Errors name the file and the variable or field: no `data` (listing the variables found),
/// not a 1 × 1 struct, a field missing (listing the fields), of the wrong class or shape, or an
/// id outside 1..=V.
pub fn load_hinton_a2(path: impl AsRef<Path>) -> Result<HintonA2> {
    let path = path.as_ref();
    parse_hinton_a2(&files::read(path)?, path)
}

/// Parses the bytes of Hinton's `data.mat` ([`load_hinton_a2`] without the file system);
/// `path` only names the source in errors.
pub fn parse_hinton_a2(bytes: &[u8], path: &Path) -> Result<HintonA2> {
    let mat = parse_mat(bytes, path)?;
    let data = mat.get("data").ok_or_else(|| {
        let names = mat.names();
        Error::format(
            path,
            "variable `data`",
            format!(
                "missing (variables found: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        )
    })?;
    let MatValue::Struct { fields, .. } = &data.value else {
        return Err(Error::format(
            path,
            "variable `data`",
            format!(
                "is a {} {} array, expected a 1×1 struct",
                data.shape(),
                data.class_name()
            ),
        ));
    };
    if data.numel() != 1 {
        return Err(Error::format(
            path,
            "variable `data`",
            format!("is a {} struct array, expected 1×1", data.shape()),
        ));
    }
    let field = |name: &str| -> Result<&MatArray> {
        data.field(name).ok_or_else(|| {
            Error::format(
                path,
                format!("field `{name}`"),
                format!("missing from struct `data` (fields: {})", fields.join(", ")),
            )
        })
    };

    let vocab_array = field("vocab")?;
    let where_ = "field `vocab`";
    let cells = vocab_array.cells().ok_or_else(|| {
        Error::format(
            path,
            where_,
            format!(
                "is a {} array, expected a cell of char rows",
                vocab_array.class_name()
            ),
        )
    })?;
    let mut vocab = Vec::with_capacity(cells.len());
    for (k, cell) in cells.iter().enumerate() {
        let word = cell.string().ok_or_else(|| {
            Error::format(
                path,
                format!("field `vocab`, cell {}", k + 1),
                format!(
                    "is a {} {} array, expected a char row",
                    cell.shape(),
                    cell.class_name()
                ),
            )
        })?;
        vocab.push(word);
    }
    if vocab.is_empty() {
        return Err(Error::format(path, where_, "the vocabulary is empty"));
    }

    let grams = |name: &str| -> Result<Vec<[usize; 4]>> {
        let a = field(name)?;
        let where_ = format!("field `{name}`");
        let (real, complex) = match &a.value {
            MatValue::Numeric { real, imag, .. } => (real, imag.is_some()),
            _ => {
                return Err(Error::format(
                    path,
                    where_,
                    format!("is a {} array, expected a 4×N int32 matrix", a.class_name()),
                ));
            }
        };
        if complex || a.dims.len() != 2 || a.dims[0] != 4 {
            return Err(Error::format(
                path,
                where_,
                format!(
                    "is a {}{} {} array, expected 4×N (one 4-gram per column)",
                    if complex { "complex " } else { "" },
                    a.shape(),
                    a.class_name()
                ),
            ));
        }
        let v = vocab.len() as i128;
        let mut out = Vec::with_capacity(a.dims[1]);
        for j in 0..a.dims[1] {
            let mut col = [0usize; 4];
            for (i, slot) in col.iter_mut().enumerate() {
                // Column-major: element (i, j) of a 4 × N array is at i + 4j.
                match real.integer(i + 4 * j) {
                    Some(id) if (1..=v).contains(&id) => *slot = (id - 1) as usize,
                    _ => {
                        let shown = real.to_f64()[i + 4 * j];
                        return Err(Error::format(
                            path,
                            format!("{where_}, row {}, column {}", i + 1, j + 1),
                            format!("{shown} is not a word id in 1..={v}"),
                        ));
                    }
                }
            }
            out.push(col);
        }
        Ok(out)
    };
    Ok(HintonA2 {
        train: grams("trainData")?,
        valid: grams("validData")?,
        test: grams("testData")?,
        vocab,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::text::{Corpus, SentenceMode, ngrams};

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    /// A hand-written MAT-file writer for tests, in either byte order.
    struct W {
        big: bool,
    }

    impl W {
        fn u32(&self, v: u32) -> [u8; 4] {
            if self.big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }

        /// A regular element: tag, data, zero padding to 8 bytes.
        fn elem(&self, ty: u32, data: &[u8]) -> Vec<u8> {
            let mut b = Vec::new();
            b.extend(self.u32(ty));
            b.extend(self.u32(data.len() as u32));
            b.extend_from_slice(data);
            b.resize(b.len().next_multiple_of(8), 0);
            b
        }

        /// A small-format element (at most 4 data bytes).
        fn small(&self, ty: u32, data: &[u8]) -> Vec<u8> {
            let mut b = Vec::new();
            b.extend(self.u32(((data.len() as u32) << 16) | ty));
            b.extend_from_slice(data);
            b.resize(8, 0);
            b
        }

        fn i32s(&self, v: &[i32]) -> Vec<u8> {
            v.iter().flat_map(|&x| self.u32(x as u32)).collect()
        }

        /// A miMATRIX element with the given class code, extra flags, dims, name and content.
        fn matrix(
            &self,
            class: u32,
            flags: u32,
            dims: &[i32],
            name: &str,
            content: &[u8],
        ) -> Vec<u8> {
            let mut b = Vec::new();
            let mut fl = self.u32(class | flags).to_vec();
            fl.extend([0; 4]);
            b.extend(self.elem(MI_UINT32, &fl));
            b.extend(self.elem(MI_INT32, &self.i32s(dims)));
            if name.len() <= 4 {
                b.extend(self.small(MI_INT8, name.as_bytes()));
            } else {
                b.extend(self.elem(MI_INT8, name.as_bytes()));
            }
            b.extend_from_slice(content);
            self.elem(MI_MATRIX, &b)
        }

        fn int32(&self, name: &str, dims: &[i32], v: &[i32]) -> Vec<u8> {
            self.matrix(12, 0, dims, name, &self.elem(MI_INT32, &self.i32s(v)))
        }

        fn chars(&self, name: &str, s: &str) -> Vec<u8> {
            let units: Vec<u8> = s
                .encode_utf16()
                .flat_map(|u| {
                    if self.big {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    }
                })
                .collect();
            let n = s.encode_utf16().count() as i32;
            self.matrix(4, 0, &[1, n], name, &self.elem(MI_UINT16, &units))
        }

        fn cell(&self, name: &str, dims: &[i32], items: &[Vec<u8>]) -> Vec<u8> {
            self.matrix(1, 0, dims, name, &items.concat())
        }

        /// A 1×1 struct; field names padded to 32 bytes as MATLAB does.
        fn structure(&self, name: &str, fields: &[(&str, Vec<u8>)]) -> Vec<u8> {
            let mut content = self.small(MI_INT32, &self.u32(32));
            let mut names = Vec::new();
            for (f, _) in fields {
                let mut n = f.as_bytes().to_vec();
                n.resize(32, 0);
                names.extend(n);
            }
            content.extend(self.elem(MI_INT8, &names));
            for (_, v) in fields {
                content.extend_from_slice(v);
            }
            self.matrix(2, 0, &[1, 1], name, &content)
        }

        fn file(&self, elements: &[Vec<u8>]) -> Vec<u8> {
            let mut h = b"MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: test".to_vec();
            h.resize(116, b' ');
            h.extend([0; 8]);
            if self.big {
                h.extend([0x01, 0x00]);
                h.extend(b"MI");
            } else {
                h.extend([0x00, 0x01]);
                h.extend(b"IM");
            }
            h.extend(elements.concat());
            h
        }

        /// A data.mat-like file: vocab of `v` words, the given 4×N id arrays.
        fn hinton(&self, v: usize, train: &[i32], valid: &[i32], test: &[i32]) -> Vec<u8> {
            let words: Vec<Vec<u8>> = (0..v).map(|k| self.chars("", &format!("w{k}"))).collect();
            let n = |a: &[i32]| (a.len() / 4) as i32;
            self.file(&[self.structure(
                "data",
                &[
                    ("testData", self.int32("", &[4, n(test)], test)),
                    ("trainData", self.int32("", &[4, n(train)], train)),
                    ("validData", self.int32("", &[4, n(valid)], valid)),
                    ("vocab", self.cell("", &[1, v as i32], &words)),
                ],
            )])
        }
    }

    fn parse(bytes: &[u8]) -> Result<MatFile> {
        parse_mat(bytes, Path::new("data.mat"))
    }

    fn load(bytes: &[u8]) -> Result<HintonA2> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("data.mat");
        std::fs::write(&p, bytes).unwrap();
        load_hinton_a2(&p)
    }

    #[test]
    fn scipy_fixture_matches_its_sentences() {
        let a2 = load_hinton_a2(fixture("hinton_like.mat")).unwrap();
        assert_eq!(
            (
                a2.train.len(),
                a2.valid.len(),
                a2.test.len(),
                a2.vocab.len()
            ),
            (57, 9, 9, 63)
        );
        // The compressed save holds the same data.
        assert_eq!(load_hinton_a2(fixture("hinton_like_z.mat")).unwrap(), a2);

        // The fixture is every within-sentence 4-gram of its sentence file, shuffled and split:
        // rebuild them with the text module and compare as multisets.
        let corpus =
            Corpus::load(fixture("hinton_like_sentences.txt"), SentenceMode::Lines).unwrap();
        let vocab = crate::data::text::Vocab::from_words(a2.vocab.clone()).unwrap();
        let ids: Vec<Vec<usize>> = corpus
            .sentences
            .iter()
            .map(|s| vocab.encode_all(s).unwrap())
            .collect();
        let mut expected = ngrams::<_, 4>(&ids);
        let mut loaded: Vec<[usize; 4]> = [a2.train, a2.valid, a2.test].concat();
        expected.sort();
        loaded.sort();
        assert_eq!(loaded, expected);
        assert_eq!(a2.vocab[0], "we");
    }

    #[test]
    fn scipy_fixture_raw_layout() {
        let m = read_mat(fixture("hinton_like.mat")).unwrap();
        assert!(
            m.header.starts_with("MATLAB 5.0 MAT-file Platform:"),
            "{}",
            m.header
        );
        assert!(!m.big_endian);
        assert_eq!(m.names(), ["data"]);
        let data = m.get("data").unwrap();
        assert_eq!(
            (data.class_name(), data.shape()),
            ("struct", "1×1".to_string())
        );
        let MatValue::Struct { fields, .. } = &data.value else {
            panic!()
        };
        assert_eq!(fields, &["testData", "trainData", "validData", "vocab"]);
        let train = data.field("trainData").unwrap();
        assert_eq!(
            (train.class_name(), train.shape()),
            ("int32", "4×57".to_string())
        );
        let vocab = data.field("vocab").unwrap();
        assert_eq!(
            (vocab.class_name(), vocab.shape()),
            ("cell", "1×63".to_string())
        );
        assert_eq!(vocab.cells().unwrap()[2].string().unwrap(), "go");
    }

    #[test]
    fn every_class_and_both_byte_orders() {
        for big in [false, true] {
            let w = W { big };
            // double 2×3 stored as miUINT8 (MATLAB's compact storage), column-major.
            let dbl = w.matrix(
                6,
                0,
                &[2, 3],
                "dbl",
                &w.elem(MI_UINT8, &[1, 2, 3, 4, 5, 250]),
            );
            // int8 stored as miINT16, a negative value.
            let i16s: Vec<u8> = [-128i16, 127]
                .iter()
                .flat_map(|&x| {
                    if big {
                        x.to_be_bytes()
                    } else {
                        x.to_le_bytes()
                    }
                })
                .collect();
            let i8s = w.matrix(8, 0, &[1, 2], "i8", &w.elem(MI_INT16, &i16s));
            // single, complex.
            let f = |x: f32| w.u32(x.to_bits());
            let re: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|&x| f(x)).collect();
            let im: Vec<u8> = [0.25f32, 4.0].iter().flat_map(|&x| f(x)).collect();
            let cplx = w.matrix(
                7,
                0x0800,
                &[2, 1],
                "z",
                &[w.elem(MI_SINGLE, &re), w.elem(MI_SINGLE, &im)].concat(),
            );
            // logical uint8, global flag; uint64 beyond 2^53.
            let lg = w.matrix(
                9,
                0x0200 | 0x0400,
                &[1, 3],
                "mask",
                &w.small(MI_UINT8, &[1, 0, 1]),
            );
            let big_u: Vec<u8> = if big {
                (u64::MAX - 1).to_be_bytes().to_vec()
            } else {
                (u64::MAX - 1).to_le_bytes().to_vec()
            };
            let u64s = w.matrix(15, 0, &[1, 1], "u64", &w.elem(MI_UINT64, &big_u));
            let text = w.chars("name", "héllo");
            let empty_cell_item = w.elem(MI_MATRIX, &[]);
            let cell = w.cell(
                "c",
                &[1, 3],
                &[
                    w.chars("", "a"),
                    empty_cell_item,
                    w.int32("", &[1, 1], &[-7]),
                ],
            );
            let nested = w.structure(
                "s",
                &[(
                    "inner",
                    w.structure("", &[("x", w.int32("", &[1, 1], &[9]))]),
                )],
            );
            let m = parse(&w.file(&[dbl, i8s, cplx, lg, u64s, text, cell, nested])).unwrap();
            assert_eq!(m.big_endian, big);
            assert_eq!(
                m.names(),
                ["dbl", "i8", "z", "mask", "u64", "name", "c", "s"]
            );
            let dbl = m.get("dbl").unwrap();
            assert_eq!(dbl.to_f64().unwrap(), [1.0, 2.0, 3.0, 4.0, 5.0, 250.0]);
            assert_eq!(dbl.dims, [2, 3]);
            assert!(matches!(&m.get("i8").unwrap().value,
                MatValue::Numeric { class: NumClass::Int8, real: Numbers::Int(v), .. } if v == &[-128, 127]));
            assert!(matches!(&m.get("z").unwrap().value,
                MatValue::Numeric { class: NumClass::Single, real: Numbers::Float(r), imag: Some(Numbers::Float(i)) }
                    if r == &[1.5, -2.0] && i == &[0.25, 4.0]));
            let mask = m.get("mask").unwrap();
            assert!(mask.logical && mask.global);
            assert_eq!(mask.to_f64().unwrap(), [1.0, 0.0, 1.0]);
            assert!(matches!(&m.get("u64").unwrap().value,
                MatValue::Numeric { real: Numbers::UInt(v), .. } if v == &[u64::MAX - 1]));
            assert_eq!(m.get("name").unwrap().string().unwrap(), "héllo");
            let c = m.get("c").unwrap().cells().unwrap();
            assert_eq!(c[0].string().unwrap(), "a");
            assert_eq!(c[1].numel(), 0);
            assert_eq!(c[2].to_f64().unwrap(), [-7.0]);
            let x = m
                .get("s")
                .unwrap()
                .field("inner")
                .unwrap()
                .field("x")
                .unwrap();
            assert_eq!(x.to_f64().unwrap(), [9.0]);
        }
    }

    #[test]
    fn compressed_elements_and_hinton_loader_big_endian() {
        use std::io::Write;
        let w = W { big: true };
        let plain = w.hinton(5, &[1, 2, 3, 4, 5, 4, 3, 2], &[2, 2, 2, 2], &[1, 1, 1, 5]);
        let a2 = load(&plain).unwrap();
        assert_eq!(a2.train, [[0, 1, 2, 3], [4, 3, 2, 1]]);
        assert_eq!(a2.valid, [[1, 1, 1, 1]]);
        assert_eq!(a2.test, [[0, 0, 0, 4]]);
        assert_eq!(a2.vocab, ["w0", "w1", "w2", "w3", "w4"]);
        assert_eq!(
            a2.to_string(),
            "train 4×2, valid 4×1, test 4×1, vocabulary 5"
        );

        // The same variable inside a miCOMPRESSED element.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&plain[128..]).unwrap();
        let zdata = z.finish().unwrap();
        let mut file = plain[..128].to_vec();
        file.extend(w.u32(MI_COMPRESSED));
        file.extend(w.u32(zdata.len() as u32));
        file.extend(&zdata);
        assert_eq!(load(&file).unwrap(), a2);

        // A zlib stream cut in half (the element's size says so), and one with garbage.
        for zbad in [
            zdata[..zdata.len() / 2].to_vec(),
            vec![0x78, 0x9c, 0xff, 0xff, 0xff, 0x00, 0x13],
        ] {
            let mut bad = plain[..128].to_vec();
            bad.extend(w.u32(MI_COMPRESSED));
            bad.extend(w.u32(zbad.len() as u32));
            bad.extend(&zbad);
            let e = parse(&bad).unwrap_err().to_string();
            assert!(e.contains("data.mat: byte 128: compressed element"), "{e}");
        }
    }

    #[test]
    fn hinton_loader_errors_name_variable_and_field() {
        let w = W { big: false };
        let err = |bytes: Vec<u8>| load(&bytes).unwrap_err().to_string();

        let e = err(w.file(&[w.int32("x", &[1, 1], &[1]), w.chars("name", "z")]));
        assert!(
            e.contains("variable `data`: missing (variables found: x, name)"),
            "{e}"
        );
        let e = err(w.file(&[]));
        assert!(e.contains("variables found: none"), "{e}");
        let e = err(w.file(&[w.int32("data", &[4, 1], &[1, 2, 3, 4])]));
        assert!(
            e.contains("variable `data`: is a 4×1 int32 array, expected a 1×1 struct"),
            "{e}"
        );

        let words = [w.chars("", "a"), w.chars("", "b")];
        let e = err(w.file(&[w.structure(
            "data",
            &[
                ("trainData", w.int32("", &[4, 1], &[1, 2, 1, 2])),
                ("vocab", w.cell("", &[1, 2], &words)),
            ],
        )]));
        assert!(
            e.contains("field `validData`: missing from struct `data` (fields: trainData, vocab)"),
            "{e}"
        );

        let wrong_class = |field: Vec<u8>| {
            w.file(&[w.structure(
                "data",
                &[
                    ("trainData", field),
                    ("validData", w.int32("", &[4, 0], &[])),
                    ("testData", w.int32("", &[4, 0], &[])),
                    ("vocab", w.cell("", &[1, 2], &words)),
                ],
            )])
        };
        let e = err(wrong_class(w.chars("", "abcd")));
        assert!(
            e.contains("field `trainData`: is a char array, expected a 4×N int32 matrix"),
            "{e}"
        );
        let e = err(wrong_class(w.int32("", &[3, 1], &[1, 2, 1])));
        assert!(
            e.contains("field `trainData`: is a 3×1 int32 array, expected 4×N"),
            "{e}"
        );
        let e = err(wrong_class(w.int32("", &[4, 2], &[1, 2, 1, 2, 2, 1, 3, 1])));
        assert!(
            e.contains("field `trainData`, row 3, column 2: 3 is not a word id in 1..=2"),
            "{e}"
        );
        let e = err(wrong_class(w.int32("", &[4, 1], &[0, 1, 1, 1])));
        assert!(e.contains("row 1, column 1: 0 is not a word id"), "{e}");
        let half = w.matrix(
            6,
            0,
            &[4, 1],
            "",
            &w.elem(
                MI_DOUBLE,
                &[1.0f64, 2.0, 1.5, 1.0]
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect::<Vec<_>>(),
            ),
        );
        let e = err(wrong_class(half));
        assert!(e.contains("row 3, column 1: 1.5 is not a word id"), "{e}");
        // A double array of whole numbers is accepted.
        let whole = w.matrix(
            6,
            0,
            &[4, 1],
            "",
            &w.elem(
                MI_DOUBLE,
                &[1.0f64, 2.0, 2.0, 1.0]
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect::<Vec<_>>(),
            ),
        );
        assert_eq!(load(&wrong_class(whole)).unwrap().train, [[0, 1, 1, 0]]);

        let e = err(w.file(&[w.structure(
            "data",
            &[
                ("trainData", w.int32("", &[4, 0], &[])),
                ("validData", w.int32("", &[4, 0], &[])),
                ("testData", w.int32("", &[4, 0], &[])),
                (
                    "vocab",
                    w.cell("", &[1, 2], &[w.chars("", "a"), w.int32("", &[1, 1], &[5])]),
                ),
            ],
        )]));
        assert!(
            e.contains("field `vocab`, cell 2: is a 1×1 int32 array, expected a char row"),
            "{e}"
        );
    }

    #[test]
    fn malformed_files_give_clear_errors() {
        let w = W { big: false };
        let err = |bytes: &[u8]| parse(bytes).unwrap_err().to_string();

        let e = err(b"");
        assert!(
            e.contains("data.mat: byte 0: the file ends after 0 bytes"),
            "{e}"
        );
        let mut v73 = w.file(&[]);
        v73[7] = b'7';
        v73[9] = b'3';
        assert!(err(&v73).contains("v7.3 (HDF5)"));
        let random: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
            .collect();
        let e = err(&random);
        assert!(e.contains("byte 0: not a MATLAB 5.0 MAT-file"), "{e}");
        let mut endian = w.file(&[]);
        endian[126] = b'X';
        assert!(err(&endian).contains("byte 126: endian indicator"));

        // Truncated: every cut of a valid file fails cleanly (or, at an element boundary, reads
        // fewer variables), and never panics.
        let full = w.hinton(3, &[1, 2, 3, 1], &[1, 1, 1, 1], &[2, 2, 2, 2]);
        for cut in 0..full.len() {
            let r = parse(&full[..cut]);
            if cut > 128 && cut < full.len() {
                let e = r.unwrap_err().to_string();
                assert!(
                    e.contains("truncated") || e.contains("byte"),
                    "cut {cut}: {e}"
                );
            }
        }
        let e = err(&full[..full.len() - 20]);
        assert!(e.contains("truncated"), "{e}");

        // Random bytes after a valid header, and byte flips of a valid file: errors, no panic.
        let mut junk = w.file(&[]);
        junk.extend(&random);
        assert!(parse(&junk).is_err());
        for k in 128..full.len() {
            let mut flipped = full.clone();
            flipped[k] ^= 0xa5;
            let _ = parse(&flipped);
        }
        let compressed = std::fs::read(fixture("hinton_like_z.mat")).unwrap();
        for k in (128..compressed.len()).step_by(3) {
            let mut flipped = compressed.clone();
            flipped[k] = flipped[k].wrapping_add(77);
            let _ = parse(&flipped);
        }

        // A value that does not fit its class; a cell announcing more cells than bytes.
        let overflow = w.matrix(8, 0, &[1, 1], "x", &w.elem(MI_INT32, &w.i32s(&[300])));
        let e = err(&w.file(&[overflow]));
        assert!(
            e.contains("variable `x`: real part: value 300 (element 1) does not fit class int8"),
            "{e}"
        );
        let huge = w.matrix(1, 0, &[1 << 30, 1 << 30], "c", &[]);
        let e = err(&w.file(&[huge]));
        assert!(e.contains("cells announced"), "{e}");
        let deep = (0..100).fold(w.int32("", &[1, 1], &[1]), |inner, _| {
            w.cell("", &[1, 1], &[inner])
        });
        let e = err(&w.file(&[deep]));
        assert!(e.contains("nested more than"), "{e}");
        let short_numbers = w.matrix(6, 0, &[2, 2], "m", &w.elem(MI_DOUBLE, &[0; 24]));
        let e = err(&w.file(&[short_numbers]));
        assert!(e.contains("variable `m`: real part: 24 bytes"), "{e}");
    }

    /// Seen while writing the `mat` fuzz target (`fuzz/`; 10 minutes of fuzzing had not
    /// reached it) and confirmed by running that target on this input: a cell of 70
    /// field-less 1 × 2^20 structs, 4.6 KB of file, made the reader allocate 1.7 GB of empty
    /// elements (77 s, 2 GB RSS under the fuzzer). Those elements are now capped per file.
    #[test]
    fn fuzz_regression_fieldless_structs_cannot_allocate_gigabytes() {
        let w = W { big: false };
        // A struct with no field: field-name length 32, zero bytes of names, no values.
        let fieldless = |n: i32| {
            let mut content = w.small(MI_INT32, &w.u32(32));
            content.extend(w.elem(MI_INT8, &[]));
            w.matrix(2, 0, &[1, n], "", &content)
        };
        let one = fieldless(1 << 20);
        assert_eq!(one.len(), 64);
        let bomb = w.cell("c", &[1, 70], &vec![one.clone(); 70]);
        let file = w.file(&[bomb]);
        assert!(file.len() < 4700);
        let start = std::time::Instant::now();
        let e = parse(&file).unwrap_err().to_string();
        assert!(
            e.contains("variable `c`{2}: a struct array of 1048576 elements with no field")
                && e.contains("2097152 such elements in the file"),
            "{e}"
        );
        assert!(start.elapsed().as_secs_f64() < 5.0);
        // One such struct is still read, as are a few small ones.
        let m = parse(&w.file(&[w.cell("c", &[1, 1], &[one])])).unwrap();
        let MatValue::Cell(cells) = &m.arrays[0].value else {
            panic!("not a cell")
        };
        assert_eq!(cells[0].numel(), 1 << 20);
        let few = w.cell("c", &[1, 3], &vec![fieldless(5); 3]);
        assert_eq!(parse(&w.file(&[few])).unwrap().arrays[0].numel(), 3);
    }
}
