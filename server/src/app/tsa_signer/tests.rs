//! The TSA certificate renewed while serving: by the hourly check, at the injected clock, and after a revocation.

use super::*;
use hcpki_ca::authority::{InitOptions, KeyPlacement};
use hcpki_ca::profile::ProfileSettings;
use hcpki_ca::revocation::Reason;
use hcpki_ca::serial::SerialHex;
use hcpki_ca::store::Actor;
use hcpki_pkix::time::{Clock as _, FixedClock};
use std::collections::BTreeMap;

/// 2030-01-01T00:00:00Z: far from today, so a stray read of the system clock would show.
const AT: i64 = 1_893_456_000;

async fn authority_at(dir: &Path, clock: Arc<FixedClock>) -> (Authority, KeyContext) {
    let pass = dir.join("pass");
    std::fs::write(&pass, "test passphrase").unwrap();
    let keys = KeyContext { base_dir: dir.to_owned(), passphrase_file: Some(pass), pkcs11: None };
    let store = hcpki_ca::store::open(&format!("sqlite:{}", dir.join("t.db").display())).await.unwrap();
    let options = InitOptions { placement: KeyPlacement::Software, algorithms: BTreeMap::new() };
    let authority = Authority::init_with_clock(
        store,
        keys.clone(),
        ProfileSettings::default(),
        &options,
        &Actor::cli("test"),
        clock,
    )
    .await
    .unwrap();
    (authority, keys)
}

fn config() -> TsaConfig {
    TsaConfig { policy: "1.3.6.1.4.1.99999.3161.1".into(), accuracy_secs: 1, key: None }
}

/// Whether the token the served authority grants now carries `certificate` (the query sets certReq): the
/// certificate it signs with.
fn signs_with(served: &ServedTsa, certificate: &[u8], now: i64) -> bool {
    let query = hcpki_docsig::timestamp::client::Query::sha256(&[7; 32], None).unwrap();
    let answer = served.current().answer(query.der(), now);
    assert!(answer.outcome.is_ok(), "{:?}", answer.outcome);
    answer.der.windows(certificate.len()).any(|w| w == certificate)
}

fn certificate_on_disk(dir: &Path) -> Vec<u8> {
    let pem = std::fs::read_to_string(dir.join(CERT_FILE)).unwrap();
    der::pem::decode_vec(pem.as_bytes()).unwrap().1
}

#[tokio::test]
async fn the_tsa_certificate_is_renewed_while_serving_when_due_or_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::at(AT));
    let (authority, ctx) = authority_at(dir.path(), clock.clone()).await;
    let served = start(&authority, dir.path(), &ctx, &config()).await.unwrap();
    let first = served.serial();
    let first_authority = served.current();
    assert!(signs_with(&served, &certificate_on_disk(dir.path()), AT));

    // A day later, nothing is due: the same certificate and the same authority object serve on.
    clock.advance(86_400);
    assert!(!renew_if_due(&served, &authority, dir.path(), &ctx, &config()).await.unwrap());
    assert_eq!(served.serial(), first);
    assert!(Arc::ptr_eq(&first_authority, &served.current()));

    // 29 days before its end (1,096 days by default) it is due: a new certificate, for the same key, serves.
    let days = i64::from(ProfileSettings::default().tsa_days);
    clock.set(AT + (days - 29) * 86_400);
    assert!(renew_if_due(&served, &authority, dir.path(), &ctx, &config()).await.unwrap());
    let second = served.serial();
    assert_ne!(second, first, "a renewed certificate");
    assert!(!Arc::ptr_eq(&first_authority, &served.current()));
    let renewed = certificate_on_disk(dir.path());
    let cert = <x509_cert::Certificate as der::Decode>::from_der(&renewed).unwrap();
    assert_eq!(hcpki_ca::serial::to_hex(cert.tbs_certificate().serial_number()), second, "tsa/tsa.pem is the new one");
    assert!(signs_with(&served, &renewed, clock.now_unix()), "the next token is signed under the new certificate");

    // A revoked TSA certificate is replaced at the next check, not at the next restart.
    let serial = SerialHex::parse_input(&second).unwrap();
    authority
        .revoker()
        .revoke(&serial, Reason(x509_cert::ext::pkix::CrlReason::KeyCompromise), &Actor::cli("test"))
        .await
        .unwrap();
    assert!(renew_if_due(&served, &authority, dir.path(), &ctx, &config()).await.unwrap());
    assert_ne!(served.serial(), second);
    assert!(signs_with(&served, &certificate_on_disk(dir.path()), clock.now_unix()));
}
