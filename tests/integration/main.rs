//! hcpki's one integration test binary.
//!
//! Each test runs the real `hcpki` binary (built by `cargo build -p server`) in its own temp
//! directory, on SQLite and on a fresh PostgreSQL database, and checks what it produces with real
//! peers: OpenSSL, pkilint, NSS vfychain, SoftHSM2 + OpenSC. See tests/README.md for how to run one
//! test and how fixtures are made.
//!
//! Test names read `MODULE::BACKEND::CASE`, e.g. `issue::postgres::router_p256`.

// Test code fails by panicking; the workspace's no-panic lints are for product code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

/// Generates `sqlite::CASE` and `postgres::CASE` tests from functions `CASE(Backend)` in the calling
/// module: one suite, two databases.
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $case() {
                $crate::timing::note();
                super::$case($crate::harness::Backend::Sqlite)
            })+
        }
        mod postgres {
            $(#[test]
            fn $case() {
                $crate::timing::note();
                super::$case($crate::harness::Backend::Postgres)
            })+
        }
    };
}

mod backchannel;
mod db;
mod fixtures;
mod harness;
mod init_template;
mod lb;
mod pcsc_lock;
mod peers;
mod test_pki;
mod timing;

mod accessibility;
mod acme;
mod admin;
mod agent;
mod agent_sign;
mod architecture;
mod atna;
mod audit;
mod backup;
mod bad_input;
mod bench;
mod bench_national;
mod break_glass;
mod browser;
mod browser_app;
mod cades;
mod card_login;
mod compliance;
mod consent;
mod consent_document;
mod console;
mod console_a11y;
mod console_browser;
mod console_card;
mod console_jobs;
mod console_oidc_clients;
mod console_users;
mod crl_shards;
mod delegation;
mod demo;
mod dpop;
mod est;
mod facility_import;
mod fault;
mod halt;
mod hierarchy;
mod hpki_repository;
mod ipsec;
mod issue;
mod iua;
mod login_speed;
mod mod_auth_openidc;
mod ocsp;
mod offline_root;
mod oidc;
mod oidc_clients;
mod oidc_node;
mod oidc_refusals;
mod opensc;
mod overload;
mod package;
mod pades;
mod passkey;
mod peer_wrappers;
mod pin_page;
mod pkcs11;
mod portal_card;
mod portal_lend;
mod portal_problems;
mod portal_self_service;
mod portal_sessions;
mod portal_tls;
mod presence;
mod presence_proof;
mod psk;
mod public_client;
mod ra_console;
mod ra_scope;
mod regional_network;
mod reissue;
mod review_addresses;
mod review_enroll;
mod review_facility_admin;
mod review_identity;
mod review_portal;
mod review_sound;
mod revocation;
mod rfc9700;
mod rollover;
mod router_held;
mod scep;
mod scim;
mod secrets;
mod serve;
mod signature_agreement;
mod signature_renew;
mod signature_verify;
mod signing_requests;
mod ssf;
mod sso_ids;
mod systemd;
mod token_exchange;
mod tsa;
mod upgrade;
mod vetting;
mod windows_agent;
mod xades;
