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
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
        tracing_subscriber::registry()
            .with(lines.with_filter(rossignol_core::logging::filter("warn")))
            .init();
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
