//! The offline root (issue #9). After `init` the root key leaves the online machines; the root's CRL, which
//! every issuing CA certificate names as its CRL distribution point, is then signed at a ceremony for up to a
//! year (an ARL, [`Revoker::sign_root_crl`]), carried across the air gap and imported online
//! ([`Revoker::import_root_crl`]), and `hcpki serve` hands out the stored one (`revocation::publish`) without
//! ever opening the root key.

use crate::audit::{AuditEvent, Outcome};
use crate::error::{RevocationError, SigningError};
use crate::revocation::arl::{self, MAX_ARL_DAYS};
use crate::revocation::shard::CrlScope;
use crate::revoker::Revoker;
use crate::revoker::{SignedCrl, Validity};
use crate::store::{Actor, ImportedCrl};
use der::Decode;
use hcpki_model::{CaName, UnixTime};
use serde_json::json;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

impl Revoker {
    /// At the ceremony, with the root key: sign the root's CRL (every revoked, unexpired issuing CA
    /// certificate) under the next number of the root's CRL counter, its nextUpdate exactly `days` days after
    /// its thisUpdate (1 to [`MAX_ARL_DAYS`]), audited as `crl.sign` (or, when it fails, `crl.sign` failed with
    /// the reason). Without the root key: [`RevocationError::KeyOffline`].
    pub async fn sign_root_crl(&self, days: u32, actor: &Actor) -> Result<SignedCrl, RevocationError> {
        if !(1..=MAX_ARL_DAYS).contains(&days) {
            return Err(RevocationError::ArlDays(days));
        }
        let validity = Validity::FromThisUpdate(i64::from(days) * 86_400);
        let signed = self.sign_crl(CrlScope::complete(CaName::Root), self.hierarchy.at(), validity).await;
        let (outcome, detail) = match &signed {
            Ok(s) => (
                Outcome::Ok,
                json!({
                    "crl_number": s.number,
                    "this_update": s.this_update,
                    "next_update": s.next_update,
                    "entries": s.entries,
                    "sha256": hex::encode(Sha256::digest(&s.der)),
                }),
            ),
            Err(e) => (Outcome::Failed, json!({ "days": days, "reason": e.to_string() })),
        };
        let event = AuditEvent {
            actor: actor.as_str().to_owned(),
            action: "crl.sign".into(),
            target: CaName::Root.as_str().into(),
            outcome,
            detail,
        };
        self.audit.append_audit(&event, self.hierarchy.at()).await?;
        signed
    }

