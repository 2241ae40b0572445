//! The signer's JSON-RPC 2.0 surface, at `/rpc`, `/rpc/{chainId}` and
//! `/rpc/{chainId}/{address}`, so that ethers, viem and foundry can use
//! Rossignol as a remote signer with no code of ours. The Lambda and
//! `rossignol serve --rpc` both hand the body here; transport stays theirs.
//!
//! This file is the envelope: parsing, batches, and the error objects.
//! The method table and each method's parameters are in `methods.rs`.
//!
//! Every error is an error object (on HTTP 200 in both transports):
//!
//! | code   | meaning                                                        |
//! |--------|----------------------------------------------------------------|
//! | -32700 | the body is not JSON                                           |
//! | -32600 | not a JSON-RPC 2.0 request (or an empty or oversized batch)    |
//! | -32601 | no such method; nothing is proxied to a node                   |
//! | -32602 | invalid params; the message names the parameter               |
//! | -32603 | internal error; the request id is in the message               |
//! | -32001 | refused by the signing policy; `data.rule` names the rule      |
//! | -32002 | unknown account, or one this caller may not use                |
//! | -32003 | the account is disabled                                        |
//! | -32004 | a dependency is unavailable; retry (`data.retryAfterSeconds`)  |
//! | -32005 | the endpoint has no chain id: call `/rpc/{chainId}`            |

mod methods;

use serde_json::{Map, Value, json};

use crate::account::Address;
use crate::custodian::{Custodian, Requester};
use crate::error::Error;
use crate::sign::InvalidField;

pub use methods::{ACCOUNTS_LIMIT, METHODS};

/// The most requests one batch may hold (ethers batches up to 100).
pub const MAX_BATCH: usize = 100;

/// What the path fixes: the chain, and the one account it signs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Endpoint {
    pub chain_id: Option<u64>,
    pub account: Option<Address>,
}

impl Endpoint {
    /// `None` when `path` is not under `/rpc`; otherwise the endpoint, or
    /// a sentence saying what is wrong with the path.
    pub fn from_path(path: &str) -> Option<Result<Endpoint, String>> {
        let rest = path.trim_end_matches('/').strip_prefix("/rpc")?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        Some(match parts.as_slice() {
            [] => Ok(Endpoint::default()),
            [chain] => parse_chain(chain).map(|id| Endpoint { chain_id: Some(id), account: None }),
            [chain, address] => parse_chain(chain).and_then(|id| {
                let account = Address::parse(address)
                    .map_err(|e| format!("the path's address {address:?} is invalid: {e}"))?;
                Ok(Endpoint { chain_id: Some(id), account: Some(account) })
            }),
            _ => Err("the JSON-RPC paths are /rpc, /rpc/{chainId} and /rpc/{chainId}/{address}".to_owned()),
        })
    }
}

fn parse_chain(text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    match parsed {
        Ok(0) | Err(_) => Err(format!(
            "the path's chain id {text:?} is not a chain id; write it in decimal (1 for mainnet) or 0x hex"
        )),
        Ok(id) => Ok(id),
    }
}

/// A JSON-RPC error object's parts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RpcError {
    code: i64,
    message: String,
    data: Option<Value>,
}

impl RpcError {
    pub(crate) fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError { code, message: message.into(), data: None }
    }

    pub(crate) fn invalid_params(field: &InvalidField) -> Self {
        RpcError::new(-32602, format!("invalid params: {field}"))
    }

    /// The error object for a failed key use; server-side failures keep
    /// their internals to the log.
    pub(crate) fn from_error(error: &Error, requester: &Requester) -> Self {
        match error {
            Error::InvalidRequest(field) => RpcError::invalid_params(field),
            Error::InvalidAddress(e) => RpcError::new(-32602, format!("invalid params: {e}")),
            Error::Refused(refusal) => RpcError {
                code: -32001,
                message: error.to_string(),
                data: Some(json!({ "rule": refusal.rule })),
            },
            Error::NotFound { address, .. } => {
                RpcError::new(-32002, format!("unknown account {address}: no such account here"))
            }
            Error::Disabled { .. } => RpcError::new(-32003, error.to_string()),
            e if e.outage().is_some() || matches!(e, Error::AccessTrail { .. }) => RpcError {
                code: -32004,
                message: format!(
                    "a dependency is unavailable, so nothing was signed; try again in a moment (request id {})",
                    requester.request_id
                ),
                data: Some(json!({ "retryAfterSeconds": 1 })),
            },
            _ => RpcError::new(-32603, format!("internal error (request id {})", requester.request_id)),
        }
    }
}

