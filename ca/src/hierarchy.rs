//! The CA hierarchy as the other parts of the authority see it: each CA's record (certificate, key URI), its
//! key opened on first use, the profile settings and the clock. Boulder's CA that only signs: it holds the
//! keys and knows nothing of the registry, the pipeline's batches or revocation.

use crate::error::SigningError;
use crate::issuer::IssueError;
use crate::profile::ProfileSettings;
use crate::store::AuthorityRecord;
use crate::store::rollover::{RolloverRecord, RolloverState};
use der::{Decode, Encode};
use hcpki_model::CaName;
use hcpki_pkix::keys::{self, KeyContext, KeySource, KeyUri};
use hcpki_pkix::time::{Clock, UnixTime};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use x509_cert::Certificate;

/// An issuing CA, opened.
#[derive(Debug)]
pub(crate) struct OpenCa {
    pub(crate) certificate: Certificate,
    pub(crate) spki: spki::SubjectPublicKeyInfoOwned,
    pub(crate) not_after: i64,
    pub(crate) key: Box<dyn KeySource>,
}

/// The CAs recorded in the store, their keys opened on first use.
#[derive(Debug)]
pub struct Hierarchy {
    settings: ProfileSettings,
    keys: KeyContext,
    records: BTreeMap<CaName, AuthorityRecord>,
    /// Each CA's rollover under way (D145): the generation served beside the one in `records`.
    rollovers: BTreeMap<CaName, RolloverRecord>,
    /// Each rolled-over CA's generations in service (D151); a CA missing here is at generation 1 alone.
    generations: BTreeMap<CaName, Generations>,
    open: Mutex<BTreeMap<CaName, Arc<OpenCa>>>,
    /// The previous generations opened (their CRLs are signed with their own keys, D151).
    open_previous: Mutex<BTreeMap<CaName, Arc<OpenCa>>>,
    /// Where every part of the authority reads the time: the system clock unless a test fixes it.
    clock: Arc<dyn Clock>,
}

impl Hierarchy {
    /// The hierarchy of `records` (the store's), its keys found through `keys`.
    /// `rollovers` is every rollover the store recorded: the open ones are served, all of them say which
    /// generation of each CA issues.
    pub(crate) fn new(
        records: BTreeMap<CaName, AuthorityRecord>,
        rollovers: &[RolloverRecord],
        keys: KeyContext,
        settings: ProfileSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let generations = Generations::of_all(rollovers);
        let rollovers = rollovers.iter().filter(|r| r.state.is_open()).map(|r| (r.ca, r.clone())).collect();
        Self::assembled(records, rollovers, generations, keys, settings, clock)
    }

    fn assembled(
        records: BTreeMap<CaName, AuthorityRecord>,
        rollovers: BTreeMap<CaName, RolloverRecord>,
        generations: BTreeMap<CaName, Generations>,
        keys: KeyContext,
        settings: ProfileSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let (open, open_previous) = (Mutex::new(BTreeMap::new()), Mutex::new(BTreeMap::new()));
        Self { settings, keys, records, rollovers, generations, open, open_previous, clock }
    }

    /// The same hierarchy reading the time from `clock`; its keys are opened again on first use.
    pub(crate) fn with_clock(&self, clock: Arc<dyn Clock>) -> Self {
        let (records, rollovers, generations) =
            (self.records.clone(), self.rollovers.clone(), self.generations.clone());
        Self::assembled(records, rollovers, generations, self.keys.clone(), self.settings.clone(), clock)
    }

