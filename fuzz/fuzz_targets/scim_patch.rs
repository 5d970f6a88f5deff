//! SCIM PATCH (RFC 7644 §3.5.2, `hcpki_sso::scim::patch`): the `PatchOp` body any SCIM client sends to
//! `/scim/v2/Users/{id}` and `/Groups/{id}`, parsed, applied to a staff account's User resource, and the result
//! read back as the server reads it (`UserInput::parse`, whose refusals say what to fix).
//!
//! The first input byte says what the rest is. Even: the whole body as JSON (lossy UTF-8 of the bytes). Odd: a
//! PATCH path alone (`emails[type eq "work"].value`), wrapped in one `replace` operation. Must hold: no panic;
//! a refused body is a 400 with a `scimType`; a PATCH that applies leaves a JSON object; the account's facility
//! cannot be moved by any PATCH (the read-back refuses another facility).
#![no_main]

use hcpki::fuzzing::{
    STAFF_SCHEMA, ScimPatchPath, ScimUserInput, USER_SCHEMA, apply_scim_patch, parse_scim_patch,
};
use hcpki_ca::facility::FacilityId;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let body: Value = if mode % 2 == 0 {
        match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => return,
        }
    } else {
        if let Err(e) = ScimPatchPath::parse(&text) {
            assert_eq!((e.status, e.scim_type.map(|t| t.as_str())), (400, Some("invalidPath")), "{e:?}");
        }
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": "replace", "path": text, "value": "x" }],
        })
    };
    let ops = match parse_scim_patch(&body) {
        Ok(ops) => ops,
        Err(e) => {
            assert_eq!(e.status, 400, "{e:?}");
            assert!(e.scim_type.is_some(), "{e:?}");
            return;
        }
    };
    let mut user = json!({
        "schemas": [USER_SCHEMA, STAFF_SCHEMA],
        "id": "alice", "userName": "alice", "displayName": "Alice", "active": true,
        "emails": [{ "type": "work", "value": "a@x.example" }],
        STAFF_SCHEMA: { "facility": "HF000000012", "hcRole": "nurse" },
    });
    match apply_scim_patch(&mut user, &ops, USER_SCHEMA) {
        Ok(()) => {
            assert!(user.is_object());
            let facility: FacilityId = "HF000000012".parse().unwrap_or_else(|_| unreachable!());
            if let Ok(input) = ScimUserInput::parse(&user, &facility) {
                let moved = user.get(STAFF_SCHEMA).and_then(|s| s.get("facility")).and_then(Value::as_str);
                assert!(moved.is_none_or(|f| f == "HF000000012"), "another facility read back: {input:?}");
            }
        }
        Err(e) => assert!(e.scim_type.is_some() || e.status == 400, "{e:?}"),
    }
});
