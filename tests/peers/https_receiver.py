#!/usr/bin/env python3
"""A one-shot HTTPS receiver for back-channel logout tests: Python's http.server wrapped in ssl.

    https_receiver.py --cert PEM --key PEM --out FILE

Listens on 127.0.0.1 (a free port, printed as the first line of standard output), answers the first POST
with 200, writes its body to FILE (atomically) and exits. Handshakes that fail (a client refusing the
certificate) are ignored; the receiver keeps waiting. TLS 1.2 and newer only.
"""
import argparse, http.server, os, ssl, sys


def main():
    p = argparse.ArgumentParser()
    for a in ["cert", "key", "out"]:
        p.add_argument("--" + a, required=True)
    a = p.parse_args()
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            tmp = a.out + ".tmp"
            with open(tmp, "wb") as f:
                f.write(body)
            os.rename(tmp, a.out)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            received.append(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(a.cert, a.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    while not received:
        server.handle_request()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
