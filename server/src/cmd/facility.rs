//! `hcpki facility …`.

use crate::args::value;
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use hcpki_ca::facility::FacilityKind;
use hcpki_ca::facility::FacilityState;
use hcpki_ca::facility::{DeviceName, FacilityId, NewFacility, PhoneDigits, Transition};
use hcpki_ca::store::{Actor, CertificateFilter, FacilityFilter};
use hcpki_ca::{Authority, FacilityRefusal};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum FacilityCommand {
    /// Vetting evidence before approval (D173): the code checked against the register, the security rules
    /// accepted, the vulnerability assessment; the requirements, the overdue list and warnings.
    #[command(subcommand)]
    Vetting(super::vetting::VettingCommand),
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
    /// Reject an application (applied → rejected).
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
        /// Only facilities whose contact holds this telephone number (hyphens, spaces, full-width digits and
        /// +81 are folded; 4 digits or more, part of a number will do).
        #[arg(long, value_parser = PhoneDigits::parse)]
        phone: Option<PhoneDigits>,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Name a facility's PC as staff call it (受付PC; D134), or rename it; shown by the console, never put into a
    /// certificate. DEVICE is the device ID its certificates carry (`pc-1a2b3c4d`, see `cert list --facility`).
    NameDevice { id: FacilityId, device: String, name: String },
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
    /// The facility's security officer (セキュリティ責任者), whom incident response calls: name one with
    /// `--name` and `--contact` (replacing any before); without them, show who it is.
    SecurityOfficer {
        id: FacilityId,
        /// The officer's name.
        #[arg(long, requires = "contact")]
        name: Option<String>,
        /// How to reach them (telephone, mail).
        #[arg(long, requires = "name")]
        contact: Option<String>,
    },
    /// Which passkeys the facility admits at registration and at every sign-in there: `none` (any passkey, the
    /// default), `any` (attested hardware keys) or `models` (the `--model` AAGUIDs only). Without `--rule`,
    /// show it.
    PasskeyRule {
        id: FacilityId,
        /// none, any or models.
        #[arg(long)]
        rule: Option<String>,
        /// An admitted model's AAGUID (with `--rule models`; repeat for several).
        #[arg(long = "model", requires = "rule")]
        models: Vec<String>,
        /// Print JSON (as the admin API answers).
        #[arg(long)]
        json: bool,
    },
    /// How far the facility's signing sessions reach (D172): after one signature PIN at its PCs, at most
    /// `--max-signatures` within `--max-hours` (0 in either turns sessions off; at most 250 and 24; the card
    /// agent's own limits apply too, the lower wins). Without options, show it.
    SigningLimit {
        id: FacilityId,
        /// At most this many signatures per session.
        #[arg(long, requires = "max_hours")]
        max_signatures: Option<u32>,
        /// Within this many hours of the session's first signature.
        #[arg(long, requires = "max_signatures")]
        max_hours: Option<u32>,
        /// Print JSON (as the admin API answers).
        #[arg(long)]
        json: bool,
    },
    /// Who holds a network address (incident support): the facility whose allocation contains it now, with its
    /// contact, and every certificate that ever carried it (any status, expired too). Audited.
    Find {
        /// The address seen in the incident (`192.0.2.7`, `2001:db8::7`).
        #[arg(long)]
        address: String,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
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

pub async fn run(authority: &Authority, command: FacilityCommand) -> Result<ExitCode> {
    let actor = super::actor();
    let transition = |id: FacilityId, t: Transition, reason: Option<String>| {
        let actor = actor.clone();
        async move {
            let f = authority.registrar().transition(&id, t, reason.as_deref(), &actor).await?;
            eprintln!("facility {} is now {}", f.id, f.state);
            Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
        }
    };
    match command {
        FacilityCommand::Vetting(c) => super::vetting::vetting(authority, c).await,
        FacilityCommand::Add { name, kind, code, address, contact } => {
            let new = NewFacility::new(&name, kind, code.as_deref(), address.as_deref(), contact.as_deref())?;
            let f = authority.registrar().register_facility(&new, &actor).await?;
            println!("{}", f.id);
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::Import { csv, valid_only, approve, dry_run } => {
            let options = super::facility_import::Options { valid_only, approve, dry_run };
            super::facility_import::run(authority, &csv, options, &actor).await
        }
        FacilityCommand::Approve { id } => transition(id, Transition::Approve, None).await,
        FacilityCommand::Reject { id, reason } => transition(id, Transition::Reject, Some(reason)).await,
        FacilityCommand::Suspend { id, reason } => transition(id, Transition::Suspend, Some(reason)).await,
        FacilityCommand::Resume { id, reason } => transition(id, Transition::Resume, reason).await,
        FacilityCommand::Retire { id, reason } => transition(id, Transition::Retire, Some(reason)).await,
        FacilityCommand::List { state, kind, phone, json } => {
            let filter = FacilityFilter { state, kind, phone, ..FacilityFilter::default() };
            for f in authority.registrar().facilities().list_facilities(&filter).await? {
                if json {
                    println!("{}", facility_json(authority, &f));
                } else {
                    println!("{}", output::facility_row(&f));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::NameDevice { id, device, name } => {
            let name = DeviceName::parse(&name)?;
            let filter = CertificateFilter { facility: Some(id.clone()), ..CertificateFilter::default() };
            let certs = authority.pipeline().certificates().list_certificates(&filter).await?;
            if !crate::app::operations::devices::holds(&certs, &device) {
                anyhow::bail!(
                    "facility {id} has no PC {device:?}: choose a device ID from `hcpki cert list --facility {id}`"
                );
            }
            authority
                .registrar()
                .device_names()
                .name_device(&id, &device, &name, &actor, hcpki_pkix::time::now())
                .await?;
            eprintln!("device {device} of {id} is now named {name}");
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::SecurityOfficer { id, name, contact } => {
            if let (Some(name), Some(contact)) = (name, contact) {
                authority.registrar().set_security_officer(id.as_str(), &name, &contact, &actor).await?;
                eprintln!("the security officer of {id} is now {}", name.trim());
            }
            match authority.registrar().security_officer(&id).await? {
                Some(o) => println!(
                    "{}\t{}\t{}\t{}",
                    o.officer.name(),
                    o.officer.contact(),
                    o.set_by,
                    hcpki_pkix::time::rfc3339(o.set_at)
                ),
                None => eprintln!(
                    "facility {id} has no security officer named: hcpki facility security-officer {id} --name NAME --contact CONTACT"
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::PasskeyRule { id, rule, models, json } => {
            if let Some(rule) = rule {
                let set = authority.registrar().set_passkey_rule(id.as_str(), &rule, &models, &actor).await?;
                eprintln!("facility {id} now admits {}", passkey_rule_words(&set.rule));
            }
            let rule = authority.registrar().passkey_rule(&id).await?;
            if json {
                println!("{}", crate::app::operations::passkey_rule::json(id.as_str(), rule.as_ref()));
            } else {
                let models = rule.as_ref().map(|r| r.rule.models().iter().map(ToString::to_string).collect::<Vec<_>>());
                println!(
                    "{}\t{}\t{}",
                    rule.as_ref().map_or("none", |r| r.rule.name()),
                    models.map(|m| m.join(" ")).unwrap_or_default(),
                    rule.as_ref().map(|r| r.set_by.as_str()).unwrap_or("-"),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::SigningLimit { id, max_signatures, max_hours, json } => {
            if let (Some(n), Some(h)) = (max_signatures, max_hours) {
                let set = authority.registrar().set_signing_limit(id.as_str(), n, h, &actor).await?;
                if set.limit.is_off() {
                    eprintln!("signing sessions are off at {id}: every signature asks the PIN");
                } else {
                    eprintln!("signing sessions at {id}: at most {n} signatures within {h} h after one PIN");
                }
            }
            let limit = authority.registrar().signing_limit(&id).await?;
            if json {
                println!("{}", crate::app::operations::signing_limit::json(id.as_str(), limit.as_ref()));
            } else {
                match limit {
                    Some(l) => println!(
                        "{}\t{}\t{}",
                        l.limit.max_signatures(),
                        l.limit.max_hours(),
                        if l.limit.is_off() { "off" } else { "on" }
                    ),
                    None => println!("agent\tagent\tagent"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::Find { address, json } => {
            let found = authority.registrar().find_address(&address, &actor).await?;
            let holder = match &found.allocation {
                Some(a) => authority.registrar().facilities().facility(&a.facility).await?,
                None => None,
            };
            let officer = match &holder {
                Some(f) => authority.registrar().security_officer(&f.id).await?,
                None => None,
            };
            if json {
                let mut v = serde_json::to_value(&found)?;
                if let Some(o) = v.as_object_mut() {
                    o.insert(
                        "facility".into(),
                        holder.as_ref().map(|f| facility_json(authority, f)).unwrap_or_default(),
                    );
                    o.insert("security_officer".into(), serde_json::to_value(&officer)?);
                }
                println!("{v}");
            } else {
                print!("{}", output::address_holders(&found, holder.as_ref(), officer.as_ref()));
            }
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::Show { id, json } => {
            let f = authority.registrar().facilities().facility(&id).await?.ok_or(FacilityRefusal::Unknown(id))?;
            if json {
                println!("{}", facility_json(authority, &f));
            } else {
                print!("{}", output::facility_detail(&f, &authority.settings().router_dns_name(&f.id)));
            }
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::AdminLogin { id, password_totp } => {
            let registrar = authority.registrar();
            if let Some(choice) = password_totp {
                let allow = choice == AllowDeny::Allow;
                let changed = registrar.set_admin_password_totp(&id, allow, &actor).await?;
                if !changed {
                    eprintln!("unchanged");
                }
            } else if registrar.facilities().facility(&id).await?.is_none() {
                return Err(FacilityRefusal::Unknown(id).into());
            }
            let allowed = registrar.admin_password_totp(&id).await?;
            println!("{}", if allowed { "card or password-totp" } else { "card" });
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::Address(command) => address(authority, command, &actor).await,
    }
}

/// `hcpki facility address add|remove|list` (issue #24, item 2).
async fn address(authority: &Authority, command: AddressCommand, actor: &Actor) -> Result<ExitCode> {
    match command {
        AddressCommand::Add { facility, prefix } => {
            let r = authority.registrar().add_allocation(&facility, &prefix, actor).await?;
            eprintln!("{} is now allocated to facility {}", r.allocation, r.facility);
        }
        AddressCommand::Remove { facility, prefix } => {
            let r = authority.registrar().remove_allocation(&facility, &prefix, actor).await?;
            eprintln!("{} is no longer allocated to facility {}", r.allocation, r.facility);
        }
        AddressCommand::List { facility, json } => {
            for r in authority.registrar().allocations(facility.as_ref()).await? {
                if json {
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    println!(
                        "{}\t{}\t{}\t{}",
                        r.facility,
                        r.allocation,
                        hcpki_pkix::time::rfc3339(r.added_at),
                        r.added_by
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn facility_json(authority: &Authority, f: &hcpki_ca::facility::Facility) -> serde_json::Value {
    output::facility_json(f, &authority.settings().router_dns_name(&f.id))
}

/// What a rule admits, in words.
fn passkey_rule_words(rule: &hcpki_model::passkey_attestation::AttestationPolicy) -> String {
    use hcpki_model::passkey_attestation::AttestationPolicy as Rule;
    match rule {
        Rule::None => "any passkey".into(),
        Rule::Any => "attested hardware keys only".into(),
        Rule::Models(models) => {
            format!("only these models: {}", models.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
        }
    }
}
