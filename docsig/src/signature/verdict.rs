//! The verifier's front door for any signed file (issue #27 item 5): which format it is, and every signature in
//! it judged by [`crate::signature::validation`] through that format's evidence. `hcpki signature verify` and
//! `POST /api/v1/signatures/verify` both call [`judge`].
//!
//! The format is read from the file itself, never from its name: a PDF starts with `%PDF-` (PAdES, every
//! signature of the file judged), an XML document with `<` after any byte-order mark and blanks (an XAdES
//! e-prescription, which carries its document), anything else is a CAdES `.p7s`, whose document comes separately
//! (detached) or inside it (attached: `openssl cms -sign -nodetach` or `-stream`) — BER or DER, or PEM
//! (`-----BEGIN PKCS7-----` or `CMS`, what `openssl cms -sign` writes by default).

use super::validation::{Failure, FetchRequest, Indication, Report, SigningTrust, SubIndication};
use super::{cades, pades, xades};
// The one signature format (D121); the verifier reports it by its family (`Format::family`).
pub use hcpki_model::signature::Format;

/// The format of `signed`, from its first bytes: a PDF is PAdES, XML (after a byte-order mark and blanks) an XAdES
/// e-prescription, anything else CAdES.
pub fn detect(signed: &[u8]) -> Format {
    if signed.starts_with(b"%PDF-") {
        return Format::Pades;
    }
    let text = signed.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(signed);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => Format::XadesEprescription,
        _ => Format::Cades,
    }
}

/// Why a file cannot be judged at all (what was given does not fit its format).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerdictError {
    /// A detached signature without its document.
    #[error(
        "this is a detached CAdES signature: give the signed document with it (--data FILE, or \"data\" in the API)"
    )]
    DocumentMissing,
    /// A PEM file that is not a PKCS#7 / CMS signature, or broken PEM.
    #[error("the file is PEM but not a signature ({0}): give the .p7s (DER, or PEM labelled PKCS7 or CMS)")]
    Pem(String),
    /// A document given with a signature that carries its own.
    #[error(
        "a {} signature carries the document it signs: give the signed file alone (no --data, no \"data\" in the API)",
        .0.family()
    )]
    DocumentNotUsed(Format),
}

/// One signature's verdict.
#[derive(Clone, Debug)]
pub struct SignatureVerdict {
    /// The PDF signature field's name (PAdES); `None` for the other formats and for a PDF that cannot be read.
    pub field: Option<String>,
    /// The verifier's report.
    pub report: Report,
}

/// Every signature of a file, judged.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The file's format.
    pub format: Format,
    /// One verdict per signature, oldest first; never empty.
    pub signatures: Vec<SignatureVerdict>,
    /// A PDF's revisions and what each after the first signed one changed; the bytes after the last one.
    pub revisions: Option<pades::History>,
}

impl Verdict {
    /// The file's verdict: the worst of its signatures' (FAILED over INDETERMINATE over PASSED), the first of
    /// the worst: a file passes only when every signature in it does.
    pub fn overall(&self) -> SignatureVerdict {
        let rank = |v: &SignatureVerdict| match v.report.indication {
            Indication::Failed => 2,
            Indication::Indeterminate => 1,
            Indication::Passed => 0,
        };
        let worst = self.signatures.iter().map(rank).max();
        match self.signatures.iter().find(|v| Some(rank(v)) == worst) {
            Some(v) => v.clone(),
            // Never reached (every format gives one verdict at least), but a file without one cannot pass.
            None => SignatureVerdict {
                field: None,
                report: Report::stopped(
                    Failure::new(SubIndication::FormatFailure, "the file holds no signature"),
                    None,
                ),
            },
        }
    }
}

