//! Accounts: newAccount with External Account Binding (RFC 8555 §7.3, §7.3.4), account update and
//! deactivation (§7.3.2, §7.3.6), key rollover (§7.3.5).

use super::authority::AcmeAuthority;
use super::jws::{self, Jwk, Jws, Signer};
use super::message::{AcmeRequest, AcmeResponse, account_key, payload_json, random_id};
use super::order::{AccountObject, AcmeAccount};
use super::payload::contacts;
use super::problem::Problem;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hcpki_model::AcmeAccountId;

/// `POST new-account`, signed by the new key (jwk).
pub(super) async fn new_account(
    authority: &dyn AcmeAuthority,
    request: &AcmeRequest<'_>,
    jws: &Jws,
) -> Result<AcmeResponse, Problem> {
    let Signer::Key(key) = &jws.signer else {
        return Err(Problem::malformed("newAccount must be signed with the new account key (jwk), not a kid"));
    };
    jws.verify(key)?;
    let payload = payload_json(jws)?.unwrap_or_default();
    let thumbprint = key.thumbprint();
    if let Some(existing) = authority.account_by_thumbprint(&thumbprint).await? {
        // RFC 8555 §7.3.1: the same key finds its account again.
        let url = format!("{}/acct/{}", request.base, existing.id);
        return Ok(AcmeResponse::json(200, existing.to_json()).at(url));
    }
    if payload.get("onlyReturnExisting").and_then(|v| v.as_bool()) == Some(true) {
        return Err(Problem::account_does_not_exist("no account has this key"));
    }
    let eab = payload.get("externalAccountBinding").ok_or_else(|| {
        Problem::external_account_required(
            "this CA requires External Account Binding: use the eab_kid and eab_hmac_key from `hcpki enroll \
             credential --protocol acme`",
        )
    })?;
    let kid = check_binding(authority, request, eab, key).await?;
    let contact = contacts(&payload)?;
    // The MAC proved the key; redeeming makes the credential single use and audits it.
    let secret = match authority.eab_key(&kid).await? {
        Some(k) => zeroize::Zeroizing::new(URL_SAFE_NO_PAD.encode(k.as_slice())),
        None => return Err(unknown_kid()),
    };
    let grant = authority.redeem(&kid, &secret).await?;
    let account = AcmeAccount {
        id: AcmeAccountId::from_random(random_id()?),
        thumbprint,
        jwk: key.canonical_json(),
        facility: grant.facility,
        profile: grant.profile,
        credential: kid.clone(),
        status: "valid".into(),
        contact,
        created_at: authority.now().as_secs(),
    };
    if let Err(p) = authority.create_account(&account).await {
        authority.release(&kid, &p.detail).await;
        return Err(p);
    }
    let url = format!("{}/acct/{}", request.base, account.id);
    Ok(AcmeResponse::json(201, account.to_json()).at(url))
}

/// RFC 8555 §7.3.4: the inner JWS is HMAC-signed with the EAB key, names the credential as `kid`, carries
/// the outer `url`, and its payload is the account key. Returns the kid.
async fn check_binding(
    authority: &dyn AcmeAuthority,
    request: &AcmeRequest<'_>,
    eab: &serde_json::Value,
    account_key: &Jwk,
) -> Result<String, Problem> {
    let inner = jws::parse_value(eab)?;
    let Signer::Account(kid) = &inner.signer else {
        return Err(Problem::malformed("the external account binding must name its key ID (kid)"));
    };
    if inner.nonce.is_some() {
        return Err(Problem::malformed("the external account binding must not carry a nonce"));
    }
    if inner.url != request.url {
        return Err(Problem::unauthorized("the external account binding url is not the newAccount URL"));
    }
    let bound: serde_json::Value = serde_json::from_slice(&inner.payload)
        .map_err(|_| Problem::malformed("the external account binding payload is not a JWK"))?;
    if Jwk::from_value(&bound)? != *account_key {
        return Err(Problem::unauthorized("the external account binding is for another account key"));
    }
    let key = authority.eab_key(kid).await?.ok_or_else(unknown_kid)?;
    inner.verify_mac(&key).map_err(|_| unknown_kid())?;
    Ok(kid.clone())
}

