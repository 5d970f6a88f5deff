//! Opening a consent request (issue #28 step 2), for a service's API call ([`super::api::create`]) and for the
//! portal's own page alike: the operator's template for (client, purpose) is filled with the request's facts
//! (facility, physician, service, date, reference), rendered to the PDF the patient will sign, and stored with
//! the request in one transaction (`consent.requested`). Who may ask is the caller's check; what is asked is
//! this one's. HTTP-free; the time is passed in.

use super::ConsentError;
use super::life::{self, NewConsent};
use super::record;
use super::settings::ConsentSettings;
use super::template::Facts;
use crate::oidc::Context;
use hcpki_ca::FacilityId;
use hcpki_ca::person_key::PersonKey;
use hcpki_ca::store::consent::{ConsentDocument, ConsentRecord, DocumentKind};
use hcpki_model::ConsentId;

/// Open `new` at `now_ms`, the person asking named `physician_name` (from the HPKI card, or reception's account)
/// on the document: the stored request. [`ConsentError::NoTemplate`] when the operator configured no template for
/// the requester and purpose, [`ConsentError::AlreadyConsented`] when the patient has a live consent for them,
/// [`ConsentError::Network`] when the template's regional network is not declared or the facility is not one of
/// its members (audited by the caller as any refusal); nothing stored then. A network's consent carries the
/// network's name (its scope, fixed when asked) and its PDF the network's 共同利用 notice (D169).
pub async fn open(
    ctx: Context<'_>,
    settings: &ConsentSettings,
    new: &NewConsent,
    physician_name: &str,
    now_ms: i64,
) -> Result<ConsentRecord, ConsentError> {
    let now = now_ms.div_euclid(1000);
    let client = new.requester.client_id();
    let template = settings.template(client, new.purpose.as_str())?;
    let token = crate::oidc::random_token(32).map_err(|e| ConsentError::Document(e.description))?;
    let id = ConsentId::parse(&token).map_err(|e| ConsentError::Document(e.to_string()))?;
    let network = match &template.network {
        Some(name) => Some(member_network(ctx, name, &new.facility).await?),
        None => None,
    };
    let (mut consent, mut event) = life::request(id.clone(), new, settings, now)?;
    if let Some(n) = &network {
        consent.network = Some(n.name.clone());
        if let Some(detail) = event.detail.as_object_mut() {
            detail.insert("network".into(), n.name.clone().into());
        }
    }
    let facility_name = facility_name(ctx, &new.facility).await;
    let service = service_name(ctx, client).await;
    let facts = Facts {
        facility_name: &facility_name,
        facility_id: new.facility.as_str(),
        physician: physician_name,
        service: &service,
        date: now,
        reference: id.as_str(),
    };
    let mut statement = template.consent(&facts);
    if !matches!(new.physician, PersonKey::Hpki { .. } | PersonKey::HpkiCertificate { .. }) {
        // Reception asked (issue #49 item 2): the document names them as who asked, not as the physician.
        for item in statement.items.iter_mut().filter(|i| i.label == "担当医師") {
            item.label = "受付担当者".into();
        }
    }
    if let Some(n) = &network {
        // The 共同利用 notice before how to withdraw and the closing sentence of consent.
        let at = statement.items.len().saturating_sub(2);
        statement.items.splice(at..at, super::network::notice_items(n));
    }
    let pdf =
        hcpki_docsig::consent_document::render(&statement, now).map_err(|e| ConsentError::Document(e.to_string()))?;
    let document = ConsentDocument::new(&id, DocumentKind::Consent, pdf, now);
    record::open(&*ctx.provider.store, &consent, std::slice::from_ref(&document), &event, now_ms).await?;
    Ok(consent)
}

/// The declared network `name`, with `facility` among its members.
async fn member_network(
    ctx: Context<'_>,
    name: &str,
    facility: &FacilityId,
) -> Result<hcpki_ca::store::NetworkRecord, ConsentError> {
    use super::network::{NetworkError, member_facility};
    let network = ctx.provider.store.network(name).await?;
    let network = network.ok_or_else(|| ConsentError::Network(NetworkError::Unknown(name.to_owned())))?;
    member_facility(&network, facility.as_str()).map_err(ConsentError::Network)?;
    Ok(network)
}

/// The facility's registered name, or its ID when the registry has none.
pub async fn facility_name(ctx: Context<'_>, facility: &FacilityId) -> String {
    match ctx.provider.store.facility(facility).await {
        Ok(Some(f)) => f.name,
        _ => facility.as_str().to_owned(),
    }
}

/// "service name (client id)" from the client's registration and the catalog, else the client id.
pub async fn service_name(ctx: Context<'_>, client_id: &str) -> String {
    if client_id == super::purpose::PORTAL_CLIENT {
        return "保健医療情報ネットワーク ポータル".to_owned();
    }
    crate::desk::page::service_name(ctx, client_id).await
}
