//! B-T: a TSA's RFC 3161 token over the exclusive canonical form of ds:SignatureValue, in
//! `QualifyingProperties/UnsignedProperties/UnsignedSignatureProperties/SignatureTimeStamp` (XAdES §7.3).

use super::super::cades::check_time_stamp;
use super::c14n::exclusive;
use super::check::time_stamp_error;
use super::envelope::{self, DS, XADES};
use super::error::XadesError;
use super::parsed::Parts;
use super::xml;
use crate::timestamp::HashAlgorithm;

/// SHA-256 of the canonical ds:SignatureValue of the signed e-prescription `xml`: the messageImprint to ask a TSA
/// for (B-T). `openssl ts -verify -data` on that canonical form checks the token.
pub fn signature_time_stamp_digest(xml: &[u8]) -> Result<[u8; 32], XadesError> {
    let document = xml::parse_bytes(xml)?;
    let parts = Parts::of(&document)?;
    let digest = HashAlgorithm::Sha256.digest(&exclusive(parts.signature_value));
    digest.try_into().map_err(|_| XadesError::structure("SHA-256 gave a digest that is not 32 octets"))
}

/// The canonical ds:SignatureValue of `xml`: what a signature time stamp is over.
pub fn canonical_signature_value(xml: &[u8]) -> Result<Vec<u8>, XadesError> {
    let document = xml::parse_bytes(xml)?;
    Ok(exclusive(Parts::of(&document)?.signature_value))
}

/// The signed e-prescription `xml` with the time-stamp token `token_der` (the DER ContentInfo from a granted
/// `TimeStampResp`) added as a SignatureTimeStamp. The token is checked first as the verifier will check it
/// (imprint over this signature's canonical SignatureValue, TSA signature and binding, EKU timeStamping): a
/// token over something else is [`XadesError::TimeStampImprint`].
pub fn with_signature_time_stamp(xml: &[u8], token_der: &[u8]) -> Result<Vec<u8>, XadesError> {
    let document = xml::parse_bytes(xml)?;
    let parts = Parts::of(&document)?;
    check_time_stamp(token_der, &exclusive(parts.signature_value)).map_err(time_stamp_error)?;
    let text = document.input_text();
    let count = parts.unsigned_signature_properties.map_or(0, |p| p.children().filter(|c| c.is_element()).count());
    let id = format!("ts-id-{}-{count}", parts.signature.attribute("Id").unwrap_or("signature"));
    let stamp = envelope::signature_time_stamp(&id, token_der);
    // Inserted as text at the right byte, so every signed byte stays as it was. The fragment declares the
    // prefixes it uses, in case the document binds them otherwise.
    let (at, fragment) = match parts.unsigned_signature_properties {
        Some(properties) => {
            let end = properties.range().end;
            let closing = text.get(..end).and_then(|t| t.rfind("</")).unwrap_or(end);
            (
                closing,
                stamp.replacen(
                    "<xades:SignatureTimeStamp ",
                    &format!("<xades:SignatureTimeStamp xmlns:xades=\"{XADES}\" xmlns:ds=\"{DS}\" "),
                    1,
                ),
            )
        }
        None => (
            parts.signed_properties.range().end,
            envelope::unsigned_properties(&stamp).replacen(
                "<xades:UnsignedProperties>",
                &format!("<xades:UnsignedProperties xmlns:xades=\"{XADES}\" xmlns:ds=\"{DS}\">"),
                1,
            ),
        ),
    };
    let (before, after) =
        text.split_at_checked(at).ok_or_else(|| XadesError::structure("no place for the time stamp"))?;
    Ok(format!("{before}{fragment}{after}").into_bytes())
}