    /// The clock every part reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Now, in Unix seconds, by this hierarchy's clock.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now_unix()
    }

    /// Now, as the store takes it.
    pub(crate) fn at(&self) -> UnixTime {
        self.clock.now()
    }

    /// The profile settings in force.
    pub fn settings(&self) -> &ProfileSettings {
        &self.settings
    }

    /// Where keys are found (the hcpki directory, the PKCS#11 module).
    pub(crate) fn keys(&self) -> &KeyContext {
        &self.keys
    }

    /// A CA's certificate (DER).
    pub fn ca_certificate(&self, ca: CaName) -> Result<&[u8], SigningError> {
        self.records.get(&ca).map(|r| r.cert_der.as_slice()).ok_or(SigningError::MissingCa(ca))
    }

    /// A CA's key URI.
    pub fn ca_key_uri(&self, ca: CaName) -> Result<&str, SigningError> {
        self.records.get(&ca).map(|r| r.key_uri.as_str()).ok_or(SigningError::MissingCa(ca))
    }

    /// The chain for a profile, issuing CA first, root last (DER). During a root rollover (D160) the root is the
    /// generation that certified the issuing CA: an issuing CA made before the root's switch stays under the old
    /// root, one made after it is under the new.
    pub fn chain(&self, ca: CaName) -> Result<Vec<Vec<u8>>, SigningError> {
        let issuing = self.ca_certificate(ca)?;
        let mut out = vec![issuing.to_vec()];
        if ca != CaName::Root {
            let root = self.ca_certificate(CaName::Root)?;
            let other = self.other_generation(CaName::Root).filter(|other| certifies(other, issuing));
            out.push(other.unwrap_or(root).to_vec());
        }
        Ok(out)
    }

    /// During a root rollover (D160), what a relying party needs beside the chain to reach either root
    /// generation from the other: the other root and both link certificates (DER). Empty otherwise.
    pub fn root_overlap(&self) -> Vec<&[u8]> {
        let Some(r) = self.rollovers.get(&CaName::Root) else { return Vec::new() };
        let mut out: Vec<&[u8]> = self.other_generation(CaName::Root).into_iter().collect();
        if let Some(links) = &r.links {
            out.extend([links.new_with_old.as_slice(), links.old_with_new.as_slice()]);
        }
        out
    }

    /// During a root rollover (D160), the link certificate that takes a chain ending at `issuing` (an issuing CA
    /// certificate, DER) to the other root generation (D165): NewWithOld above an issuing CA the new root
    /// certified (for relying parties still holding the old root), OldWithNew above one the old root certified
    /// (for those already holding the new one). `None` outside a root rollover, or for a CA neither certified.
    pub fn link_to_other_root(&self, issuing: &[u8]) -> Option<&[u8]> {
        let r = self.rollovers.get(&CaName::Root)?;
        let links = r.links.as_ref()?;
        if certifies(&r.cert_der, issuing) {
            Some(links.new_with_old.as_slice())
        } else if certifies(&r.old_cert_der, issuing) {
            Some(links.old_with_new.as_slice())
        } else {
            None
        }
    }

    /// The CA's rollover under way, if any (as this process loaded it).
    pub fn rollover(&self, ca: CaName) -> Option<&RolloverRecord> {
        self.rollovers.get(&ca)
    }

    /// The CA's other generation served during a rollover (D145), DER: the next one while the rollover is
    /// published (the current one still issues), the previous one once it has switched.
    pub fn other_generation(&self, ca: CaName) -> Option<&[u8]> {
        self.rollovers.get(&ca).map(|r| match r.state {
            RolloverState::Published => r.cert_der.as_slice(),
            _ => r.old_cert_der.as_slice(),
        })
    }

    /// The CA's next generation, published but not issuing yet: what SCEP's `GetNextCACert` answers.
    pub fn next_generation(&self, ca: CaName) -> Option<&[u8]> {
        self.rollovers.get(&ca).filter(|r| r.state == RolloverState::Published).map(|r| r.cert_der.as_slice())
    }

    /// The CA's generations in service: the one that issues and, after a rollover's switch until its
    /// retirement, the one it replaced (D151).
    pub fn generations(&self, ca: CaName) -> Generations {
        self.generations.get(&ca).copied().unwrap_or(Generations::FIRST)
    }

    /// The certificate (DER) of a CA's generation in service (D151): the one that issues, or the previous one a
    /// switched rollover keeps.
    pub fn generation_certificate(&self, ca: CaName, generation: u32) -> Option<&[u8]> {
        let served = self.generations(ca);
        if generation == served.current {
            return self.ca_certificate(ca).ok();
        }
        self.rollovers.get(&ca).filter(|_| served.previous == Some(generation)).map(|r| r.old_cert_der.as_slice())
    }

    /// The certificate (DER) a caIssuers URL of generation `generation` names (D160): a generation in service
    /// ([`Hierarchy::generation_certificate`]) or the next one, published before the switch (a root rollover's
    /// OldWithNew link names the new root's URL from its start).
    pub fn published_certificate(&self, ca: CaName, generation: u32) -> Option<&[u8]> {
        self.generation_certificate(ca, generation).or_else(|| {
            self.rollovers
                .get(&ca)
                .filter(|r| r.state == RolloverState::Published && r.generation == generation)
                .map(|r| r.cert_der.as_slice())
        })
    }

    /// A CA with its key opened (once; later calls share it), checked to match its certificate.
    pub(crate) fn open_ca(&self, ca: CaName) -> Result<Arc<OpenCa>, SigningError> {
        let record = self.records.get(&ca).ok_or(SigningError::MissingCa(ca))?;
        Self::open_once(&self.open, ca, &record.cert_der, &record.key_uri, &self.keys)
    }

    /// Generation `generation` of a CA with its key opened: the one that issues, or the previous one a switched
    /// rollover keeps in service (it signs its own certificates' CRL, D151). Another generation is
    /// [`SigningError::MissingCa`]: callers check [`Hierarchy::generations`] first.
    pub(crate) fn open_generation(&self, ca: CaName, generation: u32) -> Result<Arc<OpenCa>, SigningError> {
        let served = self.generations(ca);
        if generation == served.current {
            return self.open_ca(ca);
        }
        match self.rollovers.get(&ca) {
            Some(r) if served.previous == Some(generation) => {
                Self::open_once(&self.open_previous, ca, &r.old_cert_der, &r.old_key_uri, &self.keys)
            }
            _ => Err(SigningError::MissingCa(ca)),
        }
    }

    /// The CA opened from `cert_der` and `key_uri` into `cache` once; later calls share it.
    fn open_once(
        cache: &Mutex<BTreeMap<CaName, Arc<OpenCa>>>,
        ca: CaName,
        cert_der: &[u8],
        key_uri: &str,
        keys: &KeyContext,
    ) -> Result<Arc<OpenCa>, SigningError> {
        // A poisoned lock only means a thread panicked while holding it: the map gains whole `Arc`s by one insert,
        // so what it holds is intact. Reporting it as "not initialized" (as this once did) sent operators to
        // `hcpki init` for a fault that was not theirs.
        let mut open = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(o) = open.get(&ca) {
            return Ok(o.clone());
        }
        let certificate = Certificate::from_der(cert_der).map_err(|_| SigningError::DamagedCa(ca))?;
        let spki_der = certificate.tbs_certificate().subject_public_key_info().to_der().map_err(IssueError::from)?;
        let spki = spki::SubjectPublicKeyInfoOwned::from_der(&spki_der).map_err(IssueError::from)?;
        let not_after = hcpki_pkix::time::unix(&certificate.tbs_certificate().validity().not_after);
        let key = keys::open(&KeyUri::from_str(key_uri)?, keys)?;
        if key.public_key() != &spki {
            return Err(SigningError::KeyMismatch(ca));
        }
        let o = Arc::new(OpenCa { certificate, spki, not_after, key });
        open.insert(ca, o.clone());
        Ok(o)
    }
}

