//! The bootstrap binary for both functions: builds the clients once, then
//! serves the entry point named by the handler setting.

use std::process::ExitCode;

use lambda_http::{Request, service_fn};
use rossignol_lambda::{ApiKeyCheck, Service, Settings, handle};

fn init_logging() {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // JSON lines for CloudWatch; the request id is a field of every line.
    let lines = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_target(false)
        .with_current_span(false)
        .with_span_list(false)
        .without_time();
    tracing_subscriber::registry().with(lines.with_filter(rossignol_core::logging::filter("info"))).init();
}

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let settings = match Settings::from_vars(|name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(e) => {
            tracing::error!(error = %e, "cold start failed");
            return ExitCode::FAILURE;
        }
    };
    if settings.api_key == ApiKeyCheck::Unchecked {
        tracing::warn!(
            "ROSSIGNOL_API_KEY_SHA256 is `unchecked`: this function does not check X-Api-Key, so anyone who can invoke it gets through and the trail records its identity as claimed; set the key's hex SHA-256 in any deployed environment"
        );
    }
    tracing::info!(entry = %settings.entry, serves = %settings.backend.label(), "starting");
    let service = match Service::from_settings(&settings).await {
        Ok(service) => service,
        Err(e) => {
            tracing::error!(error = %e, "cold start failed");
            return ExitCode::FAILURE;
        }
    };
    let entry = settings.entry;
    let served = lambda_http::run(service_fn(|request: Request| {
        let service = &service;
        async move { Ok::<_, std::convert::Infallible>(handle(entry, service, request).await) }
    }))
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}
