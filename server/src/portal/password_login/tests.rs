//! The password sign-in's decisions reached with typed inputs and an in-memory store: no listener, no axum.
//! The end-to-end cases (pages, cookies, both databases) are in tests/integration/oidc.rs and review_portal.rs.

use super::{Context, Refused, sign_in};
use crate::portal::login_form::PasswordLogin;
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::{Actor, Store};
use hcpki_pkix::time::{Clock, FixedClock};
use hcpki_sso::accounts::{self, Username};
use hcpki_sso::catalog::Catalog;
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
            totp: added.unwrap().totp_secret,
            store,
            secret,
            _dir: dir,
        }
    }

    fn ctx(&self) -> Context<'_> {
        Context { store: self.store.as_ref(), secret: &self.secret, services: &self.services, refusals: &self.refusals }
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
