//! SQL of the person-key links (migration 0021, issue #24 item 10): a card key of the form before trust-anchor
//! binding, linked to the anchor-bound key of the first login that produces it.

/// The earlier key `person_key` (`$1`) is linked to, if any.
pub(super) const LINKED: &str = "SELECT legacy_key FROM person_key_links WHERE person_key = $1";
/// Whether the earlier key `$1` is listed and unclaimed: a login looks before it queues to write (almost every
/// login has nothing to claim, and a write turn is what SQLite serialises).
pub(super) const CLAIMABLE: &str = "SELECT 1 FROM person_key_links WHERE legacy_key = $1 AND person_key IS NULL";
/// Claim the unclaimed earlier key `$3` for `$1` at `$2`.
pub(super) const CLAIM: &str = "UPDATE person_key_links SET person_key = $1, claimed_at = $2 \
                                WHERE legacy_key = $3 AND person_key IS NULL";
/// The earlier key's console grant moves to the new key (`$1`), unless the new key already has its own.
pub(super) const MOVE_GRANT: &str = "UPDATE console_grants SET person_key = $1 WHERE person_key = $2 \
                                     AND NOT EXISTS (SELECT 1 FROM console_grants WHERE person_key = $1)";
/// What is left of the earlier key's grant (superseded by the new key's own).
pub(super) const DROP_GRANT: &str = "DELETE FROM console_grants WHERE person_key = $1";
