//! DynamoDB: the accounts table and the trail table, and the AWS
//! account's KMS and STS for its seal and its callers' identity.

use std::sync::Arc;

use super::Built;
use super::aws::{aws_identity, kms_client, sdk_config};
use crate::config::AwsSpec;
use crate::error::Result;
use crate::store::dynamo::{DynamoStore, DynamoTrail};

pub(super) async fn build(
    env: &str,
    table: &str,
    spec: &AwsSpec,
    sse_kms_key_id: Option<&str>,
    access_table: &str,
) -> Result<Built> {
    let sdk = sdk_config(env, spec).await?;
    let mut dynamo = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(url) = &spec.endpoint_url {
        dynamo = dynamo.endpoint_url(url);
    }
    let client = aws_sdk_dynamodb::Client::from_conf(dynamo.build());
    let sse = sse_kms_key_id.map(str::to_owned);
    let store = DynamoStore::new(client.clone(), table)
        .with_custom_endpoint(spec.endpoint_url.clone())
        .with_sse_kms_key(sse.clone());
    let trail = DynamoTrail::new(client, access_table).with_sse_kms_key(sse);
    Ok(Built {
        store: Arc::new(store),
        trail: Arc::new(trail),
        kms: Some(kms_client(&sdk, spec)),
        identity: aws_identity(&sdk, spec),
    })
}
