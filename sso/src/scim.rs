//! SCIM 2.0 provisioning of staff accounts (RFC 7643, RFC 7644; issue #51 item 3, D158), HTTP-free: the
//! server's `/scim/v2` adapter reads a request into these calls and writes their [`Value`] or [`ScimError`]
//! back. Every call is made for one facility — the one the calling client is bound to — and sees nothing
//! else: another facility's account is answered exactly as one that does not exist.
//!
//! Users are password + TOTP accounts (and the passkeys their people registered) with a facility
//! ([`user`]); Groups are the console grants and the services' policy ([`group`]). Filters ([`filter`]),
//! PATCH ([`patch`]), paging and sorting ([`list`]), versions ([`version`]) and discovery ([`discovery`]) are
//! pure functions over JSON. Every write is audited with the client as actor; de-provisioning (`active`
//! false, or DELETE) is the help desk's disable (`PortalUsers::portal_disable_user`), which ends the account's
//! sessions and grants in the same transaction, and returns a [`Deprovisioned`] for the Shared Signals
//! transmitter (issue #51 item 2) to announce.

pub mod discovery;
pub mod error;
pub mod filter;
pub mod group;
pub mod list;
pub mod patch;
pub mod path;
pub mod user;
pub mod version;

#[cfg(test)]
mod tests;

use crate::accounts;
use crate::policy::{self, FacilityContext, Services, Subject};
use crate::secret::PortalSecret;
use error::ScimError;
use filter::Schema;
use group::{CONSOLE_ADMINS, GroupView, SERVICE_PREFIX};
use hcpki_ca::console_grant::{ConsoleGrant, ConsoleRole};
use hcpki_ca::facility::FacilityId;
use hcpki_ca::store::{Actor, ScimAccount, ScimAccountChange, Store, StoreError};
use hcpki_pkix::time::UnixTime;
use list::ListQuery;
use serde_json::Value;
use user::{CASE_EXACT, USER_SCHEMA, UserInput};

/// How filters read a User.
pub const USER_FILTER: Schema<'static> = Schema { core: USER_SCHEMA, case_exact: CASE_EXACT };
/// How filters read a Group.
pub const GROUP_FILTER: Schema<'static> = Schema { core: group::GROUP_SCHEMA, case_exact: &["id"] };

/// One SCIM client's view: the store, the portal secret (TOTP secrets are sealed with it), the facility it
/// provisions, itself as the audit actor, and the base URL its resources' `location`s start with.
pub struct Provisioning<'a> {
    /// The store.
    pub store: &'a dyn Store,
    /// The portal secret.
    pub secret: &'a PortalSecret,
    /// The client's facility.
    pub facility: &'a FacilityId,
    /// `scim:<client id>`.
    pub actor: Actor,
    /// `https://host/scim/v2`.
    pub base: &'a str,
    /// Where a de-provisioning is announced.
    pub signals: &'a dyn Signals,
}

/// Where de-provisioning is announced beyond hcpki: the hook the Shared Signals transmitter (issue #51 item 2)
/// implements to emit CAEP `session-revoked` and RISC `account-disabled` for the account's sessions. It is
/// called after the account's disable committed (its sessions and grants ended, back-channel logout queued).
#[async_trait::async_trait]
pub trait Signals: Send + Sync {
    /// `account` was de-provisioned.
    async fn deprovisioned(&self, account: &Deprovisioned);

    /// The password of the account whose person key is `person_key` was set (a CAEP `credential-change`).
    async fn password_changed(&self, person_key: &str) {
        tracing::info!(person = person_key, "SCIM set an account's password");
    }
}

/// No transmitter yet: de-provisioning is only logged (issue #51 item 2 replaces this).
#[derive(Debug)]
pub struct NoSignals;

#[async_trait::async_trait]
impl Signals for NoSignals {
    async fn deprovisioned(&self, account: &Deprovisioned) {
        tracing::info!(user = %account.username, facility = %account.facility, "SCIM de-provisioned an account");
    }
}

impl std::fmt::Debug for Provisioning<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret stays out of logs.
        f.debug_struct("Provisioning").field("facility", self.facility).field("actor", &self.actor).finish()
    }
}

/// A write's answer: the resource as it now is, and the account it de-provisioned, if it did.
#[derive(Debug)]
pub struct Written {
    /// The resource.
    pub resource: Value,
    /// The account disabled by this write.
    pub deprovisioned: Option<Deprovisioned>,
}

/// An account de-provisioned: its sessions and grants ended with it. The Shared Signals transmitter (issue
/// #51 item 2, not yet built) announces it as CAEP `session-revoked` and RISC `account-disabled`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deprovisioned {
    /// The user name.
    pub username: String,
    /// Its person key (`pwd:<name>`), the subject of its sessions.
    pub person_key: String,
    /// Its facility.
    pub facility: FacilityId,
    /// When (Unix milliseconds).
    pub at_ms: i64,
}

