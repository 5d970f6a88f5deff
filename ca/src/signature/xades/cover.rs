//! For the card agent (issue #27 item 2): before the card signs, check that the bytes it is asked to sign — the
//! canonical SignedInfo `prepare` gave — cover the very prescription the person was shown. The agent
//! recomputes the Reference digest from the CSV it displayed instead of trusting whoever prepared the request.

use super::c14n::exclusive;
use super::envelope::{DATA_ID, DS};
use super::error::XadesError;
use super::parsed::{is, reference_digest, signed_info_references};
use super::{envelope, xml};
use crate::timestamp::HashAlgorithm;

/// Refuse unless `to_be_signed` is a canonical ds:SignedInfo (exc-c14n, rsa-sha256) with exactly one Reference
/// to `#PrescriptionDocument`, whose exc-c14n/SHA-256 digest is that of the envelope element holding `csv`.
pub fn to_be_signed_covers(to_be_signed: &[u8], csv: &[u8]) -> Result<(), XadesError> {
    let document = xml::parse_bytes(to_be_signed)?;
    let signed_info = document.root_element();
    if !is(signed_info, Some(DS), "SignedInfo") {
        return Err(XadesError::structure("what the card is asked to sign is not a ds:SignedInfo"));
    }
    let references = signed_info_references(signed_info)?;
    let uri = format!("#{DATA_ID}");
    let mut to_data = references.iter().filter(|r| r.attribute("URI") == Some(&uri));
    let (Some(reference), None) = (to_data.next(), to_data.next()) else {
        return Err(XadesError::Reference { uri, problem: "is not in SignedInfo exactly once" });
    };
    if reference_digest(*reference)? != data_digest(csv)? {
        return Err(XadesError::DigestMismatch("prescription shown (what the card would sign covers another)"));
    }
    Ok(())
}

/// SHA-256 of the exc-c14n of `<PrescriptionDocument id="PrescriptionDocument">` holding `csv` in Base64: the
/// element uses no namespace, so its canonical form is the same alone as inside the envelope.
fn data_digest(csv: &[u8]) -> Result<Vec<u8>, XadesError> {
    let element = format!("<PrescriptionDocument id=\"{DATA_ID}\">{}</PrescriptionDocument>", envelope::base64(csv));
    let document = xml::parse(&element)?;
    Ok(HashAlgorithm::Sha256.digest(&exclusive(document.root_element())))
}
