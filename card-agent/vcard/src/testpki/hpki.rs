//! The HPKI test chain: root → signature CA / authentication CA → the card's two certificates.

use super::{
    Ca, CardAlgorithm, Credential, CrlValidity, PkiError, Revoked, encode, params, policy_extension, second_ou,
    serial_number_attr,
};
use der::asn1::ObjectIdentifier;
use rcgen::{CrlDistributionPoint, CustomExtension, DnType, KeyUsagePurpose};

/// id-hcpki-at-healthcareactor (hcRole), ISO/TS 17090.
const HC_ROLE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.0.17090.0.1");
/// The JHPKI role table: the coding scheme every Japanese hcRole names.
const JHPKI_ROLE_SCHEME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.100495.1.6.1.1");
/// CA policies (reference §3.1).
const SIGN_CA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.100495.1.5.1.1.3.1");
const AUTH_CA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.100495.1.5.1.2.3.1");
/// End-entity policies: the signature one is observed (§3.2); the authentication one is inferred.
const SIGN_EE_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.100495.1.5.1.1.0.1");
const AUTH_EE_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.100495.1.5.1.2.0.1");
const COUNTRY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");

/// Where the certificates of [`HpkiTestCas::new`] say their revocation data is: a name that never resolves.
const UNRESOLVED_REPOSITORY: &str = "http://hcpki-test.invalid/hpki";
/// id-pe-authorityInfoAccess and id-ad-ocsp (RFC 5280 §4.2.2.1).
const AUTHORITY_INFO_ACCESS: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 1, 1];
const AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

/// Who the HPKI certificates are for.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HpkiSubject {
    /// hcRole free text (e.g. `Medical Doctor`); `None` issues without subjectDirectoryAttributes,
    /// as for administrative staff.
    pub role: Option<String>,
    /// Subject CN: the name in romaji.
    pub name_romaji: String,
    /// SAN dirName CN: the kanji name, family and given name separated by U+3000.
    pub name_kanji: String,
    /// Subject O: the facility in romaji or English.
    pub organization_romaji: String,
    /// SAN dirName O: the facility in kanji.
    pub organization_kanji: String,
    /// Subject and SAN serialNumber: the registration identifier.
    pub registration_id: String,
}

impl Default for HpkiSubject {
    fn default() -> Self {
        Self {
            role: Some("Medical Doctor".to_owned()),
            name_romaji: "Taro Shiken".to_owned(),
            name_kanji: "試験\u{3000}太郎".to_owned(),
            organization_romaji: "HCPKI TEST UNIVERSITY HOSPITAL".to_owned(),
            organization_kanji: "試験大学病院".to_owned(),
            registration_id: "Test000001".to_owned(),
        }
    }
}

/// The HPKI chain and the card's two credentials.
#[derive(Clone, Debug)]
pub struct HpkiCredentials {
    /// Root CA certificate (DER).
    pub root: Vec<u8>,
    /// Signature CA certificate (DER).
    pub signature_ca: Vec<u8>,
    /// Authentication CA certificate (DER).
    pub authentication_ca: Vec<u8>,
    /// Signature (non-repudiation) certificate and key.
    pub signature: Credential,
    /// Authentication certificate and key.
    pub authentication: Credential,
}

/// Issues a fresh HPKI chain and the two end-entity certificates for `subject`.
pub fn issue_hpki(subject: &HpkiSubject) -> Result<HpkiCredentials, PkiError> {
    HpkiTestCas::new()?.issue(subject)
}

/// [`issue_hpki`] with every key of the hierarchy and the card of `algorithm` (an ECDSA P-384 HPKI card, D177).
pub fn issue_hpki_for(subject: &HpkiSubject, algorithm: CardAlgorithm) -> Result<HpkiCredentials, PkiError> {
    HpkiTestCas::new_for(algorithm)?.issue(subject)
}

/// The HPKI test CAs with their keys: more cards under one chain, and CRLs (for revocation tests).
pub struct HpkiTestCas {
    root: Ca,
    signature_ca: Ca,
    authentication_ca: Ca,
    repository: Repository,
}

