//! One TSA's answer against the request: every check of [`super`]'s list, in the order that names the most
//! useful failure first (a refusal before a signature, a signature before a chain).

use super::StampError;
use super::chain::{TsaTrust, tsa_certificate};
use super::query::Query;
use crate::timestamp::response::GRANTED;
use crate::timestamp::{PkiStatusInfo, ReceivedToken, TokenError};
use const_oid::ObjectIdentifier;
use hcpki_pkix::asn1::ber::{self, BerError, Element};

/// How far genTime may lie from this host's clock, in seconds. A TSA's genTime is the time, not this host's;
/// but a token five minutes off means one of the two clocks is wrong, and signing should stop until someone
/// looks. The round trip and the TSA's accuracy (a second or so) are well inside.
pub const MAX_SKEW_SECS: i64 = 300;

/// A token that passed every check.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// The `TimeStampToken` (ContentInfo) as the TSA sent it (BER; DER from most TSAs), as a CAdES
    /// signatureTimeStampToken, an XAdES EncapsulatedTimeStamp or a PDF document time stamp carries it.
    pub token: Vec<u8>,
    /// genTime, Unix seconds.
    pub gen_time: i64,
    /// The token's policy.
    pub policy: ObjectIdentifier,
    /// The token's serial number, hex.
    pub serial: String,
    /// The TSA certificate's subject.
    pub tsa: String,
}

/// Check `reply` (the body the TSA sent) against `query`, trusting `trust`, at `now` (Unix seconds). The token is
/// read and accepted by [`ReceivedToken`], as the verifier and the embedders read it: what this accepts, a
/// signature can carry.
pub fn check_reply(query: &Query, reply: &[u8], trust: &TsaTrust, now: i64) -> Result<Stamp, StampError> {
    let malformed = |e: BerError| StampError::Malformed(e.to_string());
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }, read by its
    // elements: the token is kept as it arrived (BER; what a signature embeds).
    let fields = Element::whole(reply).map_err(malformed)?.children().map_err(malformed)?;
    let (status, token) = match fields.as_slice() {
        [status] => (status, None),
        [status, token] => (status, Some(token)),
        more => return Err(StampError::Malformed(format!("a TimeStampResp of {} fields", more.len()))),
    };
    let status: PkiStatusInfo = ber::decode(status.encoding).map_err(malformed)?;
    if status.status != GRANTED {
        return Err(refused(&status));
    }
    let token = ReceivedToken::read(token.ok_or(StampError::NoToken)?.encoding).map_err(|e| not_accepted(e, None))?;
    let signer = token.verify().map_err(|e| not_accepted(e, Some(&token)))?;
    let tst = token.tst_info();
    let gen_time = tst.gen_time.unix();
    let certificates = token.certificates();
    trust.validate(&signer, &certificates.iter().collect::<Vec<_>>(), gen_time)?;
    let sent = query.imprint();
    if tst.message_imprint.hash_algorithm.oid != sent.hash_algorithm.oid
        || tst.message_imprint.hashed_message != sent.hashed_message
    {
        return Err(StampError::ImprintMismatch);
    }
    if tst.nonce.as_ref() != Some(query.nonce()) {
        return Err(StampError::NonceMismatch);
    }
    if let Some(want) = query.policy()
        && tst.policy != *want
    {
        return Err(StampError::PolicyMismatch { got: tst.policy.to_string(), want: want.to_string() });
    }
    let skew = (gen_time - now).abs();
    if skew > MAX_SKEW_SECS {
        return Err(StampError::ClockSkew { gen_time: hcpki_pkix::time::rfc3339(gen_time), skew });
    }
    Ok(Stamp {
        token: token.encoding().to_vec(),
        gen_time,
        policy: tst.policy,
        serial: hex::encode(tst.serial_number.as_bytes()),
        tsa: signer.tbs_certificate().subject().to_string(),
    })
}

/// The client's words for a token [`ReceivedToken`] did not take (`token`, when it was read).
fn not_accepted(error: TokenError, token: Option<&ReceivedToken>) -> StampError {
    match error {
        TokenError::NoCertificate => StampError::NoCertificate,
        TokenError::BadSignature(why) => StampError::BadSignature(why),
        TokenError::Binding(why) => StampError::Binding(why),
        TokenError::NotTsa(subject) => {
            // The client's own reading of RFC 3161 §2.3 says more precisely what the certificate lacks.
            let signer = token.and_then(|t| t.signed_data().signer_certificate());
            let reason = signer.and_then(|c| tsa_certificate(&c).err());
            StampError::NotTsaCertificate {
                subject,
                reason: reason.unwrap_or_else(|| "it has no extended key usage timeStamping".into()),
            }
        }
        other => StampError::NotAToken(other.to_string()),
    }
}

/// The refusal the status says, with its text and failure bits.
fn refused(status: &PkiStatusInfo) -> StampError {
    let text = status.status_string.as_ref().map(|t| format!(": {}", t.join(" "))).unwrap_or_default();
    let fail = status
        .fail_info
        .as_ref()
        .map(|bits| {
            let set: Vec<String> = bits.bits().enumerate().filter(|(_, on)| *on).map(|(n, _)| n.to_string()).collect();
            format!(", failInfo bits {}", set.join(" "))
        })
        .unwrap_or_default();
    StampError::Refused { status: status.status, text, fail }
}
