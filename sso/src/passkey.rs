//! Passkeys (WebAuthn Level 3, issue #48 item 1, D147): registration and sign-in as a relying party, without
//! HTTP. A passkey signs in at its own assurance level ([`crate::policy::AssuranceLevel::Passkey`]) only when the
//! authenticator verified the person (UV: PIN or biometrics on the device), so it is two factors: the device
//! and what unlocks it.
//!
//! The ceremonies follow §7.1 (registration) and §7.2 (authentication) step by step: the client data's type,
//! challenge (single use, short-lived, bound to the browser session: a `login_challenges` row, as the card
//! login's) and origin; the RP id hash; the flags UP and UV; the attestation (`none`, `packed`) and the
//! facility's policy; the signature (ES256, EdDSA, RS256 through aws-lc-rs); the signature counter, which must
//! rise unless the authenticator keeps none (a counter that does not rise is a cloned authenticator: refused);
//! the backup flags (BE fixed for the credential's life, BS never without BE).
//!
//! The parsers ([`AuthenticatorData`], [`AttestationObject`], [`ClientData`], [`PublicKey`]) take bytes from the
//! network and are fuzzed (`fuzz/fuzz_targets/passkey.rs`).

mod attestation;
mod authenticator_data;
mod cbor;
mod client_data;
mod cose_key;
mod error;
#[cfg(test)]
mod tests;

pub use attestation::{AttestationKind, AttestationObject, AttestationPolicy};
pub use authenticator_data::{AttestedCredential, AuthenticatorData, Flags};
use client_data::sha256;
pub use client_data::{Ceremony, ClientData};
pub use cose_key::{ACCEPTED, EDDSA, ES256, PublicKey, RS256};
pub use error::PasskeyError;

use crate::login::CardLoginError;
use crate::login::challenge;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hcpki_ca::audit::AuditEvent;
use hcpki_ca::store::{PasskeyRecord, Passkeys, PortalUsers};
use hcpki_pkix::time::UnixTime;
use serde_json::{Value, json};

/// How long a passkey challenge holds: the time to find the device and unlock it.
pub const CHALLENGE_TTL_SECS: u32 = 300;
/// What the browser is told to wait for (milliseconds).
const TIMEOUT_MS: u32 = 120_000;

/// This portal as a WebAuthn relying party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelyingParty {
    /// The RP id: the portal's host name (`portal.example.jp`), never an IP address.
    pub id: String,
    /// The portal's origin (`https://portal.example.jp`), the only one accepted in client data.
    pub origin: String,
    /// The name authenticators show.
    pub name: String,
}

impl RelyingParty {
    /// The relying party of the portal at `origin` (`https://host[:port]`): its host is the RP id. None for an
    /// origin without a host name (an IP address cannot be an RP id).
    pub fn of_origin(origin: &str, name: &str) -> Option<Self> {
        let host = origin.strip_prefix("https://")?.split('/').next()?;
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if host.is_empty() || host.parse::<std::net::Ipv4Addr>().is_ok() || host.starts_with('[') {
            return None;
        }
        Some(Self { id: host.to_owned(), origin: origin.trim_end_matches('/').to_owned(), name: name.to_owned() })
    }

    fn id_hash(&self) -> [u8; 32] {
        sha256(self.id.as_bytes())
    }
}

/// The WebAuthn user handle of a person: stable for the person (a second registration on one authenticator
/// replaces the first) and not their key (a hash: the authenticator never learns the person key).
pub fn user_handle(person_key: &str) -> [u8; 32] {
    sha256(format!("hcpki passkey user handle\0{person_key}").as_bytes())
}

/// The challenge binding of a registration by the session `session_id_hash`.
pub fn registration_binding(session_id_hash: &str) -> String {
    format!("passkey-register:{session_id_hash}")
}

/// The challenge binding of a sign-in from the browser holding the pre-login id `prelogin_id`.
pub fn sign_in_binding(prelogin_id: &str) -> String {
    format!("passkey-login:{}", challenge::prelogin_binding(prelogin_id))
}

