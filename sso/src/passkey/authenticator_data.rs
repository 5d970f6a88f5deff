//! Authenticator data (WebAuthn Level 3 §6.1): what the authenticator signs besides the client data.
//!
//! ```text
//! rpIdHash (32) | flags (1) | signCount (4, big-endian) | attestedCredentialData (if AT) | extensions (if ED)
//! attestedCredentialData = aaguid (16) | credentialIdLength (2) | credentialId | credentialPublicKey (COSE, CBOR)
//! ```

use super::PasskeyError;
use super::cbor;

const PART: &str = "authenticatorData";
/// §6.1: credential ids are at most 1023 bytes.
const MAX_CREDENTIAL_ID: usize = 1023;

/// The flags byte (§6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags(u8);

impl Flags {
    /// UP: a person was present (touched the authenticator).
    pub fn user_present(self) -> bool {
        self.0 & 0x01 != 0
    }
    /// UV: the authenticator verified the person (PIN, biometrics).
    pub fn user_verified(self) -> bool {
        self.0 & 0x04 != 0
    }
    /// BE: the credential may be backed up (synced); fixed for the credential's life.
    pub fn backup_eligible(self) -> bool {
        self.0 & 0x08 != 0
    }
    /// BS: the credential is backed up now.
    pub fn backup_state(self) -> bool {
        self.0 & 0x10 != 0
    }
    fn attested(self) -> bool {
        self.0 & 0x40 != 0
    }
    fn extensions(self) -> bool {
        self.0 & 0x80 != 0
    }
}

/// A new credential, as the authenticator reported it at registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestedCredential {
    /// The authenticator model (all zeros when it does not say).
    pub aaguid: [u8; 16],
    /// The credential id.
    pub credential_id: Vec<u8>,
    /// The public key as its COSE_Key bytes.
    pub public_key: Vec<u8>,
}

/// Parsed authenticator data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatorData {
    /// SHA-256 of the RP id the authenticator signed for.
    pub rp_id_hash: [u8; 32],
    /// The flags.
    pub flags: Flags,
    /// The signature counter (0: the authenticator keeps none).
    pub sign_count: u32,
    /// The new credential (registrations only).
    pub attested: Option<AttestedCredential>,
}

impl AuthenticatorData {
    /// Parse `bytes`; nothing may follow the last part the flags announce.
    pub fn parse(bytes: &[u8]) -> Result<Self, PasskeyError> {
        let (rp_id_hash, rest) = take::<32>(bytes, "rpIdHash")?;
        let ([flags], rest) = take::<1>(rest, "flags")?;
        let (count, mut rest) = take::<4>(rest, "signCount")?;
        let flags = Flags(flags);
        let attested = if flags.attested() {
            let (aaguid, after) = take::<16>(rest, "aaguid")?;
            let (len, after) = take::<2>(after, "credentialIdLength")?;
            let len = usize::from(u16::from_be_bytes(len));
            if len > MAX_CREDENTIAL_ID {
                return Err(PasskeyError::malformed(PART, format!("credential id of {len} bytes (at most 1023)")));
            }
            let (id, after) =
                after.split_at_checked(len).ok_or_else(|| PasskeyError::malformed(PART, "truncated credential id"))?;
            let (_, used) = cbor::item(after, "credentialPublicKey")?;
            let (key, after) = after.split_at(used);
            rest = after;
            Some(AttestedCredential { aaguid, credential_id: id.to_vec(), public_key: key.to_vec() })
        } else {
            None
        };
        if flags.extensions() {
            // Extension outputs are not used here, but they must be one well-formed CBOR map.
            let value = cbor::whole(rest, "extensions")?;
            cbor::map(&value, "extensions")?;
        } else if !rest.is_empty() {
            return Err(PasskeyError::malformed(PART, format!("{} unexpected bytes at the end", rest.len())));
        }
        Ok(Self { rp_id_hash, flags, sign_count: u32::from_be_bytes(count), attested })
    }
}

fn take<'a, const N: usize>(bytes: &'a [u8], what: &'static str) -> Result<([u8; N], &'a [u8]), PasskeyError> {
    let (head, rest) =
        bytes.split_first_chunk::<N>().ok_or_else(|| PasskeyError::malformed(PART, format!("truncated {what}")))?;
    Ok((*head, rest))
}
