-- hcpki schema: lending the physician's card reader to a patient without ending the session (issue #28, D91).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
--
-- A card session the physician lends (`POST /session/lend`) is paused until `lent_until`: nobody can use it,
-- the card's removal does not end it, its presence lease is held. `lent_for` is the consent it was lent for
-- (free text, audit only); `lent_card_out` when a removal of the login card was reported during the lend (the
-- agent's `present` report ends the lend only after that). Returning the card clears all three; a lend that
-- runs out ends the session (`end_reason` `lend-expired`).
ALTER TABLE portal_sessions ADD COLUMN lent_until BIGINT;
ALTER TABLE portal_sessions ADD COLUMN lent_for TEXT;
ALTER TABLE portal_sessions ADD COLUMN lent_card_out BIGINT;
-- The housekeeping looks for lends that ran out; almost every row has none.
CREATE INDEX portal_sessions_lent_until ON portal_sessions (lent_until) WHERE lent_until IS NOT NULL;
