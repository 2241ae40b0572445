//! DynamoDB: the accounts table, the trail table, and the AWS account's
//! KMS and STS for its seal and its callers' identity.

use std::sync::Arc;

use super::Built;
use crate::aws::{self, AwsSettings};
use crate::config::AwsSpec;
use crate::error::{Error, Result};
use crate::identity::AwsIdentity;
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

pub(super) async fn sdk_config(env: &str, spec: &AwsSpec) -> Result<aws_config::SdkConfig> {
    let sdk = aws::load(&AwsSettings { region: spec.region.clone(), profile: spec.profile.clone() }).await;
    if sdk.region().is_none() {
        return Err(Error::Config(format!(
            "environment `{env}` has no region; set `region` in its configuration or AWS_REGION"
        )));
    }
    Ok(sdk)
}

pub(super) fn kms_client(sdk: &aws_config::SdkConfig, spec: &AwsSpec) -> aws_sdk_kms::Client {
    let mut kms = aws_sdk_kms::config::Builder::from(sdk);
    if let Some(url) = &spec.kms_endpoint_url {
        kms = kms.endpoint_url(url);
    }
    aws_sdk_kms::Client::from_conf(kms.build())
}

/// Who the caller is, asked of STS on first key use, in an AWS
/// environment: one whose DynamoDB is AWS's (no `endpoint_url`), or one
/// given an `sts_endpoint_url`. A DynamoDB Local environment has none.
fn aws_identity(sdk: &aws_config::SdkConfig, spec: &AwsSpec) -> Option<Arc<AwsIdentity>> {
    let mut sts = aws_sdk_sts::config::Builder::from(sdk);
    match (&spec.sts_endpoint_url, &spec.endpoint_url) {
        (Some(url), _) => sts = sts.endpoint_url(url),
        (None, Some(_)) => return None,
        (None, None) => {}
    }
    Some(Arc::new(AwsIdentity::new(aws_sdk_sts::Client::from_conf(sts.build()))))
}
