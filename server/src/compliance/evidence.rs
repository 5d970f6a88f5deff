//! What the report knows of the installation: typed values gathered once, at one moment, for one scope. Every
//! number the report shows comes from here, and the JSON form carries them as they are, so an inspector's tool
//! reads the numbers whatever the language of the words.

use hcpki_ca::facility::FacilityId;
pub use hcpki_ca::store::BackupDatabase;
use serde::Serialize;
use std::collections::BTreeMap;

/// Whose report it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "facility")]
pub enum Scope {
    /// The whole installation (operators and auditors).
    Installation,
    /// One facility's part (its own administrators; operators may ask too).
    Facility(FacilityId),
}

impl Scope {
    /// The facility, if the report is one facility's.
    pub fn facility(&self) -> Option<&FacilityId> {
        match self {
            Self::Installation => None,
            Self::Facility(f) => Some(f),
        }
    }
}

/// What the report reads of the configuration, once (at the server's start, or by the CLI).
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The session limits.
    pub sessions: SessionLimits,
}

/// Everything the report is computed from.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    /// When it was gathered (Unix seconds).
    pub generated_at: i64,
    /// Whose.
    pub scope: Scope,
    /// The hcpki version that gathered it.
    pub version: String,
    /// Successful sign-ins over the window.
    pub logins: LoginShare,
    /// Password + TOTP accounts and which of them cannot show a second factor yet.
    pub accounts: Accounts,
    /// Session limits as configured.
    pub sessions: SessionLimits,
    /// The password rules hcpki enforces.
    pub passwords: PasswordPolicy,
    /// Who holds an administrator role.
    pub admins: Vec<AdminHolder>,
    /// The audit chain, verified now.
    pub audit_chain: AuditChain,
    /// The last backup `hcpki backup` recorded.
    pub backup: Backup,
    /// The TLS policy of every listener.
    pub tls: TlsSettings,
    /// Certificates that expire within [`EXPIRY_WINDOW_DAYS`].
    pub expiring: Vec<ExpiringCertificate>,
    /// Signing sessions (issue #48 item 3): the card agent's limits, or the facility's lower ones.
    pub signing_sessions: SigningSessions,
}

/// The login window the share is counted over, in days.
pub const LOGIN_WINDOW_DAYS: i64 = 30;
/// How far ahead certificates count as expiring, in days.
pub const EXPIRY_WINDOW_DAYS: i64 = 90;
/// The oldest the last backup may be for the item to be met, in days: the checklist asks for regular backups,
/// and a week is the longest a clinic's record of one working week can wait (D176).
pub const BACKUP_WINDOW_DAYS: i64 = 7;

/// Successful `portal.login` entries over the last [`LOGIN_WINDOW_DAYS`] days, by credential.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LoginShare {
    /// The window's start (Unix seconds).
    pub since: i64,
    /// Sign-ins counted.
    pub total: u64,
    /// Of them, with two factors of different kinds (card + PIN, password + TOTP, passkey with user
    /// verification).
    pub two_factor: u64,
    /// Sign-ins per credential as the audit entry names it (`card`, `password-totp`, `passkey`, …).
    pub by_credential: BTreeMap<String, u64>,
    /// Whether the audit log was read back to the window's start (false: the scan stopped at its limit and the
    /// counts cover only the newest part of the window).
    pub complete: bool,
}

impl LoginShare {
    /// The two-factor share in per cent (one decimal), none without sign-ins.
    pub fn percent(&self) -> Option<f64> {
        // Counts of sign-ins stay far below 2^52: the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        (self.total > 0).then(|| (self.two_factor as f64 * 1000.0 / self.total as f64).round() / 10.0)
    }
}

/// The password + TOTP accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Accounts {
    /// Accounts not disabled.
    pub active: u64,
    /// Active accounts that have never confirmed their TOTP code and have no passkey: they cannot show a
    /// second factor (and so cannot sign in) until someone walks them through enrolment.
    pub without_second_factor: Vec<String>,
}

