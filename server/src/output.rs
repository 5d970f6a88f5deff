//! Human and JSON output helpers (stdout carries results, stderr carries notes).

use hcpki_ca::facility::Facility;
use hcpki_ca::store::CertificateRecord;
use hcpki_pkix::time::rfc3339;

/// One line per facility.
pub fn facility_row(f: &Facility) -> String {
    format!(
        "{}  {:<9} {:<16} {:<10} {}",
        f.id,
        f.state,
        f.kind,
        f.medical_code.as_ref().map(|c| c.as_str()).unwrap_or("-"),
        f.name
    )
}

/// A facility in detail.
pub fn facility_detail(f: &Facility, router_dns: &str) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    format!(
        "id:              {}\nname:            {}\nkind:            {}\n医療機関コード:  {}\naddress:         {}\ncontact:         {}\nstate:           {} (since {} by {}{})\nregistered:      {}\nrouter DNS name: {}\n",
        f.id,
        f.name,
        f.kind,
        f.medical_code.as_ref().map(|c| c.as_str()).unwrap_or("-"),
        opt(&f.address),
        opt(&f.contact),
        f.state,
        rfc3339(f.state_changed_at),
        f.state_changed_by,
        f.state_reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default(),
        rfc3339(f.created_at),
        router_dns
    )
}

/// One line per certificate.
pub fn cert_row(c: &CertificateRecord) -> String {
    format!(
        "{}  {:<9} {:<8} {:<12} {}  {}",
        c.serial,
        c.status.as_str(),
        c.profile,
        c.facility.as_ref().map(|f| f.as_str()).unwrap_or("-"),
        rfc3339(c.not_after),
        c.subject
    )
}

/// A facility as JSON (CLI `--json` and the admin API), with the router DNS name it owns.
pub fn facility_json(f: &Facility, router_dns: &str) -> serde_json::Value {
    let mut v = serde_json::to_value(f).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("router_dns_name".into(), router_dns.into());
    }
    v
}

/// An enrollment credential as JSON: everything but the salt and hash.
pub fn credential_json(c: &hcpki_ca::enroll::CredentialRecord, now: hcpki_pkix::time::UnixTime) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "facility": c.facility.as_str(),
        "protocol": c.protocol,
        "profiles": c.profiles,
        "status": c.status(now),
        "created_by": c.created_by,
        "created_at": c.created_at,
        "expires_at": c.expires_at,
        "used_at": c.used_at,
        "used_by": c.used_by,
        "revoked_at": c.revoked_at,
    })
}

/// A PKCS#12 file of a key made by hcpki (`pkcs8`, unencrypted DER) for a device without an enrollment
/// client: the key, its certificate `leaf` and the issuing CA's chain, under a fresh passphrase
/// (`hcpki_pkix::asn1::pkcs12::generate_passphrase`: hyphenated groups without look-alikes; AES-256,
/// PBKDF2-SHA256) that the caller shows once and stores nowhere. `hcpki issue --p12` and the web console.
pub fn device_pkcs12(
    authority: &hcpki_ca::Authority,
    pkcs8: &[u8],
    leaf: &[u8],
    record: &hcpki_ca::store::CertificateRecord,
) -> anyhow::Result<(Vec<u8>, zeroize::Zeroizing<String>)> {
    let chain = authority.chain(record.ca)?;
    let passphrase = hcpki_pkix::asn1::pkcs12::generate_passphrase()?;
    let name = record.sans.first().map(|s| s.trim_start_matches("DNS:").trim_start_matches("IP:")).unwrap_or("hcpki");
    let file = hcpki_pkix::asn1::pkcs12::build(pkcs8, leaf, &chain, name, &passphrase)?;
    Ok((file, passphrase))
}

/// What the command line says under a generated PKCS#12 passphrase: how to type it (D129).
pub const PASSPHRASE_AS_SHOWN: &str = "type it exactly as shown, hyphens included (capital letters and digits)";

/// Write a secret file: mode 0600, never over an existing file.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = anyhow::Context::with_context(opts.open(path), || format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut f, bytes)?;
    Ok(())
}

/// Who holds an address (`hcpki facility find --address`): the holder now, then every certificate that carried it.
pub fn address_holders(
    found: &hcpki_ca::registrar::addresses::AddressHolders,
    holder: Option<&Facility>,
    officer: Option<&hcpki_ca::facility::NamedSecurityOfficer>,
) -> String {
    let mut out = format!("address:         {}\n", found.address);
    match (&found.allocation, holder) {
        (Some(a), Some(f)) => out.push_str(&format!(
            "allocated to:    {} {} ({}, in {} since {})\ncontact:         {}\n",
            f.id,
            f.name,
            f.state,
            a.allocation,
            rfc3339(a.added_at),
            f.contact.as_deref().unwrap_or("-"),
        )),
        (Some(a), None) => out.push_str(&format!("allocated to:    {} (in {})\n", a.facility, a.allocation)),
        (None, _) => out.push_str("allocated to:    nobody (no facility's allocation contains it)\n"),
    }
    if holder.is_some() {
        match officer {
            Some(o) => out.push_str(&format!("security officer: {} ({})\n", o.officer.name(), o.officer.contact())),
            None => {
                out.push_str("security officer: none named (hcpki facility security-officer ID --name … --contact …)\n")
            }
        }
    }
    if found.certificates.is_empty() {
        out.push_str("certificates:    none ever carried it\n");
    } else {
        out.push_str("certificates:\n");
        for c in &found.certificates {
            out.push_str(&format!(
                "  {}  {:<9} {:<12} {} – {}  {}\n",
                c.serial,
                c.status.as_str(),
                c.facility.as_ref().map(|f| f.as_str()).unwrap_or("-"),
                rfc3339(c.not_before),
                rfc3339(c.not_after),
                c.subject
            ));
        }
    }
    out
}

/// A regional network (D169) as the admin API answers it.
pub fn network_json(n: &hcpki_ca::store::NetworkRecord) -> serde_json::Value {
    serde_json::json!({ "name": n.name, "title": n.title, "responsible_name": n.responsible_name,
        "responsible_contact": n.responsible_contact, "items": n.items, "purpose": n.purpose,
        "joint_users": n.joint_users, "facilities": n.facilities, "services": n.services,
        "declared_at": n.declared_at, "declared_by": n.declared_by })
}
