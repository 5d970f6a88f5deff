//! Purpose of use: why a person opens a service, from HL7 v3 `PurposeOfUse` (code system
//! `http://terminology.hl7.org/CodeSystem/v3-ActReason`), the value IHE IUA's `purpose_of_use` and XUA's
//! purposeofuse attribute carry (D94).
//!
//! hcpki offers the codes a clinical network in Japan has a use for, not the whole value set: treatment (the
//! default), emergency treatment, emergency (break-glass), healthcare operations, payment, and patient-requested
//! access. Each service lists the ones it accepts in the services file (`purposes`, default `["TREAT"]`).

use std::fmt;

/// The code system of every purpose (HL7 v3 ActReason, which holds the PurposeOfUse value set).
pub const PURPOSE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

/// One purpose of use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum PurposeOfUse {
    /// `TREAT`: treatment, the ordinary purpose and the default when a request names none.
    #[default]
    Treat,
    /// `ETREAT`: emergency treatment, without break-glass (the person already has access; the service may
    /// prioritise or log it differently).
    Etreat,
    /// `EMER`: emergency access beyond ordinary access: break-glass, with its confirmation page, its reason and
    /// its review (only card logins with an hcRole, only services that allow it).
    Emer,
    /// `HOPERAT`: healthcare operations (quality review, administration of the facility).
    Hoperat,
    /// `HPAYMT`: healthcare payment (claims, レセプト).
    Hpaymt,
    /// `PATRQT`: requested by the patient (disclosure of their own records).
    Patrqt,
}

impl PurposeOfUse {
    /// Every purpose hcpki accepts, in the order documents list them.
    pub const ALL: [PurposeOfUse; 6] =
        [Self::Treat, Self::Etreat, Self::Emer, Self::Hoperat, Self::Hpaymt, Self::Patrqt];

    /// The code of a request parameter, the services file and the tokens.
    pub fn code(self) -> &'static str {
        self.info().0
    }

    /// HL7's display text, as a FHIR Coding's `display`.
    pub fn display(self) -> &'static str {
        self.info().1
    }

    /// The purpose with this code (exact, upper case as HL7 writes them).
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    /// Whether this purpose is break-glass: it needs the confirmation page, a card login with an hcRole and a
    /// service that allows it.
    pub fn is_break_glass(self) -> bool {
        self == Self::Emer
    }

    fn info(self) -> (&'static str, &'static str) {
        match self {
            Self::Treat => ("TREAT", "treatment"),
            Self::Etreat => ("ETREAT", "emergency treatment"),
            Self::Emer => ("EMER", "emergency"),
            Self::Hoperat => ("HOPERAT", "healthcare operations"),
            Self::Hpaymt => ("HPAYMT", "healthcare payment"),
            Self::Patrqt => ("PATRQT", "patient requested"),
        }
    }
}

impl fmt::Display for PurposeOfUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for PurposeOfUse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for PurposeOfUse {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Self::from_code(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown purpose of use {code:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_only_emer_is_break_glass() {
        for p in PurposeOfUse::ALL {
            assert_eq!(PurposeOfUse::from_code(p.code()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.code());
            assert_eq!(serde_json::from_value::<PurposeOfUse>(serde_json::json!(p.code())).unwrap(), p);
            assert_eq!(p.is_break_glass(), p == PurposeOfUse::Emer);
        }
        assert_eq!(PurposeOfUse::default(), PurposeOfUse::Treat);
        for bad in ["treat", "NORM", "", "TREAT "] {
            assert_eq!(PurposeOfUse::from_code(bad), None, "{bad:?}");
        }
    }
}
