//! Browser apps (issue #30 item 2): a public client whose pages run in a browser calls `/token`, `/par`,
//! `/userinfo` and `/revoke` from its own origin, and the browser hands it the answer only if the answer allows
//! that origin (CORS). Which origins: those of the redirect URIs registered for public clients (`--auth none`)
//! that a browser treats as secure contexts — `https`, or `http` on a loopback address — so registering the app
//! is all the operator does, and a confidential client's site (which talks to hcpki from its server, never from
//! a page) is never allowed. Pure: the registrations are the caller's ([`super::client::Registry`] caches the
//! set).

use super::client::{AuthMethod, ClientConfig};
use axum::http::Uri;
use std::collections::BTreeSet;

/// The origin (RFC 6454 §4: scheme, host, port; the scheme's default port left out, as browsers send it in
/// `Origin`) of `uri`, when a page there is a secure context (W3C Secure Contexts §3.2: `https`, or `http` on
/// `127.0.0.1`, `[::1]` or `localhost`); `None` otherwise, or when `uri` is not an absolute URL.
pub fn secure_origin(uri: &str) -> Option<String> {
    let parsed: Uri = uri.parse().ok()?;
    let scheme = parsed.scheme_str()?.to_ascii_lowercase();
    let host = parsed.host()?.to_ascii_lowercase();
    let loopback = matches!(host.as_str(), "127.0.0.1" | "[::1]" | "localhost");
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" if loopback => 80,
        _ => return None,
    };
    Some(match parsed.port_u16() {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// The origins browser apps among `clients` call from: the secure origins of public clients' redirect URIs.
pub fn of_clients<'a>(clients: impl IntoIterator<Item = &'a ClientConfig>) -> BTreeSet<String> {
    clients
        .into_iter()
        .filter(|c| c.auth == AuthMethod::None)
        .flat_map(|c| c.redirect_uris.iter().filter_map(|u| secure_origin(u)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_origins_as_browsers_send_them() {
        for (uri, origin) in [
            ("https://emr.example.jp/cb", Some("https://emr.example.jp")),
            ("https://EMR.example.jp:443/app/cb?x=1", Some("https://emr.example.jp")),
            ("https://emr.example.jp:8443/cb", Some("https://emr.example.jp:8443")),
            ("http://127.0.0.1:9/cb", Some("http://127.0.0.1:9")),
            ("http://[::1]:3000/cb", Some("http://[::1]:3000")),
            ("http://localhost/cb", Some("http://localhost")),
            // Not secure contexts, or not URLs a page can be at.
            ("http://emr.example.jp/cb", None),
            ("http://10.0.0.1/cb", None),
            ("com.example.app:/cb", None),
            ("/cb", None),
            ("", None),
        ] {
            assert_eq!(secure_origin(uri).as_deref(), origin, "{uri}");
        }
    }
    /// Only public clients' redirect URIs make browser-app origins; a confidential client's site never does.
    #[test]
    fn only_public_clients_make_origins() {
        let client = |auth: AuthMethod, uris: &[&str]| {
            let mut c = super::super::client::Client::console().config;
            c.auth = auth;
            c.redirect_uris = uris.iter().map(|u| (*u).to_owned()).collect();
            c
        };
        let clients = [
            client(AuthMethod::None, &["https://app.example.jp/cb", "http://127.0.0.1/cb", "com.example:/cb"]),
            client(AuthMethod::None, &["https://app.example.jp/other"]),
            client(AuthMethod::PrivateKeyJwt, &["https://wiki.example.jp/cb"]),
            client(AuthMethod::ClientSecretBasic, &["https://apache.example.jp/cb"]),
        ];
        let origins: Vec<String> = of_clients(&clients).into_iter().collect();
        assert_eq!(origins, ["http://127.0.0.1", "https://app.example.jp"]);
    }
}
