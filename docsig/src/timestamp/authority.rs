//! The time-stamping authority: a request's DER in, a response's DER out.

use super::refusal::Refusal;
use super::request::{Request, parse_request};
use super::response::{PkiStatusInfo, TimeStampResp};
use super::token::TokenSigner;
use super::tst_info::{Accuracy, GenTime, TstInfo};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use hcpki_model::serial::Serial;
use hcpki_pkix::keys::{KeyError, KeySource};
use std::sync::Arc;
use x509_cert::Certificate;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::ext::pkix::name::GeneralName;

/// `SEQUENCE { SEQUENCE { INTEGER 2 } }`: a bare rejection, for the one case where even a rejection cannot be
/// encoded (it cannot happen with the types above, but the client still gets an answer it can parse).
const BARE_REJECTION: [u8; 7] = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02];

/// What the operator configures about the authority (`[tsa]` in `hcpki.toml`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TsaSettings {
    /// The TSA policy OID every token names; a request asking for another is refused (unacceptedPolicy).
    pub policy: ObjectIdentifier,
    /// How far genTime may lie from UTC (RFC 3161 §2.4.2): the clock's own error plus the second genTime is
    /// truncated to.
    pub accuracy: Accuracy,
}

/// An RFC 3161 time-stamping authority: the `tsa` certificate, its key and the policy.
#[derive(Debug)]
pub struct TimeStampAuthority {
    signer: TokenSigner,
    settings: TsaSettings,
}

/// One answer: the DER to send, and whether it granted a token (for logs and metrics).
#[derive(Debug)]
pub struct Answer {
    /// The `TimeStampResp` DER.
    pub der: Vec<u8>,
    /// `Ok` when a token was granted, else why not.
    pub outcome: Result<(), Refusal>,
}

impl TimeStampAuthority {
    /// The authority signing with `key` under `certificate` (DER), which must be a TSA certificate for that key.
    pub fn new(certificate: &[u8], key: Arc<dyn KeySource>, settings: TsaSettings) -> Result<Self, TsaError> {
        let cert = Certificate::from_der(certificate).map_err(TsaError::Certificate)?;
        if cert.tbs_certificate().subject_public_key_info() != key.public_key() {
            return Err(TsaError::KeyMismatch);
        }
        match cert.tbs_certificate().get_extension::<ExtendedKeyUsage>() {
            Ok(Some((true, eku))) if eku.0 == [hcpki_pkix::oid::KP_TIME_STAMPING] => {}
            _ => return Err(TsaError::NotTsa),
        }
        let signer = TokenSigner::new(cert, certificate, key).map_err(TsaError::Certificate)?;
        Ok(Self { signer, settings })
    }

    /// The policy tokens name.
    pub fn policy(&self) -> &ObjectIdentifier {
        &self.settings.policy
    }

    /// Answer the request `der` with a token dated `now` (Unix seconds, from the caller's clock), or with a
    /// rejection saying why not.
    pub fn answer(&self, der: &[u8], now: i64) -> Answer {
        let outcome = parse_request(der, &self.settings.policy).and_then(|request| self.grant(&request, now));
        let (response, outcome) = match outcome {
            Ok(token) => (token, Ok(())),
            Err(refusal) => (rejection(&refusal), Err(refusal)),
        };
        Answer { der: response.unwrap_or_else(|_| BARE_REJECTION.to_vec()), outcome }
    }

    /// The granted response's DER.
    fn grant(&self, request: &Request, now: i64) -> Result<der::Result<Vec<u8>>, Refusal> {
        let signed = self.token(request, now).map_err(|e| {
            tracing::error!(error = %e, "the TSA could not sign a time stamp");
            Refusal::SystemFailure
        })?;
        Ok(TimeStampResp { status: PkiStatusInfo::granted(), time_stamp_token: Some(signed) }.to_der())
    }

    fn token(&self, request: &Request, now: i64) -> Result<cms::content_info::ContentInfo, KeyError> {
        let serial = Serial::generate().map_err(|e| KeyError::Crypto(e.to_string()))?;
        let tst = TstInfo {
            version: 1,
            policy: self.settings.policy,
            message_imprint: request.imprint.clone(),
            serial_number: serial.number().clone(),
            gen_time: GenTime(hcpki_pkix::time::generalized(now)?),
            accuracy: Some(self.settings.accuracy),
            ordering: false,
            nonce: request.nonce.clone(),
            tsa: Some(GeneralName::DirectoryName(self.signer.certificate().tbs_certificate().subject().clone())),
            extensions: None,
        };
        let signing_time = x509_cert::time::Time::try_from(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(now).unwrap_or_default()),
        )?;
        self.signer.sign(&tst.to_der()?, signing_time, request.cert_req)
    }
}

fn rejection(refusal: &Refusal) -> der::Result<Vec<u8>> {
    TimeStampResp { status: PkiStatusInfo::rejection(refusal)?, time_stamp_token: None }.to_der()
}

/// Why the authority cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsaError {
    /// The TSA certificate does not decode.
    #[error("the TSA certificate is not a DER X.509 certificate ({0}): issue one with the tsa profile")]
    Certificate(der::Error),
    /// The certificate is for another key.
    #[error("the TSA certificate is for another key than the TSA key: issue a new one for this key")]
    KeyMismatch,
    /// The certificate is no TSA certificate.
    #[error(
        "the certificate is not a TSA certificate (critical EKU with timeStamping alone): issue one with the tsa profile"
    )]
    NotTsa,
}
