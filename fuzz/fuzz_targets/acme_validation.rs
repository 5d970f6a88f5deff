//! ACME's payload parsing and challenge checks after the JWS (which `acme_jws` covers):
//! `hcpki_ca::enroll::acme::payload` (the payload object, newOrder's identifiers, finalize's base64url CSR and
//! the names it must request, an account's contacts), `order::name_request` (the identifiers as a router's or a
//! PC's name request under the account's facility domain), the http-01 and tls-alpn-01 checks of what a
//! client's server answered, and `order::AuthzId`/`ChallengeId` (the authorization and challenge IDs in URLs).
//!
//! The first input byte says what the rest is: 0 (mod 4) a request payload, read as newOrder, finalize and
//! account payloads all at once; 1 an http-01 response body; 2 a tls-alpn-01 certificate (DER) for
//! `IDENTIFIER`; 3 an ID from a URL. `seeds/make-request-seeds` writes the seeds.
//!
//! Must hold: no panic; an empty payload is POST-as-GET and a parsed one an object; accepted identifiers are 1
//! to 20 distinct lowercase DNS names, and the payload had no notBefore/notAfter; a PC name request is exactly
//! `<device>.<domain>` with a one-label device, a router's names all lie in the domain; a CSR whose names match
//! the identifiers matches them in any order and no longer matches with one of them left out; contacts are
//! `mailto:` URLs of at most 256 bytes, as many as sent; an accepted http-01 body is the key authorization
//! (trailing whitespace aside); an accepted tls-alpn-01 certificate is refused for another identifier or key
//! authorization; a parsed authorization or challenge ID is written back as the very text it was read from.
#![no_main]

use hcpki_ca::enroll::acme::challenge::{check_http01, check_tls_alpn01};
use hcpki_ca::enroll::acme::order::{AuthzId, ChallengeId, name_request};
use hcpki_ca::enroll::acme::payload::{
    MAX_CONTACT_LEN, MAX_IDENTIFIERS, check_csr_names, contacts, finalize_csr, object, order_identifiers,
};
use hcpki_ca::profile::ProfileKind;
use libfuzzer_sys::fuzz_target;

/// The account's facility domain (`<facility-id>.<router zone>`); the seeds' p256 CSR names it.
const DOMAIN: &str = "hf00000017k.router.hcpki.example";
const IDENTIFIER: &str = "gw1.hf00000017k.router.hcpki.example";
const KEY_AUTHORIZATION: &str =
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 4 {
        0 => payload(rest),
        1 => {
            if check_http01(rest, KEY_AUTHORIZATION).is_ok() {
                let text = std::str::from_utf8(rest).expect("accepted a body that is not UTF-8");
                assert_eq!(text.trim_end(), KEY_AUTHORIZATION);
            }
        }
        2 => {
            if check_tls_alpn01(rest, IDENTIFIER, KEY_AUTHORIZATION).is_ok() {
                assert!(check_tls_alpn01(rest, DOMAIN, KEY_AUTHORIZATION).is_err(), "good for another identifier");
                assert!(check_tls_alpn01(rest, IDENTIFIER, "x.y").is_err(), "good for another key authorization");
            }
        }
        _ => {
            let id = String::from_utf8_lossy(rest);
            if let Some(authz) = AuthzId::parse(&id) {
                assert_eq!(authz.to_string(), id, "an authorization ID read from another text");
                assert!(ChallengeId::parse(&id).is_none(), "{id:?} read as an authorization and a challenge");
            }
            if let Some(chall) = ChallengeId::parse(&id) {
                assert_eq!(chall.to_string(), id, "a challenge ID read from another text");
            }
        }
    }
});

fn payload(bytes: &[u8]) {
    let value = match object(bytes) {
        Ok(Some(value)) => value,
        Ok(None) => {
            assert!(bytes.is_empty(), "a non-empty payload read as POST-as-GET");
            return;
        }
        Err(_) => return,
    };
    assert!(value.is_object());
    if let Ok(sent) = contacts(&value) {
        let count = value.get("contact").and_then(|c| c.as_array()).map_or(0, Vec::len);
        assert_eq!(sent.len(), count, "contacts dropped or added");
        assert!(sent.iter().all(|c| c.starts_with("mailto:") && c.len() <= MAX_CONTACT_LEN), "{sent:?}");
    }
    let identifiers = order_identifiers(&value);
    if let Ok(ids) = &identifiers {
        check_identifiers(&value, ids);
    }
    if let (Ok(ids), Ok(csr)) = (&identifiers, finalize_csr(&value))
        && check_csr_names(&csr, ids).is_ok()
    {
        let reversed: Vec<String> = ids.iter().rev().cloned().collect();
        assert!(check_csr_names(&csr, &reversed).is_ok(), "the identifiers' order matters");
        for left_out in 0..ids.len() {
            let mut fewer = ids.clone();
            fewer.remove(left_out);
            assert!(check_csr_names(&csr, &fewer).is_err(), "the CSR matches without {}", ids[left_out]);
        }
    }
}

/// Accepted identifiers, and the name requests made of them.
fn check_identifiers(value: &serde_json::Value, ids: &[String]) {
    assert!(value.get("notBefore").is_none() && value.get("notAfter").is_none());
    assert!((1..=MAX_IDENTIFIERS).contains(&ids.len()), "{} identifiers", ids.len());
    for (i, id) in ids.iter().enumerate() {
        assert!(!ids[..i].contains(id), "{id} twice");
        let labels_ok = id.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
        assert!(labels_ok && id.len() <= 253, "not a lowercase DNS name: {id:?}");
    }
    if let Ok((names, device)) = name_request(ProfileKind::Pc, DOMAIN, ids) {
        let device = device.expect("a PC name request names its device");
        assert_eq!(names, ids);
        assert_eq!(ids, [format!("{device}.{DOMAIN}")], "not <device>.<domain>");
        assert!(!device.contains('.'), "device {device:?}");
    }
    if let Ok((names, device)) = name_request(ProfileKind::Router, DOMAIN, ids) {
        assert_eq!((names.as_slice(), device), (ids, None));
        let suffix = format!(".{DOMAIN}");
        assert!(ids.iter().all(|n| n == DOMAIN || n.ends_with(&suffix)), "outside the facility: {ids:?}");
    }
}
