//! The CP/CPS draft (issue #50 item 6): RFC 3647's outline, its profile parts generated from the profile table.
//!
//! An operating body publishes a Certificate Policy and Certification Practice Statement; most of its technical
//! chapters (names, key sizes, lifetimes, extensions, CRL and OCSP profiles, publication points) are facts of
//! the software and its settings, and copied by hand they drift from what the CA really issues. So the outline
//! (`cps/outline.md`) holds the prose — what hcpki enforces whatever the settings, and the `TO COMPLETE` parts
//! only the operating body can write — and every `{{name}}` in it is filled here from the same profile specs,
//! lint rules and settings the issuance pipeline uses. `docs/cp-cps.md` is this with the shipped defaults; a
//! test keeps it equal.

mod chapters;
mod facts;

pub use facts::{CpsError, PracticeFacts};

/// The outline, in RFC 3647 §6's order, with `{{name}}` where a generated part goes.
const OUTLINE: &str = include_str!("cps/outline.md");

/// The document for `facts`: the outline with every generated part filled in.
pub fn render(facts: &PracticeFacts) -> Result<String, CpsError> {
    let parts = chapters::generate(facts)?;
    let mut out = String::with_capacity(OUTLINE.len() * 2);
    let mut rest = OUTLINE;
    while let Some(start) = rest.find("{{") {
        let (before, tail) = rest.split_at(start);
        out.push_str(before);
        let end = tail.find("}}").ok_or_else(|| CpsError::UnknownPart(tail.chars().take(40).collect()))?;
        let name = tail.get(2..end).unwrap_or_default();
        // A table ends its last row with a newline; the outline already leaves a blank line after each part.
        out.push_str(parts.get(name).ok_or_else(|| CpsError::UnknownPart(name.to_owned()))?.trim_end());
        rest = tail.get(end + 2..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csr::SubjectKeyType;
    use hcpki_model::CaName;

    fn defaults() -> String {
        render(&PracticeFacts::defaults(env!("CARGO_PKG_VERSION"))).unwrap()
    }

    /// docs/cp-cps.md is the draft of the shipped defaults; a change of a profile, a lint or a default must
    /// come with the document regenerated.
    #[test]
    fn the_published_draft_is_the_generated_one() {
        let published = include_str!("../../docs/cp-cps.md");
        assert!(
            published == defaults(),
            "docs/cp-cps.md is stale: run `cargo run -q -p server -- cps --defaults > docs/cp-cps.md` and commit it"
        );
    }

    #[test]
    fn every_part_is_filled_and_every_generated_part_is_used() {
        let doc = defaults();
        assert!(!doc.contains("{{"), "an unfilled part is left");
        let parts = chapters::generate(&PracticeFacts::defaults("0")).unwrap();
        for name in parts.keys() {
            assert!(OUTLINE.contains(&format!("{{{{{name}}}}}")), "generated part {name} is not in the outline");
        }
    }

    /// RFC 3647 §6: every chapter and section of the outline, in order, so a relying party can compare
    /// this document with another CA's section by section.
    #[test]
    fn the_outline_keeps_rfc_3647_numbering() {
        let doc = defaults();
        let sections = [
            "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3", "2.4", "3.1", "3.2", "3.3", "3.4", "4.1",
            "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9", "4.10", "4.11", "4.12", "5.1", "5.2", "5.3", "5.4",
            "5.5", "5.6", "5.7", "5.8", "6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7", "6.8", "7.1", "7.2", "7.3",
        ];
        let mut at = 0;
        for s in sections {
            let found = doc.get(at..).and_then(|rest| rest.find(&format!("### {s} "))).map(|i| at + i);
            at = found.unwrap_or_else(|| panic!("section {s} missing or out of order"));
        }
        for chapter in 1..=9 {
            assert!(doc.contains(&format!("\n## {chapter}. ")), "chapter {chapter} missing");
        }
    }

    #[test]
    fn an_installation_s_settings_reach_the_document() {
        let mut facts = PracticeFacts::defaults("9.9.9");
        facts.profiles.organization = "Example Operating Body".into();
        facts.profiles.pc_days = 200;
        facts.profiles.http_base_url = "http://repo.example.jp".into();
        facts.ca_keys.insert(CaName::Pc, SubjectKeyType::P384);
        let doc = render(&facts).unwrap();
        assert!(doc.starts_with("# Certificate Policy and Certification Practice Statement — Example Operating Body"));
        assert!(doc.contains("hcpki 9.9.9"));
        assert!(doc.contains("| pc | 200 days |"), "{doc}");
        assert!(doc.contains("http://repo.example.jp/crl/pc.crl"));
        assert!(doc.contains("| hcpki Facility PC CA | ECDSA P-384 | ecdsa-with-SHA384 |"), "{doc}");
    }
}
