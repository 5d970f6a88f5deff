//! The JPKI test roots and the card's two certificates.

use super::{Ca, Credential, CrlValidity, PkiError, Revoked, params, policy_extension, second_ou};
use crate::jpki::BasicAttributes;
use crate::key::CardAlgorithm;
use der::asn1::ObjectIdentifier;
use rcgen::{DnType, KeyUsagePurpose, OtherNameValue, SanType};

/// JPKI certificate policies per the jsrsasign OID addon (not checked against real certificates).
const SIGN_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.1.1.20");
const AUTH_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.1.3.30");

/// Arc of the SAN otherName types of the basic four items: 1.2.392.200149.8.5.5.x.
const ITEM_ARC: [u64; 7] = [1, 2, 392, 200149, 8, 5, 5];
const NAME_ITEM: u64 = 1;
const NAME_SUBSTITUTE_ITEM: u64 = 2;
const SEX_ITEM: u64 = 3;
const BIRTH_ITEM: u64 = 4;
const ADDRESS_ITEM: u64 = 5;
const ADDRESS_SUBSTITUTE_ITEM: u64 = 6;

/// Who the JPKI certificates are for.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JpkiSubject {
    /// CN of both certificates: an opaque identifier, not a name.
    pub opaque_id: String,
    /// The basic four items (signing certificate SAN, text AP).
    pub attributes: BasicAttributes,
    /// Item `.2` of the signing certificate: where the name uses substitute characters (代替文字), one `0`/`1`
    /// per character of the name. Written as given (tests write malformed ones too); none: no item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_substitute: Option<String>,
    /// Item `.6`: the same for the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_substitute: Option<String>,
}

impl Default for JpkiSubject {
    fn default() -> Self {
        // 32 hex digits: shaped like nothing in particular, as the real CN.
        let id: [u8; 16] = rand::random();
        Self {
            opaque_id: hex::encode_upper(id),
            attributes: BasicAttributes {
                name: "試験\u{3000}花子".to_owned(),
                address: "東京都千代田区霞が関一丁目二番三号".to_owned(),
                birth_date: "419900101".to_owned(),
                sex: "2".to_owned(),
            },
            name_substitute: None,
            address_substitute: None,
        }
    }
}

/// The two JPKI roots and the card's two credentials.
#[derive(Clone, Debug)]
pub struct JpkiCredentials {
    /// Root for user authentication (card EF 000B).
    pub auth_root: Vec<u8>,
    /// Root for digital signature (card EF 0002).
    pub sign_root: Vec<u8>,
    /// User-authentication certificate and key (EF 000A / 0017).
    pub auth: Credential,
    /// Signing certificate and key (EF 0001 / 001A).
    pub sign: Credential,
}

/// Issues the two roots and the card's certificates for `subject`.
pub fn issue_jpki(subject: &JpkiSubject) -> Result<JpkiCredentials, PkiError> {
    JpkiTestCas::new()?.issue(subject)
}

/// [`issue_jpki`] with keys of `algorithm` throughout (roots and card; D153: the next card generation's ECDSA
/// P-384 / SHA-384, its end-entity certificates valid 10 years).
pub fn issue_jpki_for(subject: &JpkiSubject, algorithm: CardAlgorithm) -> Result<JpkiCredentials, PkiError> {
    JpkiTestCas::new_for(algorithm)?.issue(subject)
}

/// The two JPKI test roots with their keys: more cards under them, and CRLs (for revocation tests).
pub struct JpkiTestCas {
    auth_root: Ca,
    sign_root: Ca,
}

impl std::fmt::Debug for JpkiTestCas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JpkiTestCas { auth_root, sign_root }")
    }
}

impl JpkiTestCas {
    /// Two fresh RSA-2048 roots.
    pub fn new() -> Result<Self, PkiError> {
        Self::new_for(CardAlgorithm::Rsa2048)
    }

    /// Two fresh roots with keys of `algorithm`, issuing cards of that algorithm.
    pub fn new_for(algorithm: CardAlgorithm) -> Result<Self, PkiError> {
        Ok(Self {
            auth_root: Ca::root_for("JPKI auth root", root_params("TEST JPKI for user authentication"), algorithm)?,
            sign_root: Ca::root_for("JPKI sign root", root_params("TEST JPKI for digital signature"), algorithm)?,
        })
    }

    /// A card's two certificates for `subject` under these roots.
    pub fn issue(&self, subject: &JpkiSubject) -> Result<JpkiCredentials, PkiError> {
        // The next generation's certificates are valid 10 years (issue #49), today's 5.
        let years = match self.auth_root.algorithm {
            CardAlgorithm::P384 => 10,
            _ => 5,
        };
        let mut auth = ee_params(subject, &AUTH_POLICY, years);
        auth.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let auth = self.auth_root.issue("JPKI authentication certificate", auth)?;

        let mut sign = ee_params(subject, &SIGN_POLICY, years);
        sign.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
        let item = |arc: u64, value: &str| {
            let mut oid = ITEM_ARC.to_vec();
            oid.push(arc);
            SanType::OtherName((oid, OtherNameValue::Utf8String(value.to_owned())))
        };
        let a = &subject.attributes;
        // In the order of a real card's certificate as `openssl x509 -ext subjectAltName` printed it (a 2022
        // write-up): name, date of birth, sex, address, then the two substitute-position items.
        sign.subject_alt_names = vec![
            item(NAME_ITEM, &a.name),
            item(BIRTH_ITEM, &a.birth_date),
            item(SEX_ITEM, &a.sex),
            item(ADDRESS_ITEM, &a.address),
        ];
        sign.subject_alt_names.extend(
            [(NAME_SUBSTITUTE_ITEM, &subject.name_substitute), (ADDRESS_SUBSTITUTE_ITEM, &subject.address_substitute)]
                .into_iter()
                .filter_map(|(arc, value)| value.as_deref().map(|v| item(arc, v))),
        );
        let sign = self.sign_root.issue("JPKI signing certificate", sign)?;

        Ok(JpkiCredentials {
            auth_root: self.auth_root.cert.clone(),
            sign_root: self.sign_root.cert.clone(),
            auth,
            sign,
        })
    }

    /// A CRL of the authentication root (covering authentication certificates).
    pub fn auth_crl(&self, revoked: &[Revoked], validity: CrlValidity) -> Result<Vec<u8>, PkiError> {
        self.auth_root.crl("JPKI auth root CRL", revoked, validity)
    }

    /// A CRL of the signing root (covering signing certificates: the one a consent's evidence keeps).
    pub fn sign_crl(&self, revoked: &[Revoked], validity: CrlValidity) -> Result<Vec<u8>, PkiError> {
        self.sign_root.crl("JPKI sign root CRL", revoked, validity)
    }
}

fn root_params(purpose: &str) -> rcgen::CertificateParams {
    params(
        &[
            (DnType::CountryName, "JP"),
            (DnType::OrganizationName, "TEST JPKI"),
            (DnType::OrganizationalUnitName, purpose),
            (second_ou(), "TEST Japan Agency for Local Authority Information Systems"),
        ],
        365,
        10 * 365,
    )
}

fn ee_params(subject: &JpkiSubject, policy: &ObjectIdentifier, years: i64) -> rcgen::CertificateParams {
    let days = years * 365 + years / 4;
    let mut p = params(&[(DnType::CountryName, "JP"), (DnType::CommonName, &subject.opaque_id)], 0, days);
    p.custom_extensions.push(policy_extension(policy, "http://hcpki-test.invalid/jpki/cps/", false));
    p
}
