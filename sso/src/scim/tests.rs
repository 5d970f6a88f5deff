//! The SCIM core's parsers and pure functions: the filter grammar and its error paths, PATCH and its error
//! paths, listing, versions. The store-backed calls are covered by the integration tests (`scim::`).

use super::error::ScimType;
use super::filter::{CompValue, CompareOp, Filter, MAX_DEPTH};
use super::list::ListQuery;
use super::patch::{self, PatchPath};
use super::version;
use super::{USER_FILTER, user};
use serde_json::{Value, json};

fn alice() -> Value {
    json!({
        "schemas": [user::USER_SCHEMA, user::STAFF_SCHEMA],
        "id": "alice",
        "userName": "alice",
        "displayName": "Alice Sato",
        "active": true,
        "externalId": "HR-001",
        "emails": [
            { "type": "work", "value": "alice@clinic.example", "primary": true },
            { "type": "home", "value": "alice@home.example" },
        ],
        "name": { "formatted": "Alice Sato", "familyName": "Sato" },
        user::STAFF_SCHEMA: { "facility": "F1", "hcRole": "00", "passkeys": 2 },
        "meta": { "lastModified": "2026-11-01T00:00:00Z" },
    })
}

fn matches(filter: &str) -> bool {
    Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(&alice(), &USER_FILTER)
}

fn refused(filter: &str) -> String {
    let e = Filter::parse(filter).expect_err(filter);
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{filter}: {e:?}");
    assert_eq!(e.status, 400);
    e.detail
}

