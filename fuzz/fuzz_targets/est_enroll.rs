//! EST's request handling beyond the CSR parser, `hcpki_ca::enroll::est::{simpleenroll, simplereenroll}`: the
//! HTTP Basic `Authorization` header (credential ID and secret), the base64 body with line breaks, the label's
//! profile, the TLS client certificate's presence, and the order of the checks — a malformed request must be
//! refused, and audited, before a credential is redeemed (redeeming uses it up).
//!
//! The CA side is a stand-in `EstAuthority` that records every call and grants whatever it is asked (a
//! facility, the profile asked for; the fixture certificate as what it issues). serverkeygen is left out: its
//! own part is key generation, which takes seconds for RSA-4096, not parsing.
//!
//! The first input byte chooses the request: bit 0 simplereenroll (else simpleenroll), bits 1–2 the label
//! (none, `router`, `pc`), bit 3 a TLS client certificate, bit 4 an `Authorization` header. The rest is the
//! header's value up to the first LF, then the body (with bit 4 clear, all of it is the body).
//! `seeds/make-request-seeds` writes the seeds (base64 of `csr_parse`'s CSRs).
//!
//! Must hold: no panic; a credential is redeemed only by simpleenroll, only from a Basic header whose base64
//! re-encodes the ID and secret given (the ID without a colon), and only when the body is a CSR the parser
//! accepts; re-enrollment asks for the certificate's holder and nothing else; a refusal before issuing is
//! audited exactly once, and nothing is issued twice; an answer is a base64 certs-only PKCS#7.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hcpki_ca::FacilityId;
use hcpki_ca::csr::Csr;
use hcpki_ca::enroll::est::{self, EstAuthority, EstRequest, PKCS7_CERTS_ONLY};
use hcpki_ca::enroll::{Basis, EnrollAuthority, EnrollError, Grant, Holder, Protocol};
use hcpki_ca::profile::{KeyClass, ProfileKind};
use libfuzzer_sys::fuzz_target;
use std::sync::{Mutex, OnceLock};

/// What the stand-in "issues": any certificate will do for the PKCS#7 answer.
const ISSUED: &[u8] = include_bytes!("../fixtures/crl-issuer.der");

/// A CA side that grants everything and remembers what it was asked.
#[derive(Debug, Default)]
struct StandIn {
    redeemed: Mutex<Vec<(String, String)>>,
    holders: Mutex<usize>,
    issued: Mutex<usize>,
    refused: Mutex<usize>,
}

fn facility() -> FacilityId {
    FacilityId::from_number(17).expect("a valid facility number")
}

#[async_trait::async_trait]
impl EnrollAuthority for StandIn {
    fn chain(&self, _: ProfileKind) -> Result<Vec<Vec<u8>>, EnrollError> {
        Ok(vec![ISSUED.to_vec()])
    }

    async fn redeem(
        &self,
        _: Protocol,
        id: &str,
        secret: &str,
        profile: Option<ProfileKind>,
    ) -> Result<Grant, EnrollError> {
        self.redeemed.lock().expect("not poisoned").push((id.to_owned(), secret.to_owned()));
        let profile = profile.unwrap_or(ProfileKind::Router);
        Ok(Grant { facility: facility(), profile, basis: Basis::Credential(id.to_owned()) })
    }

    async fn holder(&self, _: Protocol, _: &[u8]) -> Result<Holder, EnrollError> {
        *self.holders.lock().expect("not poisoned") += 1;
        Ok(Holder {
            serial: "01".into(),
            facility: facility(),
            profile: ProfileKind::Pc,
            sans: Vec::new(),
            device: Some("PC-01".into()),
        })
    }

    async fn issue(
        &self,
        _: Protocol,
        _: &Grant,
        _: Csr,
        _: Vec<String>,
        _: Option<String>,
    ) -> Result<Vec<u8>, EnrollError> {
        *self.issued.lock().expect("not poisoned") += 1;
        Ok(ISSUED.to_vec())
    }

    async fn refused(&self, _: Protocol, _: &str, _: &str) {
        *self.refused.lock().expect("not poisoned") += 1;
    }
}

impl EstAuthority for StandIn {
    fn accepted_keys(&self, _: ProfileKind) -> Vec<KeyClass> {
        vec![KeyClass::P256, KeyClass::Rsa]
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let reenroll = mode & 1 != 0;
    let label = match (mode >> 1) & 3 {
        1 => Some(ProfileKind::Router),
        2 => Some(ProfileKind::Pc),
        _ => None,
    };
    let (authorization, body) = if mode & 0x10 != 0 {
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
            None => (Some(rest), &[][..]),
        }
    } else {
        (None, rest)
    };
    let request = EstRequest { label, authorization, client_certificate: (mode & 8 != 0).then_some(ISSUED), body };
    let ca = StandIn::default();
    let answer = runtime().block_on(async {
        if reenroll { est::simplereenroll(&ca, &request).await } else { est::simpleenroll(&ca, &request).await }
    });

    let redeemed = ca.redeemed.into_inner().expect("not poisoned");
    let (holders, issued, refused) = (ca.holders.into_inner(), ca.issued.into_inner(), ca.refused.into_inner());
    let (holders, issued, refused) =
        (holders.expect("not poisoned"), issued.expect("not poisoned"), refused.expect("not poisoned"));
    assert!(redeemed.len() + holders <= 1, "authenticated twice: {redeemed:?}, {holders} holder lookups");
    assert!(issued <= 1, "issued {issued} times");
    if let Some((id, secret)) = redeemed.first() {
        assert!(!reenroll, "re-enrollment redeemed a credential");
        check_basic(authorization.expect("redeemed without an Authorization header"), id, secret);
        assert!(csr_accepted(body), "a credential was redeemed for a body that is not a good CSR");
    }
    if reenroll {
        assert!(redeemed.is_empty(), "re-enrollment redeemed a credential");
    }
    match answer {
        Ok(response) => {
            assert_eq!(issued, 1, "an answer without issuing");
            assert_eq!(response.content_type, PKCS7_CERTS_ONLY);
            assert!(STANDARD.decode(response.body.as_bytes()).is_ok(), "the answer is not base64");
        }
        Err(e) => {
            if issued == 0 {
                assert_eq!(refused, 1, "a refusal before issuing audited {refused} times: {e}");
            }
        }
    }
});

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a Tokio runtime"))
}

/// The header is HTTP Basic and carries exactly `id:secret`.
fn check_basic(header: &[u8], id: &str, secret: &str) {
    let text = std::str::from_utf8(header).expect("redeemed from a header that is not UTF-8").trim();
    let (scheme, token) = text.split_once(' ').expect("redeemed from a header without a scheme");
    assert!(scheme.eq_ignore_ascii_case("basic"), "redeemed from a {scheme:?} header");
    assert!(!id.contains(':'), "a credential ID with a colon: {id:?}");
    assert_eq!(STANDARD.encode(format!("{id}:{secret}")), token.trim(), "the credentials are not the header's");
}

/// Whether `body` is base64 (whitespace ignored) of a CSR `hcpki_ca::csr::parse` accepts.
fn csr_accepted(body: &[u8]) -> bool {
    let compact: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    body.len() <= est::MAX_BODY_BYTES && STANDARD.decode(&compact).is_ok_and(|der| hcpki_ca::csr::parse(&der).is_ok())
}
