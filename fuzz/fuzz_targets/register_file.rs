//! The register of medical institutions as a file (`ca::register_file::parse`, D173): the Regional Bureaus' list an
//! operator gives `hcpki register import`, `PUT /api/v1/register` or the console's register page.
//!
//! Must hold: no panic; a file is kept whole or refused whole — a kept file has at least one entry, each with a
//! code that parses again, a prefecture that is the code's, and no code twice; a refusal naming rows names at most
//! `MAX_PROBLEMS` of them, in file order of their lines, and counts at least as many.
#![no_main]

use hcpki_ca::MedicalInstitutionCode;
use hcpki_ca::register_file::{MAX_PROBLEMS, RegisterFileError, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Ok(file) => {
            assert!(!file.entries.is_empty());
            let mut seen = std::collections::HashSet::new();
            for e in &file.entries {
                let again = MedicalInstitutionCode::parse(e.code.as_str()).expect("a kept code parses again");
                assert_eq!(again.prefecture(), e.prefecture, "the prefecture is the code's");
                assert!(seen.insert(e.code.as_str().to_owned()), "a code twice");
            }
            assert_eq!(file.sha256.len(), 64);
        }
        Err(RegisterFileError::Rows { count, problems }) => {
            assert!(!problems.is_empty() && problems.len() <= MAX_PROBLEMS && count >= problems.len());
            assert!(problems.windows(2).all(|w| w[0].row <= w[1].row), "rows out of order: {problems:?}");
        }
        Err(_) => {}
    }
});
