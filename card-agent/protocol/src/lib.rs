//! The bytes the card agent (`hcpki-agent`) and the portal (`hcpki` server) must agree on, in one place
//! with few dependencies (SHA-256, and `hcpki-model` for [`CardKind`]): the agent builds the message a card signs, the server rebuilds it to verify;
//! why the authentication key signs ([`AuthPurpose`], bound into the message);
//! the card presence report ([`presence`]) the agent sends the portal; which kind of card ([`CardKind`]); and the
//! format and level of a document signature ([`signature`]).
//! A crate of its own so that the server need not link the agent (and PC/SC) to share one function.
#![forbid(unsafe_code)]

pub mod card_kind;
pub mod presence;
pub mod purpose;
pub mod signature;

pub use card_kind::CardKind;
/// Signing sessions' limits (D163, D172): the agent's defaults and ceiling, a facility's lower limit.
pub use hcpki_model::signing_limit;
/// A card key's algorithm (D153), decided from its certificate: what [`card_input`] hands the card.
pub use hcpki_model::{CardKeyAlgorithm, CardKeyError};
pub use purpose::AuthPurpose;

pub use purpose::{LOGIN_CONTEXT, login_message};

/// The card id: SHA-256 (64 lower-case hex digits) of the card's identity certificate, its authentication
/// end-entity certificate as DER. The agent names a card by it (cache, card-watch events, presence reports);
/// the portal derives it from the certificate a login verified, never from what a browser posts (issue #24,
/// item 4), so both sides compute it here. No personal data: a hash of a public certificate.
pub fn card_id(identity_certificate: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(identity_certificate).iter().map(|b| format!("{b:02x}")).collect()
}

/// DER DigestInfo of SHA-256(message) (RFC 8017 §9.2 note 1): what both card families sign for the agent
/// (PKCS#1 v1.5, i.e. `sha256WithRSAEncryption` over the message).
pub fn sha256_digest_info(message: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    const PREFIX: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
        0x20,
    ];
    let mut out = PREFIX.to_vec();
    out.extend_from_slice(&sha2::Sha256::digest(message));
    out
}

/// What a card is handed to sign, typed by its key's algorithm (D153, D177): the two are handled differently on
/// the way to the card (an HPKI driver pads the first itself and must never pad the second), so a driver is told
/// which it holds rather than guessing from the length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardInput {
    /// The DER DigestInfo of SHA-256, for PKCS#1 v1.5 (`sha256WithRSAEncryption`): the My Number card pads it; an
    /// HPKI driver pads it on the host (JAHIS C.6.1).
    RsaDigestInfo(Vec<u8>),
    /// The bare 48-byte SHA-384, for ECDSA P-384: nothing to pad; the card answers `r ‖ s`.
    EcdsaP384Hash(Vec<u8>),
}

impl CardInput {
    /// The bytes as they go to the card (before any host-side padding).
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::RsaDigestInfo(b) | Self::EcdsaP384Hash(b) => b,
        }
    }
}

/// What a card with a key of `algorithm` is handed to sign `message` (D153): the DER DigestInfo of SHA-256 for an
/// RSA card, the bare SHA-384 for an ECDSA P-384 card. The agent hands the card this; the portal verifies the
/// signature over `message` with the same algorithm.
pub fn card_input(algorithm: CardKeyAlgorithm, message: &[u8]) -> CardInput {
    use sha2::Digest;
    match algorithm {
        CardKeyAlgorithm::EcdsaP384Sha384 => CardInput::EcdsaP384Hash(sha2::Sha384::digest(message).to_vec()),
        _ => CardInput::RsaDigestInfo(sha256_digest_info(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_id_is_hex_sha256_of_the_certificate() {
        assert_eq!(card_id(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert!(presence::valid_card_id(&card_id(b"any certificate")));
    }

    #[test]
    fn each_key_algorithm_gets_its_own_input() {
        use hcpki_model::CardKeyAlgorithm as A;
        assert_eq!(card_input(A::RsaPkcs1Sha256, b"m"), CardInput::RsaDigestInfo(sha256_digest_info(b"m")));
        let ec = card_input(A::EcdsaP384Sha384, b"abc");
        assert!(matches!(ec, CardInput::EcdsaP384Hash(_)));
        assert_eq!(ec.bytes().len(), 48);
        assert!(ec.bytes().starts_with(&[0xcb, 0x00, 0x75, 0x3f]));
    }

    #[test]
    fn layout_is_context_origin_challenge() {
        assert_eq!(
            login_message("https://p.example", b"\x01\x02"),
            b"hcpki card login v1\0https://p.example\0\x01\x02"
        );
    }
}
