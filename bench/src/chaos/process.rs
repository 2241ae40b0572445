//! A `rossignol` process under watch: its output lines as they come, its
//! peak resident set (VmHWM, sampled every 20 ms), and bounded waits.

use std::io::{BufRead as _, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// One line of output.
#[derive(Debug, Clone)]
pub enum Line {
    Out(String),
    Err(String),
}

#[derive(Debug)]
pub struct Run {
    what: String,
    child: Child,
    lines: mpsc::Receiver<Line>,
    peak_kib: Arc<AtomicU64>,
    reaped: Arc<AtomicBool>,
    started: Instant,
    pub out: Vec<String>,
    pub err: Vec<String>,
}

/// How a run ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub out: Vec<String>,
    pub err: Vec<String>,
    pub peak_kib: u64,
    pub elapsed: Duration,
}

impl Finished {
    /// stdout as one JSON document.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_str(&self.out.join("\n"))
            .with_context(|| format!("not JSON on stdout: {:?}; stderr: {:?}", self.out, self.err))
    }

    /// The last line on stderr (the CLI's one-sentence error).
    pub fn last_error(&self) -> String {
        self.err.last().cloned().unwrap_or_default()
    }
}

fn forward(stream: impl Read + Send + 'static, tx: mpsc::Sender<Line>, wrap: fn(String) -> Line) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if tx.send(wrap(line)).is_err() {
                return;
            }
        }
    });
}

impl Run {
    pub fn start(what: &str, command: &mut Command) -> anyhow::Result<Self> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {what}"))?;
        let (tx, lines) = mpsc::channel();
        forward(child.stdout.take().context("no stdout")?, tx.clone(), Line::Out);
        forward(child.stderr.take().context("no stderr")?, tx, Line::Err);
        let peak_kib = Arc::new(AtomicU64::new(0));
        let reaped = Arc::new(AtomicBool::new(false));
        {
            let (peak, reaped, pid) = (Arc::clone(&peak_kib), Arc::clone(&reaped), child.id());
            std::thread::spawn(move || {
                while !reaped.load(Ordering::SeqCst) {
                    match crate::cold_start::peak_rss_kib(pid) {
                        Ok(kib) => {
                            peak.fetch_max(kib, Ordering::SeqCst);
                        }
                        Err(_) => return, // exited (a zombie has no VmHWM)
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
        Ok(Run {
            what: what.to_owned(),
            child,
            lines,
            peak_kib,
            reaped,
            started: Instant::now(),
            out: Vec::new(),
            err: Vec::new(),
        })
    }

    /// The next line within `patience`; `None` once both streams are closed.
    pub fn next_line(&mut self, patience: Duration) -> anyhow::Result<Option<Line>> {
        match self.lines.recv_timeout(patience) {
            Ok(line) => {
                match &line {
                    Line::Out(text) => self.out.push(text.clone()),
                    Line::Err(text) => self.err.push(text.clone()),
                }
                Ok(Some(line))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => Ok(None),
            Err(mpsc::RecvTimeoutError::Timeout) => anyhow::bail!(
                "{} printed nothing for {} s (hung?); stderr so far: {:?}",
                self.what,
                patience.as_secs(),
                self.err.iter().rev().take(3).collect::<Vec<_>>()
            ),
        }
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
    }

    /// Reads the rest of the output and waits for the exit, each bounded by
    /// `patience`; a process still running then is killed and reported hung.
    pub fn finish(mut self, patience: Duration) -> anyhow::Result<Finished> {
        let outcome = (|| {
            while self.next_line(patience)?.is_some() {}
            let deadline = Instant::now() + patience;
            loop {
                if let Some(status) = self.child.try_wait()? {
                    return Ok(status);
                }
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "{} did not exit within {} s after closing its output (hung)",
                    self.what,
                    patience.as_secs()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        })();
        let elapsed = self.started.elapsed();
        if outcome.is_err() {
            self.kill();
            let _ = self.child.wait();
        }
        self.reaped.store(true, Ordering::SeqCst);
        let status = outcome?;
        Ok(Finished {
            status,
            out: std::mem::take(&mut self.out),
            err: std::mem::take(&mut self.err),
            peak_kib: self.peak_kib.load(Ordering::SeqCst),
            elapsed,
        })
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.reaped.store(true, Ordering::SeqCst);
    }
}
