//! Audit entries as RFC 5424 syslog messages, for a SIEM (issue #8): one message per entry, carrying the
//! whole entry so the collector can re-check the hash chain.
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME hcpki - MSGID [hcpki@32473 seq="…" actor="…" target="…" outcome="…" prev="…" hash="…"] BOM detail
//! ```
//!
//! * PRI: facility 13 ("log audit") × 8 + severity: `ok` informational (6), `denied` warning (4), `failed`
//!   error (3), so a collector can alert on refusals without parsing the message.
//! * MSGID: the action (`cert.issue`, `login.card`, …): printable ASCII, at most 32 characters (RFC 5424 §6.2.7).
//! * Structured data under the SD-ID `hcpki@32473`: 32473 is the private enterprise number RFC 5612 reserves
//!   for documentation; the SD-ID names this format, it does not claim an IANA registration.
//! * MSG: the entry's detail JSON exactly as hashed, after the UTF-8 BOM RFC 5424 §6.4 asks for.
//!
//! Sending uses octet-counting framing over TCP (RFC 6587 §3.4.1), which rsyslog, syslog-ng and most SIEM
//! collectors accept and which survives newlines in a message.
//!
//! [`atna`] writes the other form, IHE ITI-20's (D97): facility 10 (security/authorization), MSGID
//! `IHE+RFC-3881`, the DICOM audit message XML as MSG, sent over TLS (RFC 5425, the same octet counting).

use hcpki_ca::audit::AuditEntry;
use std::fmt::Write as _;

/// RFC 5424 "log audit".
const FACILITY_LOG_AUDIT: u8 = 13;
/// The SD-ID of the audit fields.
pub const SD_ID: &str = "hcpki@32473";
const BOM: &str = "\u{feff}";

/// RFC 5424 facility 10, "security/authorization messages": the one ITI-20 names.
const FACILITY_AUTHPRIV: u8 = 10;
/// ITI-20's MSGID of a DICOM PS3.15 audit message.
pub const ATNA_MSGID: &str = "IHE+RFC-3881";

/// Severity by outcome: `ok` informational (6), `denied` warning (4), anything else error (3).
fn severity(entry: &AuditEntry) -> u8 {
    match entry.outcome.as_str() {
        "ok" => 6,
        "denied" => 4,
        _ => 3,
    }
}

/// One entry's ATNA message (ITI-20, no trailing newline): PRI facility 10 with the outcome's severity, MSGID
/// `IHE+RFC-3881`, structured data naming the entry (`seq`, `hash`: a repository can drop the duplicates
/// at-least-once delivery may bring, and link the messages into the chain), then `xml` after the BOM.
pub fn atna(entry: &AuditEntry, hostname: &str, xml: &str) -> String {
    let pri = FACILITY_AUTHPRIV * 8 + severity(entry);
    format!(
        "<{pri}>1 {} {} hcpki - {ATNA_MSGID} [{SD_ID} seq=\"{}\" hash=\"{}\"] {BOM}{xml}",
        timestamp(entry.at_ms),
        header_field(hostname, 255),
        entry.seq,
        param_value(&entry.hash)
    )
}

/// One entry as an RFC 5424 message (no trailing newline). `hostname` is the sending machine's name (or `-`).
pub fn format(entry: &AuditEntry, hostname: &str) -> String {
    let pri = FACILITY_LOG_AUDIT * 8 + severity(entry);
    let mut out = format!(
        "<{pri}>1 {} {} hcpki - {} [{SD_ID}",
        timestamp(entry.at_ms),
        header_field(hostname, 255),
        header_field(&entry.action, 32)
    );
    for (name, value) in [
        ("seq", entry.seq.to_string().as_str()),
        ("actor", entry.actor.as_str()),
        ("target", entry.target.as_str()),
        ("outcome", entry.outcome.as_str()),
        ("prev", entry.prev_hash.as_str()),
        ("hash", entry.hash.as_str()),
    ] {
        let _ = write!(out, " {name}=\"{}\"", param_value(value));
    }
    out.push_str("] ");
    out.push_str(BOM);
    out.push_str(&entry.detail);
    out
}

