//! The time-stamp client (`hcpki_docsig::timestamp::client`) against this CA's own authority (a real `tsa`
//! certificate from a real CA) and against tokens forged to break one check each: every check's failure is its
//! own typed error; the list falls through to the first valid token and reports the others. Here and not in
//! `hcpki-docsig`, which cannot depend on the CA that issues the certificates.

use crate::authority::tests::{authority, request};
use crate::profile::ProfileKind;
use crate::store::Actor;
use crate::{Authority, CaName};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use hcpki_docsig::timestamp::client::{Query, Stamp, StampError, Transport, TsaEndpoint, TsaTrust, check_reply, stamp};
use hcpki_docsig::timestamp::{
    Accuracy, GenTime, PkiStatusInfo, TimeStampAuthority, TimeStampResp, TokenSigner, TsaSettings, TstInfo,
};
use hcpki_pkix::keys::{KeyAlgorithm, KeySource, SoftwareKey};
use hcpki_pkix::time::FixedClock;
use std::sync::Arc;
use x509_cert::Certificate;

const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.3161.1");
const OTHER: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.3161.2");
const DIGEST: [u8; 32] = [0x5a; 32];

/// A CA, its TSA (key and `tsa` certificate), and the anchors a signer would configure for it.
struct Fixture {
    _dir: tempfile::TempDir,
    ca: Authority,
    tsa: TimeStampAuthority,
    key: Arc<dyn KeySource>,
    cert: Vec<u8>,
    trust: TsaTrust,
    now: i64,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = authority(dir.path()).await;
        let (key, cert) = issue(&ca, ProfileKind::Tsa).await;
        let settings =
            TsaSettings { policy: POLICY, accuracy: Accuracy { seconds: Some(1), millis: None, micros: None } };
        let tsa = TimeStampAuthority::new(&cert, key.clone(), settings).unwrap();
        let trust = TsaTrust::new(&[ca_der(&ca, CaName::Root), ca_der(&ca, CaName::Server)]).unwrap();
        Self { _dir: dir, ca, tsa, key, cert, trust, now: hcpki_pkix::time::now_unix() }
    }

    /// The authority's answer to `query`.
    fn answer(&self, query: &Query) -> Vec<u8> {
        self.tsa.answer(query.der(), self.now).der
    }

    fn check(&self, query: &Query, reply: &[u8]) -> Result<Stamp, StampError> {
        check_reply(query, reply, &self.trust, self.now)
    }
}

async fn issue(ca: &Authority, profile: ProfileKind) -> (Arc<dyn KeySource>, Vec<u8>) {
    let (key, _) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    let key: Arc<dyn KeySource> = Arc::new(key);
    let mut asked = request(profile, None, crate::csr::build(key.as_ref(), Default::default()).unwrap(), vec![]);
    if profile == ProfileKind::Ocsp {
        asked.ocsp_for = Some(CaName::Router);
    }
    let (issued, _) = ca.pipeline().issue(&asked, &Actor::cli("test")).await.unwrap();
    (key, issued.der)
}

fn ca_der(ca: &Authority, name: CaName) -> Vec<u8> {
    ca.ca_certificate(name).unwrap().to_vec()
}

/// A granted answer to `query` whose TSTInfo `change` altered, signed with `key` under `cert`, whose ESS
/// binding names `bound` (the DER the signingCertificateV2 hash is over).
fn forged(
    query: &Query,
    now: i64,
    key: &Arc<dyn KeySource>,
    cert: &[u8],
    bound: &[u8],
    change: impl FnOnce(&mut TstInfo),
) -> Vec<u8> {
    let certificate = Certificate::from_der(cert).unwrap();
    let mut tst = TstInfo {
        version: 1,
        policy: POLICY,
        message_imprint: query.imprint().clone(),
        serial_number: x509_cert::serial_number::SerialNumber::new(&[0x01, 0x02]).unwrap(),
        gen_time: GenTime(hcpki_pkix::time::generalized(now).unwrap()),
        accuracy: None,
        ordering: false,
        nonce: Some(query.nonce().clone()),
        tsa: None,
        extensions: None,
    };
    change(&mut tst);
    let signer = TokenSigner::new(certificate, bound, key.clone()).unwrap();
    let time =
        x509_cert::time::Time::try_from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(now as u64)).unwrap();
    let token = signer.sign(&tst.to_der().unwrap(), time, true).unwrap();
    TimeStampResp { status: PkiStatusInfo::granted(), time_stamp_token: Some(token) }.to_der().unwrap()
}

