//! Making a B-B e-prescription signature around an external signer: [`prepare`] the envelope and the canonical
//! SignedInfo, let the card sign those bytes, [`assemble`] the signed XML.

use super::super::cades::{SignerChain, require_non_repudiation, signature_algorithm};
use super::c14n::exclusive;
use super::envelope::{self, Body, DATA_ID, Ids, RSA_SHA256};
use super::error::XadesError;
use super::ids::IdIndex;
use super::prescription::Prescription;
use super::xml;
use crate::timestamp::{HashAlgorithm, SigningCertificateV2};
use const_oid::db::rfc5912::RSA_ENCRYPTION;
use der::Encode;
use hcpki_pkix::keys::verify::verify_signature;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

/// What the signer must sign: the exclusive canonical form of ds:SignedInfo, with the rest of the document
/// around the place its signature value goes. Not `Clone`: one preparation, one signature.
#[derive(Debug)]
pub struct Prepared {
    head: String,
    tail: String,
    signed_info: Vec<u8>,
    signer: Certificate,
    signature_algorithm: AlgorithmIdentifierOwned,
    prescription: Prescription,
}

impl Prepared {
    /// The exact bytes the signer signs (RSA PKCS#1 v1.5 over their SHA-256): the canonical ds:SignedInfo.
    pub fn to_be_signed(&self) -> &[u8] {
        &self.signed_info
    }

    /// SHA-256 of [`Prepared::to_be_signed`], for a card that is handed a digest.
    pub fn sha256(&self) -> Vec<u8> {
        HashAlgorithm::Sha256.digest(&self.signed_info)
    }

    /// What the prescription says, read strictly: what the page shows before the PIN is asked.
    pub fn prescription(&self) -> &Prescription {
        &self.prescription
    }
}

/// Prepare a B-B signature over the prescription `csv` (UTF-8 JAHIS CSV, signed byte for byte) by the first
/// certificate of `signer_chain` (DER; its CAs follow and go into KeyInfo too), claiming `signing_time` (Unix
/// seconds from the caller's clock: a claim, which only a time stamp proves).
///
/// Refuses a CSV [`Prescription::read`] cannot read unambiguously, a signer certificate without keyUsage nonRepudiation (an
/// authentication certificate never signs a document) and a key other than RSA.
pub fn prepare(csv: &[u8], signer_chain: &[&[u8]], signing_time: i64) -> Result<Prepared, XadesError> {
    let chain = SignerChain::from_der(signer_chain)?;
    require_non_repudiation(&chain.signer)?;
    prepare_for(csv, chain, signing_time)
}

/// [`prepare`] without the keyUsage check: for tests that need what a careless signer would have made.
pub(super) fn prepare_for(csv: &[u8], chain: SignerChain, signing_time: i64) -> Result<Prepared, XadesError> {
    let prescription = Prescription::read(csv)?;
    envelope_for(csv, prescription, chain, signing_time)
}

/// [`prepare_for`] over `csv` without reading it (`shown` stands in): for tests that need what a signer that never
/// read the prescription would have made.
#[cfg(test)]
pub(super) fn prepare_unread(
    csv: &[u8],
    shown: Prescription,
    chain: SignerChain,
    signing_time: i64,
) -> Result<Prepared, XadesError> {
    envelope_for(csv, shown, chain, signing_time)
}

fn envelope_for(
    csv: &[u8],
    prescription: Prescription,
    chain: SignerChain,
    signing_time: i64,
) -> Result<Prepared, XadesError> {
    let spki = chain.signer.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return Err(XadesError::UnsupportedKey(spki.algorithm.oid.to_string()));
    }
    let signature_algorithm = signature_algorithm(&chain.signer)?;
    let encode = |e: der::Error| XadesError::structure(format!("cannot encode the signer certificate ({e})"));
    let ders = chain.all.iter().map(|c| c.to_der()).collect::<Result<Vec<_>, _>>().map_err(encode)?;
    let signer_der = ders.first().ok_or_else(|| XadesError::structure("no signer certificate"))?;
    let ess = SigningCertificateV2::of(&chain.signer, signer_der).map_err(encode)?;
    let cert_id = ess.certs.first().ok_or_else(|| XadesError::structure("no ESSCertIDv2"))?;
    let issuer_serial = cert_id.issuer_serial.to_der().map_err(encode)?;

    // Ids unique to this signature, so two signatures never share one when documents are combined.
    let seed = [csv, signer_der.as_slice(), &signing_time.to_be_bytes()].concat();
    let suffix = hex::encode(HashAlgorithm::Sha256.digest(&seed).get(..8).unwrap_or_default());
    let ids = Ids::new(&suffix);
    let body = Body {
        data: envelope::base64(csv),
        key_info: envelope::key_info(&ids, &ders),
        object: envelope::object(
            &ids,
            &hcpki_pkix::time::rfc3339(signing_time),
            cert_id.cert_hash.as_bytes(),
            &issuer_serial,
        ),
    };
    // The referenced elements are canonicalised in place, in the document they are signed in.
    let (head, tail) = envelope::document(&ids, &body, "");
    let draft = format!("{head}{tail}");
    let parsed = xml::parse(&draft)?;
    let index = IdIndex::of(&parsed)?;
    let digest = |id: &str| -> Result<Vec<u8>, XadesError> {
        Ok(HashAlgorithm::Sha256.digest(&exclusive(index.resolve(&format!("#{id}"))?)))
    };
    let digests = [digest(DATA_ID)?, digest(&ids.signed_properties)?, digest(&ids.key_info)?];
    let [data, properties, key_info] = &digests;
    let signed_info = envelope::signed_info(RSA_SHA256, &ids, [data, properties, key_info]);

    let (head, tail) = envelope::document(&ids, &body, &signed_info);
    let full = format!("{head}{tail}");
    let parsed = xml::parse(&full)?;
    let node = parsed
        .descendants()
        .find(|n| n.tag_name().namespace() == Some(envelope::DS) && n.tag_name().name() == "SignedInfo")
        .ok_or_else(|| XadesError::structure("no ds:SignedInfo written"))?;
    let signed_info = exclusive(node);
    Ok(Prepared { head, tail, signed_info, signer: chain.signer, signature_algorithm, prescription })
}

/// The signed e-prescription XML of `prepared` with `signature_value` (the RSA PKCS#1 v1.5 block). The value is
/// verified first with the signer certificate's key, so a card that signed other bytes (or with another key) is
/// caught here, not by the reader.
pub fn assemble(prepared: Prepared, signature_value: &[u8]) -> Result<Vec<u8>, XadesError> {
    let spki = prepared.signer.tbs_certificate().subject_public_key_info();
    verify_signature(spki, &prepared.signature_algorithm, &prepared.signed_info, signature_value)
        .map_err(|_| XadesError::BadSignature)?;
    let xml = format!("{}{}{}", prepared.head, envelope::base64(signature_value), prepared.tail).into_bytes();
    // What we write, our verifier accepts: a bug in the writer shows here, not at the pharmacy.
    super::check::verify(&xml)?;
    Ok(xml)
}

/// [`assemble`] without any check: for tests that need what a careless signer would have written.
#[cfg(test)]
pub(super) fn assemble_unchecked(prepared: Prepared, signature_value: &[u8]) -> Vec<u8> {
    format!("{}{}{}", prepared.head, envelope::base64(signature_value), prepared.tail).into_bytes()
}
