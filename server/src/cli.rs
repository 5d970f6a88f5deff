//! The command line. Every command takes `--dir` (or `HCPKI_DIR`) and `--database-url` (or `HCPKI_DATABASE_URL`).

pub mod value;

use clap::{Args, Parser, Subcommand};
use hcpki_ca::CaName;
use hcpki_ca::enroll::credential::Protocol;
use hcpki_ca::facility::{FacilityId, FacilityKind, FacilityState};
use hcpki_ca::keys::KeyAlgorithm;
use hcpki_ca::operator::{OperatorName, OperatorRole};
use hcpki_ca::profile::{ProfileKind, RouterEku, Vendor};
use hcpki_ca::revocation::Reason;
use std::path::PathBuf;

/// hcpki: facility CA, card login and SSO for Japan's healthcare network.
#[derive(Debug, Parser)]
#[command(name = "hcpki", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The hcpki directory (configuration, SQLite database, software keys).
    #[arg(long, global = true, env = "HCPKI_DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Database URL, overriding the configuration: sqlite:PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, global = true, env = "HCPKI_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the configuration, the database and the CA hierarchy (root + router, pc and server CAs).
    Init(InitArgs),
    /// Copy this installation (configuration, sealed keys, a consistent SQLite snapshot) into a new
    /// directory with a manifest of digests and the audit head. Safe while `hcpki serve` runs.
    Backup(BackupArgs),
    /// Restore a backup into `--dir` (new or empty): check every digest, copy, verify the audit chain.
    Restore(RestoreArgs),
    /// Register facilities and move them through their lifecycle.
    #[command(subcommand)]
    Facility(FacilityCommand),
    /// Enrollment credentials for facility devices (EST, SCEP, ACME).
    #[command(subcommand)]
    Enroll(EnrollCommand),
    /// Issue a certificate from a CSR through the full pipeline (lint, record, sign, audit).
    Issue(IssueArgs),
    /// Show CA certificates and chains.
    #[command(subcommand)]
    Ca(CaCommand),
    /// List and show issued certificates.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Verify and read the tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// List the pre-signing lint rules.
    #[command(subcommand)]
    Lint(LintCommand),
    /// Run the whole flow once in a fresh directory: CAs, a facility, a router and a PC certificate.
    Demo(DemoArgs),
    /// Measure throughput (see docs/benchmarks.md). Only in builds with the `bench` feature.
    #[cfg(feature = "bench")]
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Run the HTTPS server and the plain-HTTP publication listener until SIGINT/SIGTERM.
    Serve(ServeArgs),
    /// Operators of the admin API: their certificates (server CA) and roles.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Who may use the web console after signing in to the SSO portal by card (D42): person key → role.
    #[command(subcommand)]
    ConsoleGrant(ConsoleGrantCommand),
    /// Revoke an issued certificate (audited; it appears on its CA's next CRL).
    Revoke(RevokeArgs),
    /// Sign and write a CA's complete CRL now (every revoked, unexpired certificate; next CRL number).
    Crl(CrlArgs),
    /// Card login (HPKI / JPKI) as the portal runs it: issue a challenge, verify a card's answer, show the CRL
    /// cache. For operators checking a card or the `[login]` setup, and for tests.
    #[command(subcommand)]
    Login(LoginCommand),
    /// The SSO portal: password + TOTP accounts, per-facility session lifetimes, housekeeping.
    #[command(subcommand)]
    Portal(crate::cmd::portal::PortalCommand),
    /// The services of the portal's authorization policy (kept in the database; the services file schema).
    #[command(subcommand)]
    Service(crate::cmd::service::ServiceCommand),
    /// The OpenID Connect provider's registered clients.
    #[command(subcommand)]
    Oidc(crate::cmd::oidc::OidcCommand),
    /// Long operations (bulk import, bulk re-issue): progress, resume, cancel.
    #[command(subcommand)]
    Job(JobCommand),
}

