//! The URL map: the only place that knows which path is served on which listener (the HTTPS and plain-HTTP
//! listeners of the CA, and the SSO portal's own HTTPS listener and mTLS listener).

use super::{acme, admin, ca_cert, crl, est, health, ocsp, scep, tsa};
use crate::app::admission::{self, Admission, Answer, Work};
use crate::app::rate_limit::{self, Class};
use crate::app::{AppState, auth, metrics};
use crate::portal::{self, PortalState, card_login, request_body, self_service};
use axum::Router;
use axum::routing::{MethodRouter, delete, get, post, put};
use std::sync::Arc;

/// The HTTPS listener: everything that is not required to be plain HTTP.
pub fn https(state: AppState) -> Router {
    let gate = &state.admission;
    // EST (RFC 7030 §3.2.2): the unlabelled paths and one label per facility profile (router, pc). The CA
    // certificates and attributes are cheap reads; the enrollments sign.
    let est_reads = Router::new()
        .route("/.well-known/est/cacerts", get(est::cacerts))
        .route("/.well-known/est/csrattrs", get(est::csrattrs))
        .route("/.well-known/est/{label}/cacerts", get(est::cacerts))
        .route("/.well-known/est/{label}/csrattrs", get(est::csrattrs));
    let est_enrollments = Router::new()
        .route("/.well-known/est/simpleenroll", post(est::simpleenroll))
        .route("/.well-known/est/simplereenroll", post(est::simplereenroll))
        .route("/.well-known/est/serverkeygen", post(est::serverkeygen))
        .route("/.well-known/est/{label}/simpleenroll", post(est::simpleenroll))
        .route("/.well-known/est/{label}/simplereenroll", post(est::simplereenroll))
        .route("/.well-known/est/{label}/serverkeygen", post(est::serverkeygen));
    // ACME (RFC 8555 §7.1): the directory names the rest. Every POST is a JWS to verify, and may sign.
    let acme_reads = Router::new()
        .route("/acme/directory", get(acme::directory))
        .route("/acme/new-nonce", get(acme::new_nonce).head(acme::new_nonce));
    let acme_posts = Router::new()
        .route("/acme/new-account", post(acme::new_account))
        .route("/acme/new-order", post(acme::new_order))
        .route("/acme/revoke-cert", post(acme::revoke_cert))
        .route("/acme/key-change", post(acme::key_change))
        .route("/acme/acct/{id}", post(acme::account))
        .route("/acme/order/{id}", post(acme::order))
        .route("/acme/order/{id}/finalize", post(acme::finalize))
        .route("/acme/authz/{id}", post(acme::authz))
        .route("/acme/chall/{id}", post(acme::challenge))
        .route("/acme/cert/{id}", post(acme::cert))
        .route("/acme/cert/{id}/alternate", post(acme::chain));
    let enrollment =
        est_reads.merge(admitted(gate, Work::Enroll, Answer::Text, est_enrollments)).merge(acme_reads).merge(
            admitted(gate, Work::Enroll, Answer::Acme, acme_posts)
                .layer(axum::middleware::from_fn_with_state(state.clone(), acme::stamped)),
        );
    Router::new()
        // Never behind the gate: health and metrics answer however loaded the server is.
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::scrape))
        .merge(limited(&state, Class::Enroll, enrollment))
        .merge(limited(&state, Class::Revocation, time_stamps(gate)))
        .merge(admin_api(state.clone()))
        .merge(console(state.clone()))
        .layer(axum::middleware::from_fn_with_state(metrics::Tracker::new(&state.metrics, "https"), metrics::track))
        .with_state(state)
}

/// The RFC 3161 time-stamping authority (RFC 3161 §3.4), on both listeners: clients name it by an http or
/// https URL. Limited like revocation checks: public, cheap, asked by machines; a token is a signature, so it
/// passes the admission gate as signing work.
fn time_stamps(gate: &Arc<Admission>) -> Router<AppState> {
    Router::new().route("/tsa", admitted_method(gate, Work::Sign, Answer::Text, post(tsa::post)).get(tsa::usage))
}

