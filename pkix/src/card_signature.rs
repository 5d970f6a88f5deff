//! A card's signature value, in the one form everything above the card driver uses (D153), and its verification.
//!
//! An RSA card's answer is the PKCS#1 v1.5 signature as X.509 carries it. An ECDSA card answers `r ‖ s` — two
//! big-endian integers of the curve's size, 48 + 48 bytes on P-384 — as ISO 7816-8 PSO COMPUTE DIGITAL
//! SIGNATURE, PKCS#11 `CKM_ECDSA` and BSI TR-03111's "plain" format give it; X.509, CMS (RFC 5753) and the
//! agent's API carry the DER `ECDSA-Sig-Value`. The driver converts the card's answer once, with
//! [`from_card_answer`]; the verifiers read what they are posted with [`EcdsaSignature::from_der`], strictly
//! (RFC 5480 §2.2, X9.62):
//!
//! ```text
//! ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }   -- DER: minimal lengths, no leading zero octet
//!                                                         -- unless the next octet has its top bit set
//! 1 ≤ r, s ≤ n − 1                                        -- n the order of P-384's base point
//! ```
//!
//! A value outside that is refused with what is wrong, before any curve arithmetic.

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use hcpki_model::{CardKeyAlgorithm, CardKeyError};
use spki::SubjectPublicKeyInfoOwned;

/// The size of a P-384 scalar in bytes: r and s each, and half of a raw signature.
pub const P384_SCALAR_LEN: usize = 48;

/// The order n of the P-384 base point (FIPS 186-5 / SP 800-186 §3.2.1.4), big-endian.
const P384_ORDER: [u8; P384_SCALAR_LEN] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC7, 0x63, 0x4D, 0x81, 0xF4, 0x37, 0x2D, 0xDF, 0x58, 0x1A, 0x0D, 0xB2, 0x48, 0xB0,
    0xA7, 0x7A, 0xEC, 0xEC, 0x19, 0x6A, 0xCC, 0xC5, 0x29, 0x73,
];

/// Why a card's signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CardSignatureError {
    /// The certificate's key is not one a card signs with (another curve than P-384, say).
    #[error(transparent)]
    Key(#[from] CardKeyError),
    /// The ECDSA signature is not a well-formed value (bad DER, wrong length, r or s out of range).
    #[error("the card's ECDSA signature is malformed: {0}; update the card agent, and if it persists report the card")]
    Malformed(MalformedSignature),
    /// Well formed, but it does not verify with the certificate's key over the message.
    #[error("the signature does not verify with the card certificate's key")]
    BadSignature,
}

