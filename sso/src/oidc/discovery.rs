//! The provider's metadata (`/.well-known/openid-configuration`, RFC 8414 / OpenID Connect Discovery), HTTP-free.
//! Its own file because it reads every endpoint's declaration (`/token`'s, `/introspect`'s, `/revoke`'s): beside
//! introspection, which the signing-request and consent APIs call, it made a loop of files through the token core.

use super::Provider;
use super::client::{self, Endpoint};
use super::dpop;
use super::endpoints::{INTROSPECT, REVOKE};
use super::grant_type::GrantType;
use crate::policy::Claim;
use serde_json::{Value, json};

/// `GET /.well-known/openid-configuration`.
pub fn discovery(p: &Provider) -> Value {
    let iss = &p.issuer;
    let algs: Vec<&str> = super::jws::SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    // The algorithms `jws::Jws::parse` accepts for client assertions (private_key_jwt), at every endpoint that
    // takes them: RFC 8414 §2 requires the list for each endpoint whose methods include private_key_jwt.
    let assertion_algs = ["ES256", "RS256", "PS256"];
    // Each endpoint's methods are those its declaration admits (`none`, public clients, at the token and
    // revocation endpoints, never at introspection: D102, D110), the secret ones only where this provider accepts
    // secrets.
    let methods = |endpoint: Endpoint| -> Vec<&str> {
        let accepted = |m: &&client::AuthMethod| m.admitted_by(endpoint.callers);
        let secrets = |m: &&client::AuthMethod| !m.is_secret() || p.clients.secrets_allowed();
        client::AuthMethod::ALL.iter().filter(accepted).filter(secrets).map(|m| m.as_str()).collect()
    };
    let mut doc = json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "jwks_uri": format!("{iss}/jwks"),
        "introspection_endpoint": format!("{iss}/introspect"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "pushed_authorization_request_endpoint": format!("{iss}/par"),
        // RFC 9126 §5: the server-wide policy; a client registered to push is told by its registration.
        "require_pushed_authorization_requests": p.require_par,
        "end_session_endpoint": format!("{iss}/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GrantType::ALL.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": algs,
        "userinfo_signing_alg_values_supported": algs,
        "scopes_supported": ["openid"],
        "claims_supported": claims_supported(),
        "acr_values_supported": crate::policy::AssuranceLevel::ALL.iter().map(|l| l.acr()).collect::<Vec<_>>(),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": methods(super::token::TOKEN),
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_methods_supported": methods(INTROSPECT),
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_methods_supported": methods(REVOKE),
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "tls_client_certificate_bound_access_tokens": true,
        // RFC 9449 §5.1: DPoP proofs at the token endpoint and userinfo.
        "dpop_signing_alg_values_supported": dpop::ALGS,
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
        "prompt_values_supported": ["none", "login"],
        // hcpki's authorization request parameter `purpose_of_use` (D94): HL7 v3 PurposeOfUse codes; a service
        // accepts those its services-file entry lists (TREAT by default), EMER is break-glass.
        "purpose_of_use_values_supported":
            crate::policy::PurposeOfUse::ALL.iter().map(|p| p.code()).collect::<Vec<_>>(),
    });
    if let (Some(m), Some(map)) = (&p.mtls_base, doc.as_object_mut()) {
        map.insert(
            "mtls_endpoint_aliases".into(),
            json!({
                "token_endpoint": format!("{m}/token"),
                "userinfo_endpoint": format!("{m}/userinfo"),
                "introspection_endpoint": format!("{m}/introspect"),
                "revocation_endpoint": format!("{m}/revoke"),
                "pushed_authorization_request_endpoint": format!("{m}/par"),
            }),
        );
    }
    doc
}

/// The claims tokens may carry: the protocol's (in every ID token), then those a service may be released
/// ([`Claim::ALL`]; IHE IUA's travel under `extensions`), then the healthcare context every access token states
/// (purpose of use, break-glass, the delegation's `act`). From the enum, so a claim added there is announced.
fn claims_supported() -> Vec<&'static str> {
    const PROTOCOL: [&str; 10] = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid"];
    const CONTEXT: [&str; 3] = ["purpose_of_use", "break_glass", "act"];
    let released = Claim::ALL.into_iter().map(|c| match c {
        Claim::IheIua => "extensions",
        other => other.as_str(),
    });
    let mut claims: Vec<&str> = Vec::new();
    for claim in PROTOCOL.into_iter().chain(released).chain(CONTEXT) {
        if !claims.contains(&claim) {
            claims.push(claim);
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_releasable_claim_is_announced_once() {
        let claims = claims_supported();
        for claim in Claim::ALL.into_iter().filter(|c| *c != Claim::IheIua) {
            assert_eq!(claims.iter().filter(|c| **c == claim.as_str()).count(), 1, "{claim:?} in {claims:?}");
        }
        assert!(claims.contains(&"extensions") && claims.contains(&"sub") && claims.contains(&"act"), "{claims:?}");
    }
}
