// Converts ethers.js's published transaction test cases
// (testcases/transactions.json.gz) into core/tests/vectors/transactions/ethers.json:
// one entry per case and transaction type, quantities as decimal strings.
//
//   node scripts/vectors/ethers-transactions.mjs transactions.json.gz [EVERY] > core/tests/vectors/transactions/ethers.json
//
// EVERY (default 9) keeps every EVERY-th source case, counted from the first,
// so the file stays near 1 MB and the choice is repeatable. Keep it odd: the
// "masked-…" cases count up in binary over which fields are present, and an
// even step would only ever pick cases missing the same low fields.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

const [path, everyArg = "9"] = process.argv.slice(2);
const every = Number(everyArg);
if (!path || !Number.isInteger(every) || every < 1) {
  console.error("usage: node ethers-transactions.mjs TRANSACTIONS_JSON_GZ [EVERY]");
  process.exit(2);
}

const cases = JSON.parse(gunzipSync(readFileSync(path)).toString("utf8"));

// The source leaves out fields to test defaults ("masked-…" cases); ethers
// reads a missing field as zero, empty or (for `to`) a contract creation.
// Spelling every field out keeps the vectors free of that convention.
const dec = (q) => (q == null ? "0" : BigInt(q).toString());
const accessList = (list) =>
  (list ?? []).map(({ address, storageKeys }) => ({ address, storageKeys }));

function tx(t, type) {
  const out = { chainId: dec(t.chainId), nonce: dec(t.nonce), gasLimit: dec(t.gasLimit) };
  if (type === 2) {
    out.maxFeePerGas = dec(t.maxFeePerGas);
    out.maxPriorityFeePerGas = dec(t.maxPriorityFeePerGas);
  } else {
    out.gasPrice = dec(t.gasPrice);
  }
  out.to = t.to ?? null;
  out.value = dec(t.value);
  out.data = t.data ?? "0x";
  if (type !== 0) out.accessList = accessList(t.accessList);
  return out;
}

const vectors = [];
for (const [i, c] of cases.entries()) {
  if (i % every !== 0) continue;
  const entry = (type, unsigned, signed) => ({
    name: c.name,
    privateKey: c.privateKey,
    type,
    tx: tx(c.transaction, type),
    unsigned,
    signed,
  });
  // Legacy only with EIP-155 replay protection: a signer should not produce
  // unprotected (pre-EIP-155) transactions, so they are not vectors for it.
  if (c.signedEip155 && BigInt(c.transaction.chainId ?? 0) !== 0n) {
    vectors.push(entry(0, c.unsignedEip155, c.signedEip155));
  }
  vectors.push(entry(1, c.unsignedBerlin, c.signedBerlin));
  vectors.push(entry(2, c.unsignedLondon, c.signedLondon));
}

// One entry per line: small diffs, and still one JSON document.
process.stdout.write(`[\n${vectors.map((v) => JSON.stringify(v)).join(",\n")}\n]\n`);
