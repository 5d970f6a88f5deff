//! The verification entry point: a taken challenge, the posted signature and chain → [`VerifiedCard`].

use super::CardLoginError;
use super::challenge::Challenge;
use super::crl_cache::{CrlCache, Revocation, RevocationPolicy};
use super::hc_role::{self, RoleClaim, RoleSource, RoleTexts};
use super::trust::{ParsedCert, TrustAnchors};
use crate::policy::Subject;
use der::Encode as _;
use der::asn1::ObjectIdentifier;
use hcpki_agent_protocol::AuthPurpose;
use hcpki_ca::person_key::{AnchorId, PersonKey};
use hcpki_pkix::card_signature::{self, CardSignatureError};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use x509_cert::ext::pkix::name::{DirectoryString, GeneralName};
use x509_cert::ext::pkix::{CertificatePolicies, SubjectAltName};
use x509_cert::name::Name;

/// Most certificates a post may carry (leaf, intermediates, perhaps a root).
pub const MAX_CHAIN_CERTS: usize = 8;
/// Largest certificate accepted (the MEDIS signature certificate is 1.4 KB).
pub const MAX_CERT_BYTES: usize = 16 * 1024;
/// Largest signature accepted (RSA-4096 is 512 bytes).
pub const MAX_SIGNATURE_BYTES: usize = 1024;
/// The display name of a JPKI login: the authentication certificate carries no name (reference §4).
pub const JPKI_DISPLAY_NAME: &str = "JPKI利用者";

/// Certificate-policy arcs of *signature* certificates: a login with one of these is refused even if its
/// keyUsage were to allow it. HPKI 署名用 CP (reference §3.1) and JPKI 署名用 (jsrsasign's table, §4).
/// A policy is one of them when its arcs begin with one of these (the arc itself included), compared as OIDs.
const SIGNATURE_POLICY_ARCS: [ObjectIdentifier; 2] =
    [ObjectIdentifier::new_unwrap("1.2.392.100495.1.5.1.1"), hcpki_pkix::jpki::SIGNING_POLICY_ARC];
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");

/// Which card the certificate chains to: decided by the anchor set, never by the certificate's content.
pub use hcpki_agent_protocol::CardKind;

/// How revocation was established for an accepted card.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RevocationChecked {
    /// Every certificate of the path was covered by a fresh CRL and not listed.
    Good {
        /// The oldest thisUpdate among the CRLs used.
        oldest_crl: i64,
    },
    /// Accepted under `revocation = "fail-open"` without a fresh CRL: the audit entry says so.
    Unknown {
        /// Which CA's CRL was missing or stale.
        detail: String,
    },
}

/// An accepted card login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCard {
    /// Who, with the hcRole for HPKI (none for JPKI, by construction).
    pub subject: Subject,
    /// Stable account key (see [`person_key`]): links logins of one person across sessions and, for HPKI, across
    /// card renewals by the same issuer under the same trust anchor.
    pub person_key: String,
    /// The key of the form before trust-anchor binding ([`legacy_person_key`]): what migration 0021 lists, to
    /// link this login to its earlier sessions' console grant and pairwise `sub`.
    pub legacy_person_key: String,
    /// HPKI or JPKI.
    pub kind: CardKind,
    /// The card id ([`hcpki_agent_protocol::card_id`] of the verified card certificate): the agent names the
    /// card by the same value, so card removal and presence reports find the session; derived here, never
    /// taken from the post (issue #24, item 4).
    pub card_id: String,
    /// The card certificate's issuer (RFC 4514).
    pub issuer: String,
    /// Its serial, lowercase hex.
    pub serial: String,
    /// Its notAfter, Unix seconds (a session must not outlive the card).
    pub not_after: i64,
    /// Revocation as established.
    pub revocation: RevocationChecked,
    /// Which table mapped the subject's hcRole (built-in or `[login] hc_role_texts`), when it has one.
    pub role_source: Option<RoleSource>,
    /// hcRole text present but not mapped (logged; the subject has no role).
    pub unrecognised_role: Option<String>,
}

/// Whose document-signature certificate it is ([`CardVerifier::signature_holder`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHolder {
    /// The holder's person key, as a card login forms it.
    pub person: PersonKey,
    /// The validated path (DER): the signer certificate first, its CAs, the configured anchor last.
    pub path: Vec<Vec<u8>>,
}

