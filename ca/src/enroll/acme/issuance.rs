//! Orders to certificates: newOrder (RFC 8555 §7.4), authorizations and challenges (§7.5), finalize,
//! certificate download (§7.4.2) and revocation (§7.6).

use super::authority::AcmeAuthority;
use super::challenge::{self, Validator};
use super::jws::{Jws, Signer};
use super::message::{
    AcmeRequest, AcmeResponse, Body, account_key, payload_json, random_id, random_token, signed_by_account,
};
use super::order::{self, Authorization, AuthzId, Challenge, ChallengeId, StoredProblem};
use super::order::{AcmeAccount, AcmeOrder, OrderObject};
use super::payload::{check_csr_names, finalize_csr, order_identifiers};
use super::problem::{Problem, ProblemType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use der::Decode;
use hcpki_model::AcmeOrderId;

/// RFC 5280 reason codes a subscriber may give (not caCompromise, certificateHold, removeFromCRL, aACompromise).
const SUBSCRIBER_REASONS: [u8; 6] = [0, 1, 3, 4, 5, 9];

/// `POST new-order`.
pub(super) async fn new_order(
    authority: &dyn AcmeAuthority,
    request: &AcmeRequest<'_>,
    jws: &Jws,
    account: &AcmeAccount,
) -> Result<AcmeResponse, Problem> {
    let payload = payload_json(jws)?.ok_or_else(|| Problem::malformed("newOrder needs identifiers"))?;
    let identifiers = order_identifiers(&payload)?;
    order::name_request(account.profile, &authority.facility_domain(&account.facility), &identifiers)?;
    let mut authorizations = Vec::with_capacity(identifiers.len());
    for name in &identifiers {
        let mut challenges = Vec::new();
        for kind in order::CHALLENGE_TYPES {
            challenges.push(Challenge {
                kind: kind.into(),
                token: random_token()?,
                status: "pending".into(),
                validated_at: None,
                error: None,
            });
        }
        authorizations.push(Authorization { identifier: name.clone(), status: "pending".into(), challenges });
    }
    let order = AcmeOrder {
        id: AcmeOrderId::from_random(random_id()?),
        account: account.id.clone(),
        status: "pending".into(),
        expires_at: authority.now().as_secs() + order::ORDER_LIFETIME_SECS,
        identifiers,
        authorizations,
        certificate: None,
        error: None,
        version: 0,
    };
    authority.create_order(&order, account).await?;
    Ok(AcmeResponse::json(201, order.to_json(request.base)).at(order.url(request.base)))
}

/// An order of this account; one past its expiry that never became valid reads as `invalid`. `None` is an ID
/// from a URL that this CA cannot have made: no such order.
async fn own_order(
    authority: &dyn AcmeAuthority,
    account: &AcmeAccount,
    id: Option<&AcmeOrderId>,
) -> Result<AcmeOrder, Problem> {
    let Some(id) = id else { return Err(Problem::not_found("order")) };
    match authority.order(id).await? {
        Some(mut o) if o.account == account.id => {
            if o.expires_at <= authority.now().as_secs() && o.status != "valid" {
                o.status = "invalid".into();
            }
            Ok(o)
        }
        Some(_) => Err(Problem::unauthorized("this order belongs to another account")),
        None => Err(Problem::not_found("order")),
    }
}

/// `POST order/{id}` (POST-as-GET).
pub(super) async fn show_order(
    authority: &dyn AcmeAuthority,
    request: &AcmeRequest<'_>,
    account: &AcmeAccount,
    id: Option<&AcmeOrderId>,
) -> Result<AcmeResponse, Problem> {
    let order = own_order(authority, account, id).await?;
    Ok(AcmeResponse::json(200, order.to_json(request.base)).at(order.url(request.base)))
}

/// `POST authz/{order}.{n}`: POST-as-GET, or `{"status": "deactivated"}`.
pub(super) async fn authz(
    authority: &dyn AcmeAuthority,
    request: &AcmeRequest<'_>,
    jws: &Jws,
    account: &AcmeAccount,
    id: Option<&AuthzId>,
) -> Result<AcmeResponse, Problem> {
    let id = id.ok_or_else(|| Problem::not_found("authorization"))?;
    let n = id.index;
    let mut order = own_order(authority, account, Some(&id.order)).await?;
    if let Some(payload) = payload_json(jws)? {
        if payload.get("status").and_then(|s| s.as_str()) != Some("deactivated") {
            return Err(Problem::malformed("an authorization can only be deactivated"));
        }
        let a = order.authorizations.get_mut(n).ok_or_else(|| Problem::not_found("authorization"))?;
        a.status = "deactivated".into();
        if order.status == "pending" || order.status == "ready" {
            order.status = "invalid".into();
        }
        order.version += 1;
        if !authority.update_order(&order).await? {
            return Err(Problem::malformed("the order changed meanwhile: retry").with_status(409));
        }
    }
    let body = order.authz_json(n, request.base).ok_or_else(|| Problem::not_found("authorization"))?;
    Ok(AcmeResponse::json(200, body).at(format!("{}/authz/{id}", request.base)))
}

/// `POST chall/{order}.{n}.{type}`: `{}` starts validation, which runs now; the answer is its outcome.
pub(super) async fn challenge(
    authority: &dyn AcmeAuthority,
    validator: &dyn Validator,
    request: &AcmeRequest<'_>,
    jws: &Jws,
    account: &AcmeAccount,
    id: Option<&ChallengeId>,
) -> Result<AcmeResponse, Problem> {
    let Some(ChallengeId { authz: authz_id, kind }) = id else {
        return Err(Problem::not_found("challenge"));
    };
    let (n, kind) = (authz_id.index, kind.as_str());
    let mut order = own_order(authority, account, Some(&authz_id.order)).await?;
    let find = |o: &AcmeOrder| -> Result<(Authorization, Challenge), Problem> {
        let a = o.authorizations.get(n).ok_or_else(|| Problem::not_found("challenge"))?;
        let c = a.challenges.iter().find(|c| c.kind == kind).ok_or_else(|| Problem::not_found("challenge"))?;
        Ok((a.clone(), c.clone()))
    };
    let (authz, chall) = find(&order)?;
    // POST-as-GET of a challenge only shows it; `{}` starts it (RFC 8555 §7.5.1), and a repeated `{}` on a
    // settled challenge just shows it.
    let respond = payload_json(jws)?.is_some();
    if respond && chall.status == "pending" && authz.status == "pending" && order.status == "pending" {
        let thumbprint = account_key(account)?.thumbprint();
        let outcome = challenge::validate(validator, kind, &authz.identifier, &chall.token, &thumbprint).await;
        let now = authority.now().as_secs();
        if let Some(a) = order.authorizations.get_mut(n) {
            if let Some(c) = a.challenges.iter_mut().find(|c| c.kind == kind) {
                match &outcome {
                    Ok(()) => {
                        c.status = "valid".into();
                        c.validated_at = Some(now);
                    }
                    Err(p) => {
                        c.status = "invalid".into();
                        c.error = Some(StoredProblem::from(p));
                    }
                }
            }
            a.status = if outcome.is_ok() { "valid" } else { "invalid" }.into();
        }
        order.settle();
        if let Err(p) = &outcome {
            order.error = Some(StoredProblem::from(p));
            authority.refused("challenge", &format!("{} {kind} for {}: {}", order.id, authz.identifier, p)).await;
        }
        order.version += 1;
        if !authority.update_order(&order).await? {
            // Another request settled it first: show that.
            order = own_order(authority, account, Some(&authz_id.order)).await?;
        }
    }
    let (_, chall) = find(&order)?;
    let body = order
        .authz_json(n, request.base)
        .and_then(|a| {
            a.get("challenges")
                .and_then(|cs| cs.as_array())
                .and_then(|cs| cs.iter().find(|c| c.get("type").and_then(|t| t.as_str()) == Some(&chall.kind)).cloned())
        })
        .ok_or_else(|| Problem::not_found("challenge"))?;
    Ok(AcmeResponse {
        status: 200,
        location: None,
        up: Some(format!("{}/authz/{authz_id}", request.base)),
        alternate: None,
        body: Body::Json(body),
    })
}

/// `POST order/{id}/finalize` with `{"csr": base64url(DER)}`: issue now.
pub(super) async fn finalize(
    authority: &dyn AcmeAuthority,
    request: &AcmeRequest<'_>,
    jws: &Jws,
    account: &AcmeAccount,
    id: Option<&AcmeOrderId>,
) -> Result<AcmeResponse, Problem> {
    let mut order = own_order(authority, account, id).await?;
    let id = order.id.clone();
    if order.status != "ready" {
        return Err(Problem::order_not_ready(format!("order {id} is {}, not ready", order.status)).with_status(403));
    }
    let payload = payload_json(jws)?.ok_or_else(|| Problem::malformed("finalize needs a csr"))?;
    let parsed = finalize_csr(&payload)?;
    check_csr_names(&parsed, &order.identifiers)?;
    let (sans, device) =
        order::name_request(account.profile, &authority.facility_domain(&account.facility), &order.identifiers)?;
    // Claim the order first, so two finalizes racing on two replicas issue once.
    order.status = "processing".into();
    order.version += 1;
    if !authority.update_order(&order).await? {
        return Err(Problem::order_not_ready(format!("order {id} is being finalized already")).with_status(403));
    }
    match authority.issue(account, parsed.into(), sans, device).await {
        Ok(cert) => {
            let serial = x509_cert::Certificate::from_der(&cert)
                .map(|c| crate::serial::to_hex(c.tbs_certificate().serial_number()))
                .map_err(|e| Problem::server_internal(format!("issued certificate does not decode: {e}")))?;
            order.status = "valid".into();
            order.certificate = Some(serial);
        }
        Err(e) => {
            order.status = "ready".into();
            order.version += 1;
            if !authority.update_order(&order).await? {
                tracing::error!(order = %id, "could not put a refused order back to ready");
            }
            let p = Problem::from(e);
            return Err(if p.kind == ProblemType::Malformed { Problem::bad_csr(p.detail) } else { p });
        }
    }
    order.version += 1;
    if !authority.update_order(&order).await? {
        return Err(Problem::server_internal("the order changed while its certificate was issued"));
    }
    Ok(AcmeResponse::json(200, order.to_json(request.base)).at(order.url(request.base)))
}

/// `POST cert/{serial}` (POST-as-GET): the PEM chain, for accounts of the certificate's facility.
///
/// During a root rollover (D160) the certificate has two chains (D165): the default one ends at the issuing CA
/// (whose root certified it), and the alternate one, `cert/{serial}/alternate` (`which` is [`Chain::Alternate`]),
/// adds the link certificate that reaches the other root generation. Each names the other with
/// `Link: rel="alternate"` (RFC 8555 §7.4.2).
pub(super) async fn download(
    authority: &dyn AcmeAuthority,
    request: &AcmeRequest<'_>,
    account: &AcmeAccount,
    serial: &str,
    which: Chain,
) -> Result<AcmeResponse, Problem> {
    let cert = authority.certificate(serial).await?.ok_or_else(|| Problem::not_found("certificate"))?;
    if cert.facility.as_ref() != Some(&account.facility) {
        return Err(Problem::unauthorized("the certificate is of another facility"));
    }
    let default_url = format!("{}/cert/{serial}", request.base);
    let (chain, other) = match (which, cert.alternate) {
        (Chain::Default, None) => (cert.chain, None),
        (Chain::Default, Some(_)) => (cert.chain, Some(format!("{default_url}/alternate"))),
        (Chain::Alternate, Some(link)) => {
            let mut chain = cert.chain;
            chain.push(link);
            (chain, Some(default_url))
        }
        (Chain::Alternate, None) => {
            return Err(Problem::not_found("alternate chain: there is one only during a root rollover"));
        }
    };
    let pem: String = chain.iter().map(|der| pem_certificate(der)).collect();
    Ok(AcmeResponse { status: 200, location: None, up: None, alternate: other, body: Body::PemChain(pem) })
}

/// Which of a certificate's chains a download asks for (D165).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chain {
    /// Leaf and issuing CA: the path to the root generation that certified the issuing CA.
    Default,
    /// During a root rollover, the default chain and the link certificate to the other root generation.
    Alternate,
}

