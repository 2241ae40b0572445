//! Ethereum transactions of types 0 (legacy, EIP-155), 1 (EIP-2930),
//! 2 (EIP-1559) and 4 (EIP-7702), read from the JSON-RPC shape. Signing
//! hashes and encodings are alloy-consensus's; this module only reads the
//! request, refuses what is wrong or unsupported, and hands alloy the
//! typed transaction.

use alloy_consensus::{
    SignableTransaction, TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy, TypedTransaction,
};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{Bytes, TxKind};
use ruint::aliases::U256;
use serde_json::{Map, Value};

use super::InvalidField;
use super::authorization::SignedAuthorization;
use super::json::{address, field, hex_bytes, invalid, only_known, quantity, quantity_u64, quantity_u128};
use crate::account::Address;
use crate::secret::RecoverableSignature;

/// The EIP-2718 transaction type, which fixes the fields it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxType {
    /// Type 0: `gasPrice`, replay-protected by EIP-155.
    Legacy,
    /// Type 1 (EIP-2930): `gasPrice` and an access list.
    AccessList,
    /// Type 2 (EIP-1559): a fee cap and a priority fee.
    DynamicFee,
    /// Type 4 (EIP-7702): EIP-1559 fees and an authorization list.
    SetCode,
}

impl TxType {
    pub fn number(self) -> u8 {
        match self {
            TxType::Legacy => 0,
            TxType::AccessList => 1,
            TxType::DynamicFee => 2,
            TxType::SetCode => 4,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            TxType::Legacy => "legacy, EIP-155 (type 0)",
            TxType::AccessList => "EIP-2930 (type 1)",
            TxType::DynamicFee => "EIP-1559 (type 2)",
            TxType::SetCode => "EIP-7702 (type 4)",
        }
    }
}

/// How the transaction pays for gas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fees {
    /// Types 0 and 1.
    GasPrice { gas_price: u128 },
    /// Types 2 and 4.
    Eip1559 { max_fee_per_gas: u128, max_priority_fee_per_gas: u128 },
}

/// One EIP-2930 access list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessListEntry {
    pub address: Address,
    pub storage_keys: Vec<[u8; 32]>,
}

/// An unsigned transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub tx_type: TxType,
    pub chain_id: u64,
    pub nonce: u64,
    pub fees: Fees,
    pub gas: u64,
    /// `None` creates a contract (not allowed in type 4).
    pub to: Option<Address>,
    pub value: U256,
    pub data: Vec<u8>,
    pub access_list: Vec<AccessListEntry>,
    /// Type 4 only: authorizations already signed by their authorities.
    pub authorization_list: Vec<SignedAuthorization>,
}

const TX_FIELDS: &[&str] = &[
    "type",
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
    "authorizationList",
    "from",
];

/// Fields of blob transactions: named so that the refusal says why.
const BLOB_FIELDS: &[&str] = &["maxFeePerBlobGas", "blobVersionedHashes", "blobs", "sidecar"];

