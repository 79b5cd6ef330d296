//! A small reader for NumPy `.npy` files (format versions 1–3), enough for logits and labels.
//! Pure (no I/O): the CLI reads files, the app reads a dropped file's bytes; both can read
//! the header first ([`NpyHeader::parse`]) and then the data image by image.

use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use std::fmt;

/// The element types `dicelens` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// `<f4`
    F32,
    /// `<f8`
    F64,
    /// `<i8`
    I64,
    /// `<i4`
    I32,
    /// `|u1`
    U8,
    /// `|b1` (NumPy bool, one byte 0/1)
    Bool,
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
            Dtype::I64 => "int64",
            Dtype::I32 => "int32",
            Dtype::U8 => "uint8",
            Dtype::Bool => "bool",
        })
    }
}

/// A parsed array: its dtype and its values widened to `f64` (floats) or `i64` (integers).
#[derive(Debug, Clone)]
pub enum NpyArray {
    /// Float data.
    Float(Dtype, ArrayD<f64>),
    /// Integer data.
    Int(Dtype, ArrayD<i64>),
}

fn header_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("'{key}':");
    let start = header.find(&pat)? + pat.len();
    let rest = header[start..].trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else if let Some(q) = rest.strip_prefix('\'') {
        q.find('\'')? + 2
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(rest[..end].trim())
}

/// The header of a `.npy` file: what the data is and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// Element type.
    pub dtype: Dtype,
    /// Shape (C order unless `fortran`).
    pub shape: Vec<usize>,
    /// Fortran (column-major) order.
    pub fortran: bool,
    /// Byte offset of the data.
    pub data_offset: usize,
}

impl Dtype {
    /// Bytes per element.
    pub fn width(self) -> usize {
        match self {
            Dtype::F64 | Dtype::I64 => 8,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::U8 | Dtype::Bool => 1,
        }
    }

    /// Whether the elements are integers (or booleans).
    pub fn is_int(self) -> bool {
        !matches!(self, Dtype::F32 | Dtype::F64)
    }
}

impl NpyHeader {
    /// Parses the header from the first bytes of a file (`prefix` must hold the whole header;
    /// 64 KiB always do for the files NumPy writes). Errors are one-line messages.
    pub fn parse(prefix: &[u8]) -> Result<NpyHeader, String> {
        let bytes = prefix;
        if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
            return Err("not a .npy file (missing the \\x93NUMPY magic)".into());
        }
        let major = bytes[6];
        let (hlen, start) = match major {
            1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
            2 | 3 => {
                if bytes.len() < 12 {
                    return Err("truncated .npy header".into());
                }
                (
                    u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                    12,
                )
            }
            v => return Err(format!("unsupported .npy format version {v}")),
        };
        let end = start
            .checked_add(hlen)
            .filter(|&e| e <= bytes.len())
            .ok_or("truncated .npy header")?;
        let header =
            std::str::from_utf8(&bytes[start..end]).map_err(|_| "the .npy header is not text")?;
        let descr = header_value(header, "descr").ok_or("the .npy header has no 'descr'")?;
        let descr = descr.trim_matches('\'');
        let dtype = match descr {
            "<f4" => Dtype::F32,
            "<f8" => Dtype::F64,
            "<i8" => Dtype::I64,
            "<i4" => Dtype::I32,
            "|u1" | "<u1" => Dtype::U8,
            "|b1" => Dtype::Bool,
            other => {
                return Err(format!(
                    "unsupported dtype '{other}' (logits: float32/float64; labels: int64/int32/uint8/bool, little-endian)"
                ))
            }
        };
        let fortran = match header_value(header, "fortran_order") {
            Some("True") => true,
            Some("False") => false,
            _ => return Err("the .npy header has no valid 'fortran_order'".into()),
        };
        let shape_txt = header_value(header, "shape").ok_or("the .npy header has no 'shape'")?;
        let shape: Vec<usize> = shape_txt
            .trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<usize>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("bad shape {shape_txt} in the .npy header"))?;
        Ok(NpyHeader {
            dtype,
            shape,
            fortran,
            data_offset: end,
        })
    }

    /// Number of elements (`None` on overflow).
    pub fn count(&self) -> Option<usize> {
        self.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
    }

    /// Bytes of data the shape needs (`None` on overflow).
    pub fn data_bytes(&self) -> Option<usize> {
        self.count()?.checked_mul(self.dtype.width())
    }
}

