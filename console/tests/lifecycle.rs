#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `rossignol migrate` and `rossignol reseal` as operators run them: on
//! the embedded store and on DynamoDB Local, killed midway and run again,
//! with dry runs, JSON summaries and the configuration change a rotation
//! needs.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, Select, WriteRequest};
use rossignol_core::config::Config;
use rossignol_core::seal::LocalSealer;
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_core::store::record::{LEGACY_PRIVATE_KEY, PUBLIC_KEY, SEAL, SEALED_PRIVATE_KEY};
use rossignol_core::store::{AccountRecord, AccountStore, Attr, Item, parallel_scan};
use rossignol_core::{Address, Custodian};
use serde_json::Value;

mod cli_support;

use cli_support::{Sandbox, dynamodb_endpoint, legacy_row, random_table, raw_client};

/// Seeds `n` legacy rows into the sandbox's embedded `local` store.
fn seed_embedded(sandbox: &Sandbox, n: usize) -> BTreeMap<String, String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = sandbox.local_store();
    let mut keys = BTreeMap::new();
    runtime.block_on(async {
        for _ in 0..n {
            let (item, address, secret) = legacy_row();
            store.create(&item).await.unwrap();
            keys.insert(address, secret);
        }
    });
    keys
}

/// Every item of a store.
async fn all_items(store: Arc<dyn AccountStore>) -> Vec<Item> {
    let mut pages = parallel_scan(store, 8, 1000);
    let mut items = Vec::new();
    while let Some(page) = pages.recv().await {
        items.extend(page.unwrap());
    }
    items
}

/// The custodian of the built-in `local` environment of the sandbox.
fn local_custodian(sandbox: &Sandbox) -> Custodian {
    let store = Arc::new(sandbox.local_store());
    let sealer = LocalSealer::open_or_create(&sandbox.path().join("data/local.key")).unwrap();
    Custodian::new(store.clone(), Arc::new(sealer), store)
}

/// The custodian of a configuration's default environment (whose paths
/// are all explicit, so the test's own data directory plays no part).
fn config_custodian(runtime: &tokio::runtime::Runtime, config: &Path) -> Custodian {
    let config = Config::load(Some(config)).unwrap();
    runtime.block_on(config.environment(None).unwrap().connect()).unwrap()
}

/// Checks every seeded row is there once, sealed under the custodian's
/// seal with no plaintext left, and opens to its seeded key.
fn assert_all_sealed(
    runtime: &tokio::runtime::Runtime,
    custodian: &Custodian,
    keys: &BTreeMap<String, String>,
) {
    runtime.block_on(async {
        let seal = custodian.sealer().id().to_owned();
        let items = all_items(Arc::clone(custodian.store())).await;
        let mut seen = 0;
        for item in &items {
            let address = item.address().unwrap();
            let Some(secret) = keys.get(address) else { continue };
            seen += 1;
            assert!(item.get(LEGACY_PRIVATE_KEY).is_none(), "{address} still holds plaintext");
            assert_eq!(item.get(SEAL), Some(&Attr::S(seal.clone())), "{address}");
            assert!(matches!(item.get(SEALED_PRIVATE_KEY), Some(Attr::B(_))), "{address}");
            let record = AccountRecord::from_item(item).unwrap();
            let key = custodian.open(&record).await.unwrap();
            assert_eq!(key.reveal_text().as_str(), secret, "{address} keeps its key");
        }
        assert_eq!(seen, keys.len(), "every seeded row is there once");
    });
}

