//! SCIM filters (RFC 7644 §3.4.2.2, `hcpki_sso::scim::filter`): the `filter` query parameter (and a
//! `/.search` body's) any SCIM client sends, parsed and evaluated against a staff account's User resource, and
//! the other list parameters (`sortBy`, `attributes`, …) read beside it.
//!
//! The input is the filter text (lossy UTF-8, as a query string decodes). Must hold: no panic and no stack
//! overflow whatever the nesting; a filter longer than `MAX_FILTER_BYTES` is refused; every refusal is a 400
//! `invalidFilter`; a parsed filter evaluates, and `not (f)` evaluates to the opposite of `f`.
#![no_main]

use hcpki::fuzzing::{MAX_FILTER_BYTES, SCIM_USER_FILTER, STAFF_SCHEMA, ScimFilter, ScimListQuery, USER_SCHEMA};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let user = json!({
        "schemas": [USER_SCHEMA, STAFF_SCHEMA],
        "id": "alice", "userName": "alice", "displayName": "Alice", "active": true, "externalId": "HR-1",
        "emails": [{ "type": "work", "value": "a@x.example", "primary": true }],
        STAFF_SCHEMA: { "facility": "HF000000012", "hcRole": "nurse", "passkeys": 1 },
        "meta": { "version": "W/\"1\"", "lastModified": "2026-01-01T00:00:00Z" },
    });
    match ScimFilter::parse(&text) {
        Ok(filter) => {
            assert!(text.len() <= MAX_FILTER_BYTES);
            let hit = filter.matches(&user, &SCIM_USER_FILTER);
            let negated = ScimFilter::Not(Box::new(filter));
            assert_eq!(negated.matches(&user, &SCIM_USER_FILTER), !hit);
        }
        Err(e) => {
            assert_eq!((e.status, e.scim_type.map(|t| t.as_str())), (400, Some("invalidFilter")), "{e:?}");
        }
    }
    // The other list parameters take the same text.
    for name in ["sortBy", "attributes", "excludedAttributes", "startIndex", "count", "sortOrder"] {
        if let Ok(query) = ScimListQuery::parse([(name, text.as_ref())]) {
            let _ = query.respond(vec![user.clone()], &SCIM_USER_FILTER);
        }
    }
});