/// Verifies card logins against the configured anchors and the CRL cache.
#[derive(Clone, Debug)]
pub struct CardVerifier {
    trust: Arc<TrustAnchors>,
    crls: Arc<CrlCache>,
    policy: RevocationPolicy,
    role_texts: Arc<RoleTexts>,
}

impl CardVerifier {
    /// A verifier over `trust`, reading revocation from `crls` (filled by its refresher) under `policy`, mapping
    /// only the built-in hcRole texts (see [`Self::with_role_texts`]).
    pub fn new(trust: Arc<TrustAnchors>, crls: Arc<CrlCache>, policy: RevocationPolicy) -> Self {
        Self { trust, crls, policy, role_texts: Arc::default() }
    }

    /// The same verifier mapping hcRole texts with `texts` (built-in plus the operator's `[login] hc_role_texts`).
    pub fn with_role_texts(self, texts: Arc<RoleTexts>) -> Self {
        Self { role_texts: texts, ..self }
    }

    /// Verify what the browser posted for `challenge` (already taken: single use, session, origin, expiry
    /// checked): `signature` by the card over `login_message(challenge.origin, challenge.bytes)` (a login), and `chain`
    /// (DER, card certificate first), at `now`. Pure computation over memory: no I/O.
    pub fn verify(
        &self,
        challenge: &Challenge,
        signature: &[u8],
        chain: &[Vec<u8>],
        now: i64,
    ) -> Result<VerifiedCard, CardLoginError> {
        self.verify_as(AuthPurpose::Login, challenge, signature, chain, now)
    }

    /// [`Self::verify`] for a signature made for `purpose`: the card signed `purpose.message(origin, challenge)`.
    /// The caller names what it checks (a patient's identification checks [`AuthPurpose::Identification`]), so a
    /// signature the agent's page obtained under another purpose than the one the patient read does not verify.
    pub fn verify_as(
        &self,
        purpose: AuthPurpose,
        challenge: &Challenge,
        signature: &[u8],
        chain: &[Vec<u8>],
        now: i64,
    ) -> Result<VerifiedCard, CardLoginError> {
        let chain = parse_chain(chain)?;
        if signature.is_empty() || signature.len() > MAX_SIGNATURE_BYTES {
            return Err(CardLoginError::Malformed { what: format!("a signature of {} bytes", signature.len()) });
        }
        let leaf = chain.first().ok_or_else(|| CardLoginError::Malformed { what: "no certificate".into() })?;
        check_login_signature(leaf, &purpose.message(challenge.origin(), challenge.bytes()), signature)?;
        let path = self.trust.validate(&chain, now)?;
        check_validity(leaf, now)?;
        check_authentication_certificate(leaf)?;
        let revocation = self.check_revocation(&path.certs, now)?;
        let anchor =
            path.certs.last().map(|a| anchor_id(a)).ok_or_else(|| CardLoginError::UntrustedChain {
                detail: "the validated path has no anchor".into(),
            })??;
        let tbs = leaf.cert.tbs_certificate();
        let (subject, role_source, unrecognised_role) = match path.kind {
            CardKind::Hpki => {
                let claim = hc_role::decode(&leaf.cert, &self.role_texts)
                    .map_err(|e| CardLoginError::Malformed { what: format!("the hcRole attribute: {e}") })?;
                let name = san_directory_cn(leaf).or_else(|| attribute(tbs.subject(), COMMON_NAME)).unwrap_or_default();
                let (source, unrecognised) = match &claim {
                    RoleClaim::Known(_, source) => (Some(*source), None),
                    RoleClaim::Unrecognised(text) => (None, Some(text.clone())),
                    RoleClaim::Absent => (None, None),
                };
                (Subject::hpki(name, claim.role()), source, unrecognised)
            }
            CardKind::Jpki => (Subject::jpki(JPKI_DISPLAY_NAME), None, None),
        };
        Ok(VerifiedCard {
            subject,
            person_key: person_key(leaf, path.kind, anchor).to_string(),
            legacy_person_key: legacy_person_key(leaf, path.kind),
            kind: path.kind,
            card_id: hcpki_agent_protocol::card_id(&leaf.der),
            issuer: tbs.issuer().to_string(),
            serial: hex::encode(tbs.serial_number().as_bytes()),
            not_after: leaf.validity().1,
            revocation,
            role_source,
            unrecognised_role,
        })
    }