    /// Online: check `bytes` (DER or PEM, as carried from the ceremony) as the root's CRL ([`arl::check`]: the
    /// root's signature, issuer, a cRLNumber, nextUpdate ahead) and store it to be served, if its number is
    /// above every ARL imported before. Audited as `crl.import`; a refusal as `crl.import` denied with the
    /// reason and the file's SHA-256, and nothing stored.
    pub async fn import_root_crl(&self, bytes: &[u8], actor: &Actor) -> Result<ImportedCrl, RevocationError> {
        let now = self.hierarchy.at();
        let imported = self.check_root_crl(bytes, actor, now);
        let stored = match imported {
            Ok(crl) => self
                .revocations
                .import_crl(&crl, actor, self.hierarchy.at())
                .await
                .map(|()| crl)
                .map_err(RevocationError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = &stored {
            let outcome = match e {
                RevocationError::Arl(_) | RevocationError::Store(crate::store::StoreError::CrlNotNewer { .. }) => {
                    Outcome::Denied
                }
                _ => Outcome::Failed,
            };
            let event = AuditEvent {
                actor: actor.as_str().to_owned(),
                action: "crl.import".into(),
                target: CaName::Root.as_str().into(),
                outcome,
                detail: json!({ "sha256": hex::encode(Sha256::digest(bytes)), "reason": e.to_string() }),
            };
            if let Err(audit_err) = self.audit.append_audit(&event, self.hierarchy.at()).await {
                tracing::error!(error = %audit_err, "could not audit a refused ARL import");
            }
        }
        stored
    }

    /// The ARL `hcpki serve` hands out at `/crl/root.crl`, if one was imported (the highest CRL number).
    pub async fn root_crl(&self) -> Result<Option<ImportedCrl>, RevocationError> {
        Ok(self.revocations.imported_crl(CaName::Root).await?)
    }

    fn check_root_crl(&self, bytes: &[u8], actor: &Actor, now: UnixTime) -> Result<ImportedCrl, RevocationError> {
        let root = Certificate::from_der(self.hierarchy.ca_certificate(CaName::Root)?)
            .map_err(|_| SigningError::DamagedCa(CaName::Root))?;
        let checked = arl::check(bytes, &root, now)?;
        Ok(ImportedCrl {
            ca: CaName::Root,
            number: checked.number,
            entries: i64::try_from(checked.entries).unwrap_or(i64::MAX),
            der: checked.der,
            this_update: checked.this_update,
            next_update: checked.next_update,
            sha256: checked.sha256,
            imported_at: now.as_secs(),
            imported_by: actor.as_str().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::Authority;
    use crate::revocation::Reason;
    use crate::store::StoreError;

    async fn audit_actions(ca: &Authority) -> Vec<(String, String)> {
        let entries = ca.audit_log().audit_entries(0, 10_000).await.unwrap();
        entries.into_iter().filter(|e| e.action.starts_with("crl.")).map(|e| (e.action, e.outcome)).collect()
    }

    /// The ceremony revokes an issuing CA and signs a year's ARL listing it; an online installation without
    /// the root key refuses to sign one, imports the ARL once, refuses it again (number not above) and serves it
    /// from the store: the published CRL is the imported DER, byte for byte.
    #[tokio::test]
    async fn an_arl_signed_at_the_ceremony_is_imported_once_and_served_without_the_root_key() {
        let dir = tempfile::tempdir().unwrap();
        let ceremony = crate::authority::tests::authority(dir.path()).await;
        let actor = Actor::cli("test");
        let pc_ca = Certificate::from_der(ceremony.ca_certificate(CaName::Pc).unwrap()).unwrap();
        let pc_serial = hcpki_model::SerialHex::of(pc_ca.tbs_certificate().serial_number()).unwrap();
        ceremony
            .revoker()
            .revoke(&pc_serial, Reason(crate::revocation::CrlReason::CaCompromise), &actor)
            .await
            .unwrap();
        assert!(matches!(ceremony.revoker().sign_root_crl(366, &actor).await, Err(RevocationError::ArlDays(366))));
        let arl = ceremony.revoker().sign_root_crl(365, &actor).await.unwrap();
        assert_eq!(arl.next_update - arl.this_update, 365 * 86_400, "exactly the days asked for");
        assert_eq!(arl.entries, 1, "the revoked PC CA is listed");

        // The online copy: the same database, the root key moved away.
        std::fs::rename(dir.path().join("keys/root.p8"), dir.path().join("root.p8.offline")).unwrap();
        let online =
            Authority::load(ceremony.store().clone(), ceremony.hierarchy().keys().clone(), ceremony.settings().clone())
                .await
                .unwrap();
        assert!(matches!(
            online.revoker().sign_root_crl(30, &actor).await,
            Err(RevocationError::KeyOffline(CaName::Root))
        ));
        assert!(online.revoker().root_crl().await.unwrap().is_none());
        let stored = online.revoker().import_root_crl(&arl.der, &actor).await.unwrap();
        assert_eq!((stored.number, stored.entries), (i64::try_from(arl.number).unwrap(), 1));
        let again = online.revoker().import_root_crl(&arl.der, &actor).await.unwrap_err();
        assert!(matches!(again, RevocationError::Store(StoreError::CrlNotNewer { .. })), "{again}");
        assert_eq!(online.revoker().root_crl().await.unwrap().unwrap(), stored);

        let served = online.revoker().published_crl(CaName::Root).await.unwrap();
        assert_eq!(served.der, arl.der, "served from the store, never re-signed");
        assert_eq!((served.this_update, served.next_update), (arl.this_update, arl.next_update));
        let expected = [("crl.sign", "ok"), ("crl.sign", "failed"), ("crl.import", "ok"), ("crl.import", "denied")];
        let expected: Vec<(String, String)> = expected.iter().map(|(a, o)| ((*a).into(), (*o).into())).collect();
        assert_eq!(audit_actions(&online).await, expected, "every signature, import and refusal audited");
    }
}