/// `routes` behind the per-address rate limit of `class`. Outside the admission gate: a request the limit
/// refuses never takes a slot (D138).
fn limited(state: &AppState, class: Class, routes: Router<AppState>) -> Router<AppState> {
    routes.layer(axum::middleware::from_fn_with_state((state.limits.clone(), class), rate_limit::limit))
}

/// `routes` as expensive `work` behind the admission gate, refused in the form of `answer` when it is full
/// (D138).
fn admitted<S: Clone + Send + Sync + 'static>(
    gate: &Arc<Admission>,
    work: Work,
    answer: Answer,
    routes: Router<S>,
) -> Router<S> {
    routes.layer(axum::middleware::from_fn_with_state(gate.door(work, answer), admission::admit))
}

/// One method's handler as expensive `work` behind the admission gate (the other methods of its path are not).
fn admitted_method<S: Clone + Send + Sync + 'static>(
    gate: &Arc<Admission>,
    work: Work,
    answer: Answer,
    method: MethodRouter<S>,
) -> MethodRouter<S> {
    method.layer(axum::middleware::from_fn_with_state(gate.door(work, answer), admission::admit))
}

/// The admin API (JSON, mutual TLS or credentials; see `admin.rs`), behind the cross-site request guard.
fn admin_api(state: AppState) -> Router<AppState> {
    let gate = &state.admission;
    let applications = Router::new().route("/api/v1/applications", post(admin::apply));
    Router::new()
        .route("/api/v1/whoami", get(admin::whoami))
        .route(
            "/api/v1/signatures/verify",
            admitted_method(gate, Work::Sign, Answer::Api, post(super::signatures::verify)),
        )
        // Anonymous: anyone may apply, so applications count against the address like enrollment.
        .merge(limited(&state, Class::Enroll, admitted(gate, Work::Enroll, Answer::Api, applications)))
        .route("/api/v1/facilities", get(admin::list_facilities))
        .route("/api/v1/facilities/{id}", get(admin::facility))
        .route("/api/v1/facilities/{id}/credentials", get(admin::list_credentials).post(admin::create_credential))
        .route("/api/v1/facilities/{id}/certificates", get(admin::certificates))
        .route("/api/v1/addresses", get(admin::find_address))
        .route(
            "/api/v1/facilities/{id}/security-officer",
            get(admin::security_officer).put(admin::set_security_officer),
        )
        .route("/api/v1/facilities/{id}/passkey-rule", get(admin::passkey_rule).put(admin::set_passkey_rule))
        .route("/api/v1/facilities/{id}/signing-limit", get(admin::signing_limit).put(admin::set_signing_limit))
        .route(
            "/api/v1/facilities/{id}/addresses",
            get(admin::addresses).post(admin::add_address).delete(admin::remove_address),
        )
        .route("/api/v1/facilities/{id}/session-lifetime", post(admin::session_lifetime))
        .route("/api/v1/facilities/{id}/routers", get(admin::routers::list).post(admin::routers::add))
        .route("/api/v1/facilities/{id}/routers/{name}", delete(admin::routers::remove))
        .route("/api/v1/facilities/{id}/psks", get(admin::routers::keys).post(admin::routers::issue))
        // Vetting evidence before approval (D173): admin::vetting.
        .route("/api/v1/register", get(admin::vetting::status).put(admin::vetting::import))
        .route("/api/v1/register/{code}", get(admin::vetting::entry))
        .route("/api/v1/facilities/{id}/vetting", get(admin::vetting::show))
        .route("/api/v1/facilities/{id}/vetting/code-check", post(admin::vetting::check_code))
        .route("/api/v1/facilities/{id}/vetting/security-rules", put(admin::vetting::accept_rules))
        .route("/api/v1/facilities/{id}/vetting/assessment", put(admin::vetting::assessment))
        .route("/api/v1/facilities/{id}/vetting/warnings", post(admin::vetting::warn))
        .route("/api/v1/vetting/overdue", get(admin::vetting::overdue))
        .route("/api/v1/vetting/requirements", put(admin::vetting::set_requirements))
        .route("/api/v1/vetting/rules-version", put(admin::vetting::set_rules_version))
        .route("/api/v1/facilities/{id}/psks/{key}/withdraw", post(admin::routers::withdraw))
        .route("/api/v1/router-models", get(admin::routers::models).post(admin::routers::approve_model))
        .route("/api/v1/router-models/{model}", delete(admin::routers::withdraw_model))
        .route("/api/v1/router-models/{model}/status", post(admin::routers::model_status))
        .route("/api/v1/facilities/{id}/devices/{device}/name", post(admin::name_device))
        .route("/api/v1/facilities/{id}/{action}", post(admin::transition))
        .route("/api/v1/credentials/{id}/revoke", post(admin::revoke_credential))
        .route("/api/v1/certificates/{serial}/revoke", post(admin::revoke_certificate))
        .route("/api/v1/users", get(admin::users))
        .route("/api/v1/users/not-ready", get(admin::users_not_ready))
        .route("/api/v1/users/end-sessions", post(admin::end_user_sessions))
        .route("/api/v1/users/clear-lockout", post(admin::clear_lockout))
        .route("/api/v1/console-grants", get(admin::console_grants).post(admin::add_console_grant))
        .route("/api/v1/console-grants/remove", post(admin::remove_console_grant))
        .route("/api/v1/oidc-clients", get(admin::oidc_clients).post(admin::add_oidc_client))
        .route("/api/v1/regional-networks", get(admin::regional_networks).post(admin::declare_regional_network))
        .route("/api/v1/oidc-clients/{id}", delete(admin::remove_oidc_client))
        .route("/api/v1/oidc-clients/{id}/rotate-secret", post(admin::rotate_oidc_client_secret))
        .route("/api/v1/ca/halt", get(admin::issuance_halt).post(admin::halt_issuance))
        .route("/api/v1/ca/halt/approve", post(admin::approve_resume))
        .route("/api/v1/ca/cps", get(admin::practice))
        .route("/api/v1/ras", get(admin::ras).post(admin::create_ra))
        .route("/api/v1/ras/assign", post(admin::assign_ra))
        .route("/api/v1/ras/members", post(admin::set_ra_member))
        .route("/api/v1/compliance/report", get(admin::compliance::report))
        .route("/api/v1/ca/{ca}/rollover", get(admin::rollover::status))
        .route("/api/v1/ca/{ca}/rollover/{verb}", post(admin::rollover::step))
        .layer(axum::middleware::from_fn_with_state(state, auth::browser_guard))
}