    /// The person key of the holder of a document-signature certificate (D79): `chain` (DER, the signer
    /// certificate first, then what the signature carried) validated to a configured **HPKI** anchor at `now`,
    /// the certificate valid then and its issuer's CRL consulted under the login's revocation policy; the key is
    /// formed as a card login's ([`person_key`]: anchor, issuer O, subject serialNumber), so it equals the
    /// session's key exactly when the authentication certificate that logged in belongs to the same registered
    /// person under the same anchor. A certificate without issuer O and subject serialNumber gets a
    /// per-certificate key, which no login's key equals. Its keyUsage is the signature check's (`cades::verify`).
    pub fn signature_holder(&self, chain: &[Vec<u8>], now: i64) -> Result<SignatureHolder, CardLoginError> {
        let chain = parse_chain(chain)?;
        let path = self.trust.validate(&chain, now)?;
        if path.kind != CardKind::Hpki {
            return Err(CardLoginError::UntrustedChain {
                detail: "the signer certificate chains to a JPKI anchor: documents are signed with the HPKI card"
                    .into(),
            });
        }
        let leaf = chain.first().ok_or_else(|| CardLoginError::Malformed { what: "no certificate".into() })?;
        check_validity(leaf, now)?;
        self.check_revocation(&path.certs, now)?;
        let anchor =
            path.certs.last().map(|a| anchor_id(a)).ok_or_else(|| CardLoginError::UntrustedChain {
                detail: "the validated path has no anchor".into(),
            })??;
        let path_der = path.certs.iter().map(|c| c.der.clone()).collect();
        Ok(SignatureHolder { person: person_key(leaf, CardKind::Hpki, anchor), path: path_der })
    }

    /// The validated path (DER, signer first, anchor last) of a patient's consent signature (issue #28): `chain`
    /// (the signer certificate first, then what the signature carried) validated to a configured **JPKI**
    /// anchor at `now`, the certificate a JPKI signing certificate (署名用電子証明書), valid then, and not
    /// revoked by its issuer's cached CRL under the login's revocation policy (the consent's B-LT then needs that
    /// CRL anyway). An expired or revoked certificate — after an address change, say — is refused here.
    pub fn patient_signer(&self, chain: &[Vec<u8>], now: i64) -> Result<Vec<Vec<u8>>, CardLoginError> {
        let chain = parse_chain(chain)?;
        let path = self.trust.validate(&chain, now)?;
        if path.kind != CardKind::Jpki {
            return Err(CardLoginError::UntrustedChain {
                detail: "the signer certificate chains to an HPKI anchor: a patient signs with the My Number card"
                    .into(),
            });
        }
        let leaf = chain.first().ok_or_else(|| CardLoginError::Malformed { what: "no certificate".into() })?;
        if !hcpki_pkix::jpki::is_jpki_signing_certificate(&leaf.cert) {
            return Err(CardLoginError::Malformed {
                what: "the signer certificate is not the card's signing certificate (署名用電子証明書)".into(),
            });
        }
        check_validity(leaf, now)?;
        self.check_revocation(&path.certs, now)?;
        Ok(path.certs.iter().map(|c| c.der.clone()).collect())
    }

    /// The CRL cache the login reads (signing requests embed its CRLs in B-LT signatures, D82).
    pub fn crls(&self) -> &CrlCache {
        &self.crls
    }

    /// Every certificate below the anchor against its issuer's cached CRL.
    fn check_revocation(&self, path: &[&ParsedCert], now: i64) -> Result<RevocationChecked, CardLoginError> {
        let mut oldest = i64::MAX;
        let mut unknown = Vec::new();
        // Leaf first: the first pair checks the card, every later one a CA (against its parent's ARL).
        for (depth, pair) in path.windows(2).enumerate() {
            let [cert, issuer] = pair else { continue };
            match self.crls.status(cert, issuer, now) {
                Revocation::Good { crl_this_update } => oldest = oldest.min(crl_this_update),
                Revocation::Revoked { reason, at } => {
                    let tbs = cert.cert.tbs_certificate();
                    let (reason, at) = (reason.to_owned(), hcpki_pkix::time::rfc3339(at));
                    let certificate =
                        format!("{} serial {}", tbs.issuer(), hex::encode(tbs.serial_number().as_bytes()));
                    return Err(if depth == 0 {
                        CardLoginError::Revoked { reason, at, certificate }
                    } else {
                        let certificate = format!("{}, issued by {certificate}", tbs.subject());
                        CardLoginError::IssuerRevoked { reason, at, certificate }
                    });
                }
                Revocation::Unknown(why) => unknown.push(why),
            }
        }
        if unknown.is_empty() {
            return Ok(RevocationChecked::Good { oldest_crl: oldest });
        }
        let detail = unknown.join("; ");
        match self.policy {
            RevocationPolicy::FailClosed => Err(CardLoginError::RevocationUnknown { detail }),
            RevocationPolicy::FailOpen => {
                tracing::warn!(%detail, "card login accepted without revocation status (revocation = fail-open)");
                Ok(RevocationChecked::Unknown { detail })
            }
        }
    }
}

