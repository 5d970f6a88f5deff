//! The DICOM PS3.15 Annex A.5 audit message (the XML ITI-20 carries under MSGID `IHE+RFC-3881`) of one audit
//! entry (D97):
//!
//! ```text
//! AuditMessage
//!   EventIdentification  @EventActionCode @EventDateTime @EventOutcomeIndicator
//!     EventID, EventTypeCode+ (the standard one where it fits, and always the hcpki action),
//!     EventOutcomeDescription (refusals: the entry's reason)
//!   ActiveParticipant  the actor (UserIsRequestor true)
//!   ActiveParticipant  hcpki itself (UserIsRequestor false, NetworkAccessPointID: its host name)
//!   AuditSourceIdentification  @AuditSourceID @AuditEnterpriseSiteID, AuditSourceTypeCode 6 (security server)
//!   ParticipantObjectIdentification*  the target, the patient of a consent
//! ```
//!
//! Coded values carry `csd-code`, `codeSystemName` and `originalText` (the schema's CodedValueType). Written by
//! hand: the structure is fixed and small, and every text goes through [`escape`].

use super::event::{Code, HCPKI_ACTIONS, Mapping};
use hcpki_ca::audit::AuditEntry;
use std::fmt::Write as _;

/// Who sends: the AuditSourceIdentification and hcpki's own ActiveParticipant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditSource {
    /// AuditSourceID: this installation's name (`[atna] source_id`, else the host name).
    pub source_id: String,
    /// AuditEnterpriseSiteID (`[atna] site_id`), when the repository sorts sources by site.
    pub site_id: Option<String>,
    /// The host name, hcpki's NetworkAccessPointID.
    pub hostname: String,
}

/// The XML of `entry` mapped as `mapping` (UTF-8, with the XML declaration, no trailing newline).
pub fn dicom_xml(entry: &AuditEntry, mapping: &Mapping, source: &AuditSource) -> String {
    let mut x = String::with_capacity(1024);
    x.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.push_str("<AuditMessage>");
    let _ = write!(
        x,
        r#"<EventIdentification EventActionCode="{}" EventDateTime="{}" EventOutcomeIndicator="{}">"#,
        mapping.action_code,
        date_time(entry.at_ms),
        mapping.outcome
    );
    coded(&mut x, "EventID", mapping.event_id);
    if let Some(t) = mapping.event_type {
        coded(&mut x, "EventTypeCode", t);
    }
    // The action itself, so a repository can filter on hcpki's own names and nothing is lost in the mapping.
    let _ = write!(
        x,
        r#"<EventTypeCode csd-code="{a}" codeSystemName="{HCPKI_ACTIONS}" originalText="{a}"/>"#,
        a = escape(&entry.action)
    );
    if mapping.outcome != 0 {
        let _ = write!(x, "<EventOutcomeDescription>{}</EventOutcomeDescription>", escape(&outcome_text(entry)));
    }
    x.push_str("</EventIdentification>");

    let actor = entry.actor.trim();
    let _ = write!(
        x,
        r#"<ActiveParticipant UserID="{}" UserIsRequestor="{}"/>"#,
        escape(if actor.is_empty() { "-" } else { actor }),
        actor != "system"
    );
    let _ = write!(
        x,
        r#"<ActiveParticipant UserID="{}" AlternativeUserID="hcpki" UserIsRequestor="false" NetworkAccessPointID="{}" NetworkAccessPointTypeCode="1"/>"#,
        escape(&source.source_id),
        escape(&source.hostname)
    );

    let _ = write!(x, r#"<AuditSourceIdentification AuditSourceID="{}""#, escape(&source.source_id));
    if let Some(site) = &source.site_id {
        let _ = write!(x, r#" AuditEnterpriseSiteID="{}""#, escape(site));
    }
    x.push('>');
    coded(&mut x, "AuditSourceTypeCode", Code { code: "6", system: "DCM", text: "Security Server" });
    x.push_str("</AuditSourceIdentification>");

    for o in &mapping.objects {
        let _ = write!(
            x,
            r#"<ParticipantObjectIdentification ParticipantObjectID="{}" ParticipantObjectTypeCode="{}" ParticipantObjectTypeCodeRole="{}">"#,
            escape(&o.id),
            o.type_code,
            o.role
        );
        coded(&mut x, "ParticipantObjectIDTypeCode", o.id_type);
        x.push_str("</ParticipantObjectIdentification>");
    }
    x.push_str("</AuditMessage>");
    x
}

/// `<NAME csd-code=… codeSystemName=… originalText=…/>`.
fn coded(x: &mut String, name: &str, c: Code) {
    let _ = write!(
        x,
        r#"<{name} csd-code="{}" codeSystemName="{}" originalText="{}"/>"#,
        escape(c.code),
        escape(c.system),
        escape(c.text)
    );
}

/// A refusal's or failure's reason from the detail (`reason`, else `error`), else the outcome word.
fn outcome_text(entry: &AuditEntry) -> String {
    let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap_or(serde_json::Value::Null);
    ["reason", "error"]
        .iter()
        .find_map(|k| detail.get(*k).and_then(serde_json::Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| entry.outcome.clone())
}

/// xsd:dateTime in UTC with milliseconds.
fn date_time(at_ms: i64) -> String {
    let base = hcpki_pkix::time::rfc3339(at_ms.div_euclid(1000));
    match base.strip_suffix('Z') {
        Some(stem) => format!("{stem}.{:03}Z", at_ms.rem_euclid(1000)),
        None => base,
    }
}

/// Text for an attribute or element: the five XML specials as entities; characters XML 1.0 forbids (C0
/// controls other than tab, newline, carriage return) as U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