impl Transaction {
    /// Reads a transaction in the JSON-RPC shape (quantities as decimal
    /// strings, `0x` hex or JSON integers). `default_chain_id` stands in
    /// for a missing `chainId` (the JSON-RPC path's chain); the type is
    /// `type` when given, else inferred from the fields as clients do.
    pub fn from_json(value: &Value, default_chain_id: Option<u64>) -> Result<Self, InvalidField> {
        let fields = value.as_object().ok_or_else(|| invalid("transaction", "must be an object"))?;
        if let Some(blob) = BLOB_FIELDS.iter().find(|name| field(fields, name).is_some()) {
            return Err(blob_refused(&format!("transaction.{blob}")));
        }
        only_known(fields, "transaction.", TX_FIELDS)?;
        let get = |name: &str| field(fields, name);
        let path = |name: &str| format!("transaction.{name}");
        let u64_field = |name: &str| get(name).map(|v| quantity_u64(v, &path(name))).transpose();
        let u128_field = |name: &str| get(name).map(|v| quantity_u128(v, &path(name))).transpose();

        let tx_type = tx_type(fields)?;
        let chain_id = match u64_field("chainId")? {
            Some(id) => id,
            None => default_chain_id.ok_or_else(|| {
                invalid("transaction.chainId", "is missing; it is required (1 for mainnet)")
            })?,
        };
        if chain_id == 0 {
            return Err(invalid(
                "transaction.chainId",
                "must not be 0: a transaction is signed for one chain",
            ));
        }
        let nonce = u64_field("nonce")?
            .ok_or_else(|| invalid("transaction.nonce", "is missing; give the account's nonce"))?;
        let gas = match (u64_field("gas")?, u64_field("gasLimit")?) {
            (Some(gas), None) | (None, Some(gas)) => gas,
            (Some(_), Some(_)) => return Err(invalid("transaction.gasLimit", "duplicates `gas`; give one")),
            (None, None) => return Err(invalid("transaction.gas", "is missing; give the gas limit")),
        };
        let to = match get("to") {
            None => None,
            Some(Value::String(_)) => Some(address(&fields["to"], "transaction.to")?),
            Some(_) => {
                return Err(invalid(
                    "transaction.to",
                    "must be an address string, or absent to create a contract",
                ));
            }
        };
        let value = get("value").map(|v| quantity(v, "transaction.value")).transpose()?.unwrap_or(U256::ZERO);
        let data = match (get("data"), get("input")) {
            (Some(v), None) => hex_bytes(v, "transaction.data")?,
            (None, Some(v)) => hex_bytes(v, "transaction.input")?,
            (None, None) => Vec::new(),
            (Some(a), Some(b)) if a == b => hex_bytes(a, "transaction.data")?,
            (Some(_), Some(_)) => {
                return Err(invalid("transaction.input", "differs from `data`; give one of them"));
            }
        };
        let fees = fees(
            tx_type,
            u128_field("gasPrice")?,
            u128_field("maxFeePerGas")?,
            u128_field("maxPriorityFeePerGas")?,
        )?;

        let access_list = match get("accessList") {
            None => Vec::new(),
            Some(_) if tx_type == TxType::Legacy => {
                return Err(invalid(
                    "transaction.accessList",
                    "needs a type 1, 2 or 4 transaction; a legacy transaction has none",
                ));
            }
            Some(list) => access_list(list)?,
        };
        let authorization_list = match (tx_type, get("authorizationList")) {
            (TxType::SetCode, Some(list)) => SignedAuthorization::list_from_json(list)?,
            (TxType::SetCode, None) => {
                return Err(invalid(
                    "transaction.authorizationList",
                    "is missing; a type 4 transaction carries at least one signed authorization",
                ));
            }
            (_, Some(_)) => {
                return Err(invalid(
                    "transaction.authorizationList",
                    "needs a type 4 (EIP-7702) transaction",
                ));
            }
            (_, None) => Vec::new(),
        };
        if tx_type == TxType::SetCode {
            if authorization_list.is_empty() {
                return Err(invalid(
                    "transaction.authorizationList",
                    "is empty; a type 4 transaction carries at least one signed authorization",
                ));
            }
            if to.is_none() {
                return Err(invalid(
                    "transaction.to",
                    "is missing; a type 4 (EIP-7702) transaction cannot create a contract",
                ));
            }
        }
        Ok(Transaction {
            tx_type,
            chain_id,
            nonce,
            fees,
            gas,
            to,
            value,
            data,
            access_list,
            authorization_list,
        })
    }

