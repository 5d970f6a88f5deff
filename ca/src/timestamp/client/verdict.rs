//! One TSA's answer against the request: every check of [`super`]'s list, in the order that names the most
//! useful failure first (a refusal before a signature, a signature before a chain).

use super::chain::TsaTrust;
use super::query::Query;
use super::StampError;
use crate::timestamp::{binding, signature};
use crate::timestamp::response::GRANTED;
use crate::timestamp::{TimeStampResp, TstInfo};
use cms::cert::CertificateChoices;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc3161::ID_CT_TST_INFO;
use const_oid::db::rfc5911::ID_SIGNED_DATA;
use der::asn1::OctetString;
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

/// How far genTime may lie from this host's clock, in seconds. A TSA's genTime is the time, not this host's;
/// but a token five minutes off means one of the two clocks is wrong, and signing should stop until someone
/// looks. The round trip and the TSA's accuracy (a second or so) are well inside.
pub const MAX_SKEW_SECS: i64 = 300;

/// A token that passed every check.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// The `TimeStampToken` (ContentInfo) DER, as a CAdES signatureTimeStampToken or XAdES EncapsulatedTimeStamp
    /// carries it.
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

/// Check `reply` (the DER body the TSA sent) against `query`, trusting `trust`, at `now` (Unix seconds).
pub fn check_reply(query: &Query, reply: &[u8], trust: &TsaTrust, now: i64) -> Result<Stamp, StampError> {
    let response = TimeStampResp::from_der(reply).map_err(|e| StampError::Malformed(e.to_string()))?;
    if response.status.status != GRANTED {
        return Err(refused(&response));
    }
    let token = response.time_stamp_token.ok_or(StampError::NoToken)?;
    let not_a_token = |what: &str, e: der::Error| StampError::NotAToken(format!("{what} ({e})"));
    if token.content_type != ID_SIGNED_DATA {
        return Err(StampError::NotAToken(format!("its content type is {}, not signedData", token.content_type)));
    }
    let signed: SignedData = token.content.decode_as().map_err(|e| not_a_token("the SignedData does not decode", e))?;
    let encap = &signed.encap_content_info;
    if encap.econtent_type != ID_CT_TST_INFO {
        return Err(StampError::NotAToken(format!("its eContentType is {}, not id-ct-TSTInfo", encap.econtent_type)));
    }
    let tst_der = encap
        .econtent
        .as_ref()
        .ok_or_else(|| StampError::NotAToken("it encapsulates no TSTInfo".into()))?
        .decode_as::<OctetString>()
        .map_err(|e| not_a_token("the eContent is not an OCTET STRING", e))?;
    let tst = TstInfo::from_der(tst_der.as_bytes()).map_err(|e| not_a_token("the TSTInfo does not decode", e))?;
    if tst.version != 1 {
        return Err(StampError::NotAToken(format!("TSTInfo version {} (RFC 3161 knows 1)", tst.version)));
    }
    if let Some(critical) = tst.extensions.iter().flatten().find(|e| e.critical) {
        return Err(StampError::NotAToken(format!(
            "it has a critical TSTInfo extension {} hcpki does not know",
            critical.extn_id
        )));
    }
    let infos = signed.signer_infos.0.as_slice();
    let [info] = infos else {
        return Err(StampError::NotAToken(format!("it has {} SignerInfos; RFC 3161 wants exactly one", infos.len())));
    };
    let certificates: Vec<&Certificate> = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(c) => Some(c),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    let signer = certificates.iter().copied().find(|c| names(info, c)).ok_or(StampError::NoCertificate)?;
    let signer_der = signer.to_der().map_err(|e| not_a_token("the TSA certificate does not re-encode", e))?;
    let attributes = signature::verify(info, tst_der.as_bytes(), signer)?;
    binding::check(attributes, signer, &signer_der)?;
    let gen_time = tst.gen_time.unix();
    trust.validate(signer, &certificates, gen_time)?;
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
        return Err(StampError::ClockSkew { gen_time: crate::time::rfc3339(gen_time), skew });
    }
    Ok(Stamp {
        token: token.to_der().map_err(|e| not_a_token("the token does not re-encode", e))?,
        gen_time,
        policy: tst.policy,
        serial: hex::encode(tst.serial_number.as_bytes()),
        tsa: signer.tbs_certificate().subject().to_string(),
    })
}

/// The refusal the status says, with its text and failure bits.
fn refused(response: &TimeStampResp) -> StampError {
    let status = &response.status;
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

/// Whether `info`'s sid names `cert`.
fn names(info: &SignerInfo, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match &info.sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            id.issuer == *tbs.issuer() && id.serial_number == *tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *ski)
        }
    }
}
