//! PKCS#12 (RFC 7292) files for devices without an enrollment client: one private key, its certificate and
//! the CA chain, the key encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC; RFC 8018), the whole file
//! integrity-protected by an HMAC-SHA256 MAC keyed by the RFC 7292 Appendix B KDF — the combination OpenSSL 3
//! writes by default and current router firmware reads.
//!
//! ```text
//! PFX ::= SEQUENCE {                               -- RFC 7292 §4
//!     version     INTEGER {v3(3)}(v3,...),
//!     authSafe    ContentInfo,                     -- id-data: OCTET STRING of AuthenticatedSafe
//!     macData     MacData OPTIONAL }
//! MacData ::= SEQUENCE {
//!     mac         DigestInfo,
//!     macSalt     OCTET STRING,
//!     iterations  INTEGER DEFAULT 1 }
//! AuthenticatedSafe ::= SEQUENCE OF ContentInfo    -- here: id-data (certificates), id-data (shrouded key)
//! SafeContents ::= SEQUENCE OF SafeBag
//! SafeBag ::= SEQUENCE {
//!     bagId          BAG-TYPE.&id ({PKCS12BagSet}),
//!     bagValue       [0] EXPLICIT BAG-TYPE.&Type({PKCS12BagSet}{@bagId}),
//!     bagAttributes  SET OF PKCS12Attribute OPTIONAL }
//! CertBag ::= SEQUENCE {
//!     certId    BAG-TYPE.&id   ({CertTypes}),      -- x509Certificate
//!     certValue [0] EXPLICIT BAG-TYPE.&Type ({CertTypes}{@certId}) }  -- OCTET STRING of the DER
//! ```
//!
//! The certificates travel unencrypted inside the MAC-protected file (they are public); only the key bag is
//! encrypted. Both bags of the device's own certificate and key carry the same localKeyId and friendlyName,
//! which is how importers pair them.

use aws_lc_rs::{digest, hmac, rand::SecureRandom};
use const_oid::ObjectIdentifier;
use der::asn1::{Any, BmpString, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence, ValueOrd};
use zeroize::Zeroizing;

/// PBKDF2 and MAC iterations: OpenSSL's `-iter` default is 2048; routers derive the key once at import, so
/// a higher count costs them little and the generated passphrase is strong anyway.
pub const ITERATIONS: u32 = 100_000;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const PKCS8_SHROUDED_KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
const FRIENDLY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.20");
const LOCAL_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// Why a PKCS#12 file could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs12Error {
    /// An encoding step failed (a malformed key or certificate was passed in): a bug to report.
    #[error("cannot encode the PKCS#12 file: {0}")]
    Encoding(#[from] der::Error),
    /// The private key could not be encrypted (malformed PKCS#8 input): a bug to report.
    #[error("cannot encrypt the private key for PKCS#12: {0}")]
    Encrypt(String),
    /// The system's random number generator failed: check the machine's entropy source, then retry.
    #[error("the system random number generator failed")]
    Random,
}

/// A PKCS#12 file holding `pkcs8_key` (unencrypted PKCS#8 DER), its certificate `leaf` and the CA
/// certificates `chain` (issuer first), protected by `passphrase` (ASCII: PBES2 uses its bytes, the MAC its
/// BMPString form, and the two agree only for ASCII).
pub fn build(
    pkcs8_key: &[u8],
    leaf: &[u8],
    chain: &[Vec<u8>],
    friendly_name: &str,
    passphrase: &str,
) -> Result<Vec<u8>, Pkcs12Error> {
    let local_key_id = digest::digest(&digest::SHA256, leaf);
    let own = attributes(friendly_name, local_key_id.as_ref())?;

    let mut cert_bags = vec![SafeBag::cert(leaf, Some(own.clone()))?];
    for ca in chain {
        cert_bags.push(SafeBag::cert(ca, None)?);
    }
    let key_bag = SafeBag {
        bag_id: PKCS8_SHROUDED_KEY_BAG,
        bag_value: Any::from_der(&encrypt_key(pkcs8_key, passphrase)?)?,
        bag_attributes: Some(own),
    };
    let auth_safe = vec![ContentInfo::data(&cert_bags.to_der()?)?, ContentInfo::data(&vec![key_bag].to_der()?)?];
    let auth_safe_der = auth_safe.to_der()?;

    let mac_salt = random::<16>()?;
    let mac_key = kdf_sha256(3, passphrase, &mac_salt, ITERATIONS);
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, mac_key.as_ref()), &auth_safe_der);
    let pfx = Pfx {
        version: 3,
        auth_safe: ContentInfo::data(&auth_safe_der)?,
        mac_data: MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifier { oid: ID_SHA256, parameters: Some(Any::null()) },
                digest: OctetString::new(tag.as_ref())?,
            },
            mac_salt: OctetString::new(mac_salt.as_slice())?,
            iterations: ITERATIONS,
        },
    };
    Ok(pfx.to_der()?)
}

