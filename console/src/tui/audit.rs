//! The audit engine as the console uses it (`rossignol_core::audit`).

pub use rossignol_core::audit::{AuditOptions, AuditReport, Finding, Progress, run};
