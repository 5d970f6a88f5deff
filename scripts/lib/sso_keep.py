#!/usr/bin/env python3
"""What an upgrade must keep of the SSO (scripts/rolling-upgrade): a portal session and a refresh token made
before it still work after it.

    sso_keep.py before DIR PORTAL-PORT ISSUER USER PASSWORD TOTP-SECRET   # writes DIR/kept.json
    sso_keep.py after DIR PORTAL-PORT ISSUER                               # prints one line; exit 1 if lost

`before` logs in, has the private_key_jwt client DIR/client.key ("fault-rp", sso.sh's sso_client_add) redeem a
code, and keeps the session cookie and the refresh token. `after` uses the cookie for a new /authorize + /token
(the session is still known and valid) and redeems the refresh token (the grant and its token survived).
"""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sso import Client, Portal, totp  # noqa: E402


def exchange(portal, client, cookie, issuer):
    status, code, verifier, where = portal.authorize(cookie, client)
    if code is None:
        return None, f"/authorize answered {status}: {where[:200]}"
    status, answer = portal.post_form("/token", client.code_form(code, verifier, client.assertion(f"{issuer}/token")))
    if status != 200:
        return None, f"/token answered {status}: {json.dumps(answer)[:200]}"
    return answer, None


def main(argv):
    what, d, port, issuer = argv[:4]
    portal = Portal(port, issuer)
    client = Client("fault-rp", f"{d}/client.key", "fault-rp-1", "https://rp.fault.invalid/cb")
    if what == "before":
        user, password, secret = argv[4:7]
        status, cookie, body = portal.login(user, password, totp(secret))
        if not cookie:
            sys.exit(f"login answered {status}: {body[:200]}")
        answer, why = exchange(portal, client, cookie, issuer)
        if answer is None or "refresh_token" not in answer:
            sys.exit(why or f"no refresh token in {sorted(answer)}")
        json.dump({"cookie": cookie, "refresh_token": answer["refresh_token"]}, open(f"{d}/kept.json", "w"))
        return
    kept = json.load(open(f"{d}/kept.json"))
    answer, session_lost = exchange(portal, client, kept["cookie"], issuer)
    status, refreshed = portal.post_form(
        "/token", client.refresh_form(kept["refresh_token"], client.assertion(f"{issuer}/token")))
    refresh_lost = None if status == 200 and "access_token" in refreshed else f"{status}: {json.dumps(refreshed)[:200]}"
    print(f"session kept: {'yes' if session_lost is None else 'NO (' + session_lost + ')'}; "
          f"refresh token kept: {'yes' if refresh_lost is None else 'NO (' + refresh_lost + ')'}")
    if session_lost or refresh_lost:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
