//! The generated parts of the CP/CPS, each from the table or setting the issuance pipeline itself reads.

use super::facts::{CpsError, PracticeFacts};
use crate::csr::SubjectKeyType;
use crate::facility::{Facility, FacilityId, FacilityKind, FacilityState};
use crate::lint::RULES;
use crate::profile::ca::{ISSUING_DAYS, ROOT_DAYS};
use crate::profile::{self, FacilityRule, KeyClass, NameRequest, Names, ProfileSpec, RouterEku};
use crate::revoker::CRL_VALIDITY_SECS;
use crate::store::facility::Allocation;
use hcpki_model::{CaName, ProfileKind};
use hcpki_pkix::oid;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use x509_cert::ext::pkix::KeyUsages;

/// The facility the name examples are made for: the identifier docs/profiles.md uses.
const EXAMPLE_FACILITY: &str = "HF000000012";
/// Its address allocation (TEST-NET-1, RFC 5737).
const EXAMPLE_ALLOCATION: &str = "192.0.2.0/24";

/// Every generated part by its name in the outline.
pub(super) fn generate(facts: &PracticeFacts) -> Result<BTreeMap<&'static str, String>, CpsError> {
    let specs: Vec<ProfileSpec> = ProfileKind::ALL.into_iter().map(|k| facts.profiles.spec(k, None)).collect();
    let examples = examples(facts, &specs)?;
    Ok(BTreeMap::from([
        ("organization", facts.profiles.organization.clone()),
        ("version", facts.version.clone()),
        ("policies", policies()),
        ("authorities", authorities(facts)),
        ("usages", usages(&specs)),
        ("publication", publication(facts)),
        ("frequency", frequency(facts)),
        ("example_facility", format!("`{EXAMPLE_FACILITY}`, allocation `{EXAMPLE_ALLOCATION}`")),
        ("names", names(&examples)),
        ("status", status(facts)),
        ("key_sizes", key_sizes(facts, &specs)),
        ("key_usage", key_usage(&specs)),
        ("periods", periods(facts, &specs)),
        ("extensions", extensions(&specs, &examples)),
        ("algorithms", algorithms(facts)),
        ("lints", lints()),
        ("crl", crl(facts)),
        ("ocsp", ocsp(facts)),
    ]))
}

fn policies() -> String {
    let mut t = Table::new(&["OID", "policy"]);
    for (o, what) in [
        (oid::policy_router(), "router certificates"),
        (oid::policy_pc(), "facility PC certificates"),
        (oid::policy_server(), "hcpki server certificates"),
        (oid::policy_ocsp(), "delegated OCSP signers"),
    ] {
        t.row([format!("`{o}`"), what.to_owned()]);
    }
    t.finish()
}

/// What a CA is for, in one line.
fn role(ca: CaName) -> &'static str {
    match ca {
        CaName::Root => "offline root; certifies the issuing CAs only",
        CaName::Router => "issues router (IPsec, RFC 4945) certificates",
        CaName::Pc => "issues facility PC (TLS client) certificates",
        CaName::Server => "issues hcpki's server, operator and time-stamping certificates",
    }
}

fn authorities(facts: &PracticeFacts) -> String {
    let mut t = Table::new(&["CA", "subject", "role", "lifetime", "path length", "profiles it issues"]);
    for ca in CaName::ALL {
        let (days, path_len) = if ca == CaName::Root { (ROOT_DAYS, 1) } else { (ISSUING_DAYS, 0) };
        let issued: Vec<String> = ProfileKind::ALL
            .into_iter()
            .filter(|k| CaName::for_profile(*k) == Some(ca))
            .map(|k| k.as_str().to_owned())
            .collect();
        let issued = match (ca, issued.is_empty()) {
            (CaName::Root, _) => "the issuing CAs".to_owned(),
            (_, true) => "—".to_owned(),
            (_, false) => issued.join(", "),
        };
        t.row([
            ca.as_str().to_owned(),
            format!("`C=JP, O={}, CN={}`", facts.profiles.organization, ca.common_name()),
            role(ca).to_owned(),
            format!("{days} days"),
            path_len.to_string(),
            issued,
        ]);
    }
    let mut out = t.finish();
    out.push_str(
        "\nEach issuing CA also certifies its own delegated OCSP responder (profile `ocsp`) and, for SCEP, its \
         registration authority (profile `scep-ra`).",
    );
    out
}

