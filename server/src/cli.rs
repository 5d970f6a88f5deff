//! The command line. Every command takes `--dir` (or `HCPKI_DIR`) and `--database-url` (or `HCPKI_DATABASE_URL`).

use crate::args::Global;
use crate::cmd::audit::AuditCommand;
use crate::cmd::backup::{BackupArgs, RestoreArgs};
#[cfg(feature = "bench")]
use crate::cmd::bench;
#[cfg(feature = "bench")]
use crate::cmd::bench::BenchCommand;
use crate::cmd::ca::CaCommand;
use crate::cmd::cert::CertCommand;
use crate::cmd::console_grant::ConsoleGrantCommand;
use crate::cmd::demo::DemoArgs;
use crate::cmd::enroll::EnrollCommand;
use crate::cmd::facility::FacilityCommand;
use crate::cmd::init::InitArgs;
use crate::cmd::issue::IssueArgs;
use crate::cmd::job::JobCommand;
use crate::cmd::lint::LintCommand;
use crate::cmd::login::LoginCommand;
use crate::cmd::operator::OperatorCommand;
use crate::cmd::revocation::{CrlArgs, RevokeArgs};
use crate::cmd::scim::ScimCommand;
use crate::cmd::serve::ServeArgs;
use crate::cmd::{
    audit, backup, ca, cert, console_grant, demo, enroll, facility, init, issue, job, lint, login, oidc, open,
    open_loaded, open_store, operator, portal, revocation, serve, service, signature, tsa, with_store,
};
use crate::config::Loaded;
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// hcpki: facility CA, card login and SSO for Japan's healthcare network.
#[derive(Debug, Parser)]
#[command(name = "hcpki", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Every command, each with the arguments its own module (`cmd/…`) declares; [`run`] dispatches.
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
    /// Write the CP/CPS draft (RFC 3647 outline) for this installation: the profile chapters generated from its
    /// settings, the operating body's parts marked TO COMPLETE.
    Cps(crate::cmd::cps::CpsArgs),
    /// List the pre-signing lint rules.
    #[command(subcommand)]
    Lint(LintCommand),
    /// Run the whole flow once in a fresh directory: CAs, a facility, a router and a PC certificate (with
    /// --serve, then serve it with the portal, the console and a demo account until Ctrl-C).
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
    /// SCIM provisioning (D158): which confidential OIDC client provisions which facility's staff accounts.
    #[command(subcommand)]
    Scim(ScimCommand),
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
    /// Routers' managed pre-shared keys (routers that cannot use certificates): issue, list, show, the hub's file.
    #[command(subcommand)]
    Psk(crate::cmd::psk::PskCommand),
    /// The router register: each facility's routers and the approved models (issue #50 item 2).
    #[command(subcommand)]
    Router(crate::cmd::router::RouterCommand),
    /// The services of the portal's authorization policy (kept in the database; the services file schema).
    #[command(subcommand)]
    Service(crate::cmd::service::ServiceCommand),
    /// The OpenID Connect provider's registered clients.
    #[command(subcommand)]
    Oidc(crate::cmd::oidc::OidcCommand),
    /// Regional networks (地域医療連携ネットワーク, D169): declare one (members, responsible party, 共同利用 items), list.
    #[command(subcommand)]
    Network(crate::cmd::network::NetworkCommand),
    /// Long operations (bulk import, bulk re-issue): progress, resume, cancel.
    #[command(subcommand)]
    Job(JobCommand),
    /// The time-stamping authorities signers ask (`[[signing.tsa]]`): check each, or stamp a file through the list.
    #[command(subcommand)]
    Tsa(crate::cmd::tsa::TsaCommand),
    /// Document signatures: verify one (PASSED / INDETERMINATE / FAILED), or renew its archive time stamp.
    #[command(subcommand)]
    Signature(crate::cmd::signature::SignatureCommand),
    /// The safety-guideline compliance report for inspections (MHLW guideline 6.0, the FY2025 checklist).
    #[command(subcommand)]
    Compliance(crate::cmd::compliance::ComplianceCommand),
    /// Registration authorities (connection providers, prefectures) and their scopes, facilities and staff.
    #[command(subcommand)]
    Ra(crate::cmd::ra::RaCommand),
    /// The register of medical institutions (the Regional Bureaus' list) the approvers check codes against.
    #[command(subcommand)]
    Register(crate::cmd::vetting::RegisterCommand),
}

