//! The CSV's bytes as lines of fields, read one way only: UTF-8; records ended by LF throughout or by CRLF
//! throughout (the last one may lack its end; one MS-DOS EOF byte may close the file, JAHIS 表 3-3); no CR
//! elsewhere, no other control or invisible formatting character, no double quote, no empty line. Whatever a
//! lenient reader could split, join or reorder differently is refused here, so every reader that splits at CR,
//! LF or both sees exactly these records.

use super::error::{PrescriptionError, Problem};

/// The largest prescription CSV accepted: 256 KiB (a prescription is a few KiB).
pub const MAX_CSV_BYTES: usize = 256 * 1024;

/// How the file ends its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    /// LF: what the national e-prescription service requires (電子処方箋管理サービス 記録条件仕様, EPSB0052E).
    Lf,
    /// CRLF: the JAHIS 2D-symbol layout's record end (表 3-1).
    CrLf,
}

/// One line: its number (1-based) and text, without its end.
#[derive(Clone, Copy, Debug)]
pub(super) struct Line<'a> {
    pub number: usize,
    pub text: &'a str,
}

impl<'a> Line<'a> {
    /// The comma-separated fields (JAHIS: a half-width comma never appears inside a field).
    pub fn fields(&self) -> Vec<&'a str> {
        self.text.split(',').collect()
    }
}

/// The lines of `csv` and how they end (`None` for a file of one line without an end).
pub(super) fn split(csv: &[u8]) -> Result<(Vec<Line<'_>>, Option<LineEnding>), PrescriptionError> {
    if csv.len() > MAX_CSV_BYTES {
        return Err(PrescriptionError::file(Problem::TooLarge { size: csv.len(), limit: MAX_CSV_BYTES }));
    }
    let text = std::str::from_utf8(csv).map_err(|e| {
        let line = csv.get(..e.valid_up_to()).unwrap_or_default().iter().filter(|b| **b == b'\n').count() + 1;
        PrescriptionError::line(line, Problem::NotUtf8)
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.strip_suffix('\u{1a}').unwrap_or(text);
    let mut lines = Vec::new();
    let mut ending = None;
    let mut rest = text;
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        let (line, this_end, next) = match rest.find(['\r', '\n']) {
            None => (rest, None, ""),
            Some(at) => {
                let (line, tail) = rest.split_at(at);
                if let Some(after) = tail.strip_prefix("\r\n") {
                    (line, Some(LineEnding::CrLf), after)
                } else if let Some(after) = tail.strip_prefix('\n') {
                    (line, Some(LineEnding::Lf), after)
                } else {
                    return Err(PrescriptionError::line(number, Problem::LoneCr));
                }
            }
        };
        match (ending, this_end) {
            (None, found) => ending = found,
            (Some(first), Some(found)) if found != first => {
                return Err(PrescriptionError::line(number, Problem::MixedLineEndings));
            }
            _ => {}
        }
        check_characters(number, line)?;
        lines.push(Line { number, text: line });
        rest = next;
    }
    if lines.is_empty() {
        return Err(PrescriptionError::file(Problem::Empty));
    }
    Ok((lines, ending))
}

/// Refuse an empty line, a double quote, and any character that can end a line for some reader or hide, join or
/// reorder what is shown: C0 and C1 controls (tab, NUL, NEL, …), DEL, the Unicode line and paragraph separators,
/// the bidirectional marks and overrides, and a byte-order mark inside the text.
fn check_characters(number: usize, line: &str) -> Result<(), PrescriptionError> {
    if line.is_empty() {
        return Err(PrescriptionError::line(number, Problem::EmptyLine));
    }
    for c in line.chars() {
        if c == '"' {
            return Err(PrescriptionError::line(number, Problem::Quote));
        }
        let invisible = matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        );
        if c.is_control() || invisible {
            return Err(PrescriptionError::line(number, Problem::ControlCharacter { code: u32::from(c) }));
        }
    }
    Ok(())
}
