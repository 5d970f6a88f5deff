#!/usr/bin/env bash
# Lints certificates with pkilint's RFC 5280 linter (lint_pkix_cert, pkilint 0.13.3), or with --crl CRLs with
# its RFC 5280 CRL linter (lint_crl -t CRL -p PKIX), or with --arl authority revocation lists (CRLs of CA
# certificates: the offline root's) with the CA/Browser Forum profile, which adds the twelve-month ceiling on
# their validity (lint_crl -t ARL -p BR), or with --ocsp OCSP responses with its RFC 6960 linter
# (lint_ocsp_response).
#
#   tests/peers/pkilint.sh CERT_PEM...
#   tests/peers/pkilint.sh --crl CRL_PEM_OR_DER...
#   tests/peers/pkilint.sh --arl ARL_PEM_OR_DER...
#   tests/peers/pkilint.sh --ocsp RESPONSE_DER...
#
# Prints every finding at every severity as "SEVERITY code @ node_path[: message]" and exits 1 when any
# finding is ERROR or FATAL (2 on usage errors or when pkilint cannot load a file). Several files of one kind
# are linted in one Python process (tests/peers/pkilint_files.py: pkilint's own CLI entry points, its start-up paid
# once), each under its own "pkilint: FILE: …" line, the files with an error named at the end.
# pkilint comes from the venv that scripts/deps makes at $HCPKI_TOOLS (default: <repo>/.tools).
#
# Why not plain `lint_pkix_cert lint FILE`: its exit code is the number of findings at or above the -s
# threshold (default INFO), so it fails on informational notes and hides DEBUG ones; we run it with
# `-s ALL -f JSON` and judge severities ourselves.
set -euo pipefail

kind=cert
if [[ ${1:-} == --crl || ${1:-} == --arl || ${1:-} == --ocsp ]]; then
    kind=${1#--}
    shift
fi
if (($# < 1)); then
    echo "usage: $0 [--crl|--arl|--ocsp] FILE..." >&2
    exit 2
fi
for file in "$@"; do
    [[ -r $file ]] || { echo "pkilint.sh: cannot read $file" >&2; exit 2; }
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=${HCPKI_TOOLS:-$REPO/.tools}
[[ -x $TOOLS/bin/python ]] || { echo "pkilint.sh: $TOOLS/bin/python missing; run scripts/deps" >&2; exit 2; }
exec "$TOOLS/bin/python" "$REPO/tests/peers/pkilint_files.py" "$kind" "$@"