/// Whether `parent` (a CA certificate, DER) certified `child`'s key: `child`'s authorityKeyIdentifier is
/// `parent`'s key identifier. Root generations share one name (D160), so the key tells them apart.
fn certifies(parent: &[u8], child: &[u8]) -> bool {
    use x509_cert::ext::pkix::AuthorityKeyIdentifier;
    let (Ok(parent), Ok(child)) = (Certificate::from_der(parent), Certificate::from_der(child)) else { return false };
    let Ok(spki_der) = parent.tbs_certificate().subject_public_key_info().to_der() else { return false };
    let Ok(spki) = spki::SubjectPublicKeyInfoOwned::from_der(&spki_der) else { return false };
    let want = crate::profile::key_identifier(&spki);
    let Ok(Some((_, aki))) = child.tbs_certificate().get_extension::<AuthorityKeyIdentifier>() else { return false };
    aki.key_identifier.is_some_and(|k| k.as_bytes() == want.as_slice())
}

/// A CA's generations in service (D151): `init` made generation 1; each rollover's switch makes its generation
/// the one that issues, and the generation it replaced stays in service (its CRL signed with its own key) until
/// the rollover is retired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generations {
    /// The generation that issues.
    pub current: u32,
    /// The generation a switched rollover replaced, still answered for.
    pub previous: Option<u32>,
}

