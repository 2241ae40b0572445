// An independent check of Rossignol's signatures and keystores with ethers
// v6: reads a JSON array of cases on stdin, verifies each, prints one line
// per case, and exits 1 if any fails. Run by core/tests/ethers.rs.
//
// Kinds: message, transaction (types 0, 1, 2, 4; with `privateKey` and
// `request` ethers also signs the request and must produce `raw` byte for
// byte), authorization (EIP-7702), typed_data (EIP-712), keystore.
//
//   ROSSIGNOL_TEST_NODE_MODULES=.cache/node/node_modules node scripts/ethers-check.mjs < cases.json
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const modules = process.env.ROSSIGNOL_TEST_NODE_MODULES;
if (!modules) {
  console.error("set ROSSIGNOL_TEST_NODE_MODULES to a node_modules holding ethers 6 (scripts/test installs it)");
  process.exit(2);
}
// createRequire wants an absolute path; the variable may be relative.
const ethers = createRequire(`${resolve(modules)}/`)("ethers");

// Digests, raw bytes and signature words are compared as values, so that hex
// letter case and (for r and s) leading zeros are not disagreements.
// Addresses stay exact, so that the EIP-55 checksum is checked too.
const word = (x) => ethers.toBeHex(x, 32);
const accessList = (list) => JSON.stringify(ethers.accessListify(list ?? []));
// ethers gives {signature: {r, s, yParity}}; JSON-RPC puts r, s and yParity
// beside address, nonce and chainId, as quantities. Either shape reads the
// same here, in ethers' shape with 32-byte r and s (Signature.from wants them).
const authorization = (a) => {
  const sig = a.signature ?? a;
  return {
    address: ethers.getAddress(a.address),
    nonce: BigInt(a.nonce ?? 0).toString(),
    chainId: BigInt(a.chainId ?? 0).toString(),
    signature: { r: word(sig.r), s: word(sig.s), yParity: Number(sig.yParity) },
  };
};
const authorizationList = (list) => JSON.stringify((list ?? []).map(authorization));

const checks = {
  message(c) {
    const signer = ethers.verifyMessage(ethers.getBytes(c.message), c.signature);
    return [[signer, c.address]];
  },
  async transaction(c) {
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
    if (c.type === 2 || c.type === 4) {
      got.push([tx.maxFeePerGas.toString(), c.maxFeePerGas]);
      got.push([tx.maxPriorityFeePerGas.toString(), c.maxPriorityFeePerGas]);
    } else {
      got.push([tx.gasPrice.toString(), c.gasPrice]);
    }
    if (c.type !== 0) {
      got.push([accessList(tx.accessList), accessList(c.accessList ?? c.request?.accessList)]);
    }
    if (c.type === 4) {
      const want = c.authorizationList ?? c.request?.authorizationList;
      got.push([authorizationList(tx.authorizationList), authorizationList(want)]);
    }
    if (c.privateKey && c.request) {
      const request = { ...c.request };
      if (request.authorizationList) request.authorizationList = request.authorizationList.map(authorization);
      const theirs = await new ethers.Wallet(c.privateKey).signTransaction(request);
      got.push([theirs, ethers.hexlify(c.raw)]);
    }
    return got;
  },
  authorization(c) {
    const auth = { address: c.delegate, nonce: c.nonce, chainId: c.chainId };
    const theirs = new ethers.Wallet(c.privateKey).authorizeSync(auth).signature;
    const ours = { r: word(c.r), s: word(c.s), yParity: Number(c.yParity) };
    return [
      [ethers.hashAuthorization(auth), ethers.hexlify(c.digest)],
      [theirs.r, ours.r],
      [theirs.s, ours.s],
      [theirs.yParity, ours.yParity],
      [ethers.verifyAuthorization(auth, ours), c.address],
    ];
  },
  typed_data(c) {
    const payload = typeof c.typedData === "string" ? JSON.parse(c.typedData) : c.typedData;
    // ethers derives the domain type itself and refuses it among the types.
    const { EIP712Domain: _, ...types } = payload.types;
    const { domain, message } = payload;
    return [
      [ethers.TypedDataEncoder.hash(domain, types, message), ethers.hexlify(c.digest)],
      [ethers.verifyTypedData(domain, types, message, c.signature), c.address],
    ];
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
    const check = checks[c.kind];
    if (!check) throw new Error(`unknown kind '${c.kind}'`);
    const mismatches = (await check(c)).filter(([got, want]) => got !== want);
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
