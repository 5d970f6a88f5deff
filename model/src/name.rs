//! Names read from decoded ASN.1, never from display text: an RFC 4514 string split on `,` breaks on an escaped
//! comma (`CN=Tanaka\, Hanako`) and keeps the escapes in what it returns.

use const_oid::db::rfc4519::COMMON_NAME;
use x509_cert::ext::pkix::name::DirectoryString;
use x509_cert::name::Name;

/// The subject's common name: the first CN of the most specific RDN that has one (the CN an RFC 4514 string
/// shows first, which is what hcpki read before), its value as the certificate holds it (no escapes). `None`
/// when the name has no CN or its value is not a string.
pub fn common_name(name: &Name) -> Option<String> {
    let rdns: Vec<_> = name.iter_rdn().collect();
    rdns.into_iter()
        .rev()
        .flat_map(|rdn| rdn.iter())
        .find(|atv| atv.oid == COMMON_NAME)
        .and_then(|atv| atv.value.decode_as::<DirectoryString>().ok())
        .map(|d| d.value().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn an_escaped_comma_stays_inside_the_common_name() {
        let name = Name::from_str(r"CN=Tanaka\, Hanako,O=Clinic,C=JP").unwrap();
        assert_eq!(common_name(&name).as_deref(), Some("Tanaka, Hanako"));
        // What splitting the display text on ',' gave: the CN cut at the comma, with its escape.
        let text = name.to_string();
        let split = text.split(',').find_map(|rdn| rdn.trim().strip_prefix("CN=")).map(str::to_owned);
        assert_eq!(split.as_deref(), Some(r"Tanaka\"));
    }

    #[test]
    fn the_most_specific_common_name_and_none() {
        let name = Name::from_str("CN=router1.hf00000017k.example,O=hcpki,CN=outer").unwrap();
        assert_eq!(common_name(&name).as_deref(), Some("router1.hf00000017k.example"));
        assert_eq!(common_name(&Name::from_str("O=hcpki,C=JP").unwrap()), None);
        assert_eq!(common_name(&Name::default()), None);
    }
}
