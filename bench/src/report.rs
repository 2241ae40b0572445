//! The figures and the table they are printed in.

use std::fmt;
use std::time::Duration;

/// One measured figure.
#[derive(Debug, Clone, Copy)]
pub enum Figure {
    /// Operations (or records) per second: higher is better.
    Rate(f64),
    /// Wall time: lower is better.
    Time(Duration),
    /// Wall time and peak resident memory.
    TimeAndMemory(Duration, u64),
    /// Latency percentiles of single calls: p50 and p99.
    Percentiles(Duration, Duration),
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Figure::Rate(r) => write!(f, "{r:.0}/s"),
            Figure::Time(d) => write!(f, "{:.1} ms", d.as_secs_f64() * 1000.0),
            Figure::TimeAndMemory(d, kib) => {
                write!(f, "{:.1} ms, {:.1} MiB", d.as_secs_f64() * 1000.0, *kib as f64 / 1024.0)
            }
            Figure::Percentiles(p50, p99) => {
                write!(f, "{:.2} / {:.2} ms", p50.as_secs_f64() * 1000.0, p99.as_secs_f64() * 1000.0)
            }
        }
    }
}

/// A target a row is held to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Rossignol's rate at least this fraction of the raw rate.
    RateRatioAtLeast(f64),
    /// Rossignol's time at most this multiple of the raw time.
    TimeRatioAtMost(f64),
    /// An absolute rate, for rows without a baseline.
    RateAtLeast(f64),
    /// Time and peak memory ceilings.
    AtMost { millis: f64, mib: f64 },
    /// A peak memory ceiling (the time is reported, not held to a target).
    MemoryAtMost { mib: f64 },
    /// No target: the ratio is reported for what it is.
    Report,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub operation: String,
    pub ours: Figure,
    pub raw: Option<Figure>,
    pub target: Target,
    /// What bounds the figure, for BENCHMARKS.md.
    pub note: String,
}

impl Row {
    /// Ours relative to raw: rate ratio, or time ratio.
    pub fn ratio(&self) -> Option<f64> {
        match (self.ours, self.raw?) {
            (Figure::Rate(ours), Figure::Rate(raw)) if raw > 0.0 => Some(ours / raw),
            (Figure::Time(ours), Figure::Time(raw)) if !raw.is_zero() => {
                Some(ours.as_secs_f64() / raw.as_secs_f64())
            }
            _ => None,
        }
    }

    pub fn met(&self) -> Option<bool> {
        match (self.target, self.ours) {
            (Target::RateRatioAtLeast(min), _) => self.ratio().map(|r| r >= min),
            (Target::TimeRatioAtMost(max), _) => self.ratio().map(|r| r <= max),
            (Target::RateAtLeast(min), Figure::Rate(r)) => Some(r >= min),
            (Target::AtMost { millis, mib }, Figure::TimeAndMemory(d, kib)) => {
                Some(d.as_secs_f64() * 1000.0 <= millis && kib as f64 / 1024.0 <= mib)
            }
            (Target::MemoryAtMost { mib }, Figure::TimeAndMemory(_, kib)) => Some(kib as f64 / 1024.0 <= mib),
            (Target::Report, _) => None,
            _ => None,
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::RateRatioAtLeast(min) => format!(">= {min:.2}x"),
            Target::TimeRatioAtMost(max) => format!("<= {max:.2}x"),
            Target::RateAtLeast(min) => format!(">= {min:.0}/s"),
            Target::AtMost { millis, mib } => format!("<= {millis:.0} ms, <= {mib:.0} MiB"),
            Target::MemoryAtMost { mib } => format!("peak RSS <= {mib:.0} MiB"),
            Target::Report => "report ratio".into(),
        }
    }
}

/// The table, as Markdown (it goes into BENCHMARKS.md as printed).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| operation | Rossignol | raw baseline | ratio | target | met |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            row.operation,
            row.ours,
            row.raw.map_or("—".into(), |r| r.to_string()),
            row.ratio().map_or("—".into(), |r| format!("{r:.2}x")),
            row.target_text(),
            match row.met() {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            }
        ));
    }
    out
}
