#!/usr/bin/env bash
# Lints one certificate with pkilint's RFC 5280 linter (lint_pkix_cert, pkilint 0.13.3), or with --crl one
# CRL with its RFC 5280 CRL linter (lint_crl -t CRL -p PKIX), or with --arl one authority revocation list (a
# CRL of CA certificates: the offline root's) with the CA/Browser Forum profile, which adds the twelve-month
# ceiling on its validity (lint_crl -t ARL -p BR), or with --ocsp one OCSP response with its RFC 6960 linter
# (lint_ocsp_response).
#
#   tests/peers/pkilint.sh CERT_PEM
#   tests/peers/pkilint.sh --crl CRL_PEM_OR_DER
#   tests/peers/pkilint.sh --arl ARL_PEM_OR_DER
#   tests/peers/pkilint.sh --ocsp RESPONSE_DER
#
# Prints every finding at every severity as "SEVERITY code @ node_path[: message]" and exits 1 when any
# finding is ERROR or FATAL (2 on usage errors or when pkilint cannot load the certificate).
# pkilint comes from the venv that scripts/deps makes at $HCPKI_TOOLS (default: <repo>/.tools).
#
# Why not plain `lint_pkix_cert lint FILE`: its exit code is the number of findings at or above the -s
# threshold (default INFO), so it fails on informational notes and hides DEBUG ones; we run it once with
# `-s ALL -f JSON` and judge severities ourselves.
set -euo pipefail

kind=cert
if [[ ${1:-} == --crl || ${1:-} == --arl || ${1:-} == --ocsp ]]; then
    kind=${1#--}
    shift
fi
if (($# != 1)); then
    echo "usage: $0 [--crl|--arl|--ocsp] FILE" >&2
    exit 2
fi
cert=$1
[[ -r $cert ]] || { echo "pkilint.sh: cannot read $cert" >&2; exit 2; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=${HCPKI_TOOLS:-$REPO/.tools}
if [[ $kind == crl ]]; then
    lint=$TOOLS/bin/lint_crl
    args=(-t CRL -p PKIX --document-format DETECT)
elif [[ $kind == arl ]]; then
    lint=$TOOLS/bin/lint_crl
    args=(-t ARL -p BR --document-format DETECT)
elif [[ $kind == ocsp ]]; then
    lint=$TOOLS/bin/lint_ocsp_response
    args=(--document-format DER)
else
    lint=$TOOLS/bin/lint_pkix_cert
    args=(--document-format PEM)
fi
[[ -x $lint ]] || { echo "pkilint.sh: $lint missing; run scripts/deps" >&2; exit 2; }

json=$("$lint" lint --severity ALL --format JSON "${args[@]}" "$cert") || {
    # Exit codes count findings; only a load failure leaves no JSON on stdout.
    [[ $json == \{* ]] || { echo "pkilint.sh: pkilint could not load $cert" >&2; exit 2; }
}

summarize=$(cat <<'PY'
import json, sys

cert = sys.argv[1]
report = json.load(sys.stdin)
blocking = {"FATAL", "ERROR"}
errors = 0
findings = 0
for result in report["results"]:
    for f in result["finding_descriptions"]:
        findings += 1
        errors += f["severity"] in blocking
        msg = f": {f['message']}" if f.get("message") else ""
        print(f"{f['severity']} {f['code']} @ {result['node_path']}{msg}")
print(f"pkilint: {cert}: {findings} finding(s), {errors} at ERROR or above")
sys.exit(1 if errors else 0)
PY
)
"$TOOLS/bin/python" -c "$summarize" "$cert" <<<"$json"
