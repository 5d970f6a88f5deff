//! The physician's side of a desk: the portal page of the signed-in person shows a request, takes back what the
//! card signed or the refusal; each refusal audited (denied) by `portal:<person>`, the service named as people
//! know it.

use crate::oidc::Context;
use crate::session::Session;
use serde_json::{Value, json};

/// The audit actor of the page's signed-in person: `portal:<person key>`.
pub fn actor(session: &Session) -> String {
    format!("portal:{}", session.person_key)
}

/// Audit a refusal of `action` on `target` to the signed-in `session` (denied), with `detail` (at least its
/// `reason`).
pub(crate) async fn refused(ctx: Context<'_>, session: &Session, action: &str, target: &str, detail: Value) {
    ctx.refusals.record(&actor(session), action, target, detail).await;
}

/// [`refused`] with the reason alone.
pub(crate) async fn deny(ctx: Context<'_>, session: &Session, action: &str, target: &str, why: &str) {
    refused(ctx, session, action, target, json!({ "reason": why })).await;
}

/// "service name (client id)" from the client's registration and the catalog, else the client id.
pub(crate) async fn service_name(ctx: Context<'_>, client_id: &str) -> String {
    let service = match ctx.provider.clients.load_recorded(client_id).await {
        Ok(Some(c)) => Some(c.config.service.clone()),
        _ => None,
    };
    let catalog = ctx.services.current().await.ok();
    match service.and_then(|id| catalog.as_ref().and_then(|all| all.get(&id)).map(|s| s.name.clone())) {
        Some(name) => format!("{name} ({client_id})"),
        None => client_id.to_owned(),
    }
}
