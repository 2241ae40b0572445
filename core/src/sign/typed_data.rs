//! EIP-712 typed data (`eth_signTypedData_v4`), validated strictly before
//! anything is hashed; the hashing itself is alloy's.
//!
//! Typed data arrives as a JSON object, or as a JSON string holding one
//! (ethers and viem send a string). Everything is checked once, in
//! [`TypedData::from_json`]; the hashes are computed there too, so a value
//! that parsed always hashes.
//!
//! # Paths
//!
//! A refusal names the bad part by a path under the caller's prefix
//! (`typed_data`, `params[1]`, …):
//!
//! - `typed_data`: the whole value (not an object, a string that is not JSON);
//! - `typed_data.primaryType`, `typed_data.domain.chainId`, …: top-level and
//!   domain fields;
//! - `typed_data.types.Mail`: a struct (its shape, a cycle, too deep);
//! - `typed_data.types.Mail[1]`, `….name`, `….type`: the second field
//!   declared by `Mail`, its name and its type;
//! - `typed_data.message.to.wallets[1]`: a value, struct fields by name and
//!   array elements by index.
//!
//! # Rules
//!
//! - The top level has exactly `types`, `primaryType`, `domain` and
//!   `message`. `primaryType` names a struct in `types` (`EIP712Domain`
//!   included, in which case the message must equal the domain: only the
//!   domain is signed).
//! - Struct names are ASCII identifiers (`:` allowed for namespaces, `$`
//!   not: alloy and ethers would sort such names differently in
//!   `encodeType`) that are not Solidity type names. Field names are ASCII
//!   identifiers, unique within their struct. Each field is `{name, type}`.
//! - Types: `bool`, `address`, `string`, `bytes`, `bytes1`..`bytes32`,
//!   `uint8`..`uint256` and `int8`..`int256` in steps of 8, structs, and
//!   arrays `T[]`, `T[N]`, `T[2][]`. `uint` and `int` without a size are
//!   refused rather than guessed. No cycles, self-references included.
//!   Unused types are allowed but checked like the rest.
//! - `EIP712Domain`, when in `types`, lists exactly the fields present in
//!   `domain`, in EIP-712's order, with their standard types; wallets that
//!   hash by that list would otherwise disagree with the domain.
//! - The domain has any subset of `name`, `version`, `chainId` (fits u64),
//!   `verifyingContract` and `salt`; nothing else, no nulls.
//! - Values: integers as JSON integers, decimal strings or `0x` hex
//!   (negative ones with a leading `-`), range-checked for their width;
//!   `bool` a JSON bool; `address` an address (a mixed-case checksum is
//!   verified); `bytes` and `bytesN` `0x` hex of whole bytes (exactly N);
//!   structs have exactly their declared fields, so a misspelt field is
//!   refused rather than signed away; fixed arrays have exactly N elements.
//! - Nesting is at most 32 structs and arrays deep (`MAX_DEPTH`); a message
//!   has at most 65,536 values (`MAX_VALUES`), a struct 256 fields, `types`
//!   128 structs.
//!
//! The accepted message is kept in a canonical form (integers as decimal
//! strings, hex in lowercase), which is also what alloy hashes.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use alloy_dyn_abi::Eip712Domain;
use alloy_dyn_abi::eip712::{PropertyDef, Resolver, TypeDef};
use alloy_primitives::{Address as AlloyAddress, B256, U256};
use serde_json::{Map, Value};

use super::InvalidField;
use crate::account::Address;

/// How deep structs and arrays may nest below the primary type. Seaport's
/// bulk orders, the deepest in common use, need about 27.
const MAX_DEPTH: usize = 32;
/// The most values (of any type, arrays and structs included) in a message.
const MAX_VALUES: usize = 65_536;
/// The most struct types, and the most fields in one struct.
const MAX_TYPES: usize = 128;
const MAX_FIELDS: usize = 256;
/// Names longer than this are shortened when a path echoes them.
const MAX_SHOWN_NAME: usize = 64;

const DOMAIN_TYPE: &str = "EIP712Domain";
/// The domain's fields in EIP-712's order, with their types.
const DOMAIN_FIELDS: [(&str, &str); 5] = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
];

/// EIP-712 typed data that passed validation; hashing is alloy's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedData {
    primary_type: String,
    domain: Domain,
    message: Value,
    domain_separator: [u8; 32],
    struct_hash: [u8; 32],
    signing_hash: [u8; 32],
}

impl TypedData {
    /// `value` is the typed data as a JSON object, or as a JSON string
    /// holding that object (ethers and viem send a string). `field` is the
    /// path prefix for errors, e.g. "typed_data" or "params[1]".
    pub fn from_json(value: &Value, field: &str) -> Result<Self, InvalidField> {
        let parsed;
        let value = match value {
            Value::String(text) => {
                parsed = parse_json_string(text, field)?;
                &parsed
            }
            other => other,
        };
        let Value::Object(top) = value else {
            return Err(invalid(
                field,
                "must be a JSON object (types, primaryType, domain, message) or a string holding one",
            ));
        };
        only_known(top, field, &["types", "primaryType", "domain", "message"])?;
        let required = |name: &str, what: &str| {
            top.get(name)
                .ok_or_else(|| invalid(&format!("{field}.{name}"), format!("is missing: give {what}")))
        };

        let types_path = format!("{field}.types");
        let structs = parse_types(required("types", "the struct definitions")?, &types_path)?;
        check_acyclic(&structs, &types_path)?;

        let primary_path = format!("{field}.primaryType");
        let primary_type = match required("primaryType", "the name of the struct in `message`")? {
            Value::String(name) if structs.contains_key(name) => name.clone(),
            Value::String(_) => {
                return Err(invalid(
                    &primary_path,
                    "names no struct in `types`; give the struct that `message` holds",
                ));
            }
            _ => return Err(invalid(&primary_path, "must be a string: the name of the struct in `message`")),
        };
        let depth = depth_of(&Kind::Struct(primary_type.clone()), &structs, &mut BTreeMap::new());
        if depth > MAX_DEPTH {
            return Err(invalid(
                &format!("{types_path}.{}", shown(&primary_type)),
                format!("nests structs and arrays {depth} deep; Rossignol signs at most {MAX_DEPTH} levels"),
            ));
        }

        let domain = Domain::parse(required("domain", "the signing domain, {} if it has no fields")?, field)?;
        domain.check_declared_type(&structs, &types_path)?;

        let message_path = format!("{field}.message");
        let message = Walker { structs: &structs, budget: MAX_VALUES }.value(
            &Kind::Struct(primary_type.clone()),
            required("message", "the struct to sign")?,
            &message_path,
        )?;
        if primary_type == DOMAIN_TYPE && message != domain.to_json() {
            return Err(invalid(
                &message_path,
                "must equal `domain` when `primaryType` is EIP712Domain, because only the domain is signed",
            ));
        }

        // Unreachable after the checks above; alloy's error is not shown
        // because it may quote the whole message.
        hash(&structs, domain, primary_type, message).map_err(|_| {
            invalid(field, "passed validation but alloy could not hash it; report this as a Rossignol bug")
        })
    }