/// What is wrong with an ECDSA signature value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedSignature {
    /// A raw `r ‖ s` answer of another length than two scalars.
    #[error("the card answered {len} bytes, not the {expected} of r ‖ s")]
    RawLength { len: usize, expected: usize },
    /// Not a DER SEQUENCE of two INTEGERs (or bytes after it).
    #[error("not a DER ECDSA-Sig-Value ({0})")]
    Der(&'static str),
    /// An INTEGER not in minimal form, or negative.
    #[error("{0} is not a minimal positive DER INTEGER")]
    Integer(&'static str),
    /// r or s is zero.
    #[error("{0} is zero")]
    Zero(&'static str),
    /// r or s is not below the curve order n.
    #[error("{0} is not below the order of P-384")]
    OutOfRange(&'static str),
}

/// An ECDSA P-384 signature whose r and s are in 1..n−1, as fixed-size big-endian scalars.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcdsaSignature {
    r: [u8; P384_SCALAR_LEN],
    s: [u8; P384_SCALAR_LEN],
}

impl EcdsaSignature {
    /// Reads a card's raw answer `r ‖ s` (exactly 96 bytes).
    pub fn from_raw(raw: &[u8]) -> Result<Self, MalformedSignature> {
        let expected = 2 * P384_SCALAR_LEN;
        if raw.len() != expected {
            return Err(MalformedSignature::RawLength { len: raw.len(), expected });
        }
        let (r, s) = raw.split_at(P384_SCALAR_LEN);
        Self::from_scalars(scalar(r, "r")?, scalar(s, "s")?)
    }

    /// Reads a DER `ECDSA-Sig-Value`, strictly: one SEQUENCE with definite short or one/two-octet lengths, two
    /// minimal positive INTEGERs, nothing after it.
    pub fn from_der(der: &[u8]) -> Result<Self, MalformedSignature> {
        let (body, rest) = tlv(der, 0x30, "no SEQUENCE")?;
        if !rest.is_empty() {
            return Err(MalformedSignature::Der("bytes after the SEQUENCE"));
        }
        let (r, after_r) = tlv(body, 0x02, "r is not an INTEGER")?;
        let (s, after_s) = tlv(after_r, 0x02, "s is not an INTEGER")?;
        if !after_s.is_empty() {
            return Err(MalformedSignature::Der("more than two INTEGERs"));
        }
        Self::from_scalars(integer(r, "r")?, integer(s, "s")?)
    }

    /// The raw `r ‖ s` form (96 bytes).
    pub fn to_raw(&self) -> Vec<u8> {
        [self.r.as_slice(), self.s.as_slice()].concat()
    }

    /// The DER `ECDSA-Sig-Value`, as X.509 and CMS carry it.
    pub fn to_der(&self) -> Vec<u8> {
        let r = der_integer(&self.r);
        let s = der_integer(&self.s);
        let mut out = Vec::with_capacity(r.len() + s.len() + 3);
        out.push(0x30);
        push_len(&mut out, r.len() + s.len());
        out.extend_from_slice(&r);
        out.extend_from_slice(&s);
        out
    }

    fn from_scalars(r: [u8; P384_SCALAR_LEN], s: [u8; P384_SCALAR_LEN]) -> Result<Self, MalformedSignature> {
        in_range(&r, "r")?;
        in_range(&s, "s")?;
        Ok(Self { r, s })
    }
}

/// The card's answer in the form X.509 carries, for a key of `algorithm`: an RSA block as it is, an ECDSA `r ‖ s`
/// as its DER `ECDSA-Sig-Value` (the one place the conversion is made, D153).
pub fn from_card_answer(algorithm: CardKeyAlgorithm, answer: &[u8]) -> Result<Vec<u8>, MalformedSignature> {
    match algorithm {
        CardKeyAlgorithm::EcdsaP384Sha384 => Ok(EcdsaSignature::from_raw(answer)?.to_der()),
        _ => Ok(answer.to_vec()),
    }
}

/// Verifies a card's `signature` (the X.509 form) over `message` with the key in `spki`, the algorithm following
/// from the key ([`CardKeyAlgorithm::of_spki`]). An ECDSA value is read strictly first, so a malformed one is
/// told apart from a wrong one. Returns the algorithm (for the audit entry).
pub fn verify(
    spki: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<CardKeyAlgorithm, CardSignatureError> {
    let algorithm = CardKeyAlgorithm::of_spki(spki)?;
    let key = spki.subject_public_key.raw_bytes();
    let verified = match algorithm {
        CardKeyAlgorithm::EcdsaP384Sha384 => {
            EcdsaSignature::from_der(signature).map_err(CardSignatureError::Malformed)?;
            UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_ASN1, key).verify(message, signature)
        }
        _ => UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, key).verify(message, signature),
    };
    verified.map_err(|_| CardSignatureError::BadSignature)?;
    Ok(algorithm)
}

/// A raw scalar half as a fixed array.
fn scalar(bytes: &[u8], which: &'static str) -> Result<[u8; P384_SCALAR_LEN], MalformedSignature> {
    <[u8; P384_SCALAR_LEN]>::try_from(bytes).map_err(|_| MalformedSignature::Integer(which))
}

/// A DER INTEGER's content as a 48-byte scalar: minimal (no needless leading 00), positive, and fitting.
fn integer(content: &[u8], which: &'static str) -> Result<[u8; P384_SCALAR_LEN], MalformedSignature> {
    let bad = MalformedSignature::Integer(which);
    let (first, second) = (content.first().copied().ok_or(bad.clone())?, content.get(1).copied());
    if first & 0x80 != 0 {
        return Err(bad);
    }
    if first == 0 && second.is_some_and(|b| b & 0x80 == 0) {
        return Err(bad);
    }
    let magnitude = if first == 0 && content.len() > 1 { content.get(1..).unwrap_or_default() } else { content };
    if magnitude.len() > P384_SCALAR_LEN {
        return Err(MalformedSignature::OutOfRange(which));
    }
    let mut out = [0u8; P384_SCALAR_LEN];
    let start = P384_SCALAR_LEN - magnitude.len();
    out.get_mut(start..).ok_or(bad)?.copy_from_slice(magnitude);
    Ok(out)
}

/// 1 ≤ v ≤ n − 1.
fn in_range(v: &[u8; P384_SCALAR_LEN], which: &'static str) -> Result<(), MalformedSignature> {
    if v.iter().all(|b| *b == 0) {
        return Err(MalformedSignature::Zero(which));
    }
    // Big-endian arrays of one length compare as the numbers they are.
    if v.as_slice() >= P384_ORDER.as_slice() {
        return Err(MalformedSignature::OutOfRange(which));
    }
    Ok(())
}

/// One DER TLV of tag `tag` at the start of `input`: its content and what follows. Definite lengths in minimal
/// form only (short, or 81 xx with xx ≥ 0x80); an ECDSA-Sig-Value on P-384 is at most 104 bytes.
fn tlv<'a>(input: &'a [u8], tag: u8, wrong_tag: &'static str) -> Result<(&'a [u8], &'a [u8]), MalformedSignature> {
    let truncated = MalformedSignature::Der("truncated");
    let (&found, rest) = input.split_first().ok_or(truncated.clone())?;
    if found != tag {
        return Err(MalformedSignature::Der(wrong_tag));
    }
    let (&first, rest) = rest.split_first().ok_or(truncated.clone())?;
    let (len, rest) = match first {
        0..=0x7F => (usize::from(first), rest),
        0x81 => {
            let (&len, rest) = rest.split_first().ok_or(truncated.clone())?;
            if len < 0x80 {
                return Err(MalformedSignature::Der("a length not in its shortest form"));
            }
            (usize::from(len), rest)
        }
        _ => return Err(MalformedSignature::Der("a length too long for a P-384 signature")),
    };
    let content = rest.get(..len).ok_or(truncated)?;
    Ok((content, rest.get(len..).unwrap_or_default()))
}

/// A positive DER INTEGER (tag and length included) of a big-endian magnitude.
fn der_integer(magnitude: &[u8]) -> Vec<u8> {
    let start = magnitude.iter().position(|b| *b != 0).unwrap_or(magnitude.len());
    let significant = magnitude.get(start..).unwrap_or_default();
    let pad = significant.first().is_none_or(|b| b & 0x80 != 0);
    let mut out = Vec::with_capacity(significant.len() + 3);
    out.push(0x02);
    push_len(&mut out, significant.len() + usize::from(pad));
    if pad {
        out.push(0x00);
    }
    out.extend_from_slice(significant);
    out
}

/// A DER definite length, short or one octet after 81: two 49-byte INTEGERs make at most 102 bytes.
fn push_len(out: &mut Vec<u8>, len: usize) {
    let len = u8::try_from(len).unwrap_or(u8::MAX);
    if len >= 0x80 {
        out.push(0x81);
    }
    out.push(len);
}

#[cfg(test)]
mod tests;
