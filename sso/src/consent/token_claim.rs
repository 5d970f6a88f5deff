//! The consent in the physician's access token (issue #28 step 7): a client asks the token endpoint for an
//! access token "for this patient" by naming one of its consents (`consent=<id>` with the code or refresh
//! token grant); the consent must be the client's own and live. The token then carries it twice: IHE IUA's
//! BPPC extension (`extensions.ihe_bppc`: `patient_id`, `doc_id`, `acp`), which IHE-based services read, and
//! hcpki's `consent` claim with the evidence level. A withdrawn consent gives no new token; tokens issued before
//! live their few minutes (the service polls the withdrawal feed for at-once effect).

use super::api::{API_PATH, evidence_json};
use super::life::Phase;
use crate::audit::audit;
use crate::oidc::token::{ConsentClaimSource, ConsentClaims};
use crate::oidc::{OAuthError, Provider};
use hcpki_ca::audit::Outcome;
use hcpki_model::ConsentId;
use serde_json::json;

/// The consent core as the token endpoint's source of consent claims: [`claims`].
#[derive(Clone, Copy, Debug, Default)]
pub struct TokenClaims;

#[async_trait::async_trait]
impl ConsentClaimSource for TokenClaims {
    async fn claims(
        &self,
        provider: &Provider,
        client_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<ConsentClaims, OAuthError> {
        claims(provider, client_id, id, now_ms).await
    }
}

/// The claims of consent `id` for a token of `client_id` at `now_ms`, or the refusal (audited by the caller as
/// the token endpoint's). The read is audited `consent.token`.
pub async fn claims(provider: &Provider, client_id: &str, id: &str, now_ms: i64) -> Result<ConsentClaims, OAuthError> {
    let refused = |description: &str| OAuthError::invalid_request(description.to_owned());
    // The token request's `consent` parameter is parsed here, where it is first used: malformed is 400
    // invalid_request, as an unknown one.
    let id =
        ConsentId::parse(id).map_err(|e| refused(&format!("consent must be the id of one of your consents ({e})")))?;
    let consent = match provider.store.consent(&id).await? {
        Some(c) if c.client_id == client_id => c,
        _ => return Err(refused("no consent of yours has this id: ask for the patient's consent first")),
    };
    if Phase::of(&consent, now_ms.div_euclid(1000)) != Phase::Signed {
        return Err(refused(
            "the consent is not live (not signed yet, refused, expired or withdrawn): no token is issued for it",
        ));
    }
    let doc_id = format!("{}{API_PATH}/{}", provider.issuer, consent.id);
    let extensions = json!({ "ihe_bppc": {
        "patient_id": consent.patient_key,
        "doc_id": doc_id,
        "acp": format!("urn:hcpki:consent:{}:{}", consent.client_id, consent.purpose),
    }});
    let claim = json!({
        "id": consent.id, "purpose": consent.purpose, "facility": consent.facility_id,
        "patient": consent.patient_key, "evidence": consent.signature.as_ref().map(evidence_json),
    });
    let detail = json!({ "patient": consent.patient_key, "client": client_id, "purpose": consent.purpose,
        "facility": consent.facility_id });
    let actor = format!("oidc:{client_id}");
    audit(provider.store.as_ref(), now_ms, &actor, "consent.token", consent.id.as_str(), Outcome::Ok, detail).await;
    Ok(ConsentClaims { extensions, consent: claim })
}
