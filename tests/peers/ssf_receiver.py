#!/usr/bin/env python3
"""A Shared Signals receiver for tests/integration/ssf.rs (D162), written against the specifications with an
independent JOSE library (authlib.jose), not hcpki's code:

    ssf_receiver.py push   --issuer URL --ca PEM --audience CLIENT --out FILE [--fail-first N]
    ssf_receiver.py verify --issuer URL --ca PEM --audience CLIENT      (a poll answer's "sets" on stdin)

``push`` is an RFC 8935 push endpoint on 127.0.0.1 (its port printed as the first line): it answers the first
N POSTs with 503 (a failing receiver: the transmitter must retry), then verifies each SET and answers 202 and
appends its claims (with the header's typ) as one JSON line to FILE, or answers 400 with RFC 8935's error body.
``verify`` checks the SETs of a poll answer (RFC 8936: {"jti": "SET", ...}) and prints their claims as a JSON list.

A SET is accepted only if (RFC 8417, SSF 1.0 §4): its JWS header's typ is secevent+jwt; its signature verifies
with a key of the issuer's JWKS (found through /.well-known/ssf-configuration's jwks_uri); iss is the issuer; aud is
this receiver; jti and iat are present; events holds exactly one event of a type SSF, CAEP or RISC defines; it has
no sub (SSF subjects are in sub_id) and no exp.
"""

import argparse
import http.server
import json
import os
import ssl
import sys
import urllib.request

from authlib.jose import JsonWebKey, JsonWebSignature

KNOWN = {
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
    "https://schemas.openid.net/secevent/caep/event-type/credential-change",
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled",
    "https://schemas.openid.net/secevent/risc/event-type/account-enabled",
    "https://schemas.openid.net/secevent/risc/event-type/account-purged",
    "https://schemas.openid.net/secevent/ssf/event-type/verification",
    "https://schemas.openid.net/secevent/ssf/event-type/stream-updated",
}


class Refused(Exception):
    """A SET this receiver does not accept; RFC 8935 §2.3's error code and why."""

    def __init__(self, err, why):
        super().__init__(why)
        self.err = err


def fetch(url, ca):
    ctx = ssl.create_default_context(cafile=ca)
    with urllib.request.urlopen(url, context=ctx, timeout=10) as r:
        return json.load(r)


def keys(issuer, ca):
    config = fetch(issuer + "/.well-known/ssf-configuration", ca)
    if config.get("issuer") != issuer:
        sys.exit(f"the transmitter's configuration names issuer {config.get('issuer')!r}, not {issuer!r}")
    return JsonWebKey.import_key_set(fetch(config["jwks_uri"], ca))


def verify(token, key_set, issuer, audience):
    jws = JsonWebSignature(algorithms=["ES256", "ES384", "RS256", "PS256", "EdDSA"])

    def key_for(header, payload):
        try:
            return key_set.find_by_kid(header.get("kid"))
        except ValueError as e:
            raise Refused("invalid_key", f"no key {header.get('kid')!r} in the issuer's JWKS") from e

    try:
        data = jws.deserialize_compact(token, key_for)
    except Refused:
        raise
    except Exception as e:  # authlib's BadSignatureError and decoding errors
        raise Refused("invalid_request", f"the SET does not verify: {e}") from e
    header, claims = data["header"], json.loads(data["payload"])
    if header.get("typ") != "secevent+jwt":
        raise Refused("invalid_request", f"typ is {header.get('typ')!r}, not secevent+jwt")
    if claims.get("iss") != issuer:
        raise Refused("invalid_issuer", f"iss is {claims.get('iss')!r}")
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise Refused("invalid_audience", f"aud is {aud!r}")
    if not claims.get("jti") or not isinstance(claims.get("iat"), int):
        raise Refused("invalid_request", "jti or iat missing")
    events = claims.get("events")
    if not isinstance(events, dict) or len(events) != 1 or not set(events) <= KNOWN:
        raise Refused("invalid_request", f"events is not one known event: {events!r}")
    if "sub" in claims or "exp" in claims:
        raise Refused("invalid_request", "a SET carries no sub and no exp (SSF 1.0 §4.1)")
    if "sub_id" not in claims:
        raise Refused("invalid_request", "no sub_id")
    claims["_typ"] = header["typ"]
    return claims


def push(a):
    key_set = keys(a.issuer, a.ca)
    state = {"failed": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state["failed"] < a.fail_first:
                state["failed"] += 1
                return self.answer(503, b"")
            if self.headers.get("Content-Type") != "application/secevent+jwt":
                return self.answer(400, json.dumps({"err": "invalid_request", "description": "content type"}).encode())
            try:
                claims = verify(body.decode(), key_set, a.issuer, a.audience)
            except Refused as e:
                return self.answer(400, json.dumps({"err": e.err, "description": str(e)}).encode())
            with open(a.out, "a") as f:
                f.write(json.dumps(claims) + "\n")
            self.answer(202, b"")

        def answer(self, status, body):
            self.send_response(status)
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def verify_polled(a):
    key_set = keys(a.issuer, a.ca)
    sets = json.load(sys.stdin)
    out = []
    for jti, token in sets.items():
        try:
            claims = verify(token, key_set, a.issuer, a.audience)
        except Refused as e:
            sys.exit(f"SET {jti}: {e.err}: {e}")
        if claims["jti"] != jti:
            sys.exit(f"SET {jti} says jti {claims['jti']}")
        out.append(claims)
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["push", "verify"])
    p.add_argument("--issuer", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--audience", required=True)
    p.add_argument("--out")
    p.add_argument("--fail-first", type=int, default=0)
    a = p.parse_args()
    if a.mode == "push":
        push(a)
    else:
        verify_polled(a)


if __name__ == "__main__":
    main()
