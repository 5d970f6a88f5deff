#!/usr/bin/env python3
"""A second, independent WebAuthn client for tests/integration/passkey.rs (issue #48 item 1, D157): python-fido2
(Yubico, PyPI `fido2`, installed by scripts/deps) reads the portal's options (`from_dict`, as a browser would)
and encodes the client data, authenticator data and attestation object; the key is a software P-256 key of
`cryptography`. It speaks to the real portal over HTTPS like a browser (cookies, CSRF fields, Origin), and
besides the good ceremonies it sends the attacks a test must see refused.

    passkey_client.py ISSUER CA_FILE USER PASSWORD TOTP [OTHER_USER OTHER_PASSWORD OTHER_TOTP]
    passkey_client.py rule-before ISSUER CA_FILE USER PASSWORD TOTP STATE_FILE
    passkey_client.py rule-after ISSUER CA_FILE USER PASSWORD TOTP STATE_FILE AAGUID

The `rule-` pair checks a facility's rule on passkeys (D170) around the test setting it to `models AAGUID`:
before, a synced passkey (attestation none) registers and signs in, and is kept in STATE_FILE; after, it is
refused at sign-in, as are registrations with no statement, a self-signed (self attestation) statement, and a
certificate vouching for another model, while a hardware key of the listed model (packed, x5c) registers and
signs in.

Prints one JSON object: each step's HTTP status, where it went, and the refusal text the page showed.
"""

import hashlib
import html
import json
import os
import re
import sys

import datetime
import uuid

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
)

FLAG = AuthenticatorData.FLAG


class Authenticator:
    """One discoverable credential held in software: the part of a platform authenticator the portal sees."""

    def __init__(self, aaguid=bytes(16), attestation="none", vouched=None):
        """attestation: none, self (packed, signed by the credential key) or x5c (packed, signed by an
        attestation certificate's key; the certificate vouches for `vouched`, by default `aaguid`)."""
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0
        self.user_handle = None
        self.aaguid = aaguid
        self.attestation = attestation
        self.vouched = aaguid if vouched is None else vouched

    def statement(self, signed):
        if self.attestation == "none":
            return "none", {}
        if self.attestation == "self":
            return "packed", {"alg": -7, "sig": self.key.sign(signed, ec.ECDSA(hashes.SHA256()))}
        # A maker's attestation certificate (WebAuthn §8.2.1): OU "Authenticator Attestation", not a CA, and the
        # model it vouches for in id-fido-gen-ce-aaguid (an OCTET STRING inside the extension's OCTET STRING).
        att_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Key Maker"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Test Key Attestation"),
        ])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(att_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4"), b"\x04\x10" + self.vouched),
                critical=False,
            )
            .sign(att_key, hashes.SHA256())
        )
        der = cert.public_bytes(serialization.Encoding.DER)
        return "packed", {"alg": -7, "sig": att_key.sign(signed, ec.ECDSA(hashes.SHA256())), "x5c": [der]}

    def make(self, options, origin):
        self.user_handle = options.user.id
        client = CollectedClientData.create("webauthn.create", options.challenge, origin)
        attested = AttestedCredentialData.create(self.aaguid, self.credential_id, ES256.from_cryptography_key(self.key.public_key()))
        data = AuthenticatorData.create(
            hashlib.sha256(options.rp.id.encode()).digest(), FLAG.UP | FLAG.UV | FLAG.AT, self.counter, attested
        )
        fmt, statement = self.statement(bytes(data) + client.hash)
        obj = AttestationObject.create(fmt, data, statement)
        return {
            "id": websafe_encode(self.credential_id),
            "clientDataJSON": websafe_encode(bytes(client)),
            "attestationObject": websafe_encode(bytes(obj)),
            "transports": "internal",
        }

    def save(self, path):
        with open(path, "w") as f:
            json.dump({
                "key": self.key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ).decode(),
                "credential_id": websafe_encode(self.credential_id),
                "counter": self.counter,
                "user_handle": websafe_encode(self.user_handle),
            }, f)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            saved = json.load(f)
        authenticator = cls()
        authenticator.key = serialization.load_pem_private_key(saved["key"].encode(), None)
        authenticator.credential_id = websafe_decode(saved["credential_id"])
        authenticator.counter = saved["counter"]
        authenticator.user_handle = websafe_decode(saved["user_handle"])
        return authenticator

    def get(self, options, origin, rp_id=None, flags=FLAG.UP | FLAG.UV, count=True, credential_id=None):
        if count:
            self.counter += 1
        client = CollectedClientData.create("webauthn.get", options.challenge, origin)
        data = AuthenticatorData.create(hashlib.sha256((rp_id or options.rp_id).encode()).digest(), flags, self.counter)
        signature = self.key.sign(bytes(data) + client.hash, ec.ECDSA(hashes.SHA256()))
        return {
            "id": websafe_encode(credential_id or self.credential_id),
            "clientDataJSON": websafe_encode(bytes(client)),
            "authenticatorData": websafe_encode(bytes(data)),
            "signature": websafe_encode(signature),
            "userHandle": websafe_encode(self.user_handle),
        }


