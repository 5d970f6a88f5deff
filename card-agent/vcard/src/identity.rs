//! An identity directory: the keys, certificates, PINs and names one virtual card presents, kept on
//! disk so that runs are reproducible and tests can compare what they read from the card.
//!
//! ```text
//! DIR/identity.json       version, kind, PINs, subject (names, role), HPKI layout
//! DIR/<name>.pem          certificates (PEM "CERTIFICATE")
//! DIR/<name>.key          PKCS#8 private keys (PEM "PRIVATE KEY"), mode 0600
//! ```
//!
//! JPKI names: `auth`, `auth-ca`, `sign`, `sign-ca`. HPKI: `signature`, `authentication`,
//! `signature-ca`, `authentication-ca`, `root-ca`. `identity.json` is written last, so a directory
//! without it is incomplete and gets regenerated.

use crate::card::{CardKind, VirtualCard};
use crate::hpki::{HpkiApContents, HpkiCard, HpkiContents, HpkiLayout};
use crate::jpki::{JpkiCard, JpkiContents};
use crate::key::{CardAlgorithm, CardKey, KeyError};
use crate::pin::PinPolicy;
use crate::testpki::{
    Credential, HpkiCredentials, HpkiSubject, JpkiCredentials, JpkiSubject, PkiError, issue_hpki_for, issue_jpki_for,
};
use std::path::{Path, PathBuf};

/// The manifest file in an identity directory.
pub const MANIFEST: &str = "identity.json";
const VERSION: u32 = 1;

/// Errors loading, generating or saving an identity.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// A file could not be read or written; check the path and its permissions.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `identity.json` is not valid; fix it or delete the directory to regenerate it.
    #[error("{path}: {reason}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A PEM file does not hold what its name says; delete the directory to regenerate it.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The directory holds another kind of card than asked for; use another `--identity` directory.
    #[error("{path} holds a {found} identity, not {wanted}; use another --identity directory")]
    KindMismatch {
        /// The directory.
        path: PathBuf,
        /// Kind on disk.
        found: CardKind,
        /// Kind asked for.
        wanted: CardKind,
    },
    /// A PIN its card could never hold (wrong length or characters); choose one the policy admits.
    #[error("the {which} {value:?} is not {policy}")]
    BadPin {
        /// Which PIN.
        which: &'static str,
        /// The offending value (test PINs are not secrets).
        value: String,
        /// The rule, in words.
        policy: &'static str,
    },
    /// Key material could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Certificates could not be issued.
    #[error(transparent)]
    Pki(#[from] PkiError),
}

/// PINs of a JPKI card.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JpkiPins {
    /// 利用者証明用 PIN: 4 digits.
    pub auth: String,
    /// 署名用 password: 6–16 of A–Z0–9.
    pub sign: String,
    /// 券面事項入力補助 PIN: 4 digits.
    pub text: String,
}

impl Default for JpkiPins {
    fn default() -> Self {
        Self { auth: "1234".to_owned(), sign: "SIGN1234".to_owned(), text: "1234".to_owned() }
    }
}

/// PINs of an HPKI card.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpkiPins {
    /// Signature AP PIN: 4–16 printable ASCII.
    pub signature: String,
    /// Authentication AP PIN: 4–16 printable ASCII.
    pub authentication: String,
}

impl Default for HpkiPins {
    fn default() -> Self {
        Self { signature: "hpki1234".to_owned(), authentication: "hpki1234".to_owned() }
    }
}

/// A JPKI card's identity.
#[derive(Clone, Debug)]
pub struct JpkiIdentity {
    /// Names and the four items.
    pub subject: JpkiSubject,
    /// PINs.
    pub pins: JpkiPins,
    /// Certificates and keys.
    pub credentials: JpkiCredentials,
}

/// An HPKI card's identity.
#[derive(Clone, Debug)]
pub struct HpkiIdentity {
    /// Names and role.
    pub subject: HpkiSubject,
    /// File layout.
    pub layout: HpkiLayout,
    /// PINs.
    pub pins: HpkiPins,
    /// Certificates and keys.
    pub credentials: HpkiCredentials,
}

/// What one virtual card presents.
#[derive(Clone, Debug)]
pub enum Identity {
    /// A My Number card.
    Jpki(JpkiIdentity),
    /// An HPKI card.
    Hpki(HpkiIdentity),
}