/// Run one command: each goes down to its own module in `cmd`.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let g = &cli.global;
    match cli.command {
        Command::Init(args) => init::run(&g.dir, g.database_url.as_deref(), &args).await,
        Command::Backup(args) => backup::take(g, &args).await,
        Command::Restore(args) => backup::restore(g, &args).await,
        Command::Facility(c) => facility::run(&open(g).await?, c).await,
        Command::Enroll(c) => enroll::run(&open(g).await?, c).await,
        Command::Issue(args) => issue::run(&open(g).await?, &args).await,
        Command::Ca(c) => match c.switch() {
            // The stop switch opens the database only: a halt must work while a CA key is the incident.
            Some(what) => with_store(g, |l, s| Box::pin(crate::cmd::halt::run(s, l.config.ca.halt(), what))).await,
            None => {
                let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
                ca::run(&loaded, &open_loaded(&loaded).await?, c).await
            }
        },
        Command::Cert(c) => cert::run(&open(g).await?, c).await,
        Command::Audit(c) => {
            let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
            let forwarding = loaded.config.atna.is_some();
            audit::run(open_store(&loaded).await?.as_ref(), loaded.config.audit.retention_days, forwarding, c).await
        }
        Command::Cps(args) => crate::cmd::cps::run(g, &args).await,
        Command::Lint(c) => lint::run(c),
        Command::Demo(args) => demo::run(&args, g).await,
        #[cfg(feature = "bench")]
        Command::Bench(c) => bench::run(c, g).await,
        Command::Serve(args) => serve::run(g, &args).await,
        Command::Operator(c) => operator::run(&open(g).await?, c).await,
        Command::ConsoleGrant(c) => console_grant::run(&open(g).await?, c).await,
        Command::Scim(c) => {
            with_store(g, |_, s| Box::pin(async move { crate::cmd::scim::run(s.as_ref(), c).await })).await
        }
        Command::Revoke(args) => revocation::revoke(&open(g).await?, &args).await,
        Command::Crl(args) => revocation::crl(&open(g).await?, &args).await,
        Command::Login(c) => login::run(g, c).await,
        Command::Portal(c) => with_store(g, |l, s| Box::pin(async move { portal::run(&l, s.as_ref(), c).await })).await,
        Command::Psk(c) => {
            with_store(g, |l, s| Box::pin(async move { crate::cmd::psk::run(&l, s.as_ref(), c).await })).await
        }
        Command::Router(c) => {
            with_store(g, |_, s| Box::pin(async move { crate::cmd::router::run(s.as_ref(), c).await })).await
        }
        Command::Service(c) => {
            with_store(g, |l, s| Box::pin(async move { service::run(&l, s.as_ref(), c).await })).await
        }
        Command::Oidc(oidc::OidcCommand::RotateKey) => {
            let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
            oidc::rotate_key(&loaded, &open_loaded(&loaded).await?).await
        }
        Command::Oidc(c) => with_store(g, |l, s| Box::pin(async move { oidc::run(&l, s.as_ref(), c).await })).await,
        Command::Network(c) => {
            with_store(g, |_, s| Box::pin(async move { crate::cmd::network::run(s.as_ref(), c).await })).await
        }
        Command::Job(c) => job::run(&open(g).await?, c).await,
        Command::Tsa(c) => tsa::run(&Loaded::read(&g.dir, g.database_url.as_deref())?, c).await,
        Command::Signature(c) => signature::run(&Loaded::read(&g.dir, g.database_url.as_deref())?, c).await,
        Command::Compliance(c) => {
            with_store(g, |l, s| Box::pin(async move { crate::cmd::compliance::run(&l, s.as_ref(), c).await })).await
        }
        Command::Ra(c) => crate::cmd::ra::run(&open(g).await?, c).await,
        Command::Register(c) => crate::cmd::vetting::register(&open(g).await?, c).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use hcpki_ca::CaName;
    use hcpki_ca::enroll::credential::Protocol;
    use hcpki_ca::facility::{FacilityId, FacilityKind, FacilityState};
    use hcpki_ca::operator::OperatorRole;
    use hcpki_ca::profile::{ProfileKind, RouterEku, Vendor};
    use hcpki_ca::revocation::Reason;
    use hcpki_pkix::keys::KeyAlgorithm;

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
        assert_eq!(all.len(), 7);
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
        let roles: Vec<String> = hcpki_sso::policy::HcRole::ALL.iter().map(|r| r.code().to_owned()).collect();
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
