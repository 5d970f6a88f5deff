"""Verify a patient-presence proof (受診確認トークン, D148) as a relying service would, offline, with Authlib's own
JOSE implementation (independent of hcpki's): the JWKS, `typ` patient-presence+jwt, ES256 only, iss, aud, exp.

usage: presence_verify.py JWKS_FILE TOKEN AUDIENCE ISSUER
prints {"ok": true, "header": …, "claims": …} or {"ok": false, "error": "…"}; exit status 0 either way.
"""

import base64
import json
import sys

from authlib.jose import JsonWebKey, JsonWebToken

TYP = "patient-presence+jwt"


def main():
    jwks_file, token, audience, issuer = sys.argv[1:5]
    with open(jwks_file, encoding="utf-8") as f:
        keys = JsonWebKey.import_key_set(json.load(f))
    try:
        head = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        if header.get("typ") != TYP:
            raise ValueError(f"typ {header.get('typ')!r} is not {TYP}")
        jwt = JsonWebToken(["ES256"])
        options = {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": audience},
            "exp": {"essential": True},
            "jti": {"essential": True},
            "sub": {"essential": True},
        }
        claims = jwt.decode(token, keys, claims_options=options)
        claims.validate(leeway=0)
        print(json.dumps({"ok": True, "header": dict(claims.header), "claims": dict(claims)}))
    except Exception as e:  # every refusal is an answer, with its cause
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))


if __name__ == "__main__":
    main()
