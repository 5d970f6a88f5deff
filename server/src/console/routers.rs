//! Where a device enrolls, and per-vendor router configuration snippets filled in with the facility's names
//! and this server's URLs. The snippets are the short form of the guides under `docs/routers/`, which say what
//! was tested and what comes from vendor documentation.

use super::i18n::{Lang, M};
use super::view::{self, table};
use crate::app::AppState;
use hcpki_ca::enroll::CredentialRecord;
use hcpki_ca::enroll::credential::Protocol;
use hcpki_ca::facility::Facility;
use maud::{Markup, html};

/// The URLs a credential is used at; `origin` is this console's (the HTTPS listener's) origin.
pub fn endpoints(state: &AppState, c: &CredentialRecord, origin: &str) -> Markup {
    let http = state.admin.settings().http_base_url.trim_end_matches('/').to_owned();
    let urls: Vec<String> = c
        .profiles
        .iter()
        .map(|p| match c.protocol {
            Protocol::Est => format!("{origin}/.well-known/est/{p}/simpleenroll"),
            Protocol::Scep => format!("{http}/scep/{p}"),
            Protocol::Acme => format!("{origin}/acme/directory"),
        })
        .collect();
    html! { ul { @for u in &urls { li { code { (u) } } } } }
}

/// The router configuration section of a facility page.
pub fn section(lang: Lang, state: &AppState, f: &Facility, origin: &str) -> Markup {
    let t = |m: M| m.text(lang);
    let dns = state.admin.settings().router_dns_name(&f.id);
    let http = state.admin.settings().http_base_url.trim_end_matches('/').to_owned();
    // The CRL of the generation that issues now: after a rollover's switch new routers point at its own (D151).
    let crl = state.admin.settings().crl_url(&state.admin.revoker().current_scope(hcpki_ca::CaName::Router).name());
    let rows: Vec<Vec<Markup>> = vendors(&dns, &http, origin, &crl)
        .into_iter()
        .map(|(vendor, guide, enrollment, snippet)| {
            vec![
                html! { (vendor) " " small { "(docs/routers/" (guide) ")" } },
                html! { (enrollment) },
                html! { pre { (snippet) } },
            ]
        })
        .collect();
    let register = format!("/console/facilities/{}/routers", f.id.as_str());
    let inner = html! {
        p { a href=(register) id="router-register-link" { (t(M::RouterRegisterLink)) } }
        p { (t(M::RouterSnippetsHelp)) }
        (table(t(M::RouterSnippets), &[t(M::Vendor), t(M::Enrollment), t(M::Config)], &rows))
    };
    view::section("routers", t(M::RouterSnippets), inner)
}

/// (vendor, guide file, enrollment, snippet).
fn vendors(dns: &str, http: &str, origin: &str, crl: &str) -> Vec<(&'static str, &'static str, &'static str, String)> {
    vec![
        (
            "strongSwan",
            "strongswan.md",
            "EST",
            format!(
                "pki --gen --type ecdsa --size 256 > gw.key\n\
                 pki --req --in gw.key --san {dns} > gw.csr\n\
                 pki --est --url {origin} --in gw.csr --userpass USERNAME:PASSWORD > gw.pem\n\
                 # swanctl.conf: local {{ certs = gw.pem  id = {dns} }}  remote {{ revocation = strict }}"
            ),
        ),
        (
            "Cisco IOS-XE",
            "cisco-ios-xe.md",
            "SCEP",
            format!(
                "crypto pki trustpoint HCPKI\n enrollment url {http}/scep/router\n subject-alt-name {dns}\n \
                 revocation-check crl\ncrypto pki authenticate HCPKI\ncrypto pki enroll HCPKI   ! password: CHALLENGE"
            ),
        ),
        (
            "MikroTik RouterOS",
            "mikrotik.md",
            "SCEP",
            format!(
                "/certificate add name=gw common-name={dns} subject-alt-name=DNS:{dns} key-type=ec key-size=prime256v1\n\
                 /certificate add-scep template=gw scep-url={http}/scep/router challenge-password=CHALLENGE"
            ),
        ),
        ("Yamaha RTX", "yamaha-rtx.md", "CSR / PKCS#12", format!("# identity: {dns}\n# CRL: {crl}")),
    ]
}
