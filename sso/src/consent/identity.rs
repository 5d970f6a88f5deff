//! The link of a patient key to the My Number card (issue #28 step 5, D88): staff compare the basic four
//! items read from the JPKI signing certificate with the facility's records, and confirm; what is kept is the
//! certificates' SHA-256 (signing, and the user-authentication one read in the same session, so a later visit
//! identifies the patient with the 4-digit PIN), who confirmed and when. The four items are not kept, not
//! even hashed: the signing certificate's hash names the certificate that carries them.
//!
//! One link per patient key: a new card (after an address change the signing certificate is revoked and a
//! new one issued) updates the link, one generation on, rather than adding a second.

use super::ConsentError;
use super::audit::{Actor, action, identity_event};
use super::evidence::Sha256Hex;
use crate::patient_key::PatientKey;
use hcpki_ca::FacilityId;
use hcpki_ca::audit::AuditEvent;
use hcpki_ca::person_key::PersonKey;
use hcpki_ca::store::consent::IdentityLinkRecord;
use serde_json::json;

/// The card's certificates, as hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardCertificates {
    /// The JPKI signing certificate (署名用電子証明書).
    pub signing: Sha256Hex,
    /// The JPKI user-authentication certificate (利用者証明用電子証明書), when read in the same session.
    pub authentication: Option<Sha256Hex>,
}

/// A staff member's confirmation that this card's holder is the facility's patient.
#[derive(Clone, Debug)]
pub struct Confirmation {
    /// The patient.
    pub patient: PatientKey,
    /// The facility.
    pub facility: FacilityId,
    /// The card read.
    pub card: CardCertificates,
    /// The staff member who compared the four items and confirmed.
    pub staff: PersonKey,
}

/// A link to write: not `Clone`, consumed by [`super::record::save_link`].
#[derive(Debug)]
pub struct LinkSave {
    pub(super) link: IdentityLinkRecord,
    pub(super) previous_generation: Option<i64>,
    pub(super) event: AuditEvent,
}

impl LinkSave {
    /// The link as it will be stored.
    pub fn link(&self) -> &IdentityLinkRecord {
        &self.link
    }

    /// The audit event it writes.
    pub fn event(&self) -> &AuditEvent {
        &self.event
    }
}

/// Judge a confirmation against the patient's current link (`current`) and the facility's links of the same
/// signing certificate (`of_card`): a new link, a correction, or `None` when the link already says this.
pub fn link(
    current: Option<&IdentityLinkRecord>,
    of_card: &[IdentityLinkRecord],
    confirmation: &Confirmation,
    now: i64,
) -> Result<Option<LinkSave>, ConsentError> {
    let patient = confirmation.patient.as_str();
    if of_card.iter().any(|l| l.patient_key != patient) {
        return Err(ConsentError::CardLinkedElsewhere);
    }
    let card = &confirmation.card;
    let signing = card.signing.as_str().to_owned();
    // A card read without its authentication certificate keeps the one already linked if the signing
    // certificate is the same card's; a new signing certificate drops it (it belonged to the old card, or
    // the old certificate pair).
    let authentication = match (card.authentication.as_ref(), current) {
        (Some(auth), _) => Some(auth.as_str().to_owned()),
        (None, Some(c)) if c.signing_sha256 == signing => c.auth_sha256.clone(),
        (None, _) => None,
    };
    if let Some(c) = current
        && c.signing_sha256 == signing
        && c.auth_sha256 == authentication
        && c.facility_id == confirmation.facility.as_str()
    {
        return Ok(None);
    }
    let actor = Actor::Person(confirmation.staff.clone());
    let record = |created_at, generation| IdentityLinkRecord {
        patient_key: patient.to_owned(),
        facility_id: confirmation.facility.as_str().to_owned(),
        signing_sha256: signing.clone(),
        auth_sha256: authentication.clone(),
        confirmed_by: confirmation.staff.to_string(),
        confirmed_at: now,
        created_at,
        generation,
    };
    let detail = |previous: Option<&IdentityLinkRecord>| {
        json!({
            "facility": confirmation.facility.as_str(),
            "signing_sha256": signing,
            "auth_sha256": authentication,
            "previous_signing_sha256": previous.map(|p| p.signing_sha256.clone()),
            "previous_auth_sha256": previous.and_then(|p| p.auth_sha256.clone()),
        })
    };
    Ok(Some(match current {
        None => LinkSave {
            link: record(now, 1),
            previous_generation: None,
            event: identity_event(&actor, action::LINKED, patient, detail(None)),
        },
        Some(c) => LinkSave {
            link: record(c.created_at, c.generation.saturating_add(1)),
            previous_generation: Some(c.generation),
            event: identity_event(&actor, action::CORRECTED, patient, detail(Some(c))),
        },
    }))
}

/// The patient a later visit's card identifies at `facility` by its user-authentication certificate (read
/// with the 4-digit PIN): `None` when the card is not linked, an error when it names more than one patient.
pub fn identified(
    links: &[IdentityLinkRecord],
    authentication: &Sha256Hex,
) -> Result<Option<PatientKey>, ConsentError> {
    let mut of_auth = links.iter().filter(|l| l.auth_sha256.as_deref() == Some(authentication.as_str()));
    let Some(first) = of_auth.next() else { return Ok(None) };
    if of_auth.next().is_some() {
        return Err(ConsentError::Ambiguous);
    }
    PatientKey::parse(&first.patient_key).map(Some).ok_or_else(|| {
        hcpki_ca::store::StoreError::Corrupt(format!("identity link {}: not a patient key", first.patient_key)).into()
    })
}
