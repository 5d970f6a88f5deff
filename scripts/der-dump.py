#!/usr/bin/env python3
"""Annotated DER dump of an X.509 certificate, for docs/profile-dumps.md.

    scripts/der-dump.py CERT.pem|CERT.der

Walks the DER itself (stdlib only, independent of hcpki's encoder and of OpenSSL's printer), expands
extension values, and writes one line per element: tag, value, and a note saying which rule of the profile
the element satisfies. Serial numbers, keys and signatures are shortened: they differ on every run.
"""

import base64
import ipaddress
import sys

OIDS = {
    "1.2.840.113549.1.1.1": "rsaEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.10045.2.1": "id-ecPublicKey",
    "1.2.840.10045.3.1.7": "prime256v1 (P-256)",
    "1.3.132.0.34": "secp384r1 (P-384)",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "2.5.4.6": "countryName",
    "2.5.4.10": "organizationName",
    "2.5.4.3": "commonName",
    "2.5.4.5": "serialNumber",
    "2.5.29.19": "basicConstraints",
    "2.5.29.15": "keyUsage",
    "2.5.29.37": "extKeyUsage",
    "2.5.29.14": "subjectKeyIdentifier",
    "2.5.29.35": "authorityKeyIdentifier",
    "2.5.29.17": "subjectAltName",
    "2.5.29.31": "cRLDistributionPoints",
    "2.5.29.32": "certificatePolicies",
    "1.3.6.1.5.5.7.1.1": "authorityInfoAccess",
    "1.3.6.1.5.5.7.48.1": "id-ad-ocsp",
    "1.3.6.1.5.5.7.48.2": "id-ad-caIssuers",
    "1.3.6.1.5.5.7.48.1.5": "id-pkix-ocsp-nocheck",
    "1.3.6.1.5.5.7.3.1": "id-kp-serverAuth",
    "1.3.6.1.5.5.7.3.2": "id-kp-clientAuth",
    "1.3.6.1.5.5.7.3.8": "id-kp-timeStamping",
    "1.3.6.1.5.5.7.3.9": "id-kp-OCSPSigning",
    "1.3.6.1.5.5.7.3.17": "id-kp-ipsecIKE",
    "1.3.6.1.5.5.8.2.2": "ikeIntermediate",
}

# Why each extension is there (or how it is set), per docs/profiles.md.
EXT_NOTES = {
    "basicConstraints": "critical (RFC 5280 §4.2.1.9)",
    "keyUsage": "critical",
    "extKeyUsage": "non-critical; the profile's variant",
    "subjectKeyIdentifier": "SHA-1 of subjectPublicKey (RFC 5280 §4.2.1.2 method 1)",
    "authorityKeyIdentifier": "= issuer's SKI (lint e_rfc5280_aki_matches_issuer)",
    "subjectAltName": "non-critical (subject DN present)",
    "cRLDistributionPoints": "HTTP full name (RFC 4945 §5.1.3.12; lint e_rfc5280_crl_dp_http)",
    "authorityInfoAccess": "caIssuers over HTTP, for path building",
    "id-pkix-ocsp-nocheck": "RFC 6960 §4.2.2.2.1: do not check the responder's own status",
}

KU_BITS = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
           "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"]

UNIVERSAL = {1: "BOOLEAN", 2: "INTEGER", 3: "BIT STRING", 4: "OCTET STRING", 5: "NULL", 6: "OBJECT IDENTIFIER",
             12: "UTF8String", 16: "SEQUENCE", 17: "SET", 19: "PrintableString", 22: "IA5String",
             23: "UTCTime", 24: "GeneralizedTime"}
GENERAL_NAME = {0: "otherName", 1: "rfc822Name", 2: "dNSName", 4: "directoryName", 6: "uniformResourceIdentifier",
                7: "iPAddress"}


def tlv(data, pos):
    """(tag class, constructed, number, content start, content end) of the element at pos."""
    b = data[pos]
    cls, cons, num = b >> 6, bool(b & 0x20), b & 0x1F
    pos += 1
    if num == 0x1F:
        raise ValueError("high tag numbers are not used in certificates")
    n = data[pos]
    pos += 1
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise ValueError(f"unsupported length form at {pos - 1}")
        n = int.from_bytes(data[pos:pos + k], "big")
        pos += k
    if pos + n > len(data):
        raise ValueError(f"element at {pos} runs past the end")
    return cls, cons, num, pos, pos + n


