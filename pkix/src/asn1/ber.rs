//! BER as CMS lets it travel (X.690 §8; RFC 5652 §1.2: "CMS values are generated using ASN.1, using BER"): read
//! without losing the octets as they arrived.
//!
//! ```text
//! Element ::= identifier length contents [end-of-contents]
//!   length: definite (short or long form, any number of octets) or indefinite (0x80, constructed only),
//!           the contents then ending at the end-of-contents octets 00 00 (X.690 §8.1.3.6, §8.1.5)
//!   a string type may be constructed: its value is the concatenation of its segments (X.690 §8.7.3)
//! ```
//!
//! The `der` crate reads DER alone (SET OF sorted, lengths definite and minimal, strings primitive), which is what
//! a signature must be over (the signed attributes, RFC 5652 §5.4) but not what every signer writes elsewhere:
//! `openssl cms -sign -stream` writes indefinite lengths and a segmented content, `openssl ts -reply -chain` a
//! SET OF certificates in the order it was given. [`Element`] walks the encoding as it is, keeping each
//! element's octets (what a hash "as in the file" covers, ETSI EN 319 122-1 §5.5.3); [`Element::definite`]
//! rewrites an element with definite minimal lengths and joined OCTET STRINGs and nothing else changed (the
//! order of every SET OF kept), and [`decode`] hands that to `der` under its BER rules, which keep a SET OF in
//! the order given instead of sorting it.

use der::{DecodeOwned, EncodingRules, Reader, SliceReader};
use std::borrow::Cow;

/// How deep constructed elements may nest: CMS structures are about a dozen levels deep (a certificate's name
/// inside a SignerInfo inside a SignedData); far more is an attack on the stack, not a signature.
const MAX_DEPTH: usize = 48;
/// The identifier octet of a constructed OCTET STRING (universal 4, constructed bit set).
const OCTET_STRING_CONSTRUCTED: u8 = 0x24;
/// The identifier octet of a primitive OCTET STRING.
const OCTET_STRING: u8 = 0x04;

/// Why bytes are no BER this module reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BerError {
    /// The input ends inside an element.
    #[error("the encoding ends inside an element at octet {0} (truncated)")]
    Truncated(usize),
    /// A tag number above 30 (high-tag-number form): no CMS structure uses one.
    #[error("a tag in high-tag-number form at octet {0}: CMS uses none")]
    HighTag(usize),
    /// An indefinite length on a primitive element, a length of more than four octets, or the reserved 0xFF.
    #[error("a length at octet {0} that BER does not allow here")]
    Length(usize),
    /// End-of-contents where none may be (in a definite-length element, or at the top).
    #[error("an end-of-contents marker at octet {0} outside an indefinite-length element")]
    StrayEnd(usize),
    /// More nesting than [`MAX_DEPTH`].
    #[error("elements nested more than {MAX_DEPTH} deep")]
    TooDeep,
    /// Octets after the element.
    #[error("{0} octets follow the encoding")]
    Trailing(usize),
    /// A segment of a constructed OCTET STRING that is not an OCTET STRING.
    #[error("a constructed OCTET STRING holds a segment of another type")]
    Segment,
    /// The definite form does not decode as the structure expected.
    #[error("{0}")]
    Decode(String),
}

/// One element as it sits in its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element<'a> {
    /// The identifier octet (class, constructed bit, tag number up to 30).
    pub identifier: u8,
    /// Its whole encoding: identifier, length, contents and, when indefinite, the end-of-contents octets.
    pub encoding: &'a [u8],
    /// The contents octets (without end-of-contents).
    pub contents: &'a [u8],
    /// Whether the length was indefinite.
    pub indefinite: bool,
    /// Where `encoding` starts in the input the walk began with (for error positions).
    offset: usize,
    /// How deep it sits (the top element is 0).
    depth: usize,
}

impl<'a> Element<'a> {
    /// The one element that is the whole of `input`.
    pub fn whole(input: &'a [u8]) -> Result<Self, BerError> {
        let (element, rest) = Self::first(input)?;
        if !rest.is_empty() {
            return Err(BerError::Trailing(rest.len()));
        }
        Ok(element)
    }

    /// The first element of `input`, and what follows it.
    pub fn first(input: &'a [u8]) -> Result<(Self, &'a [u8]), BerError> {
        read(input, 0, 0)
    }

    /// Whether the constructed bit is set.
    pub fn constructed(&self) -> bool {
        self.identifier & 0x20 != 0
    }