/// Unknown kid and wrong MAC read the same, so nobody learns which credentials exist.
fn unknown_kid() -> Problem {
    Problem::unauthorized(
        "unknown EAB key ID or wrong MAC: check eab_kid and eab_hmac_key from `hcpki enroll credential --protocol acme`",
    )
}

/// `POST acct/{id}`: POST-as-GET, contact update or `{"status": "deactivated"}`.
pub(super) async fn update(
    authority: &dyn AcmeAuthority,
    request: &AcmeRequest<'_>,
    jws: &Jws,
    mut account: AcmeAccount,
    id: Option<&AcmeAccountId>,
) -> Result<AcmeResponse, Problem> {
    // `None`, an ID this CA cannot have made, is no account's either.
    if Some(&account.id) != id {
        return Err(Problem::unauthorized("an account may only read or change itself"));
    }
    let url = format!("{}/acct/{}", request.base, account.id);
    let Some(payload) = payload_json(jws)? else {
        return Ok(AcmeResponse::json(200, account.to_json()).at(url));
    };
    match payload.get("status").and_then(|s| s.as_str()) {
        Some("deactivated") => {
            account.status = "deactivated".into();
            authority.update_account(&account, "deactivate").await?;
        }
        Some(other) => return Err(Problem::malformed(format!("an account cannot be set to {other}"))),
        None if payload.get("contact").is_some() => {
            account.contact = contacts(&payload)?;
            authority.update_account(&account, "update").await?;
        }
        None => {}
    }
    Ok(AcmeResponse::json(200, account.to_json()).at(url))
}

/// `POST key-change`: the inner JWS, signed by the new key, names the account and its old key.
pub(super) async fn key_change(
    authority: &dyn AcmeAuthority,
    request: &AcmeRequest<'_>,
    jws: &Jws,
    mut account: AcmeAccount,
) -> Result<AcmeResponse, Problem> {
    let outer: serde_json::Value =
        payload_json(jws)?.ok_or_else(|| Problem::malformed("key-change needs a payload"))?;
    let inner = jws::parse_value(&outer)?;
    let Signer::Key(new_key) = &inner.signer else {
        return Err(Problem::malformed("the inner key-change JWS must carry the new key (jwk)"));
    };
    inner.verify(new_key)?;
    if inner.url != request.url {
        return Err(Problem::unauthorized("the inner key-change url is not the key-change URL"));
    }
    if inner.nonce.is_some() {
        return Err(Problem::malformed("the inner key-change JWS must not carry a nonce"));
    }
    let body: serde_json::Value = serde_json::from_slice(&inner.payload)
        .map_err(|_| Problem::malformed("the inner key-change payload is not JSON"))?;
    let url = format!("{}/acct/{}", request.base, account.id);
    if body.get("account").and_then(|a| a.as_str()) != Some(url.as_str()) {
        return Err(Problem::unauthorized("the key-change names another account"));
    }
    let old = body.get("oldKey").ok_or_else(|| Problem::malformed("the key-change has no oldKey"))?;
    if Jwk::from_value(old)? != account_key(&account)? {
        return Err(Problem::unauthorized("oldKey is not the account's current key"));
    }
    let thumbprint = new_key.thumbprint();
    if let Some(other) = authority.account_by_thumbprint(&thumbprint).await? {
        let mut p = Problem::malformed("another account already uses the new key").with_status(409);
        p.detail = format!("{} ({}/acct/{})", p.detail, request.base, other.id);
        return Err(p);
    }
    account.thumbprint = thumbprint;
    account.jwk = new_key.canonical_json();
    authority.update_account(&account, "key-change").await?;
    Ok(AcmeResponse::json(200, account.to_json()).at(url))
}
