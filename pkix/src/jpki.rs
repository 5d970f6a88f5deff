//! The My Number card's JPKI (公的個人認証) certificates as a relying party reads them: which of the card's two
//! certificates a certificate is, and the basic four items (基本4情報) the 署名用 (signing) certificate carries.
//! No HTTP and no card I/O: the bytes come from whoever read the card (the card agent, OpenSC in the tests).
//!
//! * [`certificate_kind`] / [`is_jpki_signing_certificate`]: by the certificate policy, 1.2.392.200149.8.5.1.1
//!   (署名用) or 1.2.392.200149.8.5.1.3 (利用者証明用). The 利用者証明用 certificate names nobody (`C=JP, CN=<opaque
//!   id>`) and carries no four items.
//! * [`BasicFour::from_certificate`]: the subjectAltName otherNames under 1.2.392.200149.8.5.5 — `.1` name, `.2`
//!   where the name uses substitute characters, `.3` sex, `.4` date of birth, `.5` address, `.6` where the
//!   address uses substitute characters — as typed values ([`Sex`], [`BirthDate`], [`SubstitutePositions`]).
//!
//! A card releases the 署名用 certificate only after the patient's signing password (6–16 letters and digits,
//! 5 tries): reading these four items is always a step the patient takes.
//!
//! **The individual number (個人番号, My Number) is not here and never will be.** Neither JPKI certificate
//! carries it; on the card it sits only in the 券面事項入力補助 AP's EF 0001 and the 券面 AP, which hcpki never
//! selects (card agent test `the_individual_number_is_never_selected`). Nothing in this module reads, parses
//! or stores it.
//!
//! What is confirmed and what is not (docs/consent.md, "Identity from the card"): the item OIDs agree across
//! several independent readers and an `openssl` dump of a real card's certificate; the codings of sex
//! (1 男, 2 女, 3 不明) and of the date of birth (an era digit, 0 不明, 1 明治, 2 大正, 3 昭和, 4 平成, 5 令和,
//! then the **Gregorian** YYYYMMDD) and the meaning of `.2`/`.6` (one `0`/`1` per character, `1` = a
//! substitute character) come from secondary sources quoting J-LIS's profile, not from J-LIS's document
//! itself nor from a card hcpki has read. The policy OIDs come from jsrsasign's JPKI table.

mod basic_four;
mod birth_date;
mod substitute;

pub use basic_four::{BasicFour, BasicFourError, Item, Sex};
pub use birth_date::{BirthDate, BirthDateError, Era};
pub use substitute::SubstitutePositions;

use der::asn1::ObjectIdentifier;
use x509_cert::Certificate;
use x509_cert::ext::pkix::CertificatePolicies;

/// Policy arc of 署名用 (digital signature) certificates; real ones are said to carry `.20` below it.
pub const SIGNING_POLICY_ARC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.1.1");
/// Policy arc of 利用者証明用 (user authentication) certificates; real ones are said to carry `.30` below it.
pub const AUTHENTICATION_POLICY_ARC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.1.3");

/// Which of a My Number card's two certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateKind {
    /// 署名用電子証明書: carries the basic four items; readable only after the signing password.
    Signing,
    /// 利用者証明用電子証明書: names nobody; readable without a PIN.
    UserAuthentication,
}

/// Which JPKI certificate `cert` is, by its certificate policies: `None` when it has policies under neither arc
/// or under both (no JPKI CA issues such a certificate). Says nothing of who issued it: the chain is checked
/// elsewhere, against configured JPKI anchors.
pub fn certificate_kind(cert: &Certificate) -> Result<Option<CertificateKind>, der::Error> {
    let Some((_, policies)) = cert.tbs_certificate().get_extension::<CertificatePolicies>()? else {
        return Ok(None);
    };
    let under = |arc: ObjectIdentifier| policies.0.iter().any(|p| p.policy_identifier.starts_with(arc));
    Ok(match (under(SIGNING_POLICY_ARC), under(AUTHENTICATION_POLICY_ARC)) {
        (true, false) => Some(CertificateKind::Signing),
        (false, true) => Some(CertificateKind::UserAuthentication),
        _ => None,
    })
}

/// Whether `cert` is a JPKI 署名用 certificate (a policy under [`SIGNING_POLICY_ARC`] and none under
/// [`AUTHENTICATION_POLICY_ARC`]); an undecodable policy extension is no.
pub fn is_jpki_signing_certificate(cert: &Certificate) -> bool {
    matches!(certificate_kind(cert), Ok(Some(CertificateKind::Signing)))
}

#[cfg(test)]
mod tests;
