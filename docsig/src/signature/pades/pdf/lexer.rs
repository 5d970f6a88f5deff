//! The PDF object syntax (ISO 32000-1 §7.2–§7.3): a strict reader over a byte slice that never panics and
//! bounds its nesting, so hostile input ends as an error naming the byte where it went wrong.

use super::object::{Dictionary, Object, ObjectId};
use crate::signature::pades::PadesError;

/// Deepest nesting of arrays and dictionaries read: real documents stay far below; a file of `[[[[…` would
/// otherwise exhaust the stack.
pub(super) const MAX_DEPTH: usize = 48;

/// A cursor over the file's bytes.
#[derive(Debug, Clone)]
pub(super) struct Lexer<'a> {
    bytes: &'a [u8],
    pub(super) pos: usize,
}

/// PDF white-space characters (§7.2.2, Table 1).
pub(super) fn is_whitespace(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

/// PDF delimiters (§7.2.2, Table 2).
fn is_delimiter(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

impl<'a> Lexer<'a> {
    /// A cursor at `pos`.
    pub(super) fn new(bytes: &'a [u8], pos: usize) -> Self {
        Self { bytes, pos }
    }

    /// An error at the cursor.
    pub(super) fn error(&self, problem: impl Into<String>) -> PadesError {
        PadesError::Malformed { offset: self.pos, problem: problem.into() }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos.checked_add(ahead)?).copied()
    }

    /// Skip white space and comments.
    pub(super) fn skip_whitespace(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// The run of regular characters at the cursor (a keyword or a number), consumed.
    fn word(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(is_regular) {
            self.pos += 1;
        }
        self.bytes.get(start..self.pos).unwrap_or_default()
    }

    /// Consume the keyword `keyword` (after white space), or fail naming it.
    pub(super) fn expect_keyword(&mut self, keyword: &str) -> Result<(), PadesError> {
        self.skip_whitespace();
        let at = self.pos;
        if self.word() == keyword.as_bytes() {
            return Ok(());
        }
        self.pos = at;
        Err(self.error(format!("expected `{keyword}`")))
    }

    /// Whether the keyword `keyword` comes next (after white space); consumed when it does.
    pub(super) fn take_keyword(&mut self, keyword: &str) -> bool {
        let at = self.pos;
        self.skip_whitespace();
        if self.word() == keyword.as_bytes() {
            return true;
        }
        self.pos = at;
        false
    }

    /// A non-negative integer (offsets, object numbers), after white space.
    pub(super) fn unsigned(&mut self) -> Result<u64, PadesError> {
        self.skip_whitespace();
        let at = self.pos;
        let word = self.word();
        if word.is_empty() || !word.iter().all(u8::is_ascii_digit) {
            self.pos = at;
            return Err(self.error("expected a non-negative integer"));
        }
        std::str::from_utf8(word).ok().and_then(|s| s.parse().ok()).ok_or_else(|| {
            self.pos = at;
            self.error("integer out of range")
        })
    }

    /// The object at the cursor.
    pub(super) fn object(&mut self, depth: usize) -> Result<Object, PadesError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("arrays and dictionaries nested deeper than {MAX_DEPTH}")));
        }
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("the file ends inside an object (truncated?)")),
            Some(b'/') => self.name().map(Object::Name),
            Some(b'(') => self.literal_string().map(Object::String),
            Some(b'<') if self.peek_at(1) == Some(b'<') => self.dictionary(depth).map(Object::Dictionary),
            Some(b'<') => self.hex_string().map(Object::String),
            Some(b'[') => self.array(depth).map(Object::Array),
            Some(b) if b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.') => self.number(),
            Some(b) if is_regular(b) => {
                let at = self.pos;
                match self.word() {
                    b"true" => Ok(Object::Boolean(true)),
                    b"false" => Ok(Object::Boolean(false)),
                    b"null" => Ok(Object::Null),
                    _ => {
                        self.pos = at;
                        Err(self.error("expected an object, found a keyword"))
                    }
                }
            }
            Some(_) => Err(self.error("expected an object, found a delimiter")),
        }
    }

    fn number(&mut self) -> Result<Object, PadesError> {
        let start = self.pos;
        let word = self.word();
        let text = std::str::from_utf8(word).map_err(|_| self.error("not a number"))?;
        let digits = text.trim_start_matches(['+', '-']);
        let valid = !digits.is_empty()
            && digits.bytes().filter(|&b| b == b'.').count() <= 1
            && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && digits != ".";
        if !valid {
            self.pos = start;
            return Err(self.error("not a number"));
        }
        if text.contains('.') {
            return Ok(Object::Real(text.to_owned()));
        }
        let value: i64 = text.parse().map_err(|_| {
            let e = self.error("integer out of range");
            self.pos = start;
            e
        })?;
        // `n g R`: two unsigned integers and the keyword R.
        if value >= 0 && !text.starts_with('+') {
            let after = self.pos;
            if let Some(reference) = self.reference_tail(value) {
                return Ok(Object::Reference(reference));
            }
            self.pos = after;
        }
        Ok(Object::Integer(value))
    }

    fn reference_tail(&mut self, number: i64) -> Option<ObjectId> {
        self.skip_whitespace();
        let generation = self.word();
        if generation.is_empty() || !generation.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let generation: u16 = std::str::from_utf8(generation).ok()?.parse().ok()?;
        self.skip_whitespace();
        if self.word() != b"R" {
            return None;
        }
        Some(ObjectId::new(u32::try_from(number).ok()?, generation))
    }

    fn name(&mut self) -> Result<Vec<u8>, PadesError> {
        self.pos += 1;
        let mut name = Vec::new();
        while let Some(b) = self.peek().filter(|&b| is_regular(b)) {
            if b == b'#' {
                let hex =
                    self.bytes.get(self.pos + 1..self.pos + 3).ok_or_else(|| self.error("truncated #xx in a name"))?;
                let value = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| self.error("bad #xx escape in a name"))?;
                name.push(value);
                self.pos += 3;
            } else {
                name.push(b);
                self.pos += 1;
            }
        }
        Ok(name)
    }

    fn literal_string(&mut self) -> Result<Vec<u8>, PadesError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut open = 1usize;
        loop {
            let Some(b) = self.peek() else {
                self.pos = start;
                return Err(self.error("a string that never ends (truncated?)"));
            };
            self.pos += 1;
            match b {
                b'(' => {
                    open += 1;
                    out.push(b);
                }
                b')' => {
                    open -= 1;
                    if open == 0 {
                        return Ok(out);
                    }
                    out.push(b);
                }
                b'\\' => self.escape(&mut out),
                b'\r' => {
                    // An end of line inside a string reads as a line feed (§7.3.4.2).
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(b),
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) {
        let Some(b) = self.peek() else { return };
        self.pos += 1;
        match b {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'0'..=b'7' => {
                let mut value = u32::from(b - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                out.push((value & 0xFF) as u8);
            }
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
            }
            b'\n' => {}
            other => out.push(other),
        }
    }

    fn hex_string(&mut self) -> Result<Vec<u8>, PadesError> {
        let start = self.pos;
        self.pos += 1;
        // Most hexadecimal strings (a signature's /Contents: 64 KiB of digits) are digits only, an even number of
        // them: decoded in one go; anything else (white space, an odd count, a bad byte) takes the loop below.
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        if let Some(end) = rest.iter().position(|&b| b == b'>')
            && let Some(decoded) = rest.get(..end).and_then(decode_hex)
        {
            self.pos += end + 1;
            return Ok(decoded);
        }
        let mut digits = Vec::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = start;
                    return Err(self.error("a hexadecimal string that never ends (truncated?)"));
                }
                Some(b'>') => {
                    self.pos += 1;
                    break;
                }
                Some(b) if is_whitespace(b) => self.pos += 1,
                Some(b) if b.is_ascii_hexdigit() => {
                    digits.push(b);
                    self.pos += 1;
                }
                Some(_) => return Err(self.error("a non-hexadecimal character in a hexadecimal string")),
            }
        }
        if digits.len() % 2 == 1 {
            digits.push(b'0');
        }
        decode_hex(&digits).ok_or_else(|| self.error("bad hexadecimal string"))
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Object>, PadesError> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                None => return Err(self.error("an array that never ends (truncated?)")),
                Some(_) => items.push(self.object(depth + 1)?),
            }
        }
    }

    fn dictionary(&mut self, depth: usize) -> Result<Dictionary, PadesError> {
        self.pos += 2;
        let mut dictionary = Dictionary::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'>') if self.peek_at(1) == Some(b'>') => {
                    self.pos += 2;
                    return Ok(dictionary);
                }
                Some(b'/') => {
                    let key = self.name()?;
                    let value = self.object(depth + 1)?;
                    dictionary.push(key, value);
                }
                None => return Err(self.error("a dictionary that never ends (truncated?)")),
                Some(_) => return Err(self.error("a dictionary key that is not a name")),
            }
        }
    }

    /// After the keyword `stream`: the end-of-line the data starts after (CRLF or LF, §7.3.8.1).
    pub(super) fn stream_start(&mut self) -> Result<usize, PadesError> {
        match (self.peek(), self.peek_at(1)) {
            (Some(b'\r'), Some(b'\n')) => self.pos += 2,
            (Some(b'\n'), _) => self.pos += 1,
            _ => return Err(self.error("`stream` is not followed by an end of line")),
        }
        Ok(self.pos)
    }
}

/// The bytes an even number of hexadecimal digits (either case) spell; `None` for anything else. Written out
/// rather than through an iterator collecting `Result`s: a signature's /Contents is tens of kilobytes, decoded each
/// time its dictionary is read.
pub(crate) fn decode_hex(digits: &[u8]) -> Option<Vec<u8>> {
    fn nibble(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() / 2);
    for pair in digits.chunks_exact(2) {
        let [high, low] = pair else { return None };
        out.push(nibble(*high)? << 4 | nibble(*low)?);
    }
    Some(out)
}
