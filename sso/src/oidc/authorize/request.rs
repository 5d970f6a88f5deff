//! The parameters of an authorization request once its client and redirect URI are known good (OIDC Core
//! §3.1.2.1, RFC 7636, FAPI 2.0 Security Profile §5.3.2.2): `response_type`, `scope`, the PKCE challenge,
//! `prompt`, `max_age`, `nonce`, `purpose_of_use` (D94) and `dpop_jkt` (RFC 9449 §10) → [`AuthorizationRequest`],
//! or the [`RequestError`] the client is sent back. `/authorize` reads a plain or pushed request with it; `/par`
//! checks PKCE with [`pkce_challenge`] and the DPoP key with [`dpop_jkt`] before keeping a request. Pure: the client, the session and the store are the caller's.

use crate::policy::PurposeOfUse;
use std::collections::HashMap;

/// The request parameter naming the purpose of use (HL7 v3 PurposeOfUse code; `TREAT` when absent, D94).
pub const PURPOSE_PARAM: &str = "purpose_of_use";

/// Length of a base64url SHA-256 code challenge (RFC 7636 §4.2: 32 octets, unpadded).
pub const S256_CHALLENGE_LEN: usize = 43;

/// A request the authorization endpoint may act on. An empty parameter counts as absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationRequest<'a> {
    /// `scope`, as sent; it includes `openid`.
    pub scope: &'a str,
    /// The S256 code challenge ([`S256_CHALLENGE_LEN`] characters).
    pub code_challenge: &'a str,
    /// `prompt`, as sent (space-separated values), empty when absent.
    pub prompt: &'a str,
    /// `max_age` in seconds, when sent.
    pub max_age: Option<i64>,
    /// `nonce`, when sent: it goes into the ID token.
    pub nonce: Option<&'a str>,
    /// `purpose_of_use`: why the person opens the service; treatment when absent.
    pub purpose: PurposeOfUse,
    /// `dpop_jkt`: the thumbprint of the DPoP key the code may only be redeemed with (RFC 9449 §10), when sent.
    pub dpop_jkt: Option<&'a str>,
}

/// Why an authorization request is refused; the client learns it at its redirect URI. The client's developer
/// fixes the request as the message says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// `response_type` is not `code`: only the code flow is offered.
    #[error("only response_type=code is supported")]
    UnsupportedResponseType,
    /// `scope` lacks `openid`: this is an OpenID provider.
    #[error("scope must include openid")]
    NoOpenidScope,
    /// No `code_challenge`: PKCE is required.
    #[error("PKCE is required: send code_challenge with code_challenge_method=S256")]
    NoPkce,
    /// `code_challenge_method` is not `S256`, or the challenge is not a SHA-256 one.
    #[error("code_challenge_method must be S256 (plain is refused)")]
    NotS256,
    /// `max_age` is not a non-negative integer.
    #[error("max_age must be a non-negative integer")]
    BadMaxAge,
    /// `purpose_of_use` is not one of the HL7 v3 PurposeOfUse codes this provider offers.
    #[error(
        "purpose_of_use must be one of TREAT (the default), ETREAT, EMER (break-glass), HOPERAT, HPAYMT, PATRQT (HL7 v3 PurposeOfUse; discovery lists them as purpose_of_use_values_supported)"
    )]
    UnknownPurpose,
    /// `dpop_jkt` is not a base64url SHA-256 JWK thumbprint.
    #[error(
        "dpop_jkt must be the RFC 7638 SHA-256 thumbprint of the client's DPoP public key, base64url without padding (43 characters)"
    )]
    BadDpopJkt,
}

impl RequestError {
    /// The OAuth error code (RFC 6749 §4.1.2.1).
    pub fn code(self) -> &'static str {
        match self {
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::NoOpenidScope => "invalid_scope",
            Self::NoPkce | Self::NotS256 | Self::BadMaxAge | Self::UnknownPurpose | Self::BadDpopJkt => {
                "invalid_request"
            }
        }
    }
}

/// Check `params` (the query, the form, or a pushed request), in the order the errors are reported.
pub fn parse(params: &HashMap<String, String>) -> Result<AuthorizationRequest<'_>, RequestError> {
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    if get("response_type") != Some("code") {
        return Err(RequestError::UnsupportedResponseType);
    }
    let scope = get("scope").unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return Err(RequestError::NoOpenidScope);
    }
    let code_challenge = pkce_challenge(get("code_challenge"), get("code_challenge_method"))?;
    let max_age = match get("max_age").map(str::parse::<i64>) {
        None => None,
        Some(Ok(v)) if v >= 0 => Some(v),
        Some(_) => return Err(RequestError::BadMaxAge),
    };
    let purpose = match get(PURPOSE_PARAM) {
        None => PurposeOfUse::default(),
        Some(code) => PurposeOfUse::from_code(code).ok_or(RequestError::UnknownPurpose)?,
    };
    let dpop_jkt = dpop_jkt(get("dpop_jkt"))?;
    Ok(AuthorizationRequest {
        scope,
        code_challenge,
        prompt: get("prompt").unwrap_or_default(),
        max_age,
        nonce: get("nonce"),
        purpose,
        dpop_jkt,
    })
}

