#!/usr/bin/env python3
"""An independent OpenID Connect relying party (authlib) driving hcpki's provider end to end.

    oidc_rp.py keygen DIR                  # DIR/key.pem (P-256), DIR/rsa.pem (RSA-2048) and DIR/jwks.json (both
                                           # public keys) for registration
    oidc_rp.py flow --issuer URL --ca PEM --client-id ID --key PEM --redirect-uri URI --post-logout URI \
                    --username U --password-file F --totp-secret BASE32 \
                    [--assertion-alg ES256|RS256|PS256] [--id-token-alg ES256|RS256|PS256] \
                    [--mtls-client-id ID --mtls-cert PEM --mtls-key PEM]
    oidc_rp.py logout-token --issuer URL --ca PEM --client-id ID --alg ES256|RS256|PS256 --body FILE
    oidc_rp.py iua (the options of flow) [--purpose CODE]

`flow` validates discovery with authlib (OpenIDProviderMetadata and RFC 8414's AuthorizationServerMetadata),
logs in through the portal's password + TOTP form (the TOTP code computed here from the secret, RFC 6238), runs
the code flow with PKCE S256 and private_key_jwt (authlib's own client assertion code), validates the ID token
with authlib against the published JWKS (the registered alg only, iss, aud, exp, nonce, at_hash) and has authlib
refuse it for another nonce and another algorithm, refuses a reused code, pushes the second authorization
request (PAR, RFC 9126), calls userinfo with the session's bearer token, introspects, revokes, refreshes (the
old refresh token must then be refused, the grant revoked and the session ended: prompt=none is login_required,
with iss), logs out with id_token_hint, and checks prompt=none is then login_required. Every token-endpoint,
introspection and revocation call is authlib's (`fetch_token`, `refresh_token`, `introspect_token`, `revoke_token`) with its registered PrivateKeyJWT.
With --mtls-*: a tls_client_auth client (the facility PC certificate as requests' `cert=` of authlib's
OAuth2Session, the mTLS endpoint aliases of discovery) gets an access token bound to that certificate
(RFC 8705): the token's and introspection's cnf.x5t#S256 are the certificate's SHA-256 (computed here),
userinfo accepts it over mTLS and refuses it without the certificate.
`logout-token` reads the form body of a back-channel logout POST (as the client's endpoint received it) and
validates its logout token with authlib (OIDC Back-Channel Logout 1.0 §2.6: signature against the JWKS with the
client's registered alg, typ logout+jwt, iss, aud, iat, exp, jti, the back-channel logout event, sid (the
provider advertises backchannel_logout_session_supported) and no nonce), then has authlib refuse it for
another client and another algorithm.
`iua` logs in and runs one code flow (with `purpose_of_use=CODE` when given, IHE IUA / issue #29), validates the ID
token as `flow` does and the access token as an RFC 9068 resource server does with authlib's own
JWTBearerTokenValidator (typ at+jwt, signature against the JWKS, iss, aud = the client, exp, iat, jti, sub,
client_id, scope openid), calls userinfo, and prints the three claim sets for the test to read
`extensions.ihe_iua` from.
Each prints one JSON object of what it saw and exits 1 on the first expectation that fails (the npm
counterpart is tests/peers/oidc_rp_node.mjs).
"""
import argparse, base64, hashlib, hmac, json, os, struct, sys, time, urllib.parse, warnings

warnings.filterwarnings("ignore")
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.auth import encode_none
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.jose.errors import JoseError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata

ALGS = ["ES256", "RS256", "PS256"]
BACKCHANNEL_LOGOUT = "http://schemas.openid.net/event/backchannel-logout"

seen = {}


def expect(cond, what):
    if not cond:
        seen["failed"] = what
        print(json.dumps(seen, indent=1, default=str))
        sys.exit(1)


