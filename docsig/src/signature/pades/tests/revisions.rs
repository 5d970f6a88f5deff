//! What later revisions may change (`diff`): the attacks — a reference the signed revision left undefined given
//! a meaning later, an object freed or replaced under another generation — refused; the changes other signers
//! make (document information, catalog extensions, a DSS with /VRI, a second signature) accepted and reported.

use super::sample;
use super::signing::all_levels;
use crate::signature::pades::pdf::{Dictionary, Document, Object, ObjectId};
use crate::signature::pades::update::Update;
use crate::signature::pades::*;

/// `signed` with one more revision made by `change`.
fn later(signed: &[u8], change: impl FnOnce(&Document<'_>, &mut Update<'_, '_>)) -> Vec<u8> {
    let document = Document::parse(signed).unwrap();
    let mut update = Update::new(&document);
    change(&document, &mut update);
    update.finish().unwrap().bytes
}

const FORGED: &[u8] = b"BT /F1 12 Tf 72 700 Td (Pay 1,000,000 yen) Tj ET";

#[test]
fn a_reference_past_the_signed_size_defined_later_is_a_modification() {
    // The attacker's original: the page's content is [5 0 R 40 0 R], and /Size is 6, so 40 reads as null (nothing
    // drawn) when the letter is shown and signed. A revision after signing defines 40: new text on the page.
    let pdf = sample::classic_edited("Letter", 1, |objects| {
        objects[3] = objects[3].replace("/Contents 5 0 R", "/Contents [5 0 R 40 0 R]");
    });
    assert_eq!(summary(&pdf).unwrap().pages, 1);
    let [_, b_t, b_lt, _] = all_levels(&pdf);
    for signed in [b_t, b_lt] {
        let forged = later(&signed, |_, update| update.put_stream(ObjectId::new(40, 0), Dictionary::new(), FORGED));
        let err = verify(&forged).unwrap_err();
        assert!(matches!(err, PadesError::ModifiedAfterSigning { .. }), "{err}");
        assert!(err.to_string().contains("defines object 40 0 R"), "{err}");
    }
}

#[test]
fn an_object_replaced_under_another_generation_is_a_modification() {
    // The page draws [5 0 R 2 1 R]: object 2 is the document information at generation 0, so 2 1 R reads as null.
    // A later revision puts a content stream at 2 generation 1: the document information object (which later
    // revisions may rewrite) is gone, and the page draws new text.
    let pdf = sample::classic_edited("Letter", 1, |objects| {
        objects[3] = objects[3].replace("/Contents 5 0 R", "/Contents [5 0 R 2 1 R]");
    });
    let [_, b_t, _, _] = all_levels(&pdf);
    let forged = later(&b_t, |_, update| update.put_stream(ObjectId::new(2, 1), Dictionary::new(), FORGED));
    let err = verify(&forged).unwrap_err();
    assert!(matches!(err, PadesError::ModifiedAfterSigning { .. }), "{err}");
    assert!(err.to_string().contains("object 2 "), "{err}");
}

#[test]
fn pyhanko_style_updates_are_accepted() {
    let [_, b_t, _, _] = all_levels(&sample::classic("Letter", 1));
    // The document information rewritten in place (/ModDate, /Producer), as pyHanko does on every save, and the
    // catalog given /Extensions (ESIC) and /Version.
    let updated = later(&b_t, |document, update| {
        let info = document.trailer().get("Info").and_then(Object::as_reference).unwrap();
        let mut dict = document.dictionary(info).unwrap();
        dict.set("ModDate", Object::String(b"D:20261127103412Z".to_vec()));
        dict.set("Producer", Object::String(b"pyHanko 0.38.0".to_vec()));
        update.put(info, &Object::Dictionary(dict));
        let mut catalog = document.catalog().unwrap();
        let esic = Dictionary::from_iter([
            ("Type", Object::name("DeveloperExtensions")),
            ("BaseVersion", Object::name("1.7")),
            ("ExtensionLevel", Object::Integer(1)),
        ]);
        catalog.set("Extensions", Object::Dictionary(Dictionary::from_iter([("ESIC", Object::Dictionary(esic))])));
        catalog.set("Version", Object::name("2.0"));
        update.put(document.root_id(), &Object::Dictionary(catalog));
    });
    let verified = verify(&updated).unwrap();
    assert_eq!(verified.level(), Level::BaselineT);
}

#[test]
fn an_object_used_both_as_document_information_and_elsewhere_may_not_change() {
    // The attacker's original uses one dictionary as the document information and as the page's font
    // resources: "rewriting the document information" would change the page.
    let pdf = sample::classic_edited("Letter", 1, |objects| {
        objects[1] = "<< /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >>".into();
        objects[3] = objects[3].replace(
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>",
            "/Resources << /Font 2 0 R >>",
        );
    });
    let [_, b_t, _, _] = all_levels(&pdf);
    let forged = later(&b_t, |_, update| {
        let courier = "<< /F1 << /Type /Font /Subtype /Type1 /BaseFont /Courier >> >>";
        update.put_raw(ObjectId::new(2, 0), courier.as_bytes().to_vec());
    });
    let err = verify(&forged).unwrap_err();
    assert!(
        err.to_string().contains("changes object 2 0 R, which the signed revision uses in several places"),
        "{err}"
    );
}

#[test]
fn a_dss_entry_that_is_also_page_content_may_not_change() {
    // The original's DSS names the page's content stream (object 5): "changing validation data" would change
    // the page.
    let pdf = sample::classic_edited("Letter", 1, |objects| {
        objects[0] = "<< /Type /Catalog /Pages 3 0 R /DSS << /VRI 5 0 R >> >>".into();
    });
    let [_, b_t, _, _] = all_levels(&pdf);
    let forged = later(&b_t, |_, update| update.put_stream(ObjectId::new(5, 0), Dictionary::new(), FORGED));
    let err = verify(&forged).unwrap_err();
    assert!(err.to_string().contains("object 5 0 R"), "{err}");
    // A certificate of the DSS already signed is not rewritten either.
    let [_, _, b_lt, _] = all_levels(&sample::classic("Letter", 1));
    let document = Document::parse(&b_lt).unwrap();
    let dss = document.dictionary(document.catalog().unwrap().get("DSS").unwrap().as_reference().unwrap()).unwrap();
    let certificate = dss.get("Certs").unwrap().as_array().unwrap()[0].as_reference().unwrap();
    let b_lta = super::signing::stamped(&b_lt);
    let swapped = later(&b_lta, |_, update| update.put_stream(certificate, Dictionary::new(), b"another certificate"));
    let err = verify(&swapped).unwrap_err();
    assert!(err.to_string().contains(&format!("rewrites object {certificate}, validation data")), "{err}");
}

#[test]
fn an_object_freed_later_is_a_modification() {
    let [_, b_t, _, _] = all_levels(&sample::classic("Letter", 1));
    // A classic section freeing object 2 (the document information), written by hand.
    let document = Document::parse(&b_t).unwrap();
    let prev = document.startxref();
    let mut freed = b_t.clone();
    let xref = freed.len();
    freed.extend_from_slice(
        format!("xref\n2 1\n0000000000 00001 f\r\ntrailer\n<< /Size 8 /Root 1 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    let err = verify(&freed).unwrap_err();
    assert!(err.to_string().contains("deletes object 2 0 R"), "{err}");
}

/// A signature field widget for `later`: `rect` on the first page, valued `value` if any.
fn widget(name: &str, rect: [i64; 4], value: Option<ObjectId>, page: ObjectId) -> Object {
    let mut field = Dictionary::from_iter([
        ("FT", Object::name("Sig")),
        ("T", Object::String(name.as_bytes().to_vec())),
        ("Type", Object::name("Annot")),
        ("Subtype", Object::name("Widget")),
        ("F", Object::Integer(132)),
        ("Rect", Object::Array(rect.iter().map(|&n| Object::Integer(n)).collect())),
        ("P", Object::Reference(page)),
    ]);
    if let Some(value) = value {
        field.set("V", Object::Reference(value));
    }
    Object::Dictionary(field)
}

/// `signed` with a new field `field` added to the form and the first page (both rewritten in place).
fn with_field(signed: &[u8], make: impl FnOnce(&Document<'_>, &mut Update<'_, '_>, ObjectId) -> Object) -> Vec<u8> {
    later(signed, |document, update| {
        let id = update.allocate();
        let page = document.pages().unwrap()[0];
        let field = make(document, update, page);
        update.put(id, &field);
        let mut page_dict = document.dictionary(page).unwrap();
        let mut annots = page_dict.get("Annots").and_then(Object::as_array).unwrap().to_vec();
        annots.push(Object::Reference(id));
        page_dict.set("Annots", Object::Array(annots));
        update.put(page, &Object::Dictionary(page_dict));
        let form_id = document.catalog().unwrap().get("AcroForm").and_then(Object::as_reference).unwrap();
        let mut form = document.dictionary(form_id).unwrap();
        let mut fields = form.get("Fields").and_then(Object::as_array).unwrap().to_vec();
        fields.push(Object::Reference(id));
        form.set("Fields", Object::Array(fields));
        update.put(form_id, &Object::Dictionary(form));
    })
}

#[test]
fn new_signature_fields_are_accepted_only_as_signatures_or_invisible() {
    let [_, b_t, _, _] = all_levels(&sample::classic("Letter", 1));
    // An empty, invisible field for a second signer: accepted.
    let empty = with_field(&b_t, |_, _, page| widget("Patient", [0, 0, 0, 0], None, page));
    verify(&empty).unwrap();
    // An empty field with an appearance on the page (anyone can add one, no key needed): refused.
    let shown = with_field(&b_t, |_, _, page| widget("Patient", [100, 100, 300, 160], None, page));
    let err = verify(&shown).unwrap_err();
    assert!(err.to_string().contains("visible on the page without a signature in it"), "{err}");
    // A field whose value is not a signature: refused (here already as a signature that cannot be read).
    let valued = with_field(&b_t, |_, update, page| {
        let value = update.allocate();
        update.put(value, &Object::Dictionary(Dictionary::from_iter([("Type", Object::name("Annot"))])));
        widget("Patient", [0, 0, 0, 0], Some(value), page)
    });
    assert!(verify(&valued).is_err());
}

#[test]
fn a_second_signature_is_reported_with_what_its_revision_changed() {
    let [_, b_t, _, _] = all_levels(&sample::classic("Letter", 1));
    // A second signature (invisible) on top of a document-information rewrite: both signatures check, and the
    // first one's later revision is described.
    let second = super::signing::signed(&later(&b_t, |document, update| {
        let info = document.trailer().get("Info").and_then(Object::as_reference).unwrap();
        let mut dict = document.dictionary(info).unwrap();
        dict.set("ModDate", Object::String(b"D:20261127103412Z".to_vec()));
        update.put(info, &Object::Dictionary(dict));
    }));
    let verified = verify(&second).unwrap();
    assert_eq!(verified.signatures.len(), 2);
    let first = &verified.signatures[0];
    assert_eq!(
        first.later_changes,
        [Change::Signature { field: "Signature2".into(), visible: false }, Change::DocumentInformation,]
    );
    assert!(verified.signatures[1].later_changes.is_empty());
}