    /// The transaction as alloy's typed transaction, which owns the
    /// encodings.
    fn to_alloy(&self) -> TypedTransaction {
        let to = match self.to {
            Some(to) => TxKind::Call(to.to_alloy()),
            None => TxKind::Create,
        };
        let input = Bytes::copy_from_slice(&self.data);
        let access_list = AccessList(
            self.access_list
                .iter()
                .map(|entry| AccessListItem {
                    address: entry.address.to_alloy(),
                    storage_keys: entry.storage_keys.iter().map(|key| (*key).into()).collect(),
                })
                .collect(),
        );
        let (gas_price, max_fee_per_gas, max_priority_fee_per_gas) = match self.fees {
            Fees::GasPrice { gas_price } => (gas_price, 0, 0),
            Fees::Eip1559 { max_fee_per_gas, max_priority_fee_per_gas } => {
                (0, max_fee_per_gas, max_priority_fee_per_gas)
            }
        };
        let (chain_id, nonce, gas_limit, value) = (self.chain_id, self.nonce, self.gas, self.value);
        match self.tx_type {
            TxType::Legacy => {
                TxLegacy { chain_id: Some(chain_id), nonce, gas_price, gas_limit, to, value, input }.into()
            }
            TxType::AccessList => {
                TxEip2930 { chain_id, nonce, gas_price, gas_limit, to, value, access_list, input }.into()
            }
            TxType::DynamicFee => TxEip1559 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas,
                max_priority_fee_per_gas,
                to,
                value,
                access_list,
                input,
            }
            .into(),
            TxType::SetCode => TxEip7702 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas,
                max_priority_fee_per_gas,
                // Checked when read: a type 4 transaction always has `to`.
                to: self.to.map(Address::to_alloy).unwrap_or_default(),
                value,
                access_list,
                authorization_list: self
                    .authorization_list
                    .iter()
                    .map(SignedAuthorization::to_alloy)
                    .collect(),
                input,
            }
            .into(),
        }
    }

    /// The keccak-256 that is signed.
    pub fn signing_hash(&self) -> [u8; 32] {
        self.to_alloy().signature_hash().0
    }

    /// The bytes whose keccak-256 is signed.
    pub fn signing_payload(&self) -> Vec<u8> {
        self.to_alloy().encoded_for_signing()
    }

    /// The signed transaction as sent to a node (`eth_sendRawTransaction`).
    pub fn encode_signed(&self, signature: &RecoverableSignature) -> Vec<u8> {
        let signature = alloy_primitives::Signature::new(
            U256::from_be_bytes(signature.r),
            U256::from_be_bytes(signature.s),
            signature.recovery_id == 1,
        );
        TxEnvelope::from(self.to_alloy().into_signed(signature)).encoded_2718()
    }

    /// Every address the transaction reaches on its own: the recipient and
    /// the delegates of its authorizations. For policy.
    pub fn delegates(&self) -> impl Iterator<Item = Address> + '_ {
        self.authorization_list.iter().map(|a| a.authorization.delegate)
    }
}

fn blob_refused(field: &str) -> InvalidField {
    invalid(
        field,
        "belongs to a blob transaction (type 3), which Rossignol does not sign: its blobs travel beside the transaction and cannot be checked here; send a type 0, 1, 2 or 4 transaction",
    )
}

/// `type` when given (a number or `"0x0"`…`"0x4"`), else what the fields
/// make: an authorization list is type 4, EIP-1559 fees type 2, a gas
/// price with an access list type 1, a gas price alone type 0.
fn tx_type(fields: &Map<String, Value>) -> Result<TxType, InvalidField> {
    let Some(given) = field(fields, "type") else {
        let has = |name: &str| field(fields, name).is_some();
        return Ok(if has("authorizationList") {
            TxType::SetCode
        } else if has("maxFeePerGas") || has("maxPriorityFeePerGas") {
            TxType::DynamicFee
        } else if has("accessList") {
            TxType::AccessList
        } else {
            TxType::Legacy
        });
    };
    match quantity(given, "transaction.type").map(u64::try_from) {
        Ok(Ok(0)) => Ok(TxType::Legacy),
        Ok(Ok(1)) => Ok(TxType::AccessList),
        Ok(Ok(2)) => Ok(TxType::DynamicFee),
        Ok(Ok(3)) => Err(blob_refused("transaction.type")),
        Ok(Ok(4)) => Ok(TxType::SetCode),
        _ => Err(invalid("transaction.type", "must be 0, 1, 2 or 4 (a number, or \"0x0\" to \"0x4\")")),
    }
}

