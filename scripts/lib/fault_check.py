#!/usr/bin/env python3
"""The checks of scripts/fault after a load scenario, on the database as the faults left it.

    fault_check.py DIR NAME BACKEND DATABASE CHURN-FACILITY LAST-FAULT-TIME

DIR holds what the load and the CLI wrote: load.json and sso.json (fault_load.py), certs.jsonl (`hcpki cert
list --json`), audit.jsonl (`hcpki audit list`), churn.json (`hcpki facility show --json`), faults.jsonl (the
script: per round the fault's time and, where something cleared it, the time it was cleared); DATABASE is the
SQLite file or the PostgreSQL URL, read here for the SSO tables (sessions, grants), which the CLI does not list.
Prints two Markdown rows (EST, SSO) and exits non-zero on any loss or inconsistency.

RTO, per load and round: a round's outage ends at the first success after the last failure of that load
between this fault and the next (or the end of the run); the RTO from the fault is that moment minus the
fault's time (0 when the round failed nothing of that load), the RTO from the clearing that moment minus the
time the fault was cleared (an operator's or service manager's action: the server restarted, PostgreSQL
started, the filler deleted, the network restored …; 0 when service came back before). The row shows the
largest over the rounds. RPO: acknowledged writes lost (certificates, sessions, grants answered as done and
missing afterwards), the "lost" count; the goal is 0 and the script fails otherwise.
"""
import csv, io, json, sqlite3, subprocess, sys

d, name, backend, database, churn, last_fault = sys.argv[1:7]
last_fault = float(last_fault)
problems = []


