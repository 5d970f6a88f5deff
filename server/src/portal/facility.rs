//! The facility of a portal request's TLS connection: the adapters' side of `hcpki_sso::facility` (D122), which
//! decides from the certificate's DER. Here only axum-server's `TlsInfo`, filled by the handshake's verifier of
//! the chain to the PC CA (never a header), is read for it.

use axum_server::tls::TlsInfo;
use hcpki_ca::FacilityId;
use hcpki_ca::store::StoreError;
use hcpki_sso::facility::{self, Connection, FacilityRecords, Refusal};
use hcpki_sso::policy::FacilityContext;

/// Look the connection's client certificate up at `now`.
pub async fn of_connection(
    store: &(impl FacilityRecords + ?Sized),
    tls: Option<&TlsInfo>,
    now: i64,
) -> Result<Connection, StoreError> {
    facility::of_certificate(store, peer_certificate(tls), now).await
}

/// The connection's TLS client certificate (DER), if it presented one.
pub fn peer_certificate(tls: Option<&TlsInfo>) -> Option<&[u8]> {
    tls.and_then(|t| t.peer_certificates.first()).map(|c| c.as_ref())
}

/// The facility context of a request in a session that logged in at `session_facility`
/// ([`facility::for_certificate`] for the connection's client certificate).
pub async fn for_request(
    store: &(impl FacilityRecords + ?Sized),
    tls: Option<&TlsInfo>,
    session_facility: Option<&FacilityId>,
    now: i64,
) -> Result<Result<Option<FacilityContext>, Refusal>, StoreError> {
    facility::for_certificate(store, peer_certificate(tls), session_facility, now).await
}

/// [`for_request`], with the serial of the PC certificate that made it (the console names the PC a facility
/// admin acts at, issue #24 item 7).
pub async fn pc_for_request(
    store: &(impl FacilityRecords + ?Sized),
    tls: Option<&TlsInfo>,
    session_facility: Option<&FacilityId>,
    now: i64,
) -> Result<Result<Option<(FacilityContext, String)>, Refusal>, StoreError> {
    facility::pc_for_certificate(store, peer_certificate(tls), session_facility, now).await
}
