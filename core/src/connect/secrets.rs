//! Credentials of providers off AWS, kept in AWS Secrets Manager and read
//! when connecting: a PostgreSQL URL (`url_secret`) or an OpenBao/Vault
//! token (`transit_token_secret`). A value is held zeroized and never
//! appears in a message or a log; the secret's id does.

use zeroize::Zeroizing;

use super::aws::sdk_config;
use crate::config::AwsSpec;
use crate::error::{Error, Result};

/// Where one provider reads its secrets: the AWS account and region it
/// reaches (its DynamoDB's, else its own `region` and `profile`, else the
/// SDK's defaults: in a Lambda, the function's region and role). The
/// endpoint is the SDK's own (`AWS_ENDPOINT_URL_SECRETS_MANAGER` for a
/// local run).
pub(super) struct Secrets<'a> {
    pub env: &'a str,
    pub provider: &'a str,
    pub reach: Option<&'a AwsSpec>,
}

impl Secrets<'_> {
    /// The SecretString of `secret_id`, trimmed; `key` is the
    /// configuration key that named it, for messages.
    pub async fn read(&self, key: &str, secret_id: &str) -> Result<Zeroizing<String>> {
        let default = AwsSpec::default();
        let sdk = sdk_config(self.env, self.reach.unwrap_or(&default)).await?;
        let client = aws_sdk_secretsmanager::Client::new(&sdk);
        let answer = client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
            let error = crate::aws::sdk_error("Secrets Manager", "GetSecretValue", e);
            if error.outage().is_some() {
                return error;
            }
            Error::Config(format!(
                "provider `{}`: `{key}` names secret {secret_id}, which could not be read ({error}); check its id and that this role may secretsmanager:GetSecretValue on it",
                self.provider
            ))
        })?;
        let value = Zeroizing::new(answer.secret_string.unwrap_or_default());
        let trimmed = Zeroizing::new(value.trim().to_owned());
        if trimmed.is_empty() {
            return Err(Error::Config(format!(
                "provider `{}`: `{key}` names secret {secret_id}, which has no SecretString; store the value as its secret string",
                self.provider
            )));
        }
        Ok(trimmed)
    }
}
