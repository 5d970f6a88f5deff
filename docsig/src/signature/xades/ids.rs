//! Ids and same-document references (`URI="#…"`), resolved so that XML signature wrapping has nothing to play
//! with: every Id-carrying attribute of the whole document is indexed, a value that names two elements is
//! refused outright, and a reference resolves to exactly one element or to none.

use super::error::XadesError;
use roxmltree::{Document, Node};
use std::collections::HashMap;

/// The attributes that carry Ids: `Id` (XML-DSig, XAdES), `id` (EP.xsd), `ID`, and `xml:id`. A verifier that knew
/// fewer would let an attacker add an element another tool resolves first; knowing them all and refusing any
/// repeat leaves one answer for every tool.
const ID_ATTRIBUTES: [&str; 3] = ["Id", "id", "ID"];
const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// Every Id in a document and the one element it names.
#[derive(Debug)]
pub(super) struct IdIndex<'a, 'input> {
    elements: HashMap<&'a str, Node<'a, 'input>>,
}

impl<'a, 'input> IdIndex<'a, 'input> {
    /// Index `document`; [`XadesError::DuplicateId`] when an Id value is carried twice (by two elements, or by two
    /// Id attributes of one).
    pub(super) fn of(document: &'a Document<'input>) -> Result<Self, XadesError> {
        let mut elements = HashMap::new();
        for node in document.descendants().filter(Node::is_element) {
            for attribute in node.attributes() {
                let is_id = match attribute.namespace() {
                    None => ID_ATTRIBUTES.contains(&attribute.name()),
                    Some(ns) => ns == XML_NAMESPACE && attribute.name() == "id",
                };
                if is_id && elements.insert(attribute.value(), node).is_some() {
                    return Err(XadesError::DuplicateId(attribute.value().to_owned()));
                }
            }
        }
        Ok(Self { elements })
    }

    /// The element a same-document reference `#id` names. Only the bare-name form (XML-DSig §4.4.3.3) is
    /// accepted: no XPointer, no other document, no empty URI (which would sign the whole document).
    pub(super) fn resolve(&self, uri: &str) -> Result<Node<'a, 'input>, XadesError> {
        let problem = |problem| XadesError::Reference { uri: uri.to_owned(), problem };
        let id = uri.strip_prefix('#').ok_or_else(|| problem("is not a same-document reference #Id"))?;
        if id.is_empty() || id.contains(['(', ')', '#', '/', ' ']) {
            return Err(problem("is not a bare #Id (no XPointer)"));
        }
        self.elements.get(id).copied().ok_or_else(|| problem("names no element"))
    }
}