fn parse_chain(chain: &[Vec<u8>]) -> Result<Vec<ParsedCert>, CardLoginError> {
    if chain.is_empty() || chain.len() > MAX_CHAIN_CERTS {
        return Err(CardLoginError::Malformed { what: format!("a chain of {} certificates", chain.len()) });
    }
    chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            if der.len() > MAX_CERT_BYTES {
                return Err(CardLoginError::Malformed { what: format!("certificate {i} is {} bytes", der.len()) });
            }
            ParsedCert::from_der(der).map_err(|e| CardLoginError::Malformed { what: format!("certificate {i}: {e}") })
        })
        .collect()
}

/// The card's signature over `message`, with the algorithm its certificate's key names (D153): PKCS#1 v1.5 /
/// SHA-256 for today's RSA cards, ECDSA P-384 / SHA-384 (DER `ECDSA-Sig-Value`) for the next My Number card and
/// HPKI cards with EC keys. A key on another curve and a malformed ECDSA value are refused as such, not as a
/// wrong signature.
fn check_login_signature(leaf: &ParsedCert, message: &[u8], signature: &[u8]) -> Result<(), CardLoginError> {
    let spki = leaf.cert.tbs_certificate().subject_public_key_info();
    match card_signature::verify(spki, message, signature) {
        Ok(_) => Ok(()),
        Err(CardSignatureError::Key(e)) => Err(CardLoginError::UnsupportedKey { detail: e.to_string() }),
        Err(CardSignatureError::Malformed(e)) => Err(CardLoginError::MalformedSignature { detail: e.to_string() }),
        Err(_) => Err(CardLoginError::BadSignature),
    }
}

fn check_validity(leaf: &ParsedCert, now: i64) -> Result<(), CardLoginError> {
    let (not_before, not_after) = leaf.validity();
    if now < not_before {
        return Err(CardLoginError::NotYetValid { not_before: hcpki_pkix::time::rfc3339(not_before) });
    }
    if now > not_after {
        return Err(CardLoginError::ExpiredCard { not_after: hcpki_pkix::time::rfc3339(not_after) });
    }
    Ok(())
}

/// The authentication certificate, not the signature one: keyUsage digitalSignature without nonRepudiation
/// (HPKI and JPKI signature certificates carry nonRepudiation; reference §3.2, §4), not a CA, and no
/// signature-CP policy. The authentication CP OIDs themselves are unverified, so they are not required.
fn check_authentication_certificate(leaf: &ParsedCert) -> Result<(), CardLoginError> {
    let not_auth = |detail: &str| CardLoginError::NotAuthCertificate { detail: detail.to_owned() };
    let malformed = |e: der::Error| CardLoginError::Malformed { what: format!("the card certificate: {e}") };
    if leaf.basic_constraints().map_err(malformed)?.is_some_and(|bc| bc.ca) {
        return Err(not_auth("it is a CA certificate"));
    }
    match leaf.key_usage().map_err(malformed)? {
        None => return Err(not_auth("it has no keyUsage")),
        Some(ku) if ku.non_repudiation() => {
            return Err(not_auth("its keyUsage is nonRepudiation: it is the card's signature certificate"));
        }
        Some(ku) if !ku.digital_signature() => return Err(not_auth("its keyUsage lacks digitalSignature")),
        Some(_) => {}
    }
    let policies = leaf.cert.tbs_certificate().get_extension::<CertificatePolicies>().map_err(malformed)?;
    for policy in policies.iter().flat_map(|(_, p)| p.0.iter()) {
        if is_signature_policy(&policy.policy_identifier) {
            return Err(not_auth(&format!("policy {} is a signature certificate policy", policy.policy_identifier)));
        }
    }
    Ok(())
}

/// Whether a certificate policy lies under one of [`SIGNATURE_POLICY_ARCS`]. A DER OID's bytes end each arc
/// on a byte below 0x80, so a byte prefix that is a whole OID is exactly an arc prefix (`…1.1` is not a
/// prefix of `…1.10`).
pub(super) fn is_signature_policy(policy: &ObjectIdentifier) -> bool {
    SIGNATURE_POLICY_ARCS.iter().any(|arc| policy.starts_with(*arc))
}

