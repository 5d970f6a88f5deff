//! BER-TLV as cards store it (ISO/IEC 7816-4 §5.2, X.690 §8.1): tags of any length, definite lengths
//! in short or long form. Every function here is total: any byte slice gives a value or a typed error,
//! never a panic, so the parsers can be fuzzed directly (`hcpki_agent::tlv::parse_all`,
//! `hcpki_agent::tlv::encoded_len`).

/// One data object, borrowing its value from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag bytes as one big-endian number (e.g. `0x30`, `0xDF22`, `0x5F20`).
    pub tag: u32,
    /// The tag number without class and constructed bits (e.g. `0x22` for `DF 22`).
    pub number: u32,
    /// Bit 6 of the first tag byte: the value is itself a series of data objects.
    pub constructed: bool,
    pub value: &'a [u8],
}

/// Why bytes are not BER-TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlvError {
    /// The input ends inside a tag, a length or a value.
    #[error("data object truncated: {needed} more bytes needed")]
    Truncated { needed: usize },
    /// Indefinite length (0x80) or a long-form length of more than 4 bytes: not used on these cards.
    #[error("unsupported BER length form 0x{0:02X}")]
    UnsupportedLength(u8),
    /// A tag longer than 4 bytes.
    #[error("tag too long")]
    TagTooLong,
    /// Only padding or nothing where a data object was expected.
    #[error("no data object")]
    Empty,
}

/// Parses one data object at the start of `input`, returning it and the rest.
pub fn parse_one(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), TlvError> {
    let (header, rest) = parse_header(input)?;
    let value =
        rest.get(..header.len).ok_or_else(|| TlvError::Truncated { needed: header.len.saturating_sub(rest.len()) })?;
    let after = rest.get(header.len..).unwrap_or_default();
    Ok((Tlv { tag: header.tag, number: header.number, constructed: header.constructed, value }, after))
}

/// Parses a sequence of data objects. `00` bytes between objects and a tail of only `FF` bytes (unused
/// EF space, ISO 7816-4 §5.2.2.1) are skipped. A single leading `FF` is not padding: it can start a
/// private constructed tag such as `FF 20`.
pub fn parse_all(mut input: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut out = Vec::new();
    loop {
        input = skip_padding(input);
        if input.is_empty() {
            return Ok(out);
        }
        let (tlv, rest) = parse_one(input)?;
        out.push(tlv);
        input = rest;
    }
}

/// The total encoded size (header + value) of the data object starting `header`, from as few bytes as
/// its tag and length take. Used to know how much of an EF to read after fetching its first bytes
/// (a certificate `30 82 LL LL` needs 4).
pub fn encoded_len(header: &[u8]) -> Result<usize, TlvError> {
    let (h, rest) = parse_header(header)?;
    let header_len = header.len() - rest.len();
    header_len.checked_add(h.len).ok_or(TlvError::UnsupportedLength(0x84))
}

/// Finds, depth first, the first primitive object with tag number `number` (any class).
pub fn find_primitive(input: &[u8], number: u32) -> Result<Option<&[u8]>, TlvError> {
    find_in(input, number, 0)
}

/// Nesting deeper than this is treated as not found: it bounds the recursion on hostile input.
const MAX_DEPTH: usize = 8;

fn find_in(input: &[u8], number: u32, depth: usize) -> Result<Option<&[u8]>, TlvError> {
    for tlv in parse_all(input)? {
        if tlv.constructed {
            if depth < MAX_DEPTH
                && let Some(v) = find_in(tlv.value, number, depth + 1)?
            {
                return Ok(Some(v));
            }
        } else if tlv.number == number {
            return Ok(Some(tlv.value));
        }
    }
    Ok(None)
}

struct Header {
    tag: u32,
    number: u32,
    constructed: bool,
    len: usize,
}

