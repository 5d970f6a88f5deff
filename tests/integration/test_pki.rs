//! The HPKI and JPKI test hierarchies, made once per test process and shared by every test that signs its own
//! CRLs and issues its own cards under them (issue #43 item 7).
//!
//! Why: a hierarchy is three RSA-2048 keys (HPKI: root, signature and authentication CAs) or two (JPKI: the two
//! roots), ~0.1 s of CPU each in a debug build, and tests made one, sometimes two, each time. Nothing a test does
//! changes a CA (CRLs are signed per test, with what that test revokes; cards are issued per test), and every
//! test has its own server, so sharing them leaves what each test sees as it was. A test whose certificates must
//! name a repository it serves makes its own (`HpkiTestCas::with_repository`).

use hcpki_vcard::testpki::{HpkiCredentials, HpkiSubject, HpkiTestCas, JpkiTestCas};
use std::sync::OnceLock;

/// The HPKI hierarchy (certificates naming an unreachable repository: `HpkiTestCas::new`).
pub fn hpki() -> &'static HpkiTestCas {
    static CAS: OnceLock<HpkiTestCas> = OnceLock::new();
    CAS.get_or_init(|| HpkiTestCas::new().expect("make the HPKI test CAs"))
}

/// A second HPKI hierarchy with the same names as [`hpki`] and its own keys: the issuer of a card a portal does
/// not trust, or a second anchor whose CA names are the first's.
pub fn other_hpki() -> &'static HpkiTestCas {
    static CAS: OnceLock<HpkiTestCas> = OnceLock::new();
    CAS.get_or_init(|| HpkiTestCas::new().expect("make the second HPKI test CAs"))
}

/// A card of [`other_hpki`] (default subject): one a verifier or portal trusting [`hpki`] refuses as untrusted.
pub fn stranger() -> &'static HpkiCredentials {
    static CARD: OnceLock<HpkiCredentials> = OnceLock::new();
    CARD.get_or_init(|| other_hpki().issue(&HpkiSubject::default()).expect("issue the stranger's card"))
}

/// The JPKI hierarchy (the authentication and signature roots).
pub fn jpki() -> &'static JpkiTestCas {
    static CAS: OnceLock<JpkiTestCas> = OnceLock::new();
    CAS.get_or_init(|| JpkiTestCas::new().expect("make the JPKI test CAs"))
}
