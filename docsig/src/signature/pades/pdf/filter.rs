//! Stream decoding for what signing reads: FlateDecode (with the PNG predictors cross-reference streams use,
//! ISO 32000-1 §7.4.4), bounded so a small "zip bomb" stream cannot take the memory.

use super::object::{Dictionary, Object};
use crate::signature::pades::PadesError;

/// Most bytes one stream may decode to: cross-reference and object streams of real documents are a few
/// hundred kilobytes at most.
pub const MAX_DECODED_STREAM: usize = 32 * 1024 * 1024;

/// The decoded data of a stream with dictionary `dict` and raw bytes `raw` (found at `offset`, for errors).
pub(super) fn decode(dict: &Dictionary, raw: &[u8], offset: usize) -> Result<Vec<u8>, PadesError> {
    let error = |problem: String| PadesError::Malformed { offset, problem };
    let filters: Vec<&[u8]> = match dict.get("Filter") {
        None => Vec::new(),
        Some(Object::Name(n)) => vec![n.as_slice()],
        Some(Object::Array(items)) => items
            .iter()
            .map(|i| i.as_name().ok_or_else(|| error("a /Filter entry is not a name".into())))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(error("/Filter is neither a name nor an array".into())),
    };
    let params = match dict.get("DecodeParms") {
        Some(Object::Dictionary(d)) => Some(d),
        Some(Object::Array(items)) => items.first().and_then(Object::as_dictionary),
        _ => None,
    };
    match filters.as_slice() {
        [] => Ok(raw.to_vec()),
        [b"FlateDecode"] => {
            let inflated = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(raw, MAX_DECODED_STREAM)
                .map_err(|e| error(format!("a FlateDecode stream does not inflate ({:?})", e.status)))?;
            match params {
                Some(p) => unpredict(inflated, p).map_err(error),
                None => Ok(inflated),
            }
        }
        other => Err(error(format!(
            "stream filter {} is not supported here (only FlateDecode)",
            other.iter().map(|f| String::from_utf8_lossy(f)).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Undo a PNG predictor (/Predictor 10–15: one filter-type byte per row, §7.4.4.4).
fn unpredict(data: Vec<u8>, params: &Dictionary) -> Result<Vec<u8>, String> {
    let predictor = params.get("Predictor").and_then(Object::as_integer).unwrap_or(1);
    if predictor == 1 {
        return Ok(data);
    }
    if !(10..=15).contains(&predictor) {
        return Err(format!("predictor {predictor} is not supported (only PNG predictors)"));
    }
    let field = |key: &str, default: i64| params.get(key).and_then(Object::as_integer).unwrap_or(default);
    let (colors, bits, columns) = (field("Colors", 1), field("BitsPerComponent", 8), field("Columns", 1));
    if !(1..=4).contains(&colors) || bits != 8 || !(1..=1 << 16).contains(&columns) {
        return Err("predictor parameters out of range (Colors 1-4, BitsPerComponent 8)".into());
    }
    let bpp = usize::try_from(colors).map_err(|e| e.to_string())?;
    let row = usize::try_from(columns * colors).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(data.len());
    let mut previous = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        let (kind, line) = chunk.split_first().ok_or("empty predictor row")?;
        if line.len() != row {
            return Err("a predictor row is shorter than /Columns".into());
        }
        let mut current = line.to_vec();
        for i in 0..row {
            let left = if i >= bpp { current.get(i - bpp).copied().unwrap_or(0) } else { 0 };
            let up = previous.get(i).copied().unwrap_or(0);
            let up_left = if i >= bpp { previous.get(i - bpp).copied().unwrap_or(0) } else { 0 };
            let add = match kind {
                0 => 0,
                1 => left,
                2 => up,
                3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                4 => paeth(left, up, up_left),
                _ => return Err(format!("PNG filter type {kind} does not exist")),
            };
            if let Some(byte) = current.get_mut(i) {
                *byte = byte.wrapping_add(add);
            }
        }
        out.extend_from_slice(&current);
        previous = current;
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = ((p - i16::from(a)).abs(), (p - i16::from(b)).abs(), (p - i16::from(c)).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}
