#!/usr/bin/env bash
# OpenSC as an independent JPKI host: its `jpki` card driver, PKCS#15 emulation and PKCS#11 module,
# against whatever card sits in PC/SC reader 0 (scripts/pcsc-stack's "Virtual PCD 00 00").
#
#   tests/peers/opensc-jpki.sh list                       # pkcs15-tool --list-certificates
#   tests/peers/opensc-jpki.sh read-cert ID OUT_DER       # pkcs15-tool --read-certificate ID, saved as DER
#   tests/peers/opensc-jpki.sh read-cert-pin ID AUTH_ID PIN OUT_DER   # the same after --verify-pin of AUTH_ID
#   tests/peers/opensc-jpki.sh sign PIN MSG OUT_SIG       # pkcs11-tool --slot-index 0 --login --sign -m SHA256-RSA-PKCS
#   tests/peers/opensc-jpki.sh verify CERT_DER MSG SIG    # openssl dgst -sha256 -verify with the cert's key
#   tests/peers/opensc-jpki.sh apdus N                    # N SELECTs in one opensc-tool run; prints "seconds=S"
#
# Environment: OPENSC_READER (default 0), OPENSC_PKCS11 (default Debian's opensc-pkcs11.so).
# OpenSC runs with a private config that turns file caching off, so a certificate always comes from
# the card in the reader and never from ~/.cache/opensc of an earlier card with the same (empty) serial.
# Exits with the tool's status; every tool's output goes to stdout/stderr as it is.
set -euo pipefail

READER=${OPENSC_READER:-0}
MODULE=${OPENSC_PKCS11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}

usage() {
    sed -n '4,10s/^#   //p' "$0" >&2
    exit 2
}
(($# >= 1)) || usage

for tool in pkcs15-tool pkcs11-tool opensc-tool openssl; do
    command -v "$tool" >/dev/null || { echo "opensc-jpki.sh: $tool missing; run scripts/deps (apt: opensc openssl)" >&2; exit 2; }
done
[[ -r $MODULE ]] || { echo "opensc-jpki.sh: $MODULE missing; run scripts/deps (apt: opensc)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/opensc.conf" <<'EOF'
app default {
    framework pkcs15 {
        use_file_caching = no;
    }
}
EOF
export OPENSC_CONF=$tmp/opensc.conf

cmd=$1
shift
case $cmd in
list)
    (($# == 0)) || usage
    pkcs15-tool --reader "$READER" --list-certificates
    ;;
read-cert)
    (($# == 2)) || usage
    pkcs15-tool --reader "$READER" --read-certificate "$1" --output "$tmp/cert.pem"
    openssl x509 -in "$tmp/cert.pem" -outform DER -out "$2"
    echo "read certificate $1 into $2 ($(stat -c %s "$2") bytes)"
    ;;
read-cert-pin)
    # The signing certificate (ID 02, EF 0001) is private: the card answers 6982 to reading it until the
    # signing password (AUTH_ID 02) is verified in the same session, which --verify-pin does after binding.
    (($# == 4)) || usage
    pkcs15-tool --reader "$READER" --read-certificate "$1" --auth-id "$2" --verify-pin --pin "$3" \
        --output "$tmp/cert.pem"
    openssl x509 -in "$tmp/cert.pem" -outform DER -out "$4"
    echo "read certificate $1 after PIN $2 into $4 ($(stat -c %s "$4") bytes)"
    ;;
sign)
    (($# == 3)) || usage
    # Slot index 0 is the first token of reader 0: "JPKI (User Authentication PIN)".
    pkcs11-tool --module "$MODULE" --slot-index 0 --login --pin "$1" --sign -m SHA256-RSA-PKCS \
        --input-file "$2" --output-file "$3"
    ;;
verify)
    (($# == 3)) || usage
    openssl x509 -inform DER -in "$1" -pubkey -noout >"$tmp/pub.pem"
    openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$3" "$2"
    ;;
apdus)
    (($# == 1)) && [[ $1 =~ ^[0-9]+$ ]] || usage
    args=()
    for ((i = 0; i < $1; i++)); do
        args+=(-s 00A4040C0AD392F000260100000001)
    done
    # -c default: the generic driver, so no other driver's probe APDUs are counted.
    start=$(date +%s.%N)
    opensc-tool --reader "$READER" -c default "${args[@]}" >"$tmp/out"
    end=$(date +%s.%N)
    ok=$(grep -c '^Received (SW1=0x90, SW2=0x00)' "$tmp/out" || true)
    echo "answered=$ok"
    awk -v a="$start" -v b="$end" 'BEGIN { printf "seconds=%.4f\n", b - a }'
    ;;
*)
    usage
    ;;
esac
