//! The console's worker against a real embedded store: connect, create,
//! page, look up, reveal (recorded in the trail), open, audit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use rossignol_console::tui::app::model::{RevealPurpose, Row};
use rossignol_console::tui::app::{Action, Effect};
use rossignol_console::tui::worker::Worker;
use rossignol_core::config::{Environment, SealSpec, StoreSpec};
use tokio::sync::mpsc;

fn embedded(dir: &std::path::Path) -> Environment {
    Environment {
        name: "scratch".into(),
        table: "rossignol_scratch".into(),
        store: StoreSpec::Embedded { path: dir.join("scratch.redb") },
        seal: SealSpec::Local { key_file: dir.join("scratch.key") },
        read_only: false,
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

    worker.run(Effect::Open { address: address.clone() });
    let Action::Opened { record: Ok(Row::Account(view)), trail: Ok(trail), .. } = next(&mut actions).await
    else {
        panic!("details")
    };
    assert_eq!(view.address, address);
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, "console-reveal");
    assert!(trail[0].who.starts_with("console:"), "{:?}", trail[0]);

    worker.run(Effect::Audit);
    let Action::AuditFinished { result: Ok(report), .. } = next(&mut actions).await else {
        panic!("a report")
    };
    assert_eq!(report.checked, 3);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}
