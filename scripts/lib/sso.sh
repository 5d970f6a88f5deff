# The SSO fixture of a fresh hcpki directory, shared by scripts/bench-oidc and scripts/fault (sourced).
# The hcpki command comes last, as an array's expansion: `sso_user_add alice pw-file "${h[@]}"`.

SSO_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# sso_portal_config DIR LISTEN [ISSUER [MORE]]: the portal on LISTEN (host:port) serving one service, "wiki",
# that any password + TOTP account may use (DIR/services.toml), MORE lines in its [portal] section, and no
# per-address limits: all load comes from 127.0.0.1.
sso_portal_config() {
    local dir=$1 listen=$2 issuer=${3:-} more=${4:-}
    cat >"$dir/services.toml" <<'EOF'
version = 1
[[service]]
id = "wiki"
name = "Staff wiki"
roles = []
facility_kinds = ["*"]
min_assurance = "password-totp"
claims = ["name", "acr", "amr"]
EOF
    printf '\n[portal]\nlisten = "%s"\nservices = "services.toml"\n' "$listen" >>"$dir/hcpki.toml"
    [[ -z $issuer ]] || printf 'issuer = "%s"\n' "$issuer" >>"$dir/hcpki.toml"
    [[ -z $more ]] || printf '%s\n' "$more" >>"$dir/hcpki.toml"
    printf '\n[limits]\n# Load from 127.0.0.1 alone: no per-address limits (they are tested on their own).\nenroll_per_minute = 0\nrevocation_per_minute = 0\nlogin_per_minute = 0\n' \
        >>"$dir/hcpki.toml"
}

# sso_user_add NAME PASSWORD-FILE HCPKI...: a password + TOTP account; prints its TOTP secret.
sso_user_add() {
    local name=$1 password_file=$2 secret
    shift 2
    secret=$("$@" portal user add "$name" --name "User $name" --password-file "$password_file" 2>/dev/null |
        sed -n 's/^secret: //p')
    [[ -n $secret ]] || { echo "sso: no TOTP secret from portal user add $name" >&2; return 1; }
    echo "$secret"
}

# sso_client_add WORK CLIENT-ID REDIRECT HCPKI...: a private_key_jwt client of the wiki service with a fresh
# P-256 key (WORK/client.key, kid "<client-id>-1", WORK/jwks.json).
sso_client_add() {
    local work=$1 id=$2 redirect=$3
    shift 3
    python3 "$SSO_LIB/sso.py" keygen "$work" "$id-1"
    "$@" oidc client add --id "$id" --redirect-uri "$redirect" --auth private_key_jwt \
        --jwks-file "$work/jwks.json" --service wiki >/dev/null 2>&1
}
