//! Emission: the events of a session or grant ending, a credential changing, an account disabled, and a stream's
//! own events, signed for each receiver with a stream that asked for them and queued in the store's outbox. A
//! failure here is logged and never stops what caused the event (a logout, a revocation): the event is lost,
//! not the logout; the outbox then keeps what was queued until it is delivered.

use super::event::{self, Event, SET_TYP};
use super::stream::{Status, StreamConfig};
use crate::oidc::{GrantData, Provider, random_token};
use hcpki_ca::store::{GrantRecord, SsfOutboxRecord, SsfStreamRecord};
use serde_json::Value;
use std::collections::BTreeSet;

/// Sessions ended for `why` (their end reason), with `grants` their OIDC grants (already revoked): CAEP
/// `session-revoked` to each client with a stream, once per (client, session).
pub async fn sessions_ended(provider: &Provider, grants: &[GrantRecord], why: &str) {
    let mut seen = BTreeSet::new();
    let mut sets = Vec::new();
    for grant in grants {
        let Ok(data) = GrantData::of(grant) else { continue };
        if !seen.insert((grant.client_id.clone(), data.sid.clone())) {
            continue;
        }
        let event = Event::SessionRevoked { sid: data.sid.clone(), why: why.to_owned() };
        if let Some(set) = subject_set(provider, &grant.client_id, &data.sub, &event).await {
            sets.push(set);
        }
    }
    queue(provider, sets).await;
}

/// `event` about the person `person_key` (a credential changed, the account disabled or purged): to each client
/// with a stream that ever had a grant of one of the person's sessions, the subject as it knows it.
pub async fn person_changed(provider: &Provider, person_key: &str, event: &Event) {
    let grants = match provider.store.ssf_person_grants(person_key).await {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, event = event.uri(), "SSF: cannot find the receivers of an event");
            return;
        }
    };
    let mut sets = Vec::new();
    for grant in &grants {
        let Ok(data) = GrantData::of(grant) else { continue };
        if let Some(set) = subject_set(provider, &grant.client_id, &data.sub, event).await {
            sets.push(set);
        }
    }
    queue(provider, sets).await;
}

/// How long a replica holds the person events it claimed before another may take them (it signs and queues
/// them in well under a second; the lease only matters when it stops in between).
pub const PERSON_EVENT_LEASE_MS: i64 = 60_000;

/// The person events the store recorded with their changes (D175) — an account disabled, a second factor reset
/// or set up — whatever process made them (the CLI, another replica, SCIM): up to `limit` claimed (one replica
/// each), announced to their receivers, and done. How many were claimed.
pub async fn person_events(provider: &Provider, limit: i64) -> Result<usize, hcpki_ca::store::StoreError> {
    let now = provider.clock.now();
    let lease = hcpki_pkix::time::UnixTime::from_millis(now.as_millis().saturating_add(PERSON_EVENT_LEASE_MS));
    let claimed = provider.store.ssf_claim_person_events(now, lease, limit).await?;
    for e in &claimed {
        match person_event(&e.event) {
            Some(event) => person_changed(provider, &e.person_key, &event).await,
            // A newer release's event: nothing this one can say about it.
            None => tracing::warn!(event = e.event, "SSF: a person event of an unknown kind is dropped"),
        }
    }
    provider.store.ssf_person_events_done(&claimed).await?;
    Ok(claimed.len())
}

/// The SSF event of a stored person event's kind.
fn person_event(kind: &str) -> Option<Event> {
    use event::{Change, Credential};
    use hcpki_ca::store::{PERSON_ACCOUNT_DISABLED, PERSON_TOTP_ENROLLED, PERSON_TOTP_RESET};
    match kind {
        PERSON_ACCOUNT_DISABLED => Some(Event::AccountDisabled),
        PERSON_TOTP_RESET => Some(Event::CredentialChange(Credential::App, Change::Update)),
        PERSON_TOTP_ENROLLED => Some(Event::CredentialChange(Credential::App, Change::Create)),
        _ => None,
    }
}

/// A stream's own event (verification, stream updated) to its receiver: queued whatever the stream asked for,
/// unless the stream is disabled. The SET's `jti`, when queued.
pub async fn stream_event(provider: &Provider, stream: &SsfStreamRecord, uri: &str, members: Value) -> Option<String> {
    let config = readable(stream)?;
    let jti = random_token(16).ok()?;
    let now = provider.clock.now_unix();
    let claims = event::stream_claims(&provider.issuer, &stream.client_id, &jti, now, &stream.stream_id, uri, members);
    let set = signed(provider, stream, &config, jti.clone(), &claims).await?;
    queue(provider, vec![set]).await;
    Some(jti)
}

/// The SET of `event` for `client_id` about `sub`, if the client has a live stream that delivers it.
async fn subject_set(provider: &Provider, client_id: &str, sub: &str, event: &Event) -> Option<SsfOutboxRecord> {
    let stream = match provider.store.ssf_stream_of(client_id).await {
        Ok(Some(s)) => s,
        Ok(None) => return None,
        Err(e) => {
            tracing::error!(error = %e, client = client_id, "SSF: cannot read a client's stream");
            return None;
        }
    };
    let config = readable(&stream)?;
    if !config.delivers(event.uri()) {
        return None;
    }
    let jti = random_token(16).ok()?;
    let claims = event::set_claims(&provider.issuer, client_id, &jti, provider.clock.now_unix(), sub, event);
    signed(provider, &stream, &config, jti, &claims).await
}

/// The stream's configuration, unless it is disabled (nothing is queued then) or unreadable.
fn readable(stream: &SsfStreamRecord) -> Option<StreamConfig> {
    if Status::parse(&stream.status).ok()? == Status::Disabled {
        return None;
    }
    match serde_json::from_str(&stream.config) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(error = %e, stream = stream.stream_id, "SSF: a stream's stored configuration does not read");
            None
        }
    }
}

/// `claims` signed for the stream's receiver with the algorithm of its ID tokens, as an outbox row.
async fn signed(
    provider: &Provider,
    stream: &SsfStreamRecord,
    config: &StreamConfig,
    jti: String,
    claims: &Value,
) -> Option<SsfOutboxRecord> {
    let client = match provider.clients.load_recorded(&stream.client_id).await {
        Ok(Some(c)) => c,
        // A client removed keeps no stream alive: nothing to sign for.
        Ok(None) => return None,
        Err(e) => {
            tracing::error!(error = %e.description, "SSF: cannot read a receiver's registration");
            return None;
        }
    };
    let set_jwt = match provider.sign(client.config.id_token_signed_response_alg, SET_TYP, claims) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e.description, "SSF: cannot sign a SET");
            return None;
        }
    };
    let now = provider.clock.now_unix();
    Some(SsfOutboxRecord {
        jti,
        stream_id: stream.stream_id.clone(),
        set_jwt,
        push: config.delivery.is_push(),
        created_at: now,
        attempts: 0,
        next_at: now,
        last_error: None,
    })
}

/// Into the outbox, and the push worker woken.
async fn queue(provider: &Provider, sets: Vec<SsfOutboxRecord>) {
    if sets.is_empty() {
        return;
    }
    let push = sets.iter().any(|s| s.push);
    if let Err(e) = provider.store.ssf_enqueue(&sets).await {
        tracing::error!(error = %e, sets = sets.len(), "SSF: cannot queue SETs; they are lost");
        return;
    }
    if push {
        provider.ssf_wake.notify_one();
    }
}
