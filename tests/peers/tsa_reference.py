#!/usr/bin/env python3
"""A reference RFC 3161 TSA nobody in this project wrote: `openssl ts -reply`, one process per request, behind
Python's http.server.

    tsa_reference.py --dir DIR [--key p256|rsa2048] [--policy OID]

Makes its own PKI in DIR (OpenSSL only): `root.pem` (self-signed CA) and `tsa.pem` (critical EKU timeStamping,
issued by the root), then listens on 127.0.0.1 (a free port, printed as the first line of standard output) and
answers every `POST` of a DER TimeStampReq with what `openssl ts -reply` makes of it (HTTP 200,
`application/timestamp-reply`; HTTP 500 with OpenSSL's message when it makes nothing). Threads answer requests
side by side; each request has its own serial file, so parallel answers do not race on one. OpenSSL's defaults
are kept (ESS signingCertificate with SHA-1, no fractions of seconds), as a plain `openssl ts` TSA answers.

The path of the URL chooses the answer, so one server plays every TSA a test needs (issue #42):
  /chain     `openssl ts -reply -chain root.pem`: the token carries the TSA certificate, then its root, in
             that order, which is not DER's (the TSA certificate is the longer, and DER sorts a SET OF by
             encoding): a BER token every RFC 3161 client must take
  /imprint   the answer to the request with its messageImprint changed (the TSA stamped something else)
  /policy    stamped under another policy (1.3.6.1.4.1.99999.3161.8) than --policy, whatever policy was asked
  /unsigned  granted, but no token at all
  /forged    the answer with the last octet of the token's signature changed
  any other  the plain answer
Used by tests/integration/tsa.rs (our client accepts its tokens, and refuses the faulty ones), signature_renew.rs
and signature_verify.rs (signatures time-stamped through /chain), and scripts/bench-tsa (the reference rate).
"""
import argparse, http.server, os, secrets, subprocess, sys, tempfile

CONFIG = """[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
serial = $ENV::TSA_SERIAL
crypto_device = builtin
signer_cert = {dir}/tsa.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = {policy}
other_policies = 1.3.6.1.4.1.99999.3161.8
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
"""


# The policy /policy stamps under.
OTHER_POLICY = "1.3.6.1.4.1.99999.3161.8"


def without_policy(query):
    """The DER TimeStampReq `query` without its reqPolicy (the one OBJECT IDENTIFIER among its fields)."""
    first = query[1]
    start = 2 if first < 0x80 else 2 + (first & 0x7F)
    fields, at = [], start
    while at < len(query):
        length, header = query[at + 1], 2
        if length >= 0x80:
            header = 2 + (length & 0x7F)
            length = int.from_bytes(query[at + 2:at + header], "big")
        fields.append(query[at:at + header + length])
        at += header + length
    body = b"".join(f for f in fields if f[0] != 0x06)
    return bytes([0x30]) + (bytes([len(body)]) if len(body) < 0x80 else bytes([0x81, len(body)])) + body


def run(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_pki(d, key):
    if os.path.exists(f"{d}/tsa.pem"):
        return
    new_key = (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "p256"
               else ["-newkey", "rsa:2048"])
    run("req", "-x509", *new_key, "-nodes", "-keyout", "root.key", "-subj", "/CN=Reference TSA Root (openssl)",
        "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "root.pem", cwd=d)
    run("req", "-new", *new_key, "-nodes", "-keyout", "tsa.key", "-subj", "/CN=Reference TSA (openssl ts)",
        "-out", "tsa.csr", cwd=d)
    with open(f"{d}/tsa.ext", "w") as f:
        # Key identifiers and a policy make the TSA certificate longer than its root, so that /chain's order
        # (TSA certificate first) is not DER's.
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid\ncertificatePolicies=1.3.6.1.4.1.99999.3161.7\n")
    run("x509", "-req", "-in", "tsa.csr", "-CA", "root.pem", "-CAkey", "root.key", "-days", "30",
        "-set_serial", "0x" + secrets.token_hex(15), "-extfile", "tsa.ext", "-out", "tsa.pem", cwd=d)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--key", choices=["p256", "rsa2048"], default="p256")
    p.add_argument("--policy", default="1.3.6.1.4.1.99999.3161.7")
    a = p.parse_args()
    d = os.path.abspath(a.dir)
    os.makedirs(d, exist_ok=True)
    make_pki(d, a.key)
    config = f"{d}/openssl-ts.cnf"
    with open(config, "w") as f:
        f.write(CONFIG.format(dir=d, policy=a.policy))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            fault = self.path.rstrip("/").rsplit("/", 1)[-1]
            if fault == "unsigned":
                # TimeStampResp { PKIStatusInfo { granted } } and nothing else.
                self.answer(200, "application/timestamp-reply", bytes.fromhex("30053003020100"))
                return
            if fault == "policy":
                query = without_policy(query)
            if fault == "imprint":
                # The first OCTET STRING of 32 octets is the request's SHA-256 messageImprint.
                at = query.find(b"\x04\x20") + 2
                query = query[:at] + bytes(b ^ 0xFF for b in query[at:at + 32]) + query[at + 32:]
            extra = {"chain": ["-chain", f"{d}/root.pem"], "policy": ["-tspolicy", OTHER_POLICY]}.get(fault, [])
            with tempfile.TemporaryDirectory(dir=d) as t:
                with open(f"{t}/q.tsq", "wb") as f:
                    f.write(query)
                with open(f"{t}/serial", "w") as f:
                    f.write(secrets.token_hex(8) + "\n")
                done = subprocess.run(
                    ["openssl", "ts", "-reply", "-config", config, "-queryfile", f"{t}/q.tsq", "-out", f"{t}/r.tsr",
                     *extra],
                    env={**os.environ, "TSA_SERIAL": f"{t}/serial"}, capture_output=True)
                if done.returncode != 0 or not os.path.exists(f"{t}/r.tsr"):
                    self.answer(500, "text/plain", done.stderr or b"openssl ts -reply failed\n")
                    return
                with open(f"{t}/r.tsr", "rb") as f:
                    reply = f.read()
                if fault == "forged":
                    reply = reply[:-1] + bytes([reply[-1] ^ 0x01])
                self.answer(200, "application/timestamp-reply", reply)

        def answer(self, status, media, body):
            try:
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client left (wrk drops its connections when its time is up)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
