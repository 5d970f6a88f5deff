//! Checking a signed e-prescription: the start of the verifier (issue #27 item 5), resistant to XML signature
//! wrapping.
//!
//! What is checked: the EP.xsd shape with the one signature at `PrescriptionSign` (`parsed`); every Id in the
//! document unique (`ids`); SignedInfo with exc-c14n and rsa-sha256 and exactly three References, each a bare
//! `#Id` resolving to exactly the PrescriptionDocument, the SignedProperties and the KeyInfo of *this* structure
//! (each once), with the one Transform exc-c14n and SHA-256 digests that match; the signature over the canonical
//! SignedInfo with the first KeyInfo certificate's key; SigningCertificateV2 naming that certificate (digest,
//! IssuerSerialV2); keyUsage nonRepudiation; and each SignatureTimeStamp over the canonical SignatureValue
//! (imprint, TSA signature and binding, EKU timeStamping: the CAdES code). The data returned is decoded from the
//! very element the first Reference digested, and must read strictly as a prescription CSV (`Prescription::read`,
//! D108). Not yet: chains to trust anchors and revocation (item 5's validation core takes [`Verified`] for that).

use super::super::cades::{
    CadesError, Level, TimeStampSeen, check_time_stamp, require_non_repudiation, signature_algorithm,
};
use super::c14n::exclusive;
use super::envelope::{DS, EXC_C14N, SHA256, SIGNED_PROPERTIES_TYPE, XADES};
use super::error::XadesError;
use super::ids::IdIndex;
use super::parsed::{
    Parts, base64_text, children, elements, is, reference_digest, require_algorithm, signed_info_references,
};
use super::prescription::Prescription;
use super::xml;
use crate::timestamp::{HashAlgorithm, IssuerSerial, SigningCertificateV2};
use der::{Decode, Encode};
use hcpki_pkix::keys::verify::verify_signature;
use roxmltree::Node;
use x509_cert::Certificate;

/// What a signed e-prescription that checked says (parallel to `cades::Verified`).
#[derive(Clone, Debug)]
pub struct Verified {
    /// The highest level reached (B-B, or B-T with a signature time stamp).
    pub level: Level,
    /// The signer's certificate (the first in KeyInfo, named by SigningCertificateV2).
    pub signer: Certificate,
    /// The other certificates KeyInfo carries (the signer's CAs), in order.
    pub chain: Vec<Certificate>,
    /// The SigningTime claimed (not proven: see `time_stamps`), Unix seconds; `None` when the signer wrote none
    /// (the national service's examples carry none; hcpki always writes one).
    pub signing_time: Option<i64>,
    /// The signature time stamps, in order (empty at B-B).
    pub time_stamps: Vec<TimeStampSeen>,
    /// The prescription CSV, decoded from exactly the element the signature covers.
    pub prescription: Vec<u8>,
    /// What that CSV says, read by the one strict reader the card agent showed it with ([`Prescription::read`]).
    pub content: Prescription,
}

/// Check the signed e-prescription `xml`.
pub fn verify(xml: &[u8]) -> Result<Verified, XadesError> {
    let intact = intact(xml)?;
    require_non_repudiation(&intact.signer)?;
    let time_stamps = intact
        .time_stamps
        .into_iter()
        .map(|token| check_time_stamp(&token?, &intact.signature_value).map_err(time_stamp_error))
        .collect::<Result<Vec<_>, _>>()?;
    let level = if time_stamps.is_empty() { Level::BaselineB } else { Level::BaselineT };
    Ok(Verified {
        level,
        signer: intact.signer,
        chain: intact.chain,
        signing_time: intact.signing_time,
        time_stamps,
        prescription: intact.prescription,
        content: intact.content,
    })
}

