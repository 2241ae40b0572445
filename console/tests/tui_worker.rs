//! The console's worker against a real embedded store: connect, create,
//! page, look up, reveal (recorded in the trail), open, audit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use rossignol_console::tui::app::jobs::BulkRun;
use rossignol_console::tui::app::model::{RevealPurpose, Row};
use rossignol_console::tui::app::{Action, Effect};
use rossignol_console::tui::worker::Worker;
use rossignol_core::config::{Environment, SealSpec, StoreSpec};
use tokio::sync::mpsc;

mod tui_support;

fn embedded(dir: &std::path::Path) -> Environment {
    Environment {
        name: "scratch".into(),
        table: "rossignol_scratch".into(),
        store: StoreSpec::Embedded { path: dir.join("scratch.redb") },
        seal: SealSpec::Local { key_file: dir.join("scratch.key") },
        also_open: Vec::new(),
        kms: None,
        read_only: false,
        policy: Default::default(),
    }
}

/// The next action that is not audit progress.
async fn next(actions: &mut mpsc::UnboundedReceiver<Action>) -> Action {
    loop {
        let action = tokio::time::timeout(Duration::from_secs(30), actions.recv())
            .await
            .expect("the worker answers")
            .expect("the channel stays open");
        if !matches!(action, Action::AuditProgress { .. }) {
            return action;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_does_the_store_work_and_answers_with_actions() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut actions) = mpsc::unbounded_channel();
    let (terminal, _writes) = mpsc::unbounded_channel();
    let mut worker = Worker::new(tx, terminal);

    worker.run(Effect::Connect { env: Box::new(embedded(dir.path())), generation: 7 });
    assert!(matches!(next(&mut actions).await, Action::Connected { generation: 7, result: Ok(()) }));

    worker.run(Effect::Create { count: 3 });
    let mut created = Vec::new();
    loop {
        match next(&mut actions).await {
            Action::Created { generation: 7, address } => created.push(address),
            Action::CreateFinished { generation: 7, error: None } => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created.len(), 3);

    worker.run(Effect::LoadPage { after: None });
    let Action::Page { result: Ok((rows, None)), .. } = next(&mut actions).await else { panic!("a page") };
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| matches!(r, Row::Account(v) if created.contains(&v.address))));

    let unknown = "0x0000000000000000000000000000000000000001".to_owned();
    worker.run(Effect::Lookup { address: unknown });
    assert!(matches!(next(&mut actions).await, Action::LookedUp { result: Ok(None), .. }));

    let address = created[0].clone();
    worker.run(Effect::Reveal { address: address.clone(), purpose: RevealPurpose::Show });
    let Action::Revealed { result: Ok(secret), .. } = next(&mut actions).await else { panic!("a key") };
    assert!(secret.expose().starts_with("0x") && secret.expose().len() == 66);
    assert_eq!(format!("{secret:?}"), "Secret([REDACTED])");

    // A copy is recorded as a copy.
    worker.run(Effect::Reveal { address: address.clone(), purpose: RevealPurpose::Copy });
    let Action::Revealed { result: Ok(_), purpose: RevealPurpose::Copy, .. } = next(&mut actions).await
    else {
        panic!("a key to copy")
    };

    worker.run(Effect::Open { address: address.clone() });
    let Action::Opened { record: Ok(Row::Account(view)), trail: Ok(trail), .. } = next(&mut actions).await
    else {
        panic!("details")
    };
    assert_eq!(view.address, address);
    let actions_recorded: Vec<&str> = trail.iter().map(|t| t.action.as_str()).collect();
    assert_eq!(actions_recorded, ["console-copy", "console-reveal"], "newest first");
    assert!(trail[0].who.starts_with("console:"), "{:?}", trail[0]);

    worker.run(Effect::Audit);
    let Action::AuditFinished { result: Ok(report), .. } = next(&mut actions).await else {
        panic!("a report")
    };
    assert_eq!(report.checked, 3);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

/// A Node-era row for the ed25519 seed `seed`.
fn legacy_row(seed: u8) -> rossignol_core::store::Item {
    use rossignol_core::store::record::{self, LEGACY_PRIVATE_KEY, PUBLIC_KEY};
    use rossignol_core::store::{Attr, Item};
    let key = rossignol_core::LegacyKey::from_seed(&zeroize::Zeroizing::new([seed; 32]));
    let public = key.verified_public_key().unwrap();
    let mut item = Item::default();
    item.insert("address", Attr::S(record::legacy_address(&public).to_storage()));
    item.insert(LEGACY_PRIVATE_KEY, Attr::S(key.reveal_base64().to_owned()));
    item.insert(PUBLIC_KEY, Attr::S(record::format_legacy_public_key(&public)));
    item
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_signs_exports_disables_and_migrates() {
    use rossignol_console::tui::app::model::SecretInput;
    use rossignol_core::sign::Payload;
    use rossignol_core::store::AccountStore as _;

    let dir = tempfile::tempdir().unwrap();
    // Two legacy rows for the migration, written before the console opens the file.
    let env = embedded(dir.path());
    {
        let store = rossignol_core::store::embedded::EmbeddedStore::open(
            &dir.path().join("scratch.redb"),
            &env.table,
        )
        .unwrap();
        for seed in [1, 2] {
            store.create(&legacy_row(seed)).await.unwrap();
        }
    }
    let (tx, mut actions) = mpsc::unbounded_channel();
    let (terminal, _writes) = mpsc::unbounded_channel();
    let mut worker = Worker::new(tx, terminal);
    worker.run(Effect::Connect { env: Box::new(env), generation: 1 });
    assert!(matches!(next(&mut actions).await, Action::Connected { result: Ok(()), .. }));
    worker.run(Effect::Create { count: 1 });
    let Action::Created { address, .. } = next(&mut actions).await else { panic!("created") };
    assert!(matches!(next(&mut actions).await, Action::CreateFinished { error: None, .. }));

    worker.run(Effect::Sign { address: address.clone(), payload: Payload::Message(b"hello".to_vec()) });
    let Action::Signed { result: Ok(lines), .. } = next(&mut actions).await else { panic!("signed") };
    assert_eq!(lines[0].0, "signature");
    assert_eq!(lines[0].1.len(), 2 + 130);

    let tx_file = dir.path().join("tx.json");
    std::fs::write(&tx_file, r#"{"chainId": 1, "nonce": 0, "gasPrice": "1", "gas": 21000}"#).unwrap();
    // Read (for the preview) first, then exactly that payload is signed.
    let path = tx_file.display().to_string();
    worker.run(Effect::ReadTransaction { address: address.clone(), path: path.clone() });
    let Action::TransactionRead { result: Ok(payload), path: read, .. } = next(&mut actions).await else {
        panic!("read")
    };
    assert_eq!(read, path);
    assert!(payload.preview().iter().any(|(label, value)| *label == "chain id" && value.starts_with('1')));
    worker.run(Effect::ReadTransaction { address: address.clone(), path: "/nonexistent/tx.json".into() });
    let Action::TransactionRead { result: Err(e), .. } = next(&mut actions).await else { panic!("refused") };
    assert!(e.contains("cannot read the file /nonexistent/tx.json"), "{e}");
    worker.run(Effect::Sign { address: address.clone(), payload });
    let Action::Signed { result: Ok(lines), .. } = next(&mut actions).await else { panic!("signed") };
    assert_eq!(lines.iter().map(|(label, _)| *label).collect::<Vec<_>>(), ["raw transaction", "hash"]);

    let out = dir.path().join("account.json");
    // Checked before any passphrase is asked: free, then taken.
    let out_text = out.display().to_string();
    worker.run(Effect::CheckExportPath { address: address.clone(), path: out_text.clone() });
    assert!(matches!(next(&mut actions).await, Action::ExportPathChecked { result: Ok(()), .. }));
    assert!(!out.exists(), "the check leaves nothing behind");
    let mut passphrase = SecretInput::default();
    "a long passphrase".chars().for_each(|c| passphrase.push(c));
    worker.run(Effect::Export { address: address.clone(), path: out.display().to_string(), passphrase });
    let Action::Exported { result: Ok(path), .. } = next(&mut actions).await else { panic!("exported") };
    assert_eq!(path, out.display().to_string());
    let key = rossignol_core::keystore::decrypt(&std::fs::read(&out).unwrap(), b"a long passphrase").unwrap();
    assert_eq!(key.address().to_string(), address);
    worker.run(Effect::CheckExportPath { address: address.clone(), path: out_text });
    let Action::ExportPathChecked { result: Err(e), .. } = next(&mut actions).await else { panic!("taken") };
    assert!(e.contains("already exists"), "{e}");

    worker.run(Effect::SetDisabled { address: address.clone(), disable: true });
    assert!(matches!(next(&mut actions).await, Action::DisabledSet { result: Ok(true), .. }));
    worker.run(Effect::Sign { address: address.clone(), payload: Payload::Message(b"x".to_vec()) });
    let Action::Signed { result: Err(e), .. } = next(&mut actions).await else { panic!("refused") };
    assert!(e.contains("disabled"), "{e}");

    worker.run(Effect::Open { address: address.clone() });
    let Action::Opened { trail: Ok(trail), .. } = next(&mut actions).await else { panic!("details") };
    let actions_seen: Vec<&str> = trail.iter().map(|t| t.action.as_str()).collect();
    assert_eq!(actions_seen, ["console-export", "console-sign", "console-sign"]);

    worker.run(Effect::Bulk(BulkRun::Migrate));
    let report = loop {
        match next(&mut actions).await {
            Action::BulkProgress { .. } => {}
            Action::BulkFinished { result, .. } => break result.unwrap(),
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(report.is_complete(), "{report:?}");
    assert_eq!((report.written, report.already_done), (2, 1));
}

/// The sharded 2-of-3 environment of embedded providers; with `down`, the
/// third is a DynamoDB endpoint nothing listens on.
fn sharded(dir: &std::path::Path, down: bool) -> Environment {
    use rossignol_core::config::AwsSpec;
    let mut env = tui_support::vault(dir);
    if let (true, StoreSpec::Sharded { providers, .. }) = (down, &mut env.store) {
        providers[2].store = StoreSpec::Dynamodb {
            aws: AwsSpec {
                region: Some("eu-central-1".into()),
                endpoint_url: Some("http://127.0.0.1:9".into()),
                ..AwsSpec::default()
            },
            sse_kms_key_id: None,
            access_table: "rossignol_vault_access".into(),
        };
    }
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_probes_each_provider_and_runs_repair_and_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut actions) = mpsc::unbounded_channel();
    let (terminal, _writes) = mpsc::unbounded_channel();
    let mut worker = Worker::new(tx, terminal);

    worker.run(Effect::Connect { env: Box::new(sharded(dir.path(), false)), generation: 1 });
    assert!(matches!(next(&mut actions).await, Action::Connected { generation: 1, result: Ok(()) }));
    worker.run(Effect::Create { count: 2 });
    while !matches!(next(&mut actions).await, Action::CreateFinished { error: None, .. }) {}
    worker.run(Effect::Probe);
    let Action::Probed { answers, .. } = next(&mut actions).await else { panic!("probed") };
    assert_eq!(answers, [Ok(()), Ok(()), Ok(())]);

    let finished = async |worker: &mut Worker, actions: &mut mpsc::UnboundedReceiver<Action>, run| {
        worker.run(Effect::Bulk(run));
        loop {
            match next(actions).await {
                Action::BulkProgress { .. } => {}
                Action::BulkFinished { result, .. } => break result.unwrap(),
                other => panic!("unexpected {other:?}"),
            }
        }
    };
    let refreshed = finished(&mut worker, &mut actions, BulkRun::Refresh).await;
    assert!(refreshed.is_complete(), "{refreshed:?}");
    assert_eq!(refreshed.written, 2);
    let repaired = finished(&mut worker, &mut actions, BulkRun::Repair { provider: "c".into() }).await;
    assert_eq!((repaired.written, repaired.already_done), (0, 2), "{repaired:?}");

    // The third provider down: named, the other two answer. (Stores of
    // their own: the first connection's may still hold their files.)
    let other = tempfile::tempdir().unwrap();
    worker.run(Effect::Connect { env: Box::new(sharded(other.path(), true)), generation: 2 });
    let connected = next(&mut actions).await;
    assert!(matches!(connected, Action::Connected { generation: 2, result: Ok(()) }), "{connected:?}");
    worker.run(Effect::Probe);
    let Action::Probed { answers, .. } = next(&mut actions).await else { panic!("probed") };
    assert!(answers[0].is_ok() && answers[1].is_ok(), "{answers:?}");
    assert!(answers[2].is_err(), "{answers:?}");
}