/// The characters of a generated passphrase: digits and capitals without the look-alikes 0/O and 1/I (lower
/// case is left out whole, so o/l/i cannot appear, and read aloud a letter needs no "capital"), and no symbol,
/// whose key moves or whose width changes with a Japanese keyboard's IME. 32 of them: 5 bits each, drawn
/// without bias from 5 random bits.
pub const PASSPHRASE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Characters per hyphen-separated group: four at a time is what one reads aloud over the phone.
pub const PASSPHRASE_GROUP: usize = 4;
/// Groups in a passphrase: 7 × 4 characters × 5 bits = 140 bits (D129). The file protects a P-256 key (128-bit
/// security) or an RSA-2048 one (112): a passphrase above 128 bits is not the weakest part, and every group more
/// is four more characters to read aloud and type (issue #45 item 8).
pub const PASSPHRASE_GROUPS: usize = 7;
const _: () = assert!(PASSPHRASE_GROUPS * PASSPHRASE_GROUP * 5 >= 128, "below the strength of the key it protects");

/// A passphrase for one PKCS#12 file: 28 characters of [`PASSPHRASE_ALPHABET`] (140 random bits) in groups of
/// four joined by hyphens, e.g. `7KQX-M2FA-…`. The hyphens are part of the passphrase (D129): the programs that
/// open the file (OpenSSL, Windows, browsers, routers) take it verbatim, so it is typed exactly as shown.
pub fn generate_passphrase() -> Result<Zeroizing<String>, Pkcs12Error> {
    const CHARS: usize = PASSPHRASE_GROUPS * PASSPHRASE_GROUP;
    const BITS: usize = 5;
    // Whole bytes, rounded up: every character takes its five bits from the random bytes, none from padding.
    let bytes = Zeroizing::new(random::<{ (CHARS * BITS).div_ceil(8) }>()?);
    let mut out = Zeroizing::new(String::with_capacity(CHARS + PASSPHRASE_GROUPS - 1));
    for i in 0..CHARS {
        // Character i is bits 5i..5i+5 of the random bytes (most significant first), read through a 16-bit
        // window so that it may straddle two bytes.
        let (at, shift) = ((i * BITS) / 8, (i * BITS) % 8);
        let byte = |n: usize| u16::from(bytes.get(n).copied().unwrap_or(0));
        let window = (byte(at) << 8) | byte(at + 1);
        let index = usize::from((window >> (16 - BITS - shift)) & 0x1f);
        if i > 0 && i % PASSPHRASE_GROUP == 0 {
            out.push('-');
        }
        // `index` is five bits, so `get` always finds the symbol (the tests count 28 of them).
        out.extend(PASSPHRASE_ALPHABET.get(index).map(|c| char::from(*c)));
    }
    Ok(out)
}

/// `EncryptedPrivateKeyInfo` with PBES2: PBKDF2-HMAC-SHA256 (random 16-byte salt) and AES-256-CBC.
fn encrypt_key(pkcs8_key: &[u8], passphrase: &str) -> Result<Vec<u8>, Pkcs12Error> {
    let salt = random::<16>()?;
    let iv = random::<16>()?;
    let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(ITERATIONS, &salt, iv)
        .map_err(|e| Pkcs12Error::Encrypt(e.to_string()))?;
    let info = pkcs8::PrivateKeyInfoRef::from_der(pkcs8_key)?;
    let encrypted =
        info.encrypt_with_params(params, passphrase.as_bytes()).map_err(|e| Pkcs12Error::Encrypt(e.to_string()))?;
    Ok(encrypted.as_bytes().to_vec())
}

/// RFC 7292 Appendix B.2 with SHA-256 (u = 32, v = 64) for one 32-byte output: `id` 3 makes a MAC key.
/// The password is its BMPString (UTF-16BE) with the two-byte terminator, as B.1 prescribes.
fn kdf_sha256(id: u8, passphrase: &str, salt: &[u8], iterations: u32) -> Zeroizing<Vec<u8>> {
    const V: usize = 64;
    let repeat = |data: &[u8]| -> Vec<u8> {
        if data.is_empty() {
            return Vec::new();
        }
        let len = data.len().div_ceil(V) * V;
        data.iter().copied().cycle().take(len).collect()
    };
    let mut password: Zeroizing<Vec<u8>> =
        Zeroizing::new(passphrase.encode_utf16().flat_map(u16::to_be_bytes).chain([0, 0]).collect());
    let mut input = Zeroizing::new([vec![id; V], repeat(salt), repeat(&password)].concat());
    password.clear();
    let mut a = Zeroizing::new(digest::digest(&digest::SHA256, &input).as_ref().to_vec());
    for _ in 1..iterations {
        *a = digest::digest(&digest::SHA256, &a).as_ref().to_vec();
    }
    input.clear();
    a
}

fn random<const N: usize>() -> Result<[u8; N], Pkcs12Error> {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| Pkcs12Error::Random)?;
    Ok(bytes)
}