def totp(secret_b32, at=None):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    step = int((at or time.time()) // 30)
    mac = hmac.new(key, struct.pack(">q", step), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def keygen(out):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    open(f"{out}/key.pem", "wb").write(pem)
    jwk = JsonWebKey.import_key(pem, {"kty": "EC"}).as_dict(is_private=False)
    jwk["kid"] = "rp-key-1"
    jwk["alg"] = "ES256"
    # An RSA key for RS256 and PS256 assertions (no "alg": one key, both algorithms).
    from cryptography.hazmat.primitives.asymmetric import rsa
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_pem = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    open(f"{out}/rsa.pem", "wb").write(rsa_pem)
    rsa_jwk = JsonWebKey.import_key(rsa_pem, {"kty": "RSA"}).as_dict(is_private=False)
    rsa_jwk["kid"] = "rp-rsa-1"
    open(f"{out}/jwks.json", "w").write(json.dumps({"keys": [jwk, rsa_jwk]}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keygen")
    k.add_argument("dir")
    f = sub.add_parser("flow")
    i = sub.add_parser("iua")
    i.add_argument("--purpose")
    for f in (f, i):
        flow_options(f)
    pub = sub.add_parser("public")
    for x in ["issuer", "ca", "client-id", "redirect-uri", "username", "password-file", "totp-secret"]:
        pub.add_argument("--" + x, required=True)
    pub.add_argument("--id-token-alg", default="ES256", choices=ALGS)
    lt = sub.add_parser("logout-token")
    for a in ["issuer", "ca", "client-id", "body"]:
        lt.add_argument("--" + a, required=True)
    lt.add_argument("--alg", required=True, choices=ALGS)
    a = p.parse_args()
    if a.cmd == "keygen":
        return keygen(a.dir)
    if a.cmd == "logout-token":
        return logout_token(a)
    if a.cmd == "iua":
        return iua(a)
    if a.cmd == "public":
        return public(a)
    given = [m for m in MTLS if getattr(a, m.replace("-", "_"))]
    if given and len(given) != len(MTLS):
        p.error("give all of --" + ", --".join(MTLS) + " or none")
    flow(a)


def flow_options(f):
    for a in ["issuer", "ca", "client-id", "key", "redirect-uri", "post-logout", "username", "password-file", "totp-secret"]:
        f.add_argument("--" + a, required=True)
    for a in ["assertion-alg", "id-token-alg"]:
        f.add_argument("--" + a, default="ES256", choices=ALGS)
    for a in MTLS:
        f.add_argument("--" + a)


MTLS = ["mtls-client-id", "mtls-cert", "mtls-key"]


def login_and_authorize(a, conf, browser, client, extra=None, expect_login=True, par=False):
    """Authorization request (pushed first with par) → (login form if asked) → the redirect back; returns
    (the redirect, its query dict, nonce, verifier)."""
    verifier = generate_token(64)
    nonce = generate_token(20)
    url, state = client.create_authorization_url(conf["authorization_endpoint"], nonce=nonce, code_verifier=verifier, **(extra or {}))
    if par:
        url = pushed(a, conf, client, url)
    r = browser.get(url, allow_redirects=False)
    expect(r.status_code in (302, 303), f"authorize answered {r.status_code}")
    loc = r.headers["location"]
    if loc.startswith("/login"):
        expect(expect_login, "a login was asked for although a session exists")
        return_to = urllib.parse.parse_qs(urllib.parse.urlparse(loc).query)["return_to"][0]
        page = browser.get(a.issuer + loc)
        expect(page.status_code == 200 and "password-totp" in page.text, "the login page does not mark password-totp")
        password = open(a.password_file).read().strip()
        # Two logins in one 30 s step would reuse the code (refused as a replay): use the next step's code.
        code = totp(a.totp_secret, time.time() + (30 if seen.get("logins") else 0))
        seen["logins"] = seen.get("logins", 0) + 1
        r = browser.post(a.issuer + "/login", data={"username": a.username, "password": password, "totp": code, "return_to": return_to},
                         headers={"Origin": a.issuer}, allow_redirects=False)
        expect(r.status_code in (302, 303), f"login answered {r.status_code}: {r.text[:300]}")
        r = browser.get(a.issuer + r.headers["location"], allow_redirects=False)
        loc = r.headers["location"]
    expect(loc.startswith(a.redirect_uri), f"not redirected to the client: {loc}")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(loc).query))
    expect(q.get("state") == state, "state not returned")
    expect(q.get("iss") == a.issuer, "iss (RFC 9207) not returned")
    return loc, q, nonce, verifier


def pushed(a, conf, client, url):
    """RFC 9126: push the authorization request `url` and return the URL the browser then carries.

    authlib 1.6 has no PAR helper, so its own pieces do it: create_authorization_url built the request (PKCE
    S256, state, nonce), and the client's registered authentication (authlib's PrivateKeyJWT assertion, the
    same object that authenticates at the token endpoint) signs the POST of its parameters to the pushed
    authorization request endpoint. The browser gets only client_id and the request_uri."""
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))
    auth = client.client_auth(client.token_endpoint_auth_method)
    r = client.post(conf["pushed_authorization_request_endpoint"], data=params, auth=auth, withhold_token=True)
    expect(r.status_code == 201, f"PAR answered {r.status_code}: {r.text}")
    pushed = r.json()
    expect(pushed["request_uri"].startswith("urn:ietf:params:oauth:request_uri:") and pushed["expires_in"] > 0, f"PAR: {pushed}")
    query = urllib.parse.urlencode({"client_id": a.client_id, "request_uri": pushed["request_uri"]})
    return conf["authorization_endpoint"] + "?" + query


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def discover(a):
    """Discovery as authlib validates it, and the JWKS as authlib's key set.

    authlib's requests client has no discovery fetch of its own (only its web-framework integrations'
    load_server_metadata has), so requests fetches the two documents; authlib's OpenIDProviderMetadata then
    checks the OpenID members (https endpoints, jwks_uri, RS256 among the ID token algorithms, response and
    subject types...) and RFC 8414's AuthorizationServerMetadata the OAuth ones OpenID leaves out (introspection,
    revocation, PKCE methods)."""
    doc = requests.get(a.issuer + "/.well-known/openid-configuration", verify=a.ca).json()
    for model in (OpenIDProviderMetadata, AuthorizationServerMetadata):
        try:
            model(doc).validate()
        except ValueError as e:
            expect(False, f"{model.__name__} refuses the discovery document: {e}")
    conf = OpenIDProviderMetadata(doc)
    expect(conf["issuer"] == a.issuer, f"discovery issuer {conf['issuer']}")
    jwks = requests.get(conf["jwks_uri"], verify=a.ca).json()
    return conf, jwks, JsonWebKey.import_key_set(jwks)


