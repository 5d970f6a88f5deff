//! The combined areas the SSO side's long-lived services hold (issue #43 item 4, D140): each names the two or
//! three area traits its holder calls, so the portal's session store, the OIDC client registry and the services
//! catalog hold no `dyn Store`. Each is a supertrait of [`crate::Store`], so the whole store upcasts to it where
//! such a service is built; `Debug` is part of each, because the services holding them derive it.

use crate::traits::{AuditLog, Issuance, Oidc, Services, Sessions};
use std::fmt::Debug;

/// The portal's session store: the sessions, and the audit log its sign-ins' refusals are written to.
pub trait SessionAreas: Sessions + AuditLog + Debug {}

impl<T: Sessions + AuditLog + Debug + ?Sized> SessionAreas for T {}

/// The OIDC client registry: the registered clients and the single-use values of their assertions, and the
/// certificates a client authenticating with mutual TLS presents.
pub trait ClientAreas: Oidc + Issuance + Debug {}

impl<T: Oidc + Issuance + Debug + ?Sized> ClientAreas for T {}

/// The services catalog: the service definitions and their generation.
pub trait CatalogAreas: Services + Debug {}

impl<T: Services + Debug + ?Sized> CatalogAreas for T {}
