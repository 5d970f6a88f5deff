//! What every portal and OIDC handler may reach, and what follows a session's end (back-channel logout,
//! audit). Below the handlers: it knows the card login's settings, never its endpoints.

use super::card_login::CardLogin;
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::Store;
use hcpki_pkix::time::UnixTime;
use hcpki_sso::audit::audit;
use hcpki_sso::catalog::Catalog;
use hcpki_sso::oidc::{self, Provider};
use hcpki_sso::refusals::Refusals;
use hcpki_sso::secret::PortalSecret;
use hcpki_sso::session::{self, Session, Sessions};
use serde_json::json;
use std::sync::Arc;

/// What every portal and OIDC handler may reach.
#[derive(Clone, Debug)]
pub struct PortalState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// SSO sessions.
    pub sessions: Sessions,
    /// The portal secret (CSRF tokens, pairwise subjects, sealed TOTP secrets).
    pub secret: Arc<PortalSecret>,
    /// The services of the policy (database, seeded from the services file).
    pub services: Arc<Catalog>,
    /// The OIDC provider.
    pub oidc: Arc<Provider>,
    /// Card login, when `[login]` names trust anchors.
    pub cards: Option<Arc<CardLogin>>,
    /// The audit entries of refusals anyone can cause, group-committed.
    pub refusals: Arc<Refusals>,
    /// The process's clock (the authority's): handlers read the time here, never the system clock.
    pub clock: Arc<dyn hcpki_pkix::time::Clock>,
    /// Where signing requests' B-T time stamps come from: `[[signing.tsa]]` (issue #27 item 3, D80).
    pub time_stamps: Arc<dyn hcpki_sso::desk::signature::SignatureTimeStamps>,
    /// Patients' consents: deadline, retention, the services' templates (`[consent]`, issue #28).
    pub consent: Arc<hcpki_sso::consent::settings::ConsentSettings>,
    /// `[portal] delegation_max_hours`: the longest delegation a physician may make (D95).
    pub delegation_max_hours: u32,
    /// `[portal] second_factor_deadline` and `second_factor_grace_days`: until when an account whose second
    /// factor was never set up may set it up at sign-in (D161).
    pub enrolment: hcpki_sso::enrolment::EnrolmentRule,
}

impl PortalState {
    /// What the password sign-in and the second factor's set-up read besides their form.
    pub fn password_login(&self) -> super::password_login::Context<'_> {
        super::password_login::Context {
            store: self.store.as_ref(),
            secret: &self.secret,
            services: &self.services,
            refusals: &self.refusals,
            enrolment: &self.enrolment,
            accounts: self.store.as_ref(),
        }
    }

    /// What the provider's and the signing requests' cores reach besides their request, lent from here.
    pub fn oidc_context(&self) -> oidc::Context<'_> {
        oidc::Context { provider: &self.oidc, refusals: &self.refusals, services: &self.services, secret: &self.secret }
    }

    /// End every session of `person_key` that card `card_id` logged in (the card agent's card-removed event):
    /// their grants are revoked and their clients get back-channel logout tokens, at `now`. Returns how many
    /// ended.
    pub async fn end_sessions_for_card(
        &self,
        person_key: &str,
        card_id: &str,
        now: i64,
    ) -> Result<usize, session::SessionError> {
        let ended = self.sessions.end_sessions_for_card(person_key, card_id, now).await?;
        for s in &ended {
            self.after_session_end(s, "card-removed").await;
        }
        Ok(ended.len())
    }

    /// Back-channel logout for sessions another process ended (an account disabled, a facility suspended or
    /// retired: their grants are revoked already), claimed so that one replica sends each. How many.
    pub async fn notify_ended_sessions(&self, now: i64, limit: i64) -> Result<usize, hcpki_ca::store::StoreError> {
        let claimed = self.store.portal_claim_ended_sessions(UnixTime::from_secs(now), limit).await?;
        for s in &claimed {
            let why = s.end_reason.as_deref().unwrap_or("ended");
            self.notify_revoked(&s.id_hash, why).await?;
            let detail = json!({ "reason": why, "session": oidc::sid(&s.id_hash) });
            audit(
                self.store.as_ref(),
                self.clock.now_unix_ms(),
                "system",
                "portal.logout",
                &s.person_key,
                Outcome::Ok,
                detail,
            )
            .await;
        }
        Ok(claimed.len())
    }

    /// "Log out everywhere" (issue #8): end every live session of `person_key`, revoking their grants, in
    /// one audited transaction (`actor`: the person, or the operator whose help desk did it), then send each
    /// session's clients their back-channel logout. How many ended.
    pub async fn end_person_sessions(
        &self,
        person_key: &str,
        why: &str,
        actor: &hcpki_ca::store::Actor,
    ) -> Result<usize, hcpki_ca::store::StoreError> {
        let now = self.clock.now_unix();
        let ended = self.store.portal_end_person_sessions(person_key, why, UnixTime::from_secs(now), actor).await?;
        for s in &ended {
            self.notify_revoked(&s.id_hash, why).await?;
        }
        Ok(ended.len())
    }

    /// Back-channel logout (and Shared Signals) to the clients of a session whose grants were revoked already,
    /// ended for `why`.
    async fn notify_revoked(&self, session_hash: &str, why: &str) -> Result<(), hcpki_ca::store::StoreError> {
        let grants = self.store.oidc_session_grants(session_hash).await?;
        oidc::backchannel::notify(&self.oidc, grants, why).await;
        Ok(())
    }

    /// What follows every session end: grants revoked, back-channel logout, audit.
    pub(super) async fn after_session_end(&self, s: &Session, why: &str) {
        oidc::backchannel::session_ended_audited(&self.oidc, &s.person_key, &s.id_hash, why).await;
    }
}