def id_token_claims(a, keyset, tokens, client_id, nonce, alg):
    """The ID token, validated by authlib against the JWKS (signature by a key of the registered `alg` only,
    iss, aud, exp, nonce, at_hash)."""
    claims = JsonWebToken([alg]).decode(tokens["id_token"], keyset, claims_cls=CodeIDToken,
                                        claims_options={"iss": {"essential": True, "value": a.issuer}, "aud": {"essential": True, "value": client_id}},
                                        claims_params={"nonce": nonce, "client_id": client_id, "access_token": tokens["access_token"]})
    claims.validate()
    return claims


def refusal(what, call):
    """The name and message of the authlib error `call` raises; an expectation failure when it raises none."""
    try:
        call()
    except (JoseError, OAuthError) as e:
        return {"error": type(e).__name__, "description": str(e)}
    expect(False, f"authlib accepted {what}")


def other_alg(alg):
    return "RS256" if alg == "ES256" else "ES256"


def logout_token(a):
    """The logout token of a back-channel logout POST's body, validated by authlib, and refused by it for
    another client and another algorithm (what `seen` shows)."""
    conf, jwks, keyset = discover(a)
    form = urllib.parse.parse_qs(open(a.body).read(), strict_parsing=True)
    expect(list(form) == ["logout_token"] and len(form["logout_token"]) == 1, f"the logout POST's form: {list(form)}")
    token = form["logout_token"][0]
    expect(conf.get("backchannel_logout_supported") is True, "discovery does not advertise back-channel logout")
    # §2.4: sid when the provider advertises sessions; sub and/or sid in any case; events with the back-channel
    # logout member (a JSON object); never a nonce (a logout token must not pass for an ID token).
    sid_required = conf.get("backchannel_logout_session_supported") is True

    def validated(client_id, alg):
        options = {
            "iss": {"essential": True, "value": a.issuer},
            "aud": {"essential": True, "value": client_id},
            "iat": {"essential": True},
            "exp": {"essential": True},
            "jti": {"essential": True},
            "events": {"essential": True, "validate": lambda c, v: isinstance(v, dict) and isinstance(v.get(BACKCHANNEL_LOGOUT), dict)},
            "sid": {"essential": sid_required},
            "sub": {"validate": lambda c, v: bool(v or c.get("sid"))},
            "nonce": {"validate": lambda c, v: v is None},
        }
        claims = JsonWebToken([alg]).decode(token, keyset, claims_options=options)
        claims.validate(leeway=60)
        return claims

    claims = validated(a.client_id, a.alg)
    # authlib does not read typ; §2.4 recommends explicit typing and the provider sets it.
    expect(claims.header.get("typ") == "logout+jwt", f"logout token typ: {claims.header}")
    signing = [k for k in jwks["keys"] if k["kid"] == claims.header.get("kid")]
    expect(len(signing) == 1 and signing[0]["alg"] == a.alg, f"logout token kid {claims.header.get('kid')} is not a {a.alg} key")
    seen["header"] = claims.header
    seen["claims"] = dict(claims)
    seen["refused"] = {
        "another client": refusal("the logout token for another client", lambda: validated(a.client_id + "-other", a.alg)),
        "another alg": refusal("the logout token for another algorithm", lambda: validated(a.client_id, other_alg(a.alg))),
    }
    seen["ok"] = True
    print(json.dumps(seen, indent=1, default=str))


