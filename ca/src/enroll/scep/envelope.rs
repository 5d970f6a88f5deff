//! The `pkcsPKIEnvelope` (RFC 8894 §3.2.2): a CMS EnvelopedData whose content-encryption key travels
//! RSAES-PKCS1-v1_5-encrypted to one recipient certificate (RFC 5652 §6.2.1):
//!
//! ```text
//! EnvelopedData ::= SEQUENCE { version 0, recipientInfos SET OF RecipientInfo,
//!                              encryptedContentInfo EncryptedContentInfo }
//! KeyTransRecipientInfo ::= SEQUENCE { version 0, rid IssuerAndSerialNumber,
//!                                      keyEncryptionAlgorithm rsaEncryption, encryptedKey OCTET STRING }
//! EncryptedContentInfo ::= SEQUENCE { contentType id-data, contentEncryptionAlgorithm { oid, iv OCTET STRING },
//!                                     encryptedContent [0] IMPLICIT OCTET STRING }
//! ```
//!
//! Requests are encrypted to the RA certificate; answers to the requester's signing certificate, with the
//! cipher the request used, so a client only ever sees a cipher it chose itself.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{EncryptedContentInfo, RecipientIdentifier, RecipientInfo, RecipientInfos};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_DATA, ID_ENVELOPED_DATA};
use const_oid::db::rfc5912::RSA_ENCRYPTION;
use der::asn1::{Any, Null, OctetString};
use der::{Decode, Encode, Tagged};
use hcpki_pkix::keys::Decrypter;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use zeroize::Zeroizing;

const AES_128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES_192_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES_256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
const DES_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.7");
const DES_EDE3_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.7");

/// The content-encryption algorithms SCEP clients use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentCipher {
    /// AES-128-CBC (RFC 8894's mandatory cipher).
    Aes128Cbc,
    /// AES-192-CBC.
    Aes192Cbc,
    /// AES-256-CBC.
    Aes256Cbc,
    /// Single DES-CBC: legacy devices only (56-bit keys).
    DesCbc,
    /// Triple DES (EDE3) CBC: legacy devices only.
    DesEde3Cbc,
}

impl ContentCipher {
    /// The cipher an algorithm OID names.
    pub fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        [Self::Aes128Cbc, Self::Aes192Cbc, Self::Aes256Cbc, Self::DesCbc, Self::DesEde3Cbc]
            .into_iter()
            .find(|c| c.oid() == oid)
    }

    /// Its algorithm OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Aes128Cbc => AES_128_CBC,
            Self::Aes192Cbc => AES_192_CBC,
            Self::Aes256Cbc => AES_256_CBC,
            Self::DesCbc => DES_CBC,
            Self::DesEde3Cbc => DES_EDE3_CBC,
        }
    }

    /// DES and 3DES: accepted only where an endpoint allows legacy ciphers.
    pub fn is_legacy(self) -> bool {
        matches!(self, Self::DesCbc | Self::DesEde3Cbc)
    }

    fn key_len(self) -> usize {
        match self {
            Self::Aes128Cbc => 16,
            Self::Aes192Cbc | Self::DesEde3Cbc => 24,
            Self::Aes256Cbc => 32,
            Self::DesCbc => 8,
        }
    }

    fn iv_len(self) -> usize {
        if self.is_legacy() { 8 } else { 16 }
    }

    fn decrypt(self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        fn run<C: BlockModeDecrypt + KeyIvInit>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
            C::new_from_slices(key, iv).ok()?.decrypt_padded_vec::<Pkcs7>(data).ok()
        }
        let plain = match self {
            Self::Aes128Cbc => run::<cbc::Decryptor<aes::Aes128>>(key, iv, data),
            Self::Aes192Cbc => run::<cbc::Decryptor<aes::Aes192>>(key, iv, data),
            Self::Aes256Cbc => run::<cbc::Decryptor<aes::Aes256>>(key, iv, data),
            Self::DesCbc => run::<cbc::Decryptor<des::Des>>(key, iv, data),
            Self::DesEde3Cbc => run::<cbc::Decryptor<des::TdesEde3>>(key, iv, data),
        };
        plain.map(Zeroizing::new).ok_or(EnvelopeError::Decrypt)
    }

    fn encrypt(self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        fn run<C: BlockModeEncrypt + KeyIvInit>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
            Some(C::new_from_slices(key, iv).ok()?.encrypt_padded_vec::<Pkcs7>(data))
        }
        let sealed = match self {
            Self::Aes128Cbc => run::<cbc::Encryptor<aes::Aes128>>(key, iv, data),
            Self::Aes192Cbc => run::<cbc::Encryptor<aes::Aes192>>(key, iv, data),
            Self::Aes256Cbc => run::<cbc::Encryptor<aes::Aes256>>(key, iv, data),
            Self::DesCbc => run::<cbc::Encryptor<des::Des>>(key, iv, data),
            Self::DesEde3Cbc => run::<cbc::Encryptor<des::TdesEde3>>(key, iv, data),
        };
        sealed.ok_or_else(|| EnvelopeError::Malformed("cannot set up the content cipher".into()))
    }
}