    /// keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message)), or
    /// keccak256(0x1901 ‖ domainSeparator) when the primary type is
    /// `EIP712Domain`.
    pub fn signing_hash(&self) -> [u8; 32] {
        self.signing_hash
    }

    pub fn domain_separator(&self) -> [u8; 32] {
        self.domain_separator
    }

    /// hashStruct(message) of the primary type.
    pub fn struct_hash(&self) -> [u8; 32] {
        self.struct_hash
    }

    pub fn primary_type(&self) -> &str {
        &self.primary_type
    }

    /// `domain.chainId`.
    pub fn chain_id(&self) -> Option<u64> {
        self.domain.chain_id
    }

    pub fn verifying_contract(&self) -> Option<Address> {
        self.domain.verifying_contract
    }

    pub fn domain_name(&self) -> Option<&str> {
        self.domain.name.as_deref()
    }

    pub fn domain_version(&self) -> Option<&str> {
        self.domain.version.as_deref()
    }

    /// The message as canonical JSON (integers as decimal strings, bytes and
    /// addresses as lowercase 0x hex), for a console preview.
    pub fn message(&self) -> &Value {
        &self.message
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> InvalidField {
    InvalidField { field: field.to_owned(), reason: reason.into() }
}

/// A name from the input as a path shows it: shortened, so that a hostile
/// key cannot turn an error message into a copy of the payload.
fn shown(name: &str) -> Cow<'_, str> {
    match name.char_indices().nth(MAX_SHOWN_NAME) {
        None => Cow::Borrowed(name),
        Some((end, _)) => Cow::Owned(format!("{}…", &name[..end])),
    }
}

fn parse_json_string(text: &str, field: &str) -> Result<Value, InvalidField> {
    if text.len() > super::MAX_BODY_BYTES {
        return Err(invalid(
            field,
            format!("is {} bytes; typed data takes at most {}", text.len(), super::MAX_BODY_BYTES),
        ));
    }
    // serde_json stops at 128 levels of nesting, so this cannot blow the stack.
    serde_json::from_str(text).map_err(|e| {
        invalid(
            field,
            format!("is a string but not JSON ({e}); send the typed data as an object or its JSON text"),
        )
    })
}

/// Refuses keys other than `known`: a misspelt field would otherwise be
/// ignored, and the signer would sign something other than what was meant.
fn only_known(fields: &Map<String, Value>, path: &str, known: &[&str]) -> Result<(), InvalidField> {
    match fields.keys().find(|name| !known.contains(&name.as_str())) {
        None => Ok(()),
        Some(name) => Err(invalid(
            &format!("{path}.{}", shown(name)),
            format!("is not a field here; the fields are {}", known.join(", ")),
        )),
    }
}

// ---------------------------------------------------------------- types

/// A validated EIP-712 type. Its `Display` is the canonical type string,
/// which is also what was given (the grammar admits no other spelling).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Bool,
    Address,
    String,
    Bytes,
    FixedBytes(usize),
    Uint(usize),
    Int(usize),
    Struct(String),
    /// Elements and, for a fixed array, the length.
    Array(Box<Kind>, Option<usize>),
}

impl Kind {
    /// The struct this type is made of, looking through arrays.
    fn struct_name(&self) -> Option<&str> {
        match self {
            Kind::Struct(name) => Some(name),
            Kind::Array(inner, _) => inner.struct_name(),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Bool => f.write_str("bool"),
            Kind::Address => f.write_str("address"),
            Kind::String => f.write_str("string"),
            Kind::Bytes => f.write_str("bytes"),
            Kind::FixedBytes(n) => write!(f, "bytes{n}"),
            Kind::Uint(bits) => write!(f, "uint{bits}"),
            Kind::Int(bits) => write!(f, "int{bits}"),
            Kind::Struct(name) => f.write_str(name),
            Kind::Array(inner, None) => write!(f, "{inner}[]"),
            Kind::Array(inner, Some(n)) => write!(f, "{inner}[{n}]"),
        }
    }
}

#[derive(Debug)]
struct Field {
    name: String,
    kind: Kind,
}

/// Struct name to its fields, in declared order.
type Structs = BTreeMap<String, Vec<Field>>;

fn parse_types(value: &Value, path: &str) -> Result<Structs, InvalidField> {
    let Value::Object(types) = value else {
        return Err(invalid(path, "must be an object mapping struct names to arrays of {name, type}"));
    };
    if types.len() > MAX_TYPES {
        return Err(invalid(
            path,
            format!("defines {} structs; Rossignol takes at most {MAX_TYPES}", types.len()),
        ));
    }
    // Names first, so that a field may refer to a struct defined after it.
    for name in types.keys() {
        check_struct_name(name, &format!("{path}.{}", shown(name)))?;
    }
    let mut structs = Structs::new();
    for (name, fields) in types {
        let fields = parse_fields(fields, types, &format!("{path}.{name}"))?;
        structs.insert(name.clone(), fields);
    }
    Ok(structs)
}

fn parse_fields(value: &Value, types: &Map<String, Value>, path: &str) -> Result<Vec<Field>, InvalidField> {
    let Value::Array(entries) = value else {
        return Err(invalid(path, "must be an array of {name, type} objects"));
    };
    if entries.len() > MAX_FIELDS {
        return Err(invalid(
            path,
            format!("has {} fields; Rossignol takes at most {MAX_FIELDS}", entries.len()),
        ));
    }
    let mut fields: Vec<Field> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let Value::Object(entry) = entry else {
            return Err(invalid(&path, "must be an object with `name` and `type`"));
        };
        only_known(entry, &path, &["name", "type"])?;
        let text = |key: &str| match entry.get(key) {
            Some(Value::String(text)) => Ok(text),
            Some(_) => Err(invalid(&format!("{path}.{key}"), "must be a string")),
            None => Err(invalid(&format!("{path}.{key}"), "is missing")),
        };
        let name = text("name")?;
        let name_path = format!("{path}.name");
        if !is_identifier(name, |c| c == '$', |c| c == '$') {
            return Err(invalid(
                &name_path,
                "must be an identifier: ASCII letters, digits, _ and $, not starting with a digit",
            ));
        }
        if fields.iter().any(|field| field.name == *name) {
            return Err(invalid(
                &name_path,
                format!("repeats the field `{}`; field names must be unique", shown(name)),
            ));
        }
        let kind = parse_type(text("type")?, types, &format!("{path}.type"))?;
        fields.push(Field { name: name.clone(), kind });
    }
    Ok(fields)
}

/// ASCII letters, digits and `_`, plus what `extra_start`/`extra` allow,
/// not starting with a digit.
fn is_identifier(name: &str, extra_start: fn(char) -> bool, extra: fn(char) -> bool) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || extra_start(c))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || extra(c))
}

