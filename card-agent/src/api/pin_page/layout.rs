//! The agent's page layout: its one inline style and the document around every page (the bar with the agent's
//! name and the language switch).

use hcpki_html::{Head, Lang};
use maud::{Markup, PreEscaped, html};

use super::words::M;

/// The page's only style, inline (the CSP allows inline styles and loads nothing). High contrast, large
/// type for a PC at a reception desk, and the keyboard focus always visible.
const STYLE: &str = "body{font-family:system-ui,\"Hiragino Sans\",\"Noto Sans JP\",sans-serif;color:#1a1a1a;\
background:#fafafa;line-height:1.5;margin:0}\
main{max-width:34rem;margin:0 auto;padding:1rem 1.25rem}\
.bar{display:flex;justify-content:space-between;align-items:baseline;background:#0b3d5c;color:#fff;\
padding:.4rem 1.25rem;font-size:.95rem}.bar p{margin:0}.bar a{color:#fff}\
h1{font-size:1.45rem;margin:.6rem 0 .8rem}\
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem;margin:0 0 1rem}dt{font-weight:bold}\
dd{margin:0;overflow-wrap:anywhere}\
.origin{font-family:ui-monospace,monospace;overflow-wrap:anywhere}\
.warn{border-left:.35rem solid #b00020;background:#fdecee;padding:.5rem .75rem;font-weight:bold}\
.error{border-left:.35rem solid #b00020;padding:.1rem .75rem}\
label{display:block;font-weight:bold;margin:.8rem 0 .3rem}\
input[type=password]{font:inherit;font-size:1.3rem;padding:.35rem .5rem;width:12rem;border:2px solid #555;border-radius:3px}\
.confirm{display:flex;gap:.5rem;align-items:flex-start;margin:.8rem 0}.confirm label{margin:0}\
.confirm input{width:1.2rem;height:1.2rem;margin-top:.3rem}\
.actions{display:flex;gap:.75rem;margin-top:1rem}\
button{font:inherit;padding:.45rem 1.2rem;border-radius:3px;border:2px solid #0b3d5c;cursor:pointer}\
button.primary{background:#0b3d5c;color:#fff}button.secondary{background:#fff;color:#0b3d5c}\
a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #f0a500;outline-offset:2px}\
.note{color:#444;font-size:.9rem;margin-top:1.5rem}.large-text{font-size:1.3rem;line-height:1.7}.large-text h1{font-size:1.75rem;margin:.2rem 0 .6rem}.kicker{margin:.6rem 0 0;font-weight:bold;color:#0b3d5c}.lead{margin:.2rem 0 .8rem}.statement{background:#fff;border:2px solid #0b3d5c;border-radius:4px;padding:.2rem 1rem .6rem;margin:0 0 .4rem}.statement h2{font-size:1.05em;margin:.7rem 0 .1rem}.statement p{margin:0;white-space:pre-line}.reference{font-size:.8em;color:#444;margin:0 0 1rem}.meaning{margin:.8rem 0}.hint{font-size:.85em;color:#444;margin:0 0 .3rem}.large-text input[type=password]{font-size:1.5rem;width:16rem;max-width:100%}.large-text button{font-size:1.1em;padding:.55rem 1.4rem}details{margin-top:1.5rem;font-size:.8em}summary{cursor:pointer;color:#0b3d5c;font-weight:bold}details dl{margin-top:.5rem}";

/// The layout (`hcpki_html::document`) with the agent's bar: its name and the language switch.
pub(super) fn document(lang: Lang, title: &str, body: Markup, reload: bool) -> Markup {
    let other = lang.other().code();
    let page_title = format!("{title} — {}", M::Agent.text(lang));
    let head = Head {
        lang: lang.code(),
        title: &page_title,
        meta: html! {
            meta name="viewport" content="width=device-width, initial-scale=1";
            @if reload { meta http-equiv="refresh" content="0"; }
        },
        assets: html! { style { (PreEscaped(STYLE)) } },
    };
    hcpki_html::document(
        head,
        html! {
            body {
                header class="bar" {
                    p { (M::Agent.text(lang)) }
                    p { a href={ "?lang=" (other) } hreflang=(other) lang=(other) { (lang.switch_label()) } }
                }
                main { (body) }
            }
        },
    )
}
