//! The `rossignol` operator console and its scriptable subcommands, over
//! `rossignol-core`. The binary is a thin `main`; everything here can be
//! driven from tests.

pub mod cli;
pub mod commands;
pub mod custody;
pub mod lifecycle;
pub mod output;
pub mod serve;
pub mod tui;

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

/// Who is at the keyboard, as the access trail and `created_by` name it:
/// `TOOL:$USER` (`rossignol-cli:alice`, `console:alice`).
pub fn operator(tool: &str) -> String {
    let user =
        std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    format!("{tool}:{user}")
}
