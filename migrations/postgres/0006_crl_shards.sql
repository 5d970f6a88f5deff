-- hcpki schema: partitioned CRLs of the PC CA (ca/src/revocation/shard.rs, decision D20).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
-- The CRL shard a certificate's CRL distribution point names, chosen from its serial at issuance and written
-- with the issuance intent; NULL for certificates that point at their CA's complete CRL. The stored value, not
-- the current pc_crl_shards setting, decides which shard CRL lists a revoked certificate.
ALTER TABLE certificates ADD COLUMN crl_shard BIGINT;
CREATE INDEX certificates_ca_crl_shard ON certificates (ca, crl_shard);
