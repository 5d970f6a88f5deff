//! The card holder's name, as the PIN page shows it: read from a certificate the agent already holds for
//! the card (no APDU, no PIN), so the person at the PC sees whose card is about to be used. Drivers whose
//! certificates name the holder call it from `CardDriver::holder_name`.

use der::Decode as _;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::service::{CardCertificate, KeyRole};

/// The holder's name from the end-entity certificate of the authentication key in `certificates`, written as
/// HPKI writes it: the subject CN in romaji and, in the subjectAltName's directoryName, the CN in kanji (HPKI
/// certificate policy). The kanji name is the one a Japanese physician recognises, so it comes first.
pub fn from_auth_certificate(certificates: &[CardCertificate]) -> Option<String> {
    let der = certificates.iter().find(|c| c.role == KeyRole::Auth)?.chain.first()?;
    from_certificate(der)
}

/// The holder's name in one HPKI certificate (DER), kanji first: [`from_auth_certificate`]'s reading, also used
/// for the signature certificate a document is signed with.
pub fn from_certificate(der: &[u8]) -> Option<String> {
    let cert = Certificate::from_der(der).ok()?;
    let tbs = cert.tbs_certificate();
    let kanji = tbs.get_extension::<SubjectAltName>().ok().flatten().and_then(|(_, san)| {
        san.0.into_iter().find_map(|g| match g {
            GeneralName::DirectoryName(n) => n.common_name().ok().flatten().map(|cn| cn.value().into_owned()),
            _ => None,
        })
    });
    let name = kanji.or_else(|| tbs.subject().common_name().ok().flatten().map(|cn| cn.value().into_owned()))?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::CardDriver as _;
    use crate::testkit::{hpki_identity, jpki_identity};

    fn auth_chain(identity: &hcpki_vcard::identity::Identity) -> Vec<CardCertificate> {
        let auth = identity.certificates().into_iter().find(|(n, _)| *n == "auth" || *n == "authentication");
        vec![CardCertificate { role: KeyRole::Auth, chain: auth.into_iter().map(|(_, der)| der.to_vec()).collect() }]
    }

    #[test]
    fn an_hpki_card_names_its_holder_in_kanji_and_a_my_number_card_names_no_one() {
        let (hpki, jpki) = (&crate::driver::hpki::JMA, &crate::driver::jpki::JPKI);
        assert_eq!(hpki.holder_name(&auth_chain(hpki_identity())).as_deref(), Some("試験\u{3000}太郎"));
        assert_eq!(from_auth_certificate(&auth_chain(hpki_identity())).as_deref(), Some("試験\u{3000}太郎"));
        assert_eq!(jpki.holder_name(&auth_chain(jpki_identity(0))), None);
        assert_eq!(hpki.holder_name(&[]), None);
    }
}