impl Provisioning<'_> {
    /// `GET /Users` (or `POST /Users/.search`).
    pub async fn list_users(&self, query: &ListQuery) -> Result<Value, ScimError> {
        let accounts = self.store.scim_accounts(self.facility).await.map_err(unavailable)?;
        let resources = accounts.iter().map(|a| user::resource(a, self.base)).collect();
        Ok(users_view(query.respond(resources, &USER_FILTER), query))
    }

    /// `GET /Users/{id}`.
    pub async fn get_user(&self, id: &str, query: &ListQuery) -> Result<Value, ScimError> {
        let account = self.account(id).await?;
        Ok(user::default_view(query.trim(user::resource(&account, self.base), USER_SCHEMA), &query.attributes))
    }

    /// `POST /Users`: a new account of this facility.
    pub async fn create_user(&self, body: &Value, now_ms: i64) -> Result<Value, ScimError> {
        let input = UserInput::parse(body, self.facility)?;
        // Without a password the account gets one nobody knows: the person cannot sign in until the help desk
        // hands out credentials (D158).
        let password = match &input.password {
            Some(p) => zeroize::Zeroizing::new(p.clone().into_bytes()),
            None => zeroize::Zeroizing::new(
                hex::encode(hcpki_pkix::keys::random_secret(32).map_err(|e| ScimError::status(500, e.to_string()))?)
                    .into_bytes(),
            ),
        };
        let added = accounts::new_account(
            self.secret,
            &input.username,
            &input.display_name,
            input.hc_role,
            &password,
            &self.actor,
            now_ms,
        )
        .map_err(|e| match e {
            accounts::AccountError::WeakPassword | accounts::AccountError::LongPassword => {
                ScimError::value(format!("password: {e}"))
            }
            other => ScimError::status(500, other.to_string()),
        })?;
        let at = UnixTime::from_millis(now_ms);
        let stored = self
            .store
            .scim_account_add(&added.user, self.facility, input.external_id.as_deref(), &self.actor, at)
            .await
            .map_err(unavailable)?;
        if !stored {
            return Err(ScimError::uniqueness(format!(
                "userName {:?} is taken: user names are unique in the whole installation, choose another",
                input.username
            )));
        }
        // Created inactive (an HR system's leaver record): disabled at once, with no session to end.
        if !input.active {
            self.disable(&self.account(&input.username).await?, now_ms).await?;
        }
        Ok(user::default_view(user::resource(&self.account(&input.username).await?, self.base), &[]))
    }

    /// `PUT /Users/{id}`: the account as the body says (read-only attributes ignored).
    pub async fn replace_user(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
        now_ms: i64,
    ) -> Result<Written, ScimError> {
        let current = self.account(id).await?;
        version::check_if_match(if_match, &user::resource(&current, self.base))?;
        let wanted = UserInput::parse(body, self.facility)?;
        self.write_user(&current, &wanted, now_ms).await
    }

    /// `PATCH /Users/{id}`: the operations applied to the resource, the result written like a PUT.
    pub async fn patch_user(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
        now_ms: i64,
    ) -> Result<Written, ScimError> {
        let ops = patch::parse(body)?;
        for op in &ops {
            if let Some(path) = &op.path {
                user::check_patch_path(&path.attr)?;
            }
        }
        let current = self.account(id).await?;
        let mut resource = user::resource(&current, self.base);
        version::check_if_match(if_match, &resource)?;
        patch::apply(&mut resource, &ops, USER_SCHEMA)?;
        let wanted = UserInput::parse(&resource, self.facility)?;
        self.write_user(&current, &wanted, now_ms).await
    }

    /// `DELETE /Users/{id}`: de-provisioning, then the account leaves the facility's view. It is disabled
    /// (sessions and grants end), then released from the facility, so that every later request about it is a
    /// 404 (RFC 7644 §3.6); it is not erased: its row, its name and its audit trail stay (D158).
    pub async fn delete_user(
        &self,
        id: &str,
        if_match: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<Deprovisioned>, ScimError> {
        let current = self.account(id).await?;
        version::check_if_match(if_match, &user::resource(&current, self.base))?;
        let deprovisioned = self.disable(&current, now_ms).await?;
        self.store
            .scim_account_release(self.facility, &current.user.username, &self.actor, UnixTime::from_millis(now_ms))
            .await
            .map_err(unavailable)?;
        Ok(deprovisioned)
    }

    /// `POST /.search` at the root (RFC 7644 §3.4.3): Users and Groups together, filtered, sorted and paged
    /// as one list.
    pub async fn search_all(&self, query: &ListQuery) -> Result<Value, ScimError> {
        let accounts = self.store.scim_accounts(self.facility).await.map_err(unavailable)?;
        let mut resources: Vec<Value> = accounts.iter().map(|a| user::resource(a, self.base)).collect();
        resources.extend(self.groups().await?.iter().map(|g| group::resource(g, self.base)));
        Ok(users_view(query.respond(resources, &USER_FILTER), query))
    }

    /// `GET /Groups`.
    pub async fn list_groups(&self, query: &ListQuery) -> Result<Value, ScimError> {
        let groups = self.groups().await?;
        Ok(query.respond(groups.iter().map(|g| group::resource(g, self.base)).collect(), &GROUP_FILTER))
    }

    /// `GET /Groups/{id}`.
    pub async fn get_group(&self, id: &str, query: &ListQuery) -> Result<Value, ScimError> {
        let group = self.group(id).await?;
        Ok(query.trim(group::resource(&group, self.base), group::GROUP_SCHEMA))
    }

    /// `PUT /Groups/{id}`: the console group's members as listed.
    pub async fn replace_group(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
        now_ms: i64,
    ) -> Result<Value, ScimError> {
        let current = self.group(id).await?;
        version::check_if_match(if_match, &group::resource(&current, self.base))?;
        let wanted = group::member_ids(body)?;
        self.write_members(&current, wanted, now_ms).await
    }

    /// `PATCH /Groups/{id}`: members added or removed (the console group only).
    pub async fn patch_group(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
        now_ms: i64,
    ) -> Result<Value, ScimError> {
        let ops = patch::parse(body)?;
        let current = self.group(id).await?;
        let mut resource = group::resource(&current, self.base);
        version::check_if_match(if_match, &resource)?;
        for op in &ops {
            if let Some(path) = &op.path
                && !path.attr.is("members")
            {
                return Err(ScimError::mutability(format!("{}: only members can change", path.attr)));
            }
        }
        patch::apply(&mut resource, &ops, group::GROUP_SCHEMA)?;
        let wanted = group::member_ids(&resource)?;
        self.write_members(&current, wanted, now_ms).await
    }

    /// The account `id` of this facility, or the 404 every other id gets.
    async fn account(&self, id: &str) -> Result<ScimAccount, ScimError> {
        let missing = || ScimError::not_found(format!("no User {id:?} here: list /Users to find its id"));
        if accounts::Username::parse(id).is_none() {
            return Err(missing());
        }
        self.store.scim_account(self.facility, id).await.map_err(unavailable)?.ok_or_else(missing)
    }

    async fn write_user(&self, current: &ScimAccount, wanted: &UserInput, now_ms: i64) -> Result<Written, ScimError> {
        user::check_change(current, wanted)?;
        let role = wanted.hc_role.map(|r| r.code());
        let password_hash = match &wanted.password {
            Some(p) => Some(accounts::hash_password(p.as_bytes()).map_err(|e| match e {
                accounts::AccountError::WeakPassword | accounts::AccountError::LongPassword => {
                    ScimError::value(format!("password: {e}"))
                }
                other => ScimError::status(500, other.to_string()),
            })?),
            None => None,
        };
        let changed = wanted.display_name != current.user.display_name
            || role != current.user.hc_role.as_deref()
            || wanted.external_id != current.external_id
            || password_hash.is_some();
        if changed {
            let change = ScimAccountChange {
                username: &current.user.username,
                display_name: &wanted.display_name,
                hc_role: role,
                external_id: wanted.external_id.as_deref(),
                password_hash: password_hash.as_deref(),
            };
            self.store
                .scim_account_update(self.facility, &change, &self.actor, UnixTime::from_millis(now_ms))
                .await
                .map_err(unavailable)?;
            if password_hash.is_some() {
                self.signals.password_changed(&format!("pwd:{}", current.user.username)).await;
            }
        }
        let deprovisioned = if !wanted.active && current.user.disabled_at.is_none() {
            self.disable(current, now_ms).await?
        } else {
            None
        };
        let resource = user::resource(&self.account(&current.user.username).await?, self.base);
        Ok(Written { resource: user::default_view(resource, &[]), deprovisioned })
    }

    /// The help desk's disable, with this client as actor: sessions and grants end in its transaction.
    async fn disable(&self, account: &ScimAccount, now_ms: i64) -> Result<Option<Deprovisioned>, ScimError> {
        let username = &account.user.username;
        let done = self
            .store
            .portal_disable_user(username, &self.actor, UnixTime::from_millis(now_ms))
            .await
            .map_err(unavailable)?;
        if !done {
            return Ok(None);
        }
        let deprovisioned = Deprovisioned {
            username: username.clone(),
            person_key: format!("pwd:{username}"),
            facility: self.facility.clone(),
            at_ms: now_ms,
        };
        self.signals.deprovisioned(&deprovisioned).await;
        Ok(Some(deprovisioned))
    }

    async fn groups(&self) -> Result<Vec<GroupView>, ScimError> {
        let accounts = self.store.scim_accounts(self.facility).await.map_err(unavailable)?;
        let grants = self.store.console_grants().await.map_err(unavailable)?;
        let admins = accounts
            .iter()
            .filter(|a| grants.iter().any(|g| self.is_admin_grant(g, &a.user.username)))
            .map(|a| (a.user.username.clone(), a.user.display_name.clone()))
            .collect();
        let mut groups = vec![GroupView {
            id: CONSOLE_ADMINS.to_owned(),
            display_name: "Console administrators".to_owned(),
            members: admins,
        }];
        let facility = self.store.facility(self.facility).await.map_err(unavailable)?;
        let context = facility.as_ref().map(FacilityContext::from);
        let (records, _, _) = self.store.portal_services().await.map_err(unavailable)?;
        let services = Services::from_definitions(records.iter().map(|r| r.definition.as_str()))
            .map_err(|e| ScimError::status(500, format!("the services file does not read: {e}")))?;
        for service in services.iter() {
            let members = accounts
                .iter()
                .filter(|a| a.user.disabled_at.is_none())
                .filter(|a| {
                    let role = a.user.hc_role.as_deref().and_then(policy::HcRole::from_code);
                    let subject = Subject::password_totp(a.user.display_name.clone(), role);
                    policy::decide(&subject, context.as_ref(), service).is_allowed()
                })
                .map(|a| (a.user.username.clone(), a.user.display_name.clone()))
                .collect();
            groups.push(GroupView {
                id: format!("{SERVICE_PREFIX}{}", service.id),
                display_name: service.name.clone(),
                members,
            });
        }
        Ok(groups)
    }

    async fn group(&self, id: &str) -> Result<GroupView, ScimError> {
        self.groups()
            .await?
            .into_iter()
            .find(|g| g.id == id)
            .ok_or_else(|| ScimError::not_found(format!("no Group {id:?} here: list /Groups to find its id")))
    }

    fn is_admin_grant(&self, grant: &ConsoleGrant, username: &str) -> bool {
        grant.person_key == format!("pwd:{username}") && grant.role.facility() == Some(self.facility)
    }

    async fn write_members(&self, current: &GroupView, wanted: Vec<String>, now_ms: i64) -> Result<Value, ScimError> {
        let have: Vec<&str> = current.members.iter().map(|(n, _)| n.as_str()).collect();
        let changes =
            wanted.iter().any(|w| !have.contains(&w.as_str())) || have.iter().any(|h| !wanted.iter().any(|w| w == h));
        if !current.writable() {
            if changes {
                return Err(ScimError::mutability(format!(
                    "{}: who a service admits follows the services file's policy; change the members' hcRole instead",
                    current.id
                )));
            }
            return Ok(group::resource(current, self.base));
        }
        let at = UnixTime::from_millis(now_ms);
        for name in wanted.iter().filter(|w| !have.contains(&w.as_str())) {
            let account = self.account(name).await.map_err(|_| {
                ScimError::value(format!("member {name:?} is no User of this facility: add Users by their id"))
            })?;
            let person_key = format!("pwd:{}", account.user.username);
            // One grant per person: an operator's or another facility's grant is not the HR system's to replace.
            if let Some(other) = self.store.console_grant(&person_key).await.map_err(unavailable)? {
                return Err(ScimError::mutability(format!(
                    "member {name:?} holds the console grant {}: an operator changes it (hcpki console-grant)",
                    other.role
                )));
            }
            let grant = ConsoleGrant {
                person_key,
                role: ConsoleRole::FacilityAdmin(self.facility.clone()),
                note: account.user.display_name.clone(),
                granted_at: at.as_secs(),
                granted_by: self.actor.as_str().to_owned(),
            };
            self.store.console_grant_put(&grant, &self.actor, at).await.map_err(unavailable)?;
        }
        for name in have.iter().filter(|h| !wanted.iter().any(|w| w == *h)) {
            self.store.console_grant_remove(&format!("pwd:{name}"), &self.actor, at).await.map_err(unavailable)?;
        }
        Ok(group::resource(&self.group(&current.id).await?, self.base))
    }
}

/// A list's Users in their default view (a Group passes unchanged: it has no staff extension).
fn users_view(mut list: Value, query: &ListQuery) -> Value {
    if let Some(items) = list.get_mut("Resources").and_then(Value::as_array_mut) {
        for item in items.iter_mut() {
            if item.get(user::STAFF_SCHEMA).is_some() {
                *item = user::default_view(std::mem::take(item), &query.attributes);
            }
        }
    }
    list
}

/// A store failure as SCIM's 500 (the adapter logs the cause; the client retries).
fn unavailable(e: StoreError) -> ScimError {
    ScimError::status(500, format!("the store failed ({e}); retry later"))
}
