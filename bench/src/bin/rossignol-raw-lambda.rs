//! The baseline Lambda for `scripts/bench`: the least a Rust Lambda does
//! for the getter's job on the same runtime (`lambda_http`, API Gateway
//! REST events, the same runtime API): a consistent GetItem and a KMS
//! Decrypt of the key it holds, answered as `{success, data}` JSON. No
//! access trail, no API key check, no record checks: what Rossignol's
//! getter and signer are measured against, like for like.
//!
//! Environment: `RAW_TABLE`, `RAW_KMS_KEY_ID`, and the AWS endpoint
//! variables the functions under test get.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Error, Request, RequestExt as _, Response, run, service_fn};

/// A handler's answer: status and a JSON body.
fn answer(status: u16, body: &serde_json::Value) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Body::from(body.to_string()))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let kms = aws_sdk_kms::Client::new(&config);
    let table = std::env::var("RAW_TABLE")?;
    let key_id = std::env::var("RAW_KMS_KEY_ID")?;
    run(service_fn(|request: Request| {
        let (dynamo, kms, table, key_id) = (&dynamo, &kms, &table, &key_id);
        async move {
            let query = request.query_string_parameters();
            let Some(address) = query.first("address") else {
                return answer(400, &serde_json::json!({"success": false, "message": "no address"}));
            };
            let item = dynamo
                .get_item()
                .table_name(table)
                .key("address", AttributeValue::S(address.to_owned()))
                .consistent_read(true)
                .send()
                .await?
                .item
                .ok_or("no such item")?;
            let sealed =
                item.get("sealed_private_key").and_then(|b| b.as_b().ok()).cloned().ok_or("no key")?;
            let plaintext = kms
                .decrypt()
                .key_id(key_id)
                .ciphertext_blob(sealed)
                .encryption_context("address", address)
                .encryption_context("table", table)
                .send()
                .await?
                .plaintext
                .ok_or("no plaintext")?;
            let key = format!("0x{}", hex::encode(plaintext.as_ref()));
            answer(
                200,
                &serde_json::json!({"success": true, "data": {"address": address, "private_key": key}}),
            )
        }
    }))
    .await
}