/// Issue a challenge for `binding` at `now`: its base64url text.
pub async fn issue_challenge(
    store: &(impl PortalUsers + ?Sized),
    rp: &RelyingParty,
    binding: &str,
    now: i64,
) -> Result<String, PasskeyError> {
    let issued = challenge::issue(store, binding, &rp.origin, CHALLENGE_TTL_SECS, now).await.map_err(from_challenge)?;
    Ok(issued.challenge)
}

/// `PublicKeyCredentialCreationOptionsJSON` (§5.4, L3 JSON form): a discoverable credential with user
/// verification required, the person's live passkeys excluded.
pub fn creation_options(
    rp: &RelyingParty,
    challenge: &str,
    person_key: &str,
    user_name: &str,
    display_name: &str,
    exclude: &[PasskeyRecord],
    policy: &AttestationPolicy,
) -> Value {
    let exclude: Vec<Value> = exclude
        .iter()
        .filter(|p| p.revoked_at.is_none())
        .map(|p| json!({ "type": "public-key", "id": p.credential_id }))
        .collect();
    let params: Vec<Value> = ACCEPTED.iter().map(|alg| json!({ "type": "public-key", "alg": alg })).collect();
    json!({
        "challenge": challenge,
        "rp": { "id": rp.id, "name": rp.name },
        "user": { "id": B64.encode(user_handle(person_key)), "name": user_name, "displayName": display_name },
        "pubKeyCredParams": params,
        "timeout": TIMEOUT_MS,
        "excludeCredentials": exclude,
        "authenticatorSelection": { "residentKey": "required", "requireResidentKey": true, "userVerification": "required" },
        "attestation": policy.conveyance(),
    })
}

/// `PublicKeyCredentialRequestOptionsJSON`: any discoverable credential of this RP (empty `allowCredentials`),
/// user verification required.
pub fn request_options(rp: &RelyingParty, challenge: &str) -> Value {
    json!({
        "challenge": challenge,
        "rpId": rp.id,
        "timeout": TIMEOUT_MS,
        "allowCredentials": [],
        "userVerification": "required",
    })
}

/// What the registration page posts (base64url fields, as the L3 JSON serialisation names them).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationResponse {
    /// The credential id.
    pub id: String,
    /// `clientDataJSON`.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    /// `attestationObject`.
    #[serde(rename = "attestationObject")]
    pub attestation_object: String,
    /// `getTransports()`.
    #[serde(default)]
    pub transports: Vec<String>,
}

/// What the sign-in page posts.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertionResponse {
    /// The credential id.
    pub id: String,
    /// `clientDataJSON`.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    /// `authenticatorData`.
    #[serde(rename = "authenticatorData")]
    pub authenticator_data: String,
    /// `signature`.
    pub signature: String,
    /// `userHandle` (required: the sign-in names no credential, so the handle says whose it is).
    #[serde(rename = "userHandle")]
    pub user_handle: String,
}

/// A credential that passed registration: what to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCredential {
    /// The credential id (base64url).
    pub credential_id: String,
    /// The COSE_Key bytes.
    pub public_key: Vec<u8>,
    /// Its algorithm.
    pub algorithm: i64,
    /// The counter at registration.
    pub sign_count: u32,
    /// BE.
    pub backup_eligible: bool,
    /// BS.
    pub backup_state: bool,
    /// The model claimed (or attested).
    pub aaguid: [u8; 16],
    /// How it was attested.
    pub attestation: AttestationKind,
    /// The transports the browser reported, each checked against the L3 list.
    pub transports: Vec<String>,
}

