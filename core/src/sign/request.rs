//! The signer's request in Rossignol's own JSON: `{"address": "0x…"}` and
//! one of `message`, `typed_data`, `transaction` or `authorization`, named
//! as signing policy names the kinds. Parsed by hand from JSON values so
//! that every refusal names the field and says what it takes.

use serde_json::Value;

use super::json::{address, invalid, object, only_known};
use super::{Authorization, Kind, Payload, Transaction, TypedData};
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

/// One signing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignRequest {
    pub address: Address,
    pub payload: Payload,
}

const KINDS: &str = "`message`, `typed_data`, `transaction` or `authorization`";

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
            return Err(invalid("body", format!("must be a JSON object with `address` and {KINDS}")));
        };
        only_known(&fields, "", &["address", "message", "typed_data", "transaction", "authorization"])?;
        let address = match fields.get("address") {
            Some(value) => address(value, "address")?,
            None => return Err(invalid("address", "is missing: give the account to sign with")),
        };
        let mut given = Kind::ALL.into_iter().filter_map(|kind| Some((kind, fields.get(kind.as_str())?)));
        let payload = match (given.next(), given.next()) {
            (Some((kind, value)), None) => payload(kind, value, Some(&address))?,
            (Some((a, _)), Some((b, _))) => {
                return Err(invalid("body", format!("has both `{a}` and `{b}`; send one thing to sign")));
            }
            (None, _) => return Err(invalid("body", format!("needs {KINDS}: what should be signed?"))),
        };
        Ok(SignRequest { address, payload })
    }
}

/// The payload of `kind` in Rossignol's JSON. `signer` is the signing
/// account, which a transaction's `from` must match when it is given.
fn payload(kind: Kind, value: &Value, signer: Option<&Address>) -> Result<Payload, InvalidField> {
    Ok(match kind {
        Kind::Message => match value {
            Value::String(text) => Payload::Message(parse_message(text)?),
            _ => {
                return Err(invalid("message", "must be a string: 0x-prefixed hex for bytes, or UTF-8 text"));
            }
        },
        Kind::TypedData => Payload::TypedData(Box::new(TypedData::from_json(value, "typed_data")?)),
        Kind::Transaction => {
            let fields = object(value, "transaction")?;
            if let (Some(from), Some(signer)) = (fields.get("from").filter(|f| !f.is_null()), signer)
                && address(from, "transaction.from").ok().as_ref() != Some(signer)
            {
                return Err(invalid("transaction.from", "must be the signing `address` when given"));
            }
            Payload::Transaction(Box::new(Transaction::from_json(value, None)?))
        }
        Kind::Authorization => Payload::Authorization(Authorization::from_json(value, "authorization")?),
    })
}

/// A payload kept in a file (the CLI's and the console's): typed data
/// (`types` and `primaryType`), an authorization (`chainId`, `address`,
/// `nonce` and nothing else), or else a transaction.
pub fn parse_document(value: &Value) -> Result<Payload, InvalidField> {
    let fields = object(value, "file")?;
    let kind = if fields.contains_key("types") || fields.contains_key("primaryType") {
        Kind::TypedData
    } else if fields.contains_key("address")
        && fields.keys().all(|k| ["chainId", "address", "nonce"].contains(&k.as_str()))
    {
        Kind::Authorization
    } else {
        Kind::Transaction
    };
    payload(kind, value, None)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::Fees;
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
        assert_eq!(tx.fees, Fees::GasPrice { gas_price: 20_000_000_000 });
        assert_eq!(tx.value, ruint::aliases::U256::from(1_000_000_000_000_000_000u64));
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
            (json!({"address": ADDRESS, "typed_data": "{"}), "typed_data"),
            (json!({"address": ADDRESS, "authorization": {"chainId": 1}}), "authorization.address"),
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
            (tx(json!({"type": "0x1"})), "transaction.maxFeePerGas"),
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
