//! ASN.1 types hcpki defines itself, RustCrypto style: one file per structure,
//! the ASN.1 definition quoted in the doc comment.

pub mod ber;
mod general_name;
pub mod ocsp;
pub mod pkcs12;
mod policy;
mod raw_oid;
mod signed;
pub mod signed_data;
mod tbs;

pub use general_name::{GeneralName, GeneralNames, OtherName};
pub use policy::{CertificatePolicies, PolicyInformation};
pub use raw_oid::RawOid;
pub use signed::SignedRaw;
pub use tbs::TbsCertificateFields;
