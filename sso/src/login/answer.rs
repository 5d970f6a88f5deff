//! The card's answer as the login page posts it: the agent's signature in base64 and the certificates in base64
//! DER, card certificate first, comma-separated (`card-login.js`) → the bytes [`super::CardVerifier::verify`]
//! checks. Pure text decoding, apart from the challenge (taken from the store first, whatever the text holds).

use super::CardLoginError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Certificates a posted chain may hold (card certificate, intermediate, maybe the root): more is not a card.
pub const MAX_POSTED_CERTS: usize = 4;

/// The decoded answer: what the verifier takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedAnswer {
    /// The card's signature over the login message.
    pub signature: Vec<u8>,
    /// DER certificates, card certificate first; 0 to [`MAX_POSTED_CERTS`] of them (the verifier refuses none).
    pub chain: Vec<Vec<u8>>,
}

/// Decode the posted `signature` and `chain` fields. Surrounding whitespace is ignored, and so are empty
/// elements of the chain (a trailing comma); anything else that is not base64 is refused, as is a chain of more
/// than [`MAX_POSTED_CERTS`] certificates (decoding stops at the first one too many).
pub fn decode(signature: &str, chain: &str) -> Result<DecodedAnswer, CardLoginError> {
    let signature = STANDARD
        .decode(signature.trim())
        .map_err(|_| CardLoginError::Malformed { what: "the signature (not base64)".into() })?;
    let chain = chain
        .split(',')
        .filter(|c| !c.trim().is_empty())
        .take(MAX_POSTED_CERTS + 1)
        .map(|c| STANDARD.decode(c.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| CardLoginError::Malformed { what: "the certificate chain (not base64)".into() })?;
    if chain.len() > MAX_POSTED_CERTS {
        return Err(CardLoginError::Malformed {
            what: format!("a chain of more than {MAX_POSTED_CERTS} certificates"),
        });
    }
    Ok(DecodedAnswer { signature, chain })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_with_whitespace_and_a_trailing_comma() {
        let decoded = decode(" AQI= ", "AwQ=, BQ==,\n,").unwrap();
        assert_eq!(decoded, DecodedAnswer { signature: vec![1, 2], chain: vec![vec![3, 4], vec![5]] });
        assert_eq!(decode("", "").unwrap(), DecodedAnswer { signature: vec![], chain: vec![] });
    }

    #[test]
    fn bad_base64_and_long_chains_are_malformed() {
        for (signature, chain, what) in [
            ("A-B_", "AA==", "the signature (not base64)"),
            ("AA==", "AA==,not base64", "the certificate chain (not base64)"),
            ("AA==", "AA==,AA==,AA==,AA==,AA==", "a chain of more than 4 certificates"),
        ] {
            let Err(CardLoginError::Malformed { what: got }) = decode(signature, chain) else {
                panic!("{signature:?} {chain:?} decoded")
            };
            assert_eq!(got, what);
        }
    }
}