/// What a profile's certificates may be used for.
fn usage(kind: ProfileKind) -> &'static str {
    match kind {
        ProfileKind::Router => "authenticating a facility's router in IKEv2 (IPsec) to the network's hubs and peers",
        ProfileKind::Pc => "authenticating a facility's PC to the network's services in TLS (client authentication)",
        ProfileKind::Server => "authenticating hcpki's own services in TLS (server authentication)",
        ProfileKind::Ocsp => "signing OCSP answers for the CA that issued it",
        ProfileKind::ScepRa => "protecting SCEP messages as the CA's registration authority (RFC 8894 §2.1.1)",
        ProfileKind::Operator => "authenticating an operator of the CA to its admin API",
        ProfileKind::Tsa => "signing RFC 3161 time-stamp tokens",
    }
}

fn usages(specs: &[ProfileSpec]) -> String {
    let mut t = Table::new(&["profile", "use", "names a facility"]);
    for spec in specs {
        let facility = match spec.facility {
            FacilityRule::Required => "yes",
            FacilityRule::Forbidden => "no",
        };
        t.row([spec.kind.as_str().to_owned(), usage(spec.kind).to_owned(), facility.to_owned()]);
    }
    t.finish()
}

fn publication(facts: &PracticeFacts) -> String {
    let p = &facts.profiles;
    let mut t = Table::new(&["CA", "certificate", "CRL", "OCSP"]);
    for ca in CaName::ALL {
        let ocsp = if ca == CaName::Root { "— (the ARL)".to_owned() } else { p.ocsp_url(ca.as_str()) };
        t.row([ca.as_str().to_owned(), p.ca_cert_url(ca.as_str()), p.crl_url(ca.as_str()), ocsp]);
    }
    let mut out = t.finish();
    let shards = p.pc_crl_shards.get();
    if shards > 0 {
        let _ = write!(
            out,
            "\nThe PC CA's CRL is also published in {shards} shards, `{}` to `{}`; each PC certificate's CRL \
             distribution point names the shard its serial falls into.",
            p.crl_url("pc-0"),
            p.crl_url(&format!("pc-{}", shards - 1))
        );
    }
    if !p.ocsp_in_aia {
        out.push_str(
            "\nCertificates do not name the OCSP responder in their authorityInfoAccess (`ocsp_in_aia = false`).",
        );
    }
    out
}

fn frequency(facts: &PracticeFacts) -> String {
    format!(
        "Each issuing CA's CRL is valid for {} hours and signed again half-way through, or when it is next \
         served after a revocation. The root's CRL (ARL) is valid for {} days and signed at the offline root's ceremonies; hcpki \
         warns before it runs out. OCSP answers: see 4.10. CA certificates are published when a CA is made.",
        CRL_VALIDITY_SECS / 3600,
        facts.root_crl_days
    )
}

/// Each profile's names for the example facility, as its name rule makes them.
fn examples(facts: &PracticeFacts, specs: &[ProfileSpec]) -> Result<Vec<(ProfileKind, Names)>, CpsError> {
    let example = |reason: String, kind: ProfileKind| CpsError::Example { profile: kind.as_str(), reason };
    let id = FacilityId::parse(EXAMPLE_FACILITY).map_err(|e| example(e.to_string(), ProfileKind::Router))?;
    let allocation = Allocation::parse(EXAMPLE_ALLOCATION).map_err(|e| example(e.to_string(), ProfileKind::Router))?;
    let facility = Facility {
        id,
        name: "example".into(),
        kind: FacilityKind::Clinic,
        medical_code: None,
        address: None,
        contact: None,
        state: FacilityState::Active,
        state_reason: None,
        state_changed_by: String::new(),
        state_changed_at: 0,
        created_at: 0,
    };
    let allocations = [allocation];
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let (sans, device, ocsp_for) = match spec.kind {
            ProfileKind::Router => (vec!["192.0.2.1".to_owned()], None, None),
            ProfileKind::Pc => (vec![], Some("pc-1a2b3c4d"), None),
            ProfileKind::Server => (vec!["portal.hcpki.example".to_owned()], None, None),
            ProfileKind::Ocsp | ProfileKind::ScepRa => (vec![], None, Some("router")),
            ProfileKind::Operator => (vec![], Some("alice"), None),
            ProfileKind::Tsa => (vec![], None, None),
        };
        let request = NameRequest {
            facility: (spec.facility == FacilityRule::Required).then_some(&facility),
            allocations: &allocations,
            sans,
            device: device.map(str::to_owned),
            ocsp_for: ocsp_for.map(str::to_owned),
        };
        let names = profile::names(spec, &facts.profiles, &request).map_err(|e| example(e.to_string(), spec.kind))?;
        out.push((spec.kind, names));
    }
    Ok(out)
}

fn names(examples: &[(ProfileKind, Names)]) -> String {
    let mut t = Table::new(&["profile", "subject", "subjectAltName"]);
    for (kind, names) in examples {
        let sans = if names.display.is_empty() { "—".to_owned() } else { code_list(&names.display) };
        t.row([kind.as_str().to_owned(), format!("`{}`", x500_order(&names.subject)), sans]);
    }
    t.finish()
}