#[derive(Debug, Subcommand)]
pub enum LoginCommand {
    /// Issue and store a single-use challenge; prints {"challenge", "expires_at"} as JSON.
    Challenge {
        /// The browser-session binding (opaque; the portal uses a hash of its pre-login cookie).
        #[arg(long)]
        binding: String,
        /// The origin to issue for (default: `[login] origin`).
        #[arg(long)]
        origin: Option<String>,
        /// Issue as of this Unix time instead of now.
        #[arg(long)]
        at: Option<i64>,
    },
    /// Take a challenge and verify a card's signature and chain as the portal would (CRLs fetched first, as the
    /// server's cache does at start); prints the verified card as JSON, or the refusal and its reason code.
    /// Audited as `login.card` like a portal login.
    Verify {
        /// The challenge (base64url) the card signed. Write `--challenge=VALUE`: a value may start with '-'.
        #[arg(long)]
        challenge: String,
        /// The browser-session binding the challenge was issued to.
        #[arg(long)]
        binding: String,
        /// The origin the answer is presented at (default: `[login] origin`).
        #[arg(long)]
        origin: Option<String>,
        /// The signature file (raw bytes).
        #[arg(long)]
        signature: PathBuf,
        /// Certificate files, card certificate first: DER, or PEM (several blocks allowed). Repeatable.
        #[arg(long, required = true)]
        chain: Vec<PathBuf>,
        /// Verify as of this Unix time instead of now (challenge expiry, validity, CRL freshness).
        #[arg(long)]
        at: Option<i64>,
    },
    /// Fetch the configured CRLs once and show what the cache would hold.
    Crls,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The certificate's serial (hex, as `hcpki cert list` shows it; `:` and `0x` allowed).
    #[arg(long, value_parser = value::serial)]
    pub serial: String,
    /// RFC 5280 reason (any case; `-` and `_` ignored, e.g. key-compromise).
    #[arg(long, default_value = "unspecified", value_parser = value::reason())]
    pub reason: Reason,
}