fn response(id: Value, outcome: Result<Value, RpcError>) -> Value {
    match outcome {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(RpcError { code, message, data }) => {
            let mut error = Map::new();
            error.insert("code".into(), code.into());
            error.insert("message".into(), message.into());
            if let Some(data) = data {
                error.insert("data".into(), data);
            }
            json!({ "jsonrpc": "2.0", "id": id, "error": error })
        }
    }
}

/// Answers one HTTP body: a request or a batch. `None` when nothing is to
/// be answered (only notifications); otherwise the response's JSON.
pub async fn handle(
    custodian: &Custodian,
    endpoint: &Endpoint,
    requester: &Requester,
    body: &[u8],
) -> Option<String> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            let error = RpcError::new(-32700, format!("parse error: the body is not JSON ({e})"));
            return Some(response(Value::Null, Err(error)).to_string());
        }
    };
    let answer = match value {
        Value::Array(batch) if batch.is_empty() => {
            Some(response(Value::Null, Err(RpcError::new(-32600, "invalid request: the batch is empty"))))
        }
        Value::Array(batch) if batch.len() > MAX_BATCH => Some(response(
            Value::Null,
            Err(RpcError::new(
                -32600,
                format!(
                    "invalid request: the batch holds {} requests; send at most {MAX_BATCH}",
                    batch.len()
                ),
            )),
        )),
        Value::Array(batch) => {
            // One request id per call in the batch, so that each access
            // record is its own.
            let calls = batch.iter().enumerate().map(|(i, call)| {
                let requester =
                    Requester { request_id: format!("{}.{i}", requester.request_id), ..requester.clone() };
                async move { one(custodian, endpoint, &requester, call).await }
            });
            let answers: Vec<Value> = futures::future::join_all(calls).await.into_iter().flatten().collect();
            (!answers.is_empty()).then_some(Value::Array(answers))
        }
        call => one(custodian, endpoint, requester, &call).await,
    };
    answer.map(|answer| answer.to_string())
}

/// One request: its response, or `None` for a notification.
async fn one(
    custodian: &Custodian,
    endpoint: &Endpoint,
    requester: &Requester,
    call: &Value,
) -> Option<Value> {
    let Some(fields) = call.as_object() else {
        return Some(response(
            Value::Null,
            Err(RpcError::new(-32600, "invalid request: expected an object")),
        ));
    };
    let id = match fields.get("id") {
        None => None,
        Some(id @ (Value::Null | Value::Number(_) | Value::String(_))) => Some(id.clone()),
        Some(_) => {
            let error = RpcError::new(-32600, "invalid request: `id` must be a string, a number or null");
            return Some(response(Value::Null, Err(error)));
        }
    };
    let outcome = match (fields.get("jsonrpc"), fields.get("method")) {
        (Some(Value::String(version)), Some(Value::String(method))) if version == "2.0" => {
            let params = match fields.get("params") {
                None => Ok(Vec::new()),
                Some(Value::Array(params)) => Ok(params.clone()),
                Some(_) => Err(RpcError::new(-32602, "invalid params: `params` must be an array")),
            };
            match params {
                Ok(params) => methods::call(custodian, endpoint, requester, method, &params).await,
                Err(e) => Err(e),
            }
        }
        (Some(Value::String(version)), _) if version == "2.0" => {
            Err(RpcError::new(-32600, "invalid request: `method` must be a string"))
        }
        _ => Err(RpcError::new(-32600, "invalid request: `jsonrpc` must be \"2.0\"")),
    };
    // A notification gets no answer, even an error (JSON-RPC 2.0, 4.1).
    id.map(|id| response(id, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fix_the_chain_and_the_account() {
        let address = "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf";
        let endpoint = |path: &str| Endpoint::from_path(path).map(|r| r.map_err(|_| ()));
        assert_eq!(endpoint("/rpc"), Some(Ok(Endpoint::default())));
        assert_eq!(endpoint("/rpc/"), Some(Ok(Endpoint::default())));
        assert_eq!(endpoint("/rpc/8453"), Some(Ok(Endpoint { chain_id: Some(8453), account: None })));
        assert_eq!(endpoint("/rpc/0x2105"), Some(Ok(Endpoint { chain_id: Some(8453), account: None })));
        let with_account = endpoint(&format!("/rpc/1/{address}"));
        assert_eq!(
            with_account,
            Some(Ok(Endpoint { chain_id: Some(1), account: Address::parse(address).ok() }))
        );
        assert_eq!(endpoint("/rpc/0"), Some(Err(())));
        assert_eq!(endpoint("/rpc/main"), Some(Err(())));
        assert_eq!(endpoint("/rpc/1/0x12"), Some(Err(())));
        assert_eq!(endpoint(&format!("/rpc/1/{address}/x")), Some(Err(())));
        assert_eq!(endpoint("/rpcx"), None);
        assert_eq!(endpoint("/"), None);
    }
}