def bound_token(a, conf, keyset, browser, sub):
    """RFC 8705 with the facility PC certificate: a tls_client_auth client through the mTLS endpoint aliases.

    authlib's OAuth2Session carries the certificate as requests' `cert=` on every call it makes (token,
    introspection, userinfo). authlib has no tls_client_auth method of its own: the certificate is the
    authentication, and RFC 8705 §2 asks only that client_id travel in the body, which is what authlib's
    `none` encoding sends, registered here under the RFC 8705 name."""
    aliases = conf.get("mtls_endpoint_aliases") or {}
    expect(aliases.get("token_endpoint") and not aliases["token_endpoint"].startswith(a.issuer), f"no mTLS token alias: {aliases}")
    client = OAuth2Session(a.mtls_client_id, scope="openid", redirect_uri=a.redirect_uri,
                           token_endpoint_auth_method="tls_client_auth", code_challenge_method="S256",
                           cert=(a.mtls_cert, a.mtls_key))
    client.register_client_auth_method(("tls_client_auth", encode_none))
    client.verify = a.ca
    loc, q, nonce, verifier = login_and_authorize(a, conf, browser, client, expect_login=False)
    tokens = client.fetch_token(aliases["token_endpoint"], authorization_response=loc, code_verifier=verifier)
    claims = id_token_claims(a, keyset, tokens, a.mtls_client_id, nonce, "ES256")
    # The certificate's thumbprint, computed here from the PEM the client holds.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    cert = x509.load_pem_x509_certificate(open(a.mtls_cert, "rb").read())
    thumbprint = b64url(cert.fingerprint(hashes.SHA256()))
    # The access token is a JWT (RFC 9068): authlib verifies its signature against the JWKS and reads its cnf.
    access = JsonWebToken(["ES256"]).decode(tokens["access_token"], keyset)
    access.validate()
    expect(access.get("cnf", {}).get("x5t#S256") == thumbprint, f"access token cnf: {dict(access)} (certificate {thumbprint})")
    intro = client.introspect_token(aliases["introspection_endpoint"], token=tokens["access_token"]).json()
    expect(intro.get("active") is True and intro.get("cnf", {}).get("x5t#S256") == thumbprint, f"bound token introspection: {intro}")
    # The session holds the token and the certificate: userinfo over mTLS.
    ui = client.get(aliases["userinfo_endpoint"])
    expect(ui.status_code == 200 and ui.json()["sub"] == claims["sub"], f"userinfo over mTLS: {ui.status_code} {ui.text}")
    # The same token, without the certificate, at the portal's own userinfo endpoint.
    plain = OAuth2Session(a.mtls_client_id, token=tokens)
    plain.verify = a.ca
    refused = plain.get(conf["userinfo_endpoint"])
    challenge = refused.headers.get("WWW-Authenticate", "")
    expect(refused.status_code == 401 and 'error="invalid_token"' in challenge, f"bound token without its certificate: {refused.status_code} {challenge}")
    seen["mtls"] = {"token_endpoint": aliases["token_endpoint"], "x5t#S256": thumbprint, "sub": claims["sub"],
                    "same_sub_as_other_client_of_the_service": claims["sub"] == sub,
                    "userinfo_without_certificate": f"{refused.status_code} {challenge}"}


