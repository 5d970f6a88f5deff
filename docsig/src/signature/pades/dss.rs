//! B-LT: the validation data (certificates, CRLs, OCSP responses) in the document security store, /DSS in the
//! catalog (ETSI EN 319 142-1 §5.4.2; ISO 32000-2 §12.8.4.3), added by a further incremental update. Data
//! already in the store is kept and not repeated.

use super::PadesError;
use super::pdf::{Dictionary, Document, Object, ObjectId};
use super::update::Update;

/// Validation data the caller gathered (while the certificates were valid): DER each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationData {
    /// Certificates: the signer's chain, the TSAs' chains.
    pub certificates: Vec<Vec<u8>>,
    /// CRLs.
    pub crls: Vec<Vec<u8>>,
    /// OCSP responses (OCSPResponse, RFC 6960).
    pub ocsps: Vec<Vec<u8>>,
}

impl ValidationData {
    /// Whether there is nothing to add.
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty() && self.crls.is_empty() && self.ocsps.is_empty()
    }
}

/// `pdf` with `data` added to its document security store (B-LT once it covers the signer's and the TSA's
/// chains and revocation).
pub fn add_validation_data(pdf: &[u8], data: &ValidationData) -> Result<Vec<u8>, PadesError> {
    let document = Document::parse(pdf)?;
    let mut update = Update::new(&document);
    let mut catalog = document.catalog()?;
    let (dss_id, mut dss) = match catalog.get("DSS") {
        Some(Object::Reference(id)) => (*id, document.dictionary(*id)?),
        Some(Object::Dictionary(d)) => (update.allocate(), d.clone()),
        _ => (update.allocate(), Dictionary::from_iter([("Type", Object::name("DSS"))])),
    };
    for (key, items) in [("Certs", &data.certificates), ("CRLs", &data.crls), ("OCSPs", &data.ocsps)] {
        let mut list = match dss.get(key) {
            Some(list) => document.resolve(list)?.as_array().map(<[Object]>::to_vec).unwrap_or_default(),
            None => Vec::new(),
        };
        let present = list
            .iter()
            .filter_map(Object::as_reference)
            .filter_map(|id| document.stream_data(id).ok())
            .collect::<Vec<_>>();
        let mut added: Vec<&Vec<u8>> = Vec::new();
        for der in items.iter() {
            if present.contains(der) || added.contains(&der) {
                continue;
            }
            added.push(der);
            let id = update.allocate();
            update.put_stream(id, Dictionary::new(), der);
            list.push(Object::Reference(id));
        }
        if !list.is_empty() {
            dss.set(key, Object::Array(list));
        }
    }
    update.put(dss_id, &Object::Dictionary(dss));
    if catalog.get("DSS").and_then(Object::as_reference) != Some(dss_id) {
        catalog.set("DSS", Object::Reference(dss_id));
        update.put(document.root_id(), &Object::Dictionary(catalog));
    }
    Ok(update.finish()?.bytes)
}

/// The validation data in `document`'s security store.
pub(super) fn read(document: &Document<'_>) -> Result<ValidationData, PadesError> {
    let mut data = ValidationData::default();
    let Some(dss) = document.catalog()?.get("DSS").cloned() else { return Ok(data) };
    let Some(dss) = document.resolve(&dss)?.as_dictionary().cloned() else { return Ok(data) };
    for (key, out) in [("Certs", &mut data.certificates), ("CRLs", &mut data.crls), ("OCSPs", &mut data.ocsps)] {
        let Some(list) = dss.get(key) else { continue };
        for item in document.resolve(list)?.as_array().unwrap_or_default() {
            let id: ObjectId = item.as_reference().ok_or(PadesError::Malformed {
                offset: 0,
                problem: format!("/DSS /{key} holds something other than stream references"),
            })?;
            out.push(document.stream_data(id)?);
        }
    }
    Ok(data)
}
