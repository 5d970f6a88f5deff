//! hcpki's single sign-on core, without HTTP (issue #43 item 1, D122): card login ([`login`]) and the relying
//! services' policy ([`policy`]). The server adapts HTTP, pages, configuration and the command line to it; this
//! crate's dependency tree holds no axum, hyper, tower or maud (tests/integration/architecture.rs checks it with
//! `cargo tree`), as kanidm keeps its identity logic in a crate that cannot import HTTP. What must reach the
//! network goes through a trait of [`outbound`], which the server implements.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod consent;
pub mod delegation;
pub mod desk;
pub mod dpop_nonce;
pub mod enrolment;
pub mod facility;
pub mod lending;
pub mod login;
pub mod oidc;
pub mod outbound;
pub mod passkey;
pub mod patient_key;
pub mod policy;
pub mod presence;
pub mod problem;
pub mod refusals;
pub mod scim;
pub mod secret;
pub mod session;
pub mod signing_requests;
pub mod ssf;
pub mod throttle;
pub mod token_endpoint;
pub mod token_exchange;
pub mod totp;
pub mod uri;
