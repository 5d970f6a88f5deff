//! hcpki's X.509 floor: what the certificate authority (`hcpki-ca`) and the document signatures
//! (`hcpki-docsig`) both need and that knows nothing of authorities, enrollment or the store — the ASN.1
//! structures, OIDs, the one [`keys::KeySource`] every private key sits behind (software and PKCS#11) and the
//! signature verification, certification paths, X.509 time, and the readers of the HPKI hcRole and of JPKI
//! certificates (decision D120).
#![forbid(unsafe_code)]

pub mod asn1;
pub mod card_signature;
pub mod hc_role;
pub mod jpki;
pub mod keys;
pub mod oid;
pub mod path;
pub mod seal;
pub mod time;