def flow(a):
    # requests lets these environment variables override a Session's own CA setting; pin ours.
    os.environ["REQUESTS_CA_BUNDLE"] = a.ca
    os.environ.pop("CURL_CA_BUNDLE", None)
    conf, jwks, keyset = discover(a)
    seen["discovery"] = {k: conf[k] for k in ("issuer", "token_endpoint", "code_challenge_methods_supported")}
    expect(a.id_token_alg in conf["id_token_signing_alg_values_supported"], "id_token alg not in discovery")
    # ES256 assertions with the P-256 key, RS256 and PS256 with the RSA key beside it.
    if a.assertion_alg == "ES256":
        key = open(a.key).read()
    else:
        key = open(os.path.join(os.path.dirname(a.key), "rsa.pem")).read()
    token_url = conf["token_endpoint"]

    def session():
        """authlib's client: private_key_jwt for the token, introspection and revocation endpoints alike (its
        PrivateKeyJWT signs a new assertion per request, aud = the URL it is sent to)."""
        c = OAuth2Session(a.client_id, key, scope="openid", redirect_uri=a.redirect_uri,
                          token_endpoint_auth_method="private_key_jwt", revocation_endpoint_auth_method="private_key_jwt",
                          code_challenge_method="S256")
        c.register_client_auth_method(PrivateKeyJWT(alg=a.assertion_alg))
        c.verify = a.ca
        return c

    def introspect(client, token):
        r = client.introspect_token(conf["introspection_endpoint"], token=token)
        expect(r.status_code == 200, f"introspection: {r.status_code} {r.text}")
        return r.json()

    browser = requests.Session()
    browser.verify = a.ca
    client = session()
    loc, q, nonce, verifier = login_and_authorize(a, conf, browser, client)
    tokens = client.fetch_token(token_url, authorization_response=loc, code_verifier=verifier)
    claims = id_token_claims(a, keyset, tokens, a.client_id, nonce, a.id_token_alg)
    seen["id_token"] = dict(claims)
    seen["id_token_header"] = claims.header
    signing = [k for k in jwks["keys"] if k["kid"] == claims.header["kid"]]
    expect(len(signing) == 1 and signing[0]["alg"] == a.id_token_alg, f"ID token kid {claims.header['kid']} not a {a.id_token_alg} key")
    expect(claims["acr"] == "urn:hcpki:acr:password-totp", "acr")
    expect(sorted(claims["amr"]) == ["mfa", "otp", "pwd"], "amr")
    # authlib refuses the same ID token for another nonce, and when the client expects another algorithm.
    seen["id_token_refused"] = {
        "nonce": refusal("the ID token for another nonce",
                         lambda: id_token_claims(a, keyset, tokens, a.client_id, "another-" + nonce, a.id_token_alg)),
        "alg": refusal("the ID token for another algorithm",
                       lambda: id_token_claims(a, keyset, tokens, a.client_id, nonce, other_alg(a.id_token_alg))),
    }
    # The code is single-use: authlib's second exchange of it is refused ...
    reused = refusal("a reused code", lambda: client.fetch_token(token_url, authorization_response=loc, code_verifier=verifier))
    expect(reused["error"] == "OAuthError" and reused["description"].startswith("invalid_grant"), f"reused code: {reused}")
    seen["reused_code"] = reused
    # ... and its reuse revoked the tokens issued from it (the session still holds the first ones).
    ui = client.get(conf["userinfo_endpoint"])
    expect(ui.status_code == 401, f"userinfo after code reuse: {ui.status_code}")

    # A second authorization, pushed (PAR), in the same session: no login form (SSO).
    client = session()
    loc, q, nonce, verifier = login_and_authorize(a, conf, browser, client, expect_login=False, par=True)
    tokens = client.fetch_token(token_url, authorization_response=loc, code_verifier=verifier)
    expect(id_token_claims(a, keyset, tokens, a.client_id, nonce, a.id_token_alg)["sub"] == claims["sub"], "another sub in the same session")
    seen["par"] = "pushed; code issued"
    ui = client.get(conf["userinfo_endpoint"])
    expect(ui.status_code == 200 and ui.json()["sub"] == claims["sub"], f"userinfo: {ui.status_code} {ui.text}")
    seen["userinfo"] = ui.json()
    intro = introspect(client, tokens["access_token"])
    expect(intro.get("active") is True and intro.get("client_id") == a.client_id, f"introspection: {intro}")
    intro_rt = introspect(client, tokens["refresh_token"])
    expect(intro_rt.get("active") is True, f"refresh token introspection: {intro_rt}")

    # Revocation (RFC 7009).
    client = session()
    loc, q, nonce, verifier = login_and_authorize(a, conf, browser, client, expect_login=False)
    tokens = client.fetch_token(token_url, authorization_response=loc, code_verifier=verifier)
    r = client.revoke_token(conf["revocation_endpoint"], token=tokens["refresh_token"], token_type_hint="refresh_token")
    expect(r.status_code == 200, f"revocation: {r.status_code} {r.text}")
    intro = introspect(client, tokens["access_token"])
    expect(intro == {"active": False}, f"access token active after revocation: {intro}")

    if a.mtls_cert:
        bound_token(a, conf, keyset, browser, claims["sub"])

    # Refresh rotation and reuse detection (RFC 9700 §4.14.2, D152): the rotated-out refresh token presented again
    # revokes its grant and ends the sign-in session it belongs to (prompt=none then finds none), so it comes last;
    # the logout below then finds no session and still sends the browser to the post-logout URI.
    client = session()
    loc, q, nonce, verifier = login_and_authorize(a, conf, browser, client, expect_login=False)
    tokens = client.fetch_token(token_url, authorization_response=loc, code_verifier=verifier)
    old_rt = tokens["refresh_token"]
    new = client.refresh_token(token_url, refresh_token=old_rt)
    expect(new["refresh_token"] != old_rt, "the refresh token was not rotated")
    reused = refusal("an old refresh token", lambda: client.refresh_token(token_url, refresh_token=old_rt))
    expect(reused["error"] == "OAuthError" and reused["description"].startswith("invalid_grant"), f"old refresh token: {reused}")
    intro = introspect(client, new["access_token"])
    expect(intro == {"active": False}, f"grant not revoked after refresh token reuse: {intro}")
    seen["refresh_reuse"] = "refused; grant revoked"
    url, _ = session().create_authorization_url(conf["authorization_endpoint"], nonce="n", code_verifier=generate_token(64), prompt="none")
    r = browser.get(url, allow_redirects=False)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(r.headers.get("location", "")).query))
    expect(q.get("error") == "login_required" and q.get("iss") == conf["issuer"], f"prompt=none after the reuse: {r.status_code} {r.headers}")
    seen["refresh_reuse"] = "refused; grant revoked; session ended"

    # RP-initiated logout, then prompt=none finds no session. authlib has no end-session helper (RP-initiated
    # logout is a browser redirect it leaves to the application), so the browser GETs the URL itself.
    r = browser.get(conf["end_session_endpoint"], params={"id_token_hint": tokens["id_token"],
                    "post_logout_redirect_uri": a.post_logout, "state": "bye"}, allow_redirects=False)
    expect(r.status_code in (302, 303) and r.headers["location"] == a.post_logout + "?state=bye", f"logout: {r.status_code} {r.headers}")
    client = session()
    url, _ = client.create_authorization_url(conf["authorization_endpoint"], nonce="n", code_verifier=generate_token(64), prompt="none")
    r = browser.get(url, allow_redirects=False)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(r.headers.get("location", "")).query))
    expect(q.get("error") == "login_required", f"prompt=none after logout: {r.status_code} {r.headers}")
    seen["logout"] = "ok; prompt=none → login_required"
    seen["ok"] = True
    print(json.dumps(seen, indent=1, default=str))


