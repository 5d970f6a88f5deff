//! The card agent's BER-TLV parser (`hcpki_agent::tlv`), which reads certificate length headers and
//! the JPKI text AP's basic four items from the card.
//! Must hold: no panic; every parsed value lies inside the input; `encoded_len` agrees with `parse_one`.
#![no_main]

use hcpki_agent::tlv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let inside = |v: &[u8]| {
        let (start, end) = (data.as_ptr() as usize, data.as_ptr() as usize + data.len());
        let v_start = v.as_ptr() as usize;
        assert!(v.is_empty() || (v_start >= start && v_start + v.len() <= end), "value outside the input");
    };
    if let Ok(all) = tlv::parse_all(data) {
        let total: usize = all.iter().map(|t| t.value.len()).sum();
        assert!(total <= data.len());
        all.iter().for_each(|t| inside(t.value));
    }
    if let Ok(n) = tlv::encoded_len(data) {
        match tlv::parse_one(data) {
            Ok((one, rest)) => {
                assert_eq!(data.len() - rest.len(), n, "encoded_len disagrees with parse_one");
                inside(one.value);
            }
            Err(_) => assert!(n > data.len(), "encoded_len {n} fits the input but parse_one failed"),
        }
    }
    for number in [0x10, 0x20, 0x21, 0x22, 0x25] {
        if let Ok(Some(v)) = tlv::find_primitive(data, number) {
            inside(v);
        }
    }
});