/// A signature that is intact (shape, references, signature value, SigningCertificateV2), before the checks
/// that judge the signer (its key usage: the verifier's, [`super::evidence`]) and the time stamps (each checked by
/// the caller: [`verify`] refuses a broken one, the verifier notes it and ignores it).
pub(super) struct Intact {
    pub(super) signer: Certificate,
    pub(super) chain: Vec<Certificate>,
    pub(super) signing_time: Option<i64>,
    pub(super) prescription: Vec<u8>,
    pub(super) content: Prescription,
    /// The canonical SignatureValue element: what a signature time stamp's imprint is over.
    pub(super) signature_value: Vec<u8>,
    /// Each SignatureTimeStamp's token (DER), or why its element is not one.
    pub(super) time_stamps: Vec<Result<Vec<u8>, XadesError>>,
}

/// Check everything of `xml` but the signer's key usage and the time-stamp tokens.
pub(super) fn intact(xml: &[u8]) -> Result<Intact, XadesError> {
    let document = xml::parse_bytes(xml)?;
    let index = IdIndex::of(&document)?;
    let parts = Parts::of(&document)?;
    check_references(&parts, &index)?;

    let [x509] = children(parts.key_info, "ds:KeyInfo", &[(Some(DS), "X509Data")])?;
    let certificates = elements(x509)
        .into_iter()
        .map(|node| {
            if !is(node, Some(DS), "X509Certificate") {
                return Err(XadesError::structure("X509Data holds other than X509Certificate"));
            }
            let der = base64_text(node, "X509Certificate")?;
            Certificate::from_der(&der).map_err(|e| XadesError::Signer(CadesError::Chain(e.to_string())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (signer, chain) =
        certificates.split_first().ok_or_else(|| XadesError::structure("KeyInfo carries no certificate"))?;

    let value = base64_text(parts.signature_value, "SignatureValue")?;
    let spki = signer.tbs_certificate().subject_public_key_info();
    verify_signature(spki, &signature_algorithm(signer)?, &exclusive(parts.signed_info), &value)
        .map_err(|_| XadesError::BadSignature)?;
    let signing_time = check_signed_properties(parts.signed_properties, signer)?;

    let time_stamps = match parts.unsigned_signature_properties {
        Some(properties) => elements(properties)
            .into_iter()
            .filter(|n| is(*n, Some(XADES), "SignatureTimeStamp"))
            .map(signature_time_stamp_token)
            .collect(),
        None => Vec::new(),
    };
    // A signature over a prescription that can be read two ways proves nothing about what its signer saw.
    let prescription = base64_text(parts.data, "PrescriptionDocument")?;
    let content = Prescription::read(&prescription)?;
    Ok(Intact {
        signer: signer.clone(),
        chain: chain.to_vec(),
        signing_time,
        prescription,
        content,
        signature_value: exclusive(parts.signature_value),
        time_stamps,
    })
}

/// SignedInfo: exc-c14n, rsa-sha256 and exactly the three References of the format, each resolving to its own
/// part of this structure, once, with a matching SHA-256 digest.
fn check_references(parts: &Parts<'_, '_>, index: &IdIndex<'_, '_>) -> Result<(), XadesError> {
    let references = signed_info_references(parts.signed_info)?;
    let targets = [
        (parts.data, "prescription data (PrescriptionDocument)", None),
        (parts.signed_properties, "SignedProperties", Some(SIGNED_PROPERTIES_TYPE)),
        (parts.key_info, "KeyInfo", None),
    ];
    if references.len() != targets.len() {
        return Err(XadesError::structure(
            "SignedInfo must hold exactly three References: the prescription data, SignedProperties and KeyInfo",
        ));
    }
    let mut covered = [false; 3];
    for reference in &references {
        let uri = reference.attribute("URI").unwrap_or_default();
        let target = index.resolve(uri)?;
        let problem = |problem| XadesError::Reference { uri: uri.to_owned(), problem };
        let (slot, (_, name, expected_type)) = targets
            .iter()
            .enumerate()
            .find(|(_, (node, _, _))| *node == target)
            .ok_or_else(|| problem("points to an element this format does not sign"))?;
        let seen = covered.get_mut(slot).ok_or_else(|| problem("points to an element this format does not sign"))?;
        if std::mem::replace(seen, true) {
            return Err(problem("points to an element another reference already covers"));
        }
        if let Some(expected) = expected_type
            && reference.attribute("Type") != Some(*expected)
        {
            return Err(problem("to SignedProperties lacks Type=\"http://uri.etsi.org/01903#SignedProperties\""));
        }
        if reference_digest(*reference)? != HashAlgorithm::Sha256.digest(&exclusive(target)) {
            return Err(XadesError::DigestMismatch(name));
        }
    }
    Ok(())
}

/// SignedSignatureProperties: SigningCertificateV2 naming `signer`, and SigningTime when present (returned, Unix
/// seconds).
fn check_signed_properties(properties: Node<'_, '_>, signer: &Certificate) -> Result<Option<i64>, XadesError> {
    let [signature_properties] =
        children(properties, "xades:SignedProperties", &[(Some(XADES), "SignedSignatureProperties")])?;
    let at_most_one = |local: &'static str| -> Result<Option<Node<'_, '_>>, XadesError> {
        let mut found = elements(signature_properties).into_iter().filter(|n| is(*n, Some(XADES), local));
        match (found.next(), found.next()) {
            (node, None) => Ok(node),
            _ => Err(XadesError::structure(format!("SignedSignatureProperties holds more than one {local}"))),
        }
    };
    let signing_time = at_most_one("SigningTime")?
        .map(|time| {
            time.text()
                .and_then(hcpki_pkix::time::parse_rfc3339)
                .ok_or_else(|| XadesError::structure("SigningTime is not an xsd:dateTime with a time zone"))
        })
        .transpose()?;
    let certificate = at_most_one("SigningCertificateV2")?
        .ok_or_else(|| XadesError::structure("SignedSignatureProperties holds no SigningCertificateV2"))?;
    let [cert] = children(certificate, "xades:SigningCertificateV2", &[(Some(XADES), "Cert")])?;
    let [digest, issuer_serial] =
        children(cert, "xades:Cert", &[(Some(XADES), "CertDigest"), (Some(XADES), "IssuerSerialV2")])?;
    let [method, value] =
        children(digest, "xades:CertDigest", &[(Some(DS), "DigestMethod"), (Some(DS), "DigestValue")])?;
    require_algorithm(method, "CertDigest's DigestMethod", SHA256)?;
    let der =
        signer.to_der().map_err(|e| XadesError::structure(format!("cannot encode the signer certificate ({e})")))?;
    let ours = SigningCertificateV2::of(signer, &der)
        .map_err(|e| XadesError::structure(format!("cannot encode IssuerSerial ({e})")))?;
    let ours = ours.certs.first().ok_or(XadesError::SigningCertificateMismatch)?;
    let named = IssuerSerial::from_der(&base64_text(issuer_serial, "IssuerSerialV2")?)
        .map_err(|_| XadesError::structure("IssuerSerialV2 is not a DER IssuerSerial (RFC 5035)"))?;
    if base64_text(value, "CertDigest")? != ours.cert_hash.as_bytes() || named != ours.issuer_serial {
        return Err(XadesError::SigningCertificateMismatch);
    }
    Ok(signing_time)
}

/// One xades:SignatureTimeStamp: exc-c14n declared and one EncapsulatedTimeStamp, whose token (returned) must be
/// over the canonical SignatureValue.
fn signature_time_stamp_token(node: Node<'_, '_>) -> Result<Vec<u8>, XadesError> {
    let [method, token] = children(
        node,
        "xades:SignatureTimeStamp",
        &[(Some(DS), "CanonicalizationMethod"), (Some(XADES), "EncapsulatedTimeStamp")],
    )?;
    require_algorithm(method, "SignatureTimeStamp's CanonicalizationMethod", EXC_C14N)?;
    base64_text(token, "EncapsulatedTimeStamp")
}

/// A CAdES time-stamp error in XAdES words where they differ.
pub(super) fn time_stamp_error(error: CadesError) -> XadesError {
    match error {
        CadesError::TimeStampImprint => XadesError::TimeStampImprint,
        other => XadesError::Signer(other),
    }
}
