//! Reaching AWS: the SDK's configuration for a region and profile, a KMS
//! client for KMS seals (whatever the store), and STS for the caller's
//! identity.

use std::sync::Arc;

use crate::aws::{self, AwsSettings};
use crate::config::AwsSpec;
use crate::error::{Error, Result};
use crate::identity::AwsIdentity;

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
pub(super) fn aws_identity(sdk: &aws_config::SdkConfig, spec: &AwsSpec) -> Option<Arc<AwsIdentity>> {
    let mut sts = aws_sdk_sts::config::Builder::from(sdk);
    match (&spec.sts_endpoint_url, &spec.endpoint_url) {
        (Some(url), _) => sts = sts.endpoint_url(url),
        (None, Some(_)) => return None,
        (None, None) => {}
    }
    Some(Arc::new(AwsIdentity::new(aws_sdk_sts::Client::from_conf(sts.build()))))
}