/// This machine's name for the HOSTNAME field (`-` if unknown, as RFC 5424 allows).
pub fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "-".to_owned())
}

/// The message framed for TCP transport: `LEN SP MSG` (RFC 6587 octet counting).
pub fn frame(message: &str) -> String {
    format!("{} {message}", message.len())
}

/// RFC 3339 in UTC with milliseconds, as RFC 5424 §6.2.3 allows (`2026-11-23T18:00:00.123Z`).
fn timestamp(at_ms: i64) -> String {
    let secs = at_ms.div_euclid(1000);
    let millis = at_ms.rem_euclid(1000);
    let base = hcpki_pkix::time::rfc3339(secs);
    // rfc3339 gives `…:SSZ`; insert the fraction before the zone.
    match base.strip_suffix('Z') {
        Some(stem) => format!("{stem}.{millis:03}Z"),
        None => base,
    }
}

/// A header field: printable US-ASCII without spaces, at most `max` characters, `-` when empty.
fn header_field(value: &str, max: usize) -> String {
    let cleaned: String = value.chars().filter(|c| c.is_ascii_graphic()).take(max).collect();
    if cleaned.is_empty() { "-".to_owned() } else { cleaned }
}

/// An SD-PARAM value: `"`, `\` and `]` escaped with a backslash (RFC 5424 §6.3.3); control characters
/// (which actors and targets never contain, but a database edit could) replaced by U+FFFD.
fn param_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' | '\\' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(outcome: &str, actor: &str, detail: &str) -> AuditEntry {
        AuditEntry {
            seq: 7,
            at_ms: 1_795_456_800_123,
            actor: actor.to_owned(),
            action: "cert.issue".to_owned(),
            target: "41f0cc663d15d53d22c2e9c8ee048121".to_owned(),
            outcome: outcome.to_owned(),
            detail: detail.to_owned(),
            prev_hash: "aa".repeat(32),
            hash: "bb".repeat(32),
        }
    }

    #[test]
    fn header_structured_data_and_message() {
        let line = format(&entry("ok", "cli:root", r#"{"profile":"router"}"#), "ca1.example");
        let expected = format!(
            "<110>1 2026-11-23T18:00:00.123Z ca1.example hcpki - cert.issue [hcpki@32473 seq=\"7\" actor=\"cli:root\" \
             target=\"41f0cc663d15d53d22c2e9c8ee048121\" outcome=\"ok\" prev=\"{}\" hash=\"{}\"] \u{feff}{{\"profile\":\"router\"}}",
            "aa".repeat(32),
            "bb".repeat(32)
        );
        assert_eq!(line, expected);
    }

    #[test]
    fn severity_follows_the_outcome() {
        assert!(format(&entry("denied", "a", "{}"), "h").starts_with("<108>1 "));
        assert!(format(&entry("failed", "a", "{}"), "h").starts_with("<107>1 "));
    }

    #[test]
    fn param_values_are_escaped_and_headers_cleaned() {
        let line = format(&entry("ok", "operator:a\"b]c\\d\ne", "{}"), "bad host name");
        assert!(line.contains(r#"actor="operator:a\"b\]c\\d�e""#), "{line}");
        assert!(line.contains(" badhostname hcpki "), "{line}");
        assert!(format(&entry("ok", "a", "{}"), "").contains(" - hcpki "));
    }

    #[test]
    fn atna_messages_are_authpriv_with_the_ihe_msgid() {
        let line = atna(&entry("denied", "a", "{}"), "ca1", "<AuditMessage/>");
        let expected = format!(
            "<84>1 2026-11-23T18:00:00.123Z ca1 hcpki - IHE+RFC-3881 [hcpki@32473 seq=\"7\" hash=\"{}\"] \u{feff}<AuditMessage/>",
            "bb".repeat(32)
        );
        assert_eq!(line, expected);
        assert!(atna(&entry("ok", "a", "{}"), "ca1", "x").starts_with("<86>1 "));
    }

    #[test]
    fn frames_count_octets_not_characters() {
        assert_eq!(frame("é"), "2 é");
    }
}
