#!/usr/bin/env python3
"""authlib reading hcpki's tokens that carry an RFC 8693 `act` claim (issue #29: delegation, token exchange).

    act_rp.py check --issuer URL --ca PEM --client-id ID --tokens FILE
    act_rp.py exchange --issuer URL --ca PEM --client-id ID --key PEM --subject-token TOKEN --audience CLIENT \
                       [--expect-error CODE]

`check` validates, with authlib against the published JWKS (ES256), the ID token of a token response in FILE
(iss, aud, exp, nonce `n1`, at_hash) and its RFC 9068 access token (typ at+jwt; iss, aud and client_id the
client, exp, iat, jti, sub), and prints both claim sets.
`exchange` checks that discovery advertises the token-exchange grant, then has authlib's OAuth2Session (its own
private_key_jwt client assertion) exchange TOKEN for a token for CLIENT (RFC 8693 §2.1: subject_token_type
access_token, `audience`), validates the issued token (issued_token_type, token_type, an at+jwt access token
whose aud is CLIENT, its exp no later than the subject token's) and prints its claims; with --expect-error,
that the endpoint refuses it with that OAuth error instead, and nothing is issued.
Prints one JSON object; exits 1 on the first expectation that fails.
"""
import argparse, json, os, sys

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import CodeIDToken

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
seen = {}


def expect(cond, what):
    if not cond:
        seen["failed"] = what
        print(json.dumps(seen, indent=1, default=str))
        sys.exit(1)


def discover(a):
    os.environ["REQUESTS_CA_BUNDLE"] = a.ca
    os.environ.pop("CURL_CA_BUNDLE", None)
    conf = requests.get(a.issuer + "/.well-known/openid-configuration", verify=a.ca).json()
    expect(conf["issuer"] == a.issuer, f"discovery issuer {conf['issuer']}")
    keyset = JsonWebKey.import_key_set(requests.get(conf["jwks_uri"], verify=a.ca).json())
    return conf, keyset


def access_claims(a, keyset, token, audience):
    """An RFC 9068 access token validated by authlib: signature, typ, iss, aud, exp and the required claims."""
    options = {k: {"essential": True} for k in ("exp", "iat", "jti", "sub", "client_id")}
    options["iss"] = {"essential": True, "value": a.issuer}
    options["aud"] = {"essential": True, "value": audience}
    claims = JsonWebToken(["ES256"]).decode(token, keyset, claims_options=options)
    claims.validate(leeway=5)
    expect(claims.header.get("typ") == "at+jwt", f"access token typ {claims.header}")
    return dict(claims)


def check(a):
    _, keyset = discover(a)
    tokens = json.load(open(a.tokens))
    id_claims = JsonWebToken(["ES256"]).decode(
        tokens["id_token"], keyset, claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": a.issuer}, "aud": {"essential": True, "value": a.client_id}},
        claims_params={"nonce": "n1", "client_id": a.client_id, "access_token": tokens["access_token"]})
    id_claims.validate(leeway=5)
    seen["id_token"] = dict(id_claims)
    seen["access_token"] = access_claims(a, keyset, tokens["access_token"], a.client_id)
    seen["ok"] = True
    print(json.dumps(seen, indent=1, default=str))


def exchange(a):
    conf, keyset = discover(a)
    expect(TOKEN_EXCHANGE in conf.get("grant_types_supported", []), f"grant types {conf.get('grant_types_supported')}")
    client = OAuth2Session(a.client_id, open(a.key).read(), token_endpoint_auth_method="private_key_jwt")
    client.register_client_auth_method(PrivateKeyJWT(alg="ES256"))
    client.verify = a.ca
    try:
        issued = client.fetch_token(conf["token_endpoint"], grant_type=TOKEN_EXCHANGE, subject_token=a.subject_token,
                                    subject_token_type=ACCESS_TOKEN_TYPE, audience=a.audience)
    except OAuthError as e:
        expect(a.expect_error == e.error, f"refused with {e.error}: {e.description}")
        seen["refused"] = {"error": e.error, "description": e.description}
        seen["ok"] = True
        print(json.dumps(seen, indent=1, default=str))
        return
    expect(a.expect_error is None, f"issued where {a.expect_error} was expected: {issued}")
    expect(issued.get("issued_token_type") == ACCESS_TOKEN_TYPE, f"issued_token_type {issued}")
    expect(issued.get("token_type") == "Bearer" and "refresh_token" not in issued, f"the response {issued}")
    subject = JsonWebToken(["ES256"]).decode(a.subject_token, keyset)
    claims = access_claims(a, keyset, issued["access_token"], a.audience)
    expect(claims["exp"] <= subject["exp"], f"exp {claims['exp']} beyond the subject token's {subject['exp']}")
    seen["response"] = {k: v for k, v in issued.items() if k != "access_token"}
    seen["token"] = issued["access_token"]
    seen["access_token"] = claims
    seen["ok"] = True
    print(json.dumps(seen, indent=1, default=str))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    for name in ["issuer", "ca", "client-id", "tokens"]:
        c.add_argument("--" + name, required=True)
    e = sub.add_parser("exchange")
    for name in ["issuer", "ca", "client-id", "key", "subject-token", "audience"]:
        e.add_argument("--" + name, required=True)
    e.add_argument("--expect-error")
    a = p.parse_args()
    check(a) if a.cmd == "check" else exchange(a)


if __name__ == "__main__":
    main()
