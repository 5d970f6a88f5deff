//! Who signs, as the page and the terminal show it before the signature PIN: the holder's name and hcRole from
//! the card's **signature** certificate (read without a PIN on an HPKI card). A My Number card's signature
//! certificate is readable only after its signing password, so for it nothing is shown in advance.

use der::Decode as _;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectDirectoryAttributes;

use crate::driver::holder;
use crate::service::{CardCertificate, KeyRole};
use crate::tlv;

/// hcRole (ISO/TS 17090-3 HCActorData), the attribute type in subjectDirectoryAttributes.
const HC_ROLE: &str = "1.0.17090.0.1";
/// Universal string tags a role text comes in (UTF8String, PrintableString, BMPString).
const STRING_TAGS: [u32; 3] = [0x0C, 0x13, 0x1E];
/// CodedData's codeDataFreeText, `[2] EXPLICIT DirectoryString`.
const FREE_TEXT: u32 = 0xA2;

/// The signer as shown: name and the certificate's hcRole text, when the certificate is at hand.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignerShown {
    pub name: Option<String>,
    pub hc_role: Option<String>,
}

impl SignerShown {
    /// From the card's certificates as listed (the signature key's end-entity certificate).
    pub fn from_certificates(certificates: &[CardCertificate]) -> Self {
        let Some(der) = certificates.iter().find(|c| c.role == KeyRole::Sign).and_then(|c| c.chain.first()) else {
            return SignerShown::default();
        };
        SignerShown { name: holder::from_certificate(der), hc_role: hc_role_text(der) }
    }
}

/// The hcRole free text(s) of a certificate, as written in it (e.g. "Medical Doctor"), joined when several; None
/// without the attribute. The page shows the certificate's own words; mapping them to a role is the server's.
pub fn hc_role_text(der: &[u8]) -> Option<String> {
    let cert = Certificate::from_der(der).ok()?;
    let (_, attributes) = cert.tbs_certificate().get_extension::<SubjectDirectoryAttributes>().ok()??;
    let mut texts = Vec::new();
    for attribute in attributes.0.iter().filter(|a| a.oid.to_string() == HC_ROLE) {
        for value in attribute.values.iter() {
            let encoded = der::Encode::to_der(value).ok()?;
            free_texts(&encoded, false, &mut texts);
        }
    }
    texts.dedup();
    (!texts.is_empty()).then(|| texts.join(", "))
}

/// Every string directly inside a `[2]` (codeDataFreeText) anywhere in `input`.
fn free_texts(input: &[u8], in_free_text: bool, out: &mut Vec<String>) {
    let Ok(objects) = tlv::parse_all(input) else { return };
    for object in objects {
        if in_free_text && STRING_TAGS.contains(&object.tag) {
            let text = match object.tag {
                0x1E => utf16be(object.value),
                _ => String::from_utf8(object.value.to_vec()).ok(),
            };
            out.extend(text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()));
        } else if object.constructed {
            free_texts(object.value, object.tag == FREE_TEXT, out);
        }
    }
}

fn utf16be(bytes: &[u8]) -> Option<String> {
    let units: Vec<u16> =
        bytes.chunks_exact(2).map(|c| <[u8; 2]>::try_from(c).map_or(0xFFFD, u16::from_be_bytes)).collect();
    String::from_utf16(&units).ok()
}
