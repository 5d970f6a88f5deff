//! The member services' side of a regional network's consents (issue #49 item 2, D169): is the consent of the
//! patient I hold live or withdrawn, and which were withdrawn since I last asked. The patient is the member
//! service's own pairwise reference (the one its presence proofs carry, [`crate::presence::patient_ref`]), so the
//! answer names nobody and no member can join its records with another's. Authenticated as `/introspect`
//! authenticates a client (confidential clients only); the client's service must be a member of the network,
//! and a facility asked about must be one of its members; every answer and refusal audited.
//!
//! ```text
//! POST /api/v1/network-consents/check   network, patient_ref[, facility] ──▶ {network, patient_ref, status}
//! GET  /api/v1/network-consent-events?network=&since=                    ──▶ {events: [withdrawn …], more}
//! ```

use super::network::{MemberStatus, NetworkError, member_facility, member_service, status_of};
use crate::audit::audit;
use crate::desk::service::{authenticate, forbidden, not_found, refused};
use crate::oidc::client::{ClientCredentials, Endpoint};
use crate::oidc::{Context, OAuthError};
use crate::patient_key::PatientKey;
use crate::policy::ClientRule;
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::NetworkRecord;
use hcpki_pkix::time::UnixTime;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The members' check.
pub const CHECK: Endpoint = Endpoint { path: "/api/v1/network-consents/check", callers: ClientRule::Confidential };
/// The members' withdrawal feed.
pub const EVENTS: Endpoint = Endpoint { path: "/api/v1/network-consent-events", callers: ClientRule::Confidential };
/// Most withdrawals one poll returns.
pub const EVENTS_LIMIT: i64 = 100;
/// Most signed consents of one network a check looks through (newest first). The reference is the member's
/// pairwise one, which only the portal secret maps from a patient key, so a check derives it for each consent
/// rather than looking it up; beyond this a network needs the reference kept per member (D169).
pub const CHECK_LIMIT: i64 = 20_000;
/// The audit actions.
pub const CHECKED: &str = "consent.network_checked";
/// A poll of the withdrawal feed.
pub const POLLED: &str = "consent.network_events";

/// `POST /api/v1/network-consents/check` at `now_ms`: `network`, `patient_ref` (the caller's reference for the
/// patient) and optionally `facility` (only consents given there). `live`, `withdrawn` or `none`, nothing else.
pub async fn check(
    ctx: Context<'_>,
    credentials: &ClientCredentials,
    certificate: Option<&[u8]>,
    fields: &HashMap<String, String>,
    now_ms: i64,
) -> Result<Value, OAuthError> {
    let client = authenticate(ctx, CHECK, credentials, certificate, now_ms.div_euclid(1000)).await?;
    let service = client.config.service.clone();
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let patient_ref = field("patient_ref");
    if patient_ref.is_empty() || patient_ref.len() > 256 {
        let e = super::api::bad_request_text(
            "patient_ref must be your reference for the patient (the sub of its presence proof)",
        );
        return Err(refused(ctx, &client.id, CHECKED, e, json!({ "service": service })).await);
    }
    let network = member_network(ctx, &client.id, &service, field("network"), CHECKED).await?;
    let facility = fields.get("facility").map(String::as_str).filter(|f| !f.is_empty());
    if let Some(f) = facility
        && let Err(e) = member_facility(&network, f)
    {
        let more =
            json!({ "service": service, "network": network.name, "facility": f.chars().take(64).collect::<String>() });
        return Err(refused(ctx, &client.id, CHECKED, forbidden(&e.to_string()), more).await);
    }
    let consents = ctx.provider.store.network_consents(&network.name, CHECK_LIMIT).await?;
    let is_patient = |c: &hcpki_ca::store::consent::ConsentRecord| {
        facility.is_none_or(|f| c.facility_id == f)
            && PatientKey::parse(&c.patient_key)
                .is_some_and(|k| crate::presence::patient_ref(ctx, &service, &k) == patient_ref)
    };
    let status = status_of(&consents, is_patient);
    let detail = json!({ "service": service, "network": network.name, "status": status.as_str(),
        "facility": facility });
    let actor = format!("oidc:{}", client.id);
    audit(ctx.provider.store.as_ref(), now_ms, &actor, CHECKED, &network.name, Outcome::Ok, detail).await;
    Ok(json!({ "network": network.name, "patient_ref": patient_ref, "status": status.as_str(),
        "live": status == MemberStatus::Live }))
}

/// `GET /api/v1/network-consent-events?network=&since=`: the network's consents withdrawn at or after `since`
/// (Unix seconds), oldest first, at most [`EVENTS_LIMIT`], each with the caller's reference for the patient; poll
/// again from the last `withdrawn_at`. Every member polls the same feed, so a withdrawal reaches all of them at
/// once. Audited `consent.network_events`.
pub async fn events(
    ctx: Context<'_>,
    credentials: &ClientCredentials,
    certificate: Option<&[u8]>,
    fields: &HashMap<String, String>,
    now_ms: i64,
) -> Result<Value, OAuthError> {
    let client = authenticate(ctx, EVENTS, credentials, certificate, now_ms.div_euclid(1000)).await?;
    let service = client.config.service.clone();
    let since = match super::api::since(fields) {
        Ok(since) => since,
        Err(e) => return Err(refused(ctx, &client.id, POLLED, e, json!({ "service": service })).await),
    };
    let name = fields.get("network").map(String::as_str).unwrap_or_default();
    let network = member_network(ctx, &client.id, &service, name, POLLED).await?;
    let withdrawn =
        ctx.provider.store.network_withdrawn_since(&network.name, UnixTime::from_secs(since), EVENTS_LIMIT).await?;
    let list: Vec<Value> = withdrawn
        .iter()
        .filter_map(|c| PatientKey::parse(&c.patient_key).map(|k| (c, k)))
        .map(|(c, k)| {
            json!({ "type": "withdrawn", "network": network.name,
                "patient_ref": crate::presence::patient_ref(ctx, &service, &k), "withdrawn_at": c.withdrawn_at })
        })
        .collect();
    let detail = json!({ "service": service, "since": since, "count": list.len() });
    let actor = format!("oidc:{}", client.id);
    audit(ctx.provider.store.as_ref(), now_ms, &actor, POLLED, &network.name, Outcome::Ok, detail).await;
    Ok(json!({ "events": list, "more": withdrawn.len() as i64 == EVENTS_LIMIT }))
}

/// The declared network `name` if `service` is one of its members; otherwise the refusal, audited at `action`.
async fn member_network(
    ctx: Context<'_>,
    client_id: &str,
    service: &str,
    name: &str,
    action: &str,
) -> Result<NetworkRecord, OAuthError> {
    let found = ctx.provider.store.network(name).await?;
    let refusal = match found {
        Some(network) => match member_service(&network, service) {
            Ok(()) => return Ok(network),
            Err(e) => forbidden(&e.to_string()),
        },
        None => not_found(&NetworkError::Unknown(name.chars().take(64).collect()).to_string()),
    };
    let more = json!({ "service": service, "network": name.chars().take(64).collect::<String>() });
    Err(refused(ctx, client_id, action, refusal, more).await)
}
