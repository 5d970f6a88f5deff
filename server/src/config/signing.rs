//! `[signing]`: what document signatures need from outside hcpki: the time-stamping authorities signers ask, in
//! order (D70), and the anchors the signature verifier trusts (D73; separate from `[login]`'s):
//!
//! ```toml
//! [signing]
//! anchors = ["hpki-roots/mhlw-hpki-root-v2.pem"]  # HPKI roots (or signature CAs) signatures must chain to
//!
//! [[signing.tsa]]
//! url = "https://tsa.example.jp/rfc3161"          # http:// or https://
//! roots = ["tsa-roots/example-root.pem"]          # PEM or DER, relative to the hcpki directory
//! policy = "1.2.392.200000.1.1"                   # optional: the TSA policy OID its tokens must name
//! ```
//!
//! Checked whenever the configuration is read (every command, `hcpki serve` at start): a bad URL, an unreadable
//! or empty roots file or a bad OID stops the program with the entry named, rather than the first signature.

use anyhow::{Context, Result, bail};
use der::Decode;
use hcpki_docsig::timestamp::client::{TsaEndpoint, TsaTrust};
use std::path::{Path, PathBuf};
use x509_cert::Certificate;

/// `[signing]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningConfig {
    /// Files of the certificates signer paths must end at (`hcpki signature verify`): HPKI roots, or the HPKI
    /// signature CAs to trust more narrowly. Relative to the hcpki directory.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anchors: Vec<PathBuf>,
    /// The TSAs, tried in this order; the first valid token wins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tsa: Vec<TsaEntry>,
}

/// `[[signing.tsa]]`: one TSA.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsaEntry {
    /// The RFC 3161 endpoint, `http://` or `https://` (the token is signed, so plain HTTP is what most TSAs
    /// offer; https servers are verified against the public WebPKI roots).
    pub url: String,
    /// Files of certificates trusted for this TSA only: its root, its issuing CA, or its own certificate.
    pub roots: Vec<PathBuf>,
    /// The TSA policy OID: asked for in the request and required in the token. Absent: any policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl SigningConfig {
    pub(super) fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// The TSAs as the client takes them, files read relative to the hcpki directory `dir`; an error names the
    /// entry and what to change.
    pub fn endpoints(&self, dir: &Path) -> Result<Vec<TsaEndpoint>> {
        self.tsa
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                entry.endpoint(dir).with_context(|| format!("[[signing.tsa]] entry {} ({})", i + 1, entry.url))
            })
            .collect()
    }
}

impl SigningConfig {
    /// What the verifier trusts: `anchors` for signers, every `[[signing.tsa]]` entry's roots for time stamps
    /// (a verifier accepts a token from any TSA the installation would ask itself). Files relative to `dir`.
    pub fn verifier_trust(&self, dir: &Path) -> Result<hcpki_docsig::signature::validation::SigningTrust> {
        let mut signers = Vec::new();
        for path in &self.anchors {
            signers.extend(read_certificates(&dir.join(path)).context("[signing] anchors")?);
        }
        let mut tsas = Vec::new();
        for (i, entry) in self.tsa.iter().enumerate() {
            for path in &entry.roots {
                tsas.extend(
                    read_certificates(&dir.join(path)).with_context(|| format!("[[signing.tsa]] entry {}", i + 1))?,
                );
            }
        }
        Ok(hcpki_docsig::signature::validation::SigningTrust::new(&signers, &tsas)?)
    }
}

impl TsaEntry {
    fn endpoint(&self, dir: &Path) -> Result<TsaEndpoint> {
        let uri: axum::http::Uri = self.url.parse().with_context(|| format!("url {:?} is not a URL", self.url))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none_or(str::is_empty) {
            bail!("url {:?}: write the TSA's http:// or https:// URL, e.g. http://tsa.example.jp/tsa", self.url);
        }
        let policy =
            self.policy.as_deref().map(|p| p.trim().parse::<const_oid::ObjectIdentifier>()).transpose().with_context(
                || format!("policy {:?} is not an OID: write the TSA policy OID its tokens name", self.policy),
            )?;
        if self.roots.is_empty() {
            bail!("roots is empty: give the file(s) of the certificates you trust for this TSA (its root CA)");
        }
        let mut certificates = Vec::new();
        for path in &self.roots {
            certificates.extend(read_certificates(&dir.join(path))?);
        }
        let trust = TsaTrust::new(&certificates)?;
        Ok(TsaEndpoint { url: self.url.clone(), trust, policy })
    }
}