    /// The elements inside a constructed element, in order.
    pub fn children(&self) -> Result<Vec<Element<'a>>, BerError> {
        let start = self.offset + (self.encoding.len() - self.contents.len() - if self.indefinite { 2 } else { 0 });
        let mut out = Vec::new();
        let mut rest = self.contents;
        while !rest.is_empty() {
            let at = start + (self.contents.len() - rest.len());
            let (child, after) = read(rest, at, self.depth + 1)?;
            out.push(child);
            rest = after;
        }
        Ok(out)
    }

    /// The same element with every length definite and in its fewest octets and every constructed OCTET STRING
    /// joined into one primitive OCTET STRING; everything else — the order of a SET OF included — as it was. An
    /// element already in that form (every DER element is) comes back as it is, not copied.
    pub fn definite(&self) -> Result<Cow<'a, [u8]>, BerError> {
        if self.in_definite_form()? {
            return Ok(Cow::Borrowed(self.encoding));
        }
        let mut out = Vec::with_capacity(self.encoding.len());
        self.write_definite(&mut out)?;
        Ok(Cow::Owned(out))
    }

    /// Whether [`Self::definite`] would write the element as it is.
    fn in_definite_form(&self) -> Result<bool, BerError> {
        if self.indefinite || self.identifier == OCTET_STRING_CONSTRUCTED {
            return Ok(false);
        }
        let header = header_len(self.contents.len());
        if header + self.contents.len() != self.encoding.len() {
            return Ok(false);
        }
        if !self.constructed() {
            return Ok(true);
        }
        let mut rest = self.contents;
        let mut at = self.offset + header;
        while !rest.is_empty() {
            let (child, after) = read(rest, at, self.depth + 1)?;
            if !child.in_definite_form()? {
                return Ok(false);
            }
            at += child.encoding.len();
            rest = after;
        }
        Ok(true)
    }

    fn write_definite(&self, out: &mut Vec<u8>) -> Result<(), BerError> {
        if self.identifier == OCTET_STRING_CONSTRUCTED {
            let mut joined = Vec::new();
            self.join_segments(&mut joined)?;
            write_header(out, OCTET_STRING, joined.len());
            out.extend_from_slice(&joined);
            return Ok(());
        }
        if !self.constructed() {
            write_header(out, self.identifier, self.contents.len());
            out.extend_from_slice(self.contents);
            return Ok(());
        }
        let mut inner = Vec::with_capacity(self.contents.len());
        for child in self.children()? {
            child.write_definite(&mut inner)?;
        }
        write_header(out, self.identifier, inner.len());
        out.extend_from_slice(&inner);
        Ok(())
    }

    /// The value of a (possibly nested) constructed OCTET STRING: its segments' contents, in order (X.690 §8.7.3).
    fn join_segments(&self, out: &mut Vec<u8>) -> Result<(), BerError> {
        for segment in self.children()? {
            match segment.identifier {
                OCTET_STRING => out.extend_from_slice(segment.contents),
                OCTET_STRING_CONSTRUCTED => segment.join_segments(out)?,
                _ => return Err(BerError::Segment),
            }
        }
        Ok(())
    }
}

/// Decode `T` from the BER `input` (one element, nothing after it): rewritten by [`Element::definite`], then read
/// by `der` under its BER rules (a SET OF in the order given, not sorted).
pub fn decode<T: DecodeOwned<Error = der::Error>>(input: &[u8]) -> Result<T, BerError> {
    let definite = Element::whole(input)?.definite()?;
    decode_definite(&definite)
}

/// Decode `T` from an encoding [`Element::definite`] wrote.
pub fn decode_definite<T: DecodeOwned<Error = der::Error>>(definite: &[u8]) -> Result<T, BerError> {
    let mut reader = SliceReader::new_with_encoding_rules(definite, EncodingRules::Ber)
        .map_err(|e| BerError::Decode(e.to_string()))?;
    let value = T::decode(&mut reader).map_err(|e| BerError::Decode(e.to_string()))?;
    reader.finish().map_err(|e| BerError::Decode(e.to_string()))?;
    Ok(value)
}

/// One element at the start of `input` (at `offset` in the whole, `depth` deep), and what follows it.
fn read(input: &[u8], offset: usize, depth: usize) -> Result<(Element<'_>, &[u8]), BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep);
    }
    let truncated = |at: usize| BerError::Truncated(offset + at);
    let &identifier = input.first().ok_or_else(|| truncated(0))?;
    if identifier & 0x1F == 0x1F {
        return Err(BerError::HighTag(offset));
    }
    if identifier == 0 {
        return Err(BerError::StrayEnd(offset));
    }
    let &first = input.get(1).ok_or_else(|| truncated(1))?;
    let constructed = identifier & 0x20 != 0;
    let (header, length) = match first {
        0x00..=0x7F => (2, Some(usize::from(first))),
        0x80 if constructed => (2, None),
        0x81..=0x84 => {
            let count = usize::from(first & 0x7F);
            let octets = input.get(2..2 + count).ok_or_else(|| truncated(2))?;
            (2 + count, Some(octets.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b))))
        }
        _ => return Err(BerError::Length(offset + 1)),
    };
    match length {
        Some(length) => {
            let end = header.checked_add(length).ok_or_else(|| truncated(header))?;
            let encoding = input.get(..end).ok_or_else(|| truncated(header))?;
            let contents = encoding.get(header..).ok_or_else(|| truncated(header))?;
            let element = Element { identifier, encoding, contents, indefinite: false, offset, depth };
            Ok((element, input.get(end..).unwrap_or_default()))
        }
        None => {
            // The contents are the elements up to the end-of-contents octets at this level.
            let mut at = header;
            loop {
                match input.get(at..at + 2) {
                    Some([0, 0]) => break,
                    Some(_) => {}
                    None => return Err(truncated(at)),
                }
                let rest = input.get(at..).ok_or_else(|| truncated(at))?;
                let (child, _) = read(rest, offset + at, depth + 1)?;
                at += child.encoding.len();
            }
            let encoding = input.get(..at + 2).ok_or_else(|| truncated(at))?;
            let contents = input.get(header..at).ok_or_else(|| truncated(at))?;
            let element = Element { identifier, encoding, contents, indefinite: true, offset, depth };
            Ok((element, input.get(at + 2..).unwrap_or_default()))
        }
    }
}

