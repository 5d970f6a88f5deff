#!/usr/bin/env python3
"""The SSO side of hcpki's load scripts (scripts/bench-oidc, scripts/fault): a private_key_jwt client and a
browser that signs in with password + TOTP, gets codes at /authorize and exchanges them at /token.

    sso.py keygen DIR KID                    # DIR/client.key (P-256) and DIR/jwks.json (its public key, KID)
    sso.py login PORT ISSUER USER PASSWORD SECRET   # one password + TOTP login; prints the session cookie and
                                                    # the browser cookie bound to it, a space between (`remember`)

As a module (scripts put scripts/lib on sys.path): `Client` signs client assertions (ES256, RFC 7523),
`DpopKey` makes DPoP proofs (RFC 9449), `Portal` speaks to one portal listener over one keep-alive connection per thread, `totp` computes RFC 6238
codes. Plain http.client, no OIDC library: the point is load and faults, not conformance (tests/peers has the
independent relying parties).
"""
import base64, hashlib, hmac, http.client, json, os, re, ssl, struct, sys, time, urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

COOKIE = "__Host-hcpki-session"
# A session is bound to the browser it was made in (D161): the login sets this second cookie with the session
# cookie, and a request bringing the session without it ends the session. Kept here by session cookie, so that
# the scripts pass the session cookie around as before and every Portal sends both.
BROWSER_COOKIE = "__Host-hcpki-browser"
BROWSERS = {}