/// The certificates of a PEM file (one or more) or of a DER file (one).
fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read roots file {}", path.display()))?;
    let bad = || format!("roots file {} holds no PEM or DER certificate", path.display());
    if bytes.starts_with(b"-----") {
        let certs = Certificate::load_pem_chain(&bytes).with_context(bad)?;
        if certs.is_empty() {
            bail!(bad());
        }
        return certs.iter().map(|c| der::Encode::to_der(c).with_context(bad)).collect();
    }
    Certificate::from_der(&bytes).with_context(bad)?;
    Ok(vec![bytes])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries parse; each mistake is refused naming the entry and the fix; unknown keys are errors.
    #[test]
    fn tsa_entries_are_checked_with_the_entry_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = test_certificate();
        std::fs::write(dir.path().join("root.der"), &root).unwrap();
        let parsed: SigningConfig = toml::from_str(
            "[[tsa]]\nurl = \"http://127.0.0.1:1/tsa\"\nroots = [\"root.der\"]\npolicy = \"1.2.3.4\"\n\n[[tsa]]\nurl = \
             \"https://tsa.example.jp/\"\nroots = [\"root.der\"]\n",
        )
        .unwrap();
        let endpoints = parsed.endpoints(dir.path()).unwrap();
        assert_eq!(endpoints.len(), 2);
        assert_eq!(endpoints[0].policy.map(|p| p.to_string()).as_deref(), Some("1.2.3.4"));
        let error = |text: &str| {
            let c: SigningConfig = toml::from_str(text).unwrap();
            format!("{:#}", c.endpoints(dir.path()).unwrap_err())
        };
        let e = error("[[tsa]]\nurl = \"ftp://tsa.example\"\nroots = [\"root.der\"]\n");
        assert!(e.contains("entry 1 (ftp://tsa.example)") && e.contains("http:// or https://"), "{e}");
        let e = error("[[tsa]]\nurl = \"http://tsa.example\"\nroots = []\n");
        assert!(e.contains("roots is empty"), "{e}");
        let e = error("[[tsa]]\nurl = \"http://tsa.example\"\nroots = [\"missing.pem\"]\n");
        assert!(e.contains("cannot read roots file"), "{e}");
        let e = error("[[tsa]]\nurl = \"http://tsa.example\"\nroots = [\"root.der\"]\npolicy = \"tsa policy\"\n");
        assert!(e.contains("is not an OID"), "{e}");
        assert!(toml::from_str::<SigningConfig>("[[tsa]]\nurl = \"http://a\"\nroot = []\n").is_err());
        assert!(SigningConfig::default().is_default());
    }

    /// A self-signed P-256 certificate `CN=t` (made once with `openssl req -x509`): parsing is all it is for.
    fn test_certificate() -> Vec<u8> {
        hex::decode(TEST_CERT).unwrap()
    }

    const TEST_CERT: &str = concat!(
        "3082016e30820113a00302010202143996118f846b1d943bd949090165960b08c8d2ed300a06082a8648ce3d040302300c31",
        "0a300806035504030c0174301e170d3236313132363134313831385a170d3336313132333134313831385a300c310a300806",
        "035504030c01743059301306072a8648ce3d020106082a8648ce3d03010703420004ad00265c8cfbeffafe4dc8113659bfc3",
        "fc146c65e94d88d855bc4a7246e62a45e46d0c5d315e24a964ba17284516711c03239c83b1ef8075b1e9d6e9b3aa66bba353",
        "3051301d0603551d0e041604146b5ef85fa8cadc9eca443aeeff100782e9799d2c301f0603551d230418301680146b5ef85f",
        "a8cadc9eca443aeeff100782e9799d2c300f0603551d130101ff040530030101ff300a06082a8648ce3d0403020349003046",
        "022100959dd55439a0ddb53669138ace3159524d32aae8cde039bbcce71d1029ee9d95022100efa8f8c70bf0a8f6482aec13",
        "993e063d4bc4eeb6d985fd462198c3b6eec9210a"
    );
}