/// Starts `args`, reads its stderr progress lines, and SIGKILLs it once a
/// line reports at least `at_least` rows written (but not all). Returns
/// how many the last line it read reported, and the time it ran.
fn kill_midway(mut command: Command, at_least: u64, total: u64) -> (u64, Duration) {
    let started = Instant::now();
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut reported = 0;
    let mut seen = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(120)) {
        seen.push(line.clone());
        if let Some(written) = migrated_in(&line) {
            reported = written;
            if written >= at_least {
                assert!(written < total, "the run finished before it could be killed: {line}");
                child.kill().unwrap();
                break;
            }
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed, not finished; stderr: {seen:?}");
    assert!(reported >= at_least, "no progress line reached {at_least}: {seen:?}");
    (reported, started.elapsed())
}

/// The rows written in a progress line:
/// `migrate: 1500 of ~10000 rows examined (...): 1490 migrated, ...`.
fn migrated_in(line: &str) -> Option<u64> {
    let (_, rest) = line.strip_prefix("migrate: ")?.split_once("): ")?;
    rest.split_whitespace().next()?.parse().ok()
}

#[test]
fn migrate_on_the_embedded_store_with_dry_run_json_and_rerun() {
    let sandbox = Sandbox::new();
    sandbox.ok(None, &["create", "-n", "2"]);
    let keys = seed_embedded(&sandbox, 25);
    // A row whose key belongs to another address is refused, never written.
    {
        let (mut item, _, _) = legacy_row();
        let (other, _, _) = legacy_row();
        item.insert("address", other.get("address").unwrap().clone());
        item.insert(PUBLIC_KEY, other.get(PUBLIC_KEY).unwrap().clone());
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(sandbox.local_store().create(&item)).unwrap();
    }

    let output = sandbox.run(None, &["migrate", "--dry-run", "--json"]);
    assert_eq!(output.status.code(), Some(1), "a row that would fail fails the dry run");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["operation"], "migrate");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["examined"], 28);
    assert_eq!(report["would_write"], 25);
    assert_eq!(report["written"], 0);
    assert_eq!(report["already_done"], 2);
    assert_eq!(report["failed"].as_array().unwrap().len(), 1);
    assert!(report["failed"][0]["reason"].as_str().unwrap().contains("not migrated"));
    let text = String::from_utf8(sandbox.run(None, &["migrate", "--dry-run"]).stdout).unwrap();
    assert!(text.contains("nothing was written"), "{text}");
    assert!(text.contains("25 would be migrated"), "{text}");
    let audit = sandbox.run(None, &["audit", "--json"]);
    let audit: Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(audit["seals"]["plaintext"], 26, "the dry run wrote nothing");

    let output = sandbox.run(None, &["migrate"]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("25 migrated under local:"), "{text}");
    assert!(text.contains("failed:"), "{text}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("1 row(s) failed") && stderr.contains("run `rossignol migrate` again"),
        "{stderr}"
    );
    {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        assert_all_sealed(&runtime, &local_custodian(&sandbox), &keys);
    }

    // The getter's view: the same base64 key and scheme as before.
    let (address, secret) = keys.iter().next().unwrap();
    let checksummed = Address::parse(address).unwrap().to_string();
    let shown: Value =
        serde_json::from_str(&sandbox.ok(None, &["get", &checksummed, "--reveal", "--json"])).unwrap();
    assert_eq!(shown["private_key"].as_str(), Some(secret.as_str()));
    assert_eq!(shown["scheme"], "ed25519");
    assert_eq!(shown["legacy_plaintext"], false);

    let report = sandbox.run(None, &["migrate", "--json"]);
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["written"], 0, "a rerun writes nothing new");
    assert_eq!(report["already_done"], 27);
}

#[test]
fn a_read_only_environment_refuses_migrate_and_reseal_but_not_a_dry_run() {
    let sandbox = Sandbox::new();
    let config =
        sandbox.config("default = \"vault\"\n[environments.vault]\nstore = \"embedded\"\nread_only = true\n");
    for args in [&["migrate"][..], &["reseal", "--to", "local:new.key"][..]] {
        let output = sandbox.run(Some(&config), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains("environment vault is read-only"), "{stderr}");
    }
    let report = sandbox.json(Some(&config), &["migrate", "--dry-run", "--json"]);
    assert_eq!(report["dry_run"], true);
    assert!(!sandbox.path().join("new.key").exists());
}

