//! The bootstrap binary for both functions: builds the clients once, then
//! serves the entry point named by the handler setting.

use std::process::ExitCode;

use lambda_http::{Request, service_fn};
use rossignol_lambda::{Service, Settings, handle};

fn init_logging() {
    // JSON lines for CloudWatch; the request id is a field of every line.
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(log_filter("info"))
        .flatten_event(true)
        .with_target(false)
        .with_current_span(false)
        .with_span_list(false)
        .without_time()
        .init();
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
    tracing::info!(entry = %settings.entry, table = %settings.table, "starting");
    let service = Service::from_settings(&settings).await;
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

/// `ROSSIGNOL_LOG` (default `info`), with the SDK and runtime capped
/// so that no payload is ever logged.
fn log_filter(default: &str) -> tracing_subscriber::EnvFilter {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROSSIGNOL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    rossignol_core::aws::LOG_CEILINGS
        .iter()
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, tracing_subscriber::EnvFilter::add_directive)
}
