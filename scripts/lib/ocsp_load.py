#!/usr/bin/env python3
"""OCSP load for scripts/rolling-upgrade, until DIR/stop exists.

    ocsp_load.py HOST:PORT PATH DIR CLIENTS

CLIENTS threads POST the DER request DIR/ocsp.req to http://HOST:PORT/PATH over keep-alive connections and write
every outcome to DIR/ocsp.json: (time, status or "error", "good"/"revoked"/"unknown"/the error's name). Each answer's
responseStatus is checked (successful); the point is whether the responder answered, not what it signed.
"""
import http.client, json, os, sys, threading, time

hostport, path, d, clients = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
host, port = hostport.split(":")
request = open(f"{d}/ocsp.req", "rb").read()
lock = threading.Lock()
results = []


def client():
    conn = None
    while not os.path.exists(f"{d}/stop"):
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, int(port), timeout=20)
            conn.request("POST", path, request, {"Content-Type": "application/ocsp-request"})
            r = conn.getresponse()
            body = r.read()
            # OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED (0 = successful), … } (RFC 6960 §4.2.1).
            ok = r.status == 200 and body[:1] == b"\x30" and b"\x0a\x01\x00" in body[:8]
            outcome = (time.time(), r.status if ok or r.status != 200 else "bad", "ok" if ok else body[:80].hex())
        except Exception as e:
            conn = None
            outcome = (time.time(), "error", type(e).__name__)
            time.sleep(0.05)
        with lock:
            results.append(outcome)


threads = [threading.Thread(target=client) for _ in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
json.dump(results, open(f"{d}/ocsp.json", "w"))