def children(data, start, end):
    pos = start
    while pos < end:
        el = tlv(data, pos)
        yield el
        pos = el[4]


def oid_str(b):
    arcs, v = [], 0
    for byte in b:
        v = (v << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(v)
            v = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


def short_hex(b, keep=8):
    h = b.hex(":")
    return h if len(b) <= keep else f"{b[:keep].hex(':')}… ({len(b)} octets)"


class Dumper:
    def __init__(self, data):
        self.data = data
        self.lines = []

    def out(self, depth, text, note=""):
        self.lines.append(("  " * depth + text, note))

    def value(self, cls, num, s, e, context=None):
        """Printable value of a primitive element."""
        b = self.data[s:e]
        if cls == 2 and context == "GeneralName":
            if num == 7 and len(b) in (4, 16):
                return str(ipaddress.ip_address(b))
            return b.decode("ascii", "replace")
        if cls != 0:
            return short_hex(b)
        if num == 6:
            o = oid_str(b)
            return f"{o} {OIDS[o]}" if o in OIDS else o
        if num in (12, 19, 22):
            return b.decode("utf-8", "replace")
        if num in (23, 24):
            return b.decode("ascii")
        if num == 1:
            return "TRUE" if b and b[0] else "FALSE"
        if num == 2:
            return str(int.from_bytes(b, "big")) if len(b) <= 4 else short_hex(b)
        if num == 3:
            return short_hex(b[1:])
        return short_hex(b)

    def value_note(self, previous, cls, num, cs, ce, context):
        """Notes on the values that carry the facility identifier."""
        b = self.data[cs:ce]
        if previous and previous[:2] == (0, 6) and oid_str(previous[2]) == "2.5.4.5":
            return "facility identifier: HF + 8 digits + ISO 7064 MOD 37,36 check character"
        if context == "GeneralName" and cls == 2:
            text = b.decode("ascii", "replace")
            if num == 2 and text[:2] == "hf":
                return "facility DNS name <id>.<router zone>: IKE ID_FQDN, machine-readable facility ID"
            if num == 2:
                return "ID_FQDN / TLS host name"
            if num == 7:
                return "ID_IPV4_ADDR" if len(b) == 4 else "ID_IPV6_ADDR"
            if num == 6 and "/facility/" in text:
                return "identity URI: https://<identity domain>/facility/<ID>/device/<device>"
            if num == 6 and "/operator/" in text:
                return "operator URI: https://<identity domain>/operator/<name>"
        return ""

    def name(self, cls, cons, num, context=None):
        if cls == 0:
            return UNIVERSAL.get(num, f"UNIVERSAL {num}")
        if cls == 2:
            if context == "GeneralName":
                return f"[{num}] {GENERAL_NAME.get(num, '?')}"
            return f"[{num}]"
        return f"class{cls} {num}"

    def walk(self, s, e, depth, notes=None, context=None):
        """Generic walk; notes maps child index to a note for the direct children."""
        previous = None
        for i, (cls, cons, num, cs, ce) in enumerate(children(self.data, s, e)):
            note = (notes or {}).get(i, "") or self.value_note(previous, cls, num, cs, ce, context)
            previous = (cls, num, self.data[cs:ce])
            label = self.name(cls, cons, num, context)
            if cons:
                self.out(depth, label, note)
                self.walk(cs, ce, depth + 1)
            else:
                self.out(depth, f"{label} {self.value(cls, num, cs, ce, context)}".rstrip(), note)

    def certificate(self):
        _, _, _, s, e = tlv(self.data, 0)
        self.out(0, "SEQUENCE", "Certificate")
        parts = list(children(self.data, s, e))
        tbs, sig_alg, sig = parts
        self.out(1, "SEQUENCE", "TBSCertificate")
        self.tbs(tbs[3], tbs[4], 2)
        self.out(1, "SEQUENCE", "signatureAlgorithm (= TBS signature)")
        self.walk(sig_alg[3], sig_alg[4], 2)
        self.out(1, f"BIT STRING {short_hex(self.data[sig[3] + 1:sig[4]])}", "signatureValue")

    def tbs(self, s, e, depth):
        fields = list(children(self.data, s, e))
        names = ["version", "serialNumber", "signature", "issuer", "validity", "subject", "subjectPublicKeyInfo"]
        for i, (cls, cons, num, cs, ce) in enumerate(fields):
            if cls == 2 and num == 3:
                self.out(depth, "[3]", "extensions")
                seq = tlv(self.data, cs)
                self.out(depth + 1, "SEQUENCE")
                for ext in children(self.data, seq[3], seq[4]):
                    self.extension(ext[3], ext[4], depth + 2)
                continue
            field = names[i] if i < len(names) else "?"
            if field == "version":
                self.out(depth, "[0]", "version")
                self.out(depth + 1, f"INTEGER {self.value(0, 2, *tlv(self.data, cs)[3:5])}", "v3")
            elif field == "serialNumber":
                self.out(depth, f"INTEGER {self.value(0, 2, cs, ce)}",
                         f"serialNumber: {8 * (ce - cs)} bits, CSPRNG, positive")
            elif field in ("issuer", "subject"):
                self.out(depth, "SEQUENCE", f"{field} (one attribute per RDN)")
                self.walk(cs, ce, depth + 1)
            elif field == "validity":
                self.out(depth, "SEQUENCE", "validity (UTCTime through 2049)")
                self.walk(cs, ce, depth + 1, notes={0: "notBefore", 1: "notAfter"})
            else:
                self.out(depth, self.name(cls, cons, num), field)
                self.walk(cs, ce, depth + 1)

    def extension(self, s, e, depth):
        parts = list(children(self.data, s, e))
        oid = OIDS.get(oid_str(self.data[parts[0][3]:parts[0][4]]), oid_str(self.data[parts[0][3]:parts[0][4]]))
        critical = len(parts) == 3
        note = EXT_NOTES.get(oid)
        if oid == "extKeyUsage" and critical:
            note = "critical: timeStamping alone (RFC 3161 §2.3; profile tsa, D65)"
        self.out(depth, "SEQUENCE", f"Extension {oid}" + (" — " + note if note else ""))
        self.out(depth + 1, f"OBJECT IDENTIFIER {oid_str(self.data[parts[0][3]:parts[0][4]])} {oid}")
        if critical:
            self.out(depth + 1, "BOOLEAN TRUE", "critical")
        value = parts[-1]
        self.out(depth + 1, "OCTET STRING", "extnValue")
        inner = tlv(self.data, value[3])
        if oid == "keyUsage":
            bits = self.data[inner[3]:inner[4]]
            unused, octets = bits[0], bits[1:]
            on = [KU_BITS[i] for i in range(len(octets) * 8 - unused) if octets[i // 8] & (0x80 >> (i % 8))]
            self.out(depth + 2, f"BIT STRING {octets.hex()}", ", ".join(on))
            return
        if oid == "subjectAltName":
            self.out(depth + 2, "SEQUENCE", "GeneralNames")
            self.walk(inner[3], inner[4], depth + 3, context="GeneralName")
            return
        if oid == "cRLDistributionPoints" or oid == "authorityInfoAccess":
            self.dp_like(inner[3], inner[4], depth + 2)
            return
        self.out(depth + 2, self.name(0, True, inner[2]) if inner[1] else
                 f"{self.name(0, False, inner[2])} {self.value(0, inner[2], inner[3], inner[4])}".rstrip())
        if inner[1]:
            self.walk(inner[3], inner[4], depth + 3)

    def dp_like(self, s, e, depth):
        """CRL DP and AIA: print their URIs with the GeneralName tags decoded."""
        self.out(depth, "SEQUENCE")
        self.uris(s, e, depth + 1)

    def uris(self, s, e, depth):
        for cls, cons, num, cs, ce in children(self.data, s, e):
            if cls == 2 and num == 6 and not cons:
                self.out(depth, f"[6] uniformResourceIdentifier {self.data[cs:ce].decode('ascii', 'replace')}")
            elif cons:
                self.out(depth, self.name(cls, cons, num))
                self.uris(cs, ce, depth + 1)
            else:
                self.out(depth, f"{self.name(cls, cons, num)} {self.value(cls, num, cs, ce)}")


def load(path):
    raw = open(path, "rb").read()
    if b"-----BEGIN" in raw:
        body = b"".join(l for l in raw.splitlines() if l and not l.startswith(b"-----"))
        return base64.b64decode(body)
    return raw


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: der-dump.py CERT.pem|CERT.der")
    d = Dumper(load(sys.argv[1]))
    try:
        d.certificate()
    except (ValueError, IndexError) as exc:
        sys.exit(f"der-dump.py: {sys.argv[1]} is not a certificate this dumper understands: {exc}")
    width = max(len(t) for t, _ in d.lines) + 2
    for text, note in d.lines:
        print(f"{text:<{width}}{('; ' + note) if note else ''}".rstrip())


if __name__ == "__main__":
    main()