class Browser:
    def __init__(self, issuer, ca):
        self.issuer = issuer
        self.http = requests.Session()
        self.http.verify = ca
        # The facility PC's certificate and key ("CERT,KEY"), when the test signs in at a facility PC.
        if os.environ.get("PASSKEY_CLIENT_CERT"):
            self.http.cert = tuple(os.environ["PASSKEY_CLIENT_CERT"].split(",", 1))
        # What a browser sends with every form post of the portal's own pages (the portal's csrf_guard checks it).
        self.http.headers.update({"Origin": issuer, "Sec-Fetch-Site": "same-origin"})

    def get(self, path):
        return self.http.get(self.issuer + path, allow_redirects=False)

    def post(self, path, data):
        return self.http.post(self.issuer + path, data=data, allow_redirects=False)

    def sign_in_with_password(self, user, password, totp):
        self.get("/login")
        r = self.post("/login", {"username": user, "password": password, "totp": totp, "return_to": "/"})
        assert r.status_code == 303, (r.status_code, r.text[:300])

    def session_csrf(self):
        page = self.get("/passkeys").text
        return re.search(r'data-csrf="([^"]+)"', page).group(1)

    def login_csrf(self):
        page = self.get("/login").text
        return re.search(r'id="passkey-login".*?name="csrf" value="([^"]+)"', page, re.S).group(1)


def outcome(r):
    """A step's answer: status, redirect, and the refusal's text (the page's alert box)."""
    alert = re.search(r'role="alert"[^>]*>\s*<p>(.*?)</p>', r.text, re.S)
    return {
        "status": r.status_code,
        "location": r.headers.get("location"),
        "refusal": html.unescape(alert.group(1)) if alert else None,
    }


def register(browser, authenticator):
    csrf = browser.session_csrf()
    r = browser.post("/passkeys/options", {"csrf": csrf})
    assert r.status_code == 200, (r.status_code, r.text)
    options = PublicKeyCredentialCreationOptions.from_dict(r.json())
    answer = authenticator.make(options, browser.issuer)
    form = {"csrf": csrf, "name": "python-fido2", **answer}
    return outcome(browser.post("/passkeys/register", form)), form


def request_options(browser):
    csrf = browser.login_csrf()
    r = browser.post("/login/passkey/options", {"csrf": csrf})
    assert r.status_code == 200, (r.status_code, r.text)
    return csrf, PublicKeyCredentialRequestOptions.from_dict(r.json())


def sign_in(browser, authenticator, **kwargs):
    csrf, options = request_options(browser)
    answer = authenticator.get(options, kwargs.pop("origin", browser.issuer), **kwargs)
    form = {"csrf": csrf, "return_to": "/", **answer}
    return outcome(browser.post("/login/passkey", form)), form


def rule_before(issuer, ca, user, password, totp, state):
    synced = Authenticator()
    staff = Browser(issuer, ca)
    staff.sign_in_with_password(user, password, totp)
    out = {}
    out["synced_register"], _ = register(staff, synced)
    out["synced_sign_in"], _ = sign_in(Browser(issuer, ca), synced)
    synced.save(state)
    return out