def iua(a):
    os.environ["REQUESTS_CA_BUNDLE"] = a.ca
    os.environ.pop("CURL_CA_BUNDLE", None)
    conf, jwks, keyset = discover(a)
    seen["purposes_supported"] = conf.get("purpose_of_use_values_supported")
    c = OAuth2Session(a.client_id, open(a.key).read(), scope="openid", redirect_uri=a.redirect_uri,
                      token_endpoint_auth_method="private_key_jwt", code_challenge_method="S256")
    c.register_client_auth_method(PrivateKeyJWT(alg=a.assertion_alg))
    c.verify = a.ca
    browser = requests.Session()
    browser.verify = a.ca
    extra = {"purpose_of_use": a.purpose} if a.purpose else {}
    loc, q, nonce, verifier = login_and_authorize(a, conf, browser, c, extra=extra)
    tokens = c.fetch_token(conf["token_endpoint"], authorization_response=loc, code_verifier=verifier)
    seen["id_token"] = dict(id_token_claims(a, keyset, tokens, a.client_id, nonce, a.id_token_alg))

    # The access token as a resource server reads it: authlib's RFC 9068 validator (this client is the token's
    # audience, the only resource server of its own tokens).
    from authlib.oauth2.rfc9068 import JWTBearerTokenValidator

    class Validator(JWTBearerTokenValidator):
        def get_jwks(self):
            return keyset

    validator = Validator(issuer=a.issuer, resource_server=a.client_id)
    try:
        at = validator.authenticate_token(tokens["access_token"])
        validator.validate_token(at, scopes=["openid"], request=None)
    except Exception as e:
        expect(False, f"authlib's RFC 9068 validator refuses the access token: {type(e).__name__} {e}")
    seen["access_token_header"] = dict(at.header)
    seen["access_token"] = dict(at)
    ui = c.get(conf["userinfo_endpoint"])
    expect(ui.status_code == 200, f"userinfo: {ui.status_code} {ui.text}")
    seen["userinfo"] = ui.json()
    seen["ok"] = True
    print(json.dumps(seen, indent=1, default=str, ensure_ascii=False))