fn status(facts: &PracticeFacts) -> String {
    let r = &facts.responder;
    format!(
        "CRLs as in 2.2 and 2.3. OCSP (RFC 6960) for every issuing CA at the URLs of 2.2, over HTTP GET and POST. \
         An answer for an issued certificate is valid for {} hours and signed again half-way through; an answer for a serial the CA does not know (`unknown`) for {} seconds. Answers are \
         signed ahead of requests by each CA's delegated responder (7.3).",
        r.validity_secs / 3600,
        r.unknown_validity_secs
    )
}

fn key_class(k: KeyClass) -> &'static str {
    match k {
        KeyClass::Rsa => "RSA 2048, 3072 or 4096 (public exponent odd, at least 65537)",
        KeyClass::P256 => "ECDSA P-256",
        KeyClass::P384 => "ECDSA P-384",
    }
}

fn key_sizes(facts: &PracticeFacts, specs: &[ProfileSpec]) -> String {
    let mut cas = Table::new(&["CA", "key"]);
    for (ca, key) in &facts.ca_keys {
        cas.row([ca.common_name().to_owned(), key.to_string()]);
    }
    let mut subjects = Table::new(&["profile", "subject keys accepted"]);
    for spec in specs {
        let keys: Vec<&str> = spec.keys.iter().map(|k| key_class(*k)).collect();
        subjects.row([spec.kind.as_str().to_owned(), keys.join("; ")]);
    }
    format!("CA keys:\n\n{}\nSubscriber keys, per profile (others are refused):\n\n{}", cas.finish(), subjects.finish())
}

fn key_usage_name(u: KeyUsages) -> &'static str {
    match u {
        KeyUsages::DigitalSignature => "digitalSignature",
        KeyUsages::NonRepudiation => "contentCommitment",
        KeyUsages::KeyEncipherment => "keyEncipherment",
        KeyUsages::DataEncipherment => "dataEncipherment",
        KeyUsages::KeyAgreement => "keyAgreement",
        KeyUsages::KeyCertSign => "keyCertSign",
        KeyUsages::CRLSign => "cRLSign",
        KeyUsages::EncipherOnly => "encipherOnly",
        KeyUsages::DecipherOnly => "decipherOnly",
    }
}

fn oid_name(o: &const_oid::ObjectIdentifier) -> String {
    // Two IKE purposes const-oid's table does not name.
    if *o == oid::KP_IKE_INTERMEDIATE {
        return "ikeIntermediate".to_owned();
    }
    if *o == oid::KP_IPSEC_IKE {
        return "id-kp-ipsecIKE".to_owned();
    }
    const_oid::db::DB.by_oid(o).map_or_else(|| o.to_string(), str::to_owned)
}

fn eku_text(spec: &ProfileSpec) -> String {
    if spec.kind == ProfileKind::Router {
        // The router's EKU depends on what the router's IKE stack insists on (`--eku` or `--vendor`).
        let variants: Vec<String> = RouterEku::ALL
            .into_iter()
            .map(|v| {
                let oids: Vec<String> = v.oids().iter().map(oid_name).collect();
                let oids = if oids.is_empty() { "absent".to_owned() } else { oids.join(", ") };
                format!("`{v}`: {oids}")
            })
            .collect();
        return format!("by router: {}", variants.join("; "));
    }
    if spec.eku.is_empty() {
        return "absent".to_owned();
    }
    let oids: Vec<String> = spec.eku.iter().map(oid_name).collect();
    format!("{}{}", oids.join(", "), if spec.eku_critical { " (critical)" } else { "" })
}

fn key_usage(specs: &[ProfileSpec]) -> String {
    let mut t = Table::new(&["profile", "keyUsage (critical)", "extKeyUsage"]);
    for spec in specs {
        let ku: Vec<&str> = spec.key_usage.iter().map(|u| key_usage_name(*u)).collect();
        t.row([spec.kind.as_str().to_owned(), ku.join(", "), eku_text(spec)]);
    }
    let mut out = t.finish();
    out.push_str("\nCA certificates: keyCertSign, cRLSign (critical); no extKeyUsage.");
    out
}

fn periods(facts: &PracticeFacts, specs: &[ProfileSpec]) -> String {
    let mut t = Table::new(&["certificate", "lifetime"]);
    t.row(["root CA".to_owned(), format!("{ROOT_DAYS} days")]);
    t.row(["issuing CAs".to_owned(), format!("{ISSUING_DAYS} days")]);
    for spec in specs {
        t.row([spec.kind.as_str().to_owned(), format!("{} days", spec.validity_days)]);
    }
    format!(
        "{}\nnotBefore lies {} seconds before the moment of signing, so that a relying party whose clock runs \
         behind does not see a certificate from the future; a certificate never outlives its CA's. A key pair is \
         used for one certificate: renewal is re-key (4.6).",
        t.finish(),
        facts.profiles.backdate()
    )
}

