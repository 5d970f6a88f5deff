//! A facility's address allocations (issue #24, item 2), for the admin API and the console alike: operators
//! add and remove them; operators, auditors and the facility's own admin read them. The authority audits every
//! change and every refusal it makes; refusals before it (authorization, a malformed ID) are audited here.

use super::{Refusal, allowed_facility, facility_id};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use hcpki_ca::RegistryError;
use hcpki_ca::access::Action;
use hcpki_ca::facility::FacilityId;
use hcpki_ca::registrar::addresses::AddressHolders;
use hcpki_ca::store::{AllocationRecord, StoreError};

/// Why an allocation was not changed, as far as the operator at the form can fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressProblem {
    /// Not an address or prefix that can be allocated (syntax, host bits, length, a range that is not unicast).
    Prefix,
    /// It overlaps `held`, allocated to facility `holder` (operators may know the holder).
    Held {
        /// The overlapping allocation.
        held: String,
        /// Its facility.
        holder: String,
    },
    /// Removing what the facility does not hold.
    NotHeld,
}

impl AddressProblem {
    /// The problem of the authority's refusal, if the form can say it.
    fn of(e: &RegistryError) -> Option<Self> {
        match e {
            RegistryError::Allocation(_) => Some(Self::Prefix),
            RegistryError::Store(StoreError::AllocationHeld { held, holder, .. }) => {
                Some(Self::Held { held: held.to_string(), holder: holder.to_string() })
            }
            RegistryError::Store(StoreError::UnknownAllocation { .. }) => Some(Self::NotHeld),
            _ => None,
        }
    }
}

/// How a change was refused: the audited error and what to fix.
pub type AddressRefusal = Refusal<AddressProblem>;

fn refusal(e: RegistryError) -> AddressRefusal {
    let problem = AddressProblem::of(&e);
    Refusal { error: ApiError::from(e), problem }
}

/// Longest prefix text accepted (an IPv6 address with a length is at most 43 characters).
pub const MAX_PREFIX: usize = 64;

/// The facility's allocations, by address.
pub async fn list(state: &AppState, caller: &Caller, id: &str) -> Result<Vec<AllocationRecord>, ApiError> {
    let name = "admin.facility.address.list";
    let id = allowed_facility(state, caller, name, id, |f| Action::ListAllocations(f)).await?;
    state.admin.registrar().allocations(Some(&id)).await.map_err(ApiError::from)
}

/// Who holds `address` now and which certificates ever carried it (operators and auditors; issue #50 item 5).
/// The authority audits the lookup, refusals included; a text too long to be an address is refused here.
pub async fn find(state: &AppState, caller: &Caller, address: &str) -> Result<AddressHolders, ApiError> {
    let name = "admin.facility.address.find";
    caller.may(Action::FindAddress).await?;
    if address.chars().count() > MAX_PREFIX || address.chars().any(char::is_control) {
        let e = ApiError::bad_request(
            "invalid address",
            format!("an address is at most {MAX_PREFIX} characters without control characters: e.g. 2001:db8::7"),
        );
        return Err(caller.refuse(name, "-", e).await);
    }
    state.admin.registrar().find_address(address, &caller.actor()).await.map_err(ApiError::from)
}

/// Allocate `prefix` to the facility (operators); an overlap is a 409 naming the holder.
pub async fn add(
    state: &AppState,
    caller: &Caller,
    id: &str,
    prefix: &str,
) -> Result<AllocationRecord, AddressRefusal> {
    let id = authorize_change(caller, id, prefix).await?;
    state.admin.registrar().add_allocation(id.as_str(), prefix, &caller.actor()).await.map_err(refusal)
}

/// Take `prefix` back from the facility (operators); 404 when it does not hold exactly that prefix.
pub async fn remove(
    state: &AppState,
    caller: &Caller,
    id: &str,
    prefix: &str,
) -> Result<AllocationRecord, AddressRefusal> {
    let id = authorize_change(caller, id, prefix).await?;
    state.admin.registrar().remove_allocation(id.as_str(), prefix, &caller.actor()).await.map_err(refusal)
}

async fn authorize_change(caller: &Caller, id: &str, prefix: &str) -> Result<FacilityId, AddressRefusal> {
    let name = "admin.facility.address.manage";
    let id = facility_id(caller, name, id).await?;
    caller.may(Action::ManageAllocations(&id)).await?;
    if prefix.chars().count() > MAX_PREFIX || prefix.chars().any(char::is_control) {
        let e = ApiError::bad_request(
            "invalid prefix",
            format!("a prefix is at most {MAX_PREFIX} characters without control characters: e.g. 2001:db8:10::/48"),
        );
        return Err(Refusal {
            error: caller.refuse(name, id.as_str(), e).await,
            problem: Some(AddressProblem::Prefix),
        });
    }
    Ok(id)
}