#[tokio::test]
async fn a_good_token_passes_and_each_broken_one_says_what_is_wrong() {
    let f = Fixture::new().await;
    let query = Query::sha256(&DIGEST, Some(POLICY)).unwrap();
    let stamp = f.check(&query, &f.answer(&query)).unwrap();
    assert_eq!((stamp.policy, (stamp.gen_time - f.now).abs() <= 1), (POLICY, true));
    assert!(stamp.tsa.contains("Time-Stamping Authority"), "{}", stamp.tsa);
    let token = cms::content_info::ContentInfo::from_der(&stamp.token).unwrap();
    assert_eq!(token.content_type, const_oid::db::rfc5911::ID_SIGNED_DATA);
    // No policy configured: any policy is taken.
    let any = Query::sha256(&DIGEST, None).unwrap();
    assert!(f.check(&any, &f.answer(&any)).is_ok());

    // Another request's answer: same digest, other nonce; other digest.
    let replayed = Query::sha256(&DIGEST, Some(POLICY)).unwrap();
    assert!(matches!(f.check(&query, &f.answer(&replayed)), Err(StampError::NonceMismatch)));
    let other = Query::sha256(&[0x11; 32], Some(POLICY)).unwrap();
    assert!(matches!(f.check(&query, &f.answer(&other)), Err(StampError::ImprintMismatch)));

    // Another policy than the configured one, and a genTime ten minutes ahead.
    let reply = forged(&query, f.now, &f.key, &f.cert, &f.cert, |t| t.policy = OTHER);
    let err = f.check(&query, &reply).unwrap_err();
    assert!(
        matches!(&err, StampError::PolicyMismatch { got, want } if *got == OTHER.to_string() && *want == POLICY.to_string()),
        "{err}"
    );
    let reply = forged(&query, f.now + 600, &f.key, &f.cert, &f.cert, |_| {});
    assert!(matches!(f.check(&query, &reply), Err(StampError::ClockSkew { skew: 600, .. })));
    // The forger's own token passes when nothing is changed: the failures above are the changes'.
    assert!(f.check(&query, &forged(&query, f.now, &f.key, &f.cert, &f.cert, |_| {})).is_ok());

    // Roots that are not this TSA's (the PC CA): untrusted.
    let wrong = TsaTrust::new(&[ca_der(&f.ca, CaName::Pc)]).unwrap();
    let err = check_reply(&query, &f.answer(&query), &wrong, f.now).unwrap_err();
    assert!(matches!(&err, StampError::Untrusted { .. }), "{err}");
    assert!(err.to_string().contains("put the TSA's root"), "{err}");

    // A certificate without the critical EKU timeStamping (an OCSP signer's) signs.
    let (ocsp_key, ocsp_cert) = issue(&f.ca, ProfileKind::Ocsp).await;
    let reply = forged(&query, f.now, &ocsp_key, &ocsp_cert, &ocsp_cert, |_| {});
    let err = f.check(&query, &reply).unwrap_err();
    assert!(matches!(&err, StampError::NotTsaCertificate { reason, .. } if reason.contains("not critical")), "{err}");

    // The ESS binding names another certificate than the signer's.
    let reply = forged(&query, f.now, &f.key, &f.cert, &ocsp_cert, |_| {});
    assert!(matches!(f.check(&query, &reply), Err(StampError::Binding(_))));

    // The signature's last octet changed (still DER: it is the last octet of an INTEGER).
    let mut reply = f.answer(&query);
    if let Some(last) = reply.last_mut() {
        *last ^= 0x01;
    }
    assert!(matches!(f.check(&query, &reply), Err(StampError::BadSignature(_))));

    // A rejection (the TSA refuses garbage), garbage bytes, a truncated answer, an empty one.
    let refused = f.tsa.answer(b"not a request", f.now).der;
    let err = f.check(&query, &refused).unwrap_err();
    assert!(
        matches!(&err, StampError::Refused { status: 2, text, fail } if text.contains("DER TimeStampReq") && fail.contains('5')),
        "{err}"
    );
    for bad in [b"<html>502 Bad Gateway</html>".to_vec(), f.answer(&query)[..200].to_vec(), Vec::new()] {
        assert!(matches!(f.check(&query, &bad), Err(StampError::Malformed(_))), "{} bytes", bad.len());
    }
}

/// Answers as the URL says: `dead` unreachable, every other URL by the fixture's TSA.
struct Fake<'a>(&'a Fixture);

#[async_trait::async_trait]
impl Transport for Fake<'_> {
    async fn post(&self, url: &str, request: &[u8]) -> Result<Vec<u8>, String> {
        match url {
            "http://dead.invalid/tsa" => Err("connection refused".into()),
            _ => Ok(self.0.tsa.answer(request, self.0.now).der),
        }
    }
}

#[tokio::test]
async fn the_list_falls_through_to_the_first_valid_token_and_reports_the_rest() {
    let f = Fixture::new().await;
    let clock = FixedClock::at(f.now);
    let endpoint = |url: &str, trust: &TsaTrust, policy| TsaEndpoint { url: url.into(), trust: trust.clone(), policy };
    let untrusted = TsaTrust::new(&[ca_der(&f.ca, CaName::Router)]).unwrap();
    let list = [
        endpoint("http://dead.invalid/tsa", &f.trust, None),
        endpoint("http://untrusted.example/tsa", &untrusted, None),
        endpoint("http://wrong-policy.example/tsa", &f.trust, Some(OTHER)),
        endpoint("http://good.example/tsa", &f.trust, Some(POLICY)),
    ];
    let stamped = stamp(&list, &DIGEST, &Fake(&f), &clock).await.unwrap();
    assert_eq!(stamped.url, "http://good.example/tsa");
    let failed: Vec<_> = stamped.failed.iter().map(|a| (a.url.as_str(), &a.error)).collect();
    assert!(
        matches!(
            failed[..],
            [
                ("http://dead.invalid/tsa", StampError::Transport(_)),
                ("http://untrusted.example/tsa", StampError::Untrusted { .. }),
                ("http://wrong-policy.example/tsa", StampError::Refused { status: 2, .. }),
            ]
        ),
        "{failed:?}"
    );

    let err = stamp(&list[..3], &DIGEST, &Fake(&f), &clock).await.unwrap_err();
    assert_eq!(err.0.len(), 3);
    let text = err.to_string();
    assert!(
        text.contains("the local clock is never a time stamp") && text.contains("1. http://dead.invalid/tsa"),
        "{text}"
    );
    let none = stamp(&[], &DIGEST, &Fake(&f), &clock).await.unwrap_err().to_string();
    assert!(none.contains("add [[signing.tsa]]"), "{none}");
}
