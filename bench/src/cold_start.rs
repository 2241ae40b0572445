//! Lambda cold init: from process start to the first poll of the runtime
//! API, and the peak resident memory by then. A listener stands in for the
//! runtime API; the process is stopped once it has polled.

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// The median time and the largest peak RSS (KiB) over `runs` starts.
pub fn measure(binary: &Path, runs: usize) -> anyhow::Result<(Duration, u64)> {
    let mut times = Vec::with_capacity(runs);
    let mut peak = 0;
    for _ in 0..runs {
        let (time, rss) = once(binary)?;
        times.push(time);
        peak = peak.max(rss);
    }
    times.sort();
    Ok((times[times.len() / 2], peak))
}

fn once(binary: &Path) -> anyhow::Result<(Duration, u64)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let start = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "rossignol-bench-getter")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("_HANDLER", "getter")
        .env("DYNAMO_DB_TABLE_NAME", "rossignol_bench")
        .env("ROSSIGNOL_KMS_KEY_ID", "alias/rossignol-bench")
        // Checked as in production: the SHA-256 of `test-api-key`.
        .env("ROSSIGNOL_API_KEY_SHA256", crate::invocations::API_KEY_SHA256)
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let polled = (|| -> anyhow::Result<(Duration, u64)> {
        let (stream, _) = listener.accept()?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line)?;
        let elapsed = start.elapsed();
        anyhow::ensure!(line.contains("/runtime/invocation/next"), "unexpected first request: {line}");
        Ok((elapsed, peak_rss_kib(child.id())?))
    })();
    let _ = child.kill();
    let _ = child.wait();
    polled
}

/// VmHWM: the process's peak resident set so far.
pub fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/PID/status")
}