/// Whether [`Identity::load_or_generate`] found the identity or made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Read from the directory.
    Loaded,
    /// Generated and written to the directory.
    Generated,
}

/// What to generate when a directory holds no identity yet.
#[derive(Clone, Debug)]
pub enum IdentityRequest {
    /// A JPKI card.
    Jpki {
        /// Names and the four items.
        subject: JpkiSubject,
        /// PINs.
        pins: JpkiPins,
        /// The key algorithm of the card and its test roots (RSA-2048, or the next generation's P-384; D153), in
        /// today's file layout either way.
        algorithm: CardAlgorithm,
    },
    /// An HPKI card.
    Hpki {
        /// Names and role.
        subject: HpkiSubject,
        /// File layout.
        layout: HpkiLayout,
        /// PINs.
        pins: HpkiPins,
        /// The key algorithm of the card and its test hierarchy: RSA-2048 (every card issued today), or ECDSA
        /// P-384 in the same layout (D177: the path an EC HPKI card will take once its layout is published).
        algorithm: CardAlgorithm,
    },
}

impl IdentityRequest {
    /// The kind of card asked for.
    pub fn kind(&self) -> CardKind {
        match self {
            IdentityRequest::Jpki { .. } => CardKind::Jpki,
            IdentityRequest::Hpki { .. } => CardKind::Hpki,
        }
    }
}

