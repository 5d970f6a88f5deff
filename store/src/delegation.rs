//! A physician's delegation to a staff account (issue #29 item 4, D95, migration 0027), as the store keeps it.
//!
//! The store does not judge a delegation (who may make one, for how long, which services): that is
//! `server::delegation`'s. It keeps the row, moves it only forward (made, then ended), and records which
//! sessions of the staff member acted under it, so that ending it revokes what they were given.

/// One delegation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelegationRecord {
    /// Random id, named in forms, tokens (`act.delegation`) and the audit log.
    pub id: hcpki_model::DelegationId,
    /// The facility of the physician's login: the delegate acts only in sessions at this facility.
    pub facility_id: String,
    /// The physician's portal person key (the HPKI card holder's).
    pub physician_key: String,
    /// The physician's name as the card said when delegating.
    pub physician_name: String,
    /// The physician's hcRole code as the card said when delegating.
    pub physician_role: String,
    /// The staff account's user name (a password + TOTP account, person key `pwd:<name>`).
    pub delegate_username: String,
    /// The staff account's display name when the delegation was made.
    pub delegate_name: String,
    /// The service ids it covers.
    pub services: Vec<String>,
    /// Made at (Unix seconds).
    pub created_at: i64,
    /// Ends by itself then.
    pub expires_at: i64,
    /// Ended early by the physician then.
    pub ended_at: Option<i64>,
    /// Who ended it (the physician's actor).
    pub ended_by: Option<String>,
}

impl DelegationRecord {
    /// Whether it may be acted under at `now`: not ended, not run out.
    pub fn live_at(&self, now: i64) -> bool {
        self.ended_at.is_none() && now < self.expires_at
    }
}
