//! `hcpki_ca::enroll::scep::message::parse` on arbitrary bytes: the SCEP PKIMessage (CMS SignedData with
//! SCEP signed attributes), its signer certificate read without RFC 5280's serial limit, the message
//! digest, the recovery of the signed attributes' order, and the signature check. Every input must end as
//! `Ok` or a `MessageError` (undecodable, or a CertRep failInfo), never a panic.
//!
//! Seeds (fuzz/seeds/scep_message/) are PKCSReq messages captured from certmonger and micromdm scepclient
//! enrolling against `hcpki serve`; their challenges are spent. Regenerate by running the SCEP integration
//! tests with HCPKI_TEST_KEEP=1 and capturing a POST body, or keep these.
#![no_main]

use hcpki_ca::enroll::scep::message::{self, MessageError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match message::parse(data) {
        Ok(m) => {
            // What the front end does next with an accepted message.
            let _ = m.header.message_type.as_str();
            let _ = m.signer.tbs_certificate().subject_public_key_info();
        }
        Err(MessageError::Rejected { fail, .. }) => {
            let _ = fail.as_str();
        }
        Err(_) => {}
    }
});
