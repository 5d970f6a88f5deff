//! The HTTP side of `hcpki serve`: TLS policy, URL map and handlers (the state they share, the metrics and the
//! admin operations are `crate::app`'s).
//!
//! Nothing here signs or decides on certificates; handlers call into `hcpki_ca`: the store for health and
//! metrics, the enrollment protocol modules (through the interfaces they declare) for EST.

pub mod acme;
pub mod acme_validator;
pub mod admin;
pub mod ca_cert;
pub mod consents;
pub mod crl;
pub mod drain;
pub mod est;
pub mod health;
pub mod ocsp;
pub mod oidc;
pub mod portal_listener;
pub mod routes;
pub mod scep;
pub mod scep_ra;
pub mod scim;
pub mod signatures;
pub mod signing_requests;
pub mod ssf;
pub mod tls;
pub mod tsa;
pub mod tsa_client;