def public(a):
    """A native app as a public client (RFC 8252, issue #30 item 2): authlib with token_endpoint_auth_method
    "none", a loopback redirect URI with the port the app happened to get (registered without one), PKCE S256;
    then refresh rotation and reuse, introspection (refused: no credentials), revocation (allowed)."""
    os.environ["REQUESTS_CA_BUNDLE"] = a.ca
    os.environ.pop("CURL_CA_BUNDLE", None)
    conf, jwks, keyset = discover(a)
    seen["token_methods"] = conf["token_endpoint_auth_methods_supported"]
    seen["introspection_methods"] = conf["introspection_endpoint_auth_methods_supported"]
    c = OAuth2Session(a.client_id, scope="openid", redirect_uri=a.redirect_uri,
                      token_endpoint_auth_method="none", code_challenge_method="S256")
    c.verify = a.ca
    browser = requests.Session()
    browser.verify = a.ca
    loc, q, nonce, verifier = login_and_authorize(a, conf, browser, c)
    expect("code" in q, f"no code in the redirect: {q}")
    tokens = c.fetch_token(conf["token_endpoint"], grant_type="authorization_code", code=q["code"], code_verifier=verifier)
    seen["id_token"] = dict(id_token_claims(a, keyset, tokens, a.client_id, nonce, a.id_token_alg))
    seen["expires_in"] = tokens["expires_in"]
    new = c.refresh_token(conf["token_endpoint"], refresh_token=tokens["refresh_token"])
    expect(new["refresh_token"] != tokens["refresh_token"], "the refresh token was not rotated")
    r = requests.post(conf["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                                     "client_id": a.client_id})
    seen["reused_refresh"] = {"status": r.status_code, **r.json()}
    r = requests.post(conf["introspection_endpoint"], data={"token": new["access_token"], "client_id": a.client_id})
    seen["introspect"] = {"status": r.status_code, **r.json()}
    r = requests.post(conf["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": new["refresh_token"],
                                                     "client_id": a.client_id, "client_secret": "made-up"})
    seen["with_a_secret"] = {"status": r.status_code, **r.json()}
    r = c.revoke_token(conf["revocation_endpoint"], token=new["refresh_token"], token_type_hint="refresh_token")
    seen["revoke"] = r.status_code
    seen["ok"] = True
    print(json.dumps(seen, indent=1, default=str, ensure_ascii=False))


if __name__ == "__main__":
    main()
