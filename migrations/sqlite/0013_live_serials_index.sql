-- hcpki schema: an index for the OCSP responder's paging through a CA's issued serials (issue #9's national
-- benchmark found each 1,000-serial page re-reading and sorting every issued certificate on SQLite: quadratic
-- pre-signing at start, ~25 minutes at 100k facilities). With it, a page is a range scan of 1,000 entries.
CREATE INDEX certificates_ca_status_serial ON certificates (ca, status, serial);
