//! The console's memory while browsing a whole table: the real `rossignol`
//! console in a tmux server of its own, `G` pressed to page to the last
//! account, and its peak resident set (VmHWM) once everything is loaded.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// Time from `G` until all `records` are loaded, and the peak RSS (KiB).
pub fn measure(rossignol: &Path, config: &Path, records: u64) -> anyhow::Result<(Duration, u64)> {
    let socket = format!("rossignol-bench-{}", std::process::id());
    let tmux = |args: &[&str]| -> anyhow::Result<String> {
        let output =
            Command::new("tmux").arg("-L").arg(&socket).args(args).output().context("running tmux")?;
        anyhow::ensure!(
            output.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let command = format!("{} --config {}", rossignol.display(), config.display());
    tmux(&["new-session", "-d", "-s", "console", "-x", "120", "-y", "40", &command])?;
    let measured = (|| {
        let screen = || tmux(&["capture-pane", "-p", "-t", "console"]);
        let wait_for = |what: &str, timeout: Duration| -> anyhow::Result<()> {
            let start = Instant::now();
            while start.elapsed() < timeout {
                if screen()?.contains(what) {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            anyhow::bail!("the console did not show {what:?} within {timeout:?}:\n{}", screen()?)
        };
        wait_for("loaded)", Duration::from_secs(30))?;
        let pid: u32 = tmux(&["display-message", "-p", "-t", "console", "#{pane_pid}"])?.trim().parse()?;
        let start = Instant::now();
        tmux(&["send-keys", "-t", "console", "G"])?;
        wait_for(&format!("({records} loaded)"), Duration::from_secs(600))?;
        let elapsed = start.elapsed();
        let peak = crate::cold_start::peak_rss_kib(pid)?;
        let _ = tmux(&["send-keys", "-t", "console", "q"]);
        Ok((elapsed, peak))
    })();
    let _ = tmux(&["kill-server"]);
    measured
}
