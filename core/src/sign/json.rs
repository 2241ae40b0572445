//! Reading fields out of JSON values the way Ethereum's JSON-RPC writes
//! them, with refusals that name the field. Shared by Rossignol's own
//! request shape, transactions, authorizations and the JSON-RPC surface.

use ruint::aliases::U256;
use serde_json::{Map, Value};

use super::InvalidField;
use crate::account::Address;

pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> InvalidField {
    InvalidField { field: field.to_owned(), reason: reason.into() }
}

/// Refuses fields other than `known`: a misspelt or unsupported field
/// would otherwise be signed away silently.
pub(crate) fn only_known(
    fields: &Map<String, Value>,
    prefix: &str,
    known: &[&str],
) -> Result<(), InvalidField> {
    match fields.keys().find(|name| !known.contains(&name.as_str())) {
        None => Ok(()),
        Some(name) => Err(invalid(
            &format!("{prefix}{name}"),
            format!("is not a field Rossignol signs; the fields are {}", known.join(", ")),
        )),
    }
}

/// The object at `value`, or a refusal naming `field`.
pub(crate) fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, InvalidField> {
    value.as_object().ok_or_else(|| invalid(field, "must be a JSON object"))
}

/// A JSON-RPC quantity: a decimal string, `0x` hex, or a JSON integer.
pub(crate) fn quantity(value: &Value, field: &str) -> Result<U256, InvalidField> {
    let what = "must be a non-negative integer: a decimal string, 0x hex, or a JSON integer";
    match value {
        Value::Number(n) => n.as_u64().map(U256::from).ok_or_else(|| invalid(field, what)),
        Value::String(text) => {
            let text = text.trim();
            let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                Some(hex) => (hex, 16),
                None => (text, 10),
            };
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix as u32)) {
                return Err(invalid(field, what));
            }
            U256::from_str_radix(digits, radix).map_err(|_| invalid(field, "does not fit in 256 bits"))
        }
        _ => Err(invalid(field, what)),
    }
}

pub(crate) fn quantity_u64(value: &Value, field: &str) -> Result<u64, InvalidField> {
    u64::try_from(quantity(value, field)?).map_err(|_| invalid(field, "does not fit in 64 bits"))
}

pub(crate) fn quantity_u128(value: &Value, field: &str) -> Result<u128, InvalidField> {
    u128::try_from(quantity(value, field)?).map_err(|_| invalid(field, "does not fit in 128 bits"))
}

/// `0x` followed by an even number of hex digits.
pub(crate) fn hex_bytes(value: &Value, field: &str) -> Result<Vec<u8>, InvalidField> {
    value
        .as_str()
        .and_then(|text| text.trim().strip_prefix("0x"))
        .and_then(|digits| hex::decode(digits).ok())
        .ok_or_else(|| invalid(field, "must be 0x followed by an even number of hex digits"))
}

pub(crate) fn address(value: &Value, field: &str) -> Result<Address, InvalidField> {
    match value {
        Value::String(text) => {
            Address::parse(text.trim()).map_err(|e| invalid(field, format!("is invalid: {e}")))
        }
        _ => Err(invalid(field, "must be a string: 0x followed by 40 hex digits")),
    }
}

/// The field `name` of `fields`, treating JSON `null` as absent (clients
/// send `"to": null` for a contract creation).
pub(crate) fn field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields.get(name).filter(|v| !v.is_null())
}

/// `0x` hex of a quantity without leading zeros, as JSON-RPC writes them.
pub(crate) fn hex_quantity(value: U256) -> String {
    format!("{value:#x}")
}
