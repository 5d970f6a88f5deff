//! A root rollover's new generation (issue #47, D160): RFC 4210 §4.4's root key update. The new root is
//! self-signed under the old root's own name, and each generation certifies the other's key (NewWithOld: the new
//! key under the old root; OldWithNew: the old key under the new root), so a relying party holding either root
//! builds a path to the issuing CAs of either generation. Keeping the name makes both link certificates
//! self-issued: RFC 5280 §6.1.4 (l) does not count them against a pathLenConstraint, so the old root's
//! pathLenConstraint 1 (root → issuing CA → leaf) still admits root → link → issuing CA → leaf.

use super::{AuthorityError, Making, RootIssuer, issue_ca_cert};
use crate::error::SigningError;
use crate::issuer::Signer;
use crate::profile::{self, IssuerContext};
use crate::store::rollover::RootLinks;
use der::Decode as _;
use hcpki_model::CaName;
use hcpki_pkix::keys::{self, KeyAlgorithm, KeyUri};
use hcpki_pkix::time::UnixTime;
use x509_cert::Certificate;

impl Making<'_> {
    /// The root's generation `generation`: its key made at `uri`, its self-signed certificate under `old`'s name,
    /// and the two link certificates, each linted, recorded and audited like every certificate. Returns the new
    /// root's certificate (DER) and the links. Both links end when the old root does: after that no relying
    /// party needs a path between the generations.
    pub(crate) async fn root_generation(
        &self,
        old: &RootIssuer<'_>,
        generation: u32,
        uri: &KeyUri,
        algorithm: KeyAlgorithm,
    ) -> Result<(Vec<u8>, RootLinks), AuthorityError> {
        let key = keys::generate(uri, algorithm, self.keys)?;
        let name = old.certificate.tbs_certificate().subject();
        let mut template = profile::ca::root(self.settings, CaName::Root.common_name(), key.public_key())?;
        // The old root's name as it was encoded at `init`, whatever the settings' organisation says today.
        template.subject = name.clone();
        let signer = Signer {
            ca_name: CaName::Root.as_str(),
            issuer: name,
            issuer_key: key.public_key(),
            issuer_not_after: None,
            key: key.as_ref(),
        };
        let not_before = self.not_before();
        let made = (CaName::Root, generation);
        let der =
            issue_ca_cert(self.store, self.clock, &signer, &template, key.public_key(), not_before, made, self.actor)
                .await?;
        let certificate = Certificate::from_der(&der).map_err(|_| SigningError::DamagedCa(CaName::Root))?;
        let new = RootIssuer { certificate: &certificate, key: key.as_ref(), generation };
        let until = hcpki_pkix::time::unix(&old.certificate.tbs_certificate().validity().not_after);
        let links = RootLinks {
            new_with_old: self.link(old, &new, until).await?,
            old_with_new: self.link(&new, old, until).await?,
        };
        Ok((der, links))
    }

    /// `subject`'s key certified by `signer` under the root's name, ending at `until` at the latest.
    async fn link(
        &self,
        signer: &RootIssuer<'_>,
        subject: &RootIssuer<'_>,
        until: i64,
    ) -> Result<Vec<u8>, AuthorityError> {
        let tbs = signer.certificate.tbs_certificate();
        let key_id = profile::key_identifier(signer.key.public_key());
        let url_name = signer.url_name();
        let ctx = IssuerContext { ca_name: &url_name, subject: tbs.subject(), key_id: &key_id };
        let subject_key = subject.key.public_key();
        let mut template = profile::ca::link(self.settings, CaName::Root.common_name(), subject_key, &ctx)?;
        template.subject = tbs.subject().clone();
        let issuer_not_after = hcpki_pkix::time::unix(&tbs.validity().not_after).min(until);
        let sign = Signer {
            ca_name: CaName::Root.as_str(),
            issuer: tbs.subject(),
            issuer_key: signer.key.public_key(),
            issuer_not_after: Some(issuer_not_after),
            key: signer.key,
        };
        let made = (CaName::Root, signer.generation);
        let not_before = self.not_before();
        Ok(issue_ca_cert(self.store, self.clock, &sign, &template, subject_key, not_before, made, self.actor).await?)
    }

    /// A CA certificate's start: now, backdated as the settings say.
    fn not_before(&self) -> UnixTime {
        UnixTime::from_secs(self.clock.now_unix() - self.settings.backdate())
    }
}
