//! The rule table. Order: RFC 5280, RFC 4945, hcpki.

use super::rule::{Level, Rule};
use crate::profile::{CertClass, ProfileKind};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280 as ext;
use const_oid::db::rfc5912;
use der::{Encode, Tagged};
use hcpki_pkix::asn1::{GeneralName, RawOid};
use hcpki_pkix::oid;
use std::collections::HashSet;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName as X509GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::time::Time;

macro_rules! rule {
    ($id:literal, $level:ident, $source:literal, $desc:literal, $check:expr) => {
        Rule { id: $id, level: Level::$level, source: $source, description: $desc, check: $check }
    };
}

/// Every rule, in the order they run.
pub static RULES: &[Rule] = &[
    rule!(
        "e_rfc5280_serial_positive",
        Error,
        "RFC 5280 §4.1.2.2",
        "serial is a positive INTEGER of at most 20 octets",
        |s| {
            let b = s.tbs.serial_number().as_bytes();
            let positive = b.first().is_some_and(|x| *x & 0x80 == 0) && b.iter().any(|x| *x != 0);
            (!positive || b.len() > 20).then(|| format!("serial {} octets, first octet {:02x?}", b.len(), b.first()))
        }
    ),
    rule!(
        "e_cabf_serial_entropy",
        Error,
        "CA/B Forum BR §7.1",
        "serial carries at least 64 bits (9+ octets when positive)",
        |s| {
            let n = s.tbs.serial_number().as_bytes().len();
            (n < 9).then(|| format!("serial has only {n} octets"))
        }
    ),
    rule!(
        "e_rfc5280_signature_matches_issuer_key",
        Error,
        "RFC 5280 §4.1.2.3",
        "the signature algorithm fits the issuer's key type",
        |s| {
            let sig = s.tbs.signature().oid;
            let key = s.issuer_key.algorithm.oid;
            let ok = if key == rfc5912::RSA_ENCRYPTION {
                sig == rfc5912::SHA_256_WITH_RSA_ENCRYPTION
                    || sig == rfc5912::SHA_384_WITH_RSA_ENCRYPTION
                    || sig == rfc5912::SHA_512_WITH_RSA_ENCRYPTION
            } else {
                key == rfc5912::ID_EC_PUBLIC_KEY
                    && (sig == rfc5912::ECDSA_WITH_SHA_256 || sig == rfc5912::ECDSA_WITH_SHA_384)
            };
            (!ok).then(|| format!("signature {sig} with issuer key {key}"))
        }
    ),
    rule!("e_rfc5280_validity_order", Error, "RFC 5280 §4.1.2.5", "notBefore is before notAfter", |s| {
        let v = s.tbs.validity();
        (hcpki_pkix::time::unix(&v.not_before) >= hcpki_pkix::time::unix(&v.not_after))
            .then(|| "notBefore ≥ notAfter".to_owned())
    }),
    rule!(
        "e_rfc5280_time_encoding",
        Error,
        "RFC 5280 §4.1.2.5",
        "UTCTime through 2049, GeneralizedTime from 2050",
        |s| {
            let v = s.tbs.validity();
            [&v.not_before, &v.not_after].iter().find_map(|t| {
                let year2050 = 2_524_608_000; // 2050-01-01T00:00:00Z
                let utc = matches!(t, Time::UtcTime(_));
                (utc != (hcpki_pkix::time::unix(t) < year2050))
                    .then(|| format!("time {} uses the wrong encoding", hcpki_pkix::time::unix(t)))
            })
        }
    ),
    rule!("e_rfc5280_extensions_unique", Error, "RFC 5280 §4.2", "no extension appears twice", |s| {
        let mut seen = HashSet::new();
        s.extensions().iter().find(|e| !seen.insert(e.extn_id)).map(|e| format!("{} repeated", e.extn_id))
    }),
    rule!("e_rfc5280_issuer_not_empty", Error, "RFC 5280 §4.1.2.4", "the issuer DN is not empty", |s| {
        s.tbs.issuer().is_empty().then(|| "empty issuer".to_owned())
    }),
    rule!(
        "e_rfc5280_ski_present",
        Error,
        "RFC 5280 §4.2.1.2",
        "subjectKeyIdentifier is present (MUST for CAs; hcpki requires it everywhere)",
        |s| {
            match s.decode::<SubjectKeyIdentifier>(ext::ID_CE_SUBJECT_KEY_IDENTIFIER) {
                None => Some("missing".to_owned()),
                Some(Err(e)) => Some(format!("malformed: {e}")),
                Some(Ok(ski)) => ski.0.as_bytes().is_empty().then(|| "empty".to_owned()),
            }
        }
    ),
    rule!(
        "e_rfc5280_aki_matches_issuer",
        Error,
        "RFC 5280 §4.2.1.1",
        "authorityKeyIdentifier is present and names the issuer's key",
        |s| {
            let want = crate::profile::key_identifier(s.issuer_key);
            match s.decode::<AuthorityKeyIdentifier>(ext::ID_CE_AUTHORITY_KEY_IDENTIFIER) {
                None => Some("missing".to_owned()),
                Some(Err(e)) => Some(format!("malformed: {e}")),
                Some(Ok(aki)) => (aki.key_identifier.as_ref().map(|k| k.as_bytes()) != Some(want.as_slice()))
                    .then(|| "keyIdentifier differs from the issuer's key identifier".to_owned()),
            }
        }
    ),
    rule!(
        "e_rfc5280_ca_basic_constraints",
        Error,
        "RFC 5280 §4.2.1.9",
        "CA certificates carry critical basicConstraints with cA TRUE",
        |s| {
            if !s.is_ca() {
                return None;
            }
            match (
                s.extension(ext::ID_CE_BASIC_CONSTRAINTS),
                s.decode::<BasicConstraints>(ext::ID_CE_BASIC_CONSTRAINTS),
            ) {
                (Some(e), Some(Ok(bc))) if e.critical && bc.ca => None,
                _ => Some("missing, not critical or cA FALSE".to_owned()),
            }
        }
    ),
    rule!("e_rfc5280_ca_key_usage", Error, "RFC 5280 §4.2.1.3", "CA certificates assert keyCertSign", |s| {
        if !s.is_ca() {
            return None;
        }
        match s.decode::<KeyUsage>(ext::ID_CE_KEY_USAGE) {
            Some(Ok(ku)) if ku.0.contains(KeyUsages::KeyCertSign) => None,
            _ => Some("keyCertSign not asserted".to_owned()),
        }
    }),
    rule!(
        "e_rfc5280_ee_not_ca",
        Error,
        "RFC 5280 §4.2.1.3, §4.2.1.9",
        "end-entity certificates are not CAs and cannot sign certificates or CRLs",
        |s| {
            if s.is_ca() {
                return None;
            }
            let bc_ca = matches!(s.decode::<BasicConstraints>(ext::ID_CE_BASIC_CONSTRAINTS), Some(Ok(bc)) if bc.ca);
            let ku_ca = matches!(s.decode::<KeyUsage>(ext::ID_CE_KEY_USAGE),
            Some(Ok(ku)) if ku.0.contains(KeyUsages::KeyCertSign) || ku.0.contains(KeyUsages::CRLSign));
            (bc_ca || ku_ca).then(|| "end entity with CA powers".to_owned())
        }
    ),
    rule!(
        "e_rfc5280_key_usage_present",
        Error,
        "RFC 5280 §4.2.1.3",
        "keyUsage is present, critical and not empty",
        |s| {
            match (s.extension(ext::ID_CE_KEY_USAGE), s.decode::<KeyUsage>(ext::ID_CE_KEY_USAGE)) {
                (Some(e), Some(Ok(ku))) if e.critical && !ku.0.is_empty() => None,
                _ => Some("missing, not critical, malformed or empty".to_owned()),
            }
        }
    ),
    rule!(
        "e_rfc5280_eku_not_empty",
        Error,
        "RFC 5280 §4.2.1.12",
        "extKeyUsage, when present, lists at least one purpose",
        |s| {
            match s.decode::<ExtendedKeyUsage>(ext::ID_CE_EXT_KEY_USAGE) {
                Some(Ok(eku)) if eku.0.is_empty() => Some("empty".to_owned()),
                Some(Err(e)) => Some(format!("malformed: {e}")),
                _ => None,
            }
        }
    ),
    rule!(
        "e_rfc5280_san_well_formed",
        Error,
        "RFC 5280 §4.2.1.6",
        "SANs decode; dNSNames are LDH; iPAddresses are 4 or 16 octets; critical iff subject empty",
        |s| {
            let ext_ = s.extension(ext::ID_CE_SUBJECT_ALT_NAME)?;
            if ext_.critical != s.tbs.subject().is_empty() {
                return Some("criticality does not follow the subject's emptiness".to_owned());
            }
            match s.sans()? {
                Err(e) => Some(format!("malformed: {e}")),
                Ok(names) if names.is_empty() => Some("empty".to_owned()),
                Ok(names) => names.iter().find_map(|n| match n {
                    GeneralName::DnsName(d) => crate::profile::dns_name(d.as_str()).err().map(|e| e.to_string()),
                    GeneralName::IpAddress(o) => (![4, 16].contains(&o.as_bytes().len()))
                        .then(|| format!("iPAddress of {} octets", o.as_bytes().len())),
                    _ => None,
                }),
            }
        }
    ),
    rule!(
        "e_rfc5280_crl_dp_http",
        Error,
        "RFC 5280 §4.2.1.13",
        "every CRL distribution point is a full-name http:// URI",
        |s| {
            let dps = match s.decode::<CrlDistributionPoints>(ext::ID_CE_CRL_DISTRIBUTION_POINTS)? {
                Ok(d) => d,
                Err(e) => return Some(format!("malformed: {e}")),
            };
            dps.0.iter().find_map(|dp: &DistributionPoint| match &dp.distribution_point {
                Some(DistributionPointName::FullName(names))
                    if names.iter().all(|n| {
                        matches!(n,
                X509GeneralName::UniformResourceIdentifier(u) if u.as_str().starts_with("http://"))
                    }) =>
                {
                    None
                }
                _ => Some("a distribution point is not an http:// URI".to_owned()),
            })
        }
    ),
    rule!(
        "e_rfc5280_name_constraints_ca_only",
        Error,
        "RFC 5280 §4.2.1.10",
        "name constraints appear only in CA certificates",
        |s| {
            (!s.is_ca() && s.extension(ext::ID_CE_NAME_CONSTRAINTS).is_some())
                .then(|| "present in an end entity".to_owned())
        }
    ),
    // ---- RFC 4945 (router certificates, and the CA path above them) ----
    rule!(
        "e_rfc4945_ku_digital_signature",
        Error,
        "RFC 4945 §5.1.3.2",
        "IKE certificates assert digitalSignature or nonRepudiation",
        |s| {
            if s.class != CertClass::EndEntity(ProfileKind::Router) {
                return None;
            }
            match s.decode::<KeyUsage>(ext::ID_CE_KEY_USAGE) {
                Some(Ok(ku))
                    if ku.0.contains(KeyUsages::DigitalSignature) || ku.0.contains(KeyUsages::NonRepudiation) =>
                {
                    None
                }
                _ => Some("neither digitalSignature nor nonRepudiation".to_owned()),
            }
        }
    ),
    rule!(
        "e_rfc4945_san_id_types",
        Error,
        "RFC 4945 §5.1.3.6",
        "router SANs are only dNSName, iPAddress or rfc822Name, and at least one exists",
        |s| {
            if s.class != CertClass::EndEntity(ProfileKind::Router) {
                return None;
            }
            match s.sans() {
                None => Some("no subjectAltName: IKE identities must be in the SAN".to_owned()),
                Some(Err(e)) => Some(e),
                Some(Ok(names)) => names
                    .iter()
                    .find(|n| {
                        !matches!(n, GeneralName::DnsName(_) | GeneralName::IpAddress(_) | GeneralName::Rfc822Name(_))
                    })
                    .map(|n| format!("{n:?} is not an IKE identity type")),
            }
        }
    ),
    rule!("e_rfc4945_no_wildcards", Error, "RFC 4945 §5.1.3.6", "dNSNames contain no wildcard", |s| {
        let names = s.sans()?.ok()?;
        names.iter().find_map(|n| match n {
            GeneralName::DnsName(d) if d.as_str().contains('*') => Some(format!("wildcard {}", d.as_str())),
            _ => None,
        })
    }),
    rule!(
        "e_rfc4945_policy_and_constraints_not_critical",
        Error,
        "RFC 4945 §5.1.3.3, §5.1.3.5",
        "certificatePolicies, nameConstraints, policyConstraints and policyMappings are not critical",
        |s| {
            [
                ext::ID_CE_CERTIFICATE_POLICIES,
                ext::ID_CE_NAME_CONSTRAINTS,
                ext::ID_CE_POLICY_CONSTRAINTS,
                ext::ID_CE_POLICY_MAPPINGS,
            ]
            .iter()
            .find_map(|oid| s.extension(*oid).filter(|e| e.critical).map(|e| format!("{} is critical", e.extn_id)))
        }
    ),
    rule!(
        "e_rfc4945_eku_allows_ike",
        Error,
        "RFC 4945 §5.1.3.12",
        "a router EKU, when present, contains id-kp-ipsecIKE or anyExtendedKeyUsage",
        |s| {
            if s.class != CertClass::EndEntity(ProfileKind::Router) {
                return None;
            }
            let any_eku = ObjectIdentifier::new_unwrap("2.5.29.37.0");
            match s.decode::<ExtendedKeyUsage>(ext::ID_CE_EXT_KEY_USAGE)? {
                Ok(eku) if eku.0.contains(&oid::KP_IPSEC_IKE) || eku.0.contains(&any_eku) => None,
                _ => Some("EKU without id-kp-ipsecIKE: RFC 4945 verifiers reject it".to_owned()),
            }
        }
    ),
    rule!("e_rfc4945_no_email_in_dn", Error, "RFC 4945 §5.1.2.3", "the subject DN carries no emailAddress", |s| {
        let email = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");
        s.tbs.subject().iter().any(|a| a.oid == email).then(|| "emailAddress in subject".to_owned())
    }),
    rule!(
        "e_rfc4945_crl_dp_present",
        Error,
        "RFC 4945 §5.1.3.12, RFC 4809",
        "router certificates and CAs below the root carry an HTTP CRL distribution point",
        |s| {
            let needs = matches!(s.class, CertClass::Issuing | CertClass::EndEntity(ProfileKind::Router));
            (needs && s.extension(ext::ID_CE_CRL_DISTRIBUTION_POINTS).is_none())
                .then(|| "no cRLDistributionPoints".to_owned())
        }
    ),
    rule!(
        "e_rfc4945_no_freshest_crl",
        Error,
        "RFC 4945 §5.2.2",
        "no freshestCRL (delta CRLs): most IPsec stacks cannot use them",
        |s| { s.extension(ext::ID_CE_FRESHEST_CRL).is_some().then(|| "freshestCRL present".to_owned()) }
    ),
    // ---- hcpki ----
    rule!(
        "e_hcpki_subject_key_policy",
        Error,
        "hcpki key policy (docs/profiles.md)",
        "the subject key is RSA 2048/3072/4096 or ECDSA P-256/P-384",
        |s| {
            let spki = s.tbs.subject_public_key_info();
            let owned = spki::SubjectPublicKeyInfoOwned::try_from(spki.to_der().ok()?.as_slice()).ok()?;
            crate::csr::key_policy(&owned).err().map(|e| e.to_string())
        }
    ),
    rule!(
        "e_hcpki_within_issuer_validity",
        Error,
        "RFC 5280 §6.1.3 (a)(2)",
        "the certificate expires no later than its issuer",
        |s| {
            let issuer = s.issuer_not_after?;
            let na = hcpki_pkix::time::unix(&s.tbs.validity().not_after);
            (na > issuer).then(|| "notAfter beyond the issuing CA's".to_owned())
        }
    ),
    rule!(
        "e_hcpki_facility_serial_number",
        Error,
        "hcpki facility identifier",
        "facility certificates carry the facility ID in subject serialNumber",
        |s| {
            let id = s.facility?;
            let sn = s.tbs.subject().iter().find(|a| a.oid == const_oid::db::rfc4519::SERIAL_NUMBER);
            let value = sn.and_then(|a| a.value.decode_as::<der::asn1::PrintableStringRef<'_>>().ok());
            (value.map(|v| v.as_str()) != Some(id.as_str())).then(|| format!("serialNumber is not {id}"))
        }
    ),
    rule!(
        "e_hcpki_router_facility_dns",
        Error,
        "hcpki facility identifier",
        "router certificates carry the facility's own dNSName",
        |s| {
            if s.class != CertClass::EndEntity(ProfileKind::Router) {
                return None;
            }
            let want = s.facility_dns?;
            let names = match s.sans() {
                Some(Ok(n)) => n,
                _ => return Some(format!("no subjectAltName, so no dNSName {want}")),
            };
            (!names.iter().any(|n| matches!(n, GeneralName::DnsName(d) if d.as_str() == want)))
                .then(|| format!("no dNSName {want}"))
        }
    ),
    rule!(
        "e_hcpki_pc_identity_uri",
        Error,
        "hcpki facility identifier",
        "PC certificates carry https://<domain>/facility/<id>/device/<device> for their facility",
        |s| {
            if s.class != CertClass::EndEntity(ProfileKind::Pc) {
                return None;
            }
            let id = s.facility?;
            let names = match s.sans() {
                Some(Ok(n)) => n,
                _ => return Some("no subjectAltName".to_owned()),
            };
            let found = names.iter().any(|n| {
                matches!(n,
            GeneralName::UniformResourceIdentifier(u)
                if crate::profile::pc::parse_identity_uri(u.as_str()).is_some_and(|(f, _)| &f == id))
            });
            (!found).then(|| format!("no identity URI for {id}"))
        }
    ),
    rule!(
        "e_hcpki_pc_names",
        Error,
        "hcpki facility identifier",
        "PC certificates name nothing but their identity URI and at most one host name <device>.<facility domain>",
        |s| {
            if s.class != CertClass::EndEntity(ProfileKind::Pc) {
                return None;
            }
            let names = match s.sans() {
                Some(Ok(n)) => n,
                _ => return None, // e_hcpki_pc_identity_uri reports it
            };
            let suffix = format!(".{}", s.facility_dns?);
            let mut hosts = 0;
            for n in &names {
                match n {
                    GeneralName::UniformResourceIdentifier(_) => {}
                    GeneralName::DnsName(d) => {
                        let label = d.as_str().strip_suffix(&suffix);
                        if label.is_none_or(|l| l.is_empty() || l.contains('.')) {
                            return Some(format!("dNSName {} is not a host of {}", d.as_str(), &suffix[1..]));
                        }
                        hosts += 1;
                    }
                    other => return Some(format!("name type not allowed in a PC certificate: {other:?}")),
                }
            }
            (hosts > 1).then(|| "more than one host name".to_owned())
        }
    ),
    rule!(
        "e_hcpki_ocsp_signer",
        Error,
        "RFC 6960 §4.2.2.2",
        "OCSP signers carry id-kp-OCSPSigning and id-pkix-ocsp-nocheck",
        |s| {
            if s.class != CertClass::EndEntity(ProfileKind::Ocsp) {
                return None;
            }
            let eku = matches!(s.decode::<ExtendedKeyUsage>(ext::ID_CE_EXT_KEY_USAGE), Some(Ok(e)) if e.0.contains(&oid::KP_OCSP_SIGNING));
            let nocheck = s.extension(oid::PKIX_OCSP_NOCHECK).is_some();
            (!eku || !nocheck).then(|| "missing OCSPSigning EKU or nocheck".to_owned())
        }
    ),
    rule!(
        "e_hcpki_tsa_signer",
        Error,
        "RFC 3161 §2.3",
        "TSA certificates carry one critical extKeyUsage with id-kp-timeStamping alone, and keyUsage only digitalSignature and nonRepudiation",
        |s| {
            if s.class != CertClass::EndEntity(ProfileKind::Tsa) {
                return None;
            }
            let critical = s.extension(ext::ID_CE_EXT_KEY_USAGE).is_some_and(|e| e.critical);
            let only = matches!(s.decode::<ExtendedKeyUsage>(ext::ID_CE_EXT_KEY_USAGE), Some(Ok(e)) if e.0 == [oid::KP_TIME_STAMPING]);
            if !critical || !only {
                return Some("extKeyUsage must be critical and hold id-kp-timeStamping alone".to_owned());
            }
            let allowed = KeyUsages::DigitalSignature | KeyUsages::NonRepudiation;
            match s.decode::<KeyUsage>(ext::ID_CE_KEY_USAGE) {
                Some(Ok(ku)) if (ku.0 & !allowed).is_empty() => None,
                _ => Some("keyUsage must hold only digitalSignature and nonRepudiation".to_owned()),
            }
        }
    ),
    rule!(
        "w_hcpki_router_dn_printable",
        Warning,
        "RFC 4945 §3.1 (interop)",
        "router subject attributes are PrintableString (short, byte-comparable DNs for IKE)",
        |s| {
            if s.class != CertClass::EndEntity(ProfileKind::Router) {
                return None;
            }
            s.tbs
                .subject()
                .iter()
                .find(|a| a.value.tag() != der::Tag::PrintableString)
                .map(|a| format!("{} is not PrintableString", a.oid))
        }
    ),
    rule!(
        "e_hcpki_oid_arcs_fit_28_bits",
        Error,
        "RFC 5280 (2^28 arcs); interop: wolfSSL, pyca/cryptography, Botan",
        "every OID inside the certificate has arcs below 2^28",
        |s| {
            let too_big = |o: &RawOid| o.arcs().iter().any(|a| *a > oid::MAX_CERTIFICATE_ARC);
            let mut oids: Vec<RawOid> = s.extensions().iter().map(|e| RawOid::from(e.extn_id)).collect();
            oids.push(RawOid::from(s.tbs.signature().oid));
            oids.push(RawOid::from(s.tbs.subject_public_key_info().algorithm.oid));
            oids.extend(s.tbs.subject().iter().map(|a| RawOid::from(a.oid)));
            if let Some(Ok(eku)) = s.decode::<ExtendedKeyUsage>(ext::ID_CE_EXT_KEY_USAGE) {
                oids.extend(eku.0.into_iter().map(RawOid::from));
            }
            if let Some(Ok(names)) = s.sans() {
                for n in names {
                    match n {
                        GeneralName::OtherName(o) => oids.push(o.type_id),
                        GeneralName::RegisteredId(r) => oids.push(r),
                        _ => {}
                    }
                }
            }
            match s.decode::<hcpki_pkix::asn1::CertificatePolicies>(ext::ID_CE_CERTIFICATE_POLICIES) {
                Some(Ok(p)) => oids.extend(p.into_iter().map(|pi| pi.policy_identifier)),
                Some(Err(e)) => return Some(format!("certificatePolicies does not decode: {e}")),
                None => {}
            }
            oids.iter().find(|o| too_big(o)).map(|o| format!("{o} has an arc of 2^28 or more"))
        }
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_prefixed_by_level() {
        let mut seen = HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate {}", r.id);
            let prefix = if r.level == Level::Error { "e_" } else { "w_" };
            assert!(r.id.starts_with(prefix), "{}", r.id);
        }
    }

    /// docs/profiles.md#lints is the operator's list of rules: it must name exactly the rules that run.
    #[test]
    fn every_rule_is_documented_and_every_documented_rule_exists() {
        let doc = include_str!("../../../docs/profiles.md");
        let lints = doc.split("## Lints").nth(1).expect("profiles.md has a Lints section");
        let documented: HashSet<&str> = lints
            .lines()
            .filter_map(|l| l.strip_prefix("| "))
            .filter_map(|l| l.split(' ').next())
            .filter(|id| id.starts_with("e_") || id.starts_with("w_"))
            .collect();
        let coded: HashSet<&str> = RULES.iter().map(|r| r.id).collect();
        let undocumented: Vec<_> = coded.difference(&documented).collect();
        let stale: Vec<_> = documented.difference(&coded).collect();
        assert!(undocumented.is_empty(), "rules missing from docs/profiles.md: {undocumented:?}");
        assert!(stale.is_empty(), "docs/profiles.md lists rules that do not exist: {stale:?}");
    }
}
