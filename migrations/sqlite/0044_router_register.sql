-- hcpki:expand — new tables only; releases before it never read them.
-- hcpki schema: the router register (issue #50 item 2, D168). `router_models` is the operating body's list of
-- approved router models with what was tested (seeded from docs/interop.md and docs/routers/); `routers` each
-- facility's routers, with the addresses they use (inside the facility's allocations, checked by hcpki_ca) as
-- canonical text separated by spaces; `router_settings` one named switch (`approved_models_only`: no router
-- certificate or PSK for a model off the list). Kept column-for-column equal on SQLite and PostgreSQL.
CREATE TABLE router_models (
    model TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    auth_methods TEXT NOT NULL,
    psk_vendor TEXT,
    tested TEXT NOT NULL,
    guide TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at BIGINT NOT NULL
);
CREATE TABLE routers (
    facility_id TEXT NOT NULL REFERENCES facilities (id),
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    firmware TEXT NOT NULL,
    auth_method TEXT NOT NULL,
    addresses TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (facility_id, name)
);
CREATE TABLE router_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
INSERT INTO router_models (model, name, auth_methods, psk_vendor, tested, guide, approved_by, approved_at) VALUES
    ('strongswan', 'strongSwan 5.9 (charon, swanctl)', 'certificate psk', 'strongswan',
     'tested here: certificates and PSKs, IKE + CHILD SA, ping (scripts/interop-ipsec)', 'docs/routers/strongswan.md', 'migration:0044', 0),
    ('libreswan', 'libreswan 4.10 (pluto)', 'certificate psk', 'libreswan',
     'tested here: certificates and PSKs, IKE SA (no kernel ESP in CI; scripts/interop-ipsec)', 'docs/routers/libreswan.md', 'migration:0044', 0),
    ('cisco-ios-xe', 'Cisco IOS-XE', 'certificate psk', 'cisco-ios-xe',
     'vendor documentation (not run here)', 'docs/routers/cisco-ios-xe.md', 'migration:0044', 0),
    ('juniper-srx', 'Juniper SRX (Junos)', 'certificate psk', 'juniper-srx',
     'vendor documentation (not run here)', 'docs/routers/juniper-srx.md', 'migration:0044', 0),
    ('fortigate', 'FortiGate (FortiOS)', 'certificate psk', 'fortigate',
     'vendor documentation (not run here)', 'docs/routers/fortigate.md', 'migration:0044', 0),
    ('mikrotik', 'MikroTik RouterOS', 'certificate psk', 'mikrotik',
     'vendor documentation (not run here)', 'docs/routers/mikrotik.md', 'migration:0044', 0),
    ('yamaha-rtx', 'Yamaha RTX', 'psk', 'yamaha-rtx',
     'vendor documentation (not run here); PSK only until a firmware''s certificate support is confirmed', 'docs/routers/yamaha-rtx.md', 'migration:0044', 0);