/// Judge `signed` (with `document` for a detached signature) against `trust` at `now` (Unix seconds), asking
/// `fetch` for revocation data the file does not embed.
pub fn judge(
    signed: &[u8],
    document: Option<&[u8]>,
    trust: &SigningTrust,
    now: i64,
    fetch: &dyn Fn(&FetchRequest<'_>) -> Result<Vec<u8>, String>,
) -> Result<Verdict, VerdictError> {
    let format = detect(signed);
    let one = |report| (vec![SignatureVerdict { field: None, report }], None);
    let (signatures, revisions) = match (format, document) {
        (Format::Cades, document) => {
            let p7s = unarmoured(signed)?;
            // An attached signature (`openssl cms -sign -nodetach`, `-stream`) carries its document; a document
            // given beside it must be that one.
            let read = cades::CadesSignature::from_ber(&p7s);
            let carried = read.as_ref().ok().and_then(|s| s.carried_document().ok().flatten());
            // A document given with an attached signature is judged against it (HASH_FAILURE when another); a file
            // that cannot be read is FAILED/FORMAT_FAILURE saying why, whatever document it lacks.
            let document = match (document, carried.as_deref()) {
                (Some(given), _) => given,
                (None, Some(carried)) => carried,
                (None, None) if read.is_err() => &[],
                (None, None) => return Err(VerdictError::DocumentMissing),
            };
            one(cades::validate(&p7s, document, trust, now, fetch))
        }
        (other, Some(_)) => return Err(VerdictError::DocumentNotUsed(other)),
        (Format::XadesEprescription, None) => one(xades::validate(signed, trust, now, fetch)),
        (Format::Pades, None) => {
            let validated = pades::validate(signed, trust, now, fetch);
            let signatures = validated.signatures.into_iter().map(|(field, report)| SignatureVerdict { field, report });
            (signatures.collect(), validated.history)
        }
    };
    Ok(Verdict { format, signatures, revisions })
}

/// A `.p7s` as DER: PEM armour (`PKCS7`, `CMS`) removed; anything else is taken as DER as it is (and judged
/// FORMAT_FAILURE if it is not).
fn unarmoured(signed: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, VerdictError> {
    if !signed.trim_ascii_start().starts_with(b"-----BEGIN") {
        return Ok(std::borrow::Cow::Borrowed(signed));
    }
    match der::pem::decode_vec(signed.trim_ascii()) {
        Ok(("PKCS7" | "CMS", der)) => Ok(std::borrow::Cow::Owned(der)),
        Ok((label, _)) => Err(VerdictError::Pem(format!("labelled {label:?}"))),
        Err(e) => Err(VerdictError::Pem(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_read_from_the_first_bytes() {
        assert_eq!(detect(b"%PDF-1.7\n"), Format::Pades);
        assert_eq!(detect(b"<?xml version=\"1.0\"?><Document/>"), Format::XadesEprescription);
        assert_eq!(detect(b"\xEF\xBB\xBF\r\n  <Document/>"), Format::XadesEprescription);
        assert_eq!(detect(&[0x30, 0x82, 0x01, 0x00]), Format::Cades);
        assert_eq!(detect(b""), Format::Cades);
        // A PDF is a PDF only from its first byte: text before it is not read as one.
        assert_eq!(detect(b" %PDF-1.7"), Format::Cades);
        assert_eq!(detect(b"-----BEGIN PKCS7-----\n"), Format::Cades);
    }

    #[test]
    fn a_pem_p7s_is_read_as_its_der_and_other_pem_is_refused() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x01];
        let pem = der::pem::encode_string("PKCS7", der::pem::LineEnding::LF, &der).unwrap();
        assert_eq!(unarmoured(pem.as_bytes()).unwrap().as_ref(), der);
        let cms = der::pem::encode_string("CMS", der::pem::LineEnding::CRLF, &der).unwrap();
        assert_eq!(unarmoured(cms.as_bytes()).unwrap().as_ref(), der);
        assert_eq!(unarmoured(&der).unwrap().as_ref(), der);
        let certificate = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der).unwrap();
        let trust = SigningTrust::new(&[], &[]).unwrap();
        let fetch = |_: &FetchRequest<'_>| Err::<Vec<u8>, String>("offline".into());
        let err = judge(certificate.as_bytes(), Some(b"x"), &trust, 0, &fetch).unwrap_err();
        assert!(err.to_string().contains("\"CERTIFICATE\""), "{err}");
        assert!(matches!(
            judge(b"-----BEGIN PKCS7-----\n!!", Some(b"x"), &trust, 0, &fetch),
            Err(VerdictError::Pem(_))
        ));
    }

    #[test]
    fn only_a_cades_signature_takes_a_document_beside_it() {
        let trust = SigningTrust::new(&[], &[]).unwrap();
        let fetch = |_: &FetchRequest<'_>| Err::<Vec<u8>, String>("offline".into());
        // What is no signature at all is judged (FORMAT_FAILURE, saying why) rather than asked for a document.
        let verdict = judge(&[0x30, 0x00], None, &trust, 0, &fetch).unwrap();
        assert_eq!(verdict.overall().report.verdict(), "FAILED/FORMAT_FAILURE");
        assert!(matches!(
            judge(b"<Document/>", Some(b"csv"), &trust, 0, &fetch),
            Err(VerdictError::DocumentNotUsed(Format::XadesEprescription))
        ));
        assert!(matches!(
            judge(b"%PDF-1.7\n", Some(b"x"), &trust, 0, &fetch),
            Err(VerdictError::DocumentNotUsed(Format::Pades))
        ));
    }

    #[test]
    fn what_cannot_be_read_is_a_format_failure_for_every_format() {
        let trust = SigningTrust::new(&[], &[]).unwrap();
        let fetch = |_: &FetchRequest<'_>| Err::<Vec<u8>, String>("offline".into());
        for (signed, document) in [
            (&b"%PDF-1.7\ntruncated"[..], None),
            (&b"<Document><Prescription/></Document>"[..], None),
            (&b"\x30\x03\x02\x01\x01"[..], Some(&b"data"[..])),
        ] {
            let verdict = judge(signed, document, &trust, 0, &fetch).unwrap();
            assert_eq!(verdict.signatures.len(), 1);
            assert_eq!(verdict.overall().report.verdict(), "FAILED/FORMAT_FAILURE", "{:?}", verdict.format);
        }
    }
}
