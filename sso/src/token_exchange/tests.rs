//! The pure checks of a token exchange: the form, the subject token's claims, the caller's audiences, the
//! lifetime, and the `act` chain.

use super::*;
use crate::delegation::act::DelegationClaim;

const NOW: i64 = 1_800_000_000;

fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn the_form_names_one_access_token_and_one_service() {
    let ok = form(&[("subject_token", "t"), ("subject_token_type", ACCESS_TOKEN_TYPE), ("audience", "emr")]);
    assert_eq!(parse(&ok), Ok(ExchangeRequest { subject_token: "t".into(), target: "emr".into() }));
    let with = |more: &[(&str, &str)]| {
        let mut f = ok.clone();
        f.extend(form(more));
        parse(&f)
    };
    assert_eq!(with(&[("resource", "emr")]).unwrap().target, "emr");
    assert_eq!(with(&[("resource", "lab")]), Err(ExchangeError::TwoTargets));
    assert_eq!(with(&[("actor_token", "x")]), Err(ExchangeError::ActorToken));
    assert!(matches!(
        with(&[("requested_token_type", "urn:ietf:params:oauth:token-type:id_token")]),
        Err(ExchangeError::RequestedTokenType(_))
    ));
    assert!(matches!(
        with(&[("subject_token_type", "urn:ietf:params:oauth:token-type:jwt")]),
        Err(ExchangeError::SubjectTokenType(_))
    ));
    assert_eq!(
        parse(&form(&[("subject_token", "t"), ("subject_token_type", ACCESS_TOKEN_TYPE)])),
        Err(ExchangeError::NoTarget)
    );
    assert_eq!(parse(&form(&[("audience", "emr")])), Err(ExchangeError::NoSubjectToken));
    // Each maps to its RFC 8693 / RFC 6749 error.
    assert_eq!(ExchangeError::NoTarget.oauth().error, "invalid_target");
    assert_eq!(ExchangeError::NotAllowed.oauth().error, "unauthorized_client");
    assert_eq!(ExchangeError::SubjectToken("x").oauth().error, "invalid_request");
}

#[test]
fn only_a_live_access_token_issued_to_the_caller_is_exchanged() {
    let claims = json!({ "iss": "https://idp", "aud": "portal-app", "exp": NOW + 60, "gid": "g", "scope": "openid",
        "acr": "a", "auth_time": 1, "sub": "s" });
    let got = subject(Some("at+jwt"), &claims, "https://idp", "portal-app", NOW).unwrap();
    assert_eq!((got.gid.as_str(), got.exp, got.act), ("g", NOW + 60, None));
    let refused = |typ: Option<&str>, claims: &Value, caller: &str, now: i64| {
        subject(typ, claims, "https://idp", caller, now).unwrap_err()
    };
    assert!(matches!(refused(Some("JWT"), &claims, "portal-app", NOW), ExchangeError::SubjectToken(_)));
    assert!(
        matches!(refused(Some("at+jwt"), &claims, "other", NOW), ExchangeError::SubjectToken(w) if w.contains("for another client"))
    );
    assert!(
        matches!(refused(Some("at+jwt"), &claims, "portal-app", NOW + 60), ExchangeError::SubjectToken(w) if w.contains("expired"))
    );
}

#[test]
fn only_registered_audiences_and_never_beyond_the_subject_token() {
    assert_eq!(allowed(&[], "emr"), Err(ExchangeError::NotAllowed));
    assert_eq!(allowed(&["lab".into()], "emr"), Err(ExchangeError::Audience("emr".into())));
    assert_eq!(allowed(&["lab".into(), "emr".into()], "emr"), Ok(()));
    assert_eq!(expiry(NOW, 300, NOW + 1000), NOW + EXCHANGED_SECS);
    assert_eq!(expiry(NOW, 60, NOW + 1000), NOW + 60);
    assert_eq!(expiry(NOW, 300, NOW + 30), NOW + 30);
}

