//! What the commands print: JSON views of records (never a secret unless
//! revealed) and a stdout writer that stops quietly on a closed pipe.

use std::io::{self, Write as _};

use rossignol_core::config::{Environment, SealSpec, StoreSpec};
use rossignol_core::store::{AccountRecord, CheckStatus, TableReport};
use serde::Serialize;

use crate::Failure;

/// A record as shown: every attribute but the key.
#[derive(Debug, Serialize)]
pub struct RecordView {
    pub address: String,
    pub scheme: &'static str,
    pub public_key: String,
    pub seal: Option<String>,
    pub created_at: Option<String>,
    pub created_by: Option<String>,
    pub schema_version: u32,
    /// A Node-era row whose key is stored in plaintext.
    pub legacy_plaintext: bool,
    /// When the account was disabled, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_by: Option<String>,
}

impl From<&AccountRecord> for RecordView {
    fn from(record: &AccountRecord) -> Self {
        RecordView {
            address: record.address.to_string(),
            scheme: record.scheme.as_str(),
            public_key: record.public_key.clone(),
            seal: record.seal().map(str::to_owned),
            created_at: record.created_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            created_by: record.created_by.clone(),
            schema_version: record.schema_version,
            legacy_plaintext: record.is_legacy(),
            disabled_at: record
                .disabled
                .as_ref()
                .map(|d| d.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            disabled_by: record.disabled.as_ref().and_then(|d| d.by.clone()),
        }
    }
}

impl RecordView {
    /// One line for `list`: address, scheme, created_at, created_by, flags.
    pub fn row(&self) -> String {
        format!(
            "{}  {:<9}  {:<24}  {}{}{}",
            self.address,
            self.scheme,
            self.created_at.as_deref().unwrap_or("-"),
            self.created_by.as_deref().unwrap_or("-"),
            if self.legacy_plaintext { "  [legacy plaintext]" } else { "" },
            if self.disabled_at.is_some() { "  [disabled]" } else { "" }
        )
    }

    pub fn details(&self) -> Vec<(&'static str, String)> {
        let mut details = vec![
            ("address", self.address.clone()),
            ("scheme", self.scheme.to_owned()),
            ("public_key", self.public_key.clone()),
            ("seal", self.seal.clone().unwrap_or_else(|| "none: legacy plaintext key at rest".into())),
            ("created_at", self.created_at.clone().unwrap_or_else(|| "-".into())),
            ("created_by", self.created_by.clone().unwrap_or_else(|| "-".into())),
            ("schema_version", self.schema_version.to_string()),
        ];
        if let Some(at) = &self.disabled_at {
            let by = self.disabled_by.as_deref().map(|by| format!(" by {by}")).unwrap_or_default();
            details.push(("disabled", format!("since {at}{by}: the getter and signer refuse it")));
        }
        details
    }
}

#[derive(Debug, Serialize)]
pub struct EnvView<'a> {
    pub name: &'a str,
    pub default: bool,
    #[serde(flatten)]
    pub environment: &'a Environment,
}

impl EnvView<'_> {
    pub fn row(&self) -> String {
        let (store, location) = match &self.environment.store {
            StoreSpec::Embedded { path } => ("embedded", path.display().to_string()),
            StoreSpec::Dynamodb { aws, .. } => {
                let mut at = aws.region.clone().unwrap_or_else(|| "default region".into());
                if let Some(profile) = &aws.profile {
                    at.push_str(&format!(", profile {profile}"));
                }
                if let Some(url) = &aws.endpoint_url {
                    at.push_str(&format!(", {url}"));
                }
                ("dynamodb", at)
            }
            StoreSpec::Postgres { url } => ("postgres", format!("{url:?}")),
            StoreSpec::Sharded { providers, .. } => {
                let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
                ("sharded", format!("providers {}", names.join(", ")))
            }
        };
        let seal = match &self.environment.seal {
            SealSpec::Kms { key_id } => format!("kms {key_id}"),
            SealSpec::Local { .. } => "local key".to_owned(),
            SealSpec::Transit { key, .. } => format!("transit {key}"),
            SealSpec::Shares => sharded_label(&self.environment.store),
        };
        format!(
            "{} {:<12} {:<9} {:<24} {:<28} {}{}",
            if self.default { "*" } else { " " },
            self.name,
            store,
            self.environment.table,
            seal,
            location,
            if self.environment.read_only { "  [read-only]" } else { "" }
        )
    }
}

