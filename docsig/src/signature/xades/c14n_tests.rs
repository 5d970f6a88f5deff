//! Our exclusive canonicalization against libxml2's (`xmllint --exc-c14n`, the implementation xmlsec1 uses) on
//! documents exercising namespaces, attribute order, escaping and whitespace; and the reader's refusals.

use super::XmlError;
use super::c14n::exclusive;
use super::xml::{MAX_DEPTH, parse};
use std::io::Write;
use std::process::{Command, Stdio};

/// `xmllint --exc-c14n` of the whole document `xml` (its root element's canonical form, as no comment or PI
/// stands outside it).
fn xmllint(xml: &str) -> String {
    let mut child = Command::new("xmllint")
        .args(["--exc-c14n", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xmllint (apt libxml2-utils, installed by scripts/deps)");
    child.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "xmllint refused {xml}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn ours(xml: &str) -> String {
    let document = parse(xml).unwrap();
    String::from_utf8(exclusive(document.root_element())).unwrap()
}

#[test]
fn exclusive_c14n_agrees_with_xmllint() {
    let cases = [
        // Namespaces: unused ones dropped, used ones declared where first used, redeclarations and defaults.
        r##"<a:root xmlns:a="urn:a" xmlns:b="urn:b" xmlns:unused="urn:u"><b:child b:attr="1" a:x="2"/><a:c xmlns:a="urn:a"><a:d/></a:c><e xmlns="urn:default"><f xmlns=""><g/></f></e></a:root>"##,
        r##"<root xmlns="urn:d" xmlns:p="urn:p"><p:x><y p:z="1"/></p:x><p:q xmlns:p="urn:other"/></root>"##,
        // Attribute order: unqualified by local name first, then by namespace URI and local name.
        r##"<r xmlns:z="urn:a" xmlns:a="urn:z" b="2" a="1" z:m="3" a:k="4" z:a="5" xml:lang="ja" Id="x"/>"##,
        // Escaping in text and attributes, character references, CDATA, line ends and tabs.
        "<r a=\"&lt;&amp;&gt;&quot;'\t&#9;&#10;&#13;x\n y\">text &lt; &amp; &gt; \" ' &#13; &#xD;\r\n<![CDATA[<cdata> & ]]>\u{3042}</r>",
        // Whitespace kept between elements, processing instructions kept, empty elements as start and end tag.
        "<r>\n  <a>  x  </a>\n  <?pi  data here ?>\n  <?bare?>\n  <b></b><c/>\n</r>",
        // The e-prescription shapes: an unqualified element inside a namespaced document, ds and xades.
        r##"<Document xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="EP.xsd"><Prescription><PrescriptionDocument id="PrescriptionDocument">QUJD</PrescriptionDocument><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="S"><ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Target="#S"><xades:SignedProperties Id="P"><ds:DigestMethod Algorithm="x"/></xades:SignedProperties></xades:QualifyingProperties></ds:Object></ds:Signature></Prescription></Document>"##,
    ];
    for xml in cases {
        assert_eq!(ours(xml), xmllint(xml), "for {xml}");
    }
    // xmllint keeps comments (its --exc-c14n is the #WithComments variant); ours is the one without.
    assert_eq!(ours("<r>a<!-- comment -->b</r>"), "<r>ab</r>");
}

#[test]
fn a_subtree_declares_only_what_it_uses() {
    let xml = r##"<Document xmlns:xsi="urn:xsi"><ds:Signature xmlns:ds="urn:ds" xmlns:unused="urn:u"><ds:SignedInfo><ds:Reference URI="#a"/></ds:SignedInfo><ds:Object><x:P xmlns:x="urn:x" Id="p"><ds:D/></x:P></ds:Object></ds:Signature><e xmlns="urn:e"><f/></e></Document>"##;
    let document = parse(xml).unwrap();
    let find = |name: &str| document.descendants().find(|n| n.tag_name().name() == name).unwrap();
    let c14n = |name: &str| String::from_utf8(exclusive(find(name))).unwrap();
    assert_eq!(
        c14n("SignedInfo"),
        r##"<ds:SignedInfo xmlns:ds="urn:ds"><ds:Reference URI="#a"></ds:Reference></ds:SignedInfo>"##
    );
    assert_eq!(c14n("P"), r##"<x:P xmlns:x="urn:x" Id="p"><ds:D xmlns:ds="urn:ds"></ds:D></x:P>"##);
    assert_eq!(c14n("f"), r##"<f xmlns="urn:e"></f>"##);
}

#[test]
fn the_reader_refuses_dtds_entities_and_oversize_input() {
    let refused = [
        ("<!DOCTYPE r><r/>", XmlError::Doctype),
        ("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY e \"boom\">]><r>&e;</r>", XmlError::Doctype),
        ("<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><r/>", XmlError::Doctype),
        ("<r><!-- <!ENTITY x 'y'> --></r>", XmlError::Doctype),
    ];
    for (xml, expected) in refused {
        assert_eq!(parse(xml).unwrap_err(), expected, "{xml}");
    }
    assert!(parse(&format!("<r>{}</r>", "&lt;".repeat(3))).is_ok());
    assert!(matches!(parse("<r>&e;</r>"), Err(XmlError::Malformed(_))), "an undeclared entity is an error");
    assert!(matches!(parse("<r>"), Err(XmlError::Malformed(_))));
    let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 2), "</a>".repeat(MAX_DEPTH + 2));
    assert_eq!(parse(&deep).unwrap_err(), XmlError::TooDeep { limit: MAX_DEPTH });
    let wide = format!("<r>{}</r>", "<a/>".repeat(120_000));
    assert!(matches!(parse(&wide), Err(XmlError::TooManyNodes { .. })));
    let big = "x".repeat(super::xml::MAX_BYTES + 1);
    assert!(matches!(parse(&big), Err(XmlError::TooLarge { .. })));
    assert!(matches!(super::xml::parse_bytes(b"<r>\xff</r>"), Err(XmlError::NotUtf8(_))));
    let message = XmlError::Doctype.to_string();
    assert!(message.contains("never reads DTDs") && message.contains("without them"), "{message}");
}
