//! The token signing keys and their rotation (D24, D25). Keys come in generations beside the server CA's
//! key, one key per signing algorithm in each: generation 0 is `keys/oidc-signing.p8` (ES256; PKCS#11 object
//! `hcpki-oidc-signing`), `keys/oidc-signing-rs256.p8` and `keys/oidc-signing-ps256.p8`; generation n adds
//! `-n` (`keys/oidc-signing-n.p8`, `keys/oidc-signing-rs256-n.p8`, …). `oidc/signing-keys.json` in the
//! hcpki directory lists the generations, newest last.
//!
//! A rotation (`hcpki oidc rotate-key`, or the server itself every `[oidc] rotate_every`) makes the next
//! generation and retires the previous one, which the JWKS keeps publishing (and the provider keeps
//! accepting as `id_token_hint`) until every token it signed has expired. Every running server looks at the
//! list every `[oidc] check_every` and swaps in the new ring without a restart, so replicas sharing the
//! directory all follow. Rotations take `oidc/signing-keys.lock`, so two replicas never rotate twice for one
//! due date and a CLI rotation never races a timed one.

use super::jws::{Signer, SigningAlg};
use anyhow::{Context, Result};
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::{Authority, CaName};
use hcpki_pkix::keys::{self, KeyContext, KeySource, KeyUri};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// The list's file, relative to the hcpki directory.
const RING_FILE: &str = "oidc/signing-keys.json";
/// Held (`flock`) while the list is created or rotated.
const LOCK_FILE: &str = "oidc/signing-keys.lock";

/// One generation.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Generation {
    generation: u32,
    /// When it was made. Lists written before timed rotation lack it: the first timed check stamps it, so
    /// such a generation is rotated one period after the upgrade, not at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<i64>,
    /// When a newer key took over; published until `retired_at` + the retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at: Option<i64>,
}

/// When keys rotate and how long retired ones stay published.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// Make a new generation when the current one is this many seconds old; never when `None`.
    pub rotate_every: Option<i64>,
    /// Seconds a retired generation stays published: at least the longest token lifetime.
    pub keep_retired: i64,
    /// How often a running server looks at the list (and whether a rotation is due).
    pub check_every: Duration,
}

/// The signing keys in force: the generations whose tokens may still be alive, newest first.
#[derive(Debug)]
pub struct SigningKeys {
    generations: Vec<(u32, Vec<Signer>)>,
}

impl SigningKeys {
    /// No keys: a provider for unit tests of refusals, which sign nothing.
    #[cfg(test)]
    pub fn none() -> Self {
        Self { generations: Vec::new() }
    }

    /// The key new tokens of `alg` are signed with: the newest generation's.
    pub fn current(&self, alg: SigningAlg) -> Option<&Signer> {
        self.generations.first().and_then(|(_, signers)| signers.iter().find(|s| s.alg == alg))
    }

    /// Every key the JWKS publishes: the current generation's first.
    pub fn published(&self) -> impl Iterator<Item = &Signer> {
        self.generations.iter().flat_map(|(_, signers)| signers)
    }

    fn numbers(&self) -> Vec<u32> {
        self.generations.iter().map(|(n, _)| *n).collect()
    }
}

/// The ring a running provider signs with, replaced whole when the list changes.
#[derive(Debug)]
pub struct KeyRing(RwLock<Arc<SigningKeys>>);

impl KeyRing {
    /// A ring holding `keys`.
    pub fn new(keys: SigningKeys) -> Self {
        Self(RwLock::new(Arc::new(keys)))
    }

    /// The keys now (a snapshot: a token is signed and its kid chosen from one ring).
    pub fn get(&self) -> Arc<SigningKeys> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set(&self, keys: SigningKeys) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
    }
}

/// Open (making generation 0 on first use) the keys whose tokens may still be alive: the current
/// generation and those retired less than `keep_retired` seconds ago.
pub fn load(authority: &Authority, dir: &Path, ctx: &KeyContext, keep_retired: i64) -> Result<SigningKeys> {
    // Under the lock: the first start of two replicas must not both make generation 0's keys.
    let mut keys = None;
    let now = authority.clock().now_unix();
    with_lock(dir, now, |list| {
        keys = Some(open_generations(authority, ctx, list, keep_retired, None, now)?);
        Ok((list.clone(), false))
    })?;
    keys.context("internal: no OIDC signing keys were opened")
}

/// What a rotation made.
#[derive(Debug)]
pub struct Rotated {
    /// The new generation.
    pub generation: u32,
    /// Its keys' `kid`s, ES256 first.
    pub kids: Vec<String>,
}

