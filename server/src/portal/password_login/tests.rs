//! The password sign-in's decisions reached with typed inputs and an in-memory store: no listener, no axum.
//! The end-to-end cases (pages, cookies, both databases) are in tests/integration/oidc.rs and review_portal.rs.

use super::{Context, Refused, enrol, sign_in};
use crate::portal::login_form::{Enrolment, PasswordLogin};
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::{Actor, Store};
use hcpki_pkix::time::{Clock, FixedClock};
use hcpki_sso::accounts::{self, Username};
use hcpki_sso::catalog::Catalog;
use hcpki_sso::enrolment::{EnrolmentRule, Window};
use hcpki_sso::facility::LoginFacility;
use hcpki_sso::refusals::Refusals;
use hcpki_sso::secret::PortalSecret;
use hcpki_sso::totp;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

const NOW: i64 = 1_800_000_000;

struct Fixture {
    store: Arc<dyn Store>,
    secret: PortalSecret,
    services: Catalog,
    refusals: Refusals,
    enrolment: EnrolmentRule,
    /// alice's TOTP secret.
    totp: Zeroizing<Vec<u8>>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Self {
        let store = hcpki_ca::store::open("sqlite::memory:").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let secret = PortalSecret::load_or_create(&dir.path().join("portal.secret")).unwrap();
        let added = accounts::add(
            store.as_ref(),
            &secret,
            "alice",
            "Alice",
            None,
            b"correct horse",
            &Actor::system(),
            NOW * 1000,
        )
        .await;
        let clock: Arc<dyn Clock> = Arc::new(FixedClock::at(NOW));
        Self {
            services: Catalog::new(store.clone(), None, Duration::ZERO, clock.clone()),
            refusals: Refusals::start(store.clone(), clock),
            enrolment: EnrolmentRule::new(None, 30),
            totp: added.unwrap().totp_secret,
            store,
            secret,
            _dir: dir,
        }
    }

    fn ctx(&self) -> Context<'_> {
        Context {
            store: self.store.as_ref(),
            secret: &self.secret,
            services: &self.services,
            refusals: &self.refusals,
            enrolment: &self.enrolment,
            accounts: self.store.as_ref(),
        }
    }

    fn form(&self, password: &str, code: u32) -> PasswordLogin {
        PasswordLogin {
            username: Username::parse("alice").unwrap(),
            password: Zeroizing::new(password.to_owned()),
            totp: format!("{code:06}"),
            return_to: None,
        }
    }

    fn code(&self) -> u32 {
        totp::code(&self.totp, totp::step_at(NOW))
    }
}

#[tokio::test]
async fn a_good_password_and_code_give_the_session_to_create_and_its_entry() {
    let f = Fixture::new().await;
    let signed_in = sign_in(f.ctx(), &f.form("correct horse", f.code()), LoginFacility::default(), NOW).await.unwrap();
    assert_eq!(signed_in.session.person_key, "pwd:alice");
    assert_eq!(signed_in.session.credential.method, "password-totp");
    assert_eq!(signed_in.session.auth_time, NOW);
    assert!(signed_in.session.facility.is_none());
    assert_eq!((signed_in.entry.action.as_str(), signed_in.entry.target.as_str()), ("portal.login", "alice"));
    assert_eq!(signed_in.entry.actor, "portal:pwd:alice");
    assert!(matches!(signed_in.entry.outcome, Outcome::Ok));
    assert_eq!(signed_in.entry.detail["credential"], "password-totp");
    // The code is single use: the same one again is told apart (the person needs the next one), but only with
    // the right password; with a wrong one it is a wrong password like any other.
    let again = sign_in(f.ctx(), &f.form("correct horse", f.code()), LoginFacility::default(), NOW).await;
    assert!(matches!(again, Err(Refused::CodeUsed)), "{again:?}");
    let guessed = sign_in(f.ctx(), &f.form("wrong", f.code()), LoginFacility::default(), NOW).await;
    assert!(matches!(guessed, Err(Refused::Credentials)), "{guessed:?}");
}

#[tokio::test]
async fn wrong_credentials_are_refused_alike_then_the_account_is_throttled() {
    let f = Fixture::new().await;
    for _ in 0..5 {
        let wrong = sign_in(f.ctx(), &f.form("wrong", f.code()), LoginFacility::default(), NOW).await;
        assert!(matches!(wrong, Err(Refused::Credentials)), "{wrong:?}");
        assert_eq!(wrong.unwrap_err().to_string(), "wrong user name, password or code");
    }
    // Past the free failures even the right password waits, before it is checked.
    let throttled = sign_in(f.ctx(), &f.form("correct horse", f.code()), LoginFacility::default(), NOW).await;
    let Err(Refused::Throttled { wait }) = throttled else { panic!("{throttled:?}") };
    assert!(wait > 0, "{wait}");
}

/// At a facility PC (its certificate's serial; the facility itself does not matter here).
fn at_pc(serial: &str) -> LoginFacility {
    LoginFacility { certificate: Some(serial.to_owned()), ..LoginFacility::default() }
}

