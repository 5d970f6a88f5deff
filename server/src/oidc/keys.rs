//! The token signing keys and their rotation. Keys are generations beside the server CA's key: generation 0
//! is `keys/oidc-signing.p8` (PKCS#11 object `hcpki-oidc-signing`), generation n is
//! `keys/oidc-signing-n.p8` (`hcpki-oidc-signing-n`). `oidc/signing-keys.json` in the hcpki directory lists
//! them, newest last; `hcpki oidc rotate-key` adds one and retires the previous, which the JWKS keeps
//! publishing (and the provider keeps accepting as `id_token_hint`) until every token it signed has
//! expired. Replicas read the list at start: restart them one by one after a rotation.

use super::jws::Signer;
use crate::http::server_cert;
use anyhow::{Context, Result};
use hcpki_ca::keys::{self, KeyAlgorithm, KeyContext, KeySource};
use hcpki_ca::{Authority, CaName};
use std::path::Path;
use std::sync::Arc;

/// The list's file, relative to the hcpki directory.
const RING_FILE: &str = "oidc/signing-keys.json";

/// One generation.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Generation {
    generation: u32,
    /// When a newer key took over; published until `retired_at` + the longest token lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at: Option<i64>,
}

/// The signing keys in force.
#[derive(Debug)]
pub struct SigningKeys {
    /// The key new tokens are signed with.
    pub current: Signer,
    /// Every key published in the JWKS (the current one first).
    pub published: Vec<Signer>,
}

/// Open (making generation 0 on first use) the keys whose tokens may still be alive: the current one and
/// those retired less than `max_token_secs` ago.
pub fn load(authority: &Authority, dir: &Path, ctx: &KeyContext, max_token_secs: i64) -> Result<SigningKeys> {
    let ring = read_ring(dir)?;
    let now = hcpki_ca::time::now_unix();
    let mut published = Vec::new();
    for g in ring.iter().rev() {
        if g.retired_at.is_some_and(|at| at + max_token_secs <= now) {
            continue;
        }
        published.push(Signer::new(open(authority, ctx, g.generation)?)?);
    }
    let current = published.first().cloned().context("no current OIDC signing key")?;
    Ok(SigningKeys { current, published })
}

/// Make the next generation and retire the current one; returns the new generation and its `kid`.
pub fn rotate(authority: &Authority, dir: &Path, ctx: &KeyContext) -> Result<(u32, String)> {
    let mut ring = read_ring(dir)?;
    let next = ring.last().map_or(0, |g| g.generation + 1);
    let signer = Signer::new(open(authority, ctx, next)?)?;
    let now = hcpki_ca::time::now_unix();
    for g in ring.iter_mut().filter(|g| g.retired_at.is_none()) {
        g.retired_at = Some(now);
    }
    ring.push(Generation { generation: next, retired_at: None });
    let path = dir.join(RING_FILE);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&ring)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok((next, signer.kid))
}

fn read_ring(dir: &Path) -> Result<Vec<Generation>> {
    let path = dir.join(RING_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir.join("oidc"))
                .with_context(|| format!("cannot create {}/oidc", dir.display()))?;
            let ring = vec![Generation { generation: 0, retired_at: None }];
            std::fs::write(&path, serde_json::to_vec_pretty(&ring)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(ring)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn open(authority: &Authority, ctx: &KeyContext, generation: u32) -> Result<Arc<dyn KeySource>> {
    let (file, object) = match generation {
        0 => ("keys/oidc-signing.p8".to_owned(), "hcpki-oidc-signing".to_owned()),
        n => (format!("keys/oidc-signing-{n}.p8"), format!("hcpki-oidc-signing-{n}")),
    };
    let uri = server_cert::own_key_uri(authority, CaName::Server, &file, &object)?;
    Ok(Arc::from(keys::open_or_generate(&uri, KeyAlgorithm::P256, ctx)?))
}