/// How many octets an identifier (tag number up to 30) and a definite length in its fewest octets take.
fn header_len(length: usize) -> usize {
    let significant = usize::try_from(usize::BITS - length.leading_zeros()).unwrap_or(0).div_ceil(8);
    if length < 0x80 { 2 } else { 2 + significant }
}

/// Identifier and definite length in its fewest octets (X.690 §10.1).
pub fn write_header(out: &mut Vec<u8>, identifier: u8, length: usize) {
    out.push(identifier);
    if length < 0x80 {
        // The guard keeps it under 0x80.
        out.push(length as u8);
        return;
    }
    let octets = length.to_be_bytes();
    let skip = octets.iter().take_while(|&&b| b == 0).count();
    let significant = octets.get(skip..).unwrap_or_default();
    // At most size_of::<usize>() octets: 0x80 | 8 at most.
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// One element in DER form from its identifier and contents.
pub fn tlv(identifier: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contents.len() + 6);
    write_header(&mut out, identifier, contents.len());
    out.extend_from_slice(contents);
    out
}

/// The encodings of a SET OF's elements in the order DER wants (X.690 §11.6: ascending, compared as octet
/// strings, the shorter padded with zero octets at its end). Elements that are DER make a DER SET OF.
pub fn der_set_order(elements: &mut [Vec<u8>]) {
    elements.sort_by(|a, b| {
        let len = a.len().max(b.len());
        let padded = |v: &Vec<u8>, i: usize| v.get(i).copied().unwrap_or(0);
        (0..len).map(|i| padded(a, i).cmp(&padded(b, i))).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_form_keeps_der_and_rewrites_indefinite_lengths() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0xAA];
        assert!(matches!(Element::whole(&der).unwrap().definite().unwrap(), Cow::Borrowed(d) if d == der));
        // SEQUENCE (indefinite) { INTEGER 1, OCTET STRING (constructed, indefinite) { AA, BB CC } }
        let ber = [0x30, 0x80, 0x02, 0x01, 0x01, 0x24, 0x80, 0x04, 0x01, 0xAA, 0x04, 0x02, 0xBB, 0xCC, 0, 0, 0, 0];
        let element = Element::whole(&ber).unwrap();
        assert!(element.indefinite);
        assert_eq!(element.encoding.len(), ber.len());
        assert_eq!(*element.definite().unwrap(), [0x30, 0x08, 0x02, 0x01, 0x01, 0x04, 0x03, 0xAA, 0xBB, 0xCC]);
        // A long form with more octets than needed.
        let long = [0x04, 0x82, 0x00, 0x01, 0xAA];
        assert_eq!(*Element::whole(&long).unwrap().definite().unwrap(), [0x04, 0x01, 0xAA]);
    }

    #[test]
    fn a_set_of_keeps_its_order_when_decoded() {
        // SET OF INTEGER { 2, 1 }: DER would sort it; BER keeps it.
        let set = [0x31, 0x06, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01];
        let decoded: der::asn1::SetOfVec<u8> = decode(&set).unwrap();
        assert_eq!(decoded.as_slice(), [2, 1]);
        let mut elements = vec![vec![0x02, 0x01, 0x02], vec![0x02, 0x01, 0x01]];
        der_set_order(&mut elements);
        assert_eq!(elements, [vec![0x02, 0x01, 0x01], vec![0x02, 0x01, 0x02]]);
    }

    #[test]
    fn broken_encodings_are_errors_not_panics() {
        let cases: [&[u8]; 9] = [
            &[],
            &[0x30],
            &[0x30, 0x05, 0x02],
            &[0x30, 0x80, 0x02, 0x01, 0x01],
            &[0x04, 0x80, 0x00, 0x00],
            &[0x1F, 0x01, 0x00],
            &[0x30, 0x85, 0, 0, 0, 0, 1],
            &[0x00, 0x00],
            &[0x24, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00],
        ];
        for case in cases {
            let result = Element::whole(case).and_then(|e| e.definite());
            assert!(result.is_err(), "{case:02x?}");
        }
        assert_eq!(Element::whole(&[0x05, 0x00, 0x00]), Err(BerError::Trailing(1)));
        let deep: Vec<u8> = std::iter::repeat_n([0x30, 0x80], 60).flatten().collect();
        assert!(Element::whole(&deep).is_err());
    }
}