impl std::fmt::Display for ContentCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Aes128Cbc => "AES-128-CBC",
            Self::Aes192Cbc => "AES-192-CBC",
            Self::Aes256Cbc => "AES-256-CBC",
            Self::DesCbc => "DES-CBC",
            Self::DesEde3Cbc => "3DES-CBC",
        })
    }
}

/// Why an envelope could not be opened or made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Not an EnvelopedData with one RSA key-transport recipient.
    #[error("the pkcsPKIEnvelope is malformed: {0}")]
    Malformed(String),
    /// A cipher this endpoint does not accept.
    #[error("content encryption {0} is not accepted here: use AES (GetCACaps lists what is)")]
    Algorithm(String),
    /// The key or the content did not decrypt: encrypted to another certificate, or damaged.
    #[error("the pkcsPKIEnvelope does not decrypt: encrypt it to the RA certificate from GetCACert")]
    Decrypt,
}

/// Decrypt an envelope (the DER of a ContentInfo holding an EnvelopedData) with the RA key. Returns the
/// content and the cipher the client chose.
pub fn open(
    der: &[u8],
    ra: &dyn Decrypter,
    ra_certificate: &Certificate,
    allow_legacy: bool,
) -> Result<(Zeroizing<Vec<u8>>, ContentCipher), EnvelopeError> {
    let malformed = |what: &str| EnvelopeError::Malformed(what.to_owned());
    let info = ContentInfo::from_der(der).map_err(|e| malformed(&format!("not a CMS ContentInfo ({e})")))?;
    if info.content_type != ID_ENVELOPED_DATA {
        return Err(malformed(&format!("content type {} is not envelopedData", info.content_type)));
    }
    let enveloped: ReceivedEnvelopedData =
        info.content.decode_as().map_err(|e| malformed(&format!("not an EnvelopedData ({e})")))?;
    // Some clients (micromdm scepclient) encrypt to every certificate GetCACert returned: take the RA's.
    let tbs = ra_certificate.tbs_certificate();
    let ktri = enveloped
        .recip_infos
        .0
        .iter()
        .find_map(|r| match r {
            RecipientInfo::Ktri(k) if k.key_enc_alg.oid == RSA_ENCRYPTION => match &k.rid {
                RecipientIdentifier::IssuerAndSerialNumber(isn)
                    if &isn.issuer == tbs.issuer() && &isn.serial_number == tbs.serial_number() =>
                {
                    Some(k)
                }
                _ => None,
            },
            _ => None,
        })
        .ok_or_else(|| malformed("no RSA key-transport recipient for the RA certificate from GetCACert"))?;
    let eci = &enveloped.encrypted_content;
    let alg = &eci.content_enc_alg;
    let cipher =
        ContentCipher::from_oid(alg.oid).ok_or_else(|| EnvelopeError::Algorithm(format!("with OID {}", alg.oid)))?;
    if cipher.is_legacy() && !allow_legacy {
        return Err(EnvelopeError::Algorithm(cipher.to_string()));
    }
    let iv = alg
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<OctetString>().ok())
        .filter(|iv| iv.as_bytes().len() == cipher.iv_len())
        .ok_or_else(|| malformed("the content-encryption IV is missing or of the wrong length"))?;
    let content = eci
        .encrypted_content
        .as_ref()
        .and_then(encrypted_content)
        .ok_or_else(|| malformed("no encrypted content, or not an [0] OCTET STRING"))?;
    let key = ra.decrypt_pkcs1v15(ktri.enc_key.as_bytes()).map_err(|_| EnvelopeError::Decrypt)?;
    if key.len() != cipher.key_len() {
        return Err(EnvelopeError::Decrypt);
    }
    Ok((cipher.decrypt(&key, iv.as_bytes(), &content)?, cipher))
}

/// An EnvelopedData as clients send it. Its `encryptedContent` is read by hand because Go's PKCS#7
/// (micromdm scepclient) sends it as a *constructed* `[0]` of OCTET STRING chunks, which BER allows and DER
/// does not.
#[derive(Clone, Debug, der::Sequence)]
struct ReceivedEnvelopedData {
    version: CmsVersion,
    recip_infos: RecipientInfos,
    encrypted_content: ReceivedEncryptedContentInfo,
}

