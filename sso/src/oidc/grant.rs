//! What an authorization grant carries to its tokens (`oidc_grants.data`).

use super::error::OAuthError;
use crate::policy::PurposeOfUse;
use hcpki_ca::store::GrantRecord;
use serde_json::Value;

/// What a grant's tokens say, fixed when the user was authorized (`oidc_grants.data`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct GrantData {
    /// Pairwise subject.
    pub sub: String,
    /// The service's claims, as JSON.
    pub claims: Value,
    /// `acr`.
    pub acr: String,
    /// `amr`.
    pub amr: Value,
    /// `auth_time`.
    pub auth_time: i64,
    /// `nonce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Granted scope.
    pub scope: String,
    /// PKCE S256 challenge.
    pub code_challenge: String,
    /// The redirect URI of the authorization request.
    pub redirect_uri: String,
    /// `sid`: the session as this provider names it to clients.
    pub sid: String,
    /// When the session ends by itself: the grant's refresh tokens do not outlive it (and so not the card's
    /// or the facility PC's certificate either). Absent in grants made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_expires_at: Option<i64>,
    /// Why the person opens the service (the request's `purpose_of_use`, D94); `TREAT` in grants made before
    /// it was recorded, which was the only purpose then.
    #[serde(default)]
    pub purpose_of_use: PurposeOfUse,
    /// Break-glass (purpose `EMER`, confirmed on the portal's page with a reason, D94), when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<super::break_glass::BreakGlass>,
    /// The DPoP key (RFC 7638 thumbprint) the grant is bound to: the one the code was asked for with
    /// (`dpop_jkt`, or a push with a proof: RFC 9449 §10), which the redemption must prove, else the one the
    /// code was redeemed with (§5). Every refresh must prove it, and the grant's access tokens are bound to it.
    /// Absent for grants without DPoP, and in grants made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

impl GrantData {
    /// Decode a grant's data.
    pub fn of(grant: &GrantRecord) -> Result<Self, OAuthError> {
        serde_json::from_str(&grant.data).map_err(|e| OAuthError::server(format!("grant {}: {e}", grant.id)))
    }
}