fn check_struct_name(name: &str, path: &str) -> Result<(), InvalidField> {
    // `encodeType` lists referenced structs sorted by name. Alloy sorts the
    // whole `Name(…)` strings, ethers the names; `$` sorts before `(` and
    // would make them disagree, so it is refused.
    if !is_identifier(name, |_| false, |c| c == ':') {
        return Err(invalid(
            path,
            "is not a struct name: use ASCII letters, digits, _ and :, not starting with a digit",
        ));
    }
    match atomic(name) {
        Ok(None) => Ok(()),
        Ok(Some(_)) | Err(_) => Err(invalid(path, "is a Solidity type name; give the struct another name")),
    }
}

/// Parses a field's type: a base type followed by array suffixes, where
/// `T[2][]` is a dynamic array of `T[2]`.
fn parse_type(text: &str, types: &Map<String, Value>, path: &str) -> Result<Kind, InvalidField> {
    let (base, mut suffixes) = text.split_at(text.find('[').unwrap_or(text.len()));
    let mut kind = match atomic(base) {
        Ok(Some(kind)) => kind,
        Err(reason) => return Err(invalid(path, reason)),
        Ok(None) if types.contains_key(base) => Kind::Struct(base.to_owned()),
        Ok(None) => {
            return Err(invalid(
                path,
                format!(
                    "names an unknown type `{}`; define it in `types` or use a Solidity type",
                    shown(base)
                ),
            ));
        }
    };
    let mut dimensions = 0;
    while !suffixes.is_empty() {
        let Some((length, rest)) = suffixes.strip_prefix('[').and_then(|s| s.split_once(']')) else {
            return Err(invalid(path, "has a malformed array suffix; write T[] or T[N]"));
        };
        dimensions += 1;
        if dimensions > MAX_DEPTH {
            return Err(invalid(
                path,
                format!("nests more than {MAX_DEPTH} arrays; Rossignol signs at most {MAX_DEPTH} levels"),
            ));
        }
        let length = match length {
            "" => None,
            digits => Some(array_length(digits).ok_or_else(|| {
                invalid(
                    path,
                    format!(
                        "has a bad array length `{}`; give a decimal from 1 to {MAX_VALUES}",
                        shown(digits)
                    ),
                )
            })?),
        };
        kind = Kind::Array(Box::new(kind), length);
        suffixes = rest;
    }
    Ok(kind)
}

/// A fixed array's length: decimal, no leading zero, 1 to [`MAX_VALUES`]
/// (a longer array could never be given a value).
fn array_length(digits: &str) -> Option<usize> {
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| (1..=MAX_VALUES).contains(n))
}

/// The atomic type `name` stands for, `Ok(None)` if it is not a Solidity
/// type name (so possibly a struct), or why it cannot be used.
fn atomic(name: &str) -> Result<Option<Kind>, String> {
    let sized = |prefix: &str| {
        name.strip_prefix(prefix)
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .map(|digits| if digits.starts_with('0') { None } else { digits.parse::<usize>().ok() })
    };
    let kind = match name {
        "bool" => Kind::Bool,
        "address" => Kind::Address,
        "string" => Kind::String,
        "bytes" => Kind::Bytes,
        "uint" | "int" => {
            return Err(format!("is `{name}` without a size; write `{name}256`, the name EIP-712 hashes"));
        }
        "byte" => return Err("is `byte`, which EIP-712 does not define; write `bytes1`".into()),
        "function" | "fixed" | "ufixed" => return Err(format!("is `{name}`, which has no EIP-712 encoding")),
        _ => {
            if let Some(size) = sized("bytes") {
                match size {
                    Some(n @ 1..=32) => Kind::FixedBytes(n),
                    _ => {
                        return Err(format!(
                            "names `{}`, which is not a type; bytesN takes N from 1 to 32",
                            shown(name)
                        ));
                    }
                }
            } else if let Some(size) = sized("uint").or_else(|| sized("int")) {
                match size {
                    Some(bits @ 8..=256) if bits % 8 == 0 && name.starts_with('u') => Kind::Uint(bits),
                    Some(bits @ 8..=256) if bits % 8 == 0 => Kind::Int(bits),
                    _ => {
                        return Err(format!(
                            "names `{}`, which is not a type; integer sizes are 8 to 256 in steps of 8",
                            shown(name)
                        ));
                    }
                }
            } else if name.starts_with("fixed") || name.starts_with("ufixed") {
                return Err("names a fixed-point type, which has no EIP-712 encoding".into());
            } else {
                return Ok(None);
            }
        }
    };
    Ok(Some(kind))
}

/// Refuses a struct that contains itself, directly or through other structs
/// or arrays: its values would be infinite, and alloy and ethers refuse it.
fn check_acyclic(structs: &Structs, path: &str) -> Result<(), InvalidField> {
    #[derive(PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    // Recursion is bounded by the number of structs (MAX_TYPES).
    fn visit<'a>(
        name: &'a str,
        structs: &'a Structs,
        marks: &mut BTreeMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        match marks.get(name) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|open| *open == name)?;
                let mut cycle = stack[start..].to_vec();
                cycle.push(name);
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(name, Mark::Open);
        stack.push(name);
        for field in structs.get(name).into_iter().flatten() {
            if let Some(cycle) = field.kind.struct_name().and_then(|next| visit(next, structs, marks, stack))
            {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(name, Mark::Done);
        None
    }

    let mut marks = BTreeMap::new();
    for name in structs.keys() {
        if let Some(cycle) = visit(name, structs, &mut marks, &mut Vec::new()) {
            let names: Vec<_> = cycle.iter().map(|name| shown(name)).collect();
            return Err(invalid(
                &format!("{path}.{}", names[0]),
                format!(
                    "is part of a cycle ({}); a struct cannot contain itself, even through arrays",
                    names.join(" → ")
                ),
            ));
        }
    }
    Ok(())
}

/// How many struct and array levels a value of `kind` nests; the types are
/// acyclic by now, and each struct's depth is computed once.
fn depth_of(kind: &Kind, structs: &Structs, known: &mut BTreeMap<String, usize>) -> usize {
    match kind {
        Kind::Array(inner, _) => 1 + depth_of(inner, structs, known),
        Kind::Struct(name) => {
            if let Some(depth) = known.get(name) {
                return *depth;
            }
            let fields = structs.get(name).map(Vec::as_slice).unwrap_or_default();
            let depth =
                1 + fields.iter().map(|field| depth_of(&field.kind, structs, known)).max().unwrap_or(0);
            known.insert(name.clone(), depth);
            depth
        }
        _ => 0,
    }
}

// --------------------------------------------------------------- domain

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Domain {
    name: Option<String>,
    version: Option<String>,
    chain_id: Option<u64>,
    verifying_contract: Option<Address>,
    salt: Option<[u8; 32]>,
}