/// The web console (server-rendered HTML; see `crate::console`), behind its guard (security headers, Origin
/// check on POSTs). The application form is anonymous, so it counts against the address like enrollment.
fn console(state: AppState) -> Router<AppState> {
    use crate::console::{
        addresses, apply, audit, device_names, error_page, facilities, lifetime, no_such_page, oidc_clients, users,
        view,
    };
    let anonymous = Router::new().route("/console/apply", get(apply::form).post(apply::submit));
    let routes = Router::new()
        .route("/console", get(facilities::home))
        .route("/console/", get(facilities::home))
        .route("/console/static/console.css", get(view::stylesheet))
        // Sign-in by card through the portal (D42).
        .route("/console/login", get(crate::console::signin::start))
        .route("/console/login/callback", get(crate::console::signin::callback))
        .route("/console/logout", get(crate::console::signin::signout_form).post(crate::console::signin::signout))
        .merge(limited(&state, Class::Enroll, anonymous))
        .route("/console/facilities", get(facilities::search))
        .route("/console/facilities/{id}", get(facilities::detail))
        .route(
            "/console/facilities/{id}/transition",
            get(crate::console::lifecycle::confirm).post(crate::console::lifecycle::transition),
        )
        .route("/console/facilities/{id}/credentials", post(facilities::create_credential))
        .route("/console/facilities/{id}/pkcs12", post(facilities::pkcs12))
        .route("/console/facilities/{id}/devices/{device}/name", get(device_names::form).post(device_names::save))
        .route(
            "/console/credentials/{id}/revoke",
            get(facilities::confirm_revoke_credential).post(facilities::revoke_credential),
        )
        .route("/console/certificates", get(facilities::certificates))
        .route(
            "/console/certificates/{serial}/revoke",
            get(crate::console::revocation::confirm).post(crate::console::revocation::revoke),
        )
        .route("/console/audit", get(audit::viewer))
        .route("/console/audit/export", get(audit::export))
        .route("/console/audit/{seq}", get(audit::entry))
        .route("/console/break-glass", get(crate::console::break_glass::list))
        // The issuance stop switch (D135, D141).
        .route("/console/ca/halt", get(crate::console::halt::show).post(crate::console::halt::halt))
        .route("/console/ca/halt/confirm", get(crate::console::halt::confirm_halt))
        .route("/console/ca/cps", get(crate::console::practice::download))
        .route(crate::console::compliance::PATH, get(crate::console::compliance::show))
        .route(crate::console::ras::PATH, get(crate::console::ras::list).post(crate::console::ras::change))
        .route(
            crate::console::router_models::PATH,
            get(crate::console::router_models::show).post(crate::console::router_models::change),
        )
        .route(crate::console::rollover::PATH, get(crate::console::rollover::show))
        .route("/console/ca/rollover/{ca}/{verb}", post(crate::console::rollover::step))
        .route(
            "/console/ca/halt/approve",
            get(crate::console::halt::confirm_approve).post(crate::console::halt::approve),
        )
        .route("/console/oidc-clients", get(oidc_clients::list))
        .route(
            crate::console::networks::PATH,
            get(crate::console::networks::list).post(crate::console::networks::declare),
        )
        .route("/console/oidc-clients/add", get(oidc_clients::add_form).post(oidc_clients::add))
        .route("/console/oidc-clients/rotate-secret", post(oidc_clients::rotate))
        .route("/console/oidc-clients/remove", get(oidc_clients::remove_form).post(oidc_clients::remove))
        .route("/console/users", get(users::search))
        .route("/console/users/end-sessions", post(users::end_sessions))
        .route("/console/users/end-sessions/confirm", get(users::confirm_end_sessions))
        .route("/console/users/clear-lockout", post(users::clear_lockout))
        .route("/console/facilities/{id}/session-lifetime", post(lifetime::set))
        .route("/console/facilities/{id}/addresses", post(addresses::change))
        .route(
            "/console/facilities/{id}/routers",
            get(crate::console::router_register::show).post(crate::console::router_register::change_router),
        )
        .route("/console/facilities/{id}/psks", post(crate::console::router_register::change_psk))
        .route(
            "/console/facilities/{id}/rules",
            get(crate::console::facility_rules::show).post(crate::console::facility_rules::change),
        )
        // Vetting evidence (D173), linked from the facility page.
        .route(
            "/console/facilities/{id}/vetting",
            get(crate::console::vetting::show).post(crate::console::vetting::change),
        )
        .route(
            crate::console::vetting::REGISTER_PATH,
            get(crate::console::vetting::register).post(crate::console::vetting::register_change),
        )
        .route(crate::console::vetting::OVERDUE_PATH, get(crate::console::vetting::overdue))
        // Long operations (D38): crate::console::{jobs, import, reissue}.
        .route("/console/jobs", get(crate::console::jobs::list))
        .route("/console/jobs/{id}", get(crate::console::jobs::show))
        .route("/console/jobs/{id}/resume", post(crate::console::jobs::resume))
        .route("/console/jobs/{id}/cancel", post(crate::console::jobs::cancel))
        .route("/console/import", get(crate::console::import::form).post(crate::console::import::check))
        .route("/console/import/run", post(crate::console::import::run))
        .route("/console/reissue", get(crate::console::reissue::form).post(crate::console::reissue::preview))
        .route("/console/reissue/run", post(crate::console::reissue::run))
        .route("/console/certificates/{serial}/download", get(crate::console::download::download))
        // Themed pages under the console's guard (its headers) for an unknown console address and a method a
        // route does not take (issue #45 item 6).
        .route("/console/{*rest}", axum::routing::any(no_such_page::not_found))
        .method_not_allowed_fallback(no_such_page::method_not_allowed);
    // A panic's themed 500 page (issue #45 item 6), inside the guard so that its headers apply.
    #[cfg(feature = "test-hooks")]
    let routes = routes.route("/console/test-hooks/panic", get(crate::panics::panic_now));
    routes
        .layer(axum::middleware::from_fn(error_page::catch_panic))
        .layer(axum::middleware::from_fn_with_state(state, crate::console::guard))
}

