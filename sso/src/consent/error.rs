//! What can go wrong with a consent or an identity link, each saying what to do.

use crate::patient_key::PatientKeyError;
use hcpki_ca::store::StoreError;
use hcpki_model::ConsentId;

/// Why a consent or an identity link could not be made or moved. Nothing is stored when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// The facility's patient ID is not usable, or the server secret cannot key patient keys.
    #[error(transparent)]
    PatientKey(#[from] PatientKeyError),
    /// The purpose is not a declared purpose's name.
    #[error(
        "purpose {0:?} is not a purpose name: use 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"
    )]
    Purpose(String),
    /// A service's client id that cannot be told from the portal.
    #[error("client id {0:?} is reserved for the portal's own requests: register the service under another id")]
    ReservedClient(String),
    /// A hash that is not 64 hexadecimal digits.
    #[error("{what} {value:?} is not a SHA-256: give 64 hexadecimal digits")]
    Hash {
        /// Which hash.
        what: &'static str,
        /// What was given (a hash of a document or certificate: no personal data).
        value: String,
    },
    /// A signature format or level the consent evidence does not take.
    #[error("a consent is kept as PAdES or CAdES at B-LT or B-LTA (with revocation evidence), not {0}: sign again")]
    Signature(String),
    /// The signature's time stamp is earlier than the request or later than now.
    #[error(
        "the signature's time stamp ({stamped}) is outside the consent's window ({from} to {to}): it cannot be the \
         signature of this request; sign again"
    )]
    StampOutsideWindow {
        /// genTime.
        stamped: i64,
        /// The earliest acceptable.
        from: i64,
        /// The latest acceptable.
        to: i64,
    },
    /// The deadline setting is out of range.
    #[error("[[consent.templates]] client {client:?} purpose {purpose:?}: {why}")]
    Template { client: String, purpose: String, why: String },
    #[error(
        "no consent template for service {client:?} and purpose {purpose:?}: the operator adds a \
         [[consent.templates]] entry for them (docs/consent.md)"
    )]
    NoTemplate { client: String, purpose: String },
    #[error("[consent] deadline_secs = {0} is out of range: give 60 to 3600 seconds")]
    Deadline(i64),
    /// `[consent] presence_minutes` out of range (D148).
    #[error("[consent] presence_minutes = {0} is out of range: give 1 to 60 minutes (a presence proof is short-lived)")]
    PresenceMinutes(i64),
    /// No such consent.
    #[error("no consent {0}: check the id, or ask for a new consent")]
    Unknown(ConsentId),
    /// The request's deadline passed before it was signed.
    #[error("consent {id} expired at {expired_at} before it was signed: ask the patient for a new consent")]
    Expired {
        /// The consent.
        id: ConsentId,
        /// Its deadline (Unix seconds).
        expired_at: i64,
    },
    /// Signing before the patient has seen the document.
    #[error("consent {0} has not been shown to the patient: show it on the agent's page before signing")]
    NotShown(ConsentId),
    /// Showing a consent again.
    #[error("consent {0} is already shown to the patient: have it signed or refused")]
    AlreadyShown(ConsentId),
    /// Moving a consent that has ended (signed, refused, withdrawn).
    #[error("consent {id} is already {state}: start a new consent request if the patient should decide again")]
    Ended {
        /// The consent.
        id: ConsentId,
        /// Its state.
        state: &'static str,
    },
    /// Withdrawing a consent that was never signed.
    #[error("consent {0} was never signed, so there is nothing to withdraw: refuse it instead")]
    NotSigned(ConsentId),
    /// The patient already has a live consent for this service and purpose.
    #[error(
        "the patient already has a live consent ({0}) for this service and purpose: use it, or have it withdrawn \
         before asking again"
    )]
    AlreadyConsented(ConsentId),
    /// Another writer moved the consent (or the link) between reading and writing.
    #[error("{0} was changed by someone else meanwhile (it is now {1}): reload it and decide again")]
    Raced(String, &'static str),
    /// The card is linked to another patient of the facility.
    #[error(
        "this card is already linked to another patient ID at this facility: check the patient ID with the \
         patient, or correct that patient's link first"
    )]
    CardLinkedElsewhere,
    /// A user-authentication certificate identifies more than one patient.
    #[error(
        "this card identifies more than one patient at this facility: have staff confirm the patient's identity \
         and correct the links"
    )]
    Ambiguous,
    /// The consent document could not be made (the PDF renderer or the random source failed).
    #[error("the consent document could not be made ({0}): try again; if it keeps failing, tell the operator")]
    Document(String),
    /// The template's regional network is not declared, or the facility is not one of its members (D169).
    #[error(transparent)]
    Network(super::network::NetworkError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