impl Domain {
    fn parse(value: &Value, field: &str) -> Result<Self, InvalidField> {
        let path = format!("{field}.domain");
        let Value::Object(fields) = value else {
            return Err(invalid(
                &path,
                "must be an object with any of name, version, chainId, verifyingContract, salt",
            ));
        };
        let names: Vec<_> = DOMAIN_FIELDS.iter().map(|(name, _)| *name).collect();
        only_known(fields, &path, &names)?;
        let mut domain = Domain::default();
        for (name, value) in fields {
            let path = format!("{path}.{name}");
            if value.is_null() {
                return Err(invalid(&path, "is null; leave the field out instead"));
            }
            match name.as_str() {
                "name" => domain.name = Some(string(value, &path)?),
                "version" => domain.version = Some(string(value, &path)?),
                "chainId" => {
                    let (_, magnitude) = integer(value, 256, false, &path)?;
                    let chain_id = u64::try_from(magnitude).map_err(|_| {
                        invalid(&path, "does not fit in 64 bits; give the chain's id (1 for mainnet)")
                    })?;
                    domain.chain_id = Some(chain_id);
                }
                "verifyingContract" => domain.verifying_contract = Some(address(value, &path)?),
                _ => {
                    let salt = hex_bytes(value, Some(32), &path)?;
                    domain.salt = Some(
                        <[u8; 32]>::try_from(salt.as_slice())
                            .map_err(|_| invalid(&path, "must be 32 bytes"))?,
                    );
                }
            }
        }
        Ok(domain)
    }

    fn has(&self, field: &str) -> bool {
        match field {
            "name" => self.name.is_some(),
            "version" => self.version.is_some(),
            "chainId" => self.chain_id.is_some(),
            "verifyingContract" => self.verifying_contract.is_some(),
            _ => self.salt.is_some(),
        }
    }

    /// Alloy hashes the domain from its values alone, so an `EIP712Domain`
    /// in `types` must describe exactly them (MetaMask hashes by the list).
    fn check_declared_type(&self, structs: &Structs, types_path: &str) -> Result<(), InvalidField> {
        let Some(declared) = structs.get(DOMAIN_TYPE) else { return Ok(()) };
        let expected: Vec<(&str, &str)> =
            DOMAIN_FIELDS.iter().copied().filter(|(name, _)| self.has(name)).collect();
        let matches = declared.len() == expected.len()
            && declared
                .iter()
                .zip(&expected)
                .all(|(field, (name, kind))| field.name == *name && field.kind.to_string() == *kind);
        if matches {
            return Ok(());
        }
        let listing: Vec<_> = expected.iter().map(|(name, kind)| format!("{kind} {name}")).collect();
        Err(invalid(
            &format!("{types_path}.{DOMAIN_TYPE}"),
            format!(
                "does not match `domain`; it must list exactly its fields, in EIP-712's order: ({})",
                listing.join(", ")
            ),
        ))
    }

    /// The domain as a canonical message of type `EIP712Domain`.
    fn to_json(&self) -> Value {
        let mut fields = Map::new();
        if let Some(name) = &self.name {
            fields.insert("name".into(), name.clone().into());
        }
        if let Some(version) = &self.version {
            fields.insert("version".into(), version.clone().into());
        }
        if let Some(chain_id) = self.chain_id {
            fields.insert("chainId".into(), chain_id.to_string().into());
        }
        if let Some(contract) = &self.verifying_contract {
            fields.insert("verifyingContract".into(), contract.to_storage().into());
        }
        if let Some(salt) = &self.salt {
            fields.insert("salt".into(), format!("0x{}", hex::encode(salt)).into());
        }
        Value::Object(fields)
    }

    fn to_alloy(&self) -> Eip712Domain {
        Eip712Domain::new(
            self.name.clone().map(Cow::Owned),
            self.version.clone().map(Cow::Owned),
            self.chain_id.map(U256::from),
            self.verifying_contract.map(|address| AlloyAddress::from(*address.as_bytes())),
            self.salt.map(B256::from),
        )
    }
}

// --------------------------------------------------------------- values

/// Checks a message against its types and writes it canonically. Recursion
/// follows the types, so it is at most [`MAX_DEPTH`] deep.
struct Walker<'a> {
    structs: &'a Structs,
    /// Values still allowed, so a huge message is refused, not walked.
    budget: usize,
}

impl Walker<'_> {
    fn value(&mut self, kind: &Kind, value: &Value, path: &str) -> Result<Value, InvalidField> {
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or_else(|| invalid(path, format!("is past the limit of {MAX_VALUES} values in a message")))?;
        match kind {
            Kind::Bool => {
                value.as_bool().map(Value::Bool).ok_or_else(|| invalid(path, "must be true or false"))
            }
            Kind::String => string(value, path).map(Value::String),
            Kind::Address => address(value, path).map(|address| address.to_storage().into()),
            Kind::Bytes => {
                hex_bytes(value, None, path).map(|bytes| format!("0x{}", hex::encode(bytes)).into())
            }
            Kind::FixedBytes(n) => {
                hex_bytes(value, Some(*n), path).map(|bytes| format!("0x{}", hex::encode(bytes)).into())
            }
            Kind::Uint(bits) => {
                integer(value, *bits, false, path).map(|(_, magnitude)| magnitude.to_string().into())
            }
            Kind::Int(bits) => integer(value, *bits, true, path).map(|(negative, magnitude)| {
                Value::String(if negative { format!("-{magnitude}") } else { magnitude.to_string() })
            }),
            Kind::Array(inner, length) => self.array(inner, *length, value, path),
            Kind::Struct(name) => self.structure(name, value, path),
        }
    }

    fn array(
        &mut self,
        inner: &Kind,
        length: Option<usize>,
        value: &Value,
        path: &str,
    ) -> Result<Value, InvalidField> {
        let Value::Array(items) = value else {
            return Err(invalid(path, format!("must be an array of {inner}")));
        };
        if let Some(length) = length.filter(|length| *length != items.len()) {
            return Err(invalid(
                path,
                format!("has {}; {inner}[{length}] takes exactly {length}", count(items.len(), "element")),
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.value(inner, item, &format!("{path}[{i}]")))
            .collect::<Result<_, _>>()
            .map(Value::Array)
    }

    fn structure(&mut self, name: &str, value: &Value, path: &str) -> Result<Value, InvalidField> {
        let declared = self.structs.get(name).map(Vec::as_slice).unwrap_or_default();
        let Value::Object(given) = value else {
            return Err(invalid(path, format!("must be an object: a {}", shown(name))));
        };
        if let Some(extra) = given.keys().find(|key| !declared.iter().any(|field| field.name == **key)) {
            let names: Vec<_> = declared.iter().map(|field| field.name.as_str()).collect();
            return Err(invalid(
                &format!("{path}.{}", shown(extra)),
                format!(
                    "is not a field of {}, which has {}; remove or rename it",
                    shown(name),
                    names.join(", ")
                ),
            ));
        }
        let mut canonical = Map::new();
        for field in declared {
            let path = format!("{path}.{}", field.name);
            let value = given.get(&field.name).ok_or_else(|| {
                invalid(&path, format!("is missing: {} has it as {}; give it", shown(name), field.kind))
            })?;
            canonical.insert(field.name.clone(), self.value(&field.kind, value, &path)?);
        }
        Ok(Value::Object(canonical))
    }
}

/// "1 byte", "2 bytes".
fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

fn string(value: &Value, path: &str) -> Result<String, InvalidField> {
    value.as_str().map(str::to_owned).ok_or_else(|| invalid(path, "must be a string"))
}

fn address(value: &Value, path: &str) -> Result<Address, InvalidField> {
    let text =
        value.as_str().ok_or_else(|| invalid(path, "must be an address string: 0x and 40 hex digits"))?;
    Address::parse(text).map_err(|e| invalid(path, format!("is not an address: {e}")))
}

/// `0x` and whole bytes of hex, exactly `length` of them when given.
fn hex_bytes(value: &Value, length: Option<usize>, path: &str) -> Result<Vec<u8>, InvalidField> {
    let what = match length {
        Some(n) => format!("must be 0x followed by {} of hex", count(n, "byte")),
        None => "must be 0x followed by hex digits, whole bytes".to_owned(),
    };
    let digits =
        value.as_str().and_then(|text| text.strip_prefix("0x")).ok_or_else(|| invalid(path, &what))?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(path, what));
    }
    let bytes = hex::decode(digits)
        .map_err(|_| invalid(path, "is hex of odd length: give whole bytes (0x0a, not 0xa)"))?;
    match length {
        Some(n) if bytes.len() != n => {
            Err(invalid(path, format!("has {}; bytes{n} takes exactly {n}", count(bytes.len(), "byte"))))
        }
        _ => Ok(bytes),
    }
}

