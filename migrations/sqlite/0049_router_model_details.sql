-- hcpki:expand — two new columns with defaults; older releases neither read nor write them.
-- hcpki schema: an approved router model's vendor and the firmware range it was approved for (issue #50 item 2,
-- D174), now that operators edit the list through the admin API and the console as well as the CLI. The seeded
-- models get their vendors; their firmware range stays empty (any firmware), as before.
ALTER TABLE router_models ADD COLUMN vendor TEXT NOT NULL DEFAULT '';
ALTER TABLE router_models ADD COLUMN firmware TEXT NOT NULL DEFAULT '';
UPDATE router_models SET vendor = CASE model
    WHEN 'strongswan' THEN 'strongSwan project'
    WHEN 'libreswan' THEN 'Libreswan project'
    WHEN 'cisco-ios-xe' THEN 'Cisco'
    WHEN 'juniper-srx' THEN 'Juniper Networks'
    WHEN 'fortigate' THEN 'Fortinet'
    WHEN 'mikrotik' THEN 'MikroTik'
    WHEN 'yamaha-rtx' THEN 'Yamaha'
    ELSE vendor END
WHERE approved_by = 'migration:0044';
