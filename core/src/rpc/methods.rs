//! The JSON-RPC methods, one function each, and the table that names
//! them. Each parses its parameters into a typed request before anything
//! is read or signed; every signature goes through [`Custodian::sign`], so
//! through the signing policy and the access trail.

use serde_json::Value;

use super::{Endpoint, RpcError};
use crate::account::Address;
use crate::custodian::{Custodian, Requester};
use crate::sign::{InvalidField, Payload, Signed, Transaction, TypedData, parse_message};
use crate::store::AccountRecord;

/// The most accounts `eth_accounts` answers where the path names none: one
/// page of the table, never a scan of all of it.
pub const ACCOUNTS_LIMIT: usize = 100;

/// Every method served, in the order of the README. Nothing else is
/// answered, and nothing is proxied to a node.
pub const METHODS: &[&str] = &[
    "eth_accounts",
    "eth_chainId",
    "personal_sign",
    "eth_sign",
    "eth_signTypedData_v4",
    "eth_signTypedData",
    "eth_signTransaction",
];

pub(super) async fn call(
    custodian: &Custodian,
    endpoint: &Endpoint,
    requester: &Requester,
    method: &str,
    params: &[Value],
) -> Result<Value, RpcError> {
    let requester = &Requester { action: format!("{}:{method}", requester.action), ..requester.clone() };
    match method {
        "eth_accounts" => accounts(custodian, endpoint, requester).await,
        "eth_chainId" => chain_id(endpoint),
        "personal_sign" => {
            let [data, address] = arity::<2>(params, "[data, address]")?;
            let message = message(data, "params[0]")?;
            sign(custodian, endpoint, requester, address, "params[1]", Payload::Message(message)).await
        }
        "eth_sign" => {
            let [address, data] = arity::<2>(params, "[address, data]")?;
            let message = message(data, "params[1]")?;
            sign(custodian, endpoint, requester, address, "params[0]", Payload::Message(message)).await
        }
        "eth_signTypedData_v4" | "eth_signTypedData" => {
            let [address, typed] = arity::<2>(params, "[address, typedData]")?;
            let typed = TypedData::from_json(typed, "params[1]").map_err(|e| RpcError::invalid_params(&e))?;
            if let (Some(path), Some(given)) = (endpoint.chain_id, typed.chain_id())
                && path != given
            {
                return Err(chain_mismatch("params[1].domain.chainId", given, path));
            }
            sign(custodian, endpoint, requester, address, "params[0]", Payload::TypedData(Box::new(typed)))
                .await
        }
        "eth_signTransaction" => {
            let [tx] = arity::<1>(params, "[transaction]")?;
            sign_transaction(custodian, endpoint, requester, tx).await
        }
        _ => Err(RpcError::new(
            -32601,
            format!(
                "method {method:?} is not served here; Rossignol signs and never forwards to a node. Methods: {}",
                METHODS.join(", ")
            ),
        )),
    }
}

fn arity<'a, const N: usize>(params: &'a [Value], shape: &str) -> Result<&'a [Value; N], RpcError> {
    <&[Value; N]>::try_from(params).map_err(|_| {
        RpcError::new(-32602, format!("invalid params: expected {shape}, got {} parameter(s)", params.len()))
    })
}

fn params_error(field: &str, reason: impl Into<String>) -> RpcError {
    RpcError::invalid_params(&InvalidField { field: field.to_owned(), reason: reason.into() })
}

fn chain_mismatch(field: &str, given: u64, path: u64) -> RpcError {
    params_error(
        field,
        format!("is {given}, but this endpoint signs for chain {path}; call /rpc/{given} for that chain"),
    )
}

fn message(value: &Value, field: &str) -> Result<Vec<u8>, RpcError> {
    match value {
        Value::String(text) => parse_message(text).map_err(|e| params_error(field, e.reason)),
        _ => Err(params_error(field, "must be the message: 0x-prefixed hex, or text")),
    }
}

/// The signing account: the one given, which must be the path's when the
/// path names one.
fn signer(endpoint: &Endpoint, given: &Value, field: &str) -> Result<Address, RpcError> {
    let address = match given {
        Value::String(text) => {
            Address::parse(text.trim()).map_err(|e| params_error(field, format!("is invalid: {e}")))?
        }
        _ => return Err(params_error(field, "must be the signing address: 0x followed by 40 hex digits")),
    };
    match endpoint.account {
        Some(account) if account != address => {
            Err(params_error(field, format!("is {address}, but this endpoint signs for {account} only")))
        }
        _ => Ok(address),
    }
}

