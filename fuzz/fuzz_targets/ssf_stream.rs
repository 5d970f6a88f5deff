//! The Shared Signals stream configuration (SSF 1.0 §8.1.1, `hcpki_sso::ssf::stream`, D162): the JSON body any
//! confidential client sends to `POST`, `PATCH` or `PUT /ssf/stream`, read into a typed configuration. Must
//! hold: no panic; a configuration read as new also reads as an update of itself; what it keeps round-trips
//! through the stored JSON; a push endpoint is https or http to this machine; its view names the stream.
#![no_main]

use hcpki::fuzzing::{SsfDelivery, SsfStreamConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(config) = SsfStreamConfig::parse_new(data) else { return };
    let again = config.parse_update(data).unwrap_or_else(|e| panic!("new but not an update: {e}"));
    assert_eq!(again, config);
    let stored = serde_json::to_string(&config).unwrap_or_else(|e| panic!("{e}"));
    let back: SsfStreamConfig = serde_json::from_str(&stored).unwrap_or_else(|e| panic!("{e}: {stored}"));
    assert_eq!(back, config);
    if let SsfDelivery::Push { endpoint_url, .. } = &config.delivery {
        let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|p| endpoint_url.starts_with(p));
        assert!(endpoint_url.starts_with("https://") || local, "{endpoint_url}");
    }
    assert_eq!(config.view("https://idp", "s1", "c1")["stream_id"], "s1");
});
