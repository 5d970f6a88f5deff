//! The card login's hcRole decoding, `login::hc_role`: the ISO/TS 17090 subjectDirectoryAttributes of a
//! physician's HPKI card certificate (hcRole → HCActorData → CodedData, the SETs re-tagged and read in order),
//! then the free text looked up in the role tables. The certificate has verified by then, but its issuer's
//! encoder is not ours, and the role decides what the policy grants.
//!
//! The first input byte says what the rest is. Even: a whole certificate (DER), decoded with
//! `x509_cert::Certificate` and handed to `hc_role::decode`, as `CardVerifier::verify` does. Odd: a
//! subjectDirectoryAttributes value, handed to `hc_role::from_attributes`, so the fuzzer works on the attribute
//! alone. Each is decoded twice: with the built-in texts only, and with a table whose operator adds "Dentist".
//! `seeds/make-card-login-seeds` writes the seeds.
//!
//! Must hold: no panic; a mapped role comes from the table that says it does (a built-in one is in
//! `CONFIRMED_TEXTS`, the configured one is the Dentist entry, and only on the text the built-in table left
//! unrecognised), and its code parses back to it and it has its labels; an unrecognised text is in neither table
//! and gets a hint naming the setting; the two tables agree on everything else.
#![no_main]

use der::Decode;
use hcpki::fuzzing::{
    CONFIRMED_TEXTS, HcRole, RoleClaim, RoleSource, RoleTexts, decode_hc_role, hc_role_from_attributes,
    unrecognised_hint,
};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectDirectoryAttributes;

/// The text the configured table adds, and its role.
const CONFIGURED: (&str, HcRole) = ("Dentist", HcRole::Dentist);

fn tables() -> &'static (RoleTexts, RoleTexts) {
    static TABLES: OnceLock<(RoleTexts, RoleTexts)> = OnceLock::new();
    TABLES.get_or_init(|| {
        let entries = BTreeMap::from([(CONFIGURED.0.to_owned(), CONFIGURED.1.code().to_owned())]);
        (RoleTexts::default(), RoleTexts::new(&entries).expect("a valid hc_role_texts entry"))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (built_in, configured) = tables();
    let decode = |texts: &RoleTexts| {
        if mode % 2 == 0 {
            let cert = Certificate::from_der(rest).ok()?;
            decode_hc_role(&cert, texts).ok()
        } else {
            let attributes = SubjectDirectoryAttributes::from_der(rest).ok()?;
            hc_role_from_attributes(&attributes, texts).ok()
        }
    };
    let Some(plain) = decode(built_in) else {
        assert!(decode(configured).is_none(), "a malformed attribute decodes with another table");
        return;
    };
    let with_configured = decode(configured).expect("the table changes no decoding");
    check(&plain, built_in);
    check(&with_configured, configured);
    match (&plain, &with_configured) {
        (RoleClaim::Unrecognised(text), RoleClaim::Known(role, RoleSource::Configured)) => {
            assert_eq!((text.as_str(), *role), CONFIGURED, "the configured table mapped another text");
        }
        (plain, other) => assert_eq!(plain, other, "the tables disagree on a text only one of them has"),
    }
});

/// The claim is consistent in itself and with `texts`.
fn check(claim: &RoleClaim, texts: &RoleTexts) {
    match claim {
        RoleClaim::Absent => assert_eq!(claim.role(), None),
        RoleClaim::Known(role, source) => {
            assert_eq!(claim.role(), Some(*role));
            match source {
                RoleSource::BuiltIn => {
                    assert!(CONFIRMED_TEXTS.iter().any(|(_, r)| r == role), "{role:?} is not built in")
                }
                RoleSource::Configured => assert_eq!(*role, CONFIGURED.1, "a configured role nobody configured"),
            }
            assert_eq!(HcRole::from_code(role.code()), Some(*role), "{role:?}'s code does not parse back");
            assert!(!role.label_en().is_empty() && !role.label_ja().is_empty(), "{role:?} has no label");
        }
        RoleClaim::Unrecognised(text) => {
            assert_eq!(claim.role(), None);
            assert_eq!(texts.lookup(text), None, "{text:?} is in the table yet unrecognised");
            assert!(unrecognised_hint(text).contains("[login] hc_role_texts"), "the hint names no setting");
        }
    }
}