/// Make the next generation and retire the current one.
pub fn rotate(authority: &Authority, dir: &Path, ctx: &KeyContext) -> Result<Rotated> {
    let mut made = None;
    let now = authority.clock().now_unix();
    with_lock(dir, now, |ring| {
        made = Some(add_generation(authority, ctx, ring, now)?);
        Ok((ring.clone(), true))
    })?;
    made.context("internal: the rotation made no generation")
}

/// Check the list every `schedule.check_every`: rotate when due (audited as the system's) and swap the
/// ring in when the generations to publish changed (a rotation here, by another replica or by the CLI, or
/// a retired generation past its retention).
pub fn spawn_maintenance(
    ring: Arc<KeyRing>,
    authority: Arc<Authority>,
    dir: PathBuf,
    ctx: KeyContext,
    schedule: Schedule,
) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(schedule.check_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let (a, d, c, r) = (authority.clone(), dir.clone(), ctx.clone(), ring.clone());
            // Key files (scrypt), HSM calls and the lock block: off the runtime's threads.
            let round = tokio::task::spawn_blocking(move || maintain(&a, &d, &c, &r, schedule)).await;
            match round {
                Ok(Ok(Some(rotated))) => audit_rotation(&authority, "system", &rotated, "scheduled").await,
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "OIDC signing key maintenance failed"),
                Err(e) => tracing::error!(error = %e, "OIDC signing key maintenance panicked"),
            }
        }
    });
}

/// Audit a rotation (`oidc.key.rotate`, target the new ES256 kid).
pub async fn audit_rotation(authority: &Authority, actor: &str, rotated: &Rotated, reason: &str) {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: "oidc.key.rotate".into(),
        target: rotated.kids.first().cloned().unwrap_or_default(),
        outcome: Outcome::Ok,
        detail: serde_json::json!({ "generation": rotated.generation, "kids": rotated.kids, "reason": reason }),
    };
    if let Err(e) = authority.store().append_audit(&event, authority.clock().now()).await {
        tracing::error!(error = %e, "cannot audit an OIDC signing key rotation");
    }
}

/// One maintenance round; returns the rotation it made, if any.
fn maintain(
    authority: &Authority,
    dir: &Path,
    ctx: &KeyContext,
    ring: &KeyRing,
    schedule: Schedule,
) -> Result<Option<Rotated>> {
    let now = authority.clock().now_unix();
    let mut rotated = None;
    let list = match schedule.rotate_every {
        // Due is decided again under the lock: another replica may have rotated a moment ago.
        Some(every) if rotation_due(&read_ring(dir)?, now, every) => with_lock(dir, now, |list| {
            if !rotation_due(list, now, every) {
                return Ok((list.clone(), false));
            }
            let stamped = stamp_creation(list, now);
            if !rotation_due(list, now, every) {
                return Ok((list.clone(), stamped));
            }
            rotated = Some(add_generation(authority, ctx, list, now)?);
            Ok((list.clone(), true))
        })?,
        _ => read_ring(dir)?,
    };
    let current = ring.get();
    if wanted(&list, now, schedule.keep_retired) != current.numbers() {
        let keys = open_generations(authority, ctx, &list, schedule.keep_retired, Some(&current), now)?;
        tracing::info!(generations = ?keys.numbers(), "OIDC signing keys reloaded");
        ring.set(keys);
    }
    Ok(rotated)
}

/// Whether the newest generation is `every` seconds old. One never stamped is not due (see
/// [`Generation::created_at`]) but asks to be stamped, which [`maintain`] does under the lock.
fn rotation_due(list: &[Generation], now: i64, every: i64) -> bool {
    list.last().is_some_and(|g| g.created_at.is_none_or(|at| at + every <= now))
}

/// Give generations without a creation time `now`; whether any was stamped.
fn stamp_creation(list: &mut [Generation], now: i64) -> bool {
    let mut stamped = false;
    for g in list.iter_mut().filter(|g| g.created_at.is_none()) {
        g.created_at = Some(now);
        stamped = true;
    }
    stamped
}

/// The generations to publish, newest first.
fn wanted(list: &[Generation], now: i64, keep_retired: i64) -> Vec<u32> {
    list.iter().rev().filter(|g| g.retired_at.is_none_or(|at| at + keep_retired > now)).map(|g| g.generation).collect()
}

/// Open the keys of the generations to publish at `now`, reusing those `previous` has open (software keys cost
/// a scrypt each; an HSM a lookup).
fn open_generations(
    authority: &Authority,
    ctx: &KeyContext,
    list: &[Generation],
    keep_retired: i64,
    previous: Option<&SigningKeys>,
    now: i64,
) -> Result<SigningKeys> {
    let mut generations = Vec::new();
    for n in wanted(list, now, keep_retired) {
        let known = previous.and_then(|p| p.generations.iter().find(|(g, _)| *g == n));
        let signers = match known {
            Some((_, signers)) => signers.clone(),
            None => open_generation(authority, ctx, n)?,
        };
        generations.push((n, signers));
    }
    anyhow::ensure!(!generations.is_empty(), "no current OIDC signing key in {RING_FILE}");
    Ok(SigningKeys { generations })
}

