//! The one layout of every HTML page hcpki serves: the SSO portal's, the web console's and the card agent's
//! PIN page. Pages are [maud](https://maud.lambda.xyz) templates (D49): checked by the compiler, and every
//! value interpolated with `(value)` is escaped, so no page escapes by hand. (A crate writing templates
//! depends on `maud` itself: its `html!` expands to paths under `::maud`.)
//!
//! The layout writes the document and its `<head>` (doctype, language, charset, title, the page family's
//! assets); each family writes its own `<body>` (the portal's carries the `data-*` its script reads, the
//! console's its menu and `<main>`), because what a body holds differs per family and its CSP.

use maud::{Markup, PreEscaped, html};

pub mod lang;
pub use lang::Lang;

/// The one stylesheet of the console's and the portal's pages (each serves it from its own origin, so each
/// page's CSP allows `style-src 'self'` and nothing more): one visual design, written once.
pub const STYLESHEET: &str = include_str!("hcpki.css");

/// What differs between the `<head>`s of the page families.
#[derive(Debug)]
pub struct Head<'a> {
    /// The page's language (`ja` unless the reader chose English on the console).
    pub lang: &'a str,
    /// The `<title>` text (escaped here).
    pub title: &'a str,
    /// Elements before the title: the viewport, a refresh.
    pub meta: Markup,
    /// Elements after the title: the stylesheet or script the family's CSP allows.
    pub assets: Markup,
}

/// A whole document: the layout's head around `body`, which must be the `<body>` element itself.
pub fn document(head: Head<'_>, body: Markup) -> Markup {
    html! {
        // Lower case, as the pages have always been written (the tests and screenshots compare them).
        (PreEscaped("<!doctype html>"))
        html lang=(head.lang) {
            head {
                meta charset="utf-8";
                (head.meta)
                title { (head.title) }
                (head.assets)
            }
            (body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_escapes_what_it_is_given() {
        let head = Head { lang: "ja", title: "<a href=\"x\">&</a>", meta: html! {}, assets: html! {} };
        let page = document(head, html! { body { p { ("桜クリニック<script>") } } }).into_string();
        assert_eq!(
            page,
            "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
             <title>&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;</title></head>\
             <body><p>桜クリニック&lt;script&gt;</p></body></html>"
        );
    }
}
