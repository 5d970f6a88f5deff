//! The JSON the token endpoint writes: the access token's and the ID token's claims and the token response, as
//! typed structs serialized straight to bytes. They replaced `json!` maps, which allocated every key and value
//! and cloned the grant's fields on each exchange (issue #6: CPU per exchange). Members are declared in key
//! order, the order the `serde_json::Value` maps wrote them in, so the payloads are unchanged; only the service
//! claims of an ID token now follow its own claims instead of being sorted among them.

use super::break_glass::BreakGlassClaim;
use crate::policy::PurposeOfUse;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

/// An RFC 9068 access token's claims (`typ` `at+jwt`).
#[derive(Debug, Serialize)]
pub struct AccessClaims<'a> {
    /// How strong the login was.
    pub acr: &'a str,
    /// Who acts for `sub` (RFC 8693 §4.1): a delegate acting for a physician (D95) or a service calling another
    /// on the user's behalf (token exchange, D96), the latest actor outermost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<&'a serde_json::Value>,
    /// The client: the only resource server of its own tokens.
    pub aud: &'a str,
    /// When the user logged in.
    pub auth_time: i64,
    /// Break-glass (purpose `EMER` confirmed with a reason, D94), when the grant was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlassClaim>,
    /// The client.
    pub client_id: &'a str,
    /// The token's binding: the client certificate (RFC 8705 §3), when the client called over mutual TLS, or
    /// the DPoP key (RFC 9449 §6), when the client proved one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// The patient's consent this token is for (issue #28 step 7: the client named it at the token endpoint), in
    /// hcpki's words, with its evidence level (a physician's attestation is weaker).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<serde_json::Value>,
    /// The patient-presence proof the token was issued on (issue #49, D148: the client sent it and the token
    /// endpoint spent it): its `jti`, the patient reference (`sub`), facility, role, method and time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_presence: Option<serde_json::Value>,
    /// Expiry.
    pub exp: i64,
    /// IHE's extensions: IUA's claims (`ihe_iua`, when the service lists the claim, D93) and the consent as
    /// BPPC's (`ihe_bppc`: patient_id, doc_id, acp), side by side in one object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<serde_json::Value>,
    /// The grant, so that revoking it revokes the token (introspection, userinfo).
    pub gid: &'a str,
    /// Issued at.
    pub iat: i64,
    /// The issuer.
    pub iss: &'a str,
    /// The token's own id.
    pub jti: String,
    /// Why the person opens the service (the authorization request's `purpose_of_use`, HL7 v3 code, D94):
    /// hcpki's own claim, in every access token.
    pub purpose_of_use: PurposeOfUse,
    /// Granted scope.
    pub scope: &'a str,
    /// Pairwise subject.
    pub sub: &'a str,
}

/// `cnf` of a bound access token: to a certificate (RFC 8705 §3.1) or a DPoP key (RFC 9449 §6.1), never both.
#[derive(Debug, Serialize)]
pub struct Confirmation {
    /// RFC 7638 thumbprint (base64url SHA-256) of the DPoP key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    /// base64url SHA-256 of the client certificate's DER.
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
}

impl Confirmation {
    /// The binding to a client certificate (DER).
    pub fn certificate(der: &[u8]) -> Self {
        Self { jkt: None, x5t_s256: Some(super::jws::sha256_b64(der)) }
    }

    /// The binding to a DPoP key, by its RFC 7638 thumbprint.
    pub fn dpop(jkt: &str) -> Self {
        Self { jkt: Some(jkt.to_owned()), x5t_s256: None }
    }
}

/// An ID token's claims (OIDC Core §2) and the service's claims from the policy.
#[derive(Debug, Serialize)]
pub struct IdClaims<'a> {
    /// How strong the login was.
    pub acr: &'a str,
    /// How the user authenticated.
    pub amr: &'a Value,
    /// Left half of the access token's SHA-256 (OIDC Core §3.3.2.11), when one goes with the ID token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The client.
    pub aud: &'a str,
    /// When the user logged in.
    pub auth_time: i64,
    /// The client.
    pub azp: &'a str,
    /// Break-glass (D94), when the grant was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlassClaim>,
    /// Expiry.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// The issuer.
    pub iss: &'a str,
    /// The authorization request's nonce, if it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    /// The session as clients know it.
    pub sid: &'a str,
    /// Pairwise subject.
    pub sub: &'a str,
    /// The service's claims (`GrantData::claims`).
    #[serde(flatten)]
    pub service: ServiceClaims<'a>,
}

/// The service's claims of a grant, a JSON object; a member named like one of the ID token's own claims is
/// left out (the token's own value stands, as it did when the service's claims were merged into the map).
#[derive(Debug)]
pub struct ServiceClaims<'a>(pub &'a Value);

/// The members of [`IdClaims`] besides the service's claims.
const ID_CLAIMS: [&str; 13] =
    ["acr", "amr", "at_hash", "aud", "auth_time", "azp", "break_glass", "exp", "iat", "iss", "nonce", "sid", "sub"];

