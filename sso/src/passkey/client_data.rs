//! Collected client data (WebAuthn Level 3 §5.8.1): the JSON the browser wrote, whose SHA-256 the authenticator
//! signs. Its challenge names the stored challenge; its origin must be the portal's.

use super::PasskeyError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const PART: &str = "clientDataJSON";

/// Which ceremony.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ceremony {
    /// Registration: `webauthn.create`.
    Create,
    /// Sign-in: `webauthn.get`.
    Get,
}

impl Ceremony {
    fn type_name(self) -> &'static str {
        match self {
            Self::Create => "webauthn.create",
            Self::Get => "webauthn.get",
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(default)]
    cross_origin: Option<bool>,
}

/// Client data checked for its ceremony and origin; the challenge is left to the caller (it is in the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientData {
    /// The challenge as the browser wrote it (base64url): the stored challenge's key.
    pub challenge: String,
    /// SHA-256 of the JSON bytes: what the authenticator signed with its data.
    pub hash: [u8; 32],
}

impl ClientData {
    /// Parse `json` for `ceremony` at the portal's `origin`.
    pub fn parse(json: &[u8], ceremony: Ceremony, origin: &str) -> Result<Self, PasskeyError> {
        let raw: Raw = serde_json::from_slice(json).map_err(|e| PasskeyError::malformed(PART, e))?;
        if raw.kind != ceremony.type_name() {
            return Err(PasskeyError::WrongType { expected: ceremony.type_name(), found: raw.kind });
        }
        if raw.origin != origin {
            return Err(PasskeyError::WrongOrigin { expected: origin.to_owned(), found: raw.origin });
        }
        if raw.cross_origin == Some(true) {
            return Err(PasskeyError::CrossOrigin);
        }
        // A challenge that is not base64url was never issued.
        URL_SAFE_NO_PAD.decode(&raw.challenge).map_err(|_| PasskeyError::Challenge)?;
        Ok(Self { challenge: raw.challenge, hash: sha256(json) })
    }
}

/// SHA-256, as WebAuthn hashes the client data and the RP id.
pub(super) fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}
