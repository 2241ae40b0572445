#!/usr/bin/env bash
# Rossignol's JSON-RPC endpoint used from foundry's `cast`, as a user would:
# `cast rpc` for each signing method, each result checked by cast itself
# (`cast wallet verify`, `cast decode-transaction`). Prints one line per
# check; exits 1 if any fails, 2 on usage errors.
#
#   [ROSSIGNOL_API_KEY=...] [CAST=path/to/cast] \
#     bash scripts/rpc-clients/foundry.sh http://127.0.0.1:8545/rpc/1/0xADDRESS 0xADDRESS
set -uo pipefail

url="${1:-}" address="${2:-}"
cast="${CAST:-cast}"
if [ -z "$url" ] || [ -z "$address" ]; then
    echo "usage: [ROSSIGNOL_API_KEY=KEY] [CAST=cast] bash foundry.sh URL ADDRESS" >&2
    exit 2
fi
command -v "$cast" >/dev/null 2>&1 || { echo "cast not found; install foundry or set CAST" >&2; exit 2; }

headers=()
[ -n "${ROSSIGNOL_API_KEY:-}" ] && headers=(--rpc-headers "X-Api-Key: $ROSSIGNOL_API_KEY")
rpc() { "$cast" rpc --rpc-url "$url" "${headers[@]}" "$@" | tr -d '"'; }

failed=0
check() { # check NAME COMMAND...: ok when COMMAND succeeds
    local name="$1"; shift
    local output
    if output="$("$@" 2>&1)"; then
        echo "ok  $name"
    else
        failed=1
        echo "FAIL $name: $output"
    fi
}
lists_address() { rpc eth_accounts | grep -qi "$address" || { echo "$address is not in eth_accounts"; return 1; }; }
personal_sign() {
    local signature
    signature="$(rpc personal_sign 0x68656c6c6f "$address")" || return 1
    "$cast" wallet verify --address "$address" 0x68656c6c6f "$signature"
}
sign_typed_data() {
    local chain signature typed
    chain="$(rpc eth_chainId)" || return 1
    typed='{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"chainId","type":"uint256"}],"Mail":[{"name":"contents","type":"string"}]},"primaryType":"Mail","domain":{"name":"Foundry","chainId":'"$((chain))"'},"message":{"contents":"Hello, Bob!"}}'
    signature="$(rpc eth_signTypedData_v4 "$address" "$typed")" || return 1
    "$cast" wallet verify --address "$address" --data "$typed" "$signature"
}
sign_transaction() { # sign_transaction FEE_FIELDS: signs, decodes, checks the signer
    local raw signer
    raw="$(rpc eth_signTransaction "{\"from\":\"$address\",\"to\":\"0x3535353535353535353535353535353535353535\",\"nonce\":\"0x0\",\"gas\":\"0x5208\",$1}")" || return 1
    signer="$("$cast" decode-transaction "$raw" | tr -d '\\' | sed -n 's/.*"signer": *"\(0x[0-9a-fA-F]*\)".*/\1/p')"
    [ "$(echo "$signer" | tr 'A-F' 'a-f')" = "$(echo "$address" | tr 'A-F' 'a-f')" ] || { echo "signed by '$signer'"; return 1; }
}

check "eth_accounts" lists_address
check "personal_sign" personal_sign
check "eth_signTypedData_v4" sign_typed_data
check "eth_signTransaction (type 2)" sign_transaction '"maxFeePerGas":"0x77359400","maxPriorityFeePerGas":"0x3b9aca00"'
check "eth_signTransaction (type 0)" sign_transaction '"gasPrice":"0x77359400"'
exit "$failed"
