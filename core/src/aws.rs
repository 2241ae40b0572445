//! Shared AWS plumbing: loading SDK configuration for an environment, and
//! turning SDK errors into [`Error`]s that say what to do.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::http::HttpResponse;
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

/// Codes of a service that is failing on its side: retrying later may work.
const OUTAGE_CODES: &[&str] = &[
    "InternalFailure",
    "InternalServerError",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Maps the failures every AWS call shares. Callers first handle their
/// operation's own codes (conditional check, missing table, ...).
///
/// What cannot be fixed by trying again (bad credentials, an unknown key,
/// a malformed request) becomes a specific error or [`Error::Service`];
/// an endpoint that cannot be reached, times out, answers 5xx or keeps
/// throttling after the retries becomes [`Error::Unavailable`] or
/// [`Error::Throttled`], which callers report as retryable (HTTP 503). The
/// SDK's whole error chain goes to the debug log, never into the message.
pub fn sdk_error<E>(service: &'static str, operation: &'static str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    tracing::debug!(service, operation, error = %DisplayErrorContext(&err), "AWS call failed");
    let code = err.code().map(str::to_owned);
    let message = err.message().map(str::to_owned);
    if let Some(code) = code.as_deref() {
        if THROTTLING_CODES.contains(&code) {
            return Error::Throttled { service, operation };
        }
        if CREDENTIAL_CODES.contains(&code) {
            return Error::NoCredentials { detail: format!("{service} rejected the credentials: {code}") };
        }
        if OUTAGE_CODES.contains(&code) {
            return Error::Unavailable { service, operation, cause: format!("it answered {code}") };
        }
    }
    let cause = root_cause(&err);
    if matches!(err, SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_))
        && DisplayErrorContext(&err).to_string().to_ascii_lowercase().contains("credentials")
    {
        return Error::NoCredentials { detail: cause };
    }
    let unreachable = match &err {
        // Anything but a request that could not be built: refused, reset
        // or closed before the answer (hyper's incomplete message is
        // neither I/O nor a timeout), timed out.
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(_) => err.raw_response().is_some_and(|r| r.status().is_server_error()),
        _ => false,
    };
    if unreachable {
        return Error::Unavailable { service, operation, cause };
    }
    let message = match (code, message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code,
        _ => cause,
    };
    Error::Service { service, operation, message }
}

/// The innermost error of the chain (`Connection refused (os error 111)`),
/// which says what happened; the outer layers only say where.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = err;
    while let Some(source) = inner.source() {
        inner = source;
    }
    shorten(&inner.to_string())
}

fn shorten(text: &str) -> String {
    const MAX: usize = 160;
    let line = text.lines().next().unwrap_or(text).trim();
    if line.len() > MAX {
        let cut = (0..=MAX).rev().find(|&i| line.is_char_boundary(i)).unwrap_or(0);
        format!("{}…", &line[..cut])
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_kms::error::ConnectorError;
    use aws_sdk_kms::operation::decrypt::DecryptError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    fn answered(status: u16, code: &str) -> SdkError<DecryptError, HttpResponse> {
        let error = DecryptError::generic(ErrorMetadata::builder().code(code).message("details").build());
        let status = status.try_into().unwrap_or_else(|_| unreachable!("a valid status"));
        SdkError::service_error(error, HttpResponse::new(status, SdkBody::empty()))
    }

    fn closed_early() -> SdkError<DecryptError, HttpResponse> {
        SdkError::dispatch_failure(ConnectorError::other(
            "connection closed before message completed".into(),
            None,
        ))
    }

    fn refused() -> SdkError<DecryptError, HttpResponse> {
        let io =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused (os error 111)");
        SdkError::dispatch_failure(ConnectorError::io(Box::new(io)))
    }

    #[test]
    fn outages_are_retryable_and_name_the_service_in_one_short_sentence() {
        for err in
            [refused(), closed_early(), answered(500, "KMSInternalException"), answered(503, "SomethingNew")]
        {
            let mapped = sdk_error("KMS", "Decrypt", err);
            assert!(matches!(mapped, Error::Unavailable { service: "KMS", .. }), "{mapped:?}");
            assert_eq!(mapped.outage().as_deref(), Some("KMS"));
            let message = mapped.to_string();
            assert!(message.starts_with("KMS is unavailable: Decrypt failed after retries"), "{message}");
            assert!(!message.contains("DispatchFailure") && message.len() < 250, "{message}");
        }
        assert!(
            sdk_error("KMS", "Decrypt", refused())
                .to_string()
                .contains("(Connection refused (os error 111))")
        );
        let throttled = sdk_error("DynamoDB", "GetItem", answered(400, "ThrottlingException"));
        assert_eq!(throttled.outage().as_deref(), Some("DynamoDB"));
    }

    #[test]
    fn what_retrying_cannot_fix_is_not_an_outage() {
        let denied = sdk_error("KMS", "Decrypt", answered(400, "ValidationException"));
        assert!(matches!(denied, Error::Service { .. }) && denied.outage().is_none(), "{denied:?}");
        let credentials = sdk_error("KMS", "Decrypt", answered(400, "UnrecognizedClientException"));
        assert!(matches!(credentials, Error::NoCredentials { .. }), "{credentials:?}");
        let user = SdkError::<DecryptError, HttpResponse>::dispatch_failure(ConnectorError::user(
            "a request that cannot be sent".into(),
        ));
        assert!(sdk_error("KMS", "Decrypt", user).outage().is_none());
    }
}