/// The plain-HTTP listener: only what a protocol needs unencrypted (SCEP, CRL download, OCSP).
pub fn http(state: AppState) -> Router {
    let revocation = Router::new()
        // The CRL distribution point URLs of every certificate (`<http_base_url>/crl/<ca>.crl`).
        .route("/crl/{file}", get(crl::download))
        // The caIssuers URLs (`<http_base_url>/ca/<ca>.crt`, a later generation's `/ca/<ca>-g<n>.crt`, D160).
        .route("/ca/{file}", get(ca_cert::download))
        // The OCSP URL in every certificate's AIA (`<http_base_url>/ocsp/<ca>`): POST, and GET with the request
        // in the path (RFC 6960 Appendix A.1).
        .route("/ocsp/{ca}", post(ocsp::post).get(ocsp::usage))
        .route("/ocsp/{ca}/", post(ocsp::post))
        .route("/ocsp/{ca}/{*request}", get(ocsp::get));
    let scep = Router::new()
        // SCEP (RFC 8894 §4.1): one endpoint per name, with or without the CGI path Cisco IOS appends.
        .route("/scep/{name}", get(scep::named).post(scep::named))
        .route("/scep/{name}/cgi-bin/pkiclient.exe", get(scep::named).post(scep::named))
        .route("/scep/{name}/pkiclient.exe", get(scep::named).post(scep::named))
        .route("/cgi-bin/pkiclient.exe", get(scep::cisco_default).post(scep::cisco_default));
    // SCEP's GET and POST both carry PKIOperation (a signed and encrypted request): all of it is enrollment.
    let scep = admitted(&state.admission, Work::Enroll, Answer::Text, scep);
    Router::new()
        // Never behind the gate: health, and OCSP's pre-signed answers and the CRLs, which relying parties
        // need most when everything else is busy.
        .route("/healthz", get(health::healthz))
        .merge(limited(&state, Class::Revocation, revocation))
        .merge(limited(&state, Class::Revocation, time_stamps(&state.admission)))
        .merge(limited(&state, Class::Enroll, scep))
        .layer(axum::middleware::from_fn_with_state(metrics::Tracker::new(&state.metrics, "http"), metrics::track))
        .with_state(state)
}

