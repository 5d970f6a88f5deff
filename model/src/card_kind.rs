//! Which kind of card: the one value the agent (which probes a card's applications), the portal (which decides
//! the kind by the trust anchor a login chains to, never by what a browser says) and the virtual cards of the
//! test PKI share, so a new card type is added to one enum rather than three that drift.

use std::fmt;
use std::str::FromStr;

/// HPKI (医療従事者) or JPKI (マイナンバーカード 公的個人認証). Written `hpki` / `jpki` everywhere: JSON, forms,
/// command lines, audit entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum CardKind {
    /// 医療従事者 HPKI card (JAHIS layout): identity and perhaps an hcRole; an authentication and a signature AP.
    Hpki,
    /// マイナンバーカード, 公的個人認証 AP: identity only (利用者証明用 and 署名用 keys).
    Jpki,
}

impl CardKind {
    /// Every kind, in the order pages list them.
    pub const ALL: [CardKind; 2] = [CardKind::Hpki, CardKind::Jpki];

    /// `hpki` or `jpki`.
    pub fn as_str(self) -> &'static str {
        match self {
            CardKind::Hpki => "hpki",
            CardKind::Jpki => "jpki",
        }
    }
}

impl fmt::Display for CardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a text is not a card kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCardKind;

impl fmt::Display for UnknownCardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the card kind is hpki or jpki")
    }
}

impl std::error::Error for UnknownCardKind {}

/// Exactly `hpki` or `jpki` (lower case, as every hcpki page and client writes it).
impl FromStr for CardKind {
    type Err = UnknownCardKind;
    fn from_str(s: &str) -> Result<Self, UnknownCardKind> {
        CardKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(UnknownCardKind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_in_text_and_json() {
        for kind in CardKind::ALL {
            assert_eq!(kind.as_str().parse::<CardKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
            let json = format!("\"{kind}\"");
            assert_eq!(serde_json::from_str::<CardKind>(&json).unwrap(), kind);
        }
        for bad in ["", "HPKI", "Jpki", "evil", "hpki "] {
            assert_eq!(bad.parse::<CardKind>(), Err(UnknownCardKind), "{bad:?}");
        }
    }
}