/// Little-endian elements of `dtype` widened to `f64` (integers convert exactly up to 2^53).
pub fn decode_f64(dtype: Dtype, bytes: &[u8]) -> Vec<f64> {
    let chunks = bytes.chunks_exact(dtype.width());
    match dtype {
        Dtype::F32 => chunks
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
        Dtype::F64 => chunks
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
        _ => decode_i64(dtype, bytes)
            .into_iter()
            .map(|v| v as f64)
            .collect(),
    }
}

/// Little-endian integer elements of `dtype` widened to `i64` (floats are truncated: callers
/// check [`Dtype::is_int`] first).
pub fn decode_i64(dtype: Dtype, bytes: &[u8]) -> Vec<i64> {
    let chunks = bytes.chunks_exact(dtype.width());
    match dtype {
        Dtype::I64 => chunks
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
        Dtype::I32 => chunks
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64)
            .collect(),
        Dtype::U8 | Dtype::Bool => chunks.map(|c| c[0] as i64).collect(),
        Dtype::F32 | Dtype::F64 => decode_f64(dtype, bytes)
            .into_iter()
            .map(|v| v as i64)
            .collect(),
    }
}

/// Parses the bytes of a `.npy` file. Errors are one-line messages.
pub fn parse(bytes: &[u8]) -> Result<NpyArray, String> {
    let h = NpyHeader::parse(bytes)?;
    let (dtype, shape, fortran, end) = (h.dtype, h.shape.clone(), h.fortran, h.data_offset);
    let width = dtype.width();
    let count = h.count().ok_or("the .npy shape is too large")?;
    let data = &bytes[end..];
    let need = count
        .checked_mul(width)
        .ok_or("the .npy shape is too large")?;
    if data.len() < need {
        return Err(format!(
            "truncated .npy data: shape {shape:?} of {dtype} needs {need} bytes, the file has {}",
            data.len()
        ));
    }
    let sh = if fortran {
        IxDyn(&shape).f()
    } else {
        IxDyn(&shape).into_shape_with_order()
    };
    let bad = |e: ndarray::ShapeError| format!("bad .npy shape: {e}");
    let raw = &data[..need];
    Ok(if dtype.is_int() {
        NpyArray::Int(
            dtype,
            ArrayD::from_shape_vec(sh, decode_i64(dtype, raw)).map_err(bad)?,
        )
    } else {
        NpyArray::Float(
            dtype,
            ArrayD::from_shape_vec(sh, decode_f64(dtype, raw)).map_err(bad)?,
        )
    })
}

/// Serialises a C-order array as `.npy` (version 1): used by tests and the benchmark.
pub fn write_f64(shape: &[usize], data: &[f64]) -> Vec<u8> {
    write_raw(
        "<f8",
        shape,
        data.iter().flat_map(|v| v.to_le_bytes()).collect(),
    )
}

/// Serialises `int64` labels as `.npy`.
pub fn write_i64(shape: &[usize], data: &[i64]) -> Vec<u8> {
    write_raw(
        "<i8",
        shape,
        data.iter().flat_map(|v| v.to_le_bytes()).collect(),
    )
}

/// Writes any descr with raw little-endian data.
pub fn write_raw(descr: &str, shape: &[usize], data: Vec<u8>) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let b = write_f64(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        match parse(&b).expect("parse") {
            NpyArray::Float(Dtype::F64, a) => {
                assert_eq!(a.shape(), &[2, 3]);
                assert_eq!(a[[1, 0]], 4.0);
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(b"hello world").is_err());
        let mut short = b.clone();
        short.truncate(b.len() - 1);
        assert!(parse(&short).unwrap_err().contains("truncated"));
        let be = write_raw(">f8", &[1], vec![0; 8]);
        assert!(parse(&be).unwrap_err().contains("unsupported dtype"));
    }
}
