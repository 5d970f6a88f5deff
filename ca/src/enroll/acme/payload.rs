//! The JSON payloads of ACME requests → typed values, before anything is looked up: the payload object itself
//! (RFC 8555 §6.2), newOrder's identifiers (§7.4), finalize's CSR (§7.4) and the names it must request, and an
//! account's contacts (§7.3). Pure functions, so the `acme_validation` fuzz target can drive them directly.

use super::{Problem, order};
use crate::csr::{self, CertificationRequest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Most identifiers in one order.
pub const MAX_IDENTIFIERS: usize = 20;
/// Longest contact URL accepted.
pub const MAX_CONTACT_LEN: usize = 256;

/// The payload bytes as a JSON object; POST-as-GET (an empty payload) is `None`.
pub fn object(payload: &[u8]) -> Result<Option<serde_json::Value>, Problem> {
    if payload.is_empty() {
        return Ok(None);
    }
    let v: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| Problem::malformed(format!("the payload is not JSON ({e})")))?;
    if !v.is_object() {
        return Err(Problem::malformed("the payload must be a JSON object"));
    }
    Ok(Some(v))
}

/// newOrder's `identifiers`: 1 to [`MAX_IDENTIFIERS`] dns identifiers, as lowercase DNS names, duplicates
/// dropped, in the order sent. `notBefore`/`notAfter` are refused: the profile sets the validity.
pub fn order_identifiers(payload: &serde_json::Value) -> Result<Vec<String>, Problem> {
    if payload.get("notBefore").is_some() || payload.get("notAfter").is_some() {
        return Err(Problem::malformed("notBefore/notAfter are not supported: the profile sets the validity"));
    }
    let list = payload
        .get("identifiers")
        .and_then(|i| i.as_array())
        .filter(|l| !l.is_empty() && l.len() <= MAX_IDENTIFIERS)
        .ok_or_else(|| Problem::malformed(format!("identifiers must be an array of 1 to {MAX_IDENTIFIERS}")))?;
    let mut identifiers: Vec<String> = Vec::with_capacity(list.len());
    for v in list {
        let name = order::dns_identifier(v)?;
        if !identifiers.contains(&name) {
            identifiers.push(name);
        }
    }
    Ok(identifiers)
}

/// finalize's `csr`: base64url DER (no padding), parsed and checked (signature, key policy).
pub fn finalize_csr(payload: &serde_json::Value) -> Result<CertificationRequest, Problem> {
    let der = payload
        .get("csr")
        .and_then(|c| c.as_str())
        .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
        .ok_or_else(|| Problem::malformed("csr must be the DER CSR in base64url"))?;
    csr::parse(&der).map_err(|e| Problem::bad_csr(e.to_string()))
}

/// RFC 8555 §7.4: the CSR names exactly the order's identifiers (DNS SANs, and a CN if any among them).
pub fn check_csr_names(csr: &CertificationRequest, identifiers: &[String]) -> Result<(), Problem> {
    let mut names: Vec<String> = csr
        .requested_sans()
        .iter()
        .map(|s| s.strip_prefix("DNS:").unwrap_or(s).trim_end_matches('.').to_ascii_lowercase())
        .collect();
    if let Some(cn) = hcpki_model::name::common_name(csr.requested_subject()) {
        let cn = cn.trim_end_matches('.').to_ascii_lowercase();
        if !names.contains(&cn) {
            names.push(cn);
        }
    }
    names.sort();
    names.dedup();
    let mut wanted = identifiers.to_vec();
    wanted.sort();
    if names != wanted {
        return Err(Problem::bad_csr(format!(
            "the CSR names {} but the order is for {}: request exactly the order's identifiers",
            names.join(", "),
            wanted.join(", ")
        )));
    }
    Ok(())
}

/// An account's `contact`: absent is none; otherwise an array of `mailto:` URLs of at most
/// [`MAX_CONTACT_LEN`] bytes.
pub fn contacts(payload: &serde_json::Value) -> Result<Vec<String>, Problem> {
    let Some(list) = payload.get("contact") else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or_else(|| Problem::malformed("contact must be an array of mailto: URLs"))?;
    list.iter()
        .map(|c| match c.as_str() {
            Some(s) if s.starts_with("mailto:") && s.len() <= MAX_CONTACT_LEN => Ok(s.to_owned()),
            _ => Err(Problem::new(super::ProblemType::Malformed, "contacts must be mailto: URLs")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identifiers_are_lowercased_and_deduplicated_in_order() {
        let payload = json!({ "identifiers": [
            { "type": "dns", "value": "B.Example." }, { "type": "dns", "value": "a.example" },
            { "type": "dns", "value": "b.example" },
        ] });
        assert_eq!(order_identifiers(&payload).unwrap(), ["b.example", "a.example"]);
        assert!(order_identifiers(&json!({ "identifiers": [] })).is_err());
        let validity = json!({ "identifiers": [{ "type": "dns", "value": "a.example" }], "notAfter": "2030-01-01" });
        assert!(order_identifiers(&validity).is_err());
    }

    #[test]
    fn payloads_csrs_and_contacts_are_checked() {
        assert_eq!(object(b"").unwrap(), None);
        assert!(object(b"[]").is_err() && object(b"{").is_err());
        assert!(finalize_csr(&json!({ "csr": "MAA=" })).is_err(), "padding is refused");
        assert!(finalize_csr(&json!({ "csr": "MAA" })).is_err(), "not a CSR");
        assert_eq!(contacts(&json!({})).unwrap(), Vec::<String>::new());
        assert_eq!(contacts(&json!({ "contact": ["mailto:it@example.jp"] })).unwrap(), ["mailto:it@example.jp"]);
        assert!(contacts(&json!({ "contact": ["tel:+81"] })).is_err());
    }
}