#[test]
fn the_rfc_examples_parse() {
    // RFC 7644 §3.4.2.2's example filters.
    for f in [
        r#"userName Eq "john""#,
        r#"Username eq "john""#,
        r#"name.familyName co "O'Malley""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"title pr"#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"title pr and userType eq "Employee""#,
        r#"title pr or userType eq "Intern""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    ] {
        Filter::parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
}

#[test]
fn precedence_is_not_then_and_then_or() {
    let f = Filter::parse(r#"a pr or b pr and c pr"#).unwrap();
    assert!(matches!(f, Filter::Or(_, ref right) if matches!(**right, Filter::And(_, _))), "{f:?}");
    let f = Filter::parse(r#"not (a pr) and b pr"#).unwrap();
    assert!(matches!(f, Filter::And(ref left, _) if matches!(**left, Filter::Not(_))), "{f:?}");
}

#[test]
fn values_and_operators_read() {
    let f = Filter::parse("x GE 3.5").unwrap();
    assert_eq!(
        f,
        Filter::Compare {
            path: super::path::AttrPath::parse("x").unwrap(),
            op: CompareOp::Ge,
            value: CompValue::Num(3.5)
        }
    );
    let f = Filter::parse(r#"x eq "a \"quoted\" \u00e9""#).unwrap();
    assert!(matches!(f, Filter::Compare { value: CompValue::Str(ref s), .. } if s == "a \"quoted\" é"));
    assert!(matches!(Filter::parse("x eq null").unwrap(), Filter::Compare { value: CompValue::Null, .. }));
}

#[test]
fn evaluation_follows_the_resource() {
    assert!(matches(r#"userName eq "ALICE""#), "userName is not caseExact");
    assert!(!matches(r#"externalId eq "hr-001""#), "externalId is caseExact");
    assert!(matches(r#"externalId eq "HR-001""#));
    assert!(matches(r#"displayName sw "alice" and displayName ew "SATO""#));
    assert!(matches(r#"name.familyName co "at""#));
    assert!(matches(r#"emails co "clinic""#), "a multi-valued attribute matches by any value");
    assert!(matches(r#"emails[type eq "work" and value ew "clinic.example"]"#));
    assert!(!matches(r#"emails[type eq "home" and value ew "clinic.example"]"#));
    assert!(matches(r#"urn:hcpki:params:scim:schemas:extension:staff:2.0:User:hcRole eq "00""#));
    assert!(matches(r#"urn:hcpki:params:scim:schemas:extension:staff:2.0:User:passkeys ge 2"#));
    assert!(matches(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice""#));
    assert!(matches(r#"active eq true and not (active eq false)"#));
    assert!(matches(r#"title ne "x""#), "ne holds for an absent attribute");
    assert!(!matches("title pr"));
    assert!(matches("title eq null"));
    assert!(matches(r#"meta.lastModified gt "2026-01-01T00:00:00Z""#));
    assert!(!matches(r#"userName gt 3"#), "a string never compares with a number");
}

#[test]
fn malformed_filters_are_invalid_filter_errors() {
    for (filter, says) in [
        ("", "ends where an expression"),
        ("userName", "add an operator"),
        (r#"userName xx "a""#, "not an operator"),
        (r#"userName eq"#, "where a value was expected"),
        (r#"userName eq alice"#, "quote strings"),
        (r#"userName eq "alice"#, "not closed"),
        (r#"(userName eq "a""#, "parenthesis is not closed"),
        (r#"userName eq "a")"#, "unexpected"),
        (r#"not userName eq "a""#, "not (…)"),
        (r#"emails[type eq "work""#, "value filter is not closed"),
        (r#"emails[type[x pr]]"#, "cannot hold another"),
        (r#"emails.value[type pr]"#, "not a sub-attribute"),
        (r#"1abc pr"#, "not an attribute name"),
        (r#"http://x:y pr"#, "urn: URI"),
        (r#"active gt true"#, "eq or ne only"),
        (r#"a pr and"#, "ends where an expression"),
        (r#"a pr or or b pr"#, "not an operator"),
        (r#"a pr or ) "#, "where an attribute"),
        (r#"userName eq "\x""#, "not a JSON string"),
    ] {
        let detail = refused(filter);
        assert!(detail.contains(says), "{filter:?}: {detail:?} lacks {says:?}");
    }
}

#[test]
fn deep_or_long_filters_are_refused_before_they_cost() {
    let deep = format!("{}a pr{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert!(refused(&deep).contains("deeper"));
    let nots = format!("{}a pr{}", "not (".repeat(10_000), ")".repeat(10_000));
    assert!(refused(&nots).contains("longer") || refused(&nots).contains("deeper"));
    let ok = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    Filter::parse(&ok).unwrap();
}

fn patch_body(ops: Value) -> Value {
    json!({ "schemas": [patch::PATCH_SCHEMA], "Operations": ops })
}

fn patched(ops: Value) -> Result<Value, super::error::ScimError> {
    let ops = patch::parse(&patch_body(ops))?;
    let mut r = alice();
    patch::apply(&mut r, &ops, user::USER_SCHEMA)?;
    Ok(r)
}

#[test]
fn patch_operations_apply() {
    let r = patched(json!([{ "op": "replace", "path": "active", "value": false }])).unwrap();
    assert_eq!(r["active"], false);
    let r = patched(json!([{ "op": "Replace", "value": { "displayName": "A. Sato", "active": false } }])).unwrap();
    assert_eq!((r["displayName"].as_str(), r["active"].as_bool()), (Some("A. Sato"), Some(false)));
    let r =
        patched(json!([{ "op": "add", "path": "emails", "value": [{ "type": "other", "value": "a@b.c" }] }])).unwrap();
    assert_eq!(r["emails"].as_array().unwrap().len(), 3);
    let r = patched(json!([{ "op": "remove", "path": r#"emails[type eq "home"]"# }])).unwrap();
    assert_eq!(r["emails"].as_array().unwrap().len(), 1);
    let r =
        patched(json!([{ "op": "replace", "path": r#"emails[type eq "work"].value"#, "value": "new@x.y" }])).unwrap();
    assert_eq!(r["emails"][0]["value"], "new@x.y");
    let r = patched(json!([{ "op": "replace", "path": "name.familyName", "value": "Suzuki" }])).unwrap();
    assert_eq!(r["name"]["familyName"], "Suzuki");
    let r = patched(json!([{ "op": "remove", "path": "name.familyName" }])).unwrap();
    assert!(r["name"].get("familyName").is_none());
    let path = format!("{}:hcRole", user::STAFF_SCHEMA);
    let r = patched(json!([{ "op": "replace", "path": path, "value": "01" }])).unwrap();
    assert_eq!(r[user::STAFF_SCHEMA]["hcRole"], "01");
    let r = patched(json!([{ "op": "add", "value": { user::STAFF_SCHEMA: { "hcRole": "02" } } }])).unwrap();
    assert_eq!(r[user::STAFF_SCHEMA]["hcRole"], "02");
    assert_eq!(r[user::STAFF_SCHEMA]["facility"], "F1", "an add without a path merges into the extension");
}

#[test]
fn malformed_patches_are_scim_errors() {
    let cases: Vec<(Value, ScimType, &str)> = vec![
        (json!({ "Operations": [] }), ScimType::InvalidSyntax, "schemas is missing"),
        (json!({ "schemas": ["x"], "Operations": [] }), ScimType::InvalidSyntax, "must name"),
        (patch_body(json!([])), ScimType::InvalidSyntax, "empty"),
        (patch_body(json!("x")), ScimType::InvalidSyntax, "Operations is missing"),
        (patch_body(json!([{ "op": "move", "path": "a" }])), ScimType::InvalidSyntax, "not add, remove or replace"),
        (patch_body(json!([{ "path": "a" }])), ScimType::InvalidSyntax, "op is missing"),
        (patch_body(json!([{ "op": "remove" }])), ScimType::NoTarget, "needs a path"),
        (patch_body(json!([{ "op": "add", "path": "a" }])), ScimType::InvalidValue, "needs a value"),
        (patch_body(json!([{ "op": "add", "value": 3 }])), ScimType::InvalidValue, "object of attributes"),
        (patch_body(json!([{ "op": "add", "path": 3, "value": 1 }])), ScimType::InvalidPath, "must be a string"),
        (
            patch_body(json!([{ "op": "add", "path": "9x", "value": 1 }])),
            ScimType::InvalidPath,
            "not an attribute name",
        ),
        (
            patch_body(json!([{ "op": "add", "path": "emails[type eq", "value": 1 }])),
            ScimType::InvalidPath,
            "not closed",
        ),
        (
            patch_body(json!([{ "op": "add", "path": "emails[type zz 1]", "value": 1 }])),
            ScimType::InvalidPath,
            "not an operator",
        ),
        (
            patch_body(json!([{ "op": "add", "path": "emails[type pr]x", "value": 1 }])),
            ScimType::InvalidPath,
            "subAttribute",
        ),
        (
            patch_body(json!([{ "op": "add", "path": "a.b[type pr]", "value": 1 }])),
            ScimType::InvalidPath,
            "not a sub-attribute",
        ),
        (patch_body(json!(vec![json!({ "op": "remove", "path": "a" }); 101])), ScimType::TooMany, "at most 100"),
    ];
    for (body, kind, says) in cases {
        let e = patch::parse(&body).expect_err(&body.to_string());
        assert_eq!(e.scim_type, Some(kind), "{body}: {e:?}");
        assert!(e.detail.contains(says), "{body}: {:?} lacks {says:?}", e.detail);
        assert_eq!(e.body()["scimType"], kind.as_str());
    }
    let e = patched(json!([{ "op": "remove", "path": r#"emails[type eq "fax"]"# }])).expect_err("no fax");
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
    let e = patched(json!([{ "op": "replace", "path": r#"phoneNumbers[type eq "work"]"#, "value": "1" }]))
        .expect_err("none");
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
    assert!(PatchPath::parse(r#"members[value eq "x"]"#).is_ok());
}

#[test]
fn read_only_paths_are_mutability_errors() {
    for path in ["id", "userName", "meta.version", &format!("{}:facility", user::STAFF_SCHEMA)] {
        let e = user::check_patch_path(&PatchPath::parse(path).unwrap().attr).expect_err(path);
        assert_eq!(e.scim_type, Some(ScimType::Mutability), "{path}");
    }
    user::check_patch_path(&PatchPath::parse("displayName").unwrap().attr).unwrap();
}

#[test]
fn lists_filter_sort_and_page() {
    let people: Vec<Value> = ["carol", "alice", "bob", "dave"]
        .iter()
        .enumerate()
        .map(|(i, n)| json!({ "id": n, "userName": n, "active": i % 2 == 0 }))
        .collect();
    let query = ListQuery::parse([("sortBy", "userName"), ("startIndex", "2"), ("count", "2")]).unwrap();
    let page = query.respond(people.clone(), &USER_FILTER);
    assert_eq!(page["totalResults"], 4);
    assert_eq!(page["itemsPerPage"], 2);
    let names: Vec<&str> = page["Resources"].as_array().unwrap().iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(names, ["bob", "carol"]);
    let query =
        ListQuery::parse([("filter", "active eq true"), ("sortBy", "userName"), ("sortOrder", "descending")]).unwrap();
    let page = query.respond(people.clone(), &USER_FILTER);
    let names: Vec<&str> = page["Resources"].as_array().unwrap().iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(names, ["carol", "bob"]);
    let query = ListQuery::parse([("startIndex", "-4"), ("count", "0")]).unwrap();
    let page = query.respond(people, &USER_FILTER);
    assert_eq!(
        (page["startIndex"].as_u64(), page["itemsPerPage"].as_u64(), page["totalResults"].as_u64()),
        (Some(1), Some(0), Some(4))
    );
    for (name, value) in [("count", "x"), ("sortOrder", "up"), ("sortBy", "9"), ("attributes", "a,,9b")] {
        let e = ListQuery::parse([(name, value)]).expect_err(name);
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{name}");
    }
    let trimmed = ListQuery::parse([("attributes", "userName")]).unwrap().trim(alice(), user::USER_SCHEMA);
    assert!(trimmed.get("displayName").is_none() && trimmed.get("id").is_some() && trimmed.get("userName").is_some());
}

#[test]
fn versions_change_with_the_resource_and_if_match_checks_them() {
    let mut a = alice();
    version::stamp(&mut a, json!({}));
    let v = version::current(&a).unwrap().to_owned();
    assert!(v.starts_with("W/\""));
    let mut b = alice();
    b["displayName"] = json!("Changed");
    version::stamp(&mut b, json!({}));
    assert_ne!(version::current(&b), Some(v.as_str()));
    version::check_if_match(None, &a).unwrap();
    version::check_if_match(Some("*"), &a).unwrap();
    version::check_if_match(Some(&v), &a).unwrap();
    version::check_if_match(Some(v.trim_start_matches("W/")), &a).unwrap();
    let e = version::check_if_match(Some(&v), &b).unwrap_err();
    assert_eq!(e.status, 412);
}