fn parse_header(input: &[u8]) -> Result<(Header, &[u8]), TlvError> {
    let (&first, mut rest) = input.split_first().ok_or(TlvError::Empty)?;
    let constructed = first & 0x20 != 0;
    let mut tag = u32::from(first);
    let mut number = u32::from(first & 0x1F);
    if number == 0x1F {
        // High tag number form: base-128 digits, bit 8 set on all but the last.
        number = 0;
        let mut count = 0;
        loop {
            let (&b, r) = rest.split_first().ok_or(TlvError::Truncated { needed: 1 })?;
            rest = r;
            count += 1;
            if count > 3 {
                return Err(TlvError::TagTooLong);
            }
            tag = (tag << 8) | u32::from(b);
            number = (number << 7) | u32::from(b & 0x7F);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let (&l0, mut rest) = rest.split_first().ok_or(TlvError::Truncated { needed: 1 })?;
    let len = if l0 < 0x80 {
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7F);
        if n == 0 || n > 4 {
            return Err(TlvError::UnsupportedLength(l0));
        }
        let bytes = rest.get(..n).ok_or_else(|| TlvError::Truncated { needed: n.saturating_sub(rest.len()) })?;
        rest = rest.get(n..).unwrap_or_default();
        bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    Ok((Header { tag, number, constructed, len }, rest))
}

fn skip_padding(input: &[u8]) -> &[u8] {
    let start = input.iter().position(|&b| b != 0x00).unwrap_or(input.len());
    let rest = input.get(start..).unwrap_or_default();
    if rest.iter().all(|&b| b == 0xFF) { &[] } else { rest }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_long_and_multibyte_tags() {
        let data = [0x30, 0x03, 1, 2, 3, 0xDF, 0x22, 0x02, b'a', b'b', 0x5F, 0x20, 0x81, 0x01, 9];
        let all = parse_all(&data).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!((all[0].tag, all[0].number, all[0].constructed, all[0].value), (0x30, 0x10, true, &[1u8, 2, 3][..]));
        assert_eq!((all[1].tag, all[1].number, all[1].value), (0xDF22, 0x22, &b"ab"[..]));
        assert_eq!((all[2].tag, all[2].number, all[2].value), (0x5F20, 0x20, &[9u8][..]));
    }

    #[test]
    fn certificate_length_from_four_bytes() {
        // The 1414-byte HPKI certificate: 4 header bytes + 0x0582.
        assert_eq!(encoded_len(&[0x30, 0x82, 0x05, 0x82]), Ok(1414));
        assert_eq!(encoded_len(&[0x30, 0x81, 0x90, 0x00]), Ok(0x93));
        assert_eq!(encoded_len(&[0x30, 0x05]), Ok(7));
        assert_eq!(encoded_len(&[0x30, 0x82, 0x05]), Err(TlvError::Truncated { needed: 1 }));
        assert_eq!(encoded_len(&[0x30, 0x80]), Err(TlvError::UnsupportedLength(0x80)));
        assert_eq!(encoded_len(&[]), Err(TlvError::Empty));
        assert_eq!(encoded_len(&[0x30]), Err(TlvError::Truncated { needed: 1 }));
        assert_eq!(encoded_len(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), Err(TlvError::TagTooLong));
    }

    #[test]
    fn finds_nested_primitive_and_skips_padding() {
        let data = [0xFF, 0x20, 0x07, 0xDF, 0x21, 0x00, 0xDF, 0x22, 0x01, b'x', 0x00, 0xFF, 0xFF];
        let all = parse_all(&data).unwrap();
        assert_eq!((all.len(), all[0].tag, all[0].constructed), (1, 0xFF20, true));
        assert_eq!(find_primitive(&data, 0x22), Ok(Some(&b"x"[..])));
        assert_eq!(find_primitive(&data, 0x25), Ok(None));
    }

    #[test]
    fn total_on_hostile_input() {
        let mut seed = 0x1234_5678u32;
        for len in 0..2000 {
            let bytes: Vec<u8> = (0..len % 64)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            let _ = parse_all(&bytes);
            let _ = encoded_len(&bytes);
            let _ = find_primitive(&bytes, 0x22);
        }
        // Deep nesting terminates.
        let mut deep = vec![0x01];
        for _ in 0..100 {
            let mut outer = vec![0x30, 0x84];
            outer.extend_from_slice(&(deep.len() as u32).to_be_bytes());
            outer.extend_from_slice(&deep);
            deep = outer;
        }
        assert_eq!(find_primitive(&deep, 0x22).unwrap(), None);
        // A huge declared length is a truncation, not an allocation.
        assert_eq!(
            parse_one(&[0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]).map(|_| ()),
            Err(TlvError::Truncated { needed: 0xFFFF_FFFF })
        );
    }
}
