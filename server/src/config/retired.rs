//! Keys an older release's `hcpki.toml` may still hold that this one no longer reads (D136): refused before the
//! strict parse, with the key's place and what replaced it, rather than serde's bare "unknown field".
//!
//! Format version 1 has retired no key yet, so [`RETIRED`] is empty; a release that removes or renames a key adds
//! its row here in the same commit, and the row stays for as long as a configuration of that age may be met
//! (a package upgrade keeps the operator's file as it was).

use anyhow::{Result, bail};

/// A key no longer read.
#[derive(Debug, Clone, Copy)]
pub struct Retired {
    /// Its table (`""` for the top level, `portal` for `[portal]`, `serve.ocsp` for `[serve.ocsp]`).
    pub table: &'static str,
    /// The key inside it.
    pub key: &'static str,
    /// The release that stopped reading it.
    pub since: &'static str,
    /// What to write instead, in the operator's words.
    pub instead: &'static str,
}

/// The keys retired so far (none in format version 1).
pub const RETIRED: &[Retired] = &[];

/// Refuse `text` when it holds a key of `retired`, naming every such key and its replacement. A text that is not
/// TOML passes: the strict parse after this reports that with its line.
pub fn check(text: &str, retired: &[Retired]) -> Result<()> {
    let Ok(doc) = text.parse::<toml::Table>() else { return Ok(()) };
    let found: Vec<String> = retired
        .iter()
        .filter(|r| table(&doc, r.table).is_some_and(|t| t.contains_key(r.key)))
        .map(|r| {
            let place = if r.table.is_empty() { r.key.to_owned() } else { format!("[{}] {}", r.table, r.key) };
            format!("{place} is no longer read (since {}): {}", r.since, r.instead)
        })
        .collect();
    if !found.is_empty() {
        bail!("{}; edit the file, then start again (nothing was changed)", found.join("; "));
    }
    Ok(())
}

fn table<'a>(doc: &'a toml::Table, dotted: &str) -> Option<&'a toml::Table> {
    if dotted.is_empty() {
        return Some(doc);
    }
    dotted.split('.').try_fold(doc, |t, part| t.get(part)?.as_table())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[Retired] = &[
        Retired { table: "portal", key: "services_file", since: "0.2.0", instead: "write [portal] services = \"…\"" },
        Retired { table: "", key: "log_file", since: "0.2.0", instead: "logs go to the journal (journalctl -u hcpki)" },
        Retired { table: "serve.ocsp", key: "workers", since: "0.3.0", instead: "remove it" },
    ];

    /// A configuration of an older release holding retired keys is refused with each key's place and what
    /// replaced it; one without them passes, as does a text that is not TOML (left to the strict parse).
    #[test]
    fn retired_keys_are_named_with_their_replacement() {
        let old = "version = 1\nlog_file = \"/var/log/hcpki.log\"\n[portal]\nservices_file = \"s.toml\"\n\
                   [serve.ocsp]\nworkers = 4\n";
        let e = check(old, SAMPLE).unwrap_err().to_string();
        assert!(e.contains("[portal] services_file is no longer read (since 0.2.0): write [portal] services"), "{e}");
        assert!(e.contains("log_file is no longer read") && e.contains("journalctl"), "{e}");
        assert!(e.contains("[serve.ocsp] workers"), "{e}");
        assert!(check("version = 1\n[portal]\nservices = \"s.toml\"\n", SAMPLE).is_ok());
        assert!(check("not = [toml", SAMPLE).is_ok());
        assert!(check(old, RETIRED).is_ok(), "format version 1 retired nothing");
    }
}