/// An integer of `bits` bits, signed or not, as (negative, magnitude): a
/// JSON integer, a decimal string or 0x hex, with a leading `-` when
/// negative. JSON numbers with a fraction or exponent, or too large for
/// 64 bits, are refused: they arrive already rounded.
fn integer(value: &Value, bits: usize, signed: bool, path: &str) -> Result<(bool, U256), InvalidField> {
    let kind = if signed { format!("int{bits}") } else { format!("uint{bits}") };
    let what = || {
        let sign = if signed { ", with a leading - when negative" } else { "" };
        invalid(
            path,
            format!("must be an integer ({kind}): a JSON integer, a decimal string or 0x hex{sign}"),
        )
    };
    let (negative, magnitude) = match value {
        Value::Number(number) => match (number.as_u64(), number.as_i64()) {
            (Some(n), _) => (false, U256::from(n)),
            (None, Some(n)) => (true, U256::from(n.unsigned_abs())),
            (None, None) => {
                return Err(invalid(
                    path,
                    format!(
                        "is a JSON number that is not an exact integer; give the {kind} as a decimal string"
                    ),
                ));
            }
        },
        Value::String(text) => integer_text(text).ok_or_else(what)?,
        _ => return Err(what()),
    };
    let negative = negative && !magnitude.is_zero();
    // The largest magnitude a negative value may have, and a positive one.
    let (most_negative, most_positive) = if signed {
        let half = U256::from(1u8) << (bits - 1);
        (half, half - U256::from(1u8))
    } else {
        (U256::ZERO, U256::MAX >> (256 - bits))
    };
    let in_range = if negative { magnitude <= most_negative } else { magnitude <= most_positive };
    if !in_range {
        let range = if signed {
            format!("-2^{} to 2^{} - 1", bits - 1, bits - 1)
        } else {
            format!("0 to 2^{bits} - 1")
        };
        return Err(invalid(path, format!("is out of range: {kind} takes {range}")));
    }
    Ok((negative, magnitude))
}