def remember(printed):
    """The session cookie of `sso.py login`'s line "SESSION BROWSER", its browser cookie remembered."""
    session, _, browser = printed.strip().partition(" ")
    if browser:
        BROWSERS[session] = browser
    return session
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def totp(secret, at=None):
    """The RFC 6238 code (SHA-1, 6 digits, 30 s) of `secret` (base32) for the step holding `at` (default now)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    step = int(time.time() if at is None else at) // 30
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[19] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def public_jwk(key):
    """The public JWK of a P-256 key: its required members only (RFC 7518 §6.2.1)."""
    n = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}


def keygen(directory, kid):
    key = ec.generate_private_key(ec.SECP256R1())
    with open(os.path.join(directory, "client.key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    jwk = dict(public_jwk(key), kid=kid, alg="ES256", use="sig")
    with open(os.path.join(directory, "jwks.json"), "w") as f:
        json.dump({"keys": [jwk]}, f)


def es256(key, header, claims):
    """A compact ES256 JWS."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class Client:
    """A registered private_key_jwt client: its id, its key (DIR/client.key from keygen) and kid."""

    def __init__(self, client_id, key_file, kid, redirect_uri):
        self.id, self.kid, self.redirect_uri = client_id, kid, redirect_uri
        with open(key_file, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), None)

    def assertion(self, audience, now=None, lifetime=60, iat=True):
        """A client assertion for `audience` (the token endpoint): exp `lifetime` s after `now`, its own jti;
        iat=False leaves iat out (RFC 7523 makes it optional), so only exp carries the client's clock."""
        now = int(time.time()) if now is None else now
        claims = {"iss": self.id, "sub": self.id, "aud": audience, "exp": now + lifetime, "jti": b64(os.urandom(16))}
        if iat:
            claims["iat"] = now
        return es256(self.key, {"alg": "ES256", "kid": self.kid}, claims)

    def code_form(self, code, verifier, assertion):
        """The /token form redeeming `code`."""
        return {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": verifier, "client_assertion_type": JWT_BEARER, "client_assertion": assertion}

    def refresh_form(self, refresh_token, assertion):
        return {"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_assertion_type": JWT_BEARER, "client_assertion": assertion}


class DpopKey:
    """A client's DPoP key (RFC 9449), a fresh P-256 key: `proof` makes the `DPoP` header of one request, `jkt`
    is the key's RFC 7638 thumbprint, which a token bound to it carries as `cnf.jkt`."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk = public_jwk(self.key)
        # RFC 7638 §3: the required members in lexicographic order, no whitespace.
        canonical = json.dumps({m: self.jwk[m] for m in ("crv", "kty", "x", "y")}, separators=(",", ":"))
        self.jkt = b64(hashlib.sha256(canonical.encode()).digest())

    def proof(self, htm, htu, nonce=None, now=None):
        """A proof for `htm` `htu` made at `now` (default: now), its own jti, with the server's `nonce`."""
        claims = {"jti": b64(os.urandom(16)), "htm": htm, "htu": htu, "iat": int(time.time()) if now is None else now}
        if nonce is not None:
            claims["nonce"] = nonce
        return es256(self.key, {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk}, claims)


class Portal:
    """One portal listener (127.0.0.1:port) of the issuer `issuer` (its Host and Origin). The server's own test
    chain is not what these scripts check, so TLS is not verified."""

    def __init__(self, port, issuer, timeout=20):
        self.port, self.issuer, self.timeout = int(port), issuer, timeout
        self.host = issuer.split("://", 1)[1]
        self.ctx = ssl._create_unverified_context()
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body bytes) over this object's keep-alive connection; a dropped connection raises
        (the caller counts it) and the next request opens a new one."""
        if self.conn is None:
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=self.timeout)
        all_headers = {"Host": self.host}
        all_headers.update(headers or {})
        try:
            self.conn.request(method, path, body, all_headers)
            r = self.conn.getresponse()
            return r.status, r, r.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise

    def login(self, username, password, code, return_to=None):
        """POST /login: (status, session cookie or None, Location or the page's text)."""
        fields = {"username": username, "password": password, "totp": code}
        if return_to:
            fields["return_to"] = return_to
        status, r, body = self.request("POST", "/login", urllib.parse.urlencode(fields), {
            "Origin": self.issuer, "Content-Type": "application/x-www-form-urlencoded"})
        cookie = browser = None
        for name, value in r.getheaders():
            if name.lower() == "set-cookie" and value.startswith(COOKIE + "="):
                cookie = value.split(";", 1)[0].split("=", 1)[1]
            if name.lower() == "set-cookie" and value.startswith(BROWSER_COOKIE + "="):
                browser = value.split(";", 1)[0].split("=", 1)[1]
        if cookie and browser:
            BROWSERS[cookie] = browser
        return status, cookie, r.getheader("Location") or page_text(body)

    def authorize(self, cookie, client, extra=None, verifier=None, path=None):
        """GET /authorize (code flow, PKCE S256) with the session `cookie`: (status, code or None, verifier,
        Location or the page's text). `path`: a whole /authorize URL path to follow instead (the login page's
        return_to), made with `verifier`."""
        if path is None:
            verifier = b64(os.urandom(32))
            params = {"response_type": "code", "client_id": client.id, "redirect_uri": client.redirect_uri,
                      "scope": "openid", "state": "s", "nonce": b64(os.urandom(8)), "code_challenge_method": "S256",
                      "code_challenge": b64(hashlib.sha256(verifier.encode()).digest())}
            params.update(extra or {})
            path = "/authorize?" + urllib.parse.urlencode(params)
        jar = f"{COOKIE}={cookie}" + (f"; {BROWSER_COOKIE}={BROWSERS[cookie]}" if cookie in BROWSERS else "")
        status, r, body = self.request("GET", path, headers={"Cookie": jar} if cookie else {})
        location = r.getheader("Location") or ""
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("code", [None])[0]
        return status, code, verifier, location or page_text(body)

    def post_form(self, path, form):
        """A back-channel POST (/token, /introspect): (status, JSON or {"text": body})."""
        status, _, body = self.request("POST", path, urllib.parse.urlencode(form),
                                       {"Content-Type": "application/x-www-form-urlencoded"})
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {"text": body.decode(errors="replace")}


def page_text(body):
    """What an HTML page says: its alert (the portal's refusals and login errors are one sentence in a
    role="alert" element), else all its words."""
    html = body.decode(errors="replace")
    alert = re.search(r'<[^>]*role="alert"[^>]*>(.*?)</', html, flags=re.S)
    text = alert.group(1) if alert else re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def claims(jwt):
    """The payload of a JWS, unverified (the tokens' own checks are the relying parties' business)."""
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def main(argv):
    if len(argv) == 3 and argv[0] == "keygen":
        keygen(argv[1], argv[2])
    elif len(argv) == 6 and argv[0] == "login":
        port, issuer, user, password, secret = argv[1:]
        status, cookie, body = Portal(port, issuer).login(user, password, totp(secret))
        if not cookie:
            sys.exit(f"password + TOTP login answered {status}: {body[:300]}")
        print(cookie, BROWSERS.get(cookie, ""))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
