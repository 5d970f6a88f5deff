//! Routers' managed pre-shared keys through `hcpki psk` (issue #50 item 1, D156), on both databases: a length
//! the vendor refuses is refused with nothing kept; a key is the vendor's longest, shown once, in the hub's
//! secrets file while working; a rotated-out key (no overlap) leaves the hub's file and cannot be fetched;
//! another facility cannot fetch it by id; suspending the facility withdraws its key from the hub's file; no
//! key appears on stderr or in the audit log, and every issue, rotation, view and export is audited.
//!
//! The tunnels themselves (strongSwan ↔ libreswan with these files) are not run here yet: see D156.

use crate::harness::{Backend, Hcpki};

on_both_backends!(a_psk_is_issued_rotated_exported_and_withdrawn_with_its_facility);

fn a_psk_is_issued_rotated_exported_and_withdrawn_with_its_facility(b: Backend) {
    let h = Hcpki::initialized(b);
    h.append_config("\n[portal]\nlisten = \"127.0.0.1:0\"\n");
    let f = h.approved_facility("PSK Clinic");
    let other = h.approved_facility("Other Clinic");
    let issue = |vendor: &str, extra: &[&str]| {
        let mut args = vec!["psk", "issue", &f, "--peer", "hub1", "--remote-id", "f.router.example.jp"];
        args.extend(["--vendor", vendor]);
        args.extend(extra);
        h.run(&args)
    };

    // Bad input: longer than Cisco IOS-XE accepts, an unknown vendor. Nothing kept.
    let out = issue("cisco-ios-xe", &["--length", "200"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("does not fit cisco-ios-xe"), "{err}");
    assert!(err.contains("44..=128"), "says what to ask for: {err}");
    let err = h.fails(&["psk", "issue", &f, "--peer", "hub1", "--remote-id", "x", "--vendor", "netgear"]);
    assert!(err.contains("unknown router vendor"), "{err}");
    assert_eq!(h.ok(&["psk", "list", &f]), "", "nothing was kept");

    // Issued at the vendor's longest, shown once on stdout with the configuration lines.
    let out = issue("yamaha-rtx", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let first = stdout.lines().next().unwrap().to_owned();
    assert_eq!(first.len(), 128, "Yamaha RTX's longest");
    assert!(stdout.contains(&format!("ipsec ike pre-shared-key 1 text {first}")), "{stdout}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&first), "the key is never on stderr");
    let key_id = |list: &str, n: usize| list.lines().nth(n).unwrap().split('\t').next().unwrap().to_owned();
    let first_id = key_id(&h.ok(&["psk", "list", &f]), 0);

    let secrets = h.path("hub.secrets");
    let export = || {
        h.ok(&["psk", "hub-secrets", "--peer", "hub1", "--format", "libreswan", "--out", secrets.to_str().unwrap()]);
        std::fs::read_to_string(&secrets).unwrap()
    };
    assert!(export().contains(&format!("@f.router.example.jp : PSK \"{first}\"")));
    assert_eq!(h.ok(&["psk", "show", &f, &first_id]).trim(), first, "re-fetched by its facility");
    let err = h.fails(&["psk", "show", &other, &first_id]);
    assert!(err.contains("not available"), "another facility cannot fetch it: {err}");

    // Rotated with no overlap: the old key leaves the hub's file and cannot be fetched.
    let out = issue("strongswan", &["--overlap-hours", "0"]);
    let second = String::from_utf8(out.stdout).unwrap().lines().next().unwrap().to_owned();
    let file = export();
    assert!(file.contains(&second) && !file.contains(&first), "{file}");
    assert!(h.fails(&["psk", "show", &f, &first_id]).contains("not available"));
    let second_id = key_id(&h.ok(&["psk", "list", &f]), 0);

    // Suspended: the key is withdrawn in the same transaction; the hub's next file has none.
    h.ok(&["facility", "suspend", &f, "--reason", "psk test"]);
    assert!(!export().contains(&second));
    assert!(h.fails(&["psk", "show", &f, &second_id]).contains("not available"));
    assert!(
        h.fails(&["psk", "issue", &f, "--peer", "hub1", "--remote-id", "x", "--vendor", "mikrotik"])
            .contains("suspended")
    );

    let audit = h.ok(&["audit", "list", "--limit", "100000"]);
    assert!(!audit.contains(&first) && !audit.contains(&second), "no key in the audit log");
    for action in ["psk.issue", "psk.rotate", "psk.view", "psk.hub_export", "psk.withdraw"] {
        assert!(audit.contains(&format!("\"{action}\"")), "{action} audited");
    }
    h.ok(&["audit", "verify"]);
}
