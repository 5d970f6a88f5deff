//! A signed e-prescription's parts, found by position in the EP.xsd shape and nowhere else: the signature that
//! counts is the one at `Document/Prescription/PrescriptionSign/ds:Signature`, the data the one at
//! `Document/Prescription/PrescriptionDocument`, and every level has exactly the children the format gives it.
//! Elements an attacker adds elsewhere (a second Signature, a copy of the data inside an Object) are either a
//! structural error here or never looked at, and references must resolve to these very nodes (`check`).

use super::envelope::{DS, EXC_C14N, RSA_SHA256, SHA256, XADES};
use super::error::XadesError;
use roxmltree::{Document, Node};

/// The parts of one signed e-prescription.
#[derive(Debug)]
pub(super) struct Parts<'a, 'input> {
    /// `PrescriptionDocument`: the Base64 CSV.
    pub(super) data: Node<'a, 'input>,
    /// `ds:Signature`.
    pub(super) signature: Node<'a, 'input>,
    /// `ds:SignedInfo`.
    pub(super) signed_info: Node<'a, 'input>,
    /// `ds:SignatureValue`.
    pub(super) signature_value: Node<'a, 'input>,
    /// `ds:KeyInfo`.
    pub(super) key_info: Node<'a, 'input>,
    /// `xades:SignedProperties`.
    pub(super) signed_properties: Node<'a, 'input>,
    /// `xades:UnsignedProperties/xades:UnsignedSignatureProperties`, when present (B-T and above).
    pub(super) unsigned_signature_properties: Option<Node<'a, 'input>>,
}

impl<'a, 'input> Parts<'a, 'input> {
    /// Find the parts of `document`, refusing any other shape.
    pub(super) fn of(document: &'a Document<'input>) -> Result<Self, XadesError> {
        let root = document.root_element();
        if !is(root, None, "Document") {
            return Err(XadesError::structure("the root element is not Document (EP.xsd)"));
        }
        let [prescription] = children(root, "Document", &[(None, "Prescription")])?;
        let (data, sign) = prescription_parts(prescription)?;
        let [signature] = children(sign, "PrescriptionSign", &[(Some(DS), "Signature")])?;
        let [signed_info, signature_value, key_info, object] = children(
            signature,
            "ds:Signature",
            &[(Some(DS), "SignedInfo"), (Some(DS), "SignatureValue"), (Some(DS), "KeyInfo"), (Some(DS), "Object")],
        )?;
        let [qualifying] = children(object, "ds:Object", &[(Some(XADES), "QualifyingProperties")])?;
        let id = signature.attribute("Id").ok_or_else(|| XadesError::structure("ds:Signature has no Id"))?;
        if qualifying.attribute("Target").and_then(|t| t.strip_prefix('#')) != Some(id) {
            return Err(XadesError::structure("QualifyingProperties' Target does not name this ds:Signature"));
        }
        let (signed_properties, unsigned) = match elements(qualifying).as_slice() {
            [signed] if is(*signed, Some(XADES), "SignedProperties") => (*signed, None),
            [signed, unsigned]
                if is(*signed, Some(XADES), "SignedProperties") && is(*unsigned, Some(XADES), "UnsignedProperties") =>
            {
                (*signed, Some(*unsigned))
            }
            _ => {
                return Err(XadesError::structure(
                    "QualifyingProperties holds other than SignedProperties, UnsignedProperties",
                ));
            }
        };
        let unsigned_signature_properties = match unsigned {
            Some(unsigned) => {
                let [properties] =
                    children(unsigned, "xades:UnsignedProperties", &[(Some(XADES), "UnsignedSignatureProperties")])?;
                Some(properties)
            }
            None => None,
        };
        Ok(Self {
            data,
            signature,
            signed_info,
            signature_value,
            key_info,
            signed_properties,
            unsigned_signature_properties,
        })
    }
}

/// `Prescription`'s PrescriptionDocument and PrescriptionSign, with an optional PrescriptionManagement first.
fn prescription_parts<'a, 'input>(
    prescription: Node<'a, 'input>,
) -> Result<(Node<'a, 'input>, Node<'a, 'input>), XadesError> {
    let found = elements(prescription);
    let rest = match found.as_slice() {
        [first, rest @ ..] if is(*first, None, "PrescriptionManagement") => rest,
        all => all,
    };
    match rest {
        [data, sign] if is(*data, None, "PrescriptionDocument") && is(*sign, None, "PrescriptionSign") => {
            Ok((*data, *sign))
        }
        _ => Err(XadesError::structure(
            "Prescription must hold PrescriptionManagement (optional), PrescriptionDocument and PrescriptionSign, in \
             that order, and nothing else",
        )),
    }
}

