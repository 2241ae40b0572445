//! Long-running work the operator watches: creating accounts, auditing.

use std::time::{Duration, Instant};

use rossignol_core::audit::{AuditReport, Progress};

#[derive(Debug, Clone)]
pub struct CreateJob {
    pub count: u64,
    pub created: Vec<String>,
    pub started: Instant,
    pub done: bool,
    pub error: Option<String>,
}

impl CreateJob {
    pub fn new(count: u64, now: Instant) -> Self {
        CreateJob { count, created: Vec::new(), started: now, done: false, error: None }
    }

    pub fn running(&self) -> bool {
        !self.done
    }

    pub fn finish(&mut self, error: Option<String>) {
        self.done = true;
        self.error = error;
    }

    pub fn ratio(&self) -> f64 {
        if self.count == 0 { 1.0 } else { (self.created.len() as f64 / self.count as f64).clamp(0.0, 1.0) }
    }
}

#[derive(Debug, Clone)]
pub struct AuditJob {
    pub progress: Progress,
    pub report: Option<AuditReport>,
    pub error: Option<String>,
    pub cancelling: bool,
    /// The finding under the cursor in the results.
    pub selected: usize,
}

impl AuditJob {
    pub fn new(total: Option<u64>) -> Self {
        AuditJob {
            progress: Progress { checked: 0, findings: 0, total, elapsed: Duration::ZERO },
            report: None,
            error: None,
            cancelling: false,
            selected: 0,
        }
    }

    pub fn running(&self) -> bool {
        self.report.is_none() && self.error.is_none()
    }

    pub fn finish(&mut self, result: Result<AuditReport, String>) {
        match result {
            Ok(report) => self.report = Some(report),
            Err(e) => self.error = Some(e),
        }
    }

    pub fn ratio(&self) -> Option<f64> {
        let total = self.progress.total.filter(|t| *t > 0)?;
        Some((self.progress.checked as f64 / total as f64).clamp(0.0, 1.0))
    }
}

/// The migration of legacy rows, watched from the console.
#[derive(Debug, Clone)]
pub struct MigrateJob {
    pub progress: rossignol_core::lifecycle::Progress,
    pub report: Option<rossignol_core::lifecycle::Report>,
    pub error: Option<String>,
    pub cancelling: bool,
}

impl MigrateJob {
    pub fn new(total: Option<u64>) -> Self {
        MigrateJob {
            progress: rossignol_core::lifecycle::Progress { total, ..Default::default() },
            report: None,
            error: None,
            cancelling: false,
        }
    }

    pub fn running(&self) -> bool {
        self.report.is_none() && self.error.is_none()
    }

    pub fn finish(&mut self, result: Result<rossignol_core::lifecycle::Report, String>) {
        match result {
            Ok(report) => self.report = Some(report),
            Err(e) => self.error = Some(e),
        }
    }

    pub fn ratio(&self) -> Option<f64> {
        let total = self.progress.total.filter(|t| *t > 0)?;
        Some((self.progress.examined as f64 / total as f64).clamp(0.0, 1.0))
    }
}
