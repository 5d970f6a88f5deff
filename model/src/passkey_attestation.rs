//! Which passkeys a facility admits (issue #48 item 1, D147, D170): the kind of attestation an authenticator gave
//! at registration, and the facility's rule over it. Here, below the store and the SSO core, because the store
//! keeps each facility's rule and each passkey's kind, and the WebAuthn core checks them.

use std::fmt;

/// How the authenticator vouched for its model when the passkey was registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttestationKind {
    /// No statement (`none`): the AAGUID is only a claim.
    None,
    /// `packed` signed by the credential key itself: proves possession, not the model.
    SelfAttested,
    /// `packed` signed by a certificate's key (x5c): the model's claim is signed by its maker's key. The
    /// certificate's chain to a FIDO metadata root is not checked (D147).
    Certified,
}

impl AttestationKind {
    /// The name kept with the credential and audited.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::SelfAttested => "self",
            Self::Certified => "basic",
        }
    }

    /// The kind a stored name says; an unknown name (a later release's) is treated as no statement, the weakest.
    pub fn from_stored(name: &str) -> Self {
        match name {
            "basic" => Self::Certified,
            "self" => Self::SelfAttested,
            _ => Self::None,
        }
    }
}

/// An authenticator model's id (AAGUID, 16 bytes), written as a UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Aaguid([u8; 16]);

impl Aaguid {
    /// The id from its bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Its bytes.
    pub const fn bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parse a UUID (`cb69481e-8ff7-4039-93ec-0a2729a154a8`) or 32 hex digits, any case.
    pub fn parse(text: &str) -> Result<Self, AttestationRuleError> {
        let bad = || AttestationRuleError::Model(text.trim().chars().take(48).collect());
        let digits: String = text.trim().chars().filter(|c| *c != '-').collect();
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(&digits, &mut bytes).map_err(|_| bad())?;
        if bytes == [0; 16] {
            // All zeros is what authenticators send when they do not say their model.
            return Err(bad());
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = hex::encode(self.0);
        write!(f, "{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
    }
}

/// Which authenticators a facility admits, at registration and again at every sign-in at the facility.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AttestationPolicy {
    /// Any authenticator, attested or not (the default: synced passkeys send none).
    #[default]
    None,
    /// Any authenticator that signs an attestation with a certificate (hardware keys).
    Any,
    /// Only these models, each attested with a certificate.
    Models(Vec<Aaguid>),
}

/// The most models one facility lists.
pub const MAX_MODELS: usize = 64;

/// Why a rule was refused; each says what to give instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationRuleError {
    /// Not one of the three names.
    #[error(
        "unknown passkey rule {0:?}: use none (any passkey), any (attested hardware keys) or models (listed models only)"
    )]
    Unknown(String),
    /// `models` without a model, or models with another rule.
    #[error("the rule models needs at least one model (--model AAGUID); the rules none and any take no model")]
    Models,
    /// Too many models.
    #[error("{0} models listed: list at most {MAX_MODELS}")]
    TooMany(usize),
    /// Not an AAGUID.
    #[error("{0:?} is not an authenticator model id: give its AAGUID as a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")]
    Model(String),
}

impl AttestationPolicy {
    /// The rule named `name` (`none`, `any`, `models`) with `models` (AAGUIDs, only for `models`).
    pub fn parse<S: AsRef<str>>(name: &str, models: &[S]) -> Result<Self, AttestationRuleError> {
        match (name.trim(), models.is_empty()) {
            ("none", true) => Ok(Self::None),
            ("any", true) => Ok(Self::Any),
            ("models", false) if models.len() > MAX_MODELS => Err(AttestationRuleError::TooMany(models.len())),
            ("models", false) => {
                let mut list = models.iter().map(|m| Aaguid::parse(m.as_ref())).collect::<Result<Vec<_>, _>>()?;
                list.sort();
                list.dedup();
                Ok(Self::Models(list))
            }
            ("none" | "any" | "models", _) => Err(AttestationRuleError::Models),
            (other, _) => Err(AttestationRuleError::Unknown(other.chars().take(32).collect())),
        }
    }

    /// Its name: `none`, `any` or `models`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Any => "any",
            Self::Models(_) => "models",
        }
    }

    /// The models it lists (empty unless [`Self::Models`]).
    pub fn models(&self) -> &[Aaguid] {
        match self {
            Self::Models(list) => list,
            Self::None | Self::Any => &[],
        }
    }

    /// What the registration asks the browser for (`attestation` of the creation options).
    pub fn conveyance(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Any | Self::Models(_) => "direct",
        }
    }

    /// Whether a passkey attested as `kind` for model `aaguid` may register or sign in.
    pub fn admits(&self, kind: AttestationKind, aaguid: &[u8; 16]) -> bool {
        match self {
            Self::None => true,
            Self::Any => kind == AttestationKind::Certified,
            Self::Models(models) => kind == AttestationKind::Certified && models.iter().any(|m| m.bytes() == aaguid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YUBI: &str = "cb69481e-8ff7-4039-93ec-0a2729a154a8";

    #[test]
    fn rules_parse_with_their_models_and_say_what_to_give() {
        assert_eq!(AttestationPolicy::parse::<&str>("none", &[]), Ok(AttestationPolicy::None));
        assert_eq!(AttestationPolicy::parse::<&str>(" any ", &[]), Ok(AttestationPolicy::Any));
        let rule = AttestationPolicy::parse("models", &[YUBI, "CB69481E8FF7403993EC0A2729A154A8"]).unwrap();
        assert_eq!(rule.models().len(), 1, "one model, however written");
        assert_eq!(rule.models()[0].to_string(), YUBI);
        assert_eq!(AttestationPolicy::parse::<&str>("models", &[]), Err(AttestationRuleError::Models));
        assert_eq!(AttestationPolicy::parse("any", &[YUBI]), Err(AttestationRuleError::Models));
        assert!(matches!(AttestationPolicy::parse::<&str>("hardware", &[]), Err(AttestationRuleError::Unknown(_))));
        assert!(matches!(AttestationPolicy::parse("models", &["yubikey"]), Err(AttestationRuleError::Model(_))));
        let zero = "00000000-0000-0000-0000-000000000000";
        assert!(matches!(AttestationPolicy::parse("models", &[zero]), Err(AttestationRuleError::Model(_))));
        let many: Vec<String> = (1..=65).map(|i| format!("{i:032x}")).collect();
        assert_eq!(AttestationPolicy::parse("models", &many), Err(AttestationRuleError::TooMany(65)));
    }

    #[test]
    fn each_rule_admits_what_it_says_and_a_stored_kind_reads_back() {
        let model = Aaguid::parse(YUBI).unwrap();
        let other = [7u8; 16];
        for kind in [AttestationKind::None, AttestationKind::SelfAttested, AttestationKind::Certified] {
            assert_eq!(AttestationKind::from_stored(kind.as_str()), kind);
            assert!(AttestationPolicy::None.admits(kind, &other));
            assert_eq!(AttestationPolicy::Any.admits(kind, &other), kind == AttestationKind::Certified);
        }
        let models = AttestationPolicy::Models(vec![model]);
        assert!(models.admits(AttestationKind::Certified, model.bytes()));
        assert!(!models.admits(AttestationKind::Certified, &other));
        assert!(!models.admits(AttestationKind::SelfAttested, model.bytes()));
        assert_eq!(AttestationKind::from_stored("tpm"), AttestationKind::None, "unknown is the weakest");
    }
}
