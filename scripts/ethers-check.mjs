// An independent check of Rossignol's signatures and keystores with ethers
// v6: reads a JSON array of cases on stdin, verifies each, prints one line
// per case, and exits 1 if any fails. Run by core/tests/ethers.rs.
//
//   ROSSIGNOL_TEST_NODE_MODULES=.cache/node/node_modules node scripts/ethers-check.mjs < cases.json
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const modules = process.env.ROSSIGNOL_TEST_NODE_MODULES;
if (!modules) {
  console.error("set ROSSIGNOL_TEST_NODE_MODULES to a node_modules holding ethers 6 (scripts/test installs it)");
  process.exit(2);
}
const ethers = createRequire(`${modules}/`)("ethers");

const checks = {
  message(c) {
    const signer = ethers.verifyMessage(ethers.getBytes(c.message), c.signature);
    return [[signer, c.address]];
  },
  transaction(c) {
    const tx = ethers.Transaction.from(c.raw);
    const got = [
      [tx.from, c.address],
      [tx.hash, c.hash],
      [tx.type, c.type],
      [tx.chainId.toString(), c.chainId],
      [tx.nonce.toString(), c.nonce],
      [tx.gasLimit.toString(), c.gas],
      [tx.to, c.to],
      [tx.value.toString(), c.value],
      [tx.data, c.data],
    ];
    if (c.type === 2) {
      got.push([tx.maxFeePerGas.toString(), c.maxFeePerGas]);
      got.push([tx.maxPriorityFeePerGas.toString(), c.maxPriorityFeePerGas]);
    } else {
      got.push([tx.gasPrice.toString(), c.gasPrice]);
    }
    return got;
  },
  keystore(c) {
    const wallet = ethers.Wallet.fromEncryptedJsonSync(c.json, c.passphrase);
    return [[wallet.address, c.address], [wallet.privateKey, c.privateKey]];
  },
};

const cases = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const [i, c] of cases.entries()) {
  try {
    const mismatches = checks[c.kind](c).filter(([got, want]) => got !== want);
    if (mismatches.length === 0) {
      console.log(`ok ${i} ${c.kind}`);
    } else {
      failed++;
      console.log(`FAIL ${i} ${c.kind}: ${mismatches.map(([g, w]) => `got ${g}, want ${w}`).join("; ")}`);
    }
  } catch (e) {
    failed++;
    console.log(`FAIL ${i} ${c.kind}: ${e.message}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