/// The element children of `node` (called `name` in errors), which must be exactly `expected` in order.
pub(super) fn children<'a, 'input, const N: usize>(
    node: Node<'a, 'input>,
    name: &str,
    expected: &[(Option<&str>, &str); N],
) -> Result<[Node<'a, 'input>; N], XadesError> {
    let found = elements(node);
    let matches = found.len() == N && found.iter().zip(expected).all(|(n, (ns, local))| is(*n, *ns, local));
    let wrong = || {
        let names: Vec<&str> = expected.iter().map(|(_, local)| *local).collect();
        XadesError::structure(format!("{name} must hold exactly {}", names.join(", ")))
    };
    if !matches {
        return Err(wrong());
    }
    found.try_into().map_err(|_| wrong())
}

/// The element children of `node`.
pub(super) fn elements<'a, 'input>(node: Node<'a, 'input>) -> Vec<Node<'a, 'input>> {
    node.children().filter(Node::is_element).collect()
}

/// Whether `node` is the element `local` in namespace `ns` (`None`: no namespace).
pub(super) fn is(node: Node<'_, '_>, ns: Option<&str>, local: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == ns && node.tag_name().name() == local
}

/// The Base64 content of `node` (called `what` in errors), whitespace ignored; an element inside is refused.
pub(super) fn base64_text(node: Node<'_, '_>, what: &'static str) -> Result<Vec<u8>, XadesError> {
    use base64::Engine;
    if node.children().any(|c| c.is_element()) {
        return Err(XadesError::structure(format!("the {what} holds an element where Base64 text belongs")));
    }
    // Text nodes only: roxmltree gives a comment's text too, and canonicalization drops comments, so reading
    // them would return data the digest never covered (the comment-truncation attack on SAML libraries).
    let text: String = node
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .flat_map(str::chars)
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| XadesError::Base64(what))
}

/// The `Algorithm` of `node` (called `what` in errors), which must be `expected` and have no element children
/// (no InclusiveNamespaces, no XPath: the only transform is plain exclusive c14n).
pub(super) fn require_algorithm(
    node: Node<'_, '_>,
    what: &'static str,
    expected: &'static str,
) -> Result<(), XadesError> {
    let found = node.attribute("Algorithm").unwrap_or_default();
    if found != expected || node.children().any(|c| c.is_element()) {
        return Err(XadesError::Algorithm { what, found: found.to_owned(), expected });
    }
    Ok(())
}

/// The References of `signed_info`, after checking that it starts with CanonicalizationMethod exc-c14n and
/// SignatureMethod rsa-sha256 and holds nothing but References after them.
pub(super) fn signed_info_references<'a, 'input>(
    signed_info: Node<'a, 'input>,
) -> Result<Vec<Node<'a, 'input>>, XadesError> {
    let found = elements(signed_info);
    let [canonicalization, method, references @ ..] = found.as_slice() else {
        return Err(XadesError::structure("SignedInfo lacks CanonicalizationMethod or SignatureMethod"));
    };
    if !is(*canonicalization, Some(DS), "CanonicalizationMethod") || !is(*method, Some(DS), "SignatureMethod") {
        return Err(XadesError::structure("SignedInfo must start with CanonicalizationMethod, SignatureMethod"));
    }
    require_algorithm(*canonicalization, "CanonicalizationMethod", EXC_C14N)?;
    require_algorithm(*method, "SignatureMethod", RSA_SHA256)?;
    if !references.iter().all(|r| is(*r, Some(DS), "Reference")) {
        return Err(XadesError::structure("SignedInfo holds other than References after SignatureMethod"));
    }
    Ok(references.to_vec())
}

/// The DigestValue of `reference`, after checking it has exactly Transforms (the one Transform exc-c14n),
/// DigestMethod SHA-256 and DigestValue.
pub(super) fn reference_digest(reference: Node<'_, '_>) -> Result<Vec<u8>, XadesError> {
    let [transforms, digest_method, digest_value] = children(
        reference,
        "ds:Reference",
        &[(Some(DS), "Transforms"), (Some(DS), "DigestMethod"), (Some(DS), "DigestValue")],
    )?;
    let [transform] = children(transforms, "ds:Transforms", &[(Some(DS), "Transform")])?;
    require_algorithm(transform, "Transform", EXC_C14N)?;
    require_algorithm(digest_method, "DigestMethod", SHA256)?;
    base64_text(digest_value, "DigestValue")
}