/// friendlyName (BMPString) and localKeyId of the device's own key and certificate.
fn attributes(friendly_name: &str, local_key_id: &[u8]) -> Result<SetOfVec<Attribute>, Pkcs12Error> {
    let name = Attribute::single(FRIENDLY_NAME, Any::encode_from(&BmpString::from_utf8(friendly_name)?)?)?;
    let id = Attribute::single(LOCAL_KEY_ID, Any::encode_from(&OctetString::new(local_key_id)?)?)?;
    Ok(SetOfVec::try_from(vec![name, id])?)
}

#[derive(Sequence)]
struct Pfx {
    version: u8,
    auth_safe: ContentInfo,
    mac_data: MacData,
}

#[derive(Sequence)]
struct MacData {
    mac: DigestInfo,
    mac_salt: OctetString,
    iterations: u32,
}

#[derive(Sequence)]
struct DigestInfo {
    algorithm: AlgorithmIdentifier,
    digest: OctetString,
}

#[derive(Sequence)]
struct AlgorithmIdentifier {
    oid: ObjectIdentifier,
    parameters: Option<Any>,
}

/// ContentInfo (RFC 5652 §3); only id-data is written here.
#[derive(Sequence)]
struct ContentInfo {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: Any,
}

impl ContentInfo {
    fn data(bytes: &[u8]) -> Result<Self, der::Error> {
        Ok(Self { content_type: ID_DATA, content: Any::encode_from(&OctetString::new(bytes)?)? })
    }
}

#[derive(Sequence)]
struct SafeBag {
    bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    bag_value: Any,
    bag_attributes: Option<SetOfVec<Attribute>>,
}

impl SafeBag {
    fn cert(der: &[u8], attributes: Option<SetOfVec<Attribute>>) -> Result<Self, der::Error> {
        let bag = CertBag { cert_id: X509_CERTIFICATE, cert_value: Any::encode_from(&OctetString::new(der)?)? };
        Ok(Self { bag_id: CERT_BAG, bag_value: Any::encode_from(&bag)?, bag_attributes: attributes })
    }
}

#[derive(Sequence)]
struct CertBag {
    cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    cert_value: Any,
}

/// PKCS12Attribute ::= SEQUENCE { attrId OID, attrValues SET OF ANY } (RFC 7292 §4.2).
#[derive(Clone, Sequence, ValueOrd)]
struct Attribute {
    id: ObjectIdentifier,
    values: SetOfVec<Any>,
}

impl Attribute {
    fn single(id: ObjectIdentifier, value: Any) -> Result<Self, der::Error> {
        Ok(Self { id, values: SetOfVec::try_from(vec![value])? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7292 Appendix B's KDF against an independent computation of its definition for one block: with a
    /// 64-byte salt and a password whose BMPString is 64 bytes, I = S || P exactly and A = H^r(D || I).
    #[test]
    fn kdf_is_the_rfc7292_construction() {
        let salt = [7u8; 64];
        let passphrase = "a".repeat(31); // 31 UTF-16 units + terminator = 64 bytes
        let mut input = vec![3u8; 64];
        input.extend_from_slice(&salt);
        input.extend(passphrase.encode_utf16().flat_map(u16::to_be_bytes).chain([0, 0]));
        let mut expected = digest::digest(&digest::SHA256, &input).as_ref().to_vec();
        expected = digest::digest(&digest::SHA256, &expected).as_ref().to_vec();
        assert_eq!(*kdf_sha256(3, &passphrase, &salt, 2), expected);
    }

    #[test]
    fn passphrase_alphabet_has_no_look_alikes_and_32_symbols() {
        let set: std::collections::BTreeSet<u8> = PASSPHRASE_ALPHABET.iter().copied().collect();
        assert_eq!(set.len(), 32, "32 distinct symbols: 5 bits each without bias");
        for c in b"0Oo1lIi" {
            assert!(!set.contains(c), "look-alike {} in the alphabet", char::from(*c));
        }
        assert!(set.iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()), "no symbol, no lower case");
    }

    #[test]
    fn passphrases_are_hyphenated_groups_of_the_alphabet_and_differ() {
        let a = generate_passphrase().unwrap();
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(groups.len(), PASSPHRASE_GROUPS, "{}", a.as_str());
        assert!(groups.iter().all(|g| g.len() == PASSPHRASE_GROUP), "{}", a.as_str());
        assert!(a.bytes().filter(|c| *c != b'-').all(|c| PASSPHRASE_ALPHABET.contains(&c)), "{}", a.as_str());
        assert_ne!(*a, *generate_passphrase().unwrap());
        // Every symbol is reachable, the last character's too (it takes the random bytes' last bits, where a
        // byte count rounded down would leave it padding zeros and half the alphabet): 1,000 draws miss one of 32
        // with probability about 32 · (31/32)^1000 ≈ 5e-13.
        let (mut seen, mut last) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
        for _ in 0..1000 {
            let p = generate_passphrase().unwrap();
            seen.extend(p.bytes().filter(|c| *c != b'-'));
            last.extend(p.bytes().last());
        }
        assert_eq!(seen.len(), 32, "every symbol of the alphabet appears");
        assert_eq!(last.len(), 32, "the last character is drawn like the others");
    }
}
