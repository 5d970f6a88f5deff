//! `hcpki login challenge|verify|crls`: the card-login core (`hcpki_sso::login`) from the command line, exactly as
//! the portal runs it (same store methods, same verifier, same audit entry).

use crate::args::Global;
use crate::config::Loaded;
use anyhow::{Context, Result};
use clap::Subcommand;
use hcpki_sso::login::{self, CardLoginError, challenge};
use std::path::PathBuf;
use std::process::ExitCode;

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

pub async fn run(g: &Global, command: LoginCommand) -> Result<ExitCode> {
    let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
    let config = &loaded.config.login;
    let origin_or_config = |origin: Option<String>| {
        origin.or_else(|| config.origin.clone()).context("no origin: pass --origin or set [login] origin")
    };
    match command {
        LoginCommand::Challenge { binding, origin, at } => {
            let store = hcpki_ca::store::open(&loaded.database_url).await.context("cannot open the database")?;
            let now = at.unwrap_or_else(hcpki_pkix::time::now_unix);
            let issued =
                challenge::issue(&*store, &binding, &origin_or_config(origin)?, config.challenge_ttl_secs, now).await?;
            println!("{}", serde_json::to_string(&issued)?);
            Ok(ExitCode::SUCCESS)
        }
        LoginCommand::Verify { challenge: value, binding, origin, signature, chain, at } => {
            let origin = origin_or_config(origin)?;
            let (verifier, crls) = config.verifier(&loaded.dir)?;
            let store = hcpki_ca::store::open(&loaded.database_url).await.context("cannot open the database")?;
            crls.refresh_due(hcpki_pkix::time::now_unix()).await;
            // A card's signature is a few hundred bytes: a larger file is refused before it is read.
            let signature = hcpki_docsig::signature::file::read_at_most(&signature, MAX_SIGNATURE_FILE)?;
            let chain = read_chain(&chain)?;
            let now = at.unwrap_or_else(hcpki_pkix::time::now_unix);
            let result = match challenge::take(&*store, &value, &binding, &origin, now).await {
                Ok(taken) => verifier.verify(&taken, &signature, &chain, now),
                Err(e) => Err(e),
            };
            store
                .append_audit(&login::audit_event(&result, &origin, super::actor().as_str()), hcpki_pkix::time::now())
                .await?;
            match result {
                Ok(card) => {
                    println!("{}", serde_json::to_string_pretty(&card_json(&card))?);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(&e),
            }
        }
        LoginCommand::Crls => {
            let (_, crls) = config.verifier(&loaded.dir)?;
            crls.refresh_due(hcpki_pkix::time::now_unix()).await;
            for info in crls.summary() {
                println!("{}", serde_json::to_string(&info)?);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The refusal: the user's message and the audit reason code, exit status 1.
fn refused(e: &CardLoginError) -> Result<ExitCode> {
    eprintln!("refused ({}): {e}", e.code());
    Ok(ExitCode::FAILURE)
}

fn card_json(card: &login::VerifiedCard) -> serde_json::Value {
    serde_json::json!({
        "kind": card.kind,
        "name": card.subject.name(),
        "hc_role": card.subject.role(),
        "credential": format!("{:?}", card.subject.credential()),
        "person_key": card.person_key,
        "card_id": card.card_id,
        "legacy_person_key": card.legacy_person_key,
        "issuer": card.issuer,
        "serial": card.serial,
        "not_after": card.not_after,
        "revocation": card.revocation,
        "hc_role_source": card.role_source,
        "unrecognised_role": card.unrecognised_role,
    })
}

/// Each file as DER certificates: PEM blocks decoded (not parsed: the verifier judges them), anything else
/// taken as one DER value.
fn read_chain(files: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    let mut chain = Vec::new();
    for file in files {
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        if bytes.starts_with(b"-----BEGIN") {
            let text = String::from_utf8_lossy(&bytes);
            for block in text.split_inclusive("-----END CERTIFICATE-----").filter(|b| b.contains("-----BEGIN")) {
                let (_, der) = der::pem::decode_vec(block.trim().as_bytes())
                    .with_context(|| format!("{}: bad PEM", file.display()))?;
                chain.push(der);
            }
        } else {
            chain.push(bytes);
        }
    }
    Ok(chain)
}

/// The largest login signature file read: an RSA-4096 signature is 512 bytes, an ECDSA one less.
const MAX_SIGNATURE_FILE: usize = 64 * 1024;
