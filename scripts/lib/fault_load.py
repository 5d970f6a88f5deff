#!/usr/bin/env python3
"""The concurrent load of scripts/fault, until DIR/stop exists.

    fault_load.py URL DIR CLIENTS PORTAL-PORT ISSUER

* CLIENTS threads of EST re-enrollment (mutual TLS with DIR/pc.pem, keep-alive) at URL;
* CLIENTS threads of SSO: password + TOTP logins through the portal (the accounts of DIR/accounts.json, each
  login on a TOTP step of its own: an account's step is spent once, by design) and, between logins (one per
  LOGIN_EVERY exchanges, while an account has a step left), /authorize + /token code exchanges of the
  private_key_jwt client DIR/client.key on the sessions so far.

Every outcome is written down, success or not: DIR/load.json (EST: time, status or "error", serial or text) and
DIR/sso.json (time, kind, status or "error", what it gave: the session cookie's SHA-256, the code's grant, the
access token's gid), and DIR/est-times.json (each EST request's start and end, whatever its outcome: what a
request in flight at a fault waited, D142). A request the fault cut short is never retried as such: a client whose answer was lost
starts over (a new login, a new authorization), as a browser or a relying party would.
"""
import base64, hashlib, http.client, json, os, random, ssl, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cryptography.hazmat.primitives.serialization import pkcs7  # noqa: E402
from sso import Client, Portal, claims, totp  # noqa: E402

url, d, clients, portal_port, issuer = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
lock = threading.Lock()
est_results = []  # (t, status or "error", serial or text)
sso_results = []  # (t, kind, status or "error", detail)
est_times = []  # (start, end)


def stopped():
    return os.path.exists(f"{d}/stop")


def est_client():
    host, port = url.removeprefix("https://").split(":")
    csr = open(f"{d}/pc.csr.b64", "rb").read()
    ctx = ssl.create_default_context(cafile=f"{d}/server-chain.pem")
    ctx.load_cert_chain(f"{d}/pc.pem", f"{d}/pc.key")
    conn = None
    while not stopped():
        start = time.time()
        try:
            if conn is None:
                # Longer than the server's per-request deadline (20 s, D142): what the server answers a request
                # in flight at a fault is measured, not this client's patience.
                conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=40)
            conn.request("POST", "/.well-known/est/pc/simplereenroll", csr, {"Content-Type": "application/pkcs10"})
            r = conn.getresponse()
            body = r.read()
            if r.status == 200:
                certs = pkcs7.load_der_pkcs7_certificates(base64.b64decode(body))
                outcome = (time.time(), 200, format(certs[0].serial_number, "x"))
                succeeded("est")
            else:
                outcome = (time.time(), r.status, body.decode(errors="replace").strip()[:200])
        except Exception as e:  # the server was killed mid-request: the answer is lost, not the certificate
            conn = None
            outcome = (time.time(), "error", type(e).__name__)
            time.sleep(0.05)
        with lock:
            est_results.append(outcome)
            est_times.append((start, time.time()))


accounts = json.load(open(f"{d}/accounts.json"))  # [{"user", "password", "secret"}]
last_step = {a["user"]: 0 for a in accounts}
signing_in = set()  # accounts with a login in flight
sessions = []  # cookies of logins that succeeded


def take_login():
    """An account with no login in flight and a TOTP step it has not spent, marked spent now: whatever the
    answer, that code is not presented again. The next step first: the server accepts a code one step either
    side of its own, so a login that waits in a queue (a database outage) still has a minute. One login per
    account at a time: two in flight could finish in the wrong order, and the earlier code is then refused as
    used (the server's replay rule, not a fault)."""
    step = int(time.time()) // 30
    with lock:
        for a in random.sample(accounts, len(accounts)):
            if a["user"] in signing_in:
                continue
            for s in (step + 1, step):
                if s > last_step[a["user"]]:
                    last_step[a["user"]] = s
                    signing_in.add(a["user"])
                    return a, s
    return None, None


# A thread logs in again after this many code exchanges (when an account has a TOTP step left): a login costs
# the server an argon2 hash, an exchange a few database writes, and both kinds should reach every fault.
LOGIN_EVERY = 4


# The script touches DIR/faulted after its last fault; once each load has this many successes after it, this
# touches DIR/recovered, which the script waits for before it stops the load.
RECOVERED = 3
recovered = {"est": 0, "sso": 0}


def succeeded(load):
    if os.path.exists(f"{d}/faulted"):
        with lock:
            recovered[load] += 1
            if min(recovered.values()) >= RECOVERED and not os.path.exists(f"{d}/recovered"):
                open(f"{d}/recovered", "w").close()


def sso_record(kind, status, detail):
    with lock:
        sso_results.append((time.time(), kind, status, detail))
    if (kind == "login" and "session" in detail) or (kind == "authorize" and "grant" in detail) or (
            kind == "token" and status == 200):
        succeeded("sso")


def sso_client():
    portal = Portal(portal_port, issuer)
    client = Client("fault-rp", f"{d}/client.key", "fault-rp-1", "https://rp.fault.invalid/cb")
    exchanges = LOGIN_EVERY  # since this thread's last login: the first request is a login
    while not stopped():
        account, step = take_login() if exchanges >= LOGIN_EVERY or not sessions else (None, None)
        doing = "login"
        try:
            if account is not None:
                exchanges = 0
                code = totp(account["secret"], step * 30)
                status, cookie, body = portal.login(account["user"], account["password"], code)
                detail = {"user": account["user"]}
                if cookie:
                    detail["session"] = hashlib.sha256(cookie.encode()).hexdigest()
                    with lock:
                        sessions.append(cookie)
                else:
                    detail["text"] = body[:200]
                sso_record("login", status, detail)
                with lock:
                    signing_in.discard(account["user"])
                continue
            with lock:
                cookie = random.choice(sessions) if sessions else None
            if cookie is None:
                time.sleep(0.1)
                continue
            exchanges += 1
            doing = "authorize"
            status, code, verifier, where = portal.authorize(cookie, client)
            if code is None:
                sso_record("authorize", status, {"text": where[:200]})
                continue
            grant = code.split(".", 1)[0]
            sso_record("authorize", status, {"grant": grant})
            doing = "token"
            form = client.code_form(code, verifier, client.assertion(f"{issuer}/token"))
            status, answer = portal.post_form("/token", form)
            if status == 200 and "access_token" in answer:
                sso_record("token", status, {"grant": grant, "gid": claims(answer["access_token"]).get("gid")})
            else:
                text = answer.get("error_description", json.dumps(answer))
                sso_record("token", status, {"grant": grant, "text": text[:200]})
        except Exception as e:  # cut by the fault: the client starts over
            sso_record(doing, "error", {"error": type(e).__name__})
            if account is not None:
                with lock:
                    signing_in.discard(account["user"])
            time.sleep(0.05)


threads = [threading.Thread(target=est_client) for _ in range(clients)]
threads += [threading.Thread(target=sso_client) for _ in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
json.dump(est_results, open(f"{d}/load.json", "w"))
json.dump(sso_results, open(f"{d}/sso.json", "w"))
json.dump(est_times, open(f"{d}/est-times.json", "w"))