/// The SSO portal's listener (issue #6, D24): the browser pages, the OpenID Connect provider's endpoints
/// (`super::oidc` adapts them), the card agent's reports. Every body is bounded before any handler reads it
/// (issue #24 item 5). The sign-ins and signatures pass the admission gate (D138) inside the per-address
/// sign-in limit that `cmd::serve` puts around the whole listener.
pub fn portal(state: PortalState, gate: &Arc<Admission>) -> Router {
    let login = |m| admitted_method(gate, Work::Login, Answer::PortalJson, m);
    // The card's signature comes after an admitted challenge: a sign-in under way, served first (D138).
    let finish = |m| admitted_method(gate, Work::Finish, Answer::PortalJson, m);
    let sign = |m| admitted_method(gate, Work::Sign, Answer::Page, m);
    let browser = Router::new()
        .route("/", get(portal::home))
        .route(
            "/login",
            get(portal::login_page).merge(admitted_method(gate, Work::Login, Answer::Page, post(portal::login))),
        )
        .route("/login/enrol", admitted_method(gate, Work::Login, Answer::Page, post(portal::enrol)))
        .route("/login/card/challenge", login(post(card_login::endpoints::challenge)))
        .route("/login/card", finish(post(card_login::endpoints::submit)))
        .route("/logout/card-removed", post(card_login::endpoints::card_removed))
        .route("/logout", get(super::oidc::logout::logout_get).post(portal::logout))
        .route("/login/passkey/options", login(post(portal::passkeys::request_options)))
        .route("/login/passkey", finish(post(portal::passkeys::sign_in)))
        .route("/passkeys", get(portal::passkeys::show))
        .route("/passkeys/options", post(portal::passkeys::creation_options))
        .route("/passkeys/register", post(portal::passkeys::register))
        .route("/passkeys/rename", post(portal::passkeys::rename))
        .route("/passkeys/revoke", post(portal::passkeys::revoke))
        .route("/sessions", get(self_service::list))
        .route("/sessions/end", post(self_service::end_one))
        .route("/sessions/end-all", post(self_service::end_all))
        .route("/delegations", get(portal::delegation::show).post(portal::delegation::create))
        .route("/delegations/end", post(portal::delegation::end))
        .route("/delegations/act", post(portal::delegation::choose))
        .route("/sign/{id}", get(portal::signing::show).merge(sign(post(portal::signing::post))))
        .route("/sign/{id}/document", get(portal::signing::document))
        .route("/consent/{id}", get(portal::consent::show).merge(sign(post(portal::consent::post))))
        .route("/consent/{id}/document", get(portal::consent::document))
        .route("/consent/{id}/prepare", post(portal::consent::prepare))
        .route("/break-glass", get(portal::break_glass::show).post(portal::break_glass::confirm))
        .route("/consents/new", get(portal::patient_desk::new_consent).post(portal::patient_desk::ask))
        .route("/patients/identify", get(portal::patient_desk::identify_page).post(portal::patient_desk::check))
        .route("/patients/identify/challenge", post(portal::patient_desk::challenge))
        .route("/patients/consents", get(portal::patient_desk::consents_page).post(portal::patient_desk::consents))
        .route("/session/lend", post(portal::lending_endpoints::lend))
        .route("/session/lend/return", post(portal::lending_endpoints::return_card))
        // A lent session (D91) is paused on every page but the consent flow's.
        .layer(axum::middleware::from_fn_with_state(state.clone(), portal::lending_endpoints::guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), portal::csrf_guard))
        // The card login's answers say the portal's own time, guard and handler (D63).
        .route_layer(axum::middleware::from_fn(portal::server_timing::record))
        .layer(axum::middleware::from_fn(portal::lang::remember))
        // The themed 405 for the pages only (issue #45 item 6). axum sets it eagerly on the routes there are, in
        // place of each route's own fallback and outside its route layers: on the whole portal it would answer the
        // CORS preflights (`OPTIONS /token`, `/jwks`) before `cors::browser_apps` and `cors::public_documents`.
        .method_not_allowed_fallback(portal::method_not_allowed);
    let router = Router::new()
        .merge(browser)
        // Outside the CSRF guard: relying parties legitimately send the browser here from their own site,
        // with GET or an auto-submitted form (OIDC Core §3.1.2.1), and it changes nothing the request alone
        // could abuse (codes go only to registered redirect URIs).
        .route(
            "/authorize",
            get(super::oidc::authorize::authorize)
                .post(super::oidc::authorize::authorize_post)
                .layer(axum::middleware::from_fn_with_state(state.clone(), portal::lending_endpoints::guard)),
        )
        .merge(oidc_back_channel(&state, gate))
        .merge(
            Router::new()
                .route("/.well-known/openid-configuration", get(super::oidc::endpoints::discovery))
                .route("/jwks", get(super::oidc::endpoints::jwks))
                .route_layer(axum::middleware::from_fn(super::oidc::cors::public_documents)),
        )
        // The card agent's presence reports (D26): a local program, not a browser; the token authenticates.
        .route("/presence", post(card_login::endpoints::presence))
        .route("/static/card-login.js", get(card_login::endpoints::script_login))
        .route("/static/card-watch.js", get(card_login::endpoints::script_watch))
        .route(portal::passkeys::SCRIPT_PATH, get(portal::passkeys::script))
        .route(portal::SIGN_REQUEST_SCRIPT_PATH, get(portal::signing::script))
        .route(portal::CONSENT_SCRIPT_PATH, get(portal::consent::script))
        .route(portal::STYLESHEET_PATH, get(portal::stylesheet))
        // The themed page for an unknown address (issue #45 item 6); the pages' 405 is set on `browser` above.
        .fallback(portal::not_found);
    #[cfg(feature = "test-hooks")]
    let router = router.route("/test-hooks/panic", get(crate::panics::panic_now));
    router
        // A panic's themed 500 page (issue #45 item 6).
        .layer(axum::middleware::from_fn(portal::catch_panic))
        .layer(axum::middleware::from_fn_with_state(state.clone(), request_body::cap))
        // Every page's language switch links to the request it answers (D62).
        .layer(axum::middleware::from_fn(portal::lang::address))
        .with_state(state)
}