/// The repository the hierarchy's certificates point at, as an HPKI CA publishes one: the root's ARL, each CA's
/// CRL and (when served) the signature CA's OCSP responder, under one base URL.
#[derive(Clone, Debug)]
struct Repository {
    /// `http://HOST[:PORT][/PATH]` without a trailing slash.
    base: String,
    /// Whether signature certificates name an OCSP responder (authorityInfoAccess id-ad-ocsp).
    ocsp: bool,
}

impl Repository {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl std::fmt::Debug for HpkiTestCas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HpkiTestCas { root, signature_ca, authentication_ca }")
    }
}

impl HpkiTestCas {
    /// A fresh root with its signature and authentication CAs, whose certificates name CRLs under
    /// `http://hcpki-test.invalid/hpki` (never resolves: a relying party that fetches finds nothing) and no OCSP
    /// responder.
    pub fn new() -> Result<Self, PkiError> {
        Self::new_for(CardAlgorithm::Rsa2048)
    }

    /// [`HpkiTestCas::new`] with keys of `algorithm` throughout (root, CAs, cards).
    pub fn new_for(algorithm: CardAlgorithm) -> Result<Self, PkiError> {
        Self::hierarchy(Repository { base: UNRESOLVED_REPOSITORY.to_owned(), ocsp: false }, algorithm)
    }

    /// A fresh hierarchy whose certificates point at a repository the test serves at `base_url`
    /// (`http://127.0.0.1:PORT`): CA certificates name the root's ARL [`HpkiTestCas::root_arl_url`], signature
    /// certificates the signature CA's CRL [`HpkiTestCas::signature_crl_url`] and its OCSP responder
    /// [`HpkiTestCas::signature_ocsp_url`], authentication certificates [`HpkiTestCas::authentication_crl_url`].
    pub fn with_repository(base_url: &str) -> Result<Self, PkiError> {
        Self::hierarchy(
            Repository { base: base_url.trim_end_matches('/').to_owned(), ocsp: true },
            CardAlgorithm::Rsa2048,
        )
    }

    fn hierarchy(repository: Repository, algorithm: CardAlgorithm) -> Result<Self, PkiError> {
        let root = Ca::root_for(
            "HPKI root",
            params(
                &[
                    (DnType::CountryName, "JP"),
                    (DnType::OrganizationName, "TEST Ministry of Health, Labour and Welfare"),
                    (DnType::OrganizationalUnitName, "Director-General for Policy Planning and Evaluation"),
                    (second_ou(), "TEST MHLW HPKI Root CA V2"),
                ],
                365,
                30 * 365,
            ),
            algorithm,
        )?;
        let signature_ca = root.subordinate(
            "HPKI signature CA",
            ca_params("HPKI-01-TestSignCA-forNonRepudiation", &SIGN_CA_POLICY, &repository),
        )?;
        let authentication_ca = root.subordinate(
            "HPKI authentication CA",
            ca_params("HPKI-01-TestAuthCA-forAuthentication-forIndividual", &AUTH_CA_POLICY, &repository),
        )?;
        Ok(Self { root, signature_ca, authentication_ca, repository })
    }

    /// The root's ARL as the CA certificates name it (cRLDistributionPoints).
    pub fn root_arl_url(&self) -> String {
        self.repository.url("/repository/rlist/sarl.crl")
    }

    /// The signature CA's CRL as signature certificates name it.
    pub fn signature_crl_url(&self) -> String {
        self.repository.url("/sign/crl-sign.crl")
    }

    /// The authentication CA's CRL as authentication certificates name it.
    pub fn authentication_crl_url(&self) -> String {
        self.repository.url("/auth/crl-auth.crl")
    }

    /// The signature CA's OCSP responder as signature certificates name it (authorityInfoAccess id-ad-ocsp);
    /// `None` for [`HpkiTestCas::new`]'s certificates, which name none.
    pub fn signature_ocsp_url(&self) -> Option<String> {
        self.repository.ocsp.then(|| self.repository.url("/ocsp/sign"))
    }

    /// The signature CA's certificate (DER): the issuer an OCSP responder and `openssl ocsp -issuer` need.
    pub fn signature_ca_certificate(&self) -> &[u8] {
        &self.signature_ca.cert
    }