/// KMS to a local key file is a downgrade: refused without
/// `--allow-downgrade`, and in production refused unless the name is typed
/// on a terminal. Both are decided before anything is contacted or made.
#[test]
fn a_downgrade_from_kms_to_a_local_key_needs_the_flag_and_in_production_the_typed_name() {
    let sandbox = Sandbox::new();
    let env = |name: &str| {
        format!(
            "[environments.{name}]\ntable = \"t_{name}\"\nregion = \"eu-central-1\"\n\
             endpoint_url = \"http://127.0.0.1:1\"\nkms_key_id = \"alias/rossignol-{name}\"\n"
        )
    };
    let config = sandbox.config(&format!("default = \"staging\"\n{}{}", env("staging"), env("prod")));
    let output = sandbox.run(Some(&config), &["reseal", "--to", "local:offline.key"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("downgrade") && stderr.contains("--allow-downgrade"), "{stderr}");

    let output = sandbox
        .command(
            Some(&config),
            &["--env", "prod", "reseal", "--to", "local:offline.key", "--allow-downgrade"],
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("production environment prod") && stderr.contains("type"), "{stderr}");
    assert!(!sandbox.path().join("offline.key").exists(), "no key file was made");

    // Local to KMS is not a downgrade: it goes on to the (unreachable) store.
    let config = sandbox.config(
        "default = \"dev\"\n[environments.dev]\ntable = \"t_dev\"\nregion = \"eu-central-1\"\n\
         endpoint_url = \"http://127.0.0.1:1\"\nlocal_key_file = \"dev.key\"\n",
    );
    let output = sandbox.run(Some(&config), &["reseal", "--to", "kms:alias/next", "--dry-run"]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("downgrade"));
}

#[test]
fn a_killed_embedded_migration_finishes_when_run_again() {
    const ROWS: u64 = 2000;
    let sandbox = Sandbox::new();
    let keys = seed_embedded(&sandbox, ROWS as usize);

    // One process at a time on redb, so progress comes from the child's output.
    let command = sandbox.command(None, &["migrate", "--concurrency", "4"]);
    let (reported, ran) = kill_midway(command, 200, ROWS);
    eprintln!("embedded: killed after {:.1} s with {reported} rows reported migrated", ran.as_secs_f64());

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sealed = runtime.block_on(async {
        let store: Arc<dyn AccountStore> = Arc::new(sandbox.local_store());
        let items = all_items(store).await;
        assert_eq!(items.len() as u64, ROWS, "nothing lost");
        items.iter().filter(|item| item.get(SEALED_PRIVATE_KEY).is_some()).count() as u64
    });
    // Close the file (the scan's tasks hold it) before the binary opens it.
    // The killed process has been waited for and redb writes in-process, so
    // nothing can land after this count: it is exact.
    drop(runtime);
    assert!(sealed >= reported && sealed < ROWS, "{sealed} sealed when killed");

    let report = sandbox.json(None, &["migrate", "--json"]);
    assert_eq!(report["written"].as_u64(), Some(ROWS - sealed), "each row written once");
    assert_eq!(report["already_done"].as_u64(), Some(sealed));
    // Every row is checked: those written now, and those sealed before the kill.
    assert_eq!(report["verified"].as_u64(), Some(ROWS));
    {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        assert_all_sealed(&runtime, &local_custodian(&sandbox), &keys);
    }
    let audit = sandbox.json(None, &["audit", "--deep", "--json"]);
    assert_eq!(audit["ok"].as_u64(), Some(ROWS));
    assert!(audit["findings"].as_array().unwrap().is_empty(), "{audit}");
}

#[test]
fn reseal_through_the_cli_moves_every_key_and_says_how_to_configure_it() {
    let sandbox = Sandbox::new();
    let config_text = "default = \"dev\"\n[environments.dev]\nstore = \"embedded\"\npath = \"data/dev.redb\"\n\
                       local_key_file = \"old.key\"\n";
    let config = sandbox.config(config_text);
    sandbox.ok(Some(&config), &["create", "-n", "5"]);
    let keys = {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = EmbeddedStore::open(&sandbox.path().join("data/dev.redb"), "rossignol_dev").unwrap();
        let mut keys = BTreeMap::new();
        for _ in 0..3 {
            let (item, address, secret) = legacy_row();
            runtime.block_on(store.create(&item)).unwrap();
            keys.insert(address, secret);
        }
        keys
    };
    sandbox.ok(Some(&config), &["migrate"]);

    // Bad targets are usage errors.
    for (to, expected) in [("kms:alias/x", "reaches no KMS"), ("new.key", "names no seal")] {
        let output = sandbox.run(Some(&config), &["reseal", "--to", to]);
        assert_eq!(output.status.code(), Some(2), "{to}");
        assert!(String::from_utf8_lossy(&output.stderr).contains(expected), "{to}");
    }

    let report = sandbox.json(Some(&config), &["reseal", "--to", "local:new.key", "--dry-run", "--json"]);
    assert_eq!((report["would_write"].as_u64(), report["written"].as_u64()), (Some(8), Some(0)));
    let output = sandbox.ok(Some(&config), &["reseal", "--to", "local:new.key"]);
    let new_key = sandbox.path().join("new.key");
    let old_key = sandbox.path().join("old.key");
    assert_eq!(std::fs::metadata(&new_key).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(output.contains("8 resealed under local:"), "{output}");
    assert!(output.contains(&format!("local_key_file = \"{}\"", new_key.display())), "{output}");
    assert!(output.contains(&format!("also_open = [\"local:{}\"]", old_key.display())), "{output}");

    // The old configuration no longer knows the seal its records are under.
    let audit = sandbox.run(Some(&config), &["audit", "--json"]);
    assert_eq!(audit.status.code(), Some(1));
    let audit: Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert!(audit["findings"].as_array().unwrap().iter().all(|f| f["kind"] == "unknown_seal"), "{audit}");

    // The configuration the reseal printed: every record opens, the audit is clean.
    let snippet: Vec<&str> = output
        .lines()
        .skip_while(|line| !line.starts_with("  [environments.dev]"))
        .take_while(|line| !line.is_empty())
        .map(str::trim)
        .collect();
    assert!(snippet.len() >= 5, "{output}");
    let rotated = sandbox.config(&format!("default = \"dev\"\n{}\n", snippet.join("\n")));
    let audit = sandbox.json(Some(&rotated), &["audit", "--deep", "--json"]);
    assert_eq!(audit["ok"], 8);
    assert_eq!(audit["seals"].as_object().unwrap().len(), 1, "{audit}");
    {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        assert_all_sealed(&runtime, &config_custodian(&runtime, &rotated), &keys);
    }
    let report = sandbox.json(Some(&rotated), &["reseal", "--to", "local:new.key", "--json"]);
    assert_eq!((report["written"].as_u64(), report["already_done"].as_u64()), (Some(0), Some(8)));
    assert_eq!(report["configure"]["also_open"][0], format!("local:{}", old_key.display()));
    let text = sandbox.ok(Some(&rotated), &["reseal", "--to", "local:new.key"]);
    assert!(text.contains("already seals with"), "{text}");
}

/// A DynamoDB Local environment in the sandbox, its table made by `init`;
/// the tables are deleted on drop.
struct DynamoEnv {
    config: PathBuf,
    table: String,
    client: aws_sdk_dynamodb::Client,
    runtime: tokio::runtime::Runtime,
}

impl DynamoEnv {
    fn new(sandbox: &Sandbox, prefix: &str) -> Option<Self> {
        let endpoint = dynamodb_endpoint()?;
        let table = random_table(prefix);
        let config = sandbox.config(&format!(
            "default = \"dev\"\n[environments.dev]\ntable = \"{table}\"\nregion = \"eu-central-1\"\n\
             endpoint_url = \"{endpoint}\"\nlocal_key_file = \"dev.key\"\n"
        ));
        sandbox.ok(Some(&config), &["init"]);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let client = runtime.block_on(raw_client(&endpoint));
        Some(DynamoEnv { config, table, client, runtime })
    }

    /// Writes the items with BatchWriteItem, 25 per request, 8 requests at once.
    fn seed(&self, items: Vec<Item>) {
        let requests: Vec<Vec<WriteRequest>> = items
            .chunks(25)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|item| {
                        let attributes: HashMap<String, AttributeValue> = item
                            .0
                            .iter()
                            .map(|(name, attr)| {
                                let Attr::S(s) = attr else { panic!("legacy rows hold strings") };
                                (name.clone(), AttributeValue::S(s.clone()))
                            })
                            .collect();
                        WriteRequest::builder()
                            .put_request(PutRequest::builder().set_item(Some(attributes)).build().unwrap())
                            .build()
                    })
                    .collect()
            })
            .collect();
        self.runtime.block_on(async {
            let mut pending = requests.into_iter();
            let mut running = tokio::task::JoinSet::new();
            loop {
                while running.len() < 8 {
                    let Some(batch) = pending.next() else { break };
                    let client = self.client.clone();
                    let table = self.table.clone();
                    running.spawn(async move {
                        let mut batch = batch;
                        while !batch.is_empty() {
                            let output =
                                client.batch_write_item().request_items(&table, batch).send().await.unwrap();
                            batch = output
                                .unprocessed_items
                                .and_then(|mut left| left.remove(&table))
                                .unwrap_or_default();
                        }
                    });
                }
                match running.join_next().await {
                    Some(done) => done.unwrap(),
                    None => break,
                }
            }
        });
    }

    /// Rows holding a sealed key, counted by the server.
    fn sealed_count(&self) -> u64 {
        self.runtime.block_on(async {
            let mut count = 0u64;
            let mut start = None;
            loop {
                let output = self
                    .client
                    .scan()
                    .table_name(&self.table)
                    .select(Select::Count)
                    .filter_expression("attribute_exists(sealed_private_key)")
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .unwrap();
                count += output.count as u64;
                start = output.last_evaluated_key;
                if start.is_none() {
                    return count;
                }
            }
        })
    }
}

