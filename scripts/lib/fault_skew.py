#!/usr/bin/env python3
"""One clock-skew case of scripts/fault: two replicas (A and B) on one database, each with its own clock.

    fault_skew.py DIR CASE MODE BACKEND ISSUER FIRST-ACCOUNT A-HTTPS A-PORTAL A-OFFSET B-HTTPS B-PORTAL B-OFFSET

Every step makes something on one replica and uses it on the other, both ways (A→B and B→A): a session, a code,
an access token, a refresh token, a pushed authorization request, an ACME nonce, an EST certificate; within the
leeway also prompt=login across them; and the client's own assertion at each replica. The relying party's and
the browser's clocks are this machine's, unskewed.

MODE `within` (the replicas at most the leeway apart): every step must succeed. MODE `beyond`: a step may be
refused, but only with a 4xx and a text (or, for EST, the TLS alert the client certificate's validity draws),
never a 5xx or a dropped answer; and each refused step is then done again where the thing it used was made (a
login at A, whose clock is right; an ACME request with the nonce the refusal carried), which must succeed:
nothing is lost. Some refusals are required beyond the leeway, to show it is bounded: a code, pushed request or
access token used at a replica so far ahead of its maker that its lifetime plus the leeway has passed, an ACME
nonce likewise, and the client's assertion at a replica 10 min off either way.

Appends one JSON object per step to DIR/skew.jsonl, prints the case's row of the fault table and exits 1 on a
step that broke its rule.
"""
import base64, hashlib, http.client, json, os, ssl, sys, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.serialization import pkcs7  # noqa: E402
from sso import JWT_BEARER, Client, Portal, b64, es256, totp  # noqa: E402

d, case, mode, backend, issuer, first_account = sys.argv[1:7]
ports = [int(a) for a in sys.argv[7:13]]
replicas = {"A": {"https": ports[0], "portal": ports[1], "offset": ports[2]},
            "B": {"https": ports[3], "portal": ports[4], "offset": ports[5]}}
accounts = list(reversed(json.load(open(f"{d}/accounts.json"))[int(first_account):]))
client = Client("fault-rp", f"{d}/client.key", "fault-rp-1", "https://rp.fault.invalid/cb")
token_url = f"{issuer}/token"
# Lifetimes as the portal gives them (server/src/portal/listener.rs), and the leeway (CLOCK_LEEWAY_SECS).
CODE, PAR, ACCESS, NONCE, LEEWAY = 60, 60, 300, 600, 60
steps = []


def ahead(user, maker):
    """How far the clock of the replica that uses a thing runs ahead of the one that made it."""
    return replicas[user]["offset"] - replicas[maker]["offset"]


def record(step, way, status, text, required=False, recovery=None):
    """One step: `status` is the HTTP status, "tls" for a refused handshake, or "ok"; `required`: beyond the
    leeway it must be refused; `recovery`: (worked, what) of the retry where the thing was made."""
    entry = {"case": case, "step": step, "way": way, "outcome": "ok" if status == "ok" else "refused",
             "status": status, "detail": " ".join(str(text).split())[:200], "required": required,
             "recovery": recovery}
    steps.append(entry)
    with open(f"{d}/skew.jsonl", "a") as f:
        f.write(json.dumps(entry) + "\n")


def portal(r):
    return Portal(replicas[r]["portal"], issuer)


def long_assertion(audience=token_url):
    """An assertion without iat, expiring in 30 min: accepted by replicas up to 30 min off, so that a step about
    the replicas' clocks is not refused for the client's clock instead."""
    return client.assertion(audience, lifetime=1800, iat=False)


def login(r, account, return_to=None):
    return portal(r).login(account["user"], account["password"], totp(account["secret"]), return_to)


def conn(r):
    return http.client.HTTPSConnection("127.0.0.1", replicas[r]["https"], context=ssl._create_unverified_context(),
                                       timeout=20)


def est(r, cert_pem):
    """simplereenroll at replica r with `cert_pem` (key DIR/pc.key): (200, the new certificate's PEM) or (status
    or "tls", the refusal's text)."""
    with open(f"{d}/skew-client.pem", "wb") as f:
        f.write(cert_pem)
    ctx = ssl._create_unverified_context()
    ctx.load_cert_chain(f"{d}/skew-client.pem", f"{d}/pc.key")
    c = http.client.HTTPSConnection("127.0.0.1", replicas[r]["https"], context=ctx, timeout=20)
    try:
        c.request("POST", "/.well-known/est/pc/simplereenroll", open(f"{d}/pc.csr.b64", "rb").read(),
                  {"Content-Type": "application/pkcs10"})
        resp = c.getresponse()
        body = resp.read()
    except (ssl.SSLError, ConnectionError) as e:  # the handshake refused the certificate
        return "tls", str(e)
    finally:
        c.close()
    if resp.status != 200:
        return resp.status, body.decode(errors="replace")
    return 200, pkcs7.load_der_pkcs7_certificates(base64.b64decode(body))[0].public_bytes(serialization.Encoding.PEM)