/// The portal's mTLS listener (RFC 8705 §5 `mtls_endpoint_aliases`): only the back-channel endpoints.
pub fn portal_mtls(state: PortalState, gate: &Arc<Admission>) -> Router {
    oidc_back_channel(&state, gate)
        .layer(axum::middleware::from_fn_with_state(state.clone(), request_body::cap))
        .with_state(state)
}

/// The OpenID Connect endpoints clients call directly (client-authenticated or bearer; no cookies), on both
/// portal listeners. Those a browser app's page calls answer its origin's CORS requests (`cors::browser_apps`);
/// introspection and the APIs are for services' servers.
fn oidc_back_channel(state: &PortalState, gate: &Arc<Admission>) -> Router<PortalState> {
    use super::oidc::{authorize, cors, endpoints, token};
    let browser_apps = Router::new()
        // Tokens are signed here (and a grant's checks may verify client assertions): the end of a sign-in.
        .route("/token", admitted_method(gate, Work::Finish, Answer::OAuth, post(token::token)))
        .route("/par", post(authorize::par))
        .route("/userinfo", get(endpoints::userinfo).post(endpoints::userinfo))
        .route("/revoke", post(endpoints::revoke))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), cors::browser_apps));
    Router::new()
        .merge(browser_apps)
        .route("/introspect", post(endpoints::introspect))
        // Patient-presence proofs (issue #49, D148): client-authenticated like /introspect.
        .route(hcpki_sso::presence::INTROSPECT.path, post(endpoints::presence_introspect))
        // Signing requests from relying services (issue #27 item 3): client-authenticated like /introspect.
        // The portal's cap (`request_body`) bounds the body first; axum's own default (2 MB) would refuse a
        // document the API takes.
        .route(
            "/api/v1/signing-requests",
            admitted_method(
                gate,
                Work::Sign,
                Answer::OAuth,
                post(super::signing_requests::create)
                    .layer(axum::extract::DefaultBodyLimit::max(hcpki_sso::signing_requests::MAX_BODY_BYTES)),
            ),
        )
        .route(
            "/api/v1/signing-requests/{id}",
            get(super::signing_requests::status_get).post(super::signing_requests::status_post),
        )
        // Patients' consents (issue #28): client-authenticated like /introspect.
        .route(hcpki_sso::consent::api::API_PATH, get(super::consents::check_get).post(super::consents::create))
        .route("/api/v1/consents/check", post(super::consents::check_post))
        .route("/api/v1/consents/{id}", get(super::consents::status_get).post(super::consents::status_post))
        .route(
            hcpki_sso::consent::api::EVENTS_PATH,
            get(super::consents::events_get).post(super::consents::events_post),
        )
        // Regional networks' member services (issue #49 item 2, D169).
        .route(hcpki_sso::consent::network_api::CHECK.path, post(super::consents::network_check))
        .route(
            hcpki_sso::consent::network_api::EVENTS.path,
            get(super::consents::network_events_get).post(super::consents::network_events_post),
        )
        // SCIM provisioning (issue #51 item 3, D158): bearer tokens of facility-bound clients.
        .merge(super::scim::routes())
        // The Shared Signals transmitter (issue #51 item 2, D162): bearer tokens of scope ssf.
        .merge(super::ssf::routes())
}