impl Drop for DynamoEnv {
    fn drop(&mut self) {
        for name in [format!("{}_access", self.table), self.table.clone()] {
            let _ = self.runtime.block_on(self.client.delete_table().table_name(name).send());
        }
    }
}

#[test]
fn ten_thousand_legacy_rows_migrate_on_dynamodb_local_despite_a_kill() {
    const ROWS: u64 = 10_000;
    let sandbox = Sandbox::new();
    let Some(env) = DynamoEnv::new(&sandbox, "migrate10k") else { return };
    let started = Instant::now();
    let mut keys = BTreeMap::new();
    let mut items = Vec::new();
    for _ in 0..ROWS {
        let (item, address, secret) = legacy_row();
        keys.insert(address, secret);
        items.push(item);
    }
    env.seed(items);
    eprintln!("seeded {ROWS} legacy rows in {:.1} s", started.elapsed().as_secs_f64());

    let command = sandbox.command(Some(&env.config), &["migrate"]);
    let (reported, ran) = kill_midway(command, 1000, ROWS);
    // Writes the killed process had already sent may still land on DynamoDB
    // Local after this count, so it is a lower bound, not the final figure:
    // only what holds whatever that race is asserted.
    let sealed = env.sealed_count();
    eprintln!(
        "first run: SIGKILLed after {:.1} s, {reported} rows reported migrated, {sealed} sealed in the table",
        ran.as_secs_f64()
    );
    assert!(sealed >= reported, "{sealed} sealed, but {reported} reported migrated before the kill");

    let resumed = Instant::now();
    let report = sandbox.json(Some(&env.config), &["migrate", "--json"]);
    let took = resumed.elapsed().as_secs_f64();
    eprintln!(
        "second run: {} rows migrated, {} already done, in {took:.1} s ({:.0} rows/s examined)",
        report["written"],
        report["already_done"],
        ROWS as f64 / took
    );
    let (written, already_done) =
        (report["written"].as_u64().unwrap(), report["already_done"].as_u64().unwrap());
    assert_eq!(report["examined"].as_u64(), Some(ROWS));
    assert_eq!(written + already_done, ROWS, "each row written once");
    assert!(already_done >= sealed, "{already_done} already done, but {sealed} were sealed before the rerun");
    assert!(already_done < ROWS, "the kill stopped the first run: {already_done} already done");
    // Every row is checked: those written now, and those sealed before the kill.
    assert_eq!(report["verified"].as_u64(), Some(ROWS));
    assert!(
        report["failed"].as_array().unwrap().is_empty() && report["changed"].as_array().unwrap().is_empty()
    );
    assert_eq!(env.sealed_count(), ROWS);

    assert_all_sealed(&env.runtime, &config_custodian(&env.runtime, &env.config), &keys);
    let audit_started = Instant::now();
    let audit = sandbox.json(Some(&env.config), &["audit", "--deep", "--json"]);
    eprintln!("deep audit of {ROWS} rows in {:.1} s", audit_started.elapsed().as_secs_f64());
    assert_eq!(audit["checked"].as_u64(), Some(ROWS));
    assert_eq!(audit["ok"].as_u64(), Some(ROWS));
    let seals = audit["seals"].as_object().unwrap();
    assert_eq!(seals.len(), 1, "{seals:?}");
    assert_eq!(seals.values().next().unwrap().as_u64(), Some(ROWS));
    assert!(seals.keys().next().unwrap().starts_with("local:"));
}

