//! The signer's request: `{"address": "0x…", "message": "…"}` or
//! `{"address": "0x…", "transaction": {…}}`. Parsed by hand from JSON
//! values so that every refusal names the field and says what it takes.

use ruint::aliases::U256;
use serde_json::{Map, Value};

use super::Payload;
use super::transaction::{AccessListEntry, Fees, Transaction};
use crate::account::Address;

/// The largest request body the signer reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A field that is missing, malformed or not allowed. Its message names the
/// field and says what it takes; it never echoes a whole payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {reason}")]
pub struct InvalidField {
    pub field: String,
    pub reason: String,
}

fn invalid(field: &str, reason: impl Into<String>) -> InvalidField {
    InvalidField { field: field.to_owned(), reason: reason.into() }
}

/// One signing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignRequest {
    pub address: Address,
    pub payload: Payload,
}

impl SignRequest {
    /// Parses a request body. Bodies over [`MAX_BODY_BYTES`] are refused
    /// before any parsing.
    pub fn parse(body: &[u8]) -> Result<Self, InvalidField> {
        if body.len() > MAX_BODY_BYTES {
            return Err(invalid(
                "body",
                format!("is {} bytes; the signer takes at most {MAX_BODY_BYTES}", body.len()),
            ));
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            invalid("body", format!("is not JSON ({e}); send {{\"address\": …, \"message\": …}}"))
        })?;
        let Value::Object(fields) = value else {
            return Err(invalid(
                "body",
                "must be a JSON object with `address` and `message` or `transaction`",
            ));
        };
        only_known(&fields, "", &["address", "message", "transaction"])?;
        let address = match fields.get("address") {
            Some(Value::String(text)) => {
                Address::parse(text.trim()).map_err(|e| invalid("address", format!("is invalid: {e}")))?
            }
            Some(_) => return Err(invalid("address", "must be a string: 0x followed by 40 hex digits")),
            None => return Err(invalid("address", "is missing: give the account to sign with")),
        };
        let payload = match (fields.get("message"), fields.get("transaction")) {
            (Some(Value::String(text)), None) => Payload::Message(parse_message(text)?),
            (Some(_), None) => {
                return Err(invalid("message", "must be a string: 0x-prefixed hex for bytes, or UTF-8 text"));
            }
            (None, Some(tx)) => {
                let tx_fields = tx.as_object().ok_or_else(|| invalid("transaction", "must be an object"))?;
                if let Some(from) = tx_fields.get("from").filter(|from| !from.is_null()) {
                    let from = from.as_str().and_then(|s| Address::parse(s.trim()).ok());
                    if from != Some(address) {
                        return Err(invalid("transaction.from", "must be the signing `address` when given"));
                    }
                }
                Payload::Transaction(Transaction::from_json(tx)?)
            }
            (Some(_), Some(_)) => {
                return Err(invalid("body", "has both `message` and `transaction`; send one of them"));
            }
            (None, None) => {
                return Err(invalid("body", "needs `message` or `transaction`: what should be signed?"));
            }
        };
        Ok(SignRequest { address, payload })
    }
}

/// A message as given: `0x`-prefixed hex (either case) is taken as bytes,
/// anything else as UTF-8 text. Hex of odd length is refused rather than
/// signed as text: whoever wrote it meant bytes.
pub fn parse_message(text: &str) -> Result<Vec<u8>, InvalidField> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    match digits {
        Some(digits) if digits.bytes().all(|b| b.is_ascii_hexdigit()) => hex::decode(digits).map_err(|_| {
            invalid(
                "message",
                "is hex of odd length: give whole bytes (0x0a, not 0xa), or text that does not start with 0x",
            )
        }),
        _ => Ok(text.as_bytes().to_vec()),
    }
}

/// Refuses fields other than `known`: a misspelt or unsupported field
/// would otherwise be signed away silently.
fn only_known(fields: &Map<String, Value>, prefix: &str, known: &[&str]) -> Result<(), InvalidField> {
    match fields.keys().find(|name| !known.contains(&name.as_str())) {
        None => Ok(()),
        Some(name) => Err(invalid(
            &format!("{prefix}{name}"),
            format!("is not a field Rossignol signs; the fields are {}", known.join(", ")),
        )),
    }
}

