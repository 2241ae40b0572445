//! `rossignol`: the operator's command line over `rossignol-core`.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

/// A command's failure and the exit code it maps to: 1 when an operation
/// failed, 2 for bad usage or input.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure { code: 2, message: message.into() }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Failure { code: 1, message: message.into() }
    }

    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{}; {context}", self.message);
        self
    }
}

impl From<rossignol_core::Error> for Failure {
    fn from(e: rossignol_core::Error) -> Self {
        Failure { code: if e.is_usage() { 2 } else { 1 }, message: e.to_string() }
    }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ROSSIGNOL_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .init();
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