async fn sign(
    custodian: &Custodian,
    endpoint: &Endpoint,
    requester: &Requester,
    address: &Value,
    field: &str,
    payload: Payload,
) -> Result<Value, RpcError> {
    let address = signer(endpoint, address, field)?;
    signed_result(custodian, requester, &address, &payload).await
}

async fn signed_result(
    custodian: &Custodian,
    requester: &Requester,
    address: &Address,
    payload: &Payload,
) -> Result<Value, RpcError> {
    match custodian.sign(address, payload, requester).await {
        Ok((_, Signed::Message { signature, .. } | Signed::Ed25519Message { signature, .. })) => {
            Ok(Value::String(format!("0x{}", hex::encode(signature))))
        }
        Ok((_, Signed::Transaction { raw, .. })) => Ok(Value::String(format!("0x{}", hex::encode(raw)))),
        Ok((_, Signed::Authorization { signed, .. })) => Ok(signed.to_json()),
        Err(e) => {
            tracing::info!(request_id = %requester.request_id, address = %address, error = %e, "rpc signing refused or failed");
            Err(RpcError::from_error(&e, requester))
        }
    }
}

/// `eth_signTransaction [tx]`: the account is `from`, else the path's; a
/// missing `chainId` is the path's, a different one is refused.
async fn sign_transaction(
    custodian: &Custodian,
    endpoint: &Endpoint,
    requester: &Requester,
    tx: &Value,
) -> Result<Value, RpcError> {
    let fields = tx.as_object().ok_or_else(|| params_error("params[0]", "must be the transaction object"))?;
    let address = match (fields.get("from").filter(|f| !f.is_null()), endpoint.account) {
        (Some(from), _) => signer(endpoint, from, "params[0].from")?,
        (None, Some(account)) => account,
        (None, None) => {
            return Err(params_error(
                "params[0].from",
                "is missing; give the signing account, or call /rpc/{chainId}/{address}",
            ));
        }
    };
    let parsed = Transaction::from_json(tx, endpoint.chain_id).map_err(|e| {
        let field = e.field.replacen("transaction", "params[0]", 1);
        RpcError::invalid_params(&InvalidField { field, reason: e.reason })
    })?;
    if let Some(path) = endpoint.chain_id
        && parsed.chain_id != path
    {
        return Err(chain_mismatch("params[0].chainId", parsed.chain_id, path));
    }
    signed_result(custodian, requester, &address, &Payload::Transaction(Box::new(parsed))).await
}

fn chain_id(endpoint: &Endpoint) -> Result<Value, RpcError> {
    match endpoint.chain_id {
        Some(id) => Ok(Value::String(format!("{id:#x}"))),
        None => Err(RpcError::new(
            -32005,
            "this endpoint has no chain id: call /rpc/{chainId} (or /rpc/{chainId}/{address})",
        )),
    }
}

/// The accounts this caller may use: the path's one (if it may), else up
/// to [`ACCOUNTS_LIMIT`] from the first page of the table.
async fn accounts(
    custodian: &Custodian,
    endpoint: &Endpoint,
    requester: &Requester,
) -> Result<Value, RpcError> {
    let policy = custodian.policy_for(requester);
    let usable = |record: &AccountRecord| {
        record.disabled.is_none() && policy.may_use(record, requester.api_key_id.as_deref()).is_ok()
    };
    let records: Vec<AccountRecord> = match endpoint.account {
        Some(address) => match custodian.get(&address).await {
            Ok(record) => vec![record],
            Err(crate::Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(RpcError::from_error(&e, requester)),
        },
        None => {
            let page = custodian
                .page(None, ACCOUNTS_LIMIT)
                .await
                .map_err(|e| RpcError::from_error(&e, requester))?;
            page.items.iter().filter_map(|item| AccountRecord::from_item(item).ok()).collect()
        }
    };
    Ok(Value::Array(
        records.iter().filter(|r| usable(r)).map(|r| Value::String(r.address.to_string())).collect(),
    ))
}