fn extensions(specs: &[ProfileSpec], examples: &[(ProfileKind, Names)]) -> String {
    let mut t = Table::new(&["profile", "basicConstraints", "keyUsage", "extKeyUsage", "subjectAltName", "revocation"]);
    for spec in specs {
        let ku: Vec<&str> = spec.key_usage.iter().map(|u| key_usage_name(*u)).collect();
        let revocation = match (spec.revocation_pointers, spec.ocsp_nocheck) {
            (true, _) => "cRLDistributionPoints, authorityInfoAccess (OCSP, caIssuers)",
            (false, true) => "id-pkix-ocsp-nocheck",
            (false, false) => "—",
        };
        let has_sans = examples.iter().any(|(kind, names)| *kind == spec.kind && !names.sans.is_empty());
        let san = if has_sans { "yes (3.1.1)" } else { "—" };
        t.row([
            spec.kind.as_str().to_owned(),
            "cA=FALSE (critical)".to_owned(),
            format!("{} (critical)", ku.join(", ")),
            eku_text(spec),
            san.to_owned(),
            revocation.to_owned(),
        ]);
    }
    format!(
        "Every certificate carries subjectKeyIdentifier and authorityKeyIdentifier (keyIdentifier). End-entity \
         certificates:\n\n{}\nThe root: basicConstraints cA=TRUE, pathLenConstraint 1; issuing CAs: cA=TRUE, \
         pathLenConstraint 0, with the root's CRL distribution point and caIssuers. Nothing but the public key is \
         taken from a request.",
        t.finish()
    )
}

/// The signature algorithm a CA key signs with.
fn signature_algorithm(key: SubjectKeyType) -> &'static str {
    match key {
        SubjectKeyType::Rsa(_) => "sha256WithRSAEncryption",
        SubjectKeyType::P256 => "ecdsa-with-SHA256",
        SubjectKeyType::P384 => "ecdsa-with-SHA384",
    }
}

fn algorithms(facts: &PracticeFacts) -> String {
    let mut t = Table::new(&["CA", "key", "signs certificates and CRLs with"]);
    for (ca, key) in &facts.ca_keys {
        t.row([ca.common_name().to_owned(), key.to_string(), signature_algorithm(*key).to_owned()]);
    }
    t.finish()
}

fn lints() -> String {
    let mut t = Table::new(&["rule", "level", "source", "checks"]);
    for r in RULES {
        t.row([
            format!("`{}`", r.id),
            format!("{:?}", r.level).to_lowercase(),
            r.source.to_owned(),
            r.description.to_owned(),
        ]);
    }
    t.finish()
}

fn crl(facts: &PracticeFacts) -> String {
    format!(
        "Version 2 CRLs (RFC 5280 §5), signed by the CA's own key as in 7.1.3. Extensions: authorityKeyIdentifier, \
         cRLNumber (monotonic), and on a shard an issuingDistributionPoint (critical) naming the shard. Entries: \
         serial, revocation date and a reasonCode unless the reason is `unspecified`; an entry stays until its \
         certificate has expired. thisUpdate lies {} seconds before signing; nextUpdate as in 2.3.",
        facts.profiles.backdate()
    )
}

fn ocsp(facts: &PracticeFacts) -> String {
    format!(
        "Version 1 basic responses (RFC 6960), signed by a delegated responder certificate (profile `ocsp`, \
         {} days, id-pkix-ocsp-nocheck) issued by the CA the answer is for, CertIDs hashed with SHA-1, SHA-256, \
         SHA-384 or SHA-512 accepted. A request's nonce of 1 to 32 octets is echoed (RFC 8954); a longer one is refused. thisUpdate \
         lies {} seconds before signing; nextUpdate as in 4.10.",
        facts.profiles.ocsp_days, facts.responder.backdate_secs
    )
}

/// A DN in the order of its RDNs (`C=JP, O=…, CN=…`), as the CA subjects of 1.3.1 are written; RFC 4514's
/// string form would list them backwards.
fn x500_order(name: &x509_cert::name::Name) -> String {
    name.iter_rdn().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Markdown list of code spans.
fn code_list(items: &[String]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

/// A Markdown table; cells have their `|` escaped.
struct Table(String);

impl Table {
    fn new(header: &[&str]) -> Self {
        let mut s = format!("| {} |\n", header.join(" | "));
        s.push_str(&format!("|{}\n", "---|".repeat(header.len())));
        Self(s)
    }

    fn row<const N: usize>(&mut self, cells: [String; N]) {
        let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        let _ = writeln!(self.0, "| {} |", cells.join(" | "));
    }

    fn finish(self) -> String {
        self.0
    }
}