    /// A card's two certificates for `subject` under these CAs.
    pub fn issue(&self, subject: &HpkiSubject) -> Result<HpkiCredentials, PkiError> {
        // Five years from the start of yesterday (JST): a JST day boundary, as real certificates, but never less
        // than a day in the past, so a test may date a signature an hour back at any time of day (from the start
        // of today, one run between 15:00 and 16:00 UTC would sign before the certificate began).
        self.issue_valid(subject, 1, 5 * 365 + 2)
    }

    /// [`HpkiTestCas::issue`] of a card whose certificates expired yesterday (valid for one day, the day
    /// before): what a portal refuses as expired at today's time (no clock to set).
    pub fn issue_expired(&self, subject: &HpkiSubject) -> Result<HpkiCredentials, PkiError> {
        self.issue_valid(subject, 2, 1)
    }

    /// The card's certificates valid from `back_days` before the start of today (JST) for `days` days.
    fn issue_valid(&self, subject: &HpkiSubject, back_days: i64, days: i64) -> Result<HpkiCredentials, PkiError> {
        let mut signature_params = ee_params(
            subject,
            KeyUsagePurpose::ContentCommitment,
            &SIGN_EE_POLICY,
            &self.signature_crl_url(),
            (back_days, days),
        );
        if let Some(ocsp) = self.signature_ocsp_url() {
            signature_params.custom_extensions.push(ocsp_access(&ocsp));
        }
        let signature = self.signature_ca.issue("HPKI signature certificate", signature_params)?;
        let authentication = self.authentication_ca.issue(
            "HPKI authentication certificate",
            ee_params(
                subject,
                KeyUsagePurpose::DigitalSignature,
                &AUTH_EE_POLICY,
                &self.authentication_crl_url(),
                (back_days, days),
            ),
        )?;
        Ok(HpkiCredentials {
            root: self.root.cert.clone(),
            signature_ca: self.signature_ca.cert.clone(),
            authentication_ca: self.authentication_ca.cert.clone(),
            signature,
            authentication,
        })
    }

    /// A CRL of the authentication CA (the one covering authentication certificates).
    pub fn authentication_crl(&self, revoked: &[Revoked], validity: CrlValidity) -> Result<Vec<u8>, PkiError> {
        self.authentication_ca.crl("HPKI authentication CA CRL", revoked, validity)
    }

    /// The root's authority revocation list (covering the signature and authentication CAs).
    pub fn root_arl(&self, revoked: &[Revoked], validity: CrlValidity) -> Result<Vec<u8>, PkiError> {
        self.root.crl("HPKI root ARL", revoked, validity)
    }

    /// A CRL of the signature CA (the one covering signature certificates: the signature verifier's tests).
    pub fn signature_crl(&self, revoked: &[Revoked], validity: CrlValidity) -> Result<Vec<u8>, PkiError> {
        self.signature_ca.crl("HPKI signature CA CRL", revoked, validity)
    }

    /// A delegated OCSP responder of the signature CA (extendedKeyUsage OCSPSigning, id-pkix-ocsp-nocheck),
    /// valid from yesterday for a year.
    pub fn signature_ocsp_responder(&self) -> Result<Credential, PkiError> {
        let mut p =
            params(&[(DnType::CountryName, "JP"), (DnType::CommonName, "HCPKI TEST HPKI signature OCSP")], 1, 365);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::OcspSigning];
        p.custom_extensions.push(CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 48, 1, 5], vec![0x05, 0x00]));
        self.signature_ca.issue("HPKI signature OCSP responder", p)
    }
}