fn confirmation(sealed: &str, code: u32) -> Enrolment {
    Enrolment {
        username: Username::parse("alice").unwrap(),
        offer: sealed.to_owned(),
        totp: format!("{code:06}"),
        return_to: None,
    }
}

/// D161: alice's secret was never confirmed. The right password without a working code offers set-up only at a
/// facility PC; the offer is good at that PC, with a code of its secret, once; afterwards the old secret is
/// gone and a missing code is a wrong one. Each refusal is audited with why.
#[tokio::test]
async fn an_account_never_set_up_sets_up_its_second_factor_once_at_a_facility_pc() {
    let f = Fixture::new().await;
    let missing = |f: &Fixture| PasswordLogin { totp: String::new(), ..f.form("correct horse", 0) };
    let away = sign_in(f.ctx(), &missing(&f), LoginFacility::default(), NOW).await;
    assert!(matches!(away, Err(Refused::EnrolAtFacilityPc)), "{away:?}");
    let Err(Refused::MustEnrol { offer, window }) = sign_in(f.ctx(), &missing(&f), at_pc("0a"), NOW).await else {
        panic!("no set-up offered")
    };
    assert_eq!(window, Window::Open { closes: None, overdue: false });
    let sealed = offer.seal(&f.secret).unwrap();
    let code = totp::code(&offer.secret, totp::step_at(NOW));
    // Another PC, a wrong code: refused, nothing taken.
    let elsewhere = enrol(f.ctx(), &confirmation(&sealed, code), at_pc("0b"), NOW).await;
    assert!(matches!(elsewhere, Err(Refused::Offer(_))), "{elsewhere:?}");
    let wrong = enrol(f.ctx(), &confirmation(&sealed, (code + 1) % 1_000_000), at_pc("0a"), NOW).await;
    assert!(matches!(wrong, Err(Refused::EnrolCode { .. })), "{wrong:?}");
    let late = enrol(f.ctx(), &confirmation(&sealed, code), at_pc("0a"), NOW + 600).await;
    assert!(matches!(late, Err(Refused::Offer(_))), "{late:?}");
    let done = enrol(f.ctx(), &confirmation(&sealed, code), at_pc("0a"), NOW).await.unwrap();
    assert_eq!(done.session.person_key, "pwd:alice");
    assert_eq!(done.entry.detail["second_factor_enrolled"], true);
    let again = enrol(f.ctx(), &confirmation(&sealed, code), at_pc("0a"), NOW + 30).await;
    assert!(matches!(again, Err(Refused::Enrolled)), "{again:?}");
    // The secret made with the account is gone; no code is now a wrong code, not a set-up.
    let old = sign_in(f.ctx(), &f.form("correct horse", f.code()), at_pc("0a"), NOW + 60).await;
    assert!(matches!(old, Err(Refused::Credentials)), "{old:?}");
    let none = sign_in(f.ctx(), &missing(&f), at_pc("0a"), NOW + 60).await;
    assert!(matches!(none, Err(Refused::Credentials)), "{none:?}");
    let next = totp::code(&offer.secret, totp::step_at(NOW + 60));
    sign_in(f.ctx(), &f.form("correct horse", next), at_pc("0a"), NOW + 60).await.unwrap();
    let entries = f.store.audit_entries(0, 100).await.unwrap();
    for reason in ["second-factor-enrolment-needs-facility-pc", "second-factor-enrolment-offered", "offer-foreign"] {
        assert!(
            entries.iter().any(|e| e.detail.contains(&format!("\"reason\":\"{reason}\""))),
            "{reason}: {entries:?}"
        );
    }
    assert!(entries.iter().any(|e| e.action == "portal.user.totp_enrol"), "the enrolment is audited");
}

/// After the deadline's grace the set-up is no longer offered, and an offer made before is not taken.
#[tokio::test]
async fn after_the_grace_an_account_never_set_up_is_refused() {
    let mut f = Fixture::new().await;
    let missing = PasswordLogin { totp: String::new(), ..f.form("correct horse", 0) };
    let Err(Refused::MustEnrol { offer, .. }) = sign_in(f.ctx(), &missing, at_pc("0a"), NOW).await else {
        panic!("no set-up offered")
    };
    f.enrolment = EnrolmentRule::new(Some(hcpki_model::UnixTime::from_secs(NOW - 10 * 86_400)), 10);
    let closed = sign_in(f.ctx(), &missing, at_pc("0a"), NOW).await;
    assert!(matches!(closed, Err(Refused::EnrolmentClosed { .. })), "{closed:?}");
    let code = totp::code(&offer.secret, totp::step_at(NOW));
    let late = enrol(f.ctx(), &confirmation(&offer.seal(&f.secret).unwrap(), code), at_pc("0a"), NOW).await;
    assert!(matches!(late, Err(Refused::EnrolmentClosed { .. })), "{late:?}");
}
