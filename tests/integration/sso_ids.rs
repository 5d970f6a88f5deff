//! Typed ids on the SSO side (issue #43 item 3, D140), as attacks: a consent's, a signing request's or a
//! delegation's id and an OpenID Connect client's id are parsed where a request names them, and a text that is
//! none (a dot, a space, a slash's escape, non-ASCII, 65 characters) is refused there as malformed: 400 in the
//! protocol's error form — the APIs' OAuth JSON (`invalid_request`), the portal's refusal page in the page's
//! language, `/authorize`'s error page, the delegation page's refusal, audited — never looked up, never 404 or
//! 500, and never put in a sign-in's return address. A well-formed id that names nothing is answered as before.

use crate::harness::Backend;
use crate::oidc::{PASSWORD, Portal, REDIRECT, challenge, enc, totp};
use crate::portal_card::field;
use serde_json::Value;

on_both_backends!(malformed_ids_are_refused_where_they_enter);

/// Ids no part of hcpki makes, as a URL path segment carries them.
const MALFORMED: [&str; 4] =
    ["a.b", "%20c1", "%E5%90%8C%E6%84%8F", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"];

fn malformed_ids_are_refused_where_they_enter(b: Backend) {
    let p = Portal::start(b);

    // The consent and signing-request APIs: OAuth JSON, before any client authentication.
    for api in ["/api/v1/consents", "/api/v1/signing-requests"] {
        for bad in MALFORMED {
            let r = p.get(&format!("{api}/{bad}"));
            let e: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{api}/{bad}: {r:?}"));
            assert_eq!((r.status, e["error"].as_str()), (400, Some("invalid_request")), "{api}/{bad}: {e}");
            let said = e["error_description"].as_str().unwrap();
            assert!(said.contains("the id the portal gave"), "{api}/{bad}: {said}");
            let r = p.submit(&format!("{api}/{bad}"), &[("client_id", "rp1")], None);
            assert_eq!(r.status, 400, "POST {api}/{bad}: {r:?}");
        }
        // Well-formed: on to client authentication, refused as before (no credentials).
        let r = p.get(&format!("{api}/c1"));
        assert_eq!(r.status, 401, "{api}/c1: {r:?}");
    }

    // The portal's pages: the refusal page, 400, in Japanese and in English (the language switch's cookie
    // remembers the last choice, so each is asked for); no sign-in redirect.
    for page in ["/consent", "/sign"] {
        for bad in MALFORMED {
            for suffix in ["", "/document"] {
                let path = format!("{page}/{bad}{suffix}");
                let r = p.get(&format!("{path}?lang=ja"));
                assert_eq!((r.status, r.location.as_str()), (400, ""), "{path}: {r:?}");
                assert!(r.body.contains("ID が正しくありません"), "{path}: {}", r.body);
                let r = p.get(&format!("{path}?lang=en"));
                assert!(r.status == 400 && r.body.contains("the id the portal gave"), "{path}?lang=en: {r:?}");
            }
            let r = p.submit(&format!("{page}/{bad}"), &[("csrf", "x"), ("action", "refuse")], None);
            assert_eq!(r.status, 400, "POST {page}/{bad}: {r:?}");
        }
        // Well-formed and unknown: the sign-in first, as before.
        let r = p.get(&format!("{page}/c1"));
        assert_eq!(r.status, 303, "{page}/c1: {r:?}");
    }

    // A client id that is none: the token endpoint's 400 invalid_request (not 401 as an unknown client), and
    // /authorize's error page naming the rule, audited.
    for bad in ["a b", "\u{3042}", &"c".repeat(129)] {
        let form = format!("grant_type=authorization_code&code=x.y&client_id={}", enc(bad));
        let r = p.curl(&["--data", &form, &format!("{}/token", p.issuer)]);
        let e: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}"));
        assert_eq!((r.status, e["error"].as_str()), (400, Some("invalid_request")), "{bad:?}: {e}");
        assert!(e["error_description"].as_str().unwrap().contains("printable ASCII"), "{e}");
    }
    let r =
        p.curl(&["--data", "grant_type=authorization_code&code=x.y&client_id=nobody", &format!("{}/token", p.issuer)]);
    assert_eq!(r.status, 401, "a well-formed unknown client is still unknown: {r:?}");
    let authorize = format!(
        "/authorize?response_type=code&client_id=a%20b&scope=openid&redirect_uri={}&code_challenge={}\
         &code_challenge_method=S256",
        enc(REDIRECT),
        challenge(&"w".repeat(60))
    );
    let r = p.get(&authorize);
    assert_eq!((r.status, r.location.as_str()), (400, ""), "an error page, no redirect: {r:?}");
    assert!(r.body.contains("printable ASCII") && r.body.contains("(invalid_request)"), "{r:?}");
    let entry = denied(&p, "oidc.authorize").pop().unwrap();
    assert_eq!(entry["target"], "a b", "{entry}");

    // The delegation page's forms: refused with the page's words, 400, audited with the text as sent.
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let csrf = field(&p.get("/").body, "csrf");
    for (form, action) in [("/delegations/end", "delegation.end"), ("/delegations/act", "delegation.choose")] {
        let r = p.submit(&format!("{form}?lang=ja"), &[("csrf", &csrf), ("delegation", "d 1")], None);
        assert_eq!(r.status, 400, "{form}: {r:?}");
        assert!(r.body.contains("代理 ID が正しくありません"), "{form}: {}", r.body);
        let entry = denied(&p, action).pop().unwrap_or_else(|| panic!("{action} not audited"));
        assert_eq!((&entry["target"], &entry["detail"]["error"]), (&Value::from("d 1"), &Value::from("malformed-id")));
    }
    // A well-formed id that is no delegation of hers: the refusal it always was.
    let r = p.submit("/delegations/end?lang=ja", &[("csrf", &csrf), ("delegation", "d1")], None);
    assert!(r.status == 400 && r.body.contains("あなたの設定したものではありません"), "{r:?}");
}

fn denied(p: &Portal, action: &str) -> Vec<Value> {
    p.h.audit_entries().into_iter().filter(|e| e["action"] == action && e["outcome"] == "denied").collect()
}