/// §7.1 after the challenge: `response` answered `challenge` (taken from the store) for `rp`.
pub fn verify_registration(
    rp: &RelyingParty,
    challenge: &str,
    response: &RegistrationResponse,
    policy: &AttestationPolicy,
) -> Result<NewCredential, PasskeyError> {
    let client_json = decode(&response.client_data_json, "clientDataJSON")?;
    let client = ClientData::parse(&client_json, Ceremony::Create, &rp.origin)?;
    if client.challenge != challenge {
        return Err(PasskeyError::Challenge);
    }
    let object = AttestationObject::parse(&decode(&response.attestation_object, "attestationObject")?)?;
    let data = &object.auth_data;
    check_flags(rp, data)?;
    let attested = data
        .attested
        .as_ref()
        .ok_or_else(|| PasskeyError::malformed("authenticatorData", "no attested credential data"))?;
    if B64.encode(&attested.credential_id) != response.id {
        return Err(PasskeyError::malformed("id", "not the credential id the authenticator reported"));
    }
    let key = PublicKey::from_cose(&attested.public_key)?;
    let attestation = object.verify(&client.hash, &key, &attested.aaguid, policy)?;
    const TRANSPORTS: [&str; 6] = ["usb", "nfc", "ble", "smart-card", "hybrid", "internal"];
    let transports = response.transports.iter().filter(|t| TRANSPORTS.contains(&t.as_str())).cloned().collect();
    Ok(NewCredential {
        credential_id: response.id.clone(),
        public_key: attested.public_key.clone(),
        algorithm: key.algorithm(),
        sign_count: data.sign_count,
        backup_eligible: data.flags.backup_eligible(),
        backup_state: data.flags.backup_state(),
        aaguid: attested.aaguid,
        attestation,
        transports,
    })
}

/// Registration as a whole: the challenge of `binding` taken (single use), then [`verify_registration`].
pub async fn register(
    store: &(impl PortalUsers + ?Sized),
    rp: &RelyingParty,
    binding: &str,
    response: &RegistrationResponse,
    policy: &AttestationPolicy,
    now: i64,
) -> Result<NewCredential, PasskeyError> {
    let challenge = take_challenge(store, rp, binding, &response.client_data_json, Ceremony::Create, now).await?;
    verify_registration(rp, &challenge, response, policy)
}

/// What a sign-in proved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The counter in this assertion.
    pub sign_count: u32,
    /// BS now.
    pub backup_state: bool,
}

/// §7.2 after the challenge and the look-up: `response` answered `challenge` for `rp` with `stored`.
pub fn verify_assertion(
    rp: &RelyingParty,
    challenge: &str,
    response: &AssertionResponse,
    stored: &PasskeyRecord,
) -> Result<Verified, PasskeyError> {
    if response.id != stored.credential_id {
        return Err(PasskeyError::UnknownCredential);
    }
    if decode(&response.user_handle, "userHandle")? != decode(&stored.user_handle, "user handle")? {
        return Err(PasskeyError::OtherUser);
    }
    let client_json = decode(&response.client_data_json, "clientDataJSON")?;
    let client = ClientData::parse(&client_json, Ceremony::Get, &rp.origin)?;
    if client.challenge != challenge {
        return Err(PasskeyError::Challenge);
    }
    let data_bytes = decode(&response.authenticator_data, "authenticatorData")?;
    let data = AuthenticatorData::parse(&data_bytes)?;
    check_flags(rp, &data)?;
    if data.flags.backup_eligible() != stored.backup_eligible {
        return Err(PasskeyError::BackupFlags);
    }
    let key = PublicKey::from_cose(&decode(&stored.public_key, "stored public key")?)?;
    key.verify(&[data_bytes.as_slice(), &client.hash].concat(), &decode(&response.signature, "signature")?)?;
    let stored_count = u32::try_from(stored.sign_count).unwrap_or(u32::MAX);
    if (data.sign_count != 0 || stored_count != 0) && data.sign_count <= stored_count {
        return Err(PasskeyError::CounterWentBack { stored: stored_count, presented: data.sign_count });
    }
    Ok(Verified { sign_count: data.sign_count, backup_state: data.flags.backup_state() })
}

