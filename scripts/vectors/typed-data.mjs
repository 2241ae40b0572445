// Generates EIP-712 known answers with ethers v6, an implementation
// independent of alloy, for core/src/sign/typed_data/. Deterministic: a
// seeded PRNG drives every choice, so a rerun writes the same file.
//
//   ROSSIGNOL_TEST_NODE_MODULES=.cache/node/node_modules node scripts/vectors/typed-data.mjs
//
// Each case holds `payload` (ethers' TypedDataEncoder.getPayload: integers
// as decimal strings, lowercase hex) and `raw` (the same typed data as the
// generator wrote it: integers as JSON numbers, decimal or 0x hex strings,
// mixed-case hex, EIP712Domain in `types` or not), with ethers' domain
// separator, struct hash and digest.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";

const modules = process.env.ROSSIGNOL_TEST_NODE_MODULES;
if (!modules) {
  console.error("set ROSSIGNOL_TEST_NODE_MODULES to a node_modules holding ethers 6 (scripts/test installs it)");
  process.exit(2);
}
const ethers = createRequire(`${modules}/`)("ethers");
const OUT = new URL("../../core/tests/vectors/typed-data/ethers-v6.json", import.meta.url);
const CASES = 150;

// mulberry32: small, seedable, good enough to pick test shapes.
let seed = 0x712;
function next() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(next() * n);
const pick = (list) => list[int(list.length)];
const chance = (p) => next() < p;
const randomBytes = (n) => Uint8Array.from({ length: n }, () => int(256));
const mixedCase = (hex) => "0x" + [...hex.slice(2)].map((c) => (chance(0.5) ? c.toUpperCase() : c)).join("");

const ATOMIC = [
  "bool", "address", "string", "bytes",
  ...Array.from({ length: 32 }, (_, i) => `bytes${i + 1}`),
  ...Array.from({ length: 32 }, (_, i) => `uint${8 * (i + 1)}`),
  ...Array.from({ length: 32 }, (_, i) => `int${8 * (i + 1)}`),
];
const STRUCT_NAMES = ["Person", "Mail", "Asset", "Order", "Item", "Fee", "Leg", "Permit", "Details",
  "Wallet", "Group", "A", "Ab", "B", "Zeta", "alpha", "Order2", "X_1", "Hyper:Send", "Leaf"];
const FIELD_NAMES = ["a", "b", "value", "to", "from", "amount", "data", "nonce", "deadline", "items",
  "x", "y", "owner", "spender", "_z", "v$", "note", "flag", "salt", "id"];
const STRINGS = ["", "Hello, Bob!", "Ether Mail", "ünïcödé ✓", "emoji 🐦", "a\"quote\\", "line\nbreak", "0x1234"];

// An integer for intN/uintN: boundaries often, random widths otherwise.
function integer(type) {
  const signed = type.startsWith("int");
  const bits = BigInt(type.replace(/^u?int/, ""));
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const roll = int(8);
  if (roll === 0) return 0n;
  if (roll === 1) return max;
  if (roll === 2) return min;
  const width = BigInt(1 + int(Number(bits)));
  let v = BigInt(ethers.hexlify(randomBytes(Number((width + 7n) / 8n)))) & ((1n << width) - 1n);
  if (v > max) v = max;
  if (signed && chance(0.5)) v = -v;
  return v < min ? min : v;
}

// How the generator writes an integer: a JSON number when exact, else a
// decimal or 0x hex string (negative hex as -0x…).
function writeInteger(v) {
  const roll = int(3);
  if (roll === 0 && v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(v);
  }
  if (roll === 1) return (v < 0n ? "-0x" : "0x") + (v < 0n ? -v : v).toString(16);
  return v.toString();
}

function atomicValue(type) {
  if (type === "bool") return chance(0.5);
  if (type === "string") return pick(STRINGS);
  if (type === "address") {
    const address = ethers.getAddress(ethers.hexlify(randomBytes(20)));
    return pick([address, address.toLowerCase(), "0x" + address.slice(2).toUpperCase()]);
  }
  if (type === "bytes") return mixedCase(ethers.hexlify(randomBytes(pick([0, 1, 2, 31, 32, 33, int(40)]))));
  if (type.startsWith("bytes")) return mixedCase(ethers.hexlify(randomBytes(Number(type.slice(5)))));
  return writeInteger(integer(type));
}

