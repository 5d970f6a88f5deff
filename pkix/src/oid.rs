//! Object identifiers used by hcpki.
//!
//! Project OIDs live under the registration-free UUID arc (ITU-T X.667):
//! `2.25.296845971460444788217480318847902238939`
//! (UUID df52745c-1eb5-4a85-a36d-de63886748db). Their meaning is documented in
//! `docs/profiles.md`. RustCrypto's `const-oid` stores arcs as `u32`, which a
//! 128-bit UUID arc does not fit, so project OIDs are [`RawOid`]s.

use crate::asn1::RawOid;
use const_oid::ObjectIdentifier;

/// The project arc, `2.25.<uuid>`, as a dotted string.
pub const PROJECT_ARC: &str = "2.25.296845971460444788217480318847902238939";

/// Largest arc hcpki puts into a certificate: RFC 5280 only obliges relying
/// parties to handle arcs below 2^28, and many (wolfSSL, pyca/cryptography ≥ 38,
/// RustCrypto, pkilint's decoder, Botan) reject longer ones. So the project's
/// own `2.25.<uuid>` OIDs below identify documents and policies, and never
/// appear as OBJECT IDENTIFIERs inside certificates (docs/profiles.md#project-oids).
pub const MAX_CERTIFICATE_ARC: u128 = (1 << 28) - 1;

/// Certificate policy (CP/CPS) of router certificates.
pub fn policy_router() -> RawOid {
    RawOid::project(&[2, 1])
}

/// Certificate policy (CP/CPS) of facility PC certificates.
pub fn policy_pc() -> RawOid {
    RawOid::project(&[2, 2])
}

/// Certificate policy (CP/CPS) of hcpki's server certificates.
pub fn policy_server() -> RawOid {
    RawOid::project(&[2, 3])
}

/// Certificate policy (CP/CPS) of delegated OCSP signers.
pub fn policy_ocsp() -> RawOid {
    RawOid::project(&[2, 4])
}

/// id-kp-ipsecIKE (RFC 4945 §5.1.3.12).
pub const KP_IPSEC_IKE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.17");
/// ikeIntermediate (draft-ietf-ipsec-pki-req; emitted by strongSwan `pki --flag ikeIntermediate`).
pub const KP_IKE_INTERMEDIATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.8.2.2");
/// id-kp-serverAuth.
pub const KP_SERVER_AUTH: ObjectIdentifier = const_oid::db::rfc5280::ID_KP_SERVER_AUTH;
/// id-kp-clientAuth.
pub const KP_CLIENT_AUTH: ObjectIdentifier = const_oid::db::rfc5280::ID_KP_CLIENT_AUTH;
/// id-kp-timeStamping (RFC 3161 §2.3).
pub const KP_TIME_STAMPING: ObjectIdentifier = const_oid::db::rfc5280::ID_KP_TIME_STAMPING;
/// id-kp-OCSPSigning.
pub const KP_OCSP_SIGNING: ObjectIdentifier = const_oid::db::rfc5280::ID_KP_OCSP_SIGNING;
/// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
pub const PKIX_OCSP_NOCHECK: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");
/// id-ad-ocsp (RFC 5280 §4.2.2.1).
pub const AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
/// id-ad-caIssuers (RFC 5280 §4.2.2.1).
pub const AD_CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");
