//! `rossignol`: the operator console, and scriptable subcommands for the
//! same actions.

use std::process::ExitCode;

use clap::Parser as _;
use rossignol_console::{cli, commands};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // The console owns the terminal: log lines would tear its screen, so only
    // the subcommands log to stderr.
    if cli.command.is_some() {
        tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(log_filter("warn")).init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // An empty message is a quiet stop, such as a closed pipe.
            if !failure.message.is_empty() {
                eprintln!("error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}

/// `ROSSIGNOL_LOG` (default `warn`), with the SDK and runtime capped
/// so that no payload is ever logged.
fn log_filter(default: &str) -> tracing_subscriber::EnvFilter {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROSSIGNOL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    rossignol_core::aws::LOG_CEILINGS
        .iter()
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, tracing_subscriber::EnvFilter::add_directive)
}
