//! Long-running work the operator watches: creating accounts, auditing,
//! and the bulk runs (migrate, repair, refresh).

use std::time::{Duration, Instant};

use rossignol_core::audit::{AuditReport, Progress};

#[derive(Debug, Clone)]
pub struct CreateJob {
    pub count: u64,
    pub created: Vec<String>,
    pub started: Instant,
    pub done: bool,
    pub error: Option<String>,
    /// The address under the cursor, for `y`.
    pub selected: usize,
    /// The cursor follows the newest address until the operator moves it.
    pub follow: bool,
}

impl CreateJob {
    pub fn new(count: u64, now: Instant) -> Self {
        CreateJob {
            count,
            created: Vec::new(),
            started: now,
            done: false,
            error: None,
            selected: 0,
            follow: true,
        }
    }

    /// One more address was created.
    pub fn push(&mut self, address: String) {
        self.created.push(address);
        if self.follow {
            self.selected = self.created.len() - 1;
        }
    }

    /// Moves the cursor by `delta`, clamped; the cursor stops following.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.created.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
        self.follow = false;
    }

    /// Back to the newest address, following again.
    pub fn follow_end(&mut self) {
        self.selected = self.created.len().saturating_sub(1);
        self.follow = true;
    }

    pub fn selected_address(&self) -> Option<&str> {
        self.created.get(self.selected).map(String::as_str)
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

/// A bulk run the console starts and watches, as `rossignol migrate`,
/// `repair` and `refresh` do on the command line.
pub use rossignol_core::lifecycle::Run as BulkRun;

/// What a sentence calls it: "the migration is not complete".
pub fn noun(run: &BulkRun) -> &'static str {
    match run {
        BulkRun::Migrate => "migration",
        BulkRun::Repair { .. } => "repair",
        BulkRun::Refresh => "refresh",
    }
}

/// The console command that starts (or resumes) it.
pub fn command(run: &BulkRun) -> String {
    match run {
        BulkRun::Repair { provider } => format!(":repair {provider}"),
        other => format!(":{}", other.operation().as_str()),
    }
}

/// A bulk run under way or done.
#[derive(Debug, Clone)]
pub struct BulkJob {
    pub run: BulkRun,
    pub progress: rossignol_core::lifecycle::Progress,
    pub report: Option<rossignol_core::lifecycle::Report>,
    pub error: Option<String>,
    pub cancelling: bool,
}

impl BulkJob {
    pub fn new(run: BulkRun, total: Option<u64>) -> Self {
        BulkJob {
            run,
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
