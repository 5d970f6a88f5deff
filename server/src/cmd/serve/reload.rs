//! `SIGHUP` to `hcpki serve` (`systemctl reload hcpki`, D136): what can change while connections stay open.
//!
//! The services (the SSO policy's table, D26) are read again from the database at once, not within `[portal]
//! services_refresh_secs`. `hcpki.toml` is read and checked again: a file that no longer loads is reported and
//! the running settings stay; every section that changed is named with the restart it needs, because the
//! listeners, keys and stores it configures are built once at start. The listeners are never touched, so no
//! connection is dropped.

use crate::config::{Config, Loaded};
use hcpki_sso::catalog::Catalog;
use std::path::PathBuf;
use std::sync::Arc;

/// What a reload reads again.
pub struct Reloader {
    dir: PathBuf,
    database_url: Option<String>,
    running: Config,
    services: Option<Arc<Catalog>>,
}

/// What one reload did, for the status line.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Services now in force, when the portal runs.
    pub services: Option<usize>,
    /// Sections of `hcpki.toml` that changed and wait for a restart.
    pub needs_restart: Vec<String>,
    /// Whether `hcpki.toml` could be read at all.
    pub config_ok: bool,
}

impl Outcome {
    /// The status line systemd shows after the reload.
    pub fn status(&self) -> String {
        let mut s = match self.services {
            Some(n) => format!("reloaded: {n} services"),
            None => "reloaded".to_owned(),
        };
        if !self.config_ok {
            s.push_str("; hcpki.toml does not load (see the log), the running settings stay");
        } else if !self.needs_restart.is_empty() {
            s.push_str(&format!("; restart for {}", self.needs_restart.join(", ")));
        }
        s
    }
}

impl Reloader {
    /// A reloader for the configuration `loaded` started with (and the `--database-url` given, if any).
    pub fn new(loaded: &Loaded, database_url: Option<&str>, services: Option<Arc<Catalog>>) -> Self {
        Self {
            dir: loaded.dir.clone(),
            database_url: database_url.map(str::to_owned),
            running: loaded.config.clone(),
            services,
        }
    }

    /// Read again what can change live and say what cannot.
    pub async fn reload(&mut self) -> Outcome {
        let mut outcome = Outcome { services: None, needs_restart: Vec::new(), config_ok: true };
        match Loaded::read(&self.dir, self.database_url.as_deref()) {
            Ok(next) => {
                outcome.needs_restart = changed_sections(&self.running, &next.config);
                for section in &outcome.needs_restart {
                    tracing::warn!(
                        section = %section,
                        "hcpki.toml: {section} changed; it takes effect at the next restart (systemctl restart \
                         hcpki), the running value stays until then"
                    );
                }
                self.running = next.config;
            }
            Err(e) => {
                outcome.config_ok = false;
                tracing::error!(
                    error = %format!("{e:#}"),
                    "hcpki.toml not reloaded: fix it (the running settings stay; a restart would fail the same way)"
                );
            }
        }
        if let Some(catalog) = &self.services {
            catalog.forget();
            match catalog.current().await {
                Ok(services) => {
                    let n = services.iter().count();
                    tracing::info!(services = n, "services read again from the database");
                    outcome.services = Some(n);
                }
                Err(e) => tracing::error!(error = %e, "services not read again; the last ones read stay in force"),
            }
        }
        outcome
    }
}

/// The top-level sections (or keys) whose values differ between `before` and `after`, as `[name]`.
fn changed_sections(before: &Config, after: &Config) -> Vec<String> {
    let table = |c: &Config| toml::Table::try_from(c).unwrap_or_default();
    let (a, b) = (table(before), table(after));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| if a.get(k).or(b.get(k)).is_some_and(toml::Value::is_table) { format!("[{k}]") } else { k.clone() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A changed section and a changed top-level key are named; an unchanged configuration names nothing.
    #[test]
    fn changed_sections_are_named() {
        let before: Config = toml::from_str("version = 1\ndatabase_url = \"sqlite:hcpki.db\"\n").unwrap();
        assert!(changed_sections(&before, &before.clone()).is_empty());
        let after: Config = toml::from_str(
            "version = 1\ndatabase_url = \"sqlite:other.db\"\n[ca]\nroot_crl_days = 200\nroot_crl_warn_days = 30\n",
        )
        .unwrap();
        assert_eq!(changed_sections(&before, &after), ["[ca]", "database_url"]);
    }
}
