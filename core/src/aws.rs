//! Shared AWS plumbing: loading SDK configuration for an environment, and
//! turning SDK errors into [`Error`]s that say what to do.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::error::Error;

/// Where and as whom to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
}

/// Attempts per call, including the first; the standard retry mode backs
/// off exponentially with jitter on throttling and transient errors.
const MAX_ATTEMPTS: u32 = 8;

/// The retry policy of every client Rossignol builds.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_secs(5))
}

pub async fn load(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

/// Log directives that cap the AWS SDK, its HTTP stack and the Lambda
/// runtime at `info`, whatever `ROSSIGNOL_LOG` asks for: at `debug` and
/// `trace` they log raw payloads (a Lambda event with its `X-Api-Key`, a KMS
/// response holding a plaintext key).
pub const LOG_CEILINGS: &[&str] = &[
    "aws_config=info",
    "aws_runtime=info",
    "aws_sdk_dynamodb=info",
    "aws_sdk_kms=info",
    "aws_sdk_sts=info",
    "aws_smithy_runtime=info",
    "aws_smithy_runtime_api=info",
    "aws_smithy_http=info",
    "aws_smithy_http_client=info",
    "hyper=info",
    "hyper_util=info",
    "h2=info",
    "rustls=info",
    "lambda_runtime=info",
    "lambda_runtime_api_client=info",
    "lambda_http=info",
];

const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

const CREDENTIAL_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "MissingAuthenticationToken",
    "InvalidClientTokenId",
];

/// Maps the failures every AWS call shares. Callers first handle their
/// operation's own codes (conditional check, missing table, ...).
pub fn sdk_error<E, R>(service: &'static str, operation: &'static str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().map(str::to_owned);
    let message = err.message().map(str::to_owned);
    if let Some(code) = code.as_deref() {
        if THROTTLING_CODES.contains(&code) {
            return Error::Throttled { service, operation };
        }
        if CREDENTIAL_CODES.contains(&code) {
            return Error::NoCredentials { detail: format!("{service} rejected the credentials: {code}") };
        }
    }
    let chain = DisplayErrorContext(&err).to_string();
    if matches!(err, SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_))
        && chain.to_ascii_lowercase().contains("credentials")
    {
        return Error::NoCredentials { detail: first_line(&chain) };
    }
    let message = match (code, message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code,
        _ if matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) => format!(
            "could not reach the endpoint ({}); check the region, `endpoint_url` and the network",
            first_line(&chain)
        ),
        _ => first_line(&chain),
    };
    Error::Service { service, operation, message }
}

fn first_line(text: &str) -> String {
    const MAX: usize = 300;
    let line = text.lines().next().unwrap_or(text);
    if line.len() > MAX {
        let cut = (0..=MAX).rev().find(|&i| line.is_char_boundary(i)).unwrap_or(0);
        format!("{}…", &line[..cut])
    } else {
        line.to_owned()
    }
}
