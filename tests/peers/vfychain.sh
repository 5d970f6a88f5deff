#!/usr/bin/env bash
# Verifies a certificate with NSS (vfychain, libnss3-tools), the library libreswan uses.
#
#   tests/peers/vfychain.sh ROOT_PEM ISSUING_PEM CERT_PEM USAGE
#
# USAGE is vfychain's -u number: 12 = IPsec (what libreswan checks: KU digitalSignature or
# nonRepudiation; no EKU, or one NSS accepts for IPsec), 1 = SSL server, 0 = SSL client.
# A throwaway NSS database holds the root as a trusted CA ("CT,C,C") and the issuing CA as an untrusted
# intermediate (ISSUING_PEM may hold several: each is then given to vfychain as an intermediate, none imported,
# e.g. a root rollover's link certificates, which share the root's subject and so cannot take another
# nickname in the database); the chain is built with the PKIX library (-pp). No revocation method is enabled and AIA
# fetching is off (no -f), so nothing is fetched from the network. Exits 0 when NSS says "Chain is good!".
set -euo pipefail

if (($# != 4)); then
    echo "usage: $0 ROOT_PEM ISSUING_PEM CERT_PEM USAGE" >&2
    exit 2
fi
root=$1 issuing=$2 cert=$3 usage=$4
for f in "$root" "$issuing" "$cert"; do
    [[ -r $f ]] || { echo "vfychain.sh: cannot read $f" >&2; exit 2; }
done
[[ $usage =~ ^[0-9]+$ ]] || { echo "vfychain.sh: USAGE must be a number (12 = IPsec)" >&2; exit 2; }

db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
certutil -N -d "sql:$db" --empty-password
certutil -A -d "sql:$db" -n hcpki-root -t "CT,C,C" -a -i "$root"
awk -v dir="$db" '
    /-----BEGIN CERTIFICATE-----/ { n++; out = sprintf("%s/i%03d.pem", dir, n) }
    out { print > out }
    /-----END CERTIFICATE-----/ { close(out); out = "" }
' "$issuing"
intermediates=("$db"/i*.pem)
if ((${#intermediates[@]} == 1)); then
    certutil -A -d "sql:$db" -n hcpki-issuing -t ",," -a -i "$issuing"
fi
args=()
for c in "${intermediates[@]}"; do args+=(-a "$c"); done

# vfychain prints its verdict on stdout and the reasons on stderr; merge them so they read in order.
vfychain -d "sql:$db" -pp -v -u "$usage" -a "$cert" "${args[@]}" 2>&1