def rule_after(issuer, ca, user, password, totp, state, aaguid):
    model = uuid.UUID(aaguid).bytes
    out = {}
    out["synced_sign_in"], _ = sign_in(Browser(issuer, ca), Authenticator.load(state))
    staff = Browser(issuer, ca)
    staff.sign_in_with_password(user, password, totp)
    for name, authenticator in [
        ("none", Authenticator(aaguid=model)),
        ("self", Authenticator(aaguid=model, attestation="self")),
        ("other_model", Authenticator(aaguid=uuid.uuid4().bytes, attestation="x5c")),
        ("claimed_model", Authenticator(aaguid=model, attestation="x5c", vouched=uuid.uuid4().bytes)),
    ]:
        out["register_" + name], _ = register(staff, authenticator)
    hardware = Authenticator(aaguid=model, attestation="x5c")
    out["register_hardware"], _ = register(staff, hardware)
    out["hardware_sign_in"], _ = sign_in(Browser(issuer, ca), hardware)
    return out


def main():
    if sys.argv[1] in ("rule-before", "rule-after"):
        os.environ["REQUESTS_CA_BUNDLE"] = sys.argv[3]
        step = rule_before if sys.argv[1] == "rule-before" else rule_after
        print(json.dumps(step(*sys.argv[2:]), ensure_ascii=False))
        return
    issuer, ca, user, password, totp = sys.argv[1:6]
    # requests lets these environment variables override a Session's own CA setting; pin ours.
    os.environ["REQUESTS_CA_BUNDLE"] = ca
    other = sys.argv[6:9]
    out = {}
    alice = Authenticator()
    staff = Browser(issuer, ca)
    staff.sign_in_with_password(user, password, totp)
    out["register"], form = register(staff, alice)
    # The same registration posted again: its challenge was used.
    out["register_replayed"] = outcome(staff.post("/passkeys/register", form))

    # A fresh browser signs in with the passkey.
    fresh = Browser(issuer, ca)
    out["sign_in"], used = sign_in(fresh, alice)
    home = fresh.get("/")
    out["home_status"] = home.status_code
    out["home_says_passkey"] = "パスキー" in home.text
    # The same assertion again, captured and posted from an attacker's browser with its own login page: the
    # challenge was taken (and was this browser's anyway).
    attacker = Browser(issuer, ca)
    out["replayed"] = outcome(attacker.post("/login/passkey", {**used, "csrf": attacker.login_csrf()}))
    # One challenge answered twice in one browser: a refused answer (no user verification) spends it too.
    again = Browser(issuer, ca)
    csrf, options = request_options(again)
    first = alice.get(options, issuer, flags=FLAG.UP)
    again.post("/login/passkey", {"csrf": csrf, "return_to": "/", **first})
    second = alice.get(options, issuer)
    out["challenge_reused"] = outcome(again.post("/login/passkey", {"csrf": csrf, "return_to": "/", **second}))
    # A new challenge answered with the counter of the last accepted sign-in (1), not above it: a cloned
    # authenticator (the refused answers above never reached the stored counter).
    alice.counter = 1
    out["cloned"], _ = sign_in(Browser(issuer, ca), alice, count=False)
    alice.counter = 10
    out["wrong_rp_id"], _ = sign_in(Browser(issuer, ca), alice, rp_id="evil.example")
    out["wrong_origin"], _ = sign_in(Browser(issuer, ca), alice, origin="https://evil.example")
    out["no_user_verification"], _ = sign_in(Browser(issuer, ca), alice, flags=FLAG.UP)

    if other:
        bob = Authenticator()
        theirs = Browser(issuer, ca)
        theirs.sign_in_with_password(*other)
        out["other_register"], _ = register(theirs, bob)
        # Alice's key, signing for Bob's credential id (with Alice's user handle): refused.
        out["other_credential"], _ = sign_in(Browser(issuer, ca), alice, credential_id=bob.credential_id)
        # Alice's account page cannot revoke or rename Bob's passkey.
        csrf = staff.session_csrf()
        bobs = websafe_encode(bob.credential_id)
        out["revoke_other"] = outcome(staff.post("/passkeys/revoke", {"csrf": csrf, "id": bobs}))
        out["rename_other"] = outcome(staff.post("/passkeys/rename", {"csrf": csrf, "id": bobs, "name": "mine"}))
        out["bob_credential"] = bobs

    # Alice revokes her passkey from the account page; it signs in no more.
    csrf = staff.session_csrf()
    out["revoke"] = outcome(staff.post("/passkeys/revoke", {"csrf": csrf, "id": websafe_encode(alice.credential_id)}))
    out["after_revoke"], _ = sign_in(Browser(issuer, ca), alice)
    out["fresh_session_after_revoke"] = fresh.get("/").status_code
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
