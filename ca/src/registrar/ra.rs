//! Registration authorities (D167) through the registrar, for the CLI, the admin API and the console alike: one
//! method per change, the text checked once, the change audited by the store, every refusal audited here.

use crate::error::RegistryError;
use crate::facility::FacilityId;
use crate::ra::{Member, Placement, Prefecture, Ra, RaError, RaKind, RaName};
use crate::registrar::Registrar;
use crate::store::{Actor, StoreError};

/// An RA as asked for: text from a command line, a JSON body or a form, checked by [`Registrar::create_ra`].
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRa {
    /// The name (`tokyo`, `isp-a`).
    pub name: String,
    /// `provider` or `prefecture`.
    pub kind: String,
    /// What people call it.
    pub label: String,
    /// A prefecture RA's prefecture numbers (`13`, `14`).
    #[serde(default)]
    pub prefectures: Vec<String>,
}

impl NewRa {
    fn checked(&self) -> Result<Ra, RaError> {
        let name = RaName::parse(&self.name)?;
        let kind: RaKind = self.kind.parse()?;
        let prefectures = self.prefectures.iter().map(|p| Prefecture::parse(p)).collect::<Result<Vec<_>, _>>()?;
        Ra::new(name, kind, &self.label, prefectures)
    }
}

impl Registrar {
    /// Create an RA (audited `ra.create`); a malformed one or a name taken is refused, audited as denied.
    pub async fn create_ra(&self, new: &NewRa, actor: &Actor) -> Result<Ra, RegistryError> {
        let outcome = async {
            let ra = new.checked()?;
            self.ras.create_ra(&ra, actor, self.hierarchy.at()).await.map_err(from_store)?;
            Ok(ra)
        }
        .await;
        self.audit_if_refused(&outcome, actor, "ra.create", new.name.trim()).await;
        outcome
    }

    /// Every RA, by name.
    pub async fn ras(&self) -> Result<Vec<Ra>, RegistryError> {
        Ok(self.ras.list_ras().await?)
    }

    /// Assign the facility `facility` to the provider RA `ra` (or take it from its provider: `None`); audited
    /// `ra.assign`, refusals audited as denied.
    pub async fn assign_to_ra(
        &self,
        facility: &str,
        ra: Option<&str>,
        actor: &Actor,
    ) -> Result<Placement, RegistryError> {
        let outcome = async {
            let id = FacilityId::parse(facility).map_err(crate::error::FacilityRefusal::from)?;
            let ra = ra.map(RaName::parse).transpose()?;
            match self.ras.assign_facility(&id, ra.as_ref(), actor, self.hierarchy.at()).await {
                Err(StoreError::UnknownFacility(id)) => Err(crate::error::FacilityRefusal::Unknown(id).into()),
                other => other.map_err(from_store),
            }?;
            self.ras.placement(&id).await?.ok_or_else(|| crate::error::FacilityRefusal::Unknown(id).into())
        }
        .await;
        self.audit_if_refused(&outcome, actor, "ra.assign", facility.trim()).await;
        outcome
    }

    /// Put an operator or console person in the RA `ra`, or make them central (`None`); audited `ra.member`,
    /// refusals audited as denied. Takes effect at their next request.
    pub async fn set_ra_member(&self, member: &Member, ra: Option<&str>, actor: &Actor) -> Result<(), RegistryError> {
        let outcome = async {
            let ra = ra.map(RaName::parse).transpose()?;
            self.ras.set_ra_member(member, ra.as_ref(), actor, self.hierarchy.at()).await.map_err(from_store)
        }
        .await;
        self.audit_if_refused(&outcome, actor, "ra.member", member.as_str()).await;
        outcome
    }

    /// Every RA member with its RA.
    pub async fn ra_members(&self) -> Result<Vec<(Member, RaName)>, RegistryError> {
        Ok(self.ras.ra_members().await?)
    }

    /// The RA a console person belongs to (`None`: central); operators by certificate are resolved with their
    /// certificate.
    pub async fn ra_of_person(&self, person_key: &str) -> Result<Option<Ra>, RegistryError> {
        Ok(self.ras.ra_of_member(&Member::person(person_key)).await?)
    }

    /// Where a facility stands for the RAs (`None`: no such facility).
    pub async fn placement(&self, facility: &FacilityId) -> Result<Option<Placement>, RegistryError> {
        Ok(self.ras.placement(facility).await?)
    }

    /// Audit `outcome` if it is a refusal (a database failure is reported where it happened).
    async fn audit_if_refused<T>(&self, outcome: &Result<T, RegistryError>, actor: &Actor, action: &str, target: &str) {
        if let Err(e) = outcome
            && !matches!(e, RegistryError::Store(_))
        {
            self.audit_refused(action, target, actor, e).await;
        }
    }
}

/// The store's RA refusals as the registry's (they say what to do), its trouble as it is.
fn from_store(e: StoreError) -> RegistryError {
    match e {
        StoreError::Ra(e) => RegistryError::Ra(e),
        other => RegistryError::Store(other),
    }
}
