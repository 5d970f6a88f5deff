#!/usr/bin/env python3
"""The HAProxy `tcp-check` lines that pass only on a PostgreSQL primary (docs/deployment.md "PostgreSQL HA").

    haproxy_pg_check.py [USER [DATABASE]]      # defaults: app postgres

HAProxy speaks PostgreSQL's protocol itself (no forked process per check, so a check takes milliseconds even on a
busy machine): it sends a StartupMessage for USER and DATABASE, the simple Query `SELECT pg_is_in_recovery()` and
Terminate, and expects the DataRow holding `f`. A standby answers `t`, a stopped server refuses the connection:
both fail the check, so `balance first` over every server sends all connections to the one primary. It needs a
server that lets USER in without a password from the proxy's address (`trust` in pg_hba.conf, as the throwaway
clusters of scripts/pg-instance do, or a dedicated check role limited to that address); with password
authentication use the HA tool's own endpoint instead (Patroni's REST API: `option httpchk GET /primary`).
Protocol: https://www.postgresql.org/docs/current/protocol-message-formats.html
"""
import struct
import sys

user = sys.argv[1] if len(sys.argv) > 1 else "app"
database = sys.argv[2] if len(sys.argv) > 2 else "postgres"
if len(sys.argv) > 3 or "\0" in user + database:
    sys.exit("usage: haproxy_pg_check.py [USER [DATABASE]]")

params = b"".join(k + b"\0" + v.encode() + b"\0" for k, v in
                  ((b"user", user), (b"database", database), (b"application_name", "haproxy-check"))) + b"\0"
startup = struct.pack("!ii", 8 + len(params), 3 << 16) + params  # length, protocol 3.0
query = b"SELECT pg_is_in_recovery()\0"
messages = startup + b"Q" + struct.pack("!i", 4 + len(query)) + query + b"X" + struct.pack("!i", 4)
# DataRow: length 11, one column, 1 byte, "f".
primary_row = b"D" + struct.pack("!ihi", 11, 1, 1) + b"f"
print("option tcp-check")
print("tcp-check connect")
print(f"tcp-check send-binary {messages.hex()}")
print(f"tcp-check expect binary {primary_row.hex()}")