impl Generations {
    /// A CA never rolled over.
    pub const FIRST: Self = Self { current: 1, previous: None };

    /// Each CA's generations by its recorded rollovers: the latest switched or retired one issues; an open,
    /// switched rollover keeps the generation that issued before it (an aborted rollover's number is skipped).
    pub fn of_all(rollovers: &[RolloverRecord]) -> BTreeMap<CaName, Self> {
        let issued = |r: &&RolloverRecord| matches!(r.state, RolloverState::Switched | RolloverState::Retired);
        let mut out = BTreeMap::new();
        for ca in rollovers.iter().map(|r| r.ca) {
            let of_ca = || rollovers.iter().filter(move |r| r.ca == ca).filter(issued);
            let current = of_ca().map(|r| r.generation).max().unwrap_or(1);
            let previous = of_ca()
                .find(|r| r.state == RolloverState::Switched)
                .map(|open| of_ca().map(|r| r.generation).filter(|g| *g < open.generation).max().unwrap_or(1));
            out.insert(ca, Self { current, previous });
        }
        out
    }

    /// Whether generation `generation` is in service.
    pub fn serves(self, generation: u32) -> bool {
        generation == self.current || self.previous == Some(generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollover(ca: CaName, generation: u32, state: RolloverState) -> RolloverRecord {
        RolloverRecord {
            ca,
            generation,
            state,
            key_uri: String::new(),
            cert_der: Vec::new(),
            old_key_uri: String::new(),
            old_cert_der: Vec::new(),
            started_at: 0,
            started_by: String::new(),
            switched_at: None,
            ended_at: None,
            ended_by: None,
            compromised: false,
            links: None,
        }
    }

    #[test]
    fn generations_follow_switches_and_skip_aborted_numbers() {
        use RolloverState::*;
        let (pc, router, server) = (CaName::Pc, CaName::Router, CaName::Server);
        let cases: [(&[RolloverRecord], CaName, Generations); 6] = [
            (&[], pc, Generations::FIRST),
            (&[rollover(pc, 2, Published)], pc, Generations::FIRST),
            (&[rollover(pc, 2, Switched)], pc, Generations { current: 2, previous: Some(1) }),
            (&[rollover(pc, 2, Retired)], pc, Generations { current: 2, previous: None }),
            // An aborted generation 2: generation 3 replaced generation 1.
            (
                &[rollover(router, 2, Aborted), rollover(router, 3, Switched)],
                router,
                Generations { current: 3, previous: Some(1) },
            ),
            (
                &[rollover(server, 2, Retired), rollover(server, 3, Switched), rollover(pc, 2, Switched)],
                server,
                Generations { current: 3, previous: Some(2) },
            ),
        ];
        for (records, ca, want) in cases {
            let got = Generations::of_all(records).get(&ca).copied().unwrap_or(Generations::FIRST);
            assert_eq!(got, want, "{records:?}");
            assert!(got.serves(got.current) && got.previous.is_none_or(|p| got.serves(p)));
            assert!(!got.serves(got.current + 1));
        }
    }
}