impl Serialize for ServiceClaims<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.0.as_object().into_iter().flatten() {
            if !ID_CLAIMS.contains(&name.as_str()) {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

/// The token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Serialize)]
pub struct TokenResponse<'a> {
    /// The access token.
    pub access_token: &'a str,
    /// The access token's lifetime in seconds.
    pub expires_in: i64,
    /// The ID token.
    pub id_token: &'a str,
    /// The refresh token.
    pub refresh_token: &'a str,
    /// Granted scope.
    pub scope: &'a str,
    /// `Bearer`, or `DPoP` for a token bound to a DPoP key (RFC 9449 §5).
    pub token_type: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn access(cnf: Option<Confirmation>) -> AccessClaims<'static> {
        AccessClaims {
            acr: "urn:hcpki:acr:card",
            act: None,
            aud: "rp",
            auth_time: 10,
            break_glass: None,
            client_id: "rp",
            cnf,
            exp: 400,
            gid: "g1",
            iat: 100,
            iss: "https://idp.example",
            jti: "j".into(),
            purpose_of_use: PurposeOfUse::Treat,
            scope: "openid",
            sub: "s",
            patient_presence: None,
            extensions: None,
            consent: None,
        }
    }

    /// The exact bytes: members in key order, `cnf` absent (not null) without a client certificate.
    #[test]
    fn access_token_claims_are_the_map_they_replaced() {
        let text = serde_json::to_string(&access(None)).unwrap();
        assert_eq!(
            text,
            r#"{"acr":"urn:hcpki:acr:card","aud":"rp","auth_time":10,"client_id":"rp","exp":400,"gid":"g1","iat":100,"iss":"https://idp.example","jti":"j","purpose_of_use":"TREAT","scope":"openid","sub":"s"}"#
        );
        let bound = access(Some(Confirmation { jkt: None, x5t_s256: Some("T".into()) }));
        let value = serde_json::to_value(&bound).unwrap();
        assert_eq!(value["cnf"], json!({ "x5t#S256": "T" }));
        let dpop = serde_json::to_value(access(Some(Confirmation { jkt: Some("K".into()), x5t_s256: None }))).unwrap();
        assert_eq!(dpop["cnf"], json!({ "jkt": "K" }));
        // Byte for byte what the `json!` map wrote (its keys sorted).
        assert_eq!(serde_json::to_string(&bound).unwrap(), value.to_string());
    }

    fn id<'a>(amr: &'a Value, service: &'a Value, nonce: Option<&'a str>, at_hash: Option<String>) -> IdClaims<'a> {
        IdClaims {
            acr: "urn:hcpki:acr:card",
            amr,
            at_hash,
            aud: "rp",
            auth_time: 10,
            azp: "rp",
            break_glass: None,
            exp: 400,
            iat: 100,
            iss: "https://idp.example",
            nonce,
            sid: "sid1",
            sub: "s",
            service: ServiceClaims(service),
        }
    }

    /// Optional claims are absent, not null; without service claims the bytes are the sorted map's.
    #[test]
    fn id_token_claims_leave_out_what_is_absent() {
        let amr = json!(["hwk", "pin"]);
        let none = json!({});
        let text = serde_json::to_string(&id(&amr, &none, None, None)).unwrap();
        assert_eq!(
            text,
            r#"{"acr":"urn:hcpki:acr:card","amr":["hwk","pin"],"aud":"rp","auth_time":10,"azp":"rp","exp":400,"iat":100,"iss":"https://idp.example","sid":"sid1","sub":"s"}"#
        );
        let full = id(&amr, &none, Some("n"), Some("h".into()));
        let value = serde_json::to_value(&full).unwrap();
        assert_eq!((&value["nonce"], &value["at_hash"]), (&json!("n"), &json!("h")));
        assert_eq!(serde_json::to_string(&full).unwrap(), value.to_string());
    }

    /// The service's claims are added; one named like the token's own claim does not replace it.
    #[test]
    fn service_claims_never_override_the_tokens_own() {
        let amr = json!(["pwd", "otp"]);
        let service = json!({ "name": "Bench User", "facility_id": "1310000001", "sub": "forged", "nonce": "x" });
        let value = serde_json::to_value(id(&amr, &service, None, None)).unwrap();
        assert_eq!((&value["name"], &value["facility_id"]), (&json!("Bench User"), &json!("1310000001")));
        assert_eq!(value["sub"], "s");
        assert!(value.get("nonce").is_none(), "no nonce in the request, none in the token: {value}");
        assert_eq!(value.as_object().unwrap().len(), 12);
    }

    #[test]
    fn token_response_is_the_map_it_replaced() {
        let response = TokenResponse {
            access_token: "a",
            expires_in: 300,
            id_token: "i",
            refresh_token: "r",
            scope: "openid",
            token_type: "Bearer",
        };
        assert_eq!(
            serde_json::to_string(&response).unwrap(),
            r#"{"access_token":"a","expires_in":300,"id_token":"i","refresh_token":"r","scope":"openid","token_type":"Bearer"}"#
        );
    }
}
