//! The log filter both binaries install: the operator's `ROSSIGNOL_LOG`
//! under a ceiling that no directive can lift.
//!
//! The ceiling is a filter of its own, combined with the operator's
//! [`EnvFilter`] so that an event must pass both. Directives added to the
//! same `EnvFilter` would not do: there the most specific directive wins, so
//! `aws_smithy_runtime::client::orchestrator=trace` outranked
//! `aws_smithy_runtime=info` and logged a GetItem response, plaintext key
//! and all.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::combinator::And;
use tracing_subscriber::filter::{FilterExt as _, LevelFilter, Targets};

/// The variable that holds the operator's filter directives.
pub const LOG_VAR: &str = "ROSSIGNOL_LOG";

/// Targets held at `info` whatever `ROSSIGNOL_LOG` asks for: at `debug` and
/// `trace` the AWS SDK, its HTTP and TLS stack and the Lambda runtime log
/// raw payloads (a GetItem response with a legacy plaintext key or a sealed
/// blob, a KMS response with a plaintext key, a Lambda event with its
/// `X-Api-Key`, a getter's answer). A target is capped when it starts with
/// one of these, so `aws_` covers every AWS crate (`aws_sdk_*`,
/// `aws_smithy_*`, `aws_config`, `aws_sigv4`, ...), `hyper` covers
/// `hyper_util` and `hyper_rustls`, and `lambda_` the runtime crates.
pub const CAPPED_TARGETS: &[&str] =
    &["aws_", "hyper", "h2", "http", "rustls", "tokio_rustls", "tower", "lambda_"];

/// The most any capped target may log.
pub const CEILING: LevelFilter = LevelFilter::INFO;

/// The ceiling alone: capped targets at [`CEILING`], everything else open.
pub fn ceiling() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(CAPPED_TARGETS.iter().map(|target| (*target, CEILING)))
}

/// `ROSSIGNOL_LOG` (or `default` when it is unset or unreadable), under the
/// [`ceiling`]. Use it as the per-layer filter of the binary's one layer.
pub fn filter<S>(default: &str) -> And<EnvFilter, Targets, S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let wanted = EnvFilter::try_from_env(LOG_VAR).unwrap_or_else(|_| EnvFilter::new(default));
    wanted.and(ceiling())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// The targets of the events a subscriber with `directives` under the
    /// ceiling lets through.
    fn passed(directives: &str) -> Vec<String> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder(seen.clone());
        let subscriber = tracing_subscriber::registry()
            .with(recorder.with_filter(EnvFilter::new(directives).and(ceiling())));
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "response body");
            tracing::debug!(target: "aws_sdk_sts::operation", "debug");
            tracing::trace!(target: "hyper_util::client", "trace");
            tracing::trace!(target: "lambda_runtime_api_client", "event");
            tracing::info!(target: "aws_config::meta", "info");
            tracing::trace!(target: "rossignol_core::custodian", "ours");
        });
        seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    struct Recorder(Arc<Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorder {
        fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            if let Ok(mut seen) = self.0.lock() {
                seen.push(event.metadata().target().to_owned());
            }
        }
    }

    #[test]
    fn no_directive_lifts_the_ceiling() {
        let info_and_ours = ["aws_config::meta", "rossignol_core::custodian"];
        for (directives, expected) in [
            ("trace", &info_and_ours[..]),
            ("aws_smithy_runtime::client::orchestrator=trace", &[]),
            ("aws_sdk_sts=debug,hyper_util=trace,lambda_runtime_api_client=trace", &[]),
            ("aws_smithy_runtime::client::orchestrator=trace,aws_sdk_sts=debug,trace", &info_and_ours),
            ("[{body}]=trace,trace", &info_and_ours),
            ("aws_config=trace", &["aws_config::meta"]),
            ("rossignol_core=trace", &["rossignol_core::custodian"]),
            ("warn", &[]),
        ] {
            assert_eq!(passed(directives), expected, "{directives}");
        }
    }
}
