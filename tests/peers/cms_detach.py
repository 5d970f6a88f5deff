#!/usr/bin/env python3
"""Make a detached CMS signature out of an attached one, changing nothing else.

    cms_detach.py IN.p7s OUT.p7s

OpenSSL writes a streamed (BER, indefinite-length) SignedData only with the content inside: `openssl cms -sign
-stream -outform DER` ignores detached signing. This drops encapContentInfo's eContent ([0]) and leaves every other
octet as OpenSSL wrote it, indefinite lengths included (an enclosing definite length is recomputed), so the result
is the detached form of a real `-stream` signature: what the signature covers (the signed attributes, whose
messageDigest is the content's hash) is untouched, and `openssl cms -verify -content DOCUMENT` accepts it.
Used by tests/integration/cades.rs and fuzz/seeds/make-seeds.
"""
import sys


def element(data, at):
    """(identifier, header length, contents start, contents end, element end, indefinite) of the element at `at`."""
    ident, first = data[at], data[at + 1]
    if first == 0x80:
        end, pos = None, at + 2
        while data[pos:pos + 2] != b"\0\0":
            pos = element(data, pos)[4]
        return ident, 2, at + 2, pos, pos + 2, True
    if first < 0x80:
        length, header = first, 2
    else:
        count = first & 0x7F
        length, header = int.from_bytes(data[at + 2:at + 2 + count], "big"), 2 + count
    return ident, header, at + header, at + header + length, at + header + length, False


def children(data, start, end):
    pos, out = start, []
    while pos < end:
        e = element(data, pos)
        out.append((pos, e))
        pos = e[4]
    return out


def rebuild(data, at, path):
    """The element at `at` with the child chosen by `path` (a list of child indexes) removed."""
    ident, header, start, end, stop, indefinite = element(data, at)
    kids = children(data, start, end)
    index, rest = path[0], path[1:]
    parts = []
    for i, (pos, e) in enumerate(kids):
        if i != index:
            parts.append(data[pos:e[4]])
        elif rest:
            parts.append(rebuild(data, pos, rest))
    body = b"".join(parts)
    if indefinite:
        return bytes([ident, 0x80]) + body + b"\0\0"
    n = len(body)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([ident]) + length + body


def main():
    data = open(sys.argv[1], "rb").read()
    # ContentInfo[1] = [0] → SignedData[0] → encapContentInfo is field 2 → its eContent is child 1.
    out = rebuild(data, 0, [1, 0, 2, 1])
    open(sys.argv[2], "wb").write(out)


if __name__ == "__main__":
    main()
