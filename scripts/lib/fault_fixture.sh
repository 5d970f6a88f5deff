# The load fixture and the checks of scripts/fault, shared with scripts/rolling-upgrade (sourced). They work on
# the caller's globals: dir (the scenario's work directory), h (the hcpki command as an array), backend (sqlite or
# postgres), database (its file or URL), and log/die; pg_restarts and promotions (scripts/fault's counts) may be
# unset.

# fixture_load URL: the enrolling facility and its PC certificate ($dir/pc.pem, by EST with a one-time credential
# at URL), the churned facility ($churn: approved, three router certificates) and the loop suspending and resuming
# it ($churn_pid) until $dir/stop exists.
fixture_load() {
    # The enrolling facility and its PC certificate (EST with a one-time credential).
    local url=$1 id cred user pass
    id=$("${h[@]}" facility add --name "Fault clinic" --kind clinic 2>/dev/null)
    "${h[@]}" facility approve "$id" >/dev/null 2>&1
    cred=$("${h[@]}" enroll credential --facility "$id" --protocol est --profile pc 2>/dev/null)
    user=$(sed -n 's/^username=//p' <<<"$cred")
    pass=$(sed -n 's/^password=//p' <<<"$cred")
    openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj /CN=pc -keyout "$dir/pc.key" \
        -outform DER -out "$dir/pc.csr.der" 2>/dev/null
    base64 -w0 "$dir/pc.csr.der" >"$dir/pc.csr.b64"
    curl -sS --fail --cacert "$dir/server-chain.pem" -u "$user:$pass" -H 'Content-Type: application/pkcs10' \
        --data-binary "@$dir/pc.csr.b64" "$url/.well-known/est/pc/simpleenroll" | base64 -d |
        openssl pkcs7 -inform DER -print_certs | openssl x509 -out "$dir/pc.pem"

    # The churned facility: approved, three router certificates, then suspend/resume in a loop.
    churn=$("${h[@]}" facility add --name "Churn clinic" --kind clinic 2>/dev/null)
    "${h[@]}" facility approve "$churn" >/dev/null 2>&1
    openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/router.key"
    openssl req -new -key "$dir/router.key" -subj /CN=router -out "$dir/router.csr" 2>/dev/null
    for i in 1 2 3; do
        "${h[@]}" issue --profile router --facility "$churn" --csr "$dir/router.csr" --out "$dir/router-$i.pem" \
            2>/dev/null
    done
    # The loop stops itself at the stop file: killing it could orphan a running `facility suspend` that then
    # commits after the final resume below. A pause between transitions: each is a process of its own (its
    # start costs more CPU than its transaction), and a few a second reach every fault without spending most of
    # a test run's CPU on them.
    (
        while [[ ! -e $dir/stop ]]; do
            "${h[@]}" facility suspend "$churn" --reason "fault test" >/dev/null 2>&1 || true
            sleep 0.2
            "${h[@]}" facility resume "$churn" >/dev/null 2>&1 || true
            sleep 0.2
        done
    ) &
    churn_pid=$!
}

# sso_accounts N: N password + TOTP accounts (the first alone: it makes the portal secret the others share),
# written to $dir/accounts.json for the load.
sso_accounts() {
    echo "fault password 1" >"$dir/password"
    sso_user_add u1 "$dir/password" "${h[@]}" >"$dir/totp-1"
    local pids=() i
    for i in $(seq 2 "$1"); do
        sso_user_add "u$i" "$dir/password" "${h[@]}" >"$dir/totp-$i" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
    python3 - "$dir" "$1" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
accounts = [{"user": f"u{i}", "password": "fault password 1", "secret": open(f"{d}/totp-{i}").read().strip()}
            for i in range(1, n + 1)]
if not all(a["secret"] for a in accounts):
    sys.exit("an account has no TOTP secret")
json.dump(accounts, open(f"{d}/accounts.json", "w"))
PY
}

# check_storage NAME: the database's own consistency check, after the faults.
check_storage() {
    if [[ $backend == sqlite ]]; then
        local said
        said=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' \
            "$database")
        [[ $said == ok ]] || die "$1: PRAGMA integrity_check says: $said"
    else
        local amcheck
        amcheck=$(printf '%s\n' /usr/lib/postgresql/*/bin/pg_amcheck | sort -V | tail -n 1)
        "$amcheck" --install-missing --heapallindexed "$database" >"$dir/amcheck.txt" 2>&1 ||
            { cat "$dir/amcheck.txt" >&2; die "$1: pg_amcheck found corruption"; }
    fi
}

# check NAME CHURN LAST-FAULT: the audit chain, then the registry and SSO checks of fault_check.py.
check() {
    "${h[@]}" audit verify >"$dir/verify.txt" 2>&1 || { cat "$dir/verify.txt" >&2; die "$1: audit chain broken"; }
    "${h[@]}" cert list --json --limit 1000000 >"$dir/certs.jsonl" 2>/dev/null
    local after=0
    : >"$dir/audit.jsonl"
    while :; do
        "${h[@]}" audit list --after "$after" --limit 1000 >"$dir/page.jsonl"
        [[ -s $dir/page.jsonl ]] || break
        cat "$dir/page.jsonl" >>"$dir/audit.jsonl"
        after=$(tail -n 1 "$dir/page.jsonl" | python3 -c 'import json, sys; print(json.load(sys.stdin)["seq"])')
    done
    local shown=$1
    ((${pg_restarts:-0} == 0)) || shown="$1 (PostgreSQL restarted $pg_restarts×)"
    ((${promotions:-0} == 0)) || shown="$1 ($promotions× primary killed, standby promoted)"
    python3 scripts/lib/fault_check.py "$dir" "$shown" "$backend" "$database" "$2" "$3"
}