def jsonl(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def query(sql):
    """Rows of `sql` as tuples of text, from either database."""
    if database.startswith("postgres"):
        out = subprocess.run(["psql", database, "-X", "-q", "--csv", "-c", sql], check=True, capture_output=True,
                             text=True).stdout
        return [tuple(r) for r in list(csv.reader(io.StringIO(out)))[1:]]
    db = sqlite3.connect(database)
    try:
        return [tuple("" if v is None else str(v) for v in r) for r in db.execute(sql)]
    finally:
        db.close()


def failures(outcomes):
    """"failures by kind" text: status and the first words of the answer."""
    codes = {}
    for status, detail in outcomes:
        key = f"{status} {detail[:60]}".strip()
        codes[key] = codes.get(key, 0) + 1
    return "; ".join(f"{k}: {v}" for k, v in sorted(codes.items())) or "—"


faults = jsonl(f"{d}/faults.jsonl")


def rto(outcomes):
    """(RTO from the fault, RTO from the clearing) in seconds, the largest over the rounds, as text; outcomes
    are (time, succeeded) of one load."""
    outcomes = sorted(outcomes)
    from_fault, from_clear = 0.0, 0.0
    for i, f in enumerate(faults):
        end = faults[i + 1]["start"] if i + 1 < len(faults) else float("inf")
        window = [(t, ok) for t, ok in outcomes if f["start"] <= t < end]
        failed = [t for t, ok in window if not ok]
        if not failed:
            continue
        back = next((t for t, ok in outcomes if ok and t > failed[-1]), None)
        if back is None:
            return "never", "never"
        from_fault = max(from_fault, back - f["start"])
        if f.get("cleared"):
            from_clear = max(from_clear, back - f["cleared"])
    return f"{from_fault:.1f}", f"{from_clear:.1f}" if any(f.get("cleared") for f in faults) else "—"


def row(load, sent, ok, failed, recovered, lost, left, kinds, outcomes):
    after_fault, after_clear = rto(outcomes)
    print(f"| {name} | {backend} | {load} | {sent} | {ok} | {failed} | {recovered} | {lost} | {left} | "
          f"{after_fault} | {after_clear} | {lost} | {kinds} |")


# ---- EST: certificates ----
load = json.load(open(f"{d}/load.json"))
certs = jsonl(f"{d}/certs.jsonl")
audit = jsonl(f"{d}/audit.jsonl")
by_serial = {}
for c in certs:
    by_serial.setdefault(int(c["serial"], 16), []).append(c)
received = [int(s, 16) for _, status, s in load if status == 200]
if len(set(received)) != len(received):
    problems.append(f"{len(received) - len(set(received))} serials handed out twice")
lost = [s for s in received if not any(c["status"] in ("issued", "revoked") for c in by_serial.get(s, []))]
if lost:
    problems.append(f"{len(lost)} certificates answered 200 but not in the registry: {[f'{s:x}' for s in lost[:3]]}")
if any(len(cs) > 1 for cs in by_serial.values()):
    problems.append("serials on several registry rows")
issue_ok = {}
for e in audit:
    if e["action"] == "cert.issue" and e["outcome"] == "ok":
        serial = int(e["target"], 16)
        issue_ok[serial] = issue_ok.get(serial, 0) + 1
issued = [c for c in certs if c["status"] in ("issued", "revoked")]
unaudited = [c["serial"] for c in issued if issue_ok.get(int(c["serial"], 16), 0) != 1]
if unaudited:
    problems.append(f"{len(unaudited)} issued certificates without exactly one cert.issue audit entry: {unaudited[:3]}")
reserved = sum(1 for c in certs if c["status"] == "reserved")
# The churned facility's certificates follow its state: held iff suspended (a hold is a revocation with reason
# certificateHold; suspending and resuming change it in the same transaction as the facility).
churn_state = json.load(open(f"{d}/churn.json"))["state"]
churn_certs = [c for c in certs if c.get("facility") == churn]
held = [c["serial"] for c in churn_certs if c["status"] != "issued"]
if len(churn_certs) != 3:
    problems.append(f"the churned facility has {len(churn_certs)} certificates, not 3")
if churn_state != "active":
    problems.append(f"the churned facility is {churn_state} after the final resume")
if held:
    problems.append(f"the churned facility is {churn_state} but {len(held)} of its certificates are held")
est_recovered = sum(1 for t, status, _ in load if status == 200 and t > last_fault)
if est_recovered == 0:
    problems.append("no EST request succeeded after the last fault: the server did not recover")
row("EST re-enrollment", len(load), len(received), sum(1 for _, s, _ in load if s != 200), est_recovered, len(lost),
    f"{reserved} reserved intents", failures((s, "" if s == "error" else str(x)) for _, s, x in load if s != 200),
    [(t, status == 200) for t, status, _ in load])

# ---- SSO: sessions, grants, their audit entries ----
sso = json.load(open(f"{d}/sso.json"))
sessions = {h: (person, ended) for h, person, ended in query(
    "SELECT id_hash, person_key, COALESCE(ended_at, 0) FROM portal_sessions")}
grants = {g: (state, session) for g, state, session in query("SELECT id, state, session_hash FROM oidc_grants")}


def succeeded(kind, status, detail):
    return (kind == "login" and "session" in detail) or (kind == "authorize" and "grant" in detail) or (
        kind == "token" and status == 200)


sso_lost = []
logged_in = [x for _, kind, _, x in sso if kind == "login" and "session" in x]
for x in logged_in:
    if x["session"] not in sessions:
        sso_lost.append(f"the session of a login of {x['user']} is not in the database")
redeemed = [x for _, kind, status, x in sso if kind == "token" and status == 200]
gids = [x["gid"] for x in redeemed]
if len(set(gids)) != len(gids):
    problems.append(f"{len(gids) - len(set(gids))} grants redeemed twice")
for x in redeemed:
    state = grants.get(x["grant"], ("missing", ""))[0]
    if x["gid"] != x["grant"]:
        problems.append(f"the tokens of code {x['grant']} name grant {x['gid']}")
    # Nothing in this load revokes a grant (no sign-out, no replay: a cut request is never sent again), so
    # every redeemed grant must be active.
    if state != "active":
        sso_lost.append(f"grant {x['grant']} was redeemed (200) but is {state}")
orphans = [g for g, (_, session) in grants.items() if session not in sessions]
if orphans:
    problems.append(f"{len(orphans)} grants without their session: {orphans[:3]}")
ended = [h for h, (_, at) in sessions.items() if at != "0"]
if ended:
    problems.append(f"{len(ended)} sessions ended, though nothing in the load ends one")
# Every session has its `portal.login` ok entry and every such entry its session: the counts per account agree.
login_ok = {}
for e in audit:
    if e["action"] == "portal.login" and e["outcome"] == "ok":
        login_ok[f"pwd:{e['target']}"] = login_ok.get(f"pwd:{e['target']}", 0) + 1
per_person = {}
for person, _ in sessions.values():
    per_person[person] = per_person.get(person, 0) + 1
unaudited = {p: (n, login_ok.get(p, 0)) for p, n in per_person.items() if login_ok.get(p, 0) != n}
unaudited.update({p: (0, n) for p, n in login_ok.items() if p not in per_person})
if unaudited:
    problems.append(f"sessions and portal.login ok entries differ (sessions, entries): {unaudited}")
sso_lost_n = len(sso_lost)
if sso_lost:
    problems.append("; ".join(sso_lost[:3]))
sso_ok = [t for t, kind, status, x in sso if succeeded(kind, status, x)]
sso_recovered = sum(1 for t in sso_ok if t > last_fault)
if not logged_in or not redeemed:
    problems.append(f"the SSO load made {len(logged_in)} logins and {len(redeemed)} exchanges: too little to check")
elif sso_recovered == 0:
    problems.append("no SSO request succeeded after the last fault: the portal did not recover")
unredeemed = sum(1 for state, _ in grants.values() if state == "code")
row(f"SSO: {len(logged_in)} logins, {len(redeemed)} code exchanges", len(sso), len(sso_ok), len(sso) - len(sso_ok),
    sso_recovered, sso_lost_n, f"{unredeemed} unredeemed codes",
    failures((f"{kind} {status}" if status != "error" else f"{kind} {x['error']}", str(x.get("text", "")))
             for _, kind, status, x in sso if not succeeded(kind, status, x)),
    [(t, succeeded(kind, status, x)) for t, kind, status, x in sso])
if problems:
    sys.exit(f"{name} ({backend}): " + "; ".join(problems))