#[test]
fn migrate_and_reseal_on_dynamodb_local() {
    let sandbox = Sandbox::new();
    let Some(env) = DynamoEnv::new(&sandbox, "reseal_cli") else { return };
    sandbox.ok(Some(&env.config), &["create", "-n", "20"]);
    let mut keys = BTreeMap::new();
    let mut items = Vec::new();
    for _ in 0..30 {
        let (item, address, secret) = legacy_row();
        keys.insert(address, secret);
        items.push(item);
    }
    env.seed(items);

    let report = sandbox.json(Some(&env.config), &["migrate", "--dry-run", "--json"]);
    assert_eq!((report["would_write"].as_u64(), report["already_done"].as_u64()), (Some(30), Some(20)));
    assert_eq!(env.sealed_count(), 20);
    let report = sandbox.json(Some(&env.config), &["migrate", "--json", "--concurrency", "4"]);
    assert_eq!(report["written"].as_u64(), Some(30));
    assert_all_sealed(&env.runtime, &config_custodian(&env.runtime, &env.config), &keys);

    let report = sandbox.json(Some(&env.config), &["reseal", "--to", "local:next.key", "--json"]);
    assert_eq!((report["written"].as_u64(), report["verified"].as_u64()), (Some(50), Some(50)));
    let next = sandbox.path().join("next.key");
    assert_eq!(report["configure"]["seal"], format!("local:{}", next.display()));
    let old = sandbox.path().join("dev.key");
    assert_eq!(report["configure"]["also_open"], serde_json::json!([format!("local:{}", old.display())]));

    let text = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(
        &env.config,
        text.replace(
            "local_key_file = \"dev.key\"",
            "local_key_file = \"next.key\"\nalso_open = [\"local:dev.key\"]",
        ),
    )
    .unwrap();
    let audit = sandbox.json(Some(&env.config), &["audit", "--deep", "--json"]);
    assert_eq!(audit["ok"], 50);
    assert_all_sealed(&env.runtime, &config_custodian(&env.runtime, &env.config), &keys);
}
