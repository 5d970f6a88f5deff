//! The tamper-evident audit log.
//!
//! Every privileged action (and every refusal of one) appends an entry in the
//! same database transaction as the action, so an action without its entry
//! cannot exist. Each entry commits to its predecessor:
//!
//! ```text
//! hash(n) = SHA-256( "hcpki-audit-v1" 0x00 ‖ hash(n-1) ‖ seq ‖ at ‖ actor ‖ action ‖ target ‖ outcome ‖ detail )
//! ```
//! with integers as 8-byte big-endian and strings as 4-byte-length-prefixed
//! UTF-8; hash(0) is 32 zero bytes. [`verify_chain`] recomputes every hash and
//! checks that sequence numbers are contiguous from 1 and that the stored head
//! matches the last entry, so an edited, deleted, inserted or reordered entry
//! is found. Truncating the tail *and* rewriting the head is only caught
//! against a head recorded elsewhere (`hcpki audit verify --expect-head`), as
//! with any hash chain; see docs/security.md.

use sha2::{Digest, Sha256};

/// An action to record, before it has a place in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// Who acted: `cli:<user>`, `operator:<cert subject>`, `system`, …
    pub actor: String,
    /// What was done, dotted: `facility.register`, `cert.issue`, `ca.create`, …
    pub action: String,
    /// What it was done to: a facility ID, a serial, a CA name.
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Structured details (JSON object).
    pub detail: serde_json::Value,
}

/// How an audited action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Done.
    Ok,
    /// Refused by policy or validation; nothing changed.
    Denied,
    /// Attempted and failed; nothing changed.
    Failed,
}

impl Outcome {
    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Denied => "denied",
            Self::Failed => "failed",
        }
    }

    /// Parse the stable text form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(Self::Ok),
            "denied" => Some(Self::Denied),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// An entry as stored (and as `hcpki audit list` and the retention archives write it).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (Unix milliseconds).
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub target: String,
    /// Outcome text (`ok`, `denied`, `failed`).
    pub outcome: String,
    /// JSON text exactly as hashed.
    pub detail: String,
    /// Hash of the previous entry (hex).
    pub prev_hash: String,
    /// This entry's hash (hex).
    pub hash: String,
}

/// The last entry's position and hash, kept in its own row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditHead {
    /// Sequence number of the last entry (0 when empty).
    pub seq: i64,
    /// Its hash (hex; 64 zeros when empty).
    pub hash: String,
}

/// Hash of "no previous entry".
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain hash of an entry (hex). The arguments are the hashed fields in
/// hashing order, kept flat so the order is visible at every call site.
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
    prev_hash_hex: &str,
    seq: i64,
    at_ms: i64,
    actor: &str,
    action: &str,
    target: &str,
    outcome: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(b"hcpki-audit-v1\0");
    h.update(hex::decode(prev_hash_hex).unwrap_or_default());
    h.update(seq.to_be_bytes());
    h.update(at_ms.to_be_bytes());
    for s in [actor, action, target, outcome, detail] {
        h.update((s.len() as u32).to_be_bytes());
        h.update(s.as_bytes());
    }
    hex::encode(h.finalize())
}

impl AuditEntry {
    /// Recompute this entry's hash from its fields and the given predecessor hash.
    pub fn expected_hash(&self, prev_hash_hex: &str) -> String {
        chain_hash(
            prev_hash_hex,
            self.seq,
            self.at_ms,
            &self.actor,
            &self.action,
            &self.target,
            &self.outcome,
            &self.detail,
        )
    }
}

/// A break in the chain.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainError {
    /// A sequence number is missing or out of order (deleted, inserted or reordered entry).
    #[error("audit entry {found} found where {expected} was expected: entries were deleted, inserted or reordered")]
    Sequence {
        /// The expected sequence number.
        expected: i64,
        /// The one found.
        found: i64,
    },
    /// An entry does not link to its predecessor.
    #[error("audit entry {seq} does not link to entry {prev}: an entry before it was changed or removed")]
    Link {
        /// The entry.
        seq: i64,
        /// Its predecessor.
        prev: i64,
    },
    /// An entry's content does not match its hash.
    #[error("audit entry {seq} was modified after it was written (hash mismatch)")]
    Content {
        /// The entry.
        seq: i64,
    },
    /// The head row does not match the last entry.
    #[error(
        "audit head says entry {head_seq} but the log ends at {last_seq}: the log was truncated or the head altered"
    )]
    Head {
        /// Head sequence.
        head_seq: i64,
        /// Last entry's sequence.
        last_seq: i64,
    },
    /// The head differs from the one expected by the caller (recorded elsewhere).
    #[error("audit head {found} differs from the expected head {expected}")]
    ExpectedHead {
        /// What the caller recorded.
        expected: String,
        /// What the log says.
        found: String,
    },
}