pub fn report_lines(report: &TableReport) -> Vec<String> {
    let mut lines = vec![format!("table {} at {}", report.table, report.location)];
    if let Some(count) = report.item_count {
        let estimate = if report.item_count_is_estimate {
            " (DynamoDB's estimate, refreshed about every 6 hours)"
        } else {
            ""
        };
        lines.push(format!("  accounts: {count}{estimate}"));
    }
    for check in &report.checks {
        let mark = match check.status {
            CheckStatus::Ok => "ok  ",
            CheckStatus::NotReported => "n/a ",
            CheckStatus::Wrong => "FIX ",
        };
        lines.push(format!("  {mark} {}: {}", check.setting, check.detail));
    }
    lines
}

/// One line of audit progress: checked, rate, ETA.
pub fn progress_line(progress: &rossignol_core::audit::Progress) -> String {
    let total = progress.total.map(|t| format!(" of ~{t}")).unwrap_or_default();
    let eta = progress.eta().map(|d| format!(", about {}s left", d.as_secs())).unwrap_or_default();
    format!(
        "audited {}{total} records ({:.0}/s{eta}), {} finding(s)",
        progress.checked,
        progress.rate(),
        progress.findings
    )
}

/// The audit's summary, findings and warnings, for people.
pub fn audit_lines(report: &rossignol_core::audit::AuditReport) -> Vec<String> {
    let seconds = report.elapsed.as_secs_f64();
    let rate = if seconds > 0.0 { report.checked as f64 / seconds } else { 0.0 };
    let mut lines = vec![format!(
        "{} audit: {} records checked in {seconds:.1} s ({rate:.0}/s): {} ok, {} finding(s), {} warning(s){}",
        if report.deep { "deep" } else { "shallow" },
        report.checked,
        report.ok,
        report.findings.len(),
        report.warnings.len(),
        if report.cancelled { " (cancelled)" } else { "" }
    )];
    if !report.seals.is_empty() {
        let seals: Vec<String> = report.seals.iter().map(|(seal, n)| format!("{seal}: {n}")).collect();
        lines.push(format!("seals: {}", seals.join(", ")));
    }
    if report.disabled > 0 {
        lines.push(format!("disabled accounts: {}", report.disabled));
    }
    if !report.findings.is_empty() {
        lines.push("findings:".into());
        for f in &report.findings {
            let at = f.provider.as_deref().map(|p| format!("  at {p}")).unwrap_or_default();
            lines.push(format!("  {}{at}  {} ({})", f.address, f.kind, f.detail));
        }
    }
    if !report.warnings.is_empty() {
        lines.push("warnings:".into());
        for w in &report.warnings {
            lines.push(format!("  {}: {}", w.subject, w.detail));
        }
    }
    lines
}

/// Stdout, line by line. A closed pipe (`| head`) ends the command quietly.
#[derive(Debug)]
pub struct Out {
    stdout: io::StdoutLock<'static>,
}

impl Default for Out {
    fn default() -> Self {
        Out { stdout: io::stdout().lock() }
    }
}

impl Out {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn line(&mut self, text: &str) -> Result<(), Failure> {
        writeln!(self.stdout, "{text}").map_err(pipe_failure)
    }

    pub fn json(&mut self, value: &impl Serialize) -> Result<(), Failure> {
        let text =
            serde_json::to_string(value).map_err(|e| Failure::failed(format!("cannot encode JSON: {e}")))?;
        self.line(&text)
    }

    pub fn flush(&mut self) -> Result<(), Failure> {
        self.stdout.flush().map_err(pipe_failure)
    }
}

fn pipe_failure(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure { code: 0, message: String::new() }
    } else {
        Failure::failed(format!("cannot write to standard output: {e}"))
    }
}

/// `2-of-3 shares`, for a sharded environment's seal column.
pub fn sharded_label(store: &StoreSpec) -> String {
    match store {
        StoreSpec::Sharded { threshold, providers } => format!("{threshold}-of-{} shares", providers.len()),
        _ => "shares".to_owned(),
    }
}
