// Rossignol's JSON-RPC endpoint used the way an ethers v6 user would: a
// JsonRpcProvider, provider.getSigner(ADDRESS), then every kind of signature,
// each verified locally. Prints one line per check; exits 1 if any fails.
//
//   ROSSIGNOL_TEST_NODE_MODULES=.cache/node/node_modules [ROSSIGNOL_API_KEY=...] \
//     node scripts/rpc-clients/ethers.mjs http://127.0.0.1:9000/rpc/11155111 0xADDRESS
import { createRequire } from "node:module";
import { resolve } from "node:path";

const [url, address] = process.argv.slice(2);
const modules = process.env.ROSSIGNOL_TEST_NODE_MODULES;
if (!url || !address || !modules) {
  console.error("usage: ROSSIGNOL_TEST_NODE_MODULES=DIR [ROSSIGNOL_API_KEY=KEY] node ethers.mjs URL ADDRESS");
  process.exit(2);
}
const ethers = createRequire(`${resolve(modules)}/`)("ethers");
const { FetchRequest, JsonRpcProvider, Transaction, Wallet, getAddress, verifyMessage, verifyTypedData } = ethers;
if (!ethers.isAddress(address)) {
  console.error(`'${address}' is not an Ethereum address.`);
  process.exit(2);
}

// ethers retries a provider that never answers forever; a check should not.
// The limit only stops a hang: it is far above what a loaded machine needs.
setTimeout(() => {
  console.log(`FAIL no answer from ${url} within 180 s; is Rossignol running there?`);
  process.exit(1);
}, 180_000).unref();

const request = new FetchRequest(url);
if (process.env.ROSSIGNOL_API_KEY) request.setHeader("X-Api-Key", process.env.ROSSIGNOL_API_KEY);
// staticNetwork: ask eth_chainId once, not before every call. Batching stays on.
const provider = new JsonRpcProvider(request, undefined, { staticNetwork: true });

let failed = 0;
// The server's own error message (e.error) says more than ethers' summary.
const why = (e) => e.error?.message ?? e.shortMessage ?? e.message;
const report = (name, problem) => {
  if (problem) failed++;
  console.log(problem ? `FAIL ${name}: ${problem}` : `ok  ${name}`);
};
const sameAddress = (a, b) => getAddress(a) === getAddress(b);
const signedBy = (who) => (sameAddress(who, address) ? undefined : `signed by ${who}`);

let signer;
try {
  signer = await provider.getSigner(address); // checks eth_accounts lists it
  report("getSigner (eth_accounts)");
} catch (e) {
  report("getSigner (eth_accounts)", e.message === "invalid account" ? `${address} is not in eth_accounts` : why(e));
  process.exit(1);
}
const { chainId } = await provider.getNetwork();

const to = "0x3535353535353535353535353535353535353535";
const delegate = "0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B"; // any contract address
const gwei = ethers.parseUnits("1", "gwei");
const fees = { maxFeePerGas: 30n * gwei, maxPriorityFeePerGas: gwei };
// Signed here, by a key of our own: the authorization rides along in the
// transaction, and Rossignol signs the transaction around it.
const authorization = Wallet.createRandom().authorizeSync({ address: delegate, nonce: 0, chainId });

const domain = { name: "Test Token", version: "1", chainId, verifyingContract: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48" };
const types = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};
const permit = { owner: address, spender: to, value: 10n ** 18n, nonce: 0, deadline: 2_000_000_000 };

// Each check returns a problem, or nothing when all is well.
async function transaction(tx, check = () => undefined) {
  const parsed = Transaction.from(await signer.signTransaction(tx));
  const wantChainId = tx.chainId ?? chainId;
  if (parsed.type !== tx.type) return `type ${parsed.type}, asked for ${tx.type}`;
  if (parsed.chainId !== wantChainId) return `chain id ${parsed.chainId}, expected ${wantChainId}`;
  if (parsed.nonce !== tx.nonce) return `nonce ${parsed.nonce}, asked for ${tx.nonce}`;
  return signedBy(parsed.from) ?? check(parsed);
}
const text = "hello from ethers";
const bytes = ethers.getBytes("0x00ff10c0de");
const checks = {
  "signMessage(text)": async () => signedBy(verifyMessage(text, await signer.signMessage(text))),
  "signMessage(bytes)": async () => signedBy(verifyMessage(bytes, await signer.signMessage(bytes))),
  "signTypedData(Permit)": async () =>
    signedBy(verifyTypedData(domain, types, permit, await signer.signTypedData(domain, types, permit))),
  "signTransaction(type 0)": () =>
    transaction({ type: 0, chainId, nonce: 0, gasLimit: 21000, gasPrice: 20n * gwei, to, value: 1n }),
  "signTransaction(type 1)": () =>
    transaction(
      { type: 1, chainId, nonce: 1, gasLimit: 30000, gasPrice: 20n * gwei, to, value: 0n, data: "0x",
        accessList: [{ address: to, storageKeys: [ethers.zeroPadValue("0x01", 32)] }] },
      (tx) => (tx.accessList.length === 1 ? undefined : "the access list was lost"),
    ),
  "signTransaction(type 2)": () =>
    transaction({ type: 2, chainId, nonce: 2, gasLimit: 50000, ...fees, to, value: 1n, data: "0xdeadbeef" }),
  // No chainId: Rossignol takes the chain from the URL, which is the one
  // the provider reports.
  "signTransaction(type 2, no chainId)": () =>
    transaction({ type: 2, nonce: 3, gasLimit: 21000, ...fees, to, value: 1n }),
  "signTransaction(type 4)": () =>
    transaction(
      { type: 4, chainId, nonce: 4, gasLimit: 100000, ...fees, to: address, authorizationList: [authorization] },
      ({ authorizationList: [got] }) => {
        const same = got && sameAddress(got.address, delegate) && got.nonce === 0n && got.chainId === chainId &&
          got.signature.serialized === authorization.signature.serialized;
        return same ? undefined : "the authorization list did not survive";
      },
    ),
};

// All at once, so that ethers sends them as one JSON-RPC batch.
const results = await Promise.allSettled(Object.values(checks).map((check) => check()));
for (const [i, name] of Object.keys(checks).entries()) {
  const { status, value, reason } = results[i];
  report(name, status === "rejected" ? why(reason) : value);
}
provider.destroy();
process.exit(failed === 0 ? 0 : 1);