/// `123`, `-123`, `0x7b`, `-0x7b` (or `0X`): sign and magnitude, if the
/// text is one of those and fits in 256 bits.
fn integer_text(text: &str) -> Option<(bool, U256)> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (digits, radix) = match unsigned.strip_prefix("0x").or_else(|| unsigned.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (unsigned, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    U256::from_str_radix(digits, u64::from(radix)).ok().map(|magnitude| (negative, magnitude))
}

// -------------------------------------------------------------- hashing

/// Hands the validated types, domain and canonical message to alloy.
fn hash(
    structs: &Structs,
    domain: Domain,
    primary_type: String,
    message: Value,
) -> Result<TypedData, alloy_dyn_abi::Error> {
    let mut resolver = Resolver::default();
    for (name, fields) in structs {
        let properties = fields
            .iter()
            .map(|field| PropertyDef::new(field.kind.to_string(), field.name.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        resolver.ingest(TypeDef::new(name.clone(), properties)?);
    }
    let typed = alloy_dyn_abi::TypedData { domain: domain.to_alloy(), resolver, primary_type, message };
    let domain_separator = typed.domain.separator().0;
    let struct_hash = typed.hash_struct()?.0;
    let signing_hash = typed.eip712_signing_hash()?.0;
    Ok(TypedData {
        primary_type: typed.primary_type,
        domain,
        message: typed.message,
        domain_separator,
        struct_hash,
        signing_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PrivateKey;
    use crate::account::keccak256;
    use proptest::prelude::*;
    use serde_json::json;

    /// EIP-712's own example, as ethers and viem send it.
    fn mail() -> Value {
        json!({
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"}
                ],
                "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
                "Mail": [
                    {"name": "from", "type": "Person"},
                    {"name": "to", "type": "Person"},
                    {"name": "contents", "type": "string"}
                ]
            },
            "primaryType": "Mail",
            "domain": {
                "name": "Ether Mail",
                "version": "1",
                "chainId": 1,
                "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
            },
            "message": {
                "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
                "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
                "contents": "Hello, Bob!"
            }
        })
    }

    /// Typed data whose message is one field `v` of type `kind`.
    fn one_field(kind: &str, value: Value) -> Value {
        json!({
            "types": {"T": [{"name": "v", "type": kind}]},
            "primaryType": "T",
            "domain": {},
            "message": {"v": value}
        })
    }

    /// `T0 { T1 next }`, …, `T{levels} { uint8 v }`: levels + 1 structs deep.
    fn chain(levels: usize) -> Value {
        let mut types = Map::new();
        let mut message = json!({"v": 1});
        for i in (0..levels).rev() {
            types.insert(format!("T{i}"), json!([{"name": "next", "type": format!("T{}", i + 1)}]));
            message = json!({"next": message});
        }
        types.insert(format!("T{levels}"), json!([{"name": "v", "type": "uint8"}]));
        json!({"types": types, "primaryType": "T0", "domain": {}, "message": message})
    }

    fn parse(value: &Value) -> TypedData {
        TypedData::from_json(value, "typed_data").unwrap_or_else(|e| panic!("{e}"))
    }

    fn refused(value: &Value) -> InvalidField {
        match TypedData::from_json(value, "typed_data") {
            Ok(typed) => panic!("accepted, digest {}", hex::encode(typed.signing_hash())),
            Err(e) => e,
        }
    }

    fn with(mut value: Value, pointer: &str, new: Value) -> Value {
        *value.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer}")) = new;
        value
    }

    fn insert(mut value: Value, object: &str, key: &str, new: Value) -> Value {
        let fields = value.pointer_mut(object).and_then(Value::as_object_mut);
        fields.unwrap_or_else(|| panic!("no object at {object}")).insert(key.to_owned(), new);
        value
    }

    fn without(mut value: Value, object: &str, key: &str) -> Value {
        let fields = value.pointer_mut(object).and_then(Value::as_object_mut);
        fields.unwrap_or_else(|| panic!("no object at {object}")).remove(key);
        value
    }

    fn hex32(bytes: [u8; 32]) -> String {
        format!("0x{}", hex::encode(bytes))
    }

    #[test]
    fn eip712s_mail_example_hashes_and_signs_byte_for_byte() {
        let typed = parse(&mail());
        assert_eq!(
            hex32(typed.domain_separator()),
            "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
        );
        assert_eq!(
            hex32(typed.struct_hash()),
            "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e"
        );
        let digest = typed.signing_hash();
        assert_eq!(hex32(digest), "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2");

        let key = PrivateKey::from_bytes(&keccak256(b"cow")).unwrap_or_else(|e| panic!("{e}"));
        let signature = key.sign_prehash(&digest).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(27 + signature.recovery_id, 28);
        assert_eq!(hex32(signature.r), "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d");
        assert_eq!(hex32(signature.s), "0x07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562");

        // ethers and viem send a string; EIP712Domain in `types` is optional.
        assert_eq!(parse(&Value::String(mail().to_string())), typed);
        assert_eq!(parse(&without(mail(), "/types", "EIP712Domain")), typed);

        assert_eq!(typed.primary_type(), "Mail");
        assert_eq!(typed.chain_id(), Some(1));
        assert_eq!(typed.domain_name(), Some("Ether Mail"));
        assert_eq!(typed.domain_version(), Some("1"));
        assert_eq!(
            typed.verifying_contract().map(|address| address.to_storage()).as_deref(),
            Some("0xcccccccccccccccccccccccccccccccccccccccc")
        );
        assert_eq!(
            typed.message(),
            &json!({
                "from": {"name": "Cow", "wallet": "0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826"},
                "to": {"name": "Bob", "wallet": "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
                "contents": "Hello, Bob!"
            })
        );
    }

    #[test]
    fn every_ethers_vector_hashes_the_same() {
        let vectors: Value =
            serde_json::from_str(include_str!("../../tests/vectors/typed-data/ethers-v6.json"))
                .unwrap_or_else(|e| panic!("{e}"));
        let cases = vectors["cases"].as_array().cloned().unwrap_or_default();
        assert_eq!(cases.len(), 150);
        for case in &cases {
            let name = case["name"].as_str().unwrap_or_default();
            let raw = &case["raw"];
            for (variant, input) in [
                ("payload", case["payload"].clone()),
                ("raw", raw.clone()),
                ("raw as a string", Value::String(raw.to_string())),
            ] {
                let typed = TypedData::from_json(&input, "typed_data")
                    .unwrap_or_else(|e| panic!("{name} ({variant}): {e}"));
                assert_eq!(
                    Value::from(hex32(typed.domain_separator())),
                    case["domainSeparator"],
                    "{name} ({variant})"
                );
                assert_eq!(Value::from(hex32(typed.struct_hash())), case["structHash"], "{name} ({variant})");
                assert_eq!(Value::from(hex32(typed.signing_hash())), case["digest"], "{name} ({variant})");
                // ethers' normalized message is the same canonical form.
                assert_eq!(typed.message(), &case["payload"]["message"], "{name} ({variant})");
            }
        }
    }

    #[test]
    fn integers_are_numbers_decimal_or_hex_and_range_checked() {
        let digest = |kind: &str, value: Value| parse(&one_field(kind, value)).signing_hash();
        let positive = digest("int16", json!(123));
        for spelling in [json!("123"), json!("0x7b"), json!("0X7B"), json!("0x007b")] {
            assert_eq!(digest("int16", spelling), positive);
        }
        let negative = digest("int16", json!(-123));
        for spelling in [json!("-123"), json!("-0x7b")] {
            assert_eq!(digest("int16", spelling), negative);
        }
        assert_eq!(digest("uint8", json!("-0")), digest("uint8", json!(0)));

        for (kind, value) in [
            ("uint8", json!(255)),
            ("int8", json!(-128)),
            ("int8", json!("0x7f")),
            ("uint64", json!(u64::MAX)),
            ("int64", json!(i64::MIN)),
            ("int128", json!(u64::MAX)),
            ("uint256", json!(format!("0x{}", "f".repeat(64)))),
            ("int256", json!(format!("-0x8{}", "0".repeat(63)))),
            ("int256", json!(format!("0x7{}", "f".repeat(63)))),
        ] {
            let typed = parse(&one_field(kind, value.clone()));
            let canonical = &typed.message()["v"];
            assert!(canonical.is_string(), "{kind} {value} became {canonical}");
        }
        assert_eq!(parse(&one_field("int8", json!("-0x80"))).message()["v"], json!("-128"));
    }

    #[test]
    fn every_refusal_names_the_bad_field() {
        let cycle = json!({
            "types": {"A": [{"name": "b", "type": "B"}], "B": [{"name": "a", "type": "A[]"}]},
            "primaryType": "A", "domain": {}, "message": {"b": {"a": []}}
        });
        let self_cycle = json!({
            "types": {"Node": [{"name": "children", "type": "Node[]"}]},
            "primaryType": "Node", "domain": {}, "message": {"children": []}
        });
        let deep_json = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let cases = [
            // Types.
            (with(mail(), "/types/Person/1/type", json!("adress")), "typed_data.types.Person[1].type"),
            (one_field("uint", json!(1)), "typed_data.types.T[0].type"),
            (one_field("int", json!(1)), "typed_data.types.T[0].type"),
            (one_field("bytes33", json!("0x00")), "typed_data.types.T[0].type"),
            (one_field("uint7", json!(1)), "typed_data.types.T[0].type"),
            (one_field("int264", json!(1)), "typed_data.types.T[0].type"),
            (one_field("uint8[0]", json!([])), "typed_data.types.T[0].type"),
            (one_field("uint8[01]", json!([1])), "typed_data.types.T[0].type"),
            (one_field("uint8[", json!([1])), "typed_data.types.T[0].type"),
            (one_field("uint8 ", json!(1)), "typed_data.types.T[0].type"),
            (one_field(&format!("uint8{}", "[1]".repeat(33)), json!(1)), "typed_data.types.T[0].type"),
            (with(mail(), "/types/Person/1/name", json!("wal let")), "typed_data.types.Person[1].name"),
            (with(mail(), "/types/Person/1/name", json!("name")), "typed_data.types.Person[1].name"),
            (insert(mail(), "/types/Person/1", "kind", json!(1)), "typed_data.types.Person[1].kind"),
            (insert(mail(), "/types", "uint256", json!([])), "typed_data.types.uint256"),
            (insert(mail(), "/types", "A$", json!([])), "typed_data.types.A$"),
            (with(mail(), "/types/Person", json!({})), "typed_data.types.Person"),
            (cycle.clone(), "typed_data.types.A"),
            (self_cycle, "typed_data.types.Node"),
            (chain(32), "typed_data.types.T0"),
            // Top level and domain.
            (with(mail(), "/primaryType", json!("Letter")), "typed_data.primaryType"),
            (without(mail(), "", "primaryType"), "typed_data.primaryType"),
            (insert(mail(), "", "extra", json!(1)), "typed_data.extra"),
            (insert(mail(), "/domain", "chainID", json!(1)), "typed_data.domain.chainID"),
            (insert(mail(), "/domain", "salt", Value::Null), "typed_data.domain.salt"),
            (insert(mail(), "/domain", "salt", json!("0x01")), "typed_data.domain.salt"),
            (with(mail(), "/domain/chainId", json!("0x10000000000000000")), "typed_data.domain.chainId"),
            (with(mail(), "/domain/verifyingContract", json!("0x12")), "typed_data.domain.verifyingContract"),
            (without(mail(), "/domain", "chainId"), "typed_data.types.EIP712Domain"),
            (
                with(
                    mail(),
                    "/types/EIP712Domain",
                    json!([
                        {"name": "version", "type": "string"},
                        {"name": "name", "type": "string"},
                        {"name": "chainId", "type": "uint256"},
                        {"name": "verifyingContract", "type": "address"}
                    ]),
                ),
                "typed_data.types.EIP712Domain",
            ),
            (with(mail(), "/types/EIP712Domain/2/type", json!("uint64")), "typed_data.types.EIP712Domain"),
            (Value::String("{\"types\": ".into()), "typed_data"),
            (Value::String(deep_json), "typed_data"),
            (json!([mail()]), "typed_data"),
            // Values.
            (without(mail(), "/message/to", "wallet"), "typed_data.message.to.wallet"),
            (insert(mail(), "/message/to", "walet", json!("0x00")), "typed_data.message.to.walet"),
            (without(mail(), "", "message"), "typed_data.message"),
            (
                with(mail(), "/message/from/wallet", json!("0xcD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")),
                "typed_data.message.from.wallet",
            ),
            (with(mail(), "/message/contents", json!(5)), "typed_data.message.contents"),
            (one_field("uint8", json!(256)), "typed_data.message.v"),
            (one_field("uint8", json!(-1)), "typed_data.message.v"),
            (one_field("int8", json!(-129)), "typed_data.message.v"),
            (one_field("int8", json!(128)), "typed_data.message.v"),
            (one_field("int8", json!("-0x81")), "typed_data.message.v"),
            (one_field("uint256", json!(format!("0x1{}", "0".repeat(64)))), "typed_data.message.v"),
            (one_field("uint256", json!(1.5)), "typed_data.message.v"),
            (one_field("uint256", json!(1e3)), "typed_data.message.v"),
            (one_field("uint256", json!("1e3")), "typed_data.message.v"),
            (one_field("uint256", json!(" 1")), "typed_data.message.v"),
            (one_field("uint256", json!("0x")), "typed_data.message.v"),
            (one_field("uint256", json!("--1")), "typed_data.message.v"),
            (one_field("bytes4", json!("0x010203")), "typed_data.message.v"),
            (one_field("bytes", json!("0xabc")), "typed_data.message.v"),
            (one_field("bytes", json!("abcd")), "typed_data.message.v"),
            (one_field("bytes", json!([1, 2])), "typed_data.message.v"),
            (one_field("bool", json!("true")), "typed_data.message.v"),
            (one_field("uint8[2]", json!([1, 2, 3])), "typed_data.message.v"),
            (one_field("uint8[]", json!([1, 300])), "typed_data.message.v[1]"),
            (one_field("uint8[][2]", json!([[1], [2, "x"]])), "typed_data.message.v[1][1]"),
        ];
        for (input, field) in cases {
            let error = refused(&input);
            assert_eq!(error.field, field, "{error}");
            assert!(!error.reason.is_empty() && !error.reason.contains('\n'), "{error}");
        }

        // The cycle names its types; the prefix is the caller's.
        let error = refused(&cycle);
        assert!(error.reason.contains("A → B → A"), "{error}");
        let error = TypedData::from_json(&one_field("uint8", json!(256)), "params[1]").err();
        assert_eq!(error.map(|e| e.field).as_deref(), Some("params[1].message.v"));
    }

    #[test]
    fn nesting_and_size_stop_at_their_limits() {
        parse(&chain(31));
        parse(&one_field(&format!("uint8{}", "[1]".repeat(31)), (0..31).fold(json!(1), |v, _| json!([v]))));
        let huge = one_field("uint8[]", Value::Array(vec![json!(0); MAX_VALUES]));
        let error = refused(&huge);
        assert!(error.field.starts_with("typed_data.message.v["), "{error}");
    }

    #[test]
    fn the_domain_may_be_the_primary_type() {
        let domain = mail()["domain"].clone();
        let input = json!({
            "types": {"EIP712Domain": mail()["types"]["EIP712Domain"].clone()},
            "primaryType": "EIP712Domain",
            "domain": domain,
            "message": domain
        });
        let typed = parse(&input);
        let mut preimage = vec![0x19, 0x01];
        preimage.extend_from_slice(&typed.domain_separator());
        assert_eq!(typed.signing_hash(), keccak256(&preimage));
        assert_eq!(typed.struct_hash(), typed.domain_separator());

        let other = with(input, "/message/name", json!("Other Mail"));
        assert_eq!(refused(&other).field, "typed_data.message");
    }

    /// Alloy's own deserializer, fed the canonical payload of `typed`.
    fn alloy_signing_hash(typed: &TypedData, input: &Value) -> [u8; 32] {
        let input = match input {
            Value::String(text) => serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}")),
            other => other.clone(),
        };
        let payload = json!({
            "types": input["types"],
            "primaryType": typed.primary_type(),
            "domain": typed.domain.to_json(),
            "message": typed.message(),
        });
        let alloy: alloy_dyn_abi::TypedData =
            serde_json::from_value(payload).unwrap_or_else(|e| panic!("{e}"));
        alloy.eip712_signing_hash().unwrap_or_else(|e| panic!("{e}")).0
    }

    #[derive(Debug, Clone)]
    enum Mutation {
        Replace(Value),
        Remove(usize),
        Insert(String, Value),
    }

    fn key() -> impl Strategy<Value = String> {
        const KNOWN: &[&str] = &[
            "name",
            "type",
            "wallet",
            "from",
            "to",
            "contents",
            "types",
            "primaryType",
            "domain",
            "message",
            "version",
            "chainId",
            "verifyingContract",
            "salt",
            "EIP712Domain",
            "Person",
            "Mail",
        ];
        prop_oneof![prop::sample::select(KNOWN).prop_map(str::to_owned), "[a-zA-Z_$:]{1,8}"]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        const TEXTS: &[&str] = &[
            "uint256",
            "int8",
            "bytes32",
            "string",
            "address",
            "bool",
            "uint",
            "Person",
            "Person[]",
            "Person[2]",
            "Mail",
            "EIP712Domain",
            "0x",
            "0xabc",
            "0x00",
            "-1",
            "-0x80",
            "255",
            "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826",
            "0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop::sample::select(TEXTS).prop_map(Value::from),
            "[ -~]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..4)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            json_value().prop_map(Mutation::Replace),
            any::<usize>().prop_map(Mutation::Remove),
            (key(), json_value()).prop_map(|(key, value)| Mutation::Insert(key, value)),
        ]
    }

    /// Walks down `steps` (each picks a child, modulo the count) as far as
    /// it can, then applies `mutation` there.
    fn mutate(value: &mut Value, steps: &[usize], mutation: &Mutation) {
        let child = match (steps.split_first(), &mut *value) {
            (Some((step, _)), Value::Object(fields)) if !fields.is_empty() => {
                let count = fields.len();
                fields.values_mut().nth(step % count)
            }
            (Some((step, _)), Value::Array(items)) if !items.is_empty() => {
                let count = items.len();
                items.get_mut(step % count)
            }
            _ => None,
        };
        if let Some(child) = child {
            return mutate(child, &steps[1..], mutation);
        }
        match (mutation, value) {
            (Mutation::Replace(new), value) => *value = new.clone(),
            (Mutation::Remove(i), Value::Object(fields)) if !fields.is_empty() => {
                let key = fields.keys().nth(i % fields.len()).cloned().unwrap_or_default();
                fields.remove(&key);
            }
            (Mutation::Remove(i), Value::Array(items)) if !items.is_empty() => {
                items.remove(i % items.len());
            }
            (Mutation::Insert(key, new), Value::Object(fields)) => {
                fields.insert(key.clone(), new.clone());
            }
            (Mutation::Insert(_, new), Value::Array(items)) => items.push(new.clone()),
            (_, value) => *value = Value::Null,
        }
    }

    /// An integer as a JSON number, a decimal string or 0x hex.
    fn spelled(negative: bool, magnitude: u64, spelling: u8) -> Value {
        let sign = if negative && magnitude != 0 { "-" } else { "" };
        match spelling % 3 {
            0 if !negative || magnitude <= i64::MAX as u64 => {
                if sign.is_empty() {
                    json!(magnitude)
                } else {
                    json!(-(magnitude as i64))
                }
            }
            1 => json!(format!("{sign}0x{magnitude:x}")),
            _ => json!(format!("{sign}{magnitude}")),
        }
    }

    /// Mixed-case 0x hex, as wallets and dapps write it.
    fn mixed_hex(bytes: &[u8], upper: bool) -> Value {
        let digits = if upper { hex::encode_upper(bytes) } else { hex::encode(bytes) };
        json!(format!("0x{digits}"))
    }

    prop_compose! {
        /// Valid typed data of every atomic kind, an array of structs and a
        /// fixed array, with any subset of the domain.
        fn valid_typed_data()(
            small in any::<u8>(),
            signed in any::<i64>(),
            big in any::<[u8; 32]>(),
            bytes in prop::collection::vec(any::<u8>(), 0..40),
            word in any::<[u8; 4]>(),
            flag in any::<bool>(),
            text in ".{0,20}",
            wallet in any::<[u8; 20]>(),
            inner in prop::collection::vec((any::<i8>(), any::<[u8; 32]>()), 0..3),
            pair in any::<[u16; 2]>(),
            spellings in any::<[u8; 6]>(),
            upper in any::<bool>(),
            subset in 0u8..32,
            chain_id in any::<u64>(),
            declare_domain in any::<bool>(),
        ) -> Value {
            let domain_values = [
                json!(text.clone()),
                json!("1"),
                spelled(false, chain_id, spellings[0]),
                mixed_hex(&wallet, !upper),
                mixed_hex(&big, upper),
            ];
            let mut domain = Map::new();
            let mut domain_type = Vec::new();
            for (i, ((name, kind), value)) in DOMAIN_FIELDS.iter().zip(domain_values).enumerate() {
                if subset & (1 << i) != 0 {
                    domain.insert((*name).to_owned(), value);
                    domain_type.push(json!({"name": name, "type": kind}));
                }
            }
            let mut types = json!({
                "Inner": [{"name": "x", "type": "int8"}, {"name": "y", "type": "bytes32"}],
                "T": [
                    {"name": "a", "type": "uint8"}, {"name": "b", "type": "int256"},
                    {"name": "c", "type": "uint256"}, {"name": "d", "type": "bytes"},
                    {"name": "e", "type": "bytes4"}, {"name": "f", "type": "bool"},
                    {"name": "g", "type": "string"}, {"name": "h", "type": "address"},
                    {"name": "i", "type": "Inner[]"}, {"name": "j", "type": "uint16[2]"}
                ]
            });
            if declare_domain {
                types["EIP712Domain"] = Value::Array(domain_type);
            }
            let inner: Vec<_> = inner
                .iter()
                .map(|(x, y)| {
                    let x = spelled(*x < 0, x.unsigned_abs().into(), spellings[1]);
                    json!({"x": x, "y": mixed_hex(y, upper)})
                })
                .collect();
            json!({
                "types": types,
                "primaryType": "T",
                "domain": domain,
                "message": {
                    "a": spelled(false, small.into(), spellings[2]),
                    "b": spelled(signed < 0, signed.unsigned_abs(), spellings[3]),
                    "c": mixed_hex(&big, !upper),
                    "d": mixed_hex(&bytes, upper),
                    "e": mixed_hex(&word, upper),
                    "f": flag,
                    "g": text,
                    "h": mixed_hex(&wallet, upper),
                    "i": inner,
                    "j": [
                        spelled(false, pair[0].into(), spellings[4]),
                        spelled(false, pair[1].into(), spellings[5]),
                    ],
                }
            })
        }
    }

    proptest! {
        #[test]
        fn json_ish_text_is_refused_or_parsed_without_panic(text in r#"[\[\]{}":,0-9a-zA-Z_ .x-]{0,160}"#) {
            let _ = TypedData::from_json(&Value::String(text), "typed_data");
        }

        #[test]
        fn mutated_mail_is_refused_or_hashed_as_alloy_does(
            steps in prop::collection::vec(any::<usize>(), 0..6),
            mutation in mutation(),
        ) {
            let mut input = mail();
            mutate(&mut input, &steps, &mutation);
            let parsed = TypedData::from_json(&input, "typed_data");
            if input.is_object() {
                // The string form is the same typed data.
                let text = TypedData::from_json(&Value::String(input.to_string()), "typed_data");
                prop_assert_eq!(&parsed, &text);
            }
            if let Ok(typed) = parsed {
                prop_assert_eq!(typed.signing_hash(), alloy_signing_hash(&typed, &input));
            }
        }

        #[test]
        fn valid_typed_data_parses_and_hashes_as_alloy_does(input in valid_typed_data()) {
            let typed = TypedData::from_json(&input, "typed_data");
            prop_assert!(typed.is_ok(), "{:?}", typed.err());
            if let Ok(typed) = typed {
                prop_assert_eq!(typed.signing_hash(), alloy_signing_hash(&typed, &input));
            }
        }
    }
}