// Builds a struct type top down. Fields may reference a new struct or one
// already completed (a diamond), never one still being built, so the types
// stay acyclic with the primary type as their only root.
function makeTypes(fieldsWanted) {
  const types = {};
  const names = [...STRUCT_NAMES].sort(() => next() - 0.5);
  const completed = [];
  function struct(depth, atomics) {
    const name = names.pop();
    types[name] = null;
    const fields = [];
    const used = new Set();
    const count = atomics ? atomics.length : 1 + int(4);
    for (let i = 0; i < count; i++) {
      let fieldName = pick(FIELD_NAMES);
      while (used.has(fieldName)) fieldName = pick(FIELD_NAMES) + i;
      used.add(fieldName);
      let base;
      if (atomics) base = atomics[i];
      else if (depth < 3 && names.length > 0 && chance(0.3)) base = struct(depth + 1);
      else if (completed.length > 0 && chance(0.15)) base = pick(completed);
      else base = pick(ATOMIC);
      let suffix = "";
      if (chance(0.3)) suffix = pick(["[]", "[1]", "[2]", "[3]", "[][]", "[2][]", "[][2]", "[1][2]"]);
      fields.push({ name: fieldName, type: base + suffix });
    }
    types[name] = fields;
    completed.push(name);
    return name;
  }
  const primary = struct(0, fieldsWanted);
  return { types, primary };
}

function value(types, type) {
  const array = type.match(/^(.*)\[(\d*)\]$/);
  if (array) {
    const length = array[2] === "" ? pick([0, 1, 2, 3]) : Number(array[2]);
    return Array.from({ length }, () => value(types, array[1]));
  }
  if (types[type]) {
    return Object.fromEntries(types[type].map((f) => [f.name, value(types, f.type)]));
  }
  return atomicValue(type);
}

const DOMAIN_FIELDS = ["name", "version", "chainId", "verifyingContract", "salt"];
const DOMAIN_TYPES = { name: "string", version: "string", chainId: "uint256", verifyingContract: "address", salt: "bytes32" };
function domainFor(subset) {
  const domain = {};
  for (const [i, field] of DOMAIN_FIELDS.entries()) {
    if (!(subset & (1 << i))) continue;
    if (field === "name") domain.name = pick(STRINGS);
    if (field === "version") domain.version = pick(["1", "2", "1.0.0", ""]);
    if (field === "chainId") domain.chainId = writeInteger(pick([0n, 1n, 5n, 137n, 8453n, 11155111n, (1n << 53n) - 1n, (1n << 64n) - 1n]));
    if (field === "verifyingContract") domain.verifyingContract = atomicValue("address");
    if (field === "salt") domain.salt = mixedCase(ethers.hexlify(randomBytes(32)));
  }
  return domain;
}

const cases = [];
for (let i = 0; i < CASES; i++) {
  // The first cases put every atomic type in a flat struct, four at a time;
  // the rest are random shapes.
  const atomics = 4 * i < ATOMIC.length ? ATOMIC.slice(4 * i, 4 * i + 4) : undefined;
  const { types, primary } = makeTypes(atomics);
  const message = value(types, primary);
  const domain = domainFor(i % 32);

  const payload = ethers.TypedDataEncoder.getPayload(domain, types, message);
  const domainSeparator = ethers.TypedDataEncoder.hashDomain(domain);
  const structHash = ethers.TypedDataEncoder.from(types).hash(message);
  const digest = ethers.TypedDataEncoder.hash(domain, types, message);
  // The normalized payload must hash the same as what the generator wrote.
  const again = ethers.TypedDataEncoder.hash(payload.domain, (({ EIP712Domain, ...t }) => t)(payload.types), payload.message);
  if (again !== digest) throw new Error(`case ${i}: payload digest ${again} != ${digest}`);

  const rawTypes = chance(0.5)
    ? { EIP712Domain: DOMAIN_FIELDS.filter((f) => f in domain).map((f) => ({ name: f, type: DOMAIN_TYPES[f] })), ...types }
    : types;
  const raw = { types: rawTypes, primaryType: primary, domain, message };
  cases.push({ name: `case-${String(i).padStart(3, "0")}`, payload, raw, domainSeparator, structHash, digest });
}

const header = {
  generator: "scripts/vectors/typed-data.mjs",
  ethers: ethers.version,
  note: "payload: ethers TypedDataEncoder.getPayload; raw: as generated; hashes from hashDomain, from(types).hash, hash",
};
const body = cases.map((c) => JSON.stringify(c)).join(",\n");
writeFileSync(OUT, `{"meta": ${JSON.stringify(header)},\n"cases": [\n${body}\n]}\n`);
console.log(`wrote ${cases.length} cases to ${OUT.pathname}`);
