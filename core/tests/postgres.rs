#![allow(clippy::unwrap_used, clippy::expect_used)]
//! PostgreSQL beyond the shared conformance suite: the rows as an outside
//! client (`psql`) reads them, the scan's split, a server that goes down
//! and comes back, the failures a server can answer with, and TLS.

#[macro_use]
mod support;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rossignol_core::access::AccessTrail;
use rossignol_core::store::postgres::{PostgresStore, segment_of};
use rossignol_core::store::{AccountStore, Attr, CheckStatus, Item, Segment};
use rossignol_core::{Address, Error, KeyMaterial, Requester};
use support::postgres_server::{PASSWORD, PostgresServer, psql};
use support::{Harness, POSTGRES_URL, PgTable, server};

fn item(address: &Address) -> Item {
    let mut item = Item::default();
    item.insert("address", Attr::S(address.to_storage()));
    item.insert("note", Attr::S("test".into()));
    item
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_row_holds_a_plaintext_private_key_as_psql_reads_it() {
    let Some(h) = Harness::postgres().await else { return };
    let url = server(POSTGRES_URL, "PostgreSQL").unwrap();
    let mut secrets = Vec::new();
    let mut addresses = Vec::new();
    for i in 0..5 {
        let record = h.custodian.create("test:raw").await.unwrap();
        let requester =
            Requester { action: "getter".into(), request_id: format!("raw-{i}"), ..Default::default() };
        let (_, key) = h.custodian.reveal(&record.address, &requester).await.unwrap();
        let KeyMaterial::Secp256k1(key) = key else { panic!("a secp256k1 key") };
        secrets.push(*key.reveal_bytes());
        addresses.push(record.address.to_storage());
    }
    let table = h.store.table();
    let sql = format!(
        "SELECT address || ' ' || item::text FROM \"{table}\" UNION ALL SELECT address || ' ' || item::text FROM \"{table}_access\""
    );
    let out =
        Command::new(psql()).arg(&url).args(["-X", "-A", "-t", "-c", &sql]).output().expect("runs psql");
    assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
    let rows = String::from_utf8(out.stdout).unwrap().to_ascii_lowercase();
    assert_eq!(rows.lines().count(), 10, "5 accounts and 5 trail entries:\n{rows}");
    for address in &addresses {
        assert_eq!(
            rows.matches(address.as_str()).count(),
            2 * 2,
            "column and item of {address}, in both tables"
        );
    }
    assert_eq!(rows.matches("sealed_private_key").count(), 5, "{rows}");
    for secret in &secrets {
        for needle in [hex::encode(secret), BASE64.encode(secret).to_ascii_lowercase()] {
            assert!(!rows.contains(&needle), "a private key is readable in a row");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_scan_query_splits_rows_as_segment_of_says() {
    let Some(table) = PgTable::new("segments").await else { return };
    let all: HashSet<String> = (1..=40u8).map(|i| Address::from_bytes([i; 20]).to_storage()).collect();
    for address in &all {
        table.store.create(&item(&Address::parse(address).unwrap())).await.unwrap();
    }
    for total in [2u32, 5] {
        let mut seen = HashSet::new();
        for index in 0..total {
            let page = table.store.scan_segment(Segment { index, total }, None, 1000).await.unwrap();
            assert!(page.next.is_none());
            for item in page.items {
                let address = item.address().unwrap().to_owned();
                assert_eq!(segment_of(&address, total), index, "{address}");
                assert!(seen.insert(address), "an item in two segments");
            }
        }
        assert_eq!(seen, all, "{total} segments");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_store_works_again_after_the_server_restarts() {
    let Some(mut server) = PostgresServer::start_new() else { return };
    let store = PostgresStore::connect(&server.url(""), "restart").unwrap();
    assert!(AccountStore::init(&store).await.unwrap().created);
    let first = Address::from_bytes([0xa1; 20]);
    store.create(&item(&first)).await.unwrap();

    server.stop();
    let second = Address::from_bytes([0xa2; 20]);
    let endpoint = format!("127.0.0.1:{}", server.port);
    for err in [store.get(&first).await.unwrap_err(), store.create(&item(&second)).await.unwrap_err()] {
        let message = err.to_string();
        assert!(matches!(err, Error::ServerUnavailable { .. }), "{message}");
        assert!(err.is_transient(), "{message}");
        assert_eq!(err.outage().as_deref(), Some("PostgreSQL"));
        assert!(message.contains(&endpoint), "{message}");
        assert!(!message.contains(PASSWORD) && !format!("{err:?}").contains(PASSWORD), "{message}");
    }

    server.start();
    assert_eq!(store.get(&first).await.unwrap(), Some(item(&first)));
    store.create(&item(&second)).await.unwrap();
    assert_eq!(store.describe().await.unwrap().item_count, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_database_and_table_problems_each_say_what_to_do() {
    let Some(server) = PostgresServer::start_new() else { return };
    let address = Address::from_bytes([0x5e; 20]);
    let wrong = server.url("").replace(PASSWORD, "not-the-password");
    let err = PostgresStore::connect(&wrong, "t").unwrap().get(&address).await.unwrap_err();
    assert!(matches!(err, Error::LoginRefused { .. }) && !err.is_transient(), "{err}");
    assert!(err.to_string().contains("check the user and password"), "{err}");
    assert!(!err.to_string().contains("not-the-password"), "{err}");

    let nodb = format!("{}/nosuchdb", server.url("").strip_suffix("/postgres").unwrap());
    let err = PostgresStore::connect(&nodb, "t").unwrap().get(&address).await.unwrap_err();
    assert!(matches!(err, Error::DatabaseMissing { .. }), "{err}");
    assert!(err.to_string().contains("`createdb nosuchdb`"), "{err}");

    let store = PostgresStore::connect(&server.url(""), "never_made").unwrap();
    for err in [store.get(&address).await.unwrap_err(), store.describe().await.unwrap_err()] {
        assert!(matches!(&err, Error::TableMissing { table } if table == "never_made"), "{err}");
        assert!(err.to_string().contains("run `rossignol init`"), "{err}");
    }
    let err = store.latest(&address, 5).await.unwrap_err();
    assert!(matches!(&err, Error::TableMissing { table } if table == "never_made_access"), "{err}");

    // A user without CREATE on the schema (PostgreSQL 15 grants it to nobody).
    let (admin, connection) = tokio_postgres::connect(&server.url(""), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    admin.batch_execute("CREATE ROLE weak LOGIN PASSWORD 'weak-pw'").await.unwrap();
    let weak = server.url("").replace(&format!("postgres:{PASSWORD}@"), "weak:weak-pw@");
    let err = AccountStore::init(&PostgresStore::connect(&weak, "t").unwrap()).await.unwrap_err();
    assert!(err.to_string().contains("permission denied for schema public"), "{err}");
    assert!(err.to_string().contains("grant user weak what it lacks"), "{err}");
    assert!(!err.is_transient(), "{err}");

    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://postgres:{PASSWORD}@127.0.0.1:{port}/postgres");
    let err = PostgresStore::connect(&url, "t").unwrap().get(&address).await.unwrap_err();
    assert!(matches!(err, Error::ServerUnavailable { .. }) && err.is_transient(), "{err}");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.to_string().contains(PASSWORD), "{err}");
}

/// A CA and a certificate for 127.0.0.1 it signed, made with `openssl`.
fn write_certificates(dir: &Path) -> Vec<String> {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("runs openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=rossignol test CA"],
        ]
        .concat(),
    );
    openssl(
        &[&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]]
            .concat(),
    );
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    vec![
        "ssl = on".into(),
        format!("ssl_cert_file = '{}'", dir.join("server.pem").display()),
        format!("ssl_key_file = '{}'", dir.join("server.key").display()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_is_verified_against_the_named_ca_and_reported() {
    let Some(server) = PostgresServer::start_with(write_certificates) else { return };
    let ca = server.dir().join("ca.pem");
    for mode in ["require", "verify-full"] {
        let url = server.url(&format!("?sslmode={mode}&sslrootcert={}", ca.display()));
        let store = PostgresStore::connect(&url, "tls_t").unwrap();
        let outcome = AccountStore::init(&store).await.unwrap();
        let transport = outcome.report.checks.iter().find(|c| c.setting == "transport").unwrap();
        assert_eq!(transport.status, CheckStatus::Ok, "{transport:?}");
        assert!(transport.detail.starts_with("TLSv1."), "{transport:?}");
        store
            .create(&item(&Address::from_bytes([0x7c; 20])))
            .await
            .or_else(|e| match e {
                Error::AlreadyExists { .. } => Ok(()),
                e => Err(e),
            })
            .unwrap();
    }

    // The system's CAs did not sign this server's certificate.
    let url = server.url("?sslmode=require");
    let outcome = match PostgresStore::connect(&url, "tls_t") {
        Ok(store) => store.get(&Address::from_bytes([0x7c; 20])).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let err = outcome.unwrap_err();
    assert!(err.to_string().contains("sslrootcert=PATH"), "{err}");
    assert!(!err.is_transient() && !err.to_string().contains(PASSWORD), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_without_tls_is_refused_when_tls_is_required() {
    let Some(url) = server(POSTGRES_URL, "PostgreSQL") else { return };
    let store = PostgresStore::connect(&format!("{url}?sslmode=require"), "t").unwrap();
    let err = store.get(&Address::from_bytes([0x11; 20])).await.unwrap_err();
    assert!(err.to_string().contains("server does not support TLS"), "{err}");
    assert!(err.to_string().contains("turn on ssl in the server's configuration"), "{err}");
    assert!(!err.is_transient(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_that_never_answers_fails_as_unavailable() {
    // The kernel completes the handshake for a listener that never
    // accepts; the client's startup message then goes unanswered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let store = PostgresStore::connect(&format!("postgres://u:{PASSWORD}@127.0.0.1:{port}/db"), "t").unwrap();
    let err = store.get(&Address::from_bytes([0x12; 20])).await.unwrap_err();
    assert!(matches!(err, Error::ServerUnavailable { .. }) && err.is_transient(), "{err}");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.to_string().contains(PASSWORD), "{err}");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_row_written_by_hand_wrongly_is_named_never_quoted() {
    let Some(table) = PgTable::new("malformed").await else { return };
    let (client, connection) = tokio_postgres::connect(&table.url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let address = Address::from_bytes([0x6d; 20]).to_storage();
    let item = format!(r#"{{"address": {{"S": "{address}"}}, "private_key": "plain-secret-9f2c"}}"#);
    let sql = format!("INSERT INTO \"{}\" (address, item) VALUES ($1, $2::text::jsonb)", table.name);
    client.execute(&sql, &[&address, &item]).await.unwrap();

    let err = table.store.get(&Address::parse(&address).unwrap()).await.unwrap_err();
    assert!(matches!(err, Error::MalformedRecord { .. }), "{err}");
    assert!(err.to_string().contains("attribute `private_key`"), "{err}");
    assert!(
        !err.to_string().contains("plain-secret") && !format!("{err:?}").contains("plain-secret"),
        "{err}"
    );
    let err = table.store.page(None, 10).await.unwrap_err();
    assert!(!err.to_string().contains("plain-secret"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_inits_create_the_tables_once_and_say_who_did() {
    let Some(table) = PgTable::unmade("init_race") else { return };
    let inits: Vec<_> = (0..4)
        .map(|_| {
            let store = table.store.clone();
            tokio::spawn(async move { AccountStore::init(&store).await })
        })
        .collect();
    let mut created = 0;
    for init in inits {
        let outcome = init.await.unwrap().unwrap();
        assert!(outcome.report.is_healthy(), "{:?}", outcome.report);
        created += usize::from(outcome.created);
    }
    assert_eq!(created, 1, "exactly one init created the table");
    assert!(!AccessTrail::init(&table.store).await.unwrap(), "the store's init made the trail too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn describe_flags_a_table_of_the_wrong_shape_and_a_missing_trail() {
    let Some(table) = PgTable::unmade("shape") else { return };
    let (client, connection) = tokio_postgres::connect(&table.url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let sql = format!("CREATE TABLE \"{}\" (address text, item text)", table.name);
    client.batch_execute(&sql).await.unwrap();

    let report = table.store.describe().await.unwrap();
    assert!(!report.is_healthy());
    let check = |setting: &str| report.checks.iter().find(|c| c.setting == setting).unwrap().clone();
    let accounts = check("accounts table");
    assert_eq!(accounts.status, CheckStatus::Wrong, "{accounts:?}");
    assert!(
        accounts.detail.contains("expected address text, item jsonb; primary key (address)"),
        "{accounts:?}"
    );
    assert!(accounts.detail.contains("found address text, item text; primary key ()"), "{accounts:?}");
    let trail = check("access trail table");
    assert_eq!(trail.status, CheckStatus::Wrong, "{trail:?}");
    assert!(trail.detail.contains("run `rossignol init`"), "{trail:?}");
    assert_eq!(check("transport").status, CheckStatus::Ok, "loopback");
    assert_eq!(report.location, table.store.location());
    assert!(!report.location.contains('@'), "{}", report.location);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_trail_never_overwrites_an_entry_and_reads_runs_newest_first() {
    use rossignol_core::access::{AccessRecord, Identity, RunRecord};
    let Some(table) = PgTable::new("trail").await else { return };
    let address = Address::from_bytes([0x3a; 20]);
    let at = chrono::Utc::now();
    let record = AccessRecord {
        address,
        at,
        action: "getter".into(),
        request_id: "r-1".into(),
        api_key_id: None,
        source_ip: None,
        actor: None,
        aws_identity: None,
        digest: None,
        identity: Identity::Claimed,
        target_seal: None,
        refused: None,
        providers_failed: None,
    };
    table.store.append(&record).await.unwrap();
    let clash = AccessRecord { action: "intruder".into(), ..record.clone() };
    let err = table.store.append(&clash).await.unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists { table: t, .. } if *t == format!("{}_access", table.name)),
        "{err}"
    );
    let kept = table.store.latest(&address, 10).await.unwrap();
    assert_eq!(kept.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), ["getter"]);

    let run = |i: i64| RunRecord {
        at: at + chrono::TimeDelta::seconds(i),
        run_id: format!("run-{i}"),
        operation: "audit-deep".into(),
        action: "cli-audit".into(),
        table: table.name.clone(),
        target_seal: None,
        dry_run: false,
        actor: None,
        aws_identity: None,
    };
    for i in 0..3 {
        table.store.append_run(&run(i)).await.unwrap();
    }
    assert!(matches!(table.store.append_run(&run(1)).await, Err(Error::AlreadyExists { .. })));
    let latest = table.store.latest_runs(2).await.unwrap();
    assert_eq!(latest.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(), ["run-2", "run-1"]);
    assert_eq!(table.store.latest(&address, 10).await.unwrap().len(), 1, "runs are a partition of their own");
}