#[derive(Debug, Args)]
pub struct CrlArgs {
    /// The CA.
    #[arg(long, value_parser = value::ca())]
    pub ca: CaName,
    /// One shard of the pc CA's partitioned CRL (`pc_crl_shards`), instead of the complete CRL.
    #[arg(long)]
    pub shard: Option<u16>,
    /// Where to write it (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// PEM instead of DER.
    #[arg(long)]
    pub pem: bool,
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Add an operator (or change an enabled one's role) and issue an operator certificate for the CSR.
    Add {
        /// The operator's name (a–z 0–9 . _ -): the certificate's CN and identity.
        #[arg(value_parser = OperatorName::parse)]
        name: OperatorName,
        /// The role: an operator approves facilities and manages credentials; an auditor only reads.
        #[arg(long, value_parser = value::operator_role())]
        role: OperatorRole,
        /// The CSR file (PEM or DER).
        #[arg(long)]
        csr: PathBuf,
        /// Where to write the certificate (PEM).
        #[arg(long)]
        out: PathBuf,
    },
    /// List operators.
    List {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable an operator for good: their certificates stop authenticating at once.
    Disable {
        #[arg(value_parser = OperatorName::parse)]
        name: OperatorName,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConsoleGrantCommand {
    /// Let a person use the console after a portal sign-in (or change their role). Operators and auditors
    /// must sign in by card; a facility admin at one of the facility's PCs.
    Add {
        /// The person key (the console's user search and `login.card` audit entries show it; `pwd:NAME` for a
        /// password account).
        person: String,
        /// operator, auditor or facility-admin.
        #[arg(long)]
        role: String,
        /// The facility of a facility-admin.
        #[arg(long)]
        facility: Option<String>,
        /// A note for the list (e.g. the person's name).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List console grants.
    List {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a person's console grant: their console session ends at its next request.
    Remove { person: String },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the HTTPS listener (port 0: any free port; the real one is printed).
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub https_addr: std::net::SocketAddr,
    /// Address of the plain-HTTP listener (only what a protocol needs unencrypted: health, SCEP; CRLs later).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http_addr: std::net::SocketAddr,
    /// A DNS name or IP address for the server certificate (repeatable); replaces `serve.server_names`
    /// from hcpki.toml. Default: localhost, 127.0.0.1, ::1.
    #[arg(long = "server-name", value_name = "NAME")]
    pub server_names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// PKCS#11 module: generate the CA keys in an HSM instead of encrypted files.
    #[arg(long, requires_all = ["pkcs11_token_label", "pkcs11_pin_file"])]
    pub pkcs11_module: Option<PathBuf>,
    /// Label of the (initialised) token to generate the CA keys on.
    #[arg(long)]
    pub pkcs11_token_label: Option<String>,
    /// File holding the token's user PIN.
    #[arg(long)]
    pub pkcs11_pin_file: Option<PathBuf>,
    /// Passphrase file for software keys (default: a new random one at secrets/key-passphrase).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    #[arg(long = "key-type", value_name = "CA=ALG", value_parser = value::ca_key_type, help = value::ca_key_type_help())]
    pub key_types: Vec<(CaName, KeyAlgorithm)>,
    /// Organisation written into every subject DN.
    #[arg(long, default_value = "hcpki")]
    pub organization: String,
    /// DNS zone under which facilities own their router names.
    #[arg(long, default_value = "router.hcpki.example")]
    pub router_zone: String,
    /// Domain of facility PC identity URIs (https://<domain>/facility/<id>/device/<device>).
    #[arg(long, default_value = "hcpki.example")]
    pub identity_domain: String,
    /// Base URL of the plain-HTTP publication point (CRL DP, AIA).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub http_base_url: String,
}

#[derive(Debug, Subcommand)]
pub enum FacilityCommand {
    /// Register a facility (state: applied). Prints the new facility ID alone on stdout.
    Add {
        /// Facility name (Japanese allowed).
        #[arg(long)]
        name: String,
        /// The kind of facility.
        #[arg(long, value_parser = value::facility_kind())]
        kind: FacilityKind,
        /// 医療機関コード (10 digits), checked and unique.
        #[arg(long)]
        code: Option<String>,
        /// Postal address.
        #[arg(long)]
        address: Option<String>,
        /// Contact for the help desk.
        #[arg(long)]
        contact: Option<String>,
    },
    /// Register many facilities from a CSV file (UTF-8, header row: name,kind,medical_code,address,contact,
    /// allocations; only name and kind required; allocations are prefixes or addresses separated by spaces). Every row is checked first; by default one bad row imports nothing.
    Import {
        /// The CSV file.
        #[arg(long)]
        csv: PathBuf,
        /// Import the valid rows and report the bad ones (exit status still non-zero if any was bad).
        #[arg(long)]
        valid_only: bool,
        /// Approve each facility right after registering it (applied → approved).
        #[arg(long)]
        approve: bool,
        /// Check the file only; register nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Approve an application (applied → approved).
    Approve { id: FacilityId },
    /// Reject an application (applied → retired).
    Reject {
        id: FacilityId,
        #[arg(long)]
        reason: String,
    },
    /// Suspend a facility (approved/active → suspended).
    Suspend {
        id: FacilityId,
        #[arg(long)]
        reason: String,
    },
    /// Resume a suspended facility (suspended → active).
    Resume {
        id: FacilityId,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Retire a facility for good; its ID is never reused.
    Retire {
        id: FacilityId,
        #[arg(long)]
        reason: String,
    },
    /// List facilities.
    List {
        /// Only this state.
        #[arg(long, value_parser = value::facility_state())]
        state: Option<FacilityState>,
        /// Only this kind.
        #[arg(long, value_parser = value::facility_kind())]
        kind: Option<FacilityKind>,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one facility.
    Show {
        id: FacilityId,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// How the facility's admins must sign in to the portal to make changes (credentials, PKCS#12 files,
    /// revocations): by card only (the default), or also by password + TOTP. Without an option, show it.
    AdminLogin {
        id: FacilityId,
        /// allow: password + TOTP sign-ins may make changes too; deny: card sign-ins only.
        #[arg(long, value_enum)]
        password_totp: Option<AllowDeny>,
    },
    /// A facility's address allocations: the IPv6/IPv4 prefixes and single addresses its router certificates may
    /// carry. Allocations of two facilities never overlap.
    #[command(subcommand)]
    Address(AddressCommand),
}

/// `--password-totp allow|deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AllowDeny {
    /// Accept it.
    Allow,
    /// Refuse it.
    Deny,
}

/// `hcpki facility address …` (issue #24, item 2). `add` and `remove` take their facility and prefix as text:
/// the authority parses them and audits a malformed one as a refusal, as for the admin API.
#[derive(Debug, Subcommand)]
pub enum AddressCommand {
    /// Allocate a prefix (`2001:db8:10::/48`) or a single address (`192.0.2.7`) to a facility; refused, naming
    /// the holder, when it overlaps any facility's allocation.
    Add {
        /// The facility.
        facility: String,
        /// The prefix or address.
        prefix: String,
    },
    /// Take an allocation back. Certificates already issued with addresses in it stay valid until re-issued or
    /// revoked: `hcpki cert check-addresses` lists them.
    Remove {
        /// The facility.
        facility: String,
        /// The prefix or address, as listed.
        prefix: String,
    },
    /// List allocations: one facility's, or every facility's.
    List {
        /// The facility (default: all).
        facility: Option<FacilityId>,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EnrollCommand {
    /// Create a single-use, expiring credential for an approved or active facility and print it once as
    /// key=value lines: est `username`/`password`, scep `challenge`, acme `eab_kid`/`eab_hmac_key`.
    Credential {
        /// The facility.
        #[arg(long)]
        facility: FacilityId,
        /// The enrollment protocol.
        #[arg(long, value_parser = value::protocol())]
        protocol: Protocol,
        /// A profile the credential may receive, a facility's (router, pc); repeatable, the first is the default.
        #[arg(long = "profile", required = true, value_parser = value::profile())]
        profiles: Vec<ProfileKind>,
        /// Lifetime: a number with d, h or m (1m to 90d).
        #[arg(long, default_value = "7d", value_parser = hcpki_ca::enroll::credential::parse_validity)]
        valid_for: i64,
    },
    /// List credentials (never their secrets), newest first.
    List {
        /// Only this facility's.
        #[arg(long)]
        facility: Option<FacilityId>,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a credential so it can no longer be used.
    Revoke { id: String },
    /// SCEP requests without a challenge password, held for an operator's decision.
    #[command(subcommand)]
    Pending(PendingCommand),
}

/// `hcpki enroll pending …`.
#[derive(Debug, Subcommand)]
pub enum PendingCommand {
    /// List held SCEP requests, newest first.
    List {
        /// Every request, not only those still pending.
        #[arg(long)]
        all: bool,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Issue the certificate a held request asks for; the device gets it on its next poll.
    Approve { id: String },
    /// Refuse a held request; the device gets FAILURE on its next poll.
    Reject {
        id: String,
        /// Why (recorded in the audit log and the request).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The profile (`operator` certificates come from `hcpki operator add`).
    #[arg(long, value_parser = value::profile())]
    pub profile: ProfileKind,
    /// The facility (router and pc profiles).
    #[arg(long)]
    pub facility: Option<FacilityId>,
    /// The CSR file (PEM or DER); `-` reads standard input.
    #[arg(long, required_unless_present = "p12", conflicts_with = "p12")]
    pub csr: Option<PathBuf>,
    /// Instead of a CSR: hcpki makes the key (see --key-type) and writes key, certificate and CA chain to this
    /// PKCS#12 file (AES-256, PBKDF2-SHA256), printing its generated passphrase once. The key is not kept.
    /// For devices without an enrollment client.
    #[arg(long)]
    pub p12: Option<PathBuf>,
    /// Key made for --p12 (default rsa2048: every router imports it).
    #[arg(long, requires = "p12", default_value = "rsa2048", value_parser = value::key_algorithm())]
    pub key_type: KeyAlgorithm,
    /// Subject alternative name: a DNS name or an IP address (repeatable).
    #[arg(long)]
    pub san: Vec<String>,
    /// Device identifier for pc certificates (default: derived from the key).
    #[arg(long)]
    pub device: Option<String>,
    /// Router EKU variant.
    #[arg(long, conflicts_with = "vendor", value_parser = value::router_eku())]
    pub eku: Option<RouterEku>,
    /// Router vendor, choosing the EKU variant.
    #[arg(long, value_parser = value::vendor())]
    pub vendor: Option<Vendor>,
    /// For --profile ocsp: the issuing CA the signer answers for.
    #[arg(long, value_parser = value::ca())]
    pub ocsp_for: Option<CaName>,
    /// End the validity at this RFC 3339 time (e.g. 2027-03-31T23:59:59Z) instead of the profile's lifetime;
    /// never later than it.
    #[arg(long, value_parser = value::rfc3339)]
    pub not_after: Option<i64>,
    /// Where to write the certificate (PEM); `-` or omitted: standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Print a CA certificate as PEM.
    Cert {
        #[arg(value_parser = value::ca())]
        name: CaName,
    },
    /// Print the issuing chain of a profile or CA up to the root, issuing CA first.
    Chain {
        /// The profile (its issuing CA) or the CA.
        #[arg(value_parser = value::ca_of_profile_or_ca())]
        profile: CaName,
    },
    /// At the ceremony, with the root key: sign the root's CRL (ARL) for `[ca] root_crl_days` (every revoked
    /// issuing CA certificate, the root's next CRL number; audited). Carry the file to the online installation
    /// and run `hcpki ca import-arl` there.
    SignArl(SignArlArgs),
    /// Online: check an ARL signed at the ceremony (the root's signature, issuer, CRL number above the one
    /// stored, nextUpdate ahead) and store it; `hcpki serve` then serves it at /crl/root.crl and never needs the
    /// root key. Every refusal is audited and stores nothing.
    ImportArl {
        /// The ARL file (DER or PEM).
        file: PathBuf,
    },
    /// The CAs and the root CRL served at /crl/root.crl: which ARL, until when. Exits 1 when the imported ARL
    /// ends within DAYS days (or has ended), so monitoring can alert on the exit status alone.
    Status {
        /// The warning window in days (default: `[ca] root_crl_warn_days`).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: Option<u32>,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct SignArlArgs {
    /// Where to write the ARL (it goes onto the media carried to the online installation).
    #[arg(long)]
    pub out: PathBuf,
    /// Days from thisUpdate to nextUpdate, 1–365 (default: `[ca] root_crl_days`).
    #[arg(long)]
    pub days: Option<u32>,
    /// PEM instead of DER.
    #[arg(long)]
    pub pem: bool,
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// List certificates, newest first.
    List {
        #[arg(long)]
        facility: Option<FacilityId>,
        #[arg(long, value_parser = value::profile())]
        profile: Option<ProfileKind>,
        #[arg(long)]
        json: bool,
        /// At most this many (the newest); a note on stderr says when more exist.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..))]
        limit: i64,
    },
    /// Issued certificates that expire within the next DAYS days, soonest first (expiry monitoring). Exits 1
    /// when there are any, so a cron job or monitoring check can alert on the exit status alone.
    Expiring {
        /// The window, in days from now.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=36_500))]
        days: i64,
        #[arg(long)]
        facility: Option<FacilityId>,
        #[arg(long, value_parser = value::profile())]
        profile: Option<ProfileKind>,
        #[arg(long)]
        json: bool,
    },
    /// Re-issue certificates in bulk (D38): a successor for the same subject, names, profile and public key
    /// under the CA's current key, each through the issuance pipeline and audited. Runs as a job: an
    /// interrupted run is continued by running the same command again (or `hcpki job resume`), and a
    /// certificate already re-issued is skipped.
    Reissue(ReissueArgs),
    /// Live router certificates whose IP addresses are not all inside their facility's address allocations
    /// (issued before the allocations existed, or before one was taken back), with where each address is
    /// allocated now. Re-issue them after allocating the addresses (`hcpki facility address add`), or issue new
    /// ones without the addresses and revoke the old. Exits 1 when there are any, so monitoring can alert on
    /// the exit status alone.
    CheckAddresses {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one certificate (details and PEM).
    Show {
        #[arg(value_parser = value::serial)]
        serial: String,
        /// Only the PEM.
        #[arg(long)]
        pem: bool,
    },
}

#[derive(Debug, Args)]
pub struct ReissueArgs {
    /// Only certificates of this CA.
    #[arg(long, value_parser = value::ca())]
    pub ca: Option<CaName>,
    /// Only this profile (only device certificates are re-issued: router, pc and server).
    #[arg(long, value_parser = value::profile())]
    pub profile: Option<ProfileKind>,
    /// Only this facility.
    #[arg(long)]
    pub facility: Option<FacilityId>,
    /// Only certificates issued before this RFC 3339 time (e.g. the CA key's rollover).
    #[arg(long, value_parser = value::rfc3339)]
    pub issued_before: Option<i64>,
    /// Only certificates expiring within this many days.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub expiring_within: Option<i64>,
    /// List what would be re-issued; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Revoke each old certificate (reason superseded) once its successor is stored. By default the old
    /// certificate stays valid until its own expiry, so devices switch over at their own pace.
    #[arg(long)]
    pub revoke_old: bool,
    /// Stop after this many certificates, leaving the job to be resumed (a maintenance window).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub stop_after: Option<u64>,
}

/// `hcpki job …`: long operations (D38).
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// The newest jobs with their progress.
    List {
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// One job: progress and each failed item's error.
    Show { id: String },
    /// Continue a job that was interrupted or stopped: only the items not yet done.
    Resume {
        id: String,
        /// Stop after this many items, leaving the job to be resumed.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        stop_after: Option<u64>,
    },
    /// Cancel a job: the items not yet done stay undone (audited).
    Cancel { id: String },
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup directory: new or empty, outside the hcpki directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Also copy `secrets/` (the key passphrase, enrollment and portal secrets). Without it, keep those
    /// files in your secret store and put them back after a restore.
    #[arg(long)]
    pub include_secrets: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup directory written by `hcpki backup`.
    #[arg(long)]
    pub from: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain; non-zero exit on any tampering.
    Verify {
        /// A head (SEQ:HASH, as `hcpki audit verify` prints it) recorded elsewhere earlier; also catches
        /// truncation.
        #[arg(long, value_parser = value::audit_head)]
        expect_head: Option<(i64, String)>,
    },
    /// Print entries as JSON lines.
    List {
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Export every entry after a sequence number for a SIEM: RFC 5424 syslog or JSON lines, to standard
    /// output or to a syslog collector over TCP. Prints the last exported sequence number on stderr, for the
    /// next run's --after.
    Export {
        /// `syslog` (RFC 5424) or `jsonl`.
        #[arg(long, value_enum, default_value_t = ExportFormat::Syslog)]
        format: ExportFormat,
        /// Export entries after this sequence number (0: from the start).
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Send to a syslog collector (`HOST:PORT`, TCP, RFC 6587 octet counting) instead of standard output.
        #[arg(long, value_name = "HOST:PORT")]
        send: Option<String>,
        /// HOSTNAME field of syslog messages (default: this machine's name).
        #[arg(long)]
        hostname: Option<String>,
    },
    /// Retention: write the entries older than the retention period to an archive file (JSON lines, checked
    /// after writing), then delete them from the database; the rest still verify, linked to the last one
    /// archived. Audited as `audit.prune`.
    Prune {
        /// The archive to write (must not exist yet); keep it where audit records are kept.
        #[arg(long)]
        archive: std::path::PathBuf,
        /// Keep the entries of the last N days (default: `[audit] retention_days` in hcpki.toml).
        #[arg(long)]
        keep_days: Option<u32>,
        /// Count the retention period back from this RFC 3339 time instead of now.
        #[arg(long, value_parser = value::rfc3339)]
        at: Option<i64>,
    },
    /// Check an archive written by `audit prune`: its own hash chain, and whether the database's remaining
    /// entries continue it.
    VerifyArchive {
        /// The archive file.
        file: std::path::PathBuf,
    },
}

/// `hcpki audit export --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// RFC 5424 syslog messages.
    Syslog,
    /// One JSON object per line (the `audit list` form).
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum LintCommand {
    /// Print every rule: ID, level, source, description.
    Rules,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to create the demo (must not exist yet, or be empty). Default: ./hcpki-demo, or
    /// ./hcpki-demo-2, -3, … when earlier demos are there.
    #[arg(long = "out")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Certificates per second through the full pipeline vs. the raw signing rate of the same CA key.
    Issue(BenchIssueArgs),
    /// Time to build and sign one CRL with N entries, its size, vs. encoding alone and OpenSSL parsing it.
    Crl(BenchCrlArgs),
    /// Server-side card login as `POST /login/card` runs it (challenge, signature, chain, cached revocation,
    /// audit entry, SSO session), and its parts.
    Login(BenchLoginArgs),
    /// A national dataset (facilities of every kind by prefecture, ~6 certificates each, ~5% revoked) grown in
    /// the `--dir` installation point by point, measuring registration, issuance, lookups, CRLs and size at each.
    National(BenchNationalArgs),
    /// SSO card logins per second over HTTPS against `hcpki serve` of the `--dir` installation (login page,
    /// challenge, card signature, session, code flow, token), at several concurrencies, against journeys of as
    /// many `GET /healthz`. Sets the installation's `[login]` to the bench's test HPKI (and a `[portal]` if none).
    Sso(BenchSsoArgs),
}

#[derive(Debug, Args)]
pub struct BenchSsoArgs {
    /// Logins in flight at once, each virtual user on its own keep-alive connection (comma-separated): one
    /// table row each.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
    pub concurrency: Vec<usize>,
    /// Complete logins per row (and as many reference journeys).
    #[arg(long, default_value_t = 1000)]
    pub logins: usize,
    /// Virtual HPKI cards (physicians) the logins take turns with.
    #[arg(long, default_value_t = 8)]
    pub cards: usize,
}

#[derive(Debug, Args)]
pub struct BenchNationalArgs {
    /// Facility counts to measure at, ascending (comma-separated): the dataset grows to each in turn.
    #[arg(long, value_delimiter = ',', required = true)]
    pub facilities: Vec<usize>,
    /// Where national.csv and national.json go (created if missing).
    #[arg(long, default_value = "bench-national")]
    pub out: PathBuf,
    /// Seed of the dataset (names, kinds, prefectures, which certificates are revoked).
    #[arg(long, default_value_t = 9)]
    pub seed: u64,
    /// Lookups sampled per kind at each point.
    #[arg(long, default_value_t = 2000)]
    pub lookups: usize,
    /// Approvals and revocations in flight at once (both share commits as in a server, each one audited).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

#[derive(Debug, Args)]
pub struct BenchLoginArgs {
    /// Logins to verify.
    #[arg(long, default_value_t = 2000)]
    pub iterations: usize,
    /// Entries on the card CA's cached CRL (the lookup is a hash map; a large CRL shows it stays flat).
    #[arg(long, default_value_t = 10_000)]
    pub crl_entries: usize,
    /// PostgreSQL admin URL: run on a scratch database there instead of a fresh SQLite file.
    #[arg(long, conflicts_with = "database")]
    pub postgres: Option<String>,
    /// Run on this database (`sqlite:PATH` or `postgres://…`, created or migrated as needed) and keep it: its
    /// `portal_sessions` table then holds one session per login, for measuring bytes per session.
    #[arg(long)]
    pub database: Option<String>,
    /// Log in as a card does at a facility PC by default: with the facility's context and its PC certificate
    /// (serial, notAfter), under a card presence lease (`[portal] card_presence_secs`' default) and with a card
    /// id of the agent's form, so that every session row has a real one's shape (`scripts/bench-sessions`).
    #[arg(long)]
    pub at_facility: bool,
}

#[derive(Debug, Args)]
pub struct BenchCrlArgs {
    /// Revoked certificates on the CRL.
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: usize,
    /// CA key algorithms to sign with (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "p256,rsa2048", value_parser = value::key_algorithm())]
    pub keys: Vec<KeyAlgorithm>,
}

#[derive(Debug, Args)]
pub struct BenchIssueArgs {
    /// Certificates to issue per configuration.
    #[arg(long, default_value_t = 2000)]
    pub count: usize,
    /// Concurrent single-request issuers.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Certificates per batch for the group-commit run.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// CA key algorithms to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "p256,rsa2048", value_parser = value::key_algorithm())]
    pub keys: Vec<KeyAlgorithm>,
    /// PostgreSQL URL to also measure on (a fresh database is created per run).
    #[arg(long, env = "HCPKI_BENCH_PG_URL")]
    pub postgres: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The subcommand at `path` (e.g. `["cert", "reissue"]`).
    fn subcommand(path: &[&str]) -> clap::Command {
        let mut cmd = Cli::command();
        for name in path {
            cmd = cmd.find_subcommand(name).unwrap_or_else(|| panic!("no subcommand {name} in {path:?}")).clone();
        }
        cmd
    }

    /// The values the help of argument `id` of `path` lists.
    fn listed(path: &[&str], id: &str) -> Vec<String> {
        let cmd = subcommand(path);
        let arg = cmd.get_arguments().find(|a| a.get_id() == id).unwrap_or_else(|| panic!("no {id} in {path:?}"));
        arg.get_possible_values().iter().map(|v| v.get_name().to_owned()).collect()
    }

    fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|t| name(*t).to_owned()).collect()
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_profile_argument_lists_every_profile() {
        let all = names(&ProfileKind::ALL, ProfileKind::as_str);
        assert_eq!(all.len(), 6);
        for (path, id) in [
            (&["issue"][..], "profile"),
            (&["enroll", "credential"], "profiles"),
            (&["cert", "list"], "profile"),
            (&["cert", "expiring"], "profile"),
            (&["cert", "reissue"], "profile"),
        ] {
            assert_eq!(listed(path, id), all, "{path:?} {id}");
        }
        let help = subcommand(&["issue"]).render_long_help().to_string();
        assert!(all.iter().all(|p| help.contains(p.as_str())), "{help}");
    }

    #[test]
    fn every_ca_argument_lists_every_ca() {
        let all = names(&CaName::ALL, CaName::as_str);
        for (path, id) in
            [(&["crl"][..], "ca"), (&["ca", "cert"], "name"), (&["issue"], "ocsp_for"), (&["cert", "reissue"], "ca")]
        {
            assert_eq!(listed(path, id), all, "{path:?} {id}");
        }
        // A profile names its issuing CA: every CA and every profile that has one.
        let chain = listed(&["ca", "chain"], "profile");
        assert!(all.iter().all(|ca| chain.contains(ca)), "{chain:?}");
        for p in ProfileKind::ALL {
            assert_eq!(chain.contains(&p.as_str().to_owned()), CaName::for_profile(p).is_some(), "{p}");
        }
    }

    #[test]
    fn every_key_type_argument_lists_every_algorithm() {
        let all = names(&KeyAlgorithm::ALL, KeyAlgorithm::as_str);
        assert_eq!(listed(&["issue"], "key_type"), all);
        #[cfg(feature = "bench")]
        for path in [["bench", "issue"], ["bench", "crl"]] {
            assert_eq!(listed(&path, "keys"), all, "{path:?}");
        }
        let init = subcommand(&["init"]).render_help().to_string();
        for name in all.iter().chain(&names(&CaName::ALL, CaName::as_str)) {
            assert!(init.contains(name.as_str()), "init --key-type help lacks {name}: {init}");
        }
    }

    #[test]
    fn other_named_values_list_their_types() {
        let reasons: Vec<String> = Reason::ALL.iter().map(|(_, n)| (*n).to_owned()).collect();
        assert_eq!(listed(&["revoke"], "reason"), reasons);
        let kinds = names(&FacilityKind::ALL, FacilityKind::as_str);
        assert_eq!(listed(&["facility", "add"], "kind"), kinds);
        assert_eq!(listed(&["facility", "list"], "kind"), kinds);
        assert_eq!(listed(&["facility", "list"], "state"), names(&FacilityState::ALL, FacilityState::as_str));
        assert_eq!(listed(&["enroll", "credential"], "protocol"), names(&Protocol::ALL, Protocol::as_str));
        assert_eq!(listed(&["operator", "add"], "role"), names(&OperatorRole::ALL, OperatorRole::as_str));
        assert_eq!(listed(&["issue"], "eku"), names(&RouterEku::ALL, RouterEku::as_str));
        let vendors: Vec<String> = Vendor::ALL.iter().map(|(n, _)| (*n).to_owned()).collect();
        assert_eq!(listed(&["issue"], "vendor"), vendors);
        let roles: Vec<String> = crate::policy::HcRole::ALL.iter().map(|r| r.code().to_owned()).collect();
        assert_eq!(listed(&["portal", "user", "add"], "role"), roles);
    }

    #[test]
    fn a_bad_facility_id_fails_in_clap_with_the_types_message() {
        let good = FacilityId::from_number(17).unwrap().to_string();
        let mut wrong = good.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == 'A' { 'B' } else { 'A' });
        let expected = FacilityId::parse(&wrong).unwrap_err().to_string();
        for args in [
            vec!["hcpki", "facility", "show", &wrong],
            vec!["hcpki", "issue", "--profile", "pc", "--csr", "x.csr", "--facility", &wrong],
            vec!["hcpki", "enroll", "credential", "--facility", &wrong, "--protocol", "est", "--profile", "router"],
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation, "{args:?}");
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(&expected), "{args:?}: {err}");
        }
        let ok = Cli::try_parse_from(["hcpki", "facility", "show", &good.to_lowercase()]).unwrap();
        let Command::Facility(FacilityCommand::Show { id, .. }) = ok.command else { panic!("{ok:?}") };
        assert_eq!(id.as_str(), good);
    }

    #[test]
    fn the_types_accept_the_spellings_they_accepted_as_text() {
        let cli = Cli::try_parse_from(["hcpki", "revoke", "--serial", "0A:1B", "--reason", "key-compromise"]).unwrap();
        let Command::Revoke(r) = cli.command else { panic!() };
        assert_eq!((r.serial.as_str(), r.reason.name()), ("0a1b", "keyCompromise"));
        let cli =
            Cli::try_parse_from(["hcpki", "init", "--key-type", "router=P-256", "--key-type", "pc=rsa3072"]).unwrap();
        let Command::Init(i) = cli.command else { panic!() };
        assert_eq!(i.key_types, [(CaName::Router, KeyAlgorithm::P256), (CaName::Pc, KeyAlgorithm::Rsa3072)]);
        let cli = Cli::try_parse_from(["hcpki", "ca", "chain", "operator"]).unwrap();
        assert!(matches!(cli.command, Command::Ca(CaCommand::Chain { profile: CaName::Server })));
        let bad =
            Cli::try_parse_from(["hcpki", "operator", "add", "bob", "--role", "root", "--csr", "c", "--out", "o"]);
        assert!(bad.unwrap_err().to_string().contains("unknown operator role"));
    }
}
