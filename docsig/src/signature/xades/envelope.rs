//! The EP.xsd envelope and the XML-DSig/XAdES elements hcpki writes, as text (every value written is Base64,
//! a fixed URI, an Id we chose or an xsd:dateTime, so nothing needs escaping):
//!
//! ```text
//! <Document id="Document" xsi:noNamespaceSchemaLocation="EP.xsd">
//!   <Prescription>
//!     <PrescriptionManagement id="PrescriptionManagement"><Version Value="EPS1.0"/></PrescriptionManagement>
//!     <PrescriptionDocument id="PrescriptionDocument">Base64 of the CSV</PrescriptionDocument>   -- Reference 1
//!     <PrescriptionSign>
//!       <ds:Signature Id="PrescriptionSign">
//!         <ds:SignedInfo> exc-c14n, rsa-sha256, three References (exc-c14n, SHA-256) </ds:SignedInfo>
//!         <ds:SignatureValue Id="value-id-…"/>
//!         <ds:KeyInfo Id="keyInfo-id-…"> X509Data: signer certificate, then its CAs </ds:KeyInfo>          -- Reference 3
//!         <ds:Object><xades:QualifyingProperties Target="#PrescriptionSign">
//!           <xades:SignedProperties Id="xades-id-…"> SigningTime, SigningCertificateV2 </xades:SignedProperties> -- Reference 2
//!           <xades:UnsignedProperties> SignatureTimeStamp </xades:UnsignedProperties>                  -- B-T only
//!         </xades:QualifyingProperties></ds:Object>
//! ```
//!
//! The element names, Ids and Reference order follow the national service's format (EP.xsd; the open-source
//! HPKISigner writes the same shape).

/// XML-DSig's namespace.
pub(super) const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XAdES 1.3.2's namespace.
pub(super) const XADES: &str = "http://uri.etsi.org/01903/v1.3.2#";
/// Exclusive canonicalization without comments: the only CanonicalizationMethod and Transform accepted.
pub(super) const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// RSA PKCS#1 v1.5 with SHA-256 (RFC 6931 §2.3.2): HPKI cards.
pub(super) const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// SHA-256 as DigestMethod.
pub(super) const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
/// The Type of the Reference to SignedProperties (XAdES §6.3.1).
pub(super) const SIGNED_PROPERTIES_TYPE: &str = "http://uri.etsi.org/01903#SignedProperties";
/// The Id of the signed data, `PrescriptionDocument`, in its lowercase `id` attribute as EP.xsd has it.
pub(super) const DATA_ID: &str = "PrescriptionDocument";
/// The Id of the ds:Signature, which QualifyingProperties' Target names.
pub(super) const SIGNATURE_ID: &str = "PrescriptionSign";

/// The Ids of one signature's parts (`…-id-` followed by a suffix unique to the signature).
#[derive(Clone, Debug)]
pub(super) struct Ids {
    pub(super) signed_properties: String,
    pub(super) key_info: String,
    pub(super) signature_value: String,
}

impl Ids {
    pub(super) fn new(suffix: &str) -> Self {
        Self {
            signed_properties: format!("xades-id-{suffix}"),
            key_info: format!("keyInfo-id-{suffix}"),
            signature_value: format!("value-id-{suffix}"),
        }
    }
}

/// The parts of a signed e-prescription other than SignedInfo and SignatureValue.
#[derive(Debug)]
pub(super) struct Body {
    /// Base64 of the CSV.
    pub(super) data: String,
    /// The ds:KeyInfo element.
    pub(super) key_info: String,
    /// The ds:Object element.
    pub(super) object: String,
}

/// The document, split where the SignatureValue's Base64 goes: `(head, tail)`.
pub(super) fn document(ids: &Ids, body: &Body, signed_info: &str) -> (String, String) {
    let head = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         id=\"Document\" xsi:noNamespaceSchemaLocation=\"EP.xsd\"><Prescription><PrescriptionManagement \
         id=\"PrescriptionManagement\"><Version Value=\"EPS1.0\"/></PrescriptionManagement><PrescriptionDocument \
         id=\"{DATA_ID}\">{data}</PrescriptionDocument><PrescriptionSign><ds:Signature xmlns:ds=\"{DS}\" \
         Id=\"{SIGNATURE_ID}\">{signed_info}<ds:SignatureValue Id=\"{value}\">",
        data = body.data,
        value = ids.signature_value,
    );
    let tail = format!(
        "</ds:SignatureValue>{key_info}{object}</ds:Signature></PrescriptionSign></Prescription></Document>\n",
        key_info = body.key_info,
        object = body.object,
    );
    (head, tail)
}