#[derive(Clone, Debug, der::Sequence)]
struct ReceivedEncryptedContentInfo {
    content_type: ObjectIdentifier,
    content_enc_alg: AlgorithmIdentifierOwned,
    #[asn1(optional = "true")]
    encrypted_content: Option<Any>,
}

/// `[0] IMPLICIT OCTET STRING`, primitive or constructed from primitive OCTET STRING chunks.
fn encrypted_content(value: &Any) -> Option<Vec<u8>> {
    let tag = value.tag();
    if tag.class() != der::Class::ContextSpecific || tag.number() != der::TagNumber(0) {
        return None;
    }
    if !tag.is_constructed() {
        return Some(value.value().to_vec());
    }
    let mut reader = der::SliceReader::new(value.value()).ok()?;
    let mut out = Vec::new();
    while !der::Reader::is_finished(&reader) {
        let chunk = OctetString::decode(&mut reader).ok()?;
        out.extend_from_slice(chunk.as_bytes());
    }
    Some(out)
}

/// Encrypt `content` to `recipient`'s RSA key with `cipher`: the DER of a ContentInfo holding the
/// EnvelopedData.
pub fn seal(
    content: &[u8],
    recipient: &super::message::SignerCertificate,
    cipher: ContentCipher,
) -> Result<Vec<u8>, EnvelopeError> {
    let malformed = |e: der::Error| EnvelopeError::Malformed(e.to_string());
    let key = hcpki_pkix::keys::random_secret(cipher.key_len()).map_err(|_| EnvelopeError::Decrypt)?;
    let iv = hcpki_pkix::keys::random_secret(cipher.iv_len()).map_err(|_| EnvelopeError::Decrypt)?;
    let spki = recipient.tbs_certificate().subject_public_key_info().to_der().map_err(malformed)?;
    let public = aws_lc_rs::rsa::PublicEncryptingKey::from_der(&spki)
        .map_err(|_| EnvelopeError::Algorithm("to a non-RSA certificate".into()))?;
    let public = aws_lc_rs::rsa::Pkcs1PublicEncryptingKey::new(public)
        .map_err(|_| EnvelopeError::Algorithm("to a non-RSA certificate".into()))?;
    let mut wrapped = vec![0u8; public.ciphertext_size()];
    let wrapped_len = public.encrypt(&key, &mut wrapped).map_err(|_| EnvelopeError::Decrypt)?.len();
    wrapped.truncate(wrapped_len);
    let tbs = recipient.tbs_certificate();
    let ktri = SentKeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: super::message::RawIssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        },
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::encode_from(&Null).map_err(malformed)?),
        },
        enc_key: OctetString::new(wrapped).map_err(malformed)?,
    };
    let encrypted = cipher.encrypt(&key, &iv, content)?;
    let mut recipients = der::asn1::SetOfVec::new();
    recipients.insert(Any::encode_from(&ktri).map_err(malformed)?).map_err(malformed)?;
    let enveloped = SentEnvelopedData {
        version: CmsVersion::V0,
        recip_infos: recipients,
        encrypted_content: EncryptedContentInfo {
            content_type: ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: cipher.oid(),
                parameters: Some(
                    Any::encode_from(&OctetString::new(iv.as_slice()).map_err(malformed)?).map_err(malformed)?,
                ),
            },
            encrypted_content: Some(OctetString::new(encrypted).map_err(malformed)?),
        },
    };
    ContentInfo { content_type: ID_ENVELOPED_DATA, content: Any::encode_from(&enveloped).map_err(malformed)? }
        .to_der()
        .map_err(malformed)
}

/// The EnvelopedData of an answer; its recipient is named by a serial of any length (the requester's
/// self-signed certificate may have a longer one than RFC 5280 allows, so cms' types cannot carry it).
#[derive(Clone, Debug, der::Sequence)]
struct SentEnvelopedData {
    version: CmsVersion,
    recip_infos: der::asn1::SetOfVec<Any>,
    encrypted_content: EncryptedContentInfo,
}

/// KeyTransRecipientInfo with a serial of any length.
#[derive(Clone, Debug, der::Sequence)]
struct SentKeyTransRecipientInfo {
    version: CmsVersion,
    rid: super::message::RawIssuerAndSerialNumber,
    key_enc_alg: AlgorithmIdentifierOwned,
    enc_key: OctetString,
}