/// Incremental verifier, so very long logs are checked page by page.
#[derive(Debug)]
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { next_seq: 1, prev_hash: GENESIS_HASH.to_owned() }
    }
}

impl ChainVerifier {
    /// A verifier for the entries after `anchor` (the last entry pruned, or archived in an earlier file);
    /// the genesis when `None`.
    pub fn after(anchor: Option<&AuditHead>) -> Self {
        anchor.map_or_else(Self::default, |a| Self { next_seq: a.seq + 1, prev_hash: a.hash.clone() })
    }

    /// The sequence number and hash of the last entry checked (the anchor when none yet).
    pub fn last(&self) -> AuditHead {
        AuditHead { seq: self.next_seq - 1, hash: self.prev_hash.clone() }
    }

    /// Check the next entries in order.
    pub fn feed(&mut self, entries: &[AuditEntry]) -> Result<(), ChainError> {
        for e in entries {
            if e.seq != self.next_seq {
                return Err(ChainError::Sequence { expected: self.next_seq, found: e.seq });
            }
            if e.prev_hash != self.prev_hash {
                return Err(ChainError::Link { seq: e.seq, prev: e.seq - 1 });
            }
            if e.expected_hash(&self.prev_hash) != e.hash {
                return Err(ChainError::Content { seq: e.seq });
            }
            self.prev_hash = e.hash.clone();
            self.next_seq += 1;
        }
        Ok(())
    }

    /// Finish: the head must match the last entry checked.
    pub fn finish(self, head: &AuditHead) -> Result<AuditHead, ChainError> {
        let last = self.next_seq - 1;
        if head.seq != last || head.hash != self.prev_hash {
            return Err(ChainError::Head { head_seq: head.seq, last_seq: last });
        }
        Ok(AuditHead { seq: last, hash: self.prev_hash })
    }
}

/// Verify a whole chain held in memory.
pub fn verify_chain(entries: &[AuditEntry], head: &AuditHead) -> Result<AuditHead, ChainError> {
    let mut v = ChainVerifier::default();
    v.feed(entries)?;
    v.finish(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> (Vec<AuditEntry>, AuditHead) {
        let mut prev = GENESIS_HASH.to_owned();
        let mut out = Vec::new();
        for seq in 1..=n {
            let mut e = AuditEntry {
                seq,
                at_ms: 1_700_000_000_000 + seq,
                actor: "cli:test".into(),
                action: "facility.register".into(),
                target: format!("HF{seq:08}"),
                outcome: "ok".into(),
                detail: "{}".into(),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            e.hash = e.expected_hash(&prev);
            prev = e.hash.clone();
            out.push(e);
        }
        (out, AuditHead { seq: n, hash: prev })
    }

    #[test]
    fn intact_chain_verifies() {
        let (c, h) = chain(5);
        assert_eq!(verify_chain(&c, &h).unwrap(), h);
        assert!(verify_chain(&[], &AuditHead { seq: 0, hash: GENESIS_HASH.into() }).is_ok());
    }

    #[test]
    fn every_kind_of_tampering_is_found() {
        let (c, h) = chain(5);
        let mut edited = c.clone();
        edited[2].target = "HF99999999".into();
        assert_eq!(verify_chain(&edited, &h), Err(ChainError::Content { seq: 3 }));
        let mut deleted = c.clone();
        deleted.remove(1);
        assert!(matches!(verify_chain(&deleted, &h), Err(ChainError::Sequence { expected: 2, found: 3 })));
        let mut reordered = c.clone();
        reordered.swap(1, 2);
        assert!(matches!(verify_chain(&reordered, &h), Err(ChainError::Sequence { .. })));
        let truncated = &c[..4];
        assert!(matches!(verify_chain(truncated, &h), Err(ChainError::Head { .. })));
        // Re-hashing an edited entry still breaks the next link.
        let mut rehashed = c.clone();
        rehashed[1].detail = "{\"x\":1}".into();
        rehashed[1].hash = rehashed[1].expected_hash(&rehashed[0].hash);
        assert_eq!(verify_chain(&rehashed, &h), Err(ChainError::Link { seq: 3, prev: 2 }));
    }
}