/// ds:KeyInfo with the certificates (DER, signer first) Base64 in one X509Data.
pub(super) fn key_info(ids: &Ids, certificates: &[Vec<u8>]) -> String {
    let certificates: String =
        certificates.iter().map(|der| format!("<ds:X509Certificate>{}</ds:X509Certificate>", base64(der))).collect();
    format!("<ds:KeyInfo Id=\"{}\"><ds:X509Data>{certificates}</ds:X509Data></ds:KeyInfo>", ids.key_info)
}

/// ds:Object with QualifyingProperties and SignedProperties: SigningTime (`rfc3339`), SigningCertificateV2 with
/// the SHA-256 of the signer certificate and its IssuerSerialV2 (Base64 of the DER IssuerSerial, RFC 5035).
pub(super) fn object(ids: &Ids, signing_time: &str, cert_sha256: &[u8], issuer_serial_der: &[u8]) -> String {
    format!(
        "<ds:Object><xades:QualifyingProperties xmlns:xades=\"{XADES}\" Target=\"#{SIGNATURE_ID}\">\
         <xades:SignedProperties Id=\"{id}\"><xades:SignedSignatureProperties><xades:SigningTime>{signing_time}\
         </xades:SigningTime><xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod \
         Algorithm=\"{SHA256}\"/><ds:DigestValue>{digest}</ds:DigestValue></xades:CertDigest><xades:IssuerSerialV2>\
         {serial}</xades:IssuerSerialV2></xades:Cert></xades:SigningCertificateV2></xades:SignedSignatureProperties>\
         </xades:SignedProperties></xades:QualifyingProperties></ds:Object>",
        id = ids.signed_properties,
        digest = base64(cert_sha256),
        serial = base64(issuer_serial_der),
    )
}

/// ds:SignedInfo over the three references, given their digests (data, SignedProperties, KeyInfo).
pub(super) fn signed_info(method: &str, ids: &Ids, digests: [&[u8]; 3]) -> String {
    let [data, properties, key_info] = digests;
    format!(
        "<ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/><ds:SignatureMethod \
         Algorithm=\"{method}\"/>{}{}{}</ds:SignedInfo>",
        reference(&format!(" Id=\"id-ref-{DATA_ID}\" URI=\"#{DATA_ID}\""), data),
        reference(&format!(" Type=\"{SIGNED_PROPERTIES_TYPE}\" URI=\"#{}\"", ids.signed_properties), properties),
        reference(&format!(" URI=\"#{}\"", ids.key_info), key_info),
    )
}

fn reference(attributes: &str, digest: &[u8]) -> String {
    format!(
        "<ds:Reference{attributes}><ds:Transforms><ds:Transform Algorithm=\"{EXC_C14N}\"/></ds:Transforms>\
         <ds:DigestMethod Algorithm=\"{SHA256}\"/><ds:DigestValue>{}</ds:DigestValue></ds:Reference>",
        base64(digest)
    )
}

/// xades:UnsignedProperties holding one SignatureTimeStamp with the token's DER.
pub(super) fn unsigned_properties(time_stamp: &str) -> String {
    format!(
        "<xades:UnsignedProperties><xades:UnsignedSignatureProperties>{time_stamp}</xades:UnsignedSignatureProperties></xades:UnsignedProperties>"
    )
}

/// xades:SignatureTimeStamp (XAdES §7.3) over the exc-c14n of ds:SignatureValue, with the token's DER.
pub(super) fn signature_time_stamp(id: &str, token_der: &[u8]) -> String {
    format!(
        "<xades:SignatureTimeStamp Id=\"{id}\"><ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/>\
         <xades:EncapsulatedTimeStamp>{}</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp>",
        base64(token_der)
    )
}

/// Standard Base64 with padding, on one line (as XML-DSig writers commonly do).
pub(super) fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
