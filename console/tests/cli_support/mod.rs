//! What the `rossignol` binary's tests share: a sandbox with its own data
//! and config directories and no user configuration.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rossignol_core::access::{AccessRecord, AccessTrail as _};
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_core::store::record::{self, LEGACY_PRIVATE_KEY, PUBLIC_KEY};
use rossignol_core::store::{Attr, Item};
use rossignol_core::{Address, LegacyKey};
use serde_json::Value;
use zeroize::Zeroizing;

pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `rossignol` in the sandbox, for assertions with assert_cmd.
    pub fn cmd(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.command(None, &[]))
    }

    /// `rossignol [--config CONFIG] ARGS` in the sandbox, as a plain
    /// command (to spawn, read as it runs, or kill).
    pub fn command(&self, config: Option<&Path>, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rossignol"));
        cmd.env("ROSSIGNOL_DATA_DIR", self.path().join("data"))
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("HOME", self.path())
            .env_remove("ROSSIGNOL_CONFIG")
            .env_remove("ROSSIGNOL_ENV")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .current_dir(self.path());
        if let Some(config) = config {
            cmd.arg("--config").arg(config);
        }
        cmd.args(args);
        cmd
    }

    pub fn run(&self, config: Option<&Path>, args: &[&str]) -> Output {
        self.command(config, args).output().unwrap()
    }

    /// Runs a command that must succeed; its stdout.
    pub fn ok(&self, config: Option<&Path>, args: &[&str]) -> String {
        let output = self.run(config, args);
        assert!(
            output.status.success(),
            "{args:?} exited {:?}: {}{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// The stdout of `rossignol ARGS`, which must succeed.
    pub fn stdout(&self, args: &[&str]) -> String {
        self.ok(None, args)
    }

    pub fn json(&self, config: Option<&Path>, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(config, args)).unwrap()
    }

    pub fn config(&self, text: &str) -> PathBuf {
        let path = self.path().join("rossignol.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The embedded store of the built-in `local` environment.
    pub fn local_store(&self) -> EmbeddedStore {
        EmbeddedStore::open(&self.path().join("data/local.redb"), "rossignol_local").unwrap()
    }

    /// The access trail of `address` in the `local` environment, newest first.
    pub fn local_trail(&self, address: &str) -> Vec<AccessRecord> {
        let store = self.local_store();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(store.latest(&Address::parse(address).unwrap(), 10)).unwrap()
    }
}

pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
}

/// DynamoDB Local, when `scripts/test` started it (always in CI).
pub fn dynamodb_endpoint() -> Option<String> {
    const VAR: &str = "ROSSIGNOL_TEST_DYNAMODB_ENDPOINT";
    match std::env::var(VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("DynamoDB Local is required in CI, but {VAR} is not set; run `scripts/test`")
        }
        _ => {
            eprintln!("SKIPPED: DynamoDB Local is not running ({VAR} is unset); `scripts/test` starts it");
            None
        }
    }
}

/// A DynamoDB client of the tests' own, to look at tables directly.
pub async fn raw_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(endpoint)
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&sdk)
}

/// A Node-era row for a random ed25519 key: the item, its address and its
/// base64 key pair as the Node service stored it.
pub fn legacy_row() -> (Item, String, String) {
    let seed = Zeroizing::new(rossignol_core::secret::random_bytes::<32>());
    let key = LegacyKey::from_seed(&seed);
    let public = key.verified_public_key().unwrap();
    let address = record::legacy_address(&public).to_storage();
    let mut item = Item::default();
    item.insert("address", Attr::S(address.clone()));
    item.insert(LEGACY_PRIVATE_KEY, Attr::S(key.reveal_base64().to_owned()));
    item.insert(PUBLIC_KEY, Attr::S(record::format_legacy_public_key(&public)));
    (item, address, key.reveal_base64().to_owned())
}

/// A table name nobody else uses.
pub fn random_table(prefix: &str) -> String {
    format!("{prefix}_{}", hex::encode(rossignol_core::secret::random_bytes::<6>()))
}
