//! `hcpki-agent sign --format cades FILE [--level b-b|b-t]`: a document signed on this PC with the card's
//! signature key, written next to FILE (FILE.p7s). The terminal shows what is signed and by whom (the same facts
//! as the agent's page), then asks for the signature PIN as every CLI command does (`pin_entry`). With B-T the
//! TSAs of `[[signing.tsa]]` are asked; without a token nothing is written.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use hcpki_agent::broker::Broker;
use hcpki_agent::config::AgentConfig;
use hcpki_agent::document::signer::SignerShown;
use hcpki_agent::document::time_stamps::TimeStamps;
use hcpki_agent::document::{self, Document, DocumentFormat as _, Format, Level, MAX_DOCUMENT_BYTES};
use hcpki_agent::readers::PcscBackend;
use hcpki_agent::service::{CardKind, CardService as _, DocumentSignRequest};

/// What `sign --format` was given besides the file.
#[derive(Debug)]
pub struct Options {
    pub format: Format,
    pub level: Level,
    pub title: Option<String>,
    pub force: bool,
    pub config: Option<PathBuf>,
    pub kind: CardKind,
    pub reader: Option<String>,
    pub pin_stdin: bool,
    pub allow_last_try: bool,
}

pub fn run(file: &Path, o: Options) -> anyhow::Result<()> {
    // Everything that can be refused is refused before the card is touched.
    let name = file.file_name().and_then(|n| n.to_str()).context("FILE has no usable file name")?.to_owned();
    let out = file.with_file_name(o.format.output_name(&name));
    if out.exists() && !o.force {
        bail!("{} exists: nothing was signed; use --force to replace it", out.display());
    }
    // The size is checked before the file is read, and the read stops past the limit (a file growing meanwhile).
    let bytes = match hcpki_docsig::signature::file::read_at_most(file, MAX_DOCUMENT_BYTES) {
        Ok(bytes) => bytes,
        Err(hcpki_docsig::signature::file::FileError::TooLarge { size, .. }) => {
            bail!(document::too_large(usize::try_from(size).unwrap_or(usize::MAX)))
        }
        Err(e) => return Err(e.into()),
    };
    let config = o.config.as_deref().map(|path| AgentConfig::load(path).map(|c| (c, path))).transpose()?;
    let dir = |path: &Path| path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let ca_certificates = match &config {
        Some((c, path)) => c.signing.ca_certificates(&dir(path))?,
        None => Vec::new(),
    };
    let time_stamps = match (o.level, &config) {
        (Level::BaselineB, _) => None,
        // The command line offers b-b and b-t alone (document::AGENT_LEVELS).
        (Level::BaselineLt | Level::BaselineLta, _) => bail!("--level is b-b or b-t (nothing was signed)"),
        (Level::BaselineT, None) => {
            bail!("--level b-t needs the TSAs of [[signing.tsa]]: give --config agent.toml (nothing was signed)")
        }
        (Level::BaselineT, Some((c, path))) => {
            let endpoints = c.signing.endpoints(&dir(path))?;
            if endpoints.is_empty() {
                bail!("{} has no [[signing.tsa]]: add the TSAs to ask for B-T (nothing was signed)", path.display());
            }
            Some(TimeStamps::new(endpoints)?)
        }
    };
    let doc = Document::new(o.format, o.title.as_deref().unwrap_or(&name), Some(&name), bytes)?;

    let broker = Broker::new(PcscBackend::new());
    let listed = broker.readers()?;
    let card = listed
        .iter()
        .filter(|r| o.reader.as_deref().is_none_or(|n| r.name == n))
        .filter_map(|r| r.card.as_ref())
        .find(|c| c.kind == o.kind);
    let signer = card.map(|c| SignerShown::from_certificates(&c.certificates)).unwrap_or_default();
    eprint!("{}", doc.shown(o.level).terminal_text(o.kind, &signer));

    let prompt = super::prompt(o.pin_stdin);
    let request = DocumentSignRequest { reader: o.reader, kind: o.kind, allow_last_try: o.allow_last_try };
    let now = hcpki_pkix::time::now_unix();
    let mut signed = document::sign(&broker, &doc, &request, prompt.as_ref(), now, &ca_certificates)?;
    if let Some(tsas) = time_stamps {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(tsas.add_to(o.format, &mut signed)).context("nothing was written")?;
    }
    write_beside(&out, &signed.output, o.force)?;
    let stamped = signed.time_stamped_at.map(|t| format!(", time stamp at {t} (Unix time)")).unwrap_or_default();
    println!("wrote {} ({} {}{stamped})", out.display(), o.format.label().en, signed.level.name());
    Ok(())
}

/// Writes the whole file or nothing: a temporary file in the same directory, renamed over `out` at the end.
fn write_beside(out: &Path, bytes: &[u8], force: bool) -> anyhow::Result<()> {
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    if force {
        tmp.persist(out).with_context(|| format!("cannot write {}", out.display()))?;
    } else {
        tmp.persist_noclobber(out)
            .with_context(|| format!("{} appeared meanwhile: nothing was written; use --force", out.display()))?;
    }
    Ok(())
}