acme_key = ec.generate_private_key(ec.SECP256R1())


def acme_nonce(r):
    c = conn(r)
    c.request("HEAD", "/acme/new-nonce", headers={"Host": "localhost"})
    resp = c.getresponse()
    resp.read()
    return resp.getheader("Replay-Nonce")


def acme_probe(r, nonce):
    """newAccount with onlyReturnExisting for a key without an account: accountDoesNotExist once the nonce is
    taken, badNonce if it is not. (taken, status, problem text, Replay-Nonce of the answer)."""
    n = acme_key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}
    header = {"alg": "ES256", "jwk": jwk, "nonce": nonce, "url": "https://localhost/acme/new-account"}
    protected, payload, signature = es256(acme_key, header, {"onlyReturnExisting": True}).split(".")
    c = conn(r)
    c.request("POST", "/acme/new-account", json.dumps({"protected": protected, "payload": payload,
                                                         "signature": signature}),
              {"Host": "localhost", "Content-Type": "application/jose+json"})
    resp = c.getresponse()
    problem = json.loads(resp.read() or b"{}")
    text = f"{problem.get('type', '').rsplit(':', 1)[-1]}: {problem.get('detail', '')}"
    return "accountDoesNotExist" in text, resp.status, text, resp.getheader("Replay-Nonce")


def authorize_with(r, cookie, request_uri):
    return portal(r).authorize(cookie, client, path="/authorize?" + urllib.parse.urlencode(
        {"client_id": client.id, "request_uri": request_uri}))


def run_way(x, y):
    """Things made at x and used at y (and back, where a step has a second hop)."""
    way = f"{x}→{y}"
    # A session from a password + TOTP login at x (the browser's TOTP code follows this machine's clock).
    account = accounts.pop()
    status, cookie, where = login(x, account)
    if cookie:
        record("password + TOTP login", x, "ok", status)
    else:
        retry = login("A", account)
        record("password + TOTP login", x, status, where, recovery=(bool(retry[1]), f"login at A: {retry[0]}"))
        cookie = retry[1]
        if not cookie:
            return
    # /authorize at y with that session: the code is made at y and redeemed at x.
    status, code, verifier, where = portal(y).authorize(cookie, client)
    if code is None:
        record("/authorize with the other replica's session", way, status, where)
        return
    record("/authorize with the other replica's session", way, "ok", status)
    status, answer = portal(x).post_form("/token", client.code_form(code, verifier, long_assertion()))
    required = ahead(x, y) >= CODE + LEEWAY
    tokens, tokens_at = (answer, x) if status == 200 else (None, y)
    if tokens:
        record("code made at one replica, redeemed at the other", f"{y}→{x}", "ok", status, required)
    else:
        retry = portal(y).post_form("/token", client.code_form(code, verifier, long_assertion()))
        record("code made at one replica, redeemed at the other", f"{y}→{x}", status,
               f"{answer.get('error')}: {answer.get('error_description', answer)}", required,
               (retry[0] == 200, f"redeemed at {y}, which made it: {retry[0]}"))
        tokens = retry[1] if retry[0] == 200 else None
    if tokens is None:
        return
    # The access token at the other replica's userinfo; the refresh token rotated there and back.
    other = "B" if tokens_at == "A" else "A"
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    status, _, body = portal(other).request("GET", "/userinfo", headers=bearer)
    if status == 200:
        record("access token at the other replica's userinfo", f"{tokens_at}→{other}", "ok", status,
               ahead(other, tokens_at) >= ACCESS + LEEWAY)
    else:
        retry = portal(tokens_at).request("GET", "/userinfo", headers=bearer)[0]
        record("access token at the other replica's userinfo", f"{tokens_at}→{other}", status, body.decode(),
               ahead(other, tokens_at) >= ACCESS + LEEWAY, (retry == 200, f"at {tokens_at}, which made it: {retry}"))
    status, answer = portal(other).post_form("/token", client.refresh_form(tokens["refresh_token"], long_assertion()))
    if status == 200:
        status, answer = portal(tokens_at).post_form("/token",
                                                     client.refresh_form(answer["refresh_token"], long_assertion()))
    hops = f"{tokens_at}→{other}→{tokens_at}"
    record("refresh token rotated at one replica, then at the other", hops, "ok" if status == 200 else status,
           answer.get("error_description", ""))
    # A pushed authorization request made at x, used at /authorize on y.
    verifier = b64(os.urandom(32))
    status, answer = portal(x).post_form("/par", {
        "response_type": "code", "client_id": client.id, "redirect_uri": client.redirect_uri, "scope": "openid",
        "state": "p", "code_challenge_method": "S256", "code_challenge": b64(hashlib.sha256(verifier.encode()).digest()),
        "client_assertion_type": JWT_BEARER, "client_assertion": long_assertion(f"{issuer}/par")})
    if status != 201:
        record("pushed authorization request used at the other replica", way, status,
               f"PAR at {x}: {answer.get('error_description', answer)}")
    else:
        required = ahead(y, x) >= PAR + LEEWAY
        status, code, _, where = authorize_with(y, cookie, answer["request_uri"])
        if code:
            record("pushed authorization request used at the other replica", way, "ok", status, required)
        else:
            retry = authorize_with(x, cookie, answer["request_uri"])
            record("pushed authorization request used at the other replica", way, status, where, required,
                   (bool(retry[1]), f"used at {x}, which made it: {retry[0]}"))
    # prompt=login: the login page reached from y, the login made at x, back at y must be satisfied (no loop).
    # Beyond the leeway a login made 10 min behind is not "after" the request; the RP sees auth_time anyway.
    if mode == "within":
        status, _, verifier, where = portal(y).authorize(cookie, client, {"prompt": "login"})
        return_to = urllib.parse.parse_qs(urllib.parse.urlsplit(where).query).get("return_to", ["/"])[0]
        st, fresh, back = login(x, accounts.pop(), return_to)
        status, code, _, where = portal(y).authorize(fresh, client, verifier=verifier, path=back)
        record("prompt=login: a login at the other replica satisfies it", way, "ok" if code else status,
               f"login {st}, then {where}")
    # An ACME nonce from x, taken at y.
    taken, status, text, fresh = acme_probe(y, acme_nonce(x))
    if taken:
        record("ACME nonce used at the other replica", way, "ok", status)
    else:
        retry = acme_probe(y, fresh)
        record("ACME nonce used at the other replica", way, status, text, ahead(y, x) >= NONCE,
               (retry[0], f"with the Replay-Nonce of the refusal: nonce taken ({retry[1]} accountDoesNotExist)"
                if retry[0] else f"with the Replay-Nonce of the refusal: {retry[1]} {retry[2][:80]}"))
    # EST: a certificate re-enrolled at x, then presented (mutual TLS) to re-enroll at y.
    base = open(f"{d}/pc.pem", "rb").read()
    status, cert = est(x, base)
    if status != 200:
        retry = est("A", base)[0]
        record("EST: a certificate from one replica re-enrolls at the other", way, status,
               f"at {x}, with the CLI's certificate: {cert}", recovery=(retry == 200, f"at A: {retry}"))
        return
    status, text = est(y, cert)
    if status == 200:
        record("EST: a certificate from one replica re-enrolls at the other", way, "ok", status)
    else:
        retry = est(x, cert)[0]
        record("EST: a certificate from one replica re-enrolls at the other", way, status, text,
               recovery=(retry == 200, f"at {x}, which issued it: {retry}"))


