//! The text identifiers users type or configure: the facility ID
//! (`HF` + 8 digits + ISO 7064 MOD 37,36 check character), the 10-digit
//! 医療機関コード (Luhn), and key URIs (`file:` and RFC 7512 `pkcs11:`).
//! None may panic; a facility ID that parses must round-trip through its
//! canonical text and through its number.
#![no_main]

use hcpki_pkix::keys::KeyUri;
use hcpki_ca::{FacilityId, MedicalInstitutionCode};
use libfuzzer_sys::fuzz_target;
use std::str::FromStr;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    if let Ok(id) = FacilityId::parse(&text) {
        assert_eq!(FacilityId::parse(id.as_str()), Ok(id.clone()), "canonical text of {id} does not re-parse");
        assert_eq!(FacilityId::from_number(id.number()), Ok(id.clone()), "number of {id} does not rebuild it");
        let _ = id.dns_label();
    }

    if let Ok(code) = MedicalInstitutionCode::parse(&text) {
        let _ = (code.prefecture(), code.score_table(), code.score_table_name());
    }

    if let Ok(uri) = KeyUri::from_str(&text) {
        let _ = uri.to_string();
    }
});