/// The session limits of the portal and the console, as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SessionLimits {
    /// The portal's idle lock in minutes (0: off).
    pub portal_idle_minutes: u32,
    /// The portal's absolute limit in hours (a facility may have a shorter one).
    pub portal_absolute_hours: u32,
    /// The console's idle limit in minutes.
    pub console_idle_minutes: u32,
    /// The console's absolute limit in hours.
    pub console_absolute_hours: u32,
    /// A session is bound to the PC and browser it was made on (D161).
    pub bound_to_terminal: bool,
}

/// The password rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PasswordPolicy {
    /// The shortest password accepted.
    pub min_chars: usize,
    /// Every password account needs its TOTP code at every sign-in.
    pub totp_required: bool,
    /// Passwords are never rotated by force.
    pub forced_rotation: bool,
}

/// Someone holding an administrator role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdminHolder {
    /// The operator's name or the console grant's person key.
    pub who: String,
    /// `operator`, `auditor` or `facility-admin`.
    pub role: String,
    /// The facility of a facility admin.
    pub facility: Option<FacilityId>,
    /// `operator-certificate` (an admin API operator) or `console-grant` (a portal sign-in).
    pub basis: String,
    /// The grant's note (a name, for people reading the list).
    pub note: String,
}

/// The audit chain as verified now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum AuditChain {
    /// Every entry's hash recomputed and linked up to the head.
    Intact {
        /// The head's sequence number.
        entries: i64,
        /// The head's hash.
        head: String,
    },
    /// An entry was edited, deleted, inserted or reordered.
    Tampered {
        /// Where, as the verifier says it.
        why: String,
    },
}

/// The last backup `hcpki backup` recorded (D176).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum Backup {
    /// None recorded: none was taken with a version that records them.
    NoneRecorded,
    /// The newest one.
    Last {
        /// When (Unix seconds).
        taken_at: i64,
        /// Who took it (the audit actor).
        taken_by: String,
        /// Where it was written.
        location: String,
        /// Where its database copy is: a SQLite snapshot inside it, or a PostgreSQL dump taken with PostgreSQL's
        /// own tools beside it.
        database: BackupDatabase,
        /// The audit entry it holds last.
        audit_head_seq: i64,
        /// Whether `secrets/` was copied.
        includes_secrets: bool,
    },
}

/// The TLS policy (`hcpki-tls-policy`), read from the policy itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlsSettings {
    /// Protocol versions.
    pub versions: Vec<String>,
    /// Cipher suites.
    pub suites: Vec<String>,
    /// Key-exchange groups.
    pub groups: Vec<String>,
}

impl TlsSettings {
    /// The settings every listener of this build uses.
    pub fn of_this_build() -> Self {
        let provider = hcpki_tls_policy::provider();
        Self {
            versions: hcpki_tls_policy::VERSIONS.iter().map(|v| format!("{:?}", v.version)).collect(),
            suites: provider.cipher_suites.iter().map(|s| format!("{:?}", s.suite())).collect(),
            groups: provider.kx_groups.iter().map(|g| format!("{:?}", g.name())).collect(),
        }
    }
}

/// A certificate that expires soon.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpiringCertificate {
    /// Serial (hex).
    pub serial: String,
    /// Profile.
    pub profile: String,
    /// Its facility.
    pub facility: Option<FacilityId>,
    /// Subject (RFC 4514).
    pub subject: String,
    /// notAfter (Unix seconds).
    pub not_after: i64,
}

/// Signing sessions (N signatures within T hours after one PIN, issue #48 item 3, D163, D172).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum SigningSessions {
    /// The card agent's own limits hold (its defaults unless the PC's agent.toml sets lower): the installation's
    /// report, or a facility that set none.
    AgentLimits {
        /// Signatures after one PIN.
        max_signatures: u32,
        /// Within this many hours.
        max_hours: u32,
        /// Facilities that set their own lower limit (the installation's report only).
        facilities_lower: Option<u64>,
    },
    /// The facility set its own limit (0 in either: sessions off at its PCs).
    FacilityLimit {
        /// Signatures after one PIN.
        max_signatures: u32,
        /// Within this many hours.
        max_hours: u32,
        /// Who set it.
        set_by: String,
        /// When (Unix seconds).
        set_at: i64,
    },
}
