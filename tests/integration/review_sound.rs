//! Issue #24 "keep them so": controls the security review found sound and that had no test of their own.
//! Parameterised SQL: text anyone can put into the registry (a facility's name, a filter) carrying SQL
//! metacharacters is stored and read back as data on both databases, and never changes another row.

use crate::harness::{Backend, Hcpki};

on_both_backends!(sql_metacharacters_in_names_and_filters_are_data);

/// Quotes, statement separators, comments, LIKE wildcards and backslashes in a facility name are stored verbatim
/// and read back unchanged; the other facility is untouched; a filter value written as an injection is refused
/// as a malformed facility ID before any query; the audit chain verifies.
fn sql_metacharacters_in_names_and_filters_are_data(b: Backend) {
    let h = Hcpki::initialized(b);
    let other = h.approved_facility("ひまわり歯科");
    let hostile = "さくら'); DROP TABLE facilities; -- \" \\ % _ ' OR '1'='1";
    let id = h.add_facility(hostile, None);
    h.ok(&["facility", "approve", &id]);

    let listed: Vec<serde_json::Value> = h
        .ok(&["facility", "list", "--json"])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("facility list --json prints JSON lines"))
        .collect();
    assert_eq!(listed.len(), 2, "both facilities listed, none lost or added: {listed:?}");
    let name_of = |wanted: &str| {
        listed
            .iter()
            .find(|f| f.to_string().contains(wanted))
            .and_then(|f| f.get("name").and_then(|n| n.as_str()).map(str::to_owned))
    };
    assert_eq!(name_of(&id).as_deref(), Some(hostile), "the name is stored and read back byte for byte");
    assert_eq!(name_of(&other).as_deref(), Some("ひまわり歯科"), "the other facility is unchanged");

    let shown = h.ok(&["facility", "show", &id, "--json"]);
    assert!(shown.contains(&serde_json::to_string(hostile).unwrap()), "show reads the same name back: {shown}");

    let err = h.fails(&["cert", "list", "--facility", "' OR '1'='1"]);
    assert!(err.to_lowercase().contains("facility"), "an injection as a filter is refused as a facility ID: {err}");

    h.ok(&["audit", "verify"]);
}