/// `identity.json`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    version: u32,
    kind: CardKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jpki: Option<JpkiManifest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hpki: Option<HpkiManifest>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JpkiManifest {
    pins: JpkiPins,
    subject: JpkiSubject,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HpkiManifest {
    layout: String,
    pins: HpkiPins,
    subject: HpkiSubject,
}

impl Identity {
    /// Issues a fresh identity (new keys and certificates).
    pub fn generate(request: &IdentityRequest) -> Result<Self, IdentityError> {
        match request {
            IdentityRequest::Jpki { subject, pins, algorithm } => {
                check_jpki_pins(pins)?;
                Ok(Identity::Jpki(JpkiIdentity {
                    credentials: issue_jpki_for(subject, *algorithm)?,
                    subject: subject.clone(),
                    pins: pins.clone(),
                }))
            }
            IdentityRequest::Hpki { subject, layout, pins, algorithm } => {
                check_hpki_pins(pins, layout)?;
                Ok(Identity::Hpki(HpkiIdentity {
                    credentials: issue_hpki_for(subject, *algorithm)?,
                    subject: subject.clone(),
                    layout: *layout,
                    pins: pins.clone(),
                }))
            }
        }
    }

    /// Loads the identity in `dir`, or generates one from `request` and writes it there.
    pub fn load_or_generate(dir: &Path, request: &IdentityRequest) -> Result<(Self, Origin), IdentityError> {
        if dir.join(MANIFEST).is_file() {
            let identity = Self::load(dir)?;
            if identity.kind() != request.kind() {
                return Err(IdentityError::KindMismatch {
                    path: dir.to_owned(),
                    found: identity.kind(),
                    wanted: request.kind(),
                });
            }
            return Ok((identity, Origin::Loaded));
        }
        let identity = Self::generate(request)?;
        identity.save(dir)?;
        Ok((identity, Origin::Generated))
    }

    /// Which card this identity is for.
    pub fn kind(&self) -> CardKind {
        match self {
            Identity::Jpki(_) => CardKind::Jpki,
            Identity::Hpki(_) => CardKind::Hpki,
        }
    }

    /// A powered virtual card presenting this identity, PIN counters full.
    pub fn card(&self) -> VirtualCard {
        match self {
            Identity::Jpki(id) => VirtualCard::jpki(JpkiCard::new(JpkiContents {
                auth_cert: id.credentials.auth.cert.clone(),
                auth_ca: id.credentials.auth_root.clone(),
                sign_cert: id.credentials.sign.cert.clone(),
                sign_ca: id.credentials.sign_root.clone(),
                auth_key: id.credentials.auth.key.clone(),
                sign_key: id.credentials.sign.key.clone(),
                auth_pin: id.pins.auth.clone(),
                sign_password: id.pins.sign.clone(),
                text_pin: id.pins.text.clone(),
                attributes: id.subject.attributes.clone(),
            })),
            Identity::Hpki(id) => VirtualCard::hpki(HpkiCard::new(HpkiContents {
                layout: id.layout,
                signature: Some(HpkiApContents {
                    cert: id.credentials.signature.cert.clone(),
                    key: id.credentials.signature.key.clone(),
                    pin: id.pins.signature.clone(),
                }),
                authentication: Some(HpkiApContents {
                    cert: id.credentials.authentication.cert.clone(),
                    key: id.credentials.authentication.key.clone(),
                    pin: id.pins.authentication.clone(),
                }),
            })),
        }
    }

    /// The certificates by file name (without `.pem`), end entities first.
    pub fn certificates(&self) -> Vec<(&'static str, &[u8])> {
        match self {
            Identity::Jpki(id) => vec![
                ("auth", &id.credentials.auth.cert),
                ("sign", &id.credentials.sign.cert),
                ("auth-ca", &id.credentials.auth_root),
                ("sign-ca", &id.credentials.sign_root),
            ],
            Identity::Hpki(id) => vec![
                ("signature", &id.credentials.signature.cert),
                ("authentication", &id.credentials.authentication.cert),
                ("signature-ca", &id.credentials.signature_ca),
                ("authentication-ca", &id.credentials.authentication_ca),
                ("root-ca", &id.credentials.root),
            ],
        }
    }

    fn keys(&self) -> Vec<(&'static str, &CardKey)> {
        match self {
            Identity::Jpki(id) => vec![("auth", &id.credentials.auth.key), ("sign", &id.credentials.sign.key)],
            Identity::Hpki(id) => vec![
                ("signature", &id.credentials.signature.key),
                ("authentication", &id.credentials.authentication.key),
            ],
        }
    }

    /// Writes the identity into `dir` (created if missing), manifest last.
    pub fn save(&self, dir: &Path) -> Result<(), IdentityError> {
        std::fs::create_dir_all(dir).map_err(|source| IdentityError::Io { path: dir.to_owned(), source })?;
        for (name, der) in self.certificates() {
            write_pem(&dir.join(format!("{name}.pem")), "CERTIFICATE", der, 0o644)?;
        }
        for (name, key) in self.keys() {
            write_pem(&dir.join(format!("{name}.key")), "PRIVATE KEY", key.pkcs8_der(), 0o600)?;
        }
        let manifest = match self {
            Identity::Jpki(id) => Manifest {
                version: VERSION,
                kind: CardKind::Jpki,
                jpki: Some(JpkiManifest { pins: id.pins.clone(), subject: id.subject.clone() }),
                hpki: None,
            },
            Identity::Hpki(id) => Manifest {
                version: VERSION,
                kind: CardKind::Hpki,
                jpki: None,
                hpki: Some(HpkiManifest {
                    layout: id.layout.name.to_owned(),
                    pins: id.pins.clone(),
                    subject: id.subject.clone(),
                }),
            },
        };
        let path = dir.join(MANIFEST);
        let json = serde_json::to_string_pretty(&manifest)
            .map_err(|e| IdentityError::Manifest { path: path.clone(), reason: e.to_string() })?;
        write_file(&path, format!("{json}\n").as_bytes(), 0o600)
    }

    /// Reads the identity in `dir`.
    pub fn load(dir: &Path) -> Result<Self, IdentityError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|source| IdentityError::Io { path: path.clone(), source })?;
        let bad = |reason: String| IdentityError::Manifest { path: path.clone(), reason };
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if manifest.version != VERSION {
            return Err(bad(format!("version {} is not {VERSION}", manifest.version)));
        }
        let cert = |name: &str| read_pem(&dir.join(format!("{name}.pem")), "CERTIFICATE");
        let credential = |name: &str| -> Result<Credential, IdentityError> {
            let key_der = read_pem(&dir.join(format!("{name}.key")), "PRIVATE KEY")?;
            Ok(Credential { cert: cert(name)?, key: CardKey::from_pkcs8_der(&key_der)? })
        };
        match (manifest.kind, manifest.jpki, manifest.hpki) {
            (CardKind::Jpki, Some(m), None) => {
                check_jpki_pins(&m.pins)?;
                Ok(Identity::Jpki(JpkiIdentity {
                    credentials: JpkiCredentials {
                        auth_root: cert("auth-ca")?,
                        sign_root: cert("sign-ca")?,
                        auth: credential("auth")?,
                        sign: credential("sign")?,
                    },
                    subject: m.subject,
                    pins: m.pins,
                }))
            }
            (CardKind::Hpki, None, Some(m)) => {
                let layout = HpkiLayout::by_name(&m.layout)
                    .ok_or_else(|| bad(format!("unknown HPKI layout {:?} (jma or jahis)", m.layout)))?;
                check_hpki_pins(&m.pins, &layout)?;
                Ok(Identity::Hpki(HpkiIdentity {
                    credentials: HpkiCredentials {
                        root: cert("root-ca")?,
                        signature_ca: cert("signature-ca")?,
                        authentication_ca: cert("authentication-ca")?,
                        signature: credential("signature")?,
                        authentication: credential("authentication")?,
                    },
                    subject: m.subject,
                    layout,
                    pins: m.pins,
                }))
            }
            (kind, _, _) => Err(bad(format!("kind {kind} needs exactly the \"{kind}\" section"))),
        }
    }
}

