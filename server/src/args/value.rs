//! Value parsers: an argument that names a domain value is parsed into its type here, at the edge, so the
//! command handlers never parse text again. A bad value fails in clap (exit status 2, with the usage) with
//! the type's own error message; a type with a fixed set of names lists them in the help from the type's own
//! list, so help texts cannot drift from what is accepted.

use clap::builder::{PossibleValue, TypedValueParser};
use hcpki_ca::CaName;
use hcpki_ca::enroll::credential::Protocol;
use hcpki_ca::facility::{FacilityKind, FacilityState};
use hcpki_ca::operator::OperatorRole;
use hcpki_ca::profile::{ProfileKind, RouterEku, Vendor};
use hcpki_ca::revocation::Reason;
use hcpki_pkix::keys::KeyAlgorithm;
use std::error::Error;
use std::ffi::OsStr;
use std::str::FromStr;

type BoxedError = Box<dyn Error + Send + Sync + 'static>;

/// A parser for a type with a fixed set of names: `parse` decides (the type's `FromStr`, so every spelling it
/// accepts today stays accepted, and its message is the one clap prints), `names` feeds the help's
/// `[possible values: …]` and shell completion.
#[derive(Clone, Copy)]
pub struct Named<T: 'static> {
    parse: fn(&str) -> Result<T, BoxedError>,
    names: fn() -> Vec<&'static str>,
}

impl<T: Clone + Send + Sync + 'static> Named<T> {
    /// The names the help lists.
    pub fn names(&self) -> Vec<&'static str> {
        (self.names)()
    }
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Named<T> {
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        // clap's own adapter for `Fn(&str) -> Result<T, E>`: its "invalid value … for …: <message>" error and
        // its handling of text that is not UTF-8.
        self.parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.names().into_iter().map(PossibleValue::new)))
    }
}

/// Parsed by `T::from_str`.
fn from_str<T>(s: &str) -> Result<T, BoxedError>
where
    T: FromStr,
    T::Err: Into<BoxedError>,
{
    s.parse::<T>().map_err(Into::into)
}

/// A certificate profile (`--profile`).
pub fn profile() -> Named<ProfileKind> {
    Named { parse: from_str, names: || ProfileKind::ALL.map(ProfileKind::as_str).to_vec() }
}

/// A CA (`--ca`, `--ocsp-for`, `hcpki ca cert NAME`).
pub fn ca() -> Named<CaName> {
    Named { parse: from_str, names: || CaName::ALL.map(CaName::as_str).to_vec() }
}

/// `hcpki ca chain PROFILE`: a profile's issuing CA, or a CA by name.
pub fn ca_of_profile_or_ca() -> Named<CaName> {
    Named {
        parse: |s| match ProfileKind::from_str(s).ok().and_then(CaName::for_profile) {
            Some(ca) => Ok(ca),
            None => from_str(s),
        },
        names: || {
            let mut names = CaName::ALL.map(CaName::as_str).to_vec();
            let profiles = ProfileKind::ALL.into_iter().filter(|p| CaName::for_profile(*p).is_some());
            for p in profiles.map(ProfileKind::as_str) {
                if !names.contains(&p) {
                    names.push(p);
                }
            }
            names
        },
    }
}

/// A key algorithm (`--key-type`, `hcpki bench … --keys`).
pub fn key_algorithm() -> Named<KeyAlgorithm> {
    Named { parse: from_str, names: || KeyAlgorithm::ALL.map(KeyAlgorithm::as_str).to_vec() }
}

/// An RFC 5280 revocation reason (`hcpki revoke --reason`).
pub fn reason() -> Named<Reason> {
    Named { parse: from_str, names: || Reason::ALL.map(|(_, name)| name).to_vec() }
}

/// A facility kind.
pub fn facility_kind() -> Named<FacilityKind> {
    Named { parse: from_str, names: || FacilityKind::ALL.map(FacilityKind::as_str).to_vec() }
}

/// A facility state.
pub fn facility_state() -> Named<FacilityState> {
    Named { parse: from_str, names: || FacilityState::ALL.map(FacilityState::as_str).to_vec() }
}

/// An enrollment protocol.
pub fn protocol() -> Named<Protocol> {
    Named { parse: from_str, names: || Protocol::ALL.map(Protocol::as_str).to_vec() }
}

/// An operator's role.
pub fn operator_role() -> Named<OperatorRole> {
    Named { parse: from_str, names: || OperatorRole::ALL.map(OperatorRole::as_str).to_vec() }
}

/// A router EKU variant.
pub fn router_eku() -> Named<RouterEku> {
    Named { parse: from_str, names: || RouterEku::ALL.map(RouterEku::as_str).to_vec() }
}

/// A router vendor.
pub fn vendor() -> Named<Vendor> {
    Named { parse: from_str, names: || Vendor::ALL.map(|(name, _)| name).to_vec() }
}

/// `hcpki init --key-type CA=ALG`.
pub fn ca_key_type(s: &str) -> Result<(CaName, KeyAlgorithm), BoxedError> {
    let (ca, alg) = s.split_once('=').ok_or("use CA=ALG, e.g. router=p256")?;
    Ok((CaName::from_str(ca)?, KeyAlgorithm::from_str(alg)?))
}

/// The help of `--key-type`, naming the CAs and algorithms from their types' lists.
pub fn ca_key_type_help() -> String {
    format!(
        "Key algorithm per CA, e.g. `--key-type router=p256` (CA: {}; ALG: {}); repeatable",
        ca().names().join(", "),
        key_algorithm().names().join(", ")
    )
}

/// An RFC 3339 time (`--not-after`, `--issued-before`, `--at`), as Unix seconds.
pub fn rfc3339(s: &str) -> Result<i64, String> {
    hcpki_pkix::time::parse_rfc3339(s).ok_or_else(|| "give an RFC 3339 time, e.g. 2027-03-31T23:59:59Z".to_owned())
}

/// A certificate serial as typed (hex; `:` and `0x` allowed), in its stored form.
pub fn serial(s: &str) -> Result<hcpki_ca::serial::SerialHex, String> {
    hcpki_ca::serial::SerialHex::parse_input(s)
        .ok_or_else(|| "not a serial number: give it in hex, e.g. from `hcpki cert list`".to_owned())
}

/// `hcpki audit verify --expect-head SEQ:HASH`, as an earlier `hcpki audit verify` printed it: the sequence
/// number and the lowercase hash.
pub fn audit_head(s: &str) -> Result<(i64, String), String> {
    let (seq, hash) = s.split_once(':').ok_or("take SEQ:HASH as printed by `hcpki audit verify`")?;
    let seq = seq.trim().parse().map_err(|_| format!("{seq:?} is not a sequence number"))?;
    Ok((seq, hash.trim().to_ascii_lowercase()))
}

/// An hcRole code (`hcpki portal user add --role`).
pub fn hc_role() -> Named<hcpki_sso::policy::HcRole> {
    use hcpki_sso::policy::HcRole;
    Named {
        parse: |s| {
            HcRole::from_code(s)
                .ok_or_else(|| format!("unknown hcRole code {s:?}: see the hcRole table in docs/portal.md").into())
        },
        names: || HcRole::ALL.map(HcRole::code).to_vec(),
    }
}