const TX_FIELDS: &[&str] = &[
    "chainId",
    "nonce",
    "to",
    "value",
    "gas",
    "gasLimit",
    "data",
    "input",
    "gasPrice",
    "maxFeePerGas",
    "maxPriorityFeePerGas",
    "accessList",
    "type",
    "from",
];

impl Transaction {
    /// Reads a transaction in the JSON-RPC shape: quantities as decimal
    /// strings, `0x` hex or JSON integers; `gasPrice` for an EIP-155 legacy
    /// transaction, `maxFeePerGas` and `maxPriorityFeePerGas` for EIP-1559.
    pub fn from_json(value: &Value) -> Result<Self, InvalidField> {
        let fields = value.as_object().ok_or_else(|| invalid("transaction", "must be an object"))?;
        only_known(fields, "transaction.", TX_FIELDS)?;
        let field = |name: &str| fields.get(name).filter(|v| !v.is_null());
        let u64_field = |name: &str| -> Result<Option<u64>, InvalidField> {
            field(name).map(|v| quantity(v, &format!("transaction.{name}"))?.try_into_u64(name)).transpose()
        };
        let u256_field = |name: &str| -> Result<Option<U256>, InvalidField> {
            field(name).map(|v| quantity(v, &format!("transaction.{name}"))).transpose()
        };

        let chain_id = u64_field("chainId")?
            .ok_or_else(|| invalid("transaction.chainId", "is missing; it is required (1 for mainnet)"))?;
        if chain_id == 0 {
            return Err(invalid("transaction.chainId", "must not be 0"));
        }
        let nonce = u64_field("nonce")?
            .ok_or_else(|| invalid("transaction.nonce", "is missing; give the account's nonce"))?;
        let gas = match (u64_field("gas")?, u64_field("gasLimit")?) {
            (Some(gas), None) | (None, Some(gas)) => gas,
            (Some(_), Some(_)) => return Err(invalid("transaction.gasLimit", "duplicates `gas`; give one")),
            (None, None) => return Err(invalid("transaction.gas", "is missing; give the gas limit")),
        };
        let to = match field("to") {
            None => None,
            Some(Value::String(text)) => Some(
                Address::parse(text.trim())
                    .map_err(|e| invalid("transaction.to", format!("is invalid: {e}")))?,
            ),
            Some(_) => {
                return Err(invalid(
                    "transaction.to",
                    "must be an address string, or absent to create a contract",
                ));
            }
        };
        let value = u256_field("value")?.unwrap_or(U256::ZERO);
        let data = match (field("data"), field("input")) {
            (Some(v), None) => hex_bytes(v, "transaction.data")?,
            (None, Some(v)) => hex_bytes(v, "transaction.input")?,
            (None, None) => Vec::new(),
            (Some(_), Some(_)) => return Err(invalid("transaction.input", "duplicates `data`; give one")),
        };

        let fees = match (
            u256_field("gasPrice")?,
            u256_field("maxFeePerGas")?,
            u256_field("maxPriorityFeePerGas")?,
        ) {
            (Some(gas_price), None, None) => Fees::Legacy { gas_price },
            (None, Some(max_fee_per_gas), Some(max_priority_fee_per_gas)) => {
                if max_priority_fee_per_gas > max_fee_per_gas {
                    return Err(invalid(
                        "transaction.maxPriorityFeePerGas",
                        "is above `maxFeePerGas`; the tip cannot exceed the fee cap",
                    ));
                }
                Fees::Eip1559 { max_fee_per_gas, max_priority_fee_per_gas }
            }
            (None, Some(_), None) => {
                return Err(invalid(
                    "transaction.maxPriorityFeePerGas",
                    "is missing; EIP-1559 needs both fees",
                ));
            }
            (None, None, Some(_)) => {
                return Err(invalid("transaction.maxFeePerGas", "is missing; EIP-1559 needs both fees"));
            }
            (Some(_), _, _) => {
                return Err(invalid(
                    "transaction.gasPrice",
                    "cannot go with `maxFeePerGas`/`maxPriorityFeePerGas`; give `gasPrice` (legacy) or both EIP-1559 fees",
                ));
            }
            (None, None, None) => {
                return Err(invalid(
                    "transaction.gasPrice",
                    "is missing; give `gasPrice` (legacy) or `maxFeePerGas` and `maxPriorityFeePerGas` (EIP-1559)",
                ));
            }
        };

        let access_list = match field("accessList") {
            None => Vec::new(),
            Some(list) => {
                if matches!(fees, Fees::Legacy { .. }) {
                    return Err(invalid("transaction.accessList", "needs an EIP-1559 transaction"));
                }
                access_list(list)?
            }
        };
        if let Some(kind) = field("type") {
            let expected = match fees {
                Fees::Legacy { .. } => 0u64,
                Fees::Eip1559 { .. } => 2,
            };
            if quantity(kind, "transaction.type")?.try_into_u64("type")? != expected {
                return Err(invalid(
                    "transaction.type",
                    format!("does not match the fee fields, which make a type {expected} transaction"),
                ));
            }
        }
        Ok(Transaction { chain_id, nonce, fees, gas, to, value, data, access_list })
    }
}

