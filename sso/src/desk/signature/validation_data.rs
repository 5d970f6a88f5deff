//! B-LT's validation data, gathered by the server when it completes a request (D82): the signer's validated
//! path (signer certificate, its CAs, the configured HPKI anchor), the TSA's certificates as its token carries
//! them, and the CRLs of that path from the card login's CRL cache — which holds only CRLs fetched from the
//! operator's `[login] crl_urls` and signed by a configured CA. Nothing is fetched here, and never from a URL a
//! posted certificate names: a signature cannot make the server connect anywhere.

use crate::login::CardVerifier;
use crate::login::trust::ParsedCert;
use der::Encode as _;
use hcpki_docsig::timestamp::ReceivedToken;

/// What a B-LT signature embeds, DER each, without repeats.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Gathered {
    /// The signer's path (signer first, anchor last), then the TSA's certificates.
    pub certificates: Vec<Vec<u8>>,
    /// The signer certificate's CRL first, then those of its CAs the cache holds.
    pub crls: Vec<Vec<u8>>,
}

/// The validation data for a signature by the first certificate of `path` (the validated path, signer first,
/// anchor last), time-stamped by `token` at `at` (its genTime). The signer's CRL must be in `verifier`'s cache
/// and count for `at` (current then, or issued after); without it, the words for the operator. A CA's CRL (the
/// root's ARL) is added when the cache holds one that counts, and left out otherwise: the verifier's B-LT asks
/// for the signer's status (D73).
pub(super) fn gather(verifier: &CardVerifier, path: &[Vec<u8>], token: &[u8], at: i64) -> Result<Gathered, String> {
    let parsed = path
        .iter()
        .map(|der| ParsedCert::from_der(der).map_err(|e| format!("a certificate of the signer's path: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut gathered = Gathered::default();
    for (depth, pair) in parsed.windows(2).enumerate() {
        let [cert, issuer] = pair else { continue };
        match verifier.crls().crl_at(cert, issuer, at) {
            Ok(crl) => push_new(&mut gathered.crls, crl),
            Err(why) if depth == 0 => {
                return Err(format!(
                    "{why} at the time stamp's time {}: the signer's revocation status cannot be embedded. The \
                     operator adds the CRL of {} to [login] crl_urls (http:// or file:) and that CA to [login] \
                     intermediates, then checks it with `hcpki login crls`",
                    hcpki_pkix::time::rfc3339(at),
                    issuer.subject()
                ));
            }
            Err(why) => tracing::info!(%why, "a CA's CRL is not embedded in a B-LT signature (not required)"),
        }
    }
    for der in path.iter().cloned().chain(token_certificates(token)?) {
        push_new(&mut gathered.certificates, der);
    }
    Ok(gathered)
}

/// The certificates a time-stamp token carries (the TSA certificate, since hcpki asks with certReq, and any CA
/// the TSA adds), read by the one reader of tokens (BER, as the TSA sent it).
fn token_certificates(token: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let read = ReceivedToken::read(token).map_err(|e| format!("the time-stamp token does not decode: {e}"))?;
    read.certificates()
        .iter()
        .map(|c| c.to_der().map_err(|e| format!("a certificate of the time-stamp token does not encode: {e}")))
        .collect()
}

fn push_new(list: &mut Vec<Vec<u8>>, der: Vec<u8>) {
    if !list.contains(&der) {
        list.push(der);
    }
}
