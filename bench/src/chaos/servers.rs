//! The real servers the chaos cases start, stop and kill by PID: DynamoDB
//! Local on disk (`-dbPath DIR -sharedDb`, so that a restart finds what
//! was written before a SIGKILL) and moto for KMS.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// How long a server may take to answer after it starts.
const READY: Duration = Duration::from_secs(90);

/// A free loopback port (there is a small race until the server binds it).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until `url` answers anything over HTTP while `child` runs.
fn wait_ready(name: &str, child: &mut Child, url: &str, log: &Path) -> anyhow::Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .into();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("{name} exited during startup ({status}); see {}", log.display());
        }
        if agent.post(url).header("X-Amz-Target", "DynamoDB_20120810.ListTables").send("{}").is_ok() {
            return Ok(());
        }
        anyhow::ensure!(
            start.elapsed() < READY,
            "{name} did not answer on {url} within {} s; see {}",
            READY.as_secs(),
            log.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// DynamoDB Local keeping its data in a directory, on one port for its
/// whole life (a restart comes back on the same endpoint).
#[derive(Debug)]
pub struct DynamoLocal {
    jar_dir: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl DynamoLocal {
    pub fn start(jar_dir: &Path, data: &Path, log: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data)?;
        let mut server = DynamoLocal {
            jar_dir: jar_dir.to_owned(),
            data: data.to_owned(),
            log: log.to_owned(),
            port: free_port()?,
            child: None,
        };
        server.restart()?;
        Ok(server)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL, and wait until the process is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on its port and directory; returns once it answers.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let mut child = Command::new("java")
            .current_dir(&self.jar_dir)
            .args(["-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar", "-sharedDb"])
            .arg("-dbPath")
            .arg(&self.data)
            .args(["-disableTelemetry", "-port", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting DynamoDB Local (java)")?;
        let ready = wait_ready("DynamoDB Local", &mut child, &self.endpoint(), &self.log);
        self.child = Some(child);
        ready
    }
}

impl Drop for DynamoLocal {
    fn drop(&mut self) {
        self.kill();
    }
}

/// moto's server (KMS, STS), in memory.
#[derive(Debug)]
pub struct Moto {
    port: u16,
    child: Child,
}

impl Moto {
    pub fn start(command: &str, log: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let mut words = command.split_whitespace();
        let program = words.next().context("an empty moto command")?;
        let out = std::fs::File::create(log)?;
        let mut child = Command::new(program)
            .args(words)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting moto ({command})"))?;
        let url = format!("http://127.0.0.1:{port}/");
        if let Err(e) = wait_ready("moto", &mut child, &url, log) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        Ok(Moto { port, child })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
