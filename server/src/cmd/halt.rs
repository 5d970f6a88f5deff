//! `hcpki ca halt`, `hcpki ca resume`, `hcpki ca halt-status`: the issuance stop switch (D135) from the CA host.
//! The store alone is opened, no CA key: an operator must be able to halt while the HSM is the incident.

use anyhow::Result;
use hcpki_ca::halt::{HaltError, HaltSettings, IssuanceSwitch};
use hcpki_ca::store::Store;
use hcpki_ca::store::halt::{ApprovalOutcome, Halt, HaltReason};
use hcpki_pkix::time::{SystemClock, rfc3339};
use std::process::ExitCode;
use std::sync::Arc;

/// What to do with the switch.
#[derive(Debug, Clone)]
pub enum Switch {
    /// Halt with this reason.
    Halt(String),
    /// Approve resuming as the OS user running the command.
    Resume,
    /// Show the halt in force; exit 1 while halted, for monitoring.
    Status { json: bool },
}

pub async fn run(store: Arc<dyn Store>, settings: HaltSettings, what: Switch) -> Result<ExitCode> {
    let switch =
        IssuanceSwitch::new(store.clone(), store, Arc::new(SystemClock)).with_approval_window(settings.approval_window);
    let minutes = settings.approval_window.as_secs() / 60;
    let actor = super::actor();
    match what {
        Switch::Halt(reason) => {
            let halt = switch.halt(&HaltReason::parse(&reason).map_err(HaltError::from)?, &actor).await?;
            eprintln!(
                "issuance halted on every replica (halt {}, by {}): EST, SCEP, ACME, the console and re-issue jobs \
                 refuse until two different operators run `hcpki ca resume` within {} minutes of each other; OCSP, \
                 CRLs and sign-in keep working",
                halt.id, halt.halted_by, minutes
            );
        }
        Switch::Resume => match switch.approve_resume(&actor).await? {
            ApprovalOutcome::Recorded { halt, still_needed } => eprintln!(
                "approval of {actor} recorded for halt {}: {still_needed} more approval(s) by a different operator \
                 needed within {} minutes; issuance stays halted",
                halt.id,
                minutes,
                actor = actor.as_str()
            ),
            ApprovalOutcome::Resumed { halt } => eprintln!(
                "issuance resumed (halt {} ended; approved by {})",
                halt.id,
                halt.approvals.iter().map(|a| a.approver.as_str()).collect::<Vec<_>>().join(", ")
            ),
        },
        Switch::Status { json } => {
            let halt = switch.halt_in_force().await?;
            print_status(halt.as_ref(), json);
            if halt.is_some() {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_status(halt: Option<&Halt>, json: bool) {
    if json {
        println!("{}", serde_json::json!({ "halted": halt.is_some(), "halt": halt }));
        return;
    }
    match halt {
        None => println!("issuance runs"),
        Some(h) => {
            println!("issuance HALTED since {} by {} (halt {}): {}", rfc3339(h.halted_at), h.halted_by, h.id, h.reason);
            for a in &h.approvals {
                println!("  approval to resume: {} at {}", a.approver, rfc3339(a.at));
            }
        }
    }
}
