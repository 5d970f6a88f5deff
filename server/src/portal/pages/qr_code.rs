//! A QR code drawn as inline SVG (the second factor's set-up page, D166/D170): a phone's authenticator app scans
//! the `otpauth://` key from the PC's screen, which is how most staff add it. Drawn on the server — no script,
//! no image request, nothing for the page's CSP to allow — with `qrcodegen` (Nayuki's encoder, no dependencies).

use maud::{Markup, html};
use qrcodegen::{QrCode, QrCodeEcc};
use std::fmt::Write as _;

/// The quiet zone around the symbol, in modules (ISO/IEC 18004 asks for four).
const QUIET_ZONE: i32 = 4;

/// `text` as a QR code (error correction M) of `pixels` square, labelled `label` for screen readers; `None`
/// when it does not fit a QR code (over ~2 KB), where the page's typed key and link still serve.
pub fn svg(text: &str, label: &str, pixels: u32) -> Option<Markup> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = code.size();
    let mut path = String::with_capacity((size * size) as usize * 8);
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                // One unit square per dark module; `write!` to a String cannot fail.
                let _ = write!(path, "M{} {}h1v1h-1z", x + QUIET_ZONE, y + QUIET_ZONE);
            }
        }
    }
    let side = size + 2 * QUIET_ZONE;
    Some(html! {
        svg xmlns="http://www.w3.org/2000/svg" class="qr-code" role="img" aria-label=(label)
            viewBox=(format!("0 0 {side} {side}")) width=(pixels) height=(pixels) shape-rendering="crispEdges" {
            rect width=(side) height=(side) fill="#fff" {}
            path d=(path) fill="#000" {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_link_draws_and_too_much_text_does_not() {
        let uri = "otpauth://totp/hcpki:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=hcpki";
        let markup = svg(uri, "QR", 200).expect("fits").into_string();
        assert!(markup.starts_with("<svg") && markup.contains("aria-label=\"QR\"") && markup.contains("h1v1h-1z"));
        assert!(svg(&"x".repeat(5000), "QR", 200).is_none(), "over a QR code's capacity");
    }
}