fn pem_certificate(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// `POST revoke-cert`: by the account that ordered the certificate (kid) or by the certificate's own key (jwk),
/// RFC 8555 §7.6. Another account, even of the same facility, is refused (issue #24, item 3): an ACME client's
/// account key would otherwise end the facility's routers and PCs enrolled over EST, SCEP or by an operator.
pub(super) async fn revoke(
    authority: &dyn AcmeAuthority,
    request: &AcmeRequest<'_>,
    jws: &Jws,
) -> Result<AcmeResponse, Problem> {
    let payload = payload_json(jws)?.ok_or_else(|| Problem::malformed("revokeCert needs a certificate"))?;
    let der = payload
        .get("certificate")
        .and_then(|c| c.as_str())
        .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
        .ok_or_else(|| Problem::malformed("certificate must be the DER certificate in base64url"))?;
    let reason = match payload.get("reason") {
        None => 0,
        Some(r) => {
            r.as_u64().and_then(|r| u8::try_from(r).ok()).filter(|r| SUBSCRIBER_REASONS.contains(r)).ok_or_else(
                || Problem::bad_revocation_reason(format!("reason {r} is not allowed: use 0, 1, 3, 4, 5 or 9")),
            )?
        }
    };
    let parsed =
        x509_cert::Certificate::from_der(&der).map_err(|_| Problem::malformed("the certificate does not decode"))?;
    let serial = crate::serial::to_hex(parsed.tbs_certificate().serial_number());
    let cert = authority
        .certificate(&serial)
        .await?
        .filter(|c| c.chain.first() == Some(&der))
        .ok_or_else(|| Problem::not_found("certificate issued by this CA"))?;
    let actor = match &jws.signer {
        Signer::Account(_) => {
            let account = signed_by_account(authority, request.base, jws).await?;
            if authority.ordered_by(&serial).await?.as_ref() != Some(&account.id) {
                return Err(Problem::unauthorized(format!(
                    "certificate {serial} was not ordered by account {}: an account revokes only certificates of \
                     its own orders; sign revokeCert with the certificate's own key (jwk), or ask the facility \
                     administrator or an operator to revoke it",
                    account.id
                )));
            }
            account.actor()
        }
        Signer::Key(key) => {
            jws.verify(key)?;
            if key.spki_sha256()? != cert.spki_sha256 {
                return Err(Problem::unauthorized("the JWS key is not the certificate's key"));
            }
            crate::store::Actor(format!("acme:certificate-key:{serial}"))
        }
    };
    if cert.revoked {
        return Err(Problem::already_revoked(format!("certificate {serial} is revoked already")));
    }
    authority.revoke(&serial, reason, &actor).await?;
    Ok(AcmeResponse { status: 200, location: None, up: None, alternate: None, body: Body::Empty })
}