#[test]
fn the_chain_keeps_the_delegate_under_the_target_services_subject() {
    let delegate =
        Act::delegate("caller-side".into(), "Clerk".into(), DelegationClaim { id: "d1".parse().unwrap(), exp: 9 });
    let earlier = Act::service("portal-app", Some(delegate));
    let chain = Act::service("emr", Some(re_sector(earlier, "target-side")));
    assert_eq!(chain.depth(), 3);
    assert_eq!(innermost_delegation(&chain).map(|d| d.as_str()), Some("d1"));
    let inner = chain.act.as_ref().and_then(|a| a.act.as_ref()).unwrap();
    assert_eq!((inner.sub.as_deref(), chain.client_id.as_deref()), (Some("target-side"), Some("emr")));
}

/// Issue #42 item 2: a bound subject token is exchanged only with a proof of its key or its certificate, and the
/// token issued is bound the same way; an unbound one is bound to what the caller proved, if anything.
#[test]
fn the_sender_constraint_goes_with_the_token() {
    use sender::{Binding, Possession, SenderError, carried};
    let cert: &[u8] = b"the certificate's DER";
    let x5t = crate::oidc::jws::sha256_b64(cert);
    let key = Binding::of(&json!({ "cnf": { "jkt": "K" } })).unwrap();
    let certificate = Binding::of(&json!({ "cnf": { "x5t#S256": x5t } })).unwrap();
    let bearer = Binding::of(&json!({ "sub": "s" })).unwrap();
    assert_eq!((&key, &bearer), (&Binding::Key("K".into()), &Binding::Bearer));
    for odd in [json!({ "cnf": {} }), json!({ "cnf": { "jkt": "K", "x5t#S256": "T" } }), json!({ "cnf": { "jkt": 1 } })]
    {
        assert_eq!(Binding::of(&odd), Err(SenderError::UnknownBinding), "{odd}");
    }
    let proved =
        |jkt: Option<&'static str>, certificate: Option<&'static [u8]>| Possession { dpop_jkt: jkt, certificate };
    let cnf = |b: &Binding, p: Possession<'_>| carried(b, p).map(|c| serde_json::to_value(c).unwrap());

    // A DPoP-bound token: its key, nothing else.
    assert_eq!(cnf(&key, proved(Some("K"), None)), Ok(json!({ "jkt": "K" })));
    assert_eq!(cnf(&key, proved(None, None)), Err(SenderError::KeyNotProven), "stolen, no key");
    assert_eq!(cnf(&key, proved(Some("other"), None)), Err(SenderError::OtherKey), "stolen, another key");
    assert_eq!(cnf(&key, proved(None, Some(cert))), Err(SenderError::KeyNotProven), "a certificate is no key");
    // A certificate-bound token: its certificate on the connection.
    assert_eq!(cnf(&certificate, proved(None, Some(cert))), Ok(json!({ "x5t#S256": x5t })));
    let stranger: &'static [u8] = b"another certificate";
    for p in [proved(None, None), proved(None, Some(stranger)), proved(Some("K"), None)] {
        assert_eq!(cnf(&certificate, p), Err(SenderError::CertificateNotPresented), "{p:?}");
    }
    // An unbound token: bound to what the caller proved, a bearer token only when it proved nothing.
    assert_eq!(cnf(&bearer, proved(Some("K"), None)), Ok(json!({ "jkt": "K" })));
    assert_eq!(cnf(&bearer, proved(None, Some(cert))), Ok(json!({ "x5t#S256": x5t })));
    assert_eq!(cnf(&bearer, proved(None, None)), Ok(Value::Null));

    // The errors: a missing or wrong proof is RFC 9449's, the rest an unacceptable subject token.
    let code = |e: SenderError| ExchangeError::from(e).oauth().error;
    assert_eq!(
        (code(SenderError::KeyNotProven), code(SenderError::OtherKey)),
        ("invalid_dpop_proof", "invalid_dpop_proof")
    );
    assert_eq!(code(SenderError::CertificateNotPresented), "invalid_request");
    let e = ExchangeError::CallerNotAdmitted { service: "lab".into(), rule: "key", auth: "client_secret_basic" };
    assert_eq!(e.oauth().error, "invalid_target");
    assert!(e.to_string().contains("clients = \"key\""), "{e}");
}
