//! The CA certificates a signature carries beside the signer's. An HPKI card holds its end-entity certificates
//! only, so a `.p7s` made from the card's chain alone names a signer no verifier can chain to the HPKI root
//! without fetching the issuing CA. `[signing] ca_certificates` in agent.toml lists the files of the CA
//! certificates (the HPKI signature CAs the MHLW root certifies); the agent adds those that issued the signer's
//! certificate, up to (not including) a self-signed root, in chain order.

use der::Decode as _;
use x509_cert::Certificate;

/// At most this many CA certificates are added (HPKI: one signature CA under the root).
const MAX_ADDED: usize = 4;

/// `chain` (end entity first, as the card gave it) followed by the certificates of `issuers` (DER) that issued
/// its last certificate, then theirs, in order; certificates already in `chain` are not repeated.
pub fn complete(chain: &[Vec<u8>], issuers: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = chain.to_vec();
    let parsed: Vec<(Certificate, &Vec<u8>)> =
        issuers.iter().filter_map(|der| Certificate::from_der(der).ok().map(|c| (c, der))).collect();
    for _ in 0..MAX_ADDED {
        let Some(last) = out.last().and_then(|der| Certificate::from_der(der).ok()) else { break };
        let tbs = last.tbs_certificate();
        if tbs.issuer() == tbs.subject() {
            break;
        }
        let next = parsed.iter().find(|(c, der)| {
            let t = c.tbs_certificate();
            t.subject() == tbs.issuer() && t.subject() != t.issuer() && !out.contains(der)
        });
        match next {
            Some((_, der)) => out.push((*der).clone()),
            None => break,
        }
    }
    out
}
