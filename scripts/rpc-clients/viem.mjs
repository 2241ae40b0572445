// Rossignol's JSON-RPC endpoint used the way a viem user would: a wallet
// client whose account is ADDRESS (a JSON-RPC account, so viem sends every
// signing request to the server), then every kind of signature, each
// verified locally. Prints one line per check; exits 1 if any fails.
//
//   ROSSIGNOL_TEST_NODE_MODULES=.cache/node/node_modules [ROSSIGNOL_API_KEY=...] \
//     node scripts/rpc-clients/viem.mjs http://127.0.0.1:9000/rpc/11155111 0xADDRESS
import { createRequire } from "node:module";
import { resolve } from "node:path";

const [url, address] = process.argv.slice(2);
const modules = process.env.ROSSIGNOL_TEST_NODE_MODULES;
if (!url || !address || !modules) {
  console.error("usage: ROSSIGNOL_TEST_NODE_MODULES=DIR [ROSSIGNOL_API_KEY=KEY] node viem.mjs URL ADDRESS");
  process.exit(2);
}
const require = createRequire(`${resolve(modules)}/`);
const viem = require("viem");
const { generatePrivateKey, privateKeyToAccount } = require("viem/accounts");
const { createWalletClient, http, isAddress, isAddressEqual, parseGwei, parseTransaction } = viem;
if (!isAddress(address, { strict: false })) {
  console.error(`'${address}' is not an Ethereum address.`);
  process.exit(2);
}

const apiKey = process.env.ROSSIGNOL_API_KEY;
const transport = http(url, {
  batch: true, // requests made together go out as one JSON-RPC batch
  fetchOptions: apiKey ? { headers: { "X-Api-Key": apiKey } } : undefined,
  timeout: 180_000, // only stops a hang; far above what a loaded machine needs
});
const client = createWalletClient({ account: address, transport });

let failed = 0;
// The server's own error message (e.details) says more than viem's summary.
const why = (e) => e.details ?? e.shortMessage ?? e.message;
const report = (name, problem) => {
  if (problem) failed++;
  console.log(problem ? `FAIL ${name}: ${problem}` : `ok  ${name}`);
};

let chainId;
try {
  const [accounts, id] = await Promise.all([client.getAddresses(), client.getChainId()]);
  chainId = id;
  const listed = accounts.some((a) => isAddressEqual(a, address));
  report("getAddresses (eth_accounts)", listed ? undefined : `${address} is not in eth_accounts`);
  if (!listed) process.exit(1);
} catch (e) {
  report("getAddresses (eth_accounts)", why(e));
  process.exit(1);
}

const to = "0x3535353535353535353535353535353535353535";
const delegate = "0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B"; // any contract address
const fees = { maxFeePerGas: parseGwei("30"), maxPriorityFeePerGas: parseGwei("1") };
// Signed here, by a key of our own: the authorization rides along in the
// transaction, and Rossignol signs the transaction around it. (viem's
// client.signAuthorization needs a local account; it has no JSON-RPC method.)
const authorization = await privateKeyToAccount(generatePrivateKey()).signAuthorization({
  address: delegate,
  chainId,
  nonce: 0,
});

const typedData = {
  domain: { name: "Test Token", version: "1", chainId, verifyingContract: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48" },
  types: {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  },
  primaryType: "Permit",
  message: { owner: address, spender: to, value: 10n ** 18n, nonce: 0n, deadline: 2_000_000_000n },
};

// Each check returns a problem, or nothing when all is well.
async function transaction(tx, check = () => undefined) {
  // chain: null, because the chain comes from the URL and there is no viem
  // chain object to hold it. viem still asks eth_chainId and sends that
  // chainId in every eth_signTransaction; it cannot send a transaction
  // without one.
  const raw = await client.signTransaction({ chain: null, ...tx });
  const parsed = parseTransaction(raw);
  const from = await viem.recoverTransactionAddress({ serializedTransaction: raw });
  if (!isAddressEqual(from, address)) return `signed by ${from}`;
  if (parsed.type !== tx.type) return `type ${parsed.type}, asked for ${tx.type}`;
  if (parsed.chainId !== chainId) return `chain id ${parsed.chainId}, expected ${chainId}`;
  // parseTransaction leaves a zero nonce out.
  if ((parsed.nonce ?? 0) !== tx.nonce) return `nonce ${parsed.nonce}, asked for ${tx.nonce}`;
  return check(parsed);
}
const text = "hello from viem";
const bytes = "0x00ff10c0de";
const verified = (ok) => (ok ? undefined : `does not verify as signed by ${address}`);
const checks = {
  "signMessage(text)": async () => {
    const signature = await client.signMessage({ message: text });
    return verified(await viem.verifyMessage({ address, message: text, signature }));
  },
  "signMessage(bytes)": async () => {
    const signature = await client.signMessage({ message: { raw: bytes } });
    return verified(await viem.verifyMessage({ address, message: { raw: bytes }, signature }));
  },
  "signTypedData(Permit)": async () => {
    const signature = await client.signTypedData(typedData);
    return verified(await viem.verifyTypedData({ address, ...typedData, signature }));
  },
  "signTransaction(legacy)": () =>
    transaction({ type: "legacy", nonce: 0, gas: 21000n, gasPrice: parseGwei("20"), to, value: 1n }),
  "signTransaction(eip2930)": () =>
    transaction(
      { type: "eip2930", nonce: 1, gas: 30000n, gasPrice: parseGwei("20"), to, value: 0n,
        accessList: [{ address: to, storageKeys: [viem.pad("0x01")] }] },
      (tx) => (tx.accessList?.length === 1 ? undefined : "the access list was lost"),
    ),
  "signTransaction(eip1559)": () =>
    transaction({ type: "eip1559", nonce: 2, gas: 50000n, ...fees, to, value: 1n, data: "0xdeadbeef" }),
  "signTransaction(eip7702)": () =>
    transaction(
      { type: "eip7702", nonce: 3, gas: 100000n, ...fees, to: address, authorizationList: [authorization] },
      ({ authorizationList: [got] = [] }) => {
        const same = got && isAddressEqual(got.address, delegate) && got.nonce === 0 && got.chainId === chainId &&
          // r and s by value: one side may drop a leading zero byte.
          BigInt(got.r) === BigInt(authorization.r) && BigInt(got.s) === BigInt(authorization.s) &&
          got.yParity === authorization.yParity;
        return same ? undefined : "the authorization list did not survive";
      },
    ),
};

// All at once, so that viem sends them as one JSON-RPC batch.
const results = await Promise.allSettled(Object.values(checks).map((check) => check()));
for (const [i, name] of Object.keys(checks).entries()) {
  const { status, value, reason } = results[i];
  report(name, status === "rejected" ? why(reason) : value);
}
process.exit(failed === 0 ? 0 : 1);
