//! Browser apps (issue #30 item 2): a public client whose pages run in a browser calls `/token`, `/par`,
//! `/userinfo` and `/revoke` from its own origin, and the browser hands it the answer only if the answer allows
//! that origin (CORS). Which origins: those of the redirect URIs registered for public clients (`--auth none`)
//! that a browser treats as secure contexts — `https`, or `http` on a loopback address — so registering the app
//! is all the operator does, and a confidential client's site (which talks to hcpki from its server, never from
//! a page) is never allowed. Pure, and blind to registrations: the client registry
//! (`super::client::Registry::is_web_origin`) picks the public clients' redirect URIs and caches the set.

use http::Uri;
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

/// The origins browser apps call from, given the redirect URIs of the public clients: their secure origins.
pub fn of_redirects<'a>(redirect_uris: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    redirect_uris.into_iter().filter_map(secure_origin).collect()
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
}
