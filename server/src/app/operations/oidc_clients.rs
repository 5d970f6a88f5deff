//! The relying parties the operator registers, as the admin API (`/api/v1/oidc-clients`) and the console's
//! `/console/oidc-clients` both manage them (issue #30: "API and console the same"). Each operation asks the
//! access decision, calls `oidc::registration` (whose store writes the change and its audit entry,
//! `oidc.client.add|remove|secret_rotate`, in one transaction), audits a refusal with the caller as actor
//! (`admin.oidc_client.manage`), and makes this replica forget what it cached of a changed client, so the
//! change holds here at once (the other replicas within `[portal] services_refresh_secs`).

use super::super::AppState;
use super::super::api_error::ApiError;
use super::super::auth::Caller;
use hcpki_ca::access::Action;
use hcpki_model::OidcClientId;
use hcpki_sso::oidc::registration::{self, Registered, Registration, RegistrationError, Rotated};
use hcpki_sso::policy::Services;
use std::sync::Arc;

/// A refused change: the answer (already audited), and the registration core's reason when it was the core
/// that refused, so a page can word it in its own language.
#[derive(Debug)]
pub struct Refused {
    /// The audited refusal.
    pub error: ApiError,
    /// What the core found wrong; none for refusals before it (access, the policy unreadable).
    pub reason: Option<RegistrationError>,
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        Self { error, reason: None }
    }
}

impl From<Refused> for ApiError {
    fn from(r: Refused) -> Self {
        r.error
    }
}

/// Every registered client (operators and auditors).
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Registered>, ApiError> {
    caller.may(Action::ListOidcClients).await?;
    registration::list(state.store.as_ref()).await.map_err(ApiError::from)
}

/// The policy's services a client may be registered for, when the portal is configured (without one there is
/// no policy to check against yet).
pub async fn services(state: &AppState) -> Result<Option<Arc<Services>>, ApiError> {
    match &state.portal {
        Some(portal) => Ok(Some(portal.services.current().await.map_err(ApiError::unavailable)?)),
        None => Ok(None),
    }
}

/// Whether this deployment accepts client secrets (`[oidc] client_secrets`, and not every request pushed).
pub fn secrets_allowed(state: &AppState) -> bool {
    state.portal.as_ref().is_none_or(|p| p.oidc.clients.secrets_allowed())
}

/// Register `r` (operators); the answer carries the secret when the registration made one, to show once.
pub async fn add(state: &AppState, caller: &Caller, r: Registration) -> Result<Registered, Refused> {
    caller.may(Action::ManageOidcClients).await?;
    let target = r.id.clone();
    let services = match services(state).await {
        Ok(s) => s,
        Err(e) => return Err(refuse(caller, &target, e, None).await),
    };
    let now = state.clock.now_unix_ms();
    let deployment = registration::Deployment {
        services: services.as_deref(),
        secrets_allowed: secrets_allowed(state),
        consent: state.portal.as_ref().map(|p| p.consent.as_ref() as &dyn registration::ConsentClients),
    };
    let registered = registration::register(state.store.as_ref(), deployment, r, &caller.actor(), now).await;
    match registered {
        Ok(c) => Ok(c),
        Err(e) => Err(refuse(caller, &target, ApiError::from(&e), Some(e)).await),
    }
}

/// Give client `id` a new secret (operators), the previous one working `overlap_secs` more.
pub async fn rotate_secret(state: &AppState, caller: &Caller, id: &str, overlap_secs: i64) -> Result<Rotated, Refused> {
    caller.may(Action::ManageOidcClients).await?;
    let now = state.clock.now_unix_ms();
    let rotated = match OidcClientId::parse(id) {
        Ok(typed) => registration::rotate_secret(state.store.as_ref(), &typed, overlap_secs, &caller.actor(), now)
            .await
            .map(|rotated| (rotated, typed)),
        Err(e) => Err(e.into()),
    };
    match rotated {
        Ok((rotated, typed)) => {
            forget(state, &typed);
            Ok(rotated)
        }
        Err(e) => Err(refuse(caller, id, ApiError::from(&e), Some(e)).await),
    }
}

/// Remove client `id` (operators); its grants are revoked with it.
pub async fn remove(state: &AppState, caller: &Caller, id: &str) -> Result<(), Refused> {
    caller.may(Action::ManageOidcClients).await?;
    let removed = match OidcClientId::parse(id) {
        Ok(typed) => registration::remove(state.store.as_ref(), &typed, &caller.actor(), state.clock.now_unix_ms())
            .await
            .map(|()| typed),
        Err(e) => Err(e.into()),
    };
    match removed {
        Ok(typed) => {
            forget(state, &typed);
            Ok(())
        }
        Err(e) => Err(refuse(caller, id, ApiError::from(&e), Some(e)).await),
    }
}

/// This replica stops using what it cached of client `id` at once.
fn forget(state: &AppState, id: &OidcClientId) {
    if let Some(portal) = &state.portal {
        portal.oidc.clients.forget(id);
    }
}

async fn refuse(caller: &Caller, target: &str, error: ApiError, reason: Option<RegistrationError>) -> Refused {
    let error = caller.refuse(&Action::ManageOidcClients.name(), target, error).await;
    Refused { error, reason }
}