/// A sign-in as a whole: the challenge of `binding` taken, the passkey looked up, [`verify_assertion`], the
/// facility's `policy` over the passkey's attestation as registered, and the counter recorded by one conditional update with `event` (a replica that accepted the same counter first
/// wins; this one refuses as a clone). The passkey and what was verified.
pub async fn sign_in<S: PortalUsers + Passkeys + ?Sized>(
    store: &S,
    rp: &RelyingParty,
    binding: &str,
    response: &AssertionResponse,
    policy: &AttestationPolicy,
    event: impl FnOnce(&PasskeyRecord, &Verified) -> AuditEvent,
    now: i64,
) -> Result<(PasskeyRecord, Verified), PasskeyError> {
    let challenge = take_challenge(store, rp, binding, &response.client_data_json, Ceremony::Get, now).await?;
    let stored = store.passkey(&response.id).await?.ok_or(PasskeyError::UnknownCredential)?;
    if stored.revoked_at.is_some() {
        return Err(PasskeyError::UnknownCredential);
    }
    let verified = verify_assertion(rp, &challenge, response, &stored)?;
    // The facility's rule holds at every sign-in, not only at registration: a facility that starts requiring
    // hardware keys stops the synced passkeys registered before (D170). Checked after the signature, so only
    // the passkey's holder learns the rule refused it; the use is not recorded.
    let mut aaguid = [0u8; 16];
    if hex::decode_to_slice(&stored.aaguid, &mut aaguid).is_err() {
        aaguid = [0; 16];
    }
    if !policy.admits(AttestationKind::from_stored(&stored.attestation), &aaguid) {
        return Err(PasskeyError::AttestationRefused);
    }
    let entry = event(&stored, &verified);
    let recorded = store
        .passkey_use(
            &stored.credential_id,
            i64::from(verified.sign_count),
            verified.backup_state,
            &entry,
            UnixTime::from_secs(now),
        )
        .await?;
    if !recorded {
        let stored_count = u32::try_from(stored.sign_count).unwrap_or(u32::MAX);
        return Err(PasskeyError::CounterWentBack { stored: stored_count, presented: verified.sign_count });
    }
    Ok((stored, verified))
}

/// The stored challenge the client data names, taken for `binding` (gone afterwards, whatever happens next).
async fn take_challenge(
    store: &(impl PortalUsers + ?Sized),
    rp: &RelyingParty,
    binding: &str,
    client_data_json: &str,
    ceremony: Ceremony,
    now: i64,
) -> Result<String, PasskeyError> {
    let client = ClientData::parse(&decode(client_data_json, "clientDataJSON")?, ceremony, &rp.origin)?;
    challenge::take(store, &client.challenge, binding, &rp.origin, now).await.map_err(from_challenge)?;
    Ok(client.challenge)
}

/// §7.1 steps 13-17 / §7.2 steps 15-18: the RP id hash, UP and UV, BS only with BE.
fn check_flags(rp: &RelyingParty, data: &AuthenticatorData) -> Result<(), PasskeyError> {
    if data.rp_id_hash != rp.id_hash() {
        return Err(PasskeyError::WrongRpId);
    }
    if !data.flags.user_present() {
        return Err(PasskeyError::UserNotPresent);
    }
    if !data.flags.user_verified() {
        return Err(PasskeyError::UserNotVerified);
    }
    if data.flags.backup_state() && !data.flags.backup_eligible() {
        return Err(PasskeyError::BackupFlags);
    }
    Ok(())
}

fn from_challenge(e: CardLoginError) -> PasskeyError {
    match e {
        CardLoginError::Store(e) => PasskeyError::Store(e),
        _ => PasskeyError::Challenge,
    }
}

/// base64url (no padding, as the L3 JSON serialisation writes it) of a posted field.
fn decode(text: &str, part: &'static str) -> Result<Vec<u8>, PasskeyError> {
    B64.decode(text).map_err(|e| PasskeyError::malformed(part, format!("not base64url: {e}")))
}