/// The request's `dpop_jkt`, when sent, or why it is refused: an RFC 7638 thumbprint here is always SHA-256
/// in base64url (the hash `cnf.jkt` carries), so anything else could never match a proof's key.
pub fn dpop_jkt(sent: Option<&str>) -> Result<Option<&str>, RequestError> {
    match sent {
        None => Ok(None),
        Some(j)
            if j.len() == S256_CHALLENGE_LEN
                && j.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(Some(j))
        }
        Some(_) => Err(RequestError::BadDpopJkt),
    }
}

/// The S256 code challenge of an authorization request, or why its PKCE parameters are refused: S256 is
/// required (plain, or none at all, is refused; FAPI 2.0 Security Profile §5.3.2.2).
pub fn pkce_challenge<'a>(challenge: Option<&'a str>, method: Option<&str>) -> Result<&'a str, RequestError> {
    match challenge {
        None => Err(RequestError::NoPkce),
        Some(c) if method != Some("S256") || c.len() != S256_CHALLENGE_LEN => Err(RequestError::NotS256),
        Some(c) => Ok(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
    }

    #[test]
    fn a_good_request_parses_with_its_options() {
        let mut pairs = good();
        pairs.extend([("prompt", "login consent"), ("max_age", "0"), ("nonce", "n-0S6")]);
        let p = params(&pairs);
        assert_eq!(
            parse(&p).unwrap(),
            AuthorizationRequest {
                scope: "openid profile",
                code_challenge: CHALLENGE,
                prompt: "login consent",
                max_age: Some(0),
                nonce: Some("n-0S6"),
                purpose: PurposeOfUse::Treat,
                dpop_jkt: None,
            }
        );
        let p = params(&[good().as_slice(), &[("dpop_jkt", CHALLENGE)]].concat());
        assert_eq!(parse(&p).unwrap().dpop_jkt, Some(CHALLENGE), "a thumbprint is the length of a challenge");
        let p = params(&[good().as_slice(), &[("purpose_of_use", "EMER")]].concat());
        assert_eq!(parse(&p).unwrap().purpose, PurposeOfUse::Emer);
        let p = params(&[good().as_slice(), &[("nonce", ""), ("prompt", "")]].concat());
        let request = parse(&p).unwrap();
        assert_eq!((request.prompt, request.max_age, request.nonce), ("", None, None), "empty is absent");
    }

    #[test]
    fn each_refusal_in_order() {
        let with = |key: &str, value: &str| {
            let mut p = params(&good());
            p.insert(key.to_owned(), value.to_owned());
            parse(&p).map(|_| ()).unwrap_err()
        };
        assert_eq!(with("response_type", "token"), RequestError::UnsupportedResponseType);
        assert_eq!(with("scope", "profile openidx"), RequestError::NoOpenidScope);
        assert_eq!(with("code_challenge", ""), RequestError::NoPkce);
        assert_eq!(with("code_challenge_method", "plain"), RequestError::NotS256);
        assert_eq!(with("code_challenge", "short"), RequestError::NotS256);
        assert_eq!(with("max_age", "-1"), RequestError::BadMaxAge);
        assert_eq!(with("max_age", "1e3"), RequestError::BadMaxAge);
        assert_eq!(with("purpose_of_use", "NORM"), RequestError::UnknownPurpose);
        assert_eq!(with("purpose_of_use", "treat"), RequestError::UnknownPurpose);
        assert_eq!(RequestError::UnknownPurpose.code(), "invalid_request");
        assert_eq!(with("dpop_jkt", "short"), RequestError::BadDpopJkt);
        assert_eq!(with("dpop_jkt", &format!("{}=", &CHALLENGE[..42])), RequestError::BadDpopJkt, "padded");
        assert_eq!(with("dpop_jkt", &CHALLENGE.replace('-', "+")), RequestError::BadDpopJkt, "base64, not base64url");
        assert_eq!(RequestError::BadDpopJkt.code(), "invalid_request");
        let mut p = params(&good());
        p.insert("response_type".into(), "id_token".into());
        p.insert("scope".into(), "email".into());
        assert_eq!(parse(&p), Err(RequestError::UnsupportedResponseType), "response_type is checked first");
        assert_eq!(RequestError::NoOpenidScope.code(), "invalid_scope");
        assert_eq!(RequestError::BadMaxAge.code(), "invalid_request");
    }
}