/// Make the next generation's keys, retire the current one at `now`, and append it to `list`.
fn add_generation(authority: &Authority, ctx: &KeyContext, list: &mut Vec<Generation>, now: i64) -> Result<Rotated> {
    let next = list.last().map_or(0, |g| g.generation + 1);
    let signers = open_generation(authority, ctx, next)?;
    for g in list.iter_mut().filter(|g| g.retired_at.is_none()) {
        g.retired_at = Some(now);
    }
    list.push(Generation { generation: next, created_at: Some(now), retired_at: None });
    Ok(Rotated { generation: next, kids: signers.into_iter().map(|s| s.kid).collect() })
}

/// Run `change` on the list with the lock held; it returns the list and whether to write it back. The
/// list is made (generation 0, created `now`) when there is none.
fn with_lock(
    dir: &Path,
    now: i64,
    change: impl FnOnce(&mut Vec<Generation>) -> Result<(Vec<Generation>, bool)>,
) -> Result<Vec<Generation>> {
    std::fs::create_dir_all(dir.join("oidc")).with_context(|| format!("cannot create {}/oidc", dir.display()))?;
    let lock_path = dir.join(LOCK_FILE);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    lock.lock().with_context(|| format!("cannot lock {}", lock_path.display()))?;
    let (mut list, fresh) = match read_ring(dir) {
        Ok(list) => (list, false),
        Err(e) if is_missing(&e) => (vec![Generation { generation: 0, created_at: Some(now), retired_at: None }], true),
        Err(e) => return Err(e),
    };
    let (list, write) = change(&mut list)?;
    if write || fresh {
        write_ring(dir, &list)?;
    }
    Ok(list)
}

fn is_missing(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
}

fn read_ring(dir: &Path) -> Result<Vec<Generation>> {
    let path = dir.join(RING_FILE);
    let bytes = std::fs::read(&path).map_err(anyhow::Error::from)?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", path.display()))
}

/// Replace the list atomically (readers see the old or the new one, never half).
fn write_ring(dir: &Path, list: &[Generation]) -> Result<()> {
    let path = dir.join(RING_FILE);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(list)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))
}

/// A generation's keys, one per algorithm in [`SigningAlg::ALL`]'s order (made when missing).
fn open_generation(authority: &Authority, ctx: &KeyContext, generation: u32) -> Result<Vec<Signer>> {
    SigningAlg::ALL
        .into_iter()
        .map(|alg| {
            let key = open(authority, ctx, generation, alg)?;
            Signer::new(key, alg).with_context(|| format!("OIDC signing key generation {generation}"))
        })
        .collect()
}

fn open(authority: &Authority, ctx: &KeyContext, generation: u32, alg: SigningAlg) -> Result<Arc<dyn KeySource>> {
    // ES256 keeps the names it had before RSA signing existed.
    let stem = match alg {
        SigningAlg::Es256 => "oidc-signing".to_owned(),
        other => format!("oidc-signing-{}", other.as_str().to_ascii_lowercase()),
    };
    let (file, object) = match generation {
        0 => (format!("keys/{stem}.p8"), format!("hcpki-{stem}")),
        n => (format!("keys/{stem}-{n}.p8"), format!("hcpki-{stem}-{n}")),
    };
    // Beside the server CA's key, in the same kind of store (as the server's TLS key).
    let uri = KeyUri::from_str(authority.ca_key_uri(CaName::Server)?)?.sibling(&file, &object);
    Ok(Arc::from(keys::open_or_generate(&uri, alg.key_algorithm(), ctx)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generation(n: u32, created_at: Option<i64>, retired_at: Option<i64>) -> Generation {
        Generation { generation: n, created_at, retired_at }
    }

    #[test]
    fn retired_generations_stay_published_for_the_retention() {
        let list = [generation(0, Some(0), Some(100)), generation(1, Some(100), None)];
        assert_eq!(wanted(&list, 150, 60), vec![1, 0]);
        assert_eq!(wanted(&list, 160, 60), vec![1]);
    }

    #[test]
    fn rotation_falls_due_after_the_period_and_unstamped_generations_are_stamped_first() {
        let mut list = vec![generation(0, None, None)];
        assert!(rotation_due(&list, 10, 30), "unstamped: due for stamping");
        assert!(stamp_creation(&mut list, 10));
        assert!(!rotation_due(&list, 39, 30));
        assert!(rotation_due(&list, 40, 30));
    }
}
