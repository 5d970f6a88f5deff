#!/usr/bin/env bash
# Verifies a certificate against an issuing chain with OpenSSL, strictly.
#
#   tests/peers/verify.sh CHAIN_PEM CERT_PEM [PURPOSE]
#
# CHAIN_PEM is what `hcpki ca chain PROFILE` prints: the issuing CA(s) and the root, in any order. The
# self-signed certificate(s) in it become the only trust anchors (-CAfile; the system store is ignored),
# the others are untrusted intermediates. PURPOSE is passed as `-purpose` (sslclient, sslserver, ...).
# Exits with openssl's status: 0 when the chain verifies.
set -euo pipefail

if (($# < 2 || $# > 3)); then
    echo "usage: $0 CHAIN_PEM CERT_PEM [PURPOSE]" >&2
    exit 2
fi
chain=$1 cert=$2 purpose=${3:-}
for f in "$chain" "$cert"; do
    [[ -r $f ]] || { echo "verify.sh: cannot read $f" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

awk -v dir="$tmp" '
    /-----BEGIN CERTIFICATE-----/ { n++; out = sprintf("%s/c%03d.pem", dir, n) }
    out { print > out }
    /-----END CERTIFICATE-----/ { close(out); out = "" }
' "$chain"

: >"$tmp/roots.pem"
: >"$tmp/untrusted.pem"
shopt -s nullglob
certs=("$tmp"/c*.pem)
((${#certs[@]})) || { echo "verify.sh: no certificate in $chain" >&2; exit 2; }
for c in "${certs[@]}"; do
    subject=$(openssl x509 -in "$c" -noout -subject -nameopt RFC2253)
    issuer=$(openssl x509 -in "$c" -noout -issuer -nameopt RFC2253)
    if [[ ${subject#subject=} == "${issuer#issuer=}" ]]; then
        cat "$c" >>"$tmp/roots.pem"
    else
        cat "$c" >>"$tmp/untrusted.pem"
    fi
done
[[ -s $tmp/roots.pem ]] || { echo "verify.sh: no self-signed root in $chain" >&2; exit 2; }

args=(-x509_strict -no-CApath -no-CAstore -CAfile "$tmp/roots.pem" -show_chain)
[[ -s $tmp/untrusted.pem ]] && args+=(-untrusted "$tmp/untrusted.pem")
[[ -n $purpose ]] && args+=(-purpose "$purpose")
exec openssl verify "${args[@]}" "$cert"