/// subjectDirectoryAttributes holding one hcRole, byte for byte as in the MEDIS certificate
/// (reference §3.3):
///
/// ```text
/// SubjectDirectoryAttributes ::= SEQUENCE SIZE (1..MAX) OF Attribute      -- RFC 5280 §4.2.1.8
/// Attribute ::= SEQUENCE { type 1.0.17090.0.1, values SET OF HCActorData }
/// HCActorData ::= SET OF HCActor                                          -- ISO/TS 17090-3
/// HCActor ::= SEQUENCE { codedData [0] EXPLICIT CodedData OPTIONAL, regionalHCActorData [1] … }
/// CodedData ::= SET { codingSchemeReference [0] EXPLICIT OBJECT IDENTIFIER,
///                     codeDataValue [1] …, codeDataFreeText [2] EXPLICIT DirectoryString }
/// ```
///
/// The role is the free text (UTF8String); the scheme is the JHPKI role table.
pub fn hc_role_attributes(role: &str) -> Vec<u8> {
    let coded_data =
        encode::set(&[encode::tlv(0xA0, &encode::oid(&JHPKI_ROLE_SCHEME)), encode::tlv(0xA2, &encode::utf8(role))]);
    let hc_actor = encode::sequence(&[encode::tlv(0xA0, &coded_data)]);
    let hc_actor_data = encode::set(&[hc_actor]);
    let attribute = encode::sequence(&[encode::oid(&HC_ROLE), encode::set(&[hc_actor_data])]);
    encode::sequence(&[attribute])
}

fn ca_params(cn: &str, policy: &ObjectIdentifier, repository: &Repository) -> rcgen::CertificateParams {
    let mut p = params(
        &[
            (DnType::CountryName, "JP"),
            (DnType::OrganizationName, "HCPKI TEST"),
            (DnType::OrganizationalUnitName, "HCPKI TEST HPKI CA"),
            (DnType::CommonName, cn),
        ],
        365,
        20 * 365,
    );
    p.custom_extensions.push(policy_extension(policy, &repository.url("/repository/"), true));
    p.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![repository.url("/repository/rlist/sarl.crl")] }];
    p
}

fn ee_params(
    subject: &HpkiSubject,
    usage: KeyUsagePurpose,
    policy: &ObjectIdentifier,
    crl: &str,
    (back_days, days): (i64, i64),
) -> rcgen::CertificateParams {
    let mut p = params(
        &[
            (DnType::CountryName, "JP"),
            (DnType::OrganizationName, &subject.organization_romaji),
            (DnType::CommonName, &subject.name_romaji),
            (serial_number_attr(), &subject.registration_id),
        ],
        back_days,
        days,
    );
    p.key_usages = vec![usage];
    p.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![crl.to_owned()] }];
    p.custom_extensions.push(kanji_san(subject));
    p.custom_extensions.push(policy_extension(policy, "http://hcpki-test.invalid/hpki/cps/", true));
    if let Some(role) = &subject.role {
        p.custom_extensions.push(CustomExtension::from_oid_content(&[2, 5, 29, 9], hc_role_attributes(role)));
    }
    p
}

/// authorityInfoAccess with one OCSP responder:
///
/// ```text
/// AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription      -- RFC 5280 §4.2.2.1
/// AccessDescription ::= SEQUENCE { accessMethod id-ad-ocsp, accessLocation GeneralName }
/// GeneralName ::= CHOICE { …, uniformResourceIdentifier [6] IA5String, … }       -- IMPLICIT
/// ```
fn ocsp_access(url: &str) -> CustomExtension {
    let location = encode::tlv(0x86, url.as_bytes());
    let access = encode::sequence(&[encode::sequence(&[encode::oid(&AD_OCSP), location])]);
    CustomExtension::from_oid_content(&AUTHORITY_INFO_ACCESS, access)
}

/// subjectAltName with one directoryName: `C=JP, O=<facility>, CN=<kanji name>, serialNumber=<id>`.
fn kanji_san(subject: &HpkiSubject) -> CustomExtension {
    let name = encode::name(&[
        (COUNTRY, encode::directory_string("JP")),
        (ORGANIZATION, encode::directory_string(&subject.organization_kanji)),
        (COMMON_NAME, encode::directory_string(&subject.name_kanji)),
        (SERIAL_NUMBER, encode::directory_string(&subject.registration_id)),
    ]);
    // GeneralName directoryName [4] is EXPLICIT (Name is a CHOICE).
    let general_names = encode::sequence(&[encode::tlv(0xA4, &name)]);
    CustomExtension::from_oid_content(&[2, 5, 29, 17], general_names)
}