fn fees(
    tx_type: TxType,
    gas_price: Option<u128>,
    max_fee: Option<u128>,
    max_priority: Option<u128>,
) -> Result<Fees, InvalidField> {
    let kind = tx_type.describe();
    match tx_type {
        TxType::Legacy | TxType::AccessList => match (gas_price, max_fee.or(max_priority)) {
            (Some(gas_price), None) => Ok(Fees::GasPrice { gas_price }),
            (_, Some(_)) => Err(invalid(
                if max_fee.is_some() {
                    "transaction.maxFeePerGas"
                } else {
                    "transaction.maxPriorityFeePerGas"
                },
                format!(
                    "does not go in a {kind} transaction, which pays `gasPrice`; send type 2 for EIP-1559 fees"
                ),
            )),
            (None, None) => Err(invalid(
                "transaction.gasPrice",
                format!(
                    "is missing; a {kind} transaction pays `gasPrice` (or give `maxFeePerGas` and `maxPriorityFeePerGas` for EIP-1559)"
                ),
            )),
        },
        TxType::DynamicFee | TxType::SetCode => match (gas_price, max_fee, max_priority) {
            (Some(_), _, _) => Err(invalid(
                "transaction.gasPrice",
                format!(
                    "does not go in a {kind} transaction; give `maxFeePerGas` and `maxPriorityFeePerGas`"
                ),
            )),
            (None, Some(max_fee_per_gas), Some(max_priority_fee_per_gas)) => {
                if max_priority_fee_per_gas > max_fee_per_gas {
                    return Err(invalid(
                        "transaction.maxPriorityFeePerGas",
                        "is above `maxFeePerGas`; the tip cannot exceed the fee cap",
                    ));
                }
                Ok(Fees::Eip1559 { max_fee_per_gas, max_priority_fee_per_gas })
            }
            (None, None, _) => {
                Err(invalid("transaction.maxFeePerGas", "is missing; EIP-1559 needs both fees"))
            }
            (None, Some(_), None) => {
                Err(invalid("transaction.maxPriorityFeePerGas", "is missing; EIP-1559 needs both fees"))
            }
        },
    }
}

