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

mod domain;
mod message;
#[cfg(test)]
mod tests;
mod types;

use crate::account::Address;
use domain::*;
use message::*;
use types::*;

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