/// The stable account key of a card holder, bound to the trust anchor `anchor` its chain was validated to
/// (issue #24, item 10: two anchors whose CAs share names never share a key), fields escaped
/// ([`PersonKey`]).
///
/// * HPKI: `hpki:<anchor>:<issuer O>:<subject serialNumber>`. The subject serialNumber is the registration
///   number the issuing organisation assigns to the person (MEDIS: `Test117120`, reference §3.2); with the
///   issuer's organisation it survives card renewal and CA re-keys below that anchor. A person holding cards of
///   two issuers (or of two anchors of one issuer) has two keys (linking them is an operator decision).
///   Without either attribute, the per-certificate key `hpki-cert:<anchor>:<hex>` is used.
/// * JPKI: `jpki:<anchor>:<SHA-256 hex of issuer DN ‖ serial>`, per certificate. The authentication
///   certificate holds no personal data, but its CN's stability across reissue is unknown and the My Number
///   must never be stored; a hash of the certificate's identity links logins of one certificate and nothing
///   else. A renewed card is a new key (re-linking needs J-LIS's 異動 service, available to authorised
///   verifiers only). The JPKI key had the same flaw (the hash covers no anchor), so it is bound the same way.
pub fn person_key(leaf: &ParsedCert, kind: CardKind, anchor: AnchorId) -> PersonKey {
    if let Some((org, registration)) = hpki_registration(leaf, kind) {
        return PersonKey::Hpki { anchor, org, registration };
    }
    let digest = certificate_digest(leaf);
    match kind {
        CardKind::Hpki => PersonKey::HpkiCertificate { anchor, digest },
        CardKind::Jpki => PersonKey::Jpki { anchor, digest },
    }
}

/// The key [`person_key`] gave before trust-anchor binding (`hpki:<O>:<serialNumber>`, `hpki-cert:<hex>`,
/// `jpki:<hex>`), unescaped: only ever compared with keys stored before migration 0021, never trusted alone.
pub fn legacy_person_key(leaf: &ParsedCert, kind: CardKind) -> String {
    if let Some((org, registration)) = hpki_registration(leaf, kind) {
        return format!("hpki:{org}:{registration}");
    }
    let prefix = match kind {
        CardKind::Hpki => "hpki-cert",
        CardKind::Jpki => "jpki",
    };
    format!("{prefix}:{}", certificate_digest(leaf))
}

/// An HPKI card's issuer O and subject serialNumber (the registration number), when it has both.
fn hpki_registration(leaf: &ParsedCert, kind: CardKind) -> Option<(String, String)> {
    let tbs = leaf.cert.tbs_certificate();
    if kind != CardKind::Hpki {
        return None;
    }
    Some((attribute(tbs.issuer(), ORGANIZATION)?, attribute(tbs.subject(), SERIAL_NUMBER)?))
}

/// SHA-256 hex of the certificate's issuer DN (DER) ‖ serial: one certificate's identity.
fn certificate_digest(leaf: &ParsedCert) -> String {
    let mut h = Sha256::new();
    h.update(leaf.issuer_der());
    h.update(leaf.cert.tbs_certificate().serial_number().as_bytes());
    hex::encode(h.finalize())
}

/// The [`AnchorId`] of a configured anchor: its SubjectPublicKeyInfo's hash.
fn anchor_id(anchor: &ParsedCert) -> Result<AnchorId, CardLoginError> {
    let spki = anchor.cert.tbs_certificate().subject_public_key_info().to_der().map_err(|e| {
        CardLoginError::Malformed { what: format!("the anchor {}'s public key: {e}", anchor.subject()) }
    })?;
    Ok(AnchorId::of_spki(&spki))
}

/// The first `oid` attribute of `name` as text.
fn attribute(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.iter_rdn()
        .flat_map(|rdn| rdn.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| atv.value.decode_as::<DirectoryString>().ok().map(|d| d.value().into_owned()))
}

/// The CN of the subjectAltName directoryName: the kanji name in HPKI (family and given name split by U+3000).
fn san_directory_cn(leaf: &ParsedCert) -> Option<String> {
    let (_, san) = leaf.cert.tbs_certificate().get_extension::<SubjectAltName>().ok()??;
    san.0.iter().find_map(|n| match n {
        GeneralName::DirectoryName(name) => attribute(name, COMMON_NAME),
        _ => None,
    })
}
