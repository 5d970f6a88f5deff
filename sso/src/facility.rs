//! The facility a portal request comes from: the verified facility PC certificate of the TLS connection (DER,
//! which the server's adapters take from axum-server's `TlsInfo`, filled by the handshake's verifier of the chain
//! to the PC CA; never a header), looked up in the registry, which is where a revoked, held or expired certificate is refused, on every
//! request (resumed TLS sessions and connections from before the revocation included), with a page that
//! says which and what to do.

use crate::policy::FacilityContext;
use crate::problem::Problem;
use hcpki_ca::FacilityId;
use hcpki_ca::facility::FacilityState;
use hcpki_ca::profile::{CertProfile, ProfileKind};
use hcpki_ca::revocation::{CrlReason, Reason};
use hcpki_ca::store::{CertStatus, Facilities, Issuance, Revocations, StoreError};

/// The store areas a connection's facility is read from: the certificate (issuance), its revocation, the
/// facility. Any store holding the three is one (the server's whole store included).
pub trait FacilityRecords: Issuance + Facilities + Revocations {}

impl<T: Issuance + Facilities + Revocations + ?Sized> FacilityRecords for T {}

/// What the connection says about the facility.
#[derive(Clone, Debug)]
pub enum Connection {
    /// No client certificate: a login without facility context (lower assurance).
    None,
    /// A facility PC certificate of an active facility.
    Facility {
        /// The facility as the registry holds it.
        context: FacilityContext,
        /// The certificate's serial.
        serial: String,
        /// Its notAfter (a session started here ends by then).
        not_after: i64,
    },
    /// A certificate that must not be used here, with the reason to show.
    Refused(Refusal),
}

/// Why a connection's PC certificate is refused: the problem the person reads, and the reason in full
/// (English, naming the certificate: audited, and shown under the problem as its detail).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What the page says happened and what to do.
    pub problem: Problem,
    /// The reason as audited.
    pub reason: String,
}