fn access_list(value: &Value) -> Result<Vec<AccessListEntry>, InvalidField> {
    let entries = value.as_array().ok_or_else(|| invalid("transaction.accessList", "must be an array"))?;
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let path = format!("transaction.accessList[{i}]");
            let object = entry
                .as_object()
                .ok_or_else(|| invalid(&path, "must be an object with `address` and `storageKeys`"))?;
            only_known(object, &format!("{path}."), &["address", "storageKeys"])?;
            let address = match object.get("address") {
                Some(value) => address(value, &format!("{path}.address"))?,
                None => return Err(invalid(&format!("{path}.address"), "is missing")),
            };
            let keys = match object.get("storageKeys") {
                None => &Vec::new(),
                Some(Value::Array(keys)) => keys,
                Some(_) => return Err(invalid(&format!("{path}.storageKeys"), "must be an array")),
            };
            let storage_keys = keys
                .iter()
                .enumerate()
                .map(|(j, key)| {
                    let field = format!("{path}.storageKeys[{j}]");
                    let bytes = hex_bytes(key, &field)?;
                    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| invalid(&field, "must be 32 bytes"))
                })
                .collect::<Result<_, _>>()?;
            Ok(AccessListEntry { address, storage_keys })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PrivateKey;
    use crate::account::keccak256;
    use serde_json::json;

    fn tx(value: Value) -> Transaction {
        Transaction::from_json(&value, None).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The example of EIP-155 itself.
    fn eip155_example() -> Transaction {
        tx(json!({"chainId": 1, "nonce": 9, "gasPrice": "20000000000", "gas": 21000,
            "to": "0x3535353535353535353535353535353535353535", "value": "1000000000000000000"}))
    }

    #[test]
    fn the_eip155_example_signs_as_the_eip_says() {
        let tx = eip155_example();
        assert_eq!(tx.tx_type, TxType::Legacy);
        let payload = tx.signing_payload();
        assert_eq!(
            hex::encode(&payload),
            "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080"
        );
        let digest = keccak256(&payload);
        assert_eq!(digest, tx.signing_hash());
        assert_eq!(hex::encode(digest), "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
        let key = PrivateKey::from_bytes(&[0x46; 32]).unwrap_or_else(|_| unreachable!());
        let signature = key.sign_prehash(&digest).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            hex::encode(tx.encode_signed(&signature)),
            "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
        );
    }

    #[test]
    fn contract_creation_encodes_an_empty_recipient() {
        let mut tx = eip155_example();
        tx.to = None;
        tx.data = vec![0x60, 0x00];
        // gas 21000 (825208), then 0x80 (the empty string) for `to`, value, data.
        assert!(hex::encode(tx.signing_payload()).contains("82520880880de0b6b3a7640000826000"));
    }

    #[test]
    fn the_type_is_given_or_inferred_from_the_fields() {
        let base = json!({"chainId": 1, "nonce": 0, "gas": 21000, "to": "0x3535353535353535353535353535353535353535"});
        let with = |extra: Value| {
            let mut v = base.clone();
            if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
                v.extend(extra.clone());
            }
            Transaction::from_json(&v, None)
        };
        let auth = json!([{"chainId": "0x1", "address": "0x3535353535353535353535353535353535353535", "nonce": "0x0",
            "yParity": "0x1", "r": "0x01", "s": "0x02"}]);
        let cases = [
            (json!({"gasPrice": 1}), TxType::Legacy),
            (json!({"gasPrice": 1, "type": "0x0"}), TxType::Legacy),
            (json!({"gasPrice": 1, "accessList": []}), TxType::AccessList),
            (json!({"gasPrice": 1, "type": 1}), TxType::AccessList),
            (json!({"maxFeePerGas": 2, "maxPriorityFeePerGas": 1}), TxType::DynamicFee),
            (json!({"maxFeePerGas": 2, "maxPriorityFeePerGas": 1, "type": "0x2"}), TxType::DynamicFee),
            (
                json!({"maxFeePerGas": 2, "maxPriorityFeePerGas": 1, "authorizationList": auth}),
                TxType::SetCode,
            ),
            (
                json!({"maxFeePerGas": 2, "maxPriorityFeePerGas": 1, "type": 4, "authorizationList": auth}),
                TxType::SetCode,
            ),
        ];
        for (extra, expected) in cases {
            let parsed = with(extra.clone()).unwrap_or_else(|e| panic!("{extra}: {e}"));
            assert_eq!(parsed.tx_type, expected, "{extra}");
        }
        let refused = [
            (json!({"gasPrice": 1, "type": "0x3"}), "transaction.type"),
            (json!({"gasPrice": 1, "maxFeePerBlobGas": "1"}), "transaction.maxFeePerBlobGas"),
            (json!({"gasPrice": 1, "type": 5}), "transaction.type"),
            (json!({"gasPrice": 1, "type": 0, "accessList": []}), "transaction.accessList"),
            (json!({"gasPrice": 1, "type": 2}), "transaction.gasPrice"),
            (json!({"maxFeePerGas": 2, "maxPriorityFeePerGas": 1, "type": 1}), "transaction.maxFeePerGas"),
            (
                json!({"maxFeePerGas": 2, "maxPriorityFeePerGas": 1, "type": 4}),
                "transaction.authorizationList",
            ),
            (
                json!({"maxFeePerGas": 2, "maxPriorityFeePerGas": 1, "authorizationList": []}),
                "transaction.authorizationList",
            ),
            (json!({"gasPrice": 1, "authorizationList": auth}), "transaction.gasPrice"),
            (
                json!({"maxFeePerGas": 2, "maxPriorityFeePerGas": 1, "authorizationList": auth, "to": null}),
                "transaction.to",
            ),
            (json!({"gasPrice": "0x1".to_owned() + &"0".repeat(32)}), "transaction.gasPrice"),
        ];
        for (extra, field) in refused {
            let err = with(extra.clone()).expect_err(&extra.to_string());
            assert_eq!(err.field, field, "{extra}: {err}");
        }
        let err = with(json!({"gasPrice": 1, "type": 3})).expect_err("blob");
        assert!(err.reason.contains("blob transaction (type 3)"), "{err}");
    }

    #[test]
    fn a_missing_chain_id_takes_the_default_when_there_is_one() {
        let body = json!({"nonce": 0, "gas": 21000, "gasPrice": 1});
        assert_eq!(Transaction::from_json(&body, Some(10)).map(|t| t.chain_id), Ok(10));
        let err = Transaction::from_json(&body, None).expect_err("no chain id");
        assert_eq!(err.field, "transaction.chainId");
    }
}
