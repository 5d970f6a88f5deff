//! hcpki document signatures: the formats hcpki produces and checks (CAdES, XAdES, PAdES), their validation,
//! RFC 3161 time stamps (tokens, the time-stamping authority's answer, the signers' client) and consent
//! documents — with no store, no HTTP and no signature key (decision D120). The certificate authority
//! (`hcpki-ca`), the server and the card agent build on it; it builds on `hcpki-pkix` alone.
#![forbid(unsafe_code)]

pub mod consent_document;
pub mod signature;
pub mod timestamp;
