//! A private PostgreSQL server for one test: its own cluster in a temp
//! dir on a free loopback port, with a password, which the test can stop
//! (immediate shutdown, as in a crash) and start again on the same port
//! with its data. Stopped on drop. As root it runs as the `postgres`
//! user, as scripts/servers/postgres does.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The superuser's password: tests check that it never shows.
pub const PASSWORD: &str = "pw-Zq8rT1vX";

pub struct PostgresServer {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
    running: bool,
}

impl PostgresServer {
    /// A running server, or `None` with a note when PostgreSQL's programs
    /// are missing (a failure in CI).
    pub fn start_new() -> Option<Self> {
        Self::start_with(|_| Vec::new())
    }

    /// Like [`Self::start_new`], with extra `postgresql.conf` lines from
    /// `prepare`, which may first write files (certificates) into the
    /// server's directory.
    pub fn start_with(prepare: impl FnOnce(&Path) -> Vec<String>) -> Option<Self> {
        let Some(bin) = bin_dir() else {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!(
                    "PostgreSQL's initdb and pg_ctl are required in CI; install them (apt-get install postgresql)"
                );
            }
            eprintln!(
                "SKIPPED: PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)"
            );
            return None;
        };
        // Under /tmp, not /root: the postgres user must reach it.
        let dir =
            tempfile::Builder::new().prefix("rossignol-pg-test").tempdir_in("/tmp").expect("a temp dir");
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, PASSWORD).expect("writes the password file");
        let mut settings = prepare(dir.path());
        give_to_owner(dir.path());
        let data = dir.path().join("data");
        run_as_owner(
            Command::new(bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-E", "UTF8", "--no-sync", "--auth-local=trust"])
                .arg("--auth-host=scram-sha-256")
                .arg(format!("--pwfile={}", pwfile.display())),
            "initdb",
        );
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        settings.extend([
            format!("port = {port}"),
            "listen_addresses = '127.0.0.1'".into(),
            format!("unix_socket_directories = '{}'", dir.path().display()),
            "fsync = off".into(),
        ]);
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).expect("reads postgresql.conf");
        text.push_str(&(settings.join("\n") + "\n"));
        std::fs::write(&conf, text).expect("writes postgresql.conf");
        let mut server = PostgresServer { bin, dir, port, running: false };
        server.start();
        Some(server)
    }

    /// `postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres`, plus `params`.
    pub fn url(&self, params: &str) -> String {
        format!("postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres{params}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts it again (same port, same data); returns once it accepts
    /// connections (`pg_ctl -w` waits for that).
    pub fn start(&mut self) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("server.log");
        run_as_owner(
            Command::new(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "120", "start"]),
            "pg_ctl start",
        );
        self.running = true;
    }

    /// Immediate shutdown, as in a crash; returns once the server is gone.
    pub fn stop(&mut self) {
        let data = self.dir.path().join("data");
        run_as_owner(
            Command::new(self.bin.join("pg_ctl")).arg("-D").arg(&data).args([
                "-m",
                "immediate",
                "-w",
                "-t",
                "120",
                "stop",
            ]),
            "pg_ctl stop",
        );
        self.running = false;
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if self.running {
            let data = self.dir.path().join("data");
            let mut stop = Command::new(self.bin.join("pg_ctl"));
            stop.arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"]);
            let _ = as_owner(&mut stop).output();
        }
    }
}

/// The directory of initdb and pg_ctl: on PATH, else Debian's.
fn bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .and_then(|dir| std::fs::canonicalize(dir.join("pg_ctl")).ok())
        .and_then(|pg_ctl| pg_ctl.parent().map(Path::to_path_buf));
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    debian.sort_by_key(|dir| std::cmp::Reverse(dir.join("pg_ctl").is_file()));
    on_path.into_iter().chain(debian).find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

/// The `psql` client: on PATH, else beside the server's programs.
pub fn psql() -> PathBuf {
    let on_path = Command::new("psql").arg("--version").output().is_ok_and(|out| out.status.success());
    if on_path {
        PathBuf::from("psql")
    } else {
        bin_dir().map(|dir| dir.join("psql")).unwrap_or_else(|| "psql".into())
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn as_owner(command: &mut Command) -> Command {
    if is_root() {
        let mut wrapped = Command::new("runuser");
        wrapped.args(["-u", "postgres", "--"]).arg(command.get_program()).args(command.get_args());
        wrapped
    } else {
        let mut same = Command::new(command.get_program());
        same.args(command.get_args());
        same
    }
}

fn run_as_owner(command: &mut Command, what: &str) {
    let out = as_owner(command).output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// As root, hands `path` and everything in it to the postgres user.
fn give_to_owner(path: &Path) {
    if is_root() {
        let status = Command::new("chown").args(["-R", "postgres"]).arg(path).status().expect("runs chown");
        assert!(status.success(), "chown -R postgres {}", path.display());
    }
}