def assertion_probe(r):
    """The client's usual assertion (iat now, exp in 60 s) at replica r, with a code that does not exist: an
    accepted assertion gets invalid_grant, a refused one invalid_client with the clock's reason."""
    status, answer = portal(r).post_form("/token", client.code_form("x.y", "v" * 43, client.assertion(token_url)))
    required = abs(replicas[r]["offset"]) >= 600
    if status == 400 and answer.get("error") == "invalid_grant":
        record("the client's assertion (iat now, exp +60 s)", r, "ok", status, required)
    else:
        record("the client's assertion (iat now, exp +60 s)", r, status,
               f"{answer.get('error')}: {answer.get('error_description', answer)}", required)


for x, y in (("A", "B"), ("B", "A")):
    run_way(x, y)
for r in ("A", "B"):
    assertion_probe(r)

problems = []
for s in steps:
    where = f"{s['step']} ({s['way']})"
    if s["outcome"] == "ok":
        if s["required"] and mode == "beyond":
            problems.append(f"{where}: accepted beyond the leeway")
        continue
    if mode == "within":
        problems.append(f"{where}: refused within the leeway: {s['status']} {s['detail']}")
    clear = s["status"] == "tls" or (isinstance(s["status"], int) and 400 <= s["status"] < 500)
    if not clear or not s["detail"]:
        problems.append(f"{where}: not a clear refusal: {s['status']} {s['detail']}")
    if s["recovery"] and not s["recovery"][0]:
        problems.append(f"{where}: lost, {s['recovery'][1]}")
refused = [s for s in steps if s["outcome"] == "refused"]
recovered = sum(1 for s in refused if s["recovery"] and s["recovery"][0])
lost = sum(1 for s in refused if s["recovery"] and not s["recovery"][0])
kinds = "; ".join(sorted({f"{s['step']} ({s['way']}): {s['status']}" for s in refused})) or "—"
print(f"| skew {case} | {backend} | cross-replica steps | {len(steps)} | {len(steps) - len(refused)} | "
      f"{len(refused)} | {recovered} | {lost} | — | — | — | {lost} | {kinds} |")
if problems:
    sys.exit(f"skew {case}: " + "; ".join(problems))