/// A JSON-RPC quantity: a decimal string, `0x` hex, or a JSON integer.
fn quantity(value: &Value, field: &str) -> Result<U256, InvalidField> {
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

trait IntoU64 {
    fn try_into_u64(self, name: &str) -> Result<u64, InvalidField>;
}

impl IntoU64 for U256 {
    fn try_into_u64(self, name: &str) -> Result<u64, InvalidField> {
        u64::try_from(self).map_err(|_| invalid(&format!("transaction.{name}"), "does not fit in 64 bits"))
    }
}

fn hex_bytes(value: &Value, field: &str) -> Result<Vec<u8>, InvalidField> {
    value
        .as_str()
        .and_then(|text| text.trim().strip_prefix("0x"))
        .and_then(|digits| hex::decode(digits).ok())
        .ok_or_else(|| invalid(field, "must be 0x followed by an even number of hex digits"))
}

fn access_list(value: &Value) -> Result<Vec<AccessListEntry>, InvalidField> {
    let entries = value.as_array().ok_or_else(|| invalid("transaction.accessList", "must be an array"))?;
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let field = format!("transaction.accessList[{i}]");
            let object = entry
                .as_object()
                .ok_or_else(|| invalid(&field, "must be an object with `address` and `storageKeys`"))?;
            only_known(object, &format!("{field}."), &["address", "storageKeys"])?;
            let address = object
                .get("address")
                .and_then(Value::as_str)
                .and_then(|text| Address::parse(text.trim()).ok())
                .ok_or_else(|| invalid(&format!("{field}.address"), "must be an address"))?;
            let keys = match object.get("storageKeys") {
                None => &Vec::new(),
                Some(Value::Array(keys)) => keys,
                Some(_) => return Err(invalid(&format!("{field}.storageKeys"), "must be an array")),
            };
            let storage_keys = keys
                .iter()
                .enumerate()
                .map(|(j, key)| {
                    let bytes = hex_bytes(key, &format!("{field}.storageKeys[{j}]"))?;
                    <[u8; 32]>::try_from(bytes.as_slice())
                        .map_err(|_| invalid(&format!("{field}.storageKeys[{j}]"), "must be 32 bytes"))
                })
                .collect::<Result<_, _>>()?;
            Ok(AccessListEntry { address, storage_keys })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<SignRequest, InvalidField> {
        SignRequest::parse(value.to_string().as_bytes())
    }

    const ADDRESS: &str = "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf";

    #[test]
    fn messages_are_hex_bytes_or_utf8_text() {
        let message = |text: &str| parse_message(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(message("0x68656c6c6f"), b"hello");
        assert_eq!(message("0X68656C6C6F"), b"hello");
        assert_eq!(message("hello"), b"hello");
        assert_eq!(message("0xzz"), b"0xzz");
        assert_eq!(message("0x12 apples"), b"0x12 apples");
        assert_eq!(message("0x"), b"");
        for odd in ["0x123", "0Xa"] {
            let refused = parse_message(odd).expect_err(odd);
            assert_eq!(refused.field, "message");
            assert!(refused.reason.contains("odd length"), "{refused}");
        }
        let refused = parse(json!({"address": ADDRESS, "message": "0xabc"})).expect_err("odd hex");
        assert_eq!(refused.field, "message");
        let request = parse(json!({"address": ADDRESS, "message": "hi"})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(request.payload, Payload::Message(b"hi".to_vec()));
    }

    #[test]
    fn transactions_take_decimal_hex_and_integers() {
        let request = parse(json!({"address": ADDRESS, "transaction": {
            "chainId": 1, "nonce": "0x9", "gasPrice": "20000000000", "gas": "21000",
            "to": "0x3535353535353535353535353535353535353535", "value": "0xde0b6b3a7640000"
        }}))
        .unwrap_or_else(|e| panic!("{e}"));
        let Payload::Transaction(tx) = request.payload else { panic!("not a transaction") };
        assert_eq!((tx.chain_id, tx.nonce, tx.gas), (1, 9, 21_000));
        assert_eq!(tx.fees, Fees::Legacy { gas_price: U256::from(20_000_000_000u64) });
        assert_eq!(tx.value, U256::from(1_000_000_000_000_000_000u64));
    }

    #[test]
    fn from_may_be_the_signer_or_null() {
        for from in [json!(ADDRESS), json!(ADDRESS.to_uppercase().replace("0X", "0x")), Value::Null] {
            let body = json!({"address": ADDRESS, "transaction": {
                "chainId": "1", "nonce": "0", "gas": "21000", "gasPrice": "1", "from": from
            }});
            parse(body).unwrap_or_else(|e| panic!("from = {from}: {e}"));
        }
    }

    #[test]
    fn every_refusal_names_its_field() {
        let tx = |extra: Value| {
            let mut base = json!({"chainId": "1", "nonce": "0", "gas": "21000", "maxFeePerGas": "2", "maxPriorityFeePerGas": "1"});
            if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
                for (k, v) in extra {
                    if v.is_null() {
                        base.remove(k);
                    } else {
                        base.insert(k.clone(), v.clone());
                    }
                }
            }
            json!({"address": ADDRESS, "transaction": base})
        };
        let cases = [
            (json!([1]), "body"),
            (json!({"message": "x"}), "address"),
            (json!({"address": "0x12", "message": "x"}), "address"),
            (json!({"address": ADDRESS}), "body"),
            (json!({"address": ADDRESS, "message": "x", "transaction": {}}), "body"),
            (json!({"address": ADDRESS, "message": 5}), "message"),
            (json!({"address": ADDRESS, "message": "x", "extra": 1}), "extra"),
            (tx(json!({"chainId": null})), "transaction.chainId"),
            (tx(json!({"chainId": "0"})), "transaction.chainId"),
            (tx(json!({"nonce": "-1"})), "transaction.nonce"),
            (tx(json!({"nonce": "0x10000000000000000"})), "transaction.nonce"),
            (tx(json!({"gas": null})), "transaction.gas"),
            (tx(json!({"value": "0x1".to_owned() + &"0".repeat(64)})), "transaction.value"),
            (tx(json!({"to": "0xabc"})), "transaction.to"),
            (tx(json!({"data": "0x123"})), "transaction.data"),
            (tx(json!({"gasPrice": "1"})), "transaction.gasPrice"),
            (tx(json!({"maxPriorityFeePerGas": "3"})), "transaction.maxPriorityFeePerGas"),
            (tx(json!({"maxPriorityFeePerGas": null})), "transaction.maxPriorityFeePerGas"),
            (tx(json!({"type": "0x0"})), "transaction.type"),
            (tx(json!({"from": "0x3535353535353535353535353535353535353535"})), "transaction.from"),
            (
                tx(json!({"accessList": [{"address": ADDRESS, "storageKeys": ["0x01"]}]})),
                "transaction.accessList[0].storageKeys[0]",
            ),
            (tx(json!({"maxFeePerBlobGas": "1"})), "transaction.maxFeePerBlobGas"),
        ];
        for (body, field) in cases {
            let err = parse(body.clone()).expect_err(&body.to_string());
            assert_eq!(err.field, field, "{body}: {err}");
        }
        let huge = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(SignRequest::parse(&huge).map_err(|e| e.field), Err("body".to_owned()));
    }
}
