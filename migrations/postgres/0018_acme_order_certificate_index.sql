-- hcpki schema: which ACME account ordered a certificate (issue #24, item 3). revokeCert signed by an account
-- key revokes only certificates that account's own orders were finalized with (RFC 8555 §7.6), so revocation
-- looks the order up by its certificate's serial; without this index that is a scan of every order.
CREATE INDEX acme_orders_certificate ON acme_orders (certificate_serial);
