//! Who the caller is to AWS, for the access trail: STS GetCallerIdentity,
//! asked once per connected environment and kept for the rest of the run.
//!
//! `$USER` (the trail's `actor`) is whatever the process was given; the
//! ARN AWS returns is the identity it authenticated from the credentials,
//! so the trail records it beside the hint as the proven name.

use std::fmt;

use tokio::sync::OnceCell;

use crate::aws::sdk_error;
use crate::error::{Error, Result};

/// The caller's identity in an AWS environment, resolved on first use.
pub struct AwsIdentity {
    client: aws_sdk_sts::Client,
    arn: OnceCell<String>,
}

impl fmt::Debug for AwsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsIdentity").field("arn", &self.arn.get()).finish_non_exhaustive()
    }
}

impl AwsIdentity {
    pub fn new(client: aws_sdk_sts::Client) -> Self {
        AwsIdentity { client, arn: OnceCell::new() }
    }

    /// The caller's ARN. Asked of STS the first time only; a failure is
    /// not kept, so a later call asks again.
    pub async fn arn(&self) -> Result<&str> {
        self.arn
            .get_or_try_init(|| async {
                let output = self.client.get_caller_identity().send().await.map_err(|e| {
                    tracing::debug!(error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "STS GetCallerIdentity failed");
                    Error::Identity { reason: sdk_error("STS", "GetCallerIdentity", e).to_string() }
                })?;
                output.arn.filter(|arn| !arn.is_empty()).ok_or_else(|| Error::Identity {
                    reason: "STS GetCallerIdentity answered without an ARN".into(),
                })
            })
            .await
            .map(String::as_str)
    }
}
