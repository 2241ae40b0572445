#!/usr/bin/env bash
# Runs the three JSON-RPC clients the README shows against one Rossignol
# endpoint: ethers at /rpc/CHAIN (getSigner finds the account through
# eth_accounts), viem and foundry's cast at /rpc/CHAIN/ADDRESS. Prints each
# client's lines; exits 1 if any check failed. Run by the tests of the signer
# Lambda and of `rossignol serve --rpc`.
#
#   ROSSIGNOL_TEST_NODE_MODULES=DIR CAST=path/to/cast [ROSSIGNOL_API_KEY=KEY] \
#     bash scripts/rpc-clients/all.sh http://127.0.0.1:8545 0xADDRESS 11155111
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
base="${1:-}" address="${2:-}" chain="${3:-}"
if [ -z "$base" ] || [ -z "$address" ] || [ -z "$chain" ]; then
    echo "usage: bash all.sh BASE_URL ADDRESS CHAIN_ID" >&2
    exit 2
fi
status=0
echo "# ethers"
node "$here/ethers.mjs" "$base/rpc/$chain" "$address" || status=1
echo "# viem"
node "$here/viem.mjs" "$base/rpc/$chain/$address" "$address" || status=1
echo "# foundry"
bash "$here/foundry.sh" "$base/rpc/$chain/$address" "$address" || status=1
exit "$status"
