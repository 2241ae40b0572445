//! The real `rossignol` console in tmux, on the embedded store and on
//! DynamoDB Local: open, create, filter, details, quit; and a read-only
//! environment refusing create. Skipped with a note when tmux or DynamoDB
//! Local is missing, except in CI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// A tmux server of its own running the console; killed on drop.
struct Console {
    socket: String,
    _dir: tempfile::TempDir,
}

fn tmux_available() -> bool {
    let found = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "tmux is required in CI (CI=true)");
        eprintln!("note: tmux is not installed; skipping the console end-to-end test");
    }
    found
}

impl Console {
    fn start(name: &str, config: Option<&str>) -> Self {
        Console::start_with(name, config, false)
    }

    /// `report_exit`: the pane stays after the console exits and shows
    /// what it printed and its exit status (`exit status N`). The console
    /// runs in the test's directory, where its files go.
    fn start_with(name: &str, config: Option<&str>, report_exit: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let socket = format!("rossignol-{name}-{}", std::process::id());
        let mut command: Vec<String> = vec![
            "env".into(),
            "-u".into(),
            "ROSSIGNOL_CONFIG".into(),
            "-u".into(),
            "ROSSIGNOL_ENV".into(),
            // No system clipboard: copies go through the terminal (OSC 52).
            "-u".into(),
            "DISPLAY".into(),
            "-u".into(),
            "WAYLAND_DISPLAY".into(),
            format!("ROSSIGNOL_DATA_DIR={}", dir.path().join("data").display()),
            format!("XDG_CONFIG_HOME={}", dir.path().join("config").display()),
            format!("HOME={}", dir.path().display()),
            "USER=e2e".into(),
            "AWS_EC2_METADATA_DISABLED=true".into(),
            "AWS_ACCESS_KEY_ID=test".into(),
            "AWS_SECRET_ACCESS_KEY=test".into(),
            env!("CARGO_BIN_EXE_rossignol").into(),
        ];
        if let Some(text) = config {
            let path = dir.path().join("rossignol.toml");
            std::fs::write(&path, text).unwrap();
            command.extend(["--config".into(), path.display().to_string()]);
        }
        if report_exit {
            let quoted: Vec<String> = command.iter().map(|arg| format!("'{arg}'")).collect();
            let script = format!("{}; echo \"exit status $?\"; sleep 600", quoted.join(" "));
            command = vec!["sh".into(), "-c".into(), script];
        }
        let cwd = dir.path().display().to_string();
        let console = Console { socket, _dir: dir };
        let output = console
            .tmux(&["new-session", "-d", "-s", "console", "-c", &cwd, "-x", "120", "-y", "40", "--"])
            .args(&command)
            .output()
            .unwrap();
        assert!(output.status.success(), "tmux: {}", String::from_utf8_lossy(&output.stderr));
        console
    }

    fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    fn tmux(&self, args: &[&str]) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "-f", "/dev/null"]).args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.tmux(args).output().unwrap()
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "console"]).stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "console", key]);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "console", "-l", text]);
        std::thread::sleep(Duration::from_millis(50));
    }

    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(start.elapsed() < WAIT, "waited for {text:?}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_exit(&self) {
        let start = Instant::now();
        while self.run(&["has-session", "-t", "console"]).status.success() {
            assert!(start.elapsed() < WAIT, "the console did not quit:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The distinct addresses on screen, in order.
fn addresses(screen: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for word in screen.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.len() == 42 && word.starts_with("0x") && !found.iter().any(|f| f == word) {
            found.push(word.to_owned());
        }
    }
    found
}

/// Open, create two accounts, filter to one, open its details, quit.
fn create_filter_details_quit(name: &str, env: &str, config: Option<&str>) {
    let console = Console::start(name, config);
    console.wait_for("no accounts yet");
    console.keys(&["c"]);
    console.wait_for("How many accounts?");
    console.keys(&["BSpace", "2", "Enter"]);
    console.wait_for(&format!("Create 2 new account(s) in environment {env}?"));
    console.keys(&["Tab", "Enter"]);
    let screen = console.wait_for("2 of 2 created");
    let created = addresses(&screen);
    assert_eq!(created.len(), 2, "{screen}");
    console.keys(&["Escape"]);
    console.wait_for("Accounts (2 loaded)");

    let wanted = &created[1];
    console.keys(&["/"]);
    console.type_text(&wanted[2..12].to_lowercase());
    let screen = console.wait_for("1 match");
    assert!(screen.contains(wanted.as_str()) && !screen.contains(created[0].as_str()), "{screen}");
    console.keys(&["Enter", "Enter"]);
    let screen = console.wait_for("Access trail");
    assert!(screen.contains("public_key") && screen.contains("console:e2e"), "{screen}");
    console.wait_for("no access recorded");

    console.keys(&["Escape", "q"]);
    console.wait_exit();
}

/// Waits until `file` holds what `done` looks for; the file's bytes.
fn wait_for_file(file: &std::path::Path, what: &str, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let start = Instant::now();
    loop {
        let bytes = std::fs::read(file).unwrap_or_default();
        if done(&bytes) {
            return bytes;
        }
        assert!(
            start.elapsed() < WAIT,
            "waited for {what}; the console wrote:\n{}",
            String::from_utf8_lossy(&bytes)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Where the OSC 52 sequence carrying a key starts (not the clearing one).
fn key_copy_at(bytes: &[u8]) -> Option<usize> {
    const OSC52: &[u8] = b"\x1b]52;c;";
    bytes.windows(OSC52.len() + 1).position(|w| w.starts_with(OSC52) && w[OSC52.len()] != b'!')
}

fn clear_after(bytes: &[u8], at: usize) -> bool {
    const CLEAR: &[u8] = b"\x1b]52;c;!\x07";
    bytes[at..].windows(CLEAR.len()).any(|w| w == CLEAR)
}

/// `Y` copies a key through OSC 52 (no display); `exit` ends the console
/// at once, which must still write the clearing sequence after the copy.
fn copy_then_exit(name: &str, exit: impl FnOnce(&Console)) {
    let console = Console::start(name, None);
    let written = console.dir().join("pane.out");
    let pipe = format!("cat >> '{}'", written.display());
    assert!(console.run(&["pipe-pane", "-o", "-t", "console", &pipe]).status.success());
    console.wait_for("no accounts yet");
    console.keys(&["c"]);
    console.wait_for("How many accounts?");
    console.keys(&["Enter"]);
    console.wait_for("Create 1 new account(s)");
    console.keys(&["Tab", "Enter"]);
    console.wait_for("1 of 1 created");
    console.keys(&["Escape"]);
    console.wait_for("Accounts (1 loaded)");

    console.keys(&["Y"]);
    console.wait_for("Copy the private key of");
    console.keys(&["Tab", "Enter"]);
    console.wait_for("copied the private key to the clipboard");
    let bytes = wait_for_file(&written, "the OSC 52 copy", |b| key_copy_at(b).is_some());
    let at = key_copy_at(&bytes).unwrap();
    assert!(!clear_after(&bytes, at), "cleared only after 30 seconds, or on exit");

    exit(&console);
    console.wait_exit();
    wait_for_file(&written, "the clearing sequence after the copy", |b| {
        key_copy_at(b).is_some_and(|at| clear_after(b, at))
    });
}

#[test]
fn a_copied_key_is_cleared_from_the_clipboard_when_the_console_quits() {
    if !tmux_available() {
        return;
    }
    copy_then_exit("copy-quit", |console| console.keys(&["q"]));
}

#[test]
fn a_copied_key_is_cleared_from_the_clipboard_when_the_console_is_terminated() {
    if !tmux_available() {
        return;
    }
    copy_then_exit("copy-term", |console| {
        // `env` execs the console: the pane's process is the console.
        let pid = String::from_utf8(console.run(&["display", "-p", "-t", "console", "#{pane_pid}"]).stdout)
            .unwrap();
        let killed = Command::new("kill").args(["-TERM", pid.trim()]).status().unwrap();
        assert!(killed.success(), "kill -TERM {pid}");
    });
}

#[test]
fn create_filter_details_quit_on_the_embedded_store() {
    if !tmux_available() {
        return;
    }
    create_filter_details_quit("main", "local", None);
}

/// DynamoDB Local's endpoint; `None` with a note outside CI.
fn dynamodb_endpoint() -> Option<String> {
    match std::env::var("ROSSIGNOL_TEST_DYNAMODB_ENDPOINT") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "DynamoDB Local is required in CI (CI=true)"
            );
            eprintln!("note: DynamoDB Local is not running; `scripts/test` starts it");
            None
        }
    }
}

fn dynamodb_config(endpoint: &str, env: &str, table: &str, dir: &std::path::Path, read_only: bool) -> String {
    format!(
        "default = \"{env}\"\n[environments.{env}]\ntable = \"{table}\"\nregion = \"eu-central-1\"\n\
         endpoint_url = \"{endpoint}\"\nlocal_key_file = \"{}\"\nread_only = {read_only}\n",
        dir.join("dev.key").display()
    )
}

/// Creates the tables with `rossignol init`, as an operator would.
fn init(config: &str, dir: &std::path::Path) {
    let config_path = dir.join("init.toml");
    std::fs::write(&config_path, config.replace("read_only = true", "read_only = false")).unwrap();
    let init = Command::new(env!("CARGO_BIN_EXE_rossignol"))
        .arg("--config")
        .arg(&config_path)
        .arg("init")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(init.status.success(), "init: {}", String::from_utf8_lossy(&init.stderr));
}

#[test]
fn create_filter_details_quit_on_dynamodb_local() {
    if !tmux_available() {
        return;
    }
    let Some(endpoint) = dynamodb_endpoint() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = dynamodb_config(&endpoint, "dev", &format!("tui_{}", std::process::id()), dir.path(), false);
    init(&config, dir.path());
    create_filter_details_quit("dynamodb", "dev", Some(&config));
}

/// A read-only environment shows it and refuses create.
fn read_only_refuses_create(name: &str, config: &str) {
    let console = Console::start(name, Some(config));
    let screen = console.wait_for("READ-ONLY");
    assert!(screen.contains("vault"), "{screen}");
    console.wait_for("no accounts in this read-only environment");
    console.keys(&["c"]);
    console.wait_for("environment vault is read-only; create is refused");
    console.keys(&["Escape", "q"]);
    console.wait_exit();
}

#[test]
fn a_read_only_environment_refuses_create() {
    if !tmux_available() {
        return;
    }
    read_only_refuses_create(
        "readonly",
        "default = \"vault\"\n[environments.vault]\nstore = \"embedded\"\nread_only = true\n",
    );
}

#[test]
fn a_read_only_dynamodb_environment_refuses_create() {
    if !tmux_available() {
        return;
    }
    let Some(endpoint) = dynamodb_endpoint() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config =
        dynamodb_config(&endpoint, "vault", &format!("tui_ro_{}", std::process::id()), dir.path(), true);
    init(&config, dir.path());
    read_only_refuses_create("readonly-dynamodb", &config);
}

/// Runs the CLI on the test's configuration; its standard output.
fn cli(console: &Console, config: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_rossignol"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("ROSSIGNOL_DATA_DIR", console.dir().join("data"))
        .env("HOME", console.dir())
        .env_remove("ROSSIGNOL_CONFIG")
        .env_remove("ROSSIGNOL_ENV")
        .output()
        .unwrap();
    assert!(output.status.success(), "rossignol {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// An operator's day: create 200 by typing 200, filter, details, sign a
/// transaction after reading its preview, export to a taken path (refused
/// before any passphrase), pick an environment from the list, and quit
/// during a create (asked first; the writes in flight finish; the count
/// is printed and the exit status is not 0).
#[test]
fn an_operators_day_in_the_console() {
    if !tmux_available() {
        return;
    }
    let config = "default = \"first\"\n[environments.first]\nstore = \"embedded\"\n\
                  [environments.second]\nstore = \"embedded\"\n";
    let console = Console::start_with("day", Some(config), true);
    let config_path = console.dir().join("rossignol.toml");
    console.wait_for("no accounts yet");

    console.keys(&["c"]);
    console.wait_for("How many accounts?");
    console.type_text("200");
    console.keys(&["Enter"]);
    console.wait_for("Create 200 new account(s) in environment first?");
    console.keys(&["Tab", "Enter"]);
    let screen = console.wait_for("200 of 200 created");
    let shown = addresses(&screen);
    assert!(!shown.is_empty(), "the result lists addresses:\n{screen}");
    console.keys(&["Escape"]);
    console.wait_for("Accounts (");

    let wanted = shown.last().unwrap().clone();
    console.keys(&["/"]);
    console.type_text(&wanted[2..14].to_lowercase());
    console.wait_for("1 match");
    console.keys(&["Enter", "Enter"]);
    console.wait_for("Access trail");

    std::fs::write(
        console.dir().join("tx.json"),
        r#"{"chainId": 1, "nonce": 4, "to": "0x3535353535353535353535353535353535353535",
            "value": "1500000000000000000", "gas": 21000,
            "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000"}"#,
    )
    .unwrap();
    console.keys(&["s"]);
    console.wait_for("@FILE");
    console.type_text("@tx.json");
    console.keys(&["Enter"]);
    let screen = console.wait_for("EIP-1559 (type 2)");
    for expected in
        ["1 (Ethereum mainnet)", "0x3535353535353535353535353535353535353535", "1.5 ETH", "30 gwei"]
    {
        assert!(screen.contains(expected), "the preview shows {expected}:\n{screen}");
    }
    console.keys(&["Tab", "Enter"]);
    console.wait_for("raw transaction");
    console.keys(&["Escape"]);

    std::fs::write(console.dir().join("taken.json"), "already here").unwrap();
    console.keys(&["x"]);
    console.wait_for("Write the encrypted keystore");
    console.type_text("taken.json");
    console.keys(&["Enter"]);
    let screen = console.wait_for("already exists");
    assert!(!screen.contains("Passphrase for the keystore"), "refused before the passphrase:\n{screen}");
    assert_eq!(std::fs::read_to_string(console.dir().join("taken.json")).unwrap(), "already here");
    console.keys(&["Escape", "Escape"]);

    console.keys(&["e"]);
    console.wait_for("Environments");
    for _ in 0..3 {
        if console.screen().contains("▶ second") {
            break;
        }
        console.keys(&["j"]);
    }
    console.wait_for("▶ second");
    console.keys(&["Enter"]);
    console.wait_for("switched to environment second");
    console.wait_for("no accounts yet");

    console.keys(&["c"]);
    console.wait_for("How many accounts?");
    console.type_text("10000");
    console.keys(&["Enter", "Tab", "Enter"]);
    console.wait_for("of 10000 created");
    console.keys(&["Escape", "q"]);
    // Whatever the timing: asked while the create runs, or quit at once
    // if it already finished; either way what is stored is what was said.
    let start = Instant::now();
    let screen = loop {
        let screen = console.screen();
        if screen.contains("Quit anyway?") || screen.contains("exit status") {
            break screen;
        }
        assert!(start.elapsed() < WAIT, "neither asked nor quit:\n{screen}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let stored = || cli(&console, &config_path, &["--env", "second", "list", "--json"]).lines().count();
    if screen.contains("Quit anyway?") {
        eprintln!("asked to quit while the create ran");
        console.keys(&["Tab", "Enter"]);
        let screen = console.wait_for("exit status");
        assert!(screen.contains("exit status 1"), "cut short is not a success:\n{screen}");
        let said = screen
            .split("quit during a create: ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("how many were created is printed:\n{screen}"));
        assert!(screen.contains("rossignol --env second list"), "{screen}");
        assert_eq!(stored(), said, "every write in flight finished and was counted");
    } else {
        eprintln!("the create finished before q");
        assert!(screen.contains("exit status 0"), "{screen}");
        assert_eq!(stored(), 10_000);
    }
}
