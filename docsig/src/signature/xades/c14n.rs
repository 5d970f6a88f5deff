//! Exclusive XML Canonicalization 1.0 without comments (<http://www.w3.org/2001/10/xml-exc-c14n#>, W3C
//! Recommendation 2002-07-18) of one element's subtree: the bytes every e-prescription reference digests and the
//! card signs. Written here (D75) over the safe reader's tree, so the bytes we sign and the bytes we check come
//! from one function; `tests` compare it with `xmllint --exc-c14n`.
//!
//! What the subtree renders as (Canonical XML 1.0 §2.3, exc-c14n §3):
//! * the apex element and its descendants; comments dropped; processing instructions kept; text as parsed (line
//!   ends already normalised to `\n` and character references resolved by the parser), escaped `&amp;` `&lt;`
//!   `&gt;` `&#xD;`;
//! * empty elements as a start and an end tag; attributes in double quotes, escaped `&amp;` `&lt;` `&quot;`
//!   `&#x9;` `&#xA;` `&#xD;`, sorted by (namespace URI, local name) with unqualified ones first;
//! * namespace declarations only where *visibly utilised* — by the element's own prefix or one of its
//!   attributes' — and not already rendered with the same URI by an output ancestor; `xmlns=""` only to undo a
//!   default namespace an output ancestor rendered; sorted by prefix (the default first). Ancestors outside the
//!   subtree render nothing (that is what makes the form exclusive); no InclusiveNamespaces prefix list.

use super::xml::{MAX_DEPTH, attribute_qname, element_qname, prefix};
use roxmltree::{Node, NodeType};

/// The canonical form of `element` and its subtree.
pub fn exclusive(element: Node<'_, '_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rendered = Vec::new();
    render(element, &mut rendered, &mut out, 0);
    out
}

/// Render `node` with `rendered` the namespace declarations output ancestors rendered (prefix, URI), innermost last.
/// Depth is bounded by the reader ([`MAX_DEPTH`]); deeper nodes (never produced by it) render nothing.
fn render<'a>(node: Node<'a, 'a>, rendered: &mut Vec<(&'a str, &'a str)>, out: &mut Vec<u8>, depth: usize) {
    match node.node_type() {
        NodeType::Element if depth <= MAX_DEPTH => element(node, rendered, out, depth),
        NodeType::Text => escape_text(node.text().unwrap_or_default(), out),
        NodeType::PI => {
            if let Some(pi) = node.pi() {
                out.extend_from_slice(b"<?");
                out.extend_from_slice(pi.target.as_bytes());
                if let Some(value) = pi.value {
                    out.push(b' ');
                    out.extend_from_slice(value.as_bytes());
                }
                out.extend_from_slice(b"?>");
            }
        }
        _ => {}
    }
}

fn element<'a>(node: Node<'a, 'a>, rendered: &mut Vec<(&'a str, &'a str)>, out: &mut Vec<u8>, depth: usize) {
    let qname = element_qname(node);
    // Visibly utilised prefixes and the URIs they have here ("" is the default namespace).
    let mut utilised: Vec<(&'a str, &'a str)> = vec![(prefix(qname), node.tag_name().namespace().unwrap_or(""))];
    let mut attributes: Vec<(&'a str, &'a str, &'a str, &'a str)> = Vec::new();
    for attribute in node.attributes() {
        let name = attribute_qname(node, &attribute);
        let uri = attribute.namespace().unwrap_or("");
        let own = prefix(name);
        if !own.is_empty() && own != "xml" {
            utilised.push((own, uri));
        }
        attributes.push((uri, attribute.name(), name, attribute.value()));
    }
    utilised.sort_unstable();
    utilised.dedup();
    let before = rendered.len();
    let mut declarations = Vec::new();
    for (p, uri) in utilised {
        let current = rendered.iter().rev().find(|(q, _)| *q == p).map(|(_, u)| *u).unwrap_or("");
        if current != uri {
            declarations.push((p, uri));
        }
    }
    out.push(b'<');
    out.extend_from_slice(qname.as_bytes());
    for (p, uri) in &declarations {
        out.extend_from_slice(if p.is_empty() { b" xmlns" as &[u8] } else { b" xmlns:" });
        out.extend_from_slice(p.as_bytes());
        out.extend_from_slice(b"=\"");
        escape_attribute(uri, out);
        out.push(b'"');
    }
    rendered.extend(declarations);
    attributes.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (_, _, name, value) in attributes {
        out.push(b' ');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        escape_attribute(value, out);
        out.push(b'"');
    }
    out.push(b'>');
    for child in node.children() {
        render(child, rendered, out, depth + 1);
    }
    out.extend_from_slice(b"</");
    out.extend_from_slice(qname.as_bytes());
    out.push(b'>');
    rendered.truncate(before);
}

fn escape_text(text: &str, out: &mut Vec<u8>) {
    for c in text.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '\r' => out.extend_from_slice(b"&#xD;"),
            other => push_char(other, out),
        }
    }
}

fn escape_attribute(text: &str, out: &mut Vec<u8>) {
    for c in text.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\t' => out.extend_from_slice(b"&#x9;"),
            '\n' => out.extend_from_slice(b"&#xA;"),
            '\r' => out.extend_from_slice(b"&#xD;"),
            other => push_char(other, out),
        }
    }
}

fn push_char(c: char, out: &mut Vec<u8>) {
    let mut buffer = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
}