/// Checks the PINs against what a real JPKI card accepts.
pub fn check_jpki_pins(pins: &JpkiPins) -> Result<(), IdentityError> {
    check_pin("JPKI auth PIN", &pins.auth, PinPolicy::JPKI_AUTH, "4 digits")?;
    check_pin("JPKI signing password", &pins.sign, PinPolicy::JPKI_SIGN, "6–16 characters of A–Z and 0–9")?;
    check_pin("JPKI text-AP PIN", &pins.text, PinPolicy::JPKI_TEXT, "4 digits")
}

/// Checks the PINs against the layout's policy.
pub fn check_hpki_pins(pins: &HpkiPins, layout: &HpkiLayout) -> Result<(), IdentityError> {
    let rule = "4–16 printable ASCII characters";
    check_pin("HPKI signature PIN", &pins.signature, layout.pin_policy, rule)?;
    check_pin("HPKI authentication PIN", &pins.authentication, layout.pin_policy, rule)
}

fn check_pin(which: &'static str, value: &str, policy: PinPolicy, rule: &'static str) -> Result<(), IdentityError> {
    if policy.admits(value.as_bytes()) {
        Ok(())
    } else {
        Err(IdentityError::BadPin { which, value: value.to_owned(), policy: rule })
    }
}

fn write_pem(path: &Path, label: &str, der: &[u8], mode: u32) -> Result<(), IdentityError> {
    let pem = der::pem::encode_string(label, der::pem::LineEnding::LF, der)
        .map_err(|e| IdentityError::Pem { path: path.to_owned(), reason: e.to_string() })?;
    write_file(path, pem.as_bytes(), mode)
}

/// Writes with the given mode from the first byte (a key is never briefly world-readable).
#[cfg(unix)]
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), IdentityError> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |source| IdentityError::Io { path: path.to_owned(), source };
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(path).map_err(io)?;
    // An existing file keeps its old mode through open(); set it explicitly.
    file.set_permissions(std::fs::Permissions::from_mode(mode)).map_err(io)?;
    file.write_all(bytes).map_err(io)
}

/// Elsewhere (the agent's tests built as Windows code) a test identity lives in the test's own temporary directory,
/// which the user's profile already keeps to the user; there is no mode to set.
#[cfg(not(unix))]
fn write_file(path: &Path, bytes: &[u8], _mode: u32) -> Result<(), IdentityError> {
    std::fs::write(path, bytes).map_err(|source| IdentityError::Io { path: path.to_owned(), source })
}

fn read_pem(path: &Path, label: &str) -> Result<Vec<u8>, IdentityError> {
    let text = std::fs::read(path).map_err(|source| IdentityError::Io { path: path.to_owned(), source })?;
    let bad = |reason: String| IdentityError::Pem { path: path.to_owned(), reason };
    let (found, der) = der::pem::decode_vec(&text).map_err(|e| bad(e.to_string()))?;
    if found != label {
        return Err(bad(format!("PEM label {found:?}, expected {label:?}")));
    }
    Ok(der)
}