impl Refusal {
    fn new(problem: Problem, reason: String) -> Self {
        Self { problem, reason }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The facility side of a login: the facility, and its PC certificate's serial and notAfter.
#[derive(Debug, Default)]
pub struct LoginFacility {
    /// The facility of the connection's verified PC certificate.
    pub context: Option<FacilityContext>,
    /// That certificate's serial.
    pub certificate: Option<String>,
    /// That certificate's notAfter (Unix seconds): the session ends by then.
    pub not_after: Option<i64>,
}

/// Look a connection's client certificate (DER) up at `now` (it must not have expired by then).
pub async fn of_certificate(
    store: &(impl FacilityRecords + ?Sized),
    der: Option<&[u8]>,
    now: i64,
) -> Result<Connection, StoreError> {
    let Some(der) = der else { return Ok(Connection::None) };
    let Some(serial) = certificate_serial(der) else {
        let reason = "the facility certificate does not decode".to_owned();
        return Ok(Connection::Refused(Refusal::new(Problem::PcCertMissing, reason)));
    };
    let record = match store.certificate_by_text(&serial).await? {
        Some(r) if r.der.as_deref() == Some(der) && r.profile == CertProfile::EndEntity(ProfileKind::Pc) => r,
        _ => {
            let reason = format!("certificate {serial} is not a facility PC certificate of this CA");
            return Ok(Connection::Refused(Refusal::new(Problem::PcCertMissing, reason)));
        }
    };
    let Some(id) = record.facility.clone() else {
        let reason = format!("certificate {serial} names no facility");
        return Ok(Connection::Refused(Refusal::new(Problem::PcCertMissing, reason)));
    };
    let Some(facility) = store.facility(&id).await? else {
        let reason = format!("facility {id} is not registered");
        return Ok(Connection::Refused(Refusal::new(Problem::PcCertMissing, reason)));
    };
    // The facility's state first: a suspended facility's certificates are on hold, and "suspended" is what
    // the person at the PC needs to hear.
    if facility.state != FacilityState::Active {
        let reason = format!(
            "facility {} ({}) is {}: sign-in from its PCs is refused until it is active again",
            facility.id, facility.name, facility.state
        );
        let problem = Problem::FacilitySuspended { facility: facility.name.clone() };
        return Ok(Connection::Refused(Refusal::new(problem, reason)));
    }
    if record.status != CertStatus::Issued {
        return Ok(Connection::Refused(revoked(store, &record.serial).await?));
    }
    if record.not_after <= now {
        let reason = format!(
            "this PC's certificate {serial} expired on {}: ask your facility's administrator to renew it",
            hcpki_pkix::time::rfc3339(record.not_after)
        );
        return Ok(Connection::Refused(Refusal::new(Problem::PcCertExpired, reason)));
    }
    Ok(Connection::Facility { context: FacilityContext::from(&facility), serial, not_after: record.not_after })
}

/// The serial of a connection's client certificate (DER), as the registry keys it; `None` if it does not
/// decode. The registry, not the certificate, then says which facility and device it is.
pub fn certificate_serial(der: &[u8]) -> Option<String> {
    let cert = <x509_cert::Certificate as der::Decode>::from_der(der).ok()?;
    Some(hcpki_ca::serial::to_hex(cert.tbs_certificate().serial_number()))
}

/// What the person at a PC whose certificate is not issued any more reads: revoked (when, why) or on hold.
async fn revoked(
    store: &(impl Revocations + ?Sized),
    serial: &hcpki_ca::serial::SerialHex,
) -> Result<Refusal, StoreError> {
    let Some((at, code)) = store.revocation(serial).await? else {
        let reason = format!("this PC's certificate {serial} is not valid: ask your facility's administrator");
        return Ok(Refusal::new(Problem::PcCertRevoked, reason));
    };
    let reason = Reason::from_code_or_unspecified(code);
    let when = hcpki_pkix::time::rfc3339(at);
    Ok(if reason.0 == CrlReason::CertificateHold {
        let reason = format!(
            "this PC's certificate {serial} is on hold (certificateHold) since {when}: sign-in from this PC is \
             refused until the hold is released; ask your facility's administrator"
        );
        Refusal::new(Problem::PcCertOnHold, reason)
    } else {
        let reason = format!(
            "this PC's certificate {serial} was revoked on {when} (reason: {reason}): sign-in from this PC is \
             refused; ask your facility's administrator for a new certificate"
        );
        Refusal::new(Problem::PcCertRevoked, reason)
    })
}

/// The facility context of a request in a session that logged in at `session_facility`, from the connection's
/// client certificate (DER), if it presented one: that facility, as the registry holds it now, only while this
/// connection still presents one of its PC certificates (a session cookie carried to another machine or a
/// connection without a certificate loses the facility, and with it the facility assurance level). `Err` is a
/// refusal to show (suspended facility, foreign certificate).
pub async fn for_certificate(
    store: &(impl FacilityRecords + ?Sized),
    der: Option<&[u8]>,
    session_facility: Option<&FacilityId>,
    now: i64,
) -> Result<Result<Option<FacilityContext>, Refusal>, StoreError> {
    Ok(pc_for_certificate(store, der, session_facility, now).await?.map(|pc| pc.map(|(context, _)| context)))
}

/// [`for_certificate`], with the serial of the PC certificate that made it (the console names the PC a facility
/// admin acts at, issue #24 item 7).
pub async fn pc_for_certificate(
    store: &(impl FacilityRecords + ?Sized),
    der: Option<&[u8]>,
    session_facility: Option<&FacilityId>,
    now: i64,
) -> Result<Result<Option<(FacilityContext, String)>, Refusal>, StoreError> {
    Ok(match of_certificate(store, der, now).await? {
        Connection::Refused(reason) => Err(reason),
        Connection::Facility { context, serial, .. } if Some(&context.id) == session_facility => {
            Ok(Some((context, serial)))
        }
        Connection::Facility { .. } | Connection::None => Ok(None),
    })
}
