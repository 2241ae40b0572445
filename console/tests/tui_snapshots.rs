//! Every screen, drawn on a fixed 100x30 `TestBackend` from fixed data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tui_support;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{TimeZone as _, Utc};
use ratatui::crossterm::event::KeyCode;
use rossignol_console::tui::app::dialogs::Popup;
use rossignol_console::tui::app::jobs::AuditJob;
use rossignol_console::tui::app::model::{RevealPurpose, Row, Secret, TrailEntry};
use rossignol_console::tui::app::{Action, Status};
use rossignol_core::audit::{AuditReport, Finding, Progress};
use rossignol_core::audit::{FindingKind, Warning};
use tui_support::*;
use zeroize::Zeroizing;

fn list_rows() -> Vec<Row> {
    let mut rows = rows(1..=6);
    if let Row::Account(view) = &mut rows[2] {
        view.scheme = "ed25519";
        view.seal = None;
        view.legacy = true;
        view.created_at = None;
        view.created_by = None;
        view.schema_version = 0;
    }
    rows.insert(
        4,
        Row::Malformed {
            address: "0xnot-an-address".into(),
            error: "record 0xnot-an-address is malformed: its address is invalid".into(),
        },
    );
    rows
}

#[test]
fn list() {
    let mut app = console(local(), list_rows(), true);
    send(&mut app, ch('j'));
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn list_loading_more() {
    let mut app = console(local(), rows(1..=12), true);
    send(&mut app, ch('G'));
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn filter() {
    let mut app = console(local(), list_rows(), false);
    send(&mut app, ch('/'));
    type_text(&mut app, "7e5f");
    insta::assert_snapshot!(render(&app).backend());
}

fn details_app() -> rossignol_console::tui::app::App {
    let mut app = console(local(), list_rows(), false);
    send(&mut app, press(KeyCode::Enter));
    let generation = app.generation;
    let address = account(1).address;
    let at = |s| Utc.with_ymd_and_hms(2026, 2, 3, 4, 5, s).unwrap();
    let trail = vec![
        TrailEntry {
            at: at(9),
            action: "console-reveal".into(),
            request_id: "00112233aabbccdd".into(),
            who: "console:alice".into(),
        },
        TrailEntry {
            at: at(1),
            action: "getter".into(),
            request_id: "c0ffee-request".into(),
            who: "api key k-123".into(),
        },
    ];
    send(
        &mut app,
        Action::Opened { generation, address, record: Ok(Row::Account(account(1))), trail: Ok(trail) },
    );
    app
}

#[test]
fn details() {
    insta::assert_snapshot!(render(&details_app()).backend());
}

#[test]
fn reveal_confirmation() {
    let mut app = details_app();
    send(&mut app, ch('r'));
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn reveal_confirmation_in_production_needs_the_name() {
    let mut app = console(dynamo("production", true), rows(1..=3), false);
    send(&mut app, ch('Y'));
    type_text(&mut app, "prod");
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn revealed_key() {
    let mut app = details_app();
    app.popup = Some(Popup::Revealing { address: account(1).address });
    answer_reveal(
        &mut app,
        RevealPurpose::Show,
        Ok(Secret::new(Zeroizing::new(key(1).reveal_hex().to_string()))),
    );
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn create_prompt() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('c'));
    send(&mut app, press(KeyCode::Backspace));
    type_text(&mut app, "25");
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn create_progress() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('c'));
    send(&mut app, press(KeyCode::Backspace));
    type_text(&mut app, "4");
    send(&mut app, press(KeyCode::Enter));
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    let generation = app.generation;
    for n in [11, 12, 13] {
        send(&mut app, Action::Created { generation, address: account(n).address });
    }
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn audit_progress() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('a'));
    let generation = app.generation;
    let progress =
        Progress { checked: 4_000, findings: 2, total: Some(10_000), elapsed: Duration::from_secs(8) };
    send(&mut app, Action::AuditProgress { generation, progress });
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn audit_results() {
    let mut app = console(local(), rows(1..=3), false);
    let mut job = AuditJob::new(Some(10_000));
    job.progress =
        Progress { checked: 10_000, findings: 2, total: Some(10_000), elapsed: Duration::from_secs(20) };
    job.finish(Ok(AuditReport {
        checked: 10_000,
        ok: 9_998,
        findings: vec![
            Finding {
                address: account(2).address.to_lowercase(),
                provider: None,
                kind: FindingKind::AddressMismatch,
                detail: "its public key derives another address".into(),
            },
            Finding {
                address: account(3).address.to_lowercase(),
                provider: None,
                kind: FindingKind::PlaintextKeyAtRest,
                detail: "a legacy row with its key in plaintext".into(),
            },
        ],
        warnings: vec![Warning {
            subject: "point-in-time recovery of rossignol_local".into(),
            detail: "unknown: not reported".into(),
        }],
        seals: BTreeMap::from([("local:0123456789abcdef".to_owned(), 9_999), ("plaintext".to_owned(), 1)]),
        elapsed: Duration::from_secs(20),
        cancelled: false,
        ..AuditReport::default()
    }));
    job.selected = 1;
    app.audit = Some(job);
    app.popup = Some(Popup::Audit);
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn help() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('?'));
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn error_dialog() {
    let mut app = console(dynamo("staging", false), Vec::new(), false);
    app.popup = None;
    send(&mut app, Action::SwitchEnv("staging".into()));
    let generation = app.generation;
    let error = "no AWS credentials were found (no profile); set a `profile` for this environment or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
    send(&mut app, Action::Connected { generation, result: Err(error.into()) });
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn status_error_and_read_only_production_header() {
    let mut app = console(dynamo("production", true), rows(1..=3), false);
    send(&mut app, ch('c'));
    assert!(matches!(app.status, Some(Status { error: true, .. })));
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn guarded_headers_are_red_and_others_are_not() {
    use ratatui::style::Color;
    let header_bg = |app: &rossignol_console::tui::app::App| render(app).backend().buffer()[(50, 1)].bg;
    assert_eq!(header_bg(&console(dynamo("production", true), rows(1..=3), false)), Color::Red);
    assert_eq!(header_bg(&console(dynamo("prod-eu", false), rows(1..=3), false)), Color::Red);
    assert_ne!(header_bg(&console(dynamo("staging", false), rows(1..=3), false)), Color::Red);
    assert_ne!(header_bg(&console(local(), rows(1..=3), false)), Color::Red);
}

#[test]
fn command_line() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch(':'));
    type_text(&mut app, "env sta");
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn sign_prompt() {
    let mut app = details_app();
    send(&mut app, ch('s'));
    type_text(&mut app, "0x68656c6c6f");
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn signed_transaction() {
    let mut app = details_app();
    app.popup = Some(Popup::Working { title: " Sign ", address: account(1).address });
    let generation = app.generation;
    let lines = vec![
        ("raw transaction", format!("0x02f86b01{}", "7a".repeat(60))),
        ("hash", format!("0x{}", "5c".repeat(32))),
    ];
    send(&mut app, Action::Signed { generation, address: account(1).address, result: Ok(lines) });
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn export_passphrase_is_masked() {
    let mut app = details_app();
    send(&mut app, ch('x'));
    send(&mut app, press(KeyCode::Enter));
    type_text(&mut app, "correct horse");
    insta::assert_snapshot!(render(&app).backend());
}

#[test]
fn disable_confirmation_and_disabled_details() {
    let mut app = details_app();
    send(&mut app, ch('D'));
    insta::assert_snapshot!("disable_confirmation", render(&app).backend());
    send(&mut app, press(KeyCode::Esc));
    let generation = app.generation;
    let mut view = account(1);
    view.disabled = Some("since 2026-11-24 10:00:00 UTC by console:alice".into());
    send(
        &mut app,
        Action::Opened {
            generation,
            address: view.address.clone(),
            record: Ok(Row::Account(view)),
            trail: Ok(vec![]),
        },
    );
    insta::assert_snapshot!("disabled_details", render(&app).backend());
}

#[test]
fn migrate_progress_and_report() {
    use rossignol_core::lifecycle::{Operation, Progress, Report};

    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch(':'));
    type_text(&mut app, "migrate");
    send(&mut app, press(KeyCode::Enter));
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    let generation = app.generation;
    let progress = Progress {
        examined: 4_000,
        written: 3_900,
        already_done: 100,
        problems: 0,
        total: Some(10_000),
        elapsed: Duration::from_secs(10),
    };
    send(&mut app, Action::BulkProgress { generation, progress });
    insta::assert_snapshot!("migrate_progress", render(&app).backend());

    let report = Report {
        operation: Operation::Migrate,
        run_id: "0011223344556677".into(),
        table: "rossignol_local".into(),
        source: None,
        target_seal: "local:0123456789abcdef".into(),
        dry_run: false,
        examined: 10_000,
        written: 9_899,
        would_write: 0,
        already_done: 100,
        verified: 9_899,
        not_sealed: 0,
        cleared: 0,
        would_clear: 0,
        changed: vec![account(2).address.to_lowercase()],
        failed: Vec::new(),
        elapsed: Duration::from_secs(25),
        cancelled: false,
        scan_error: None,
    };
    send(&mut app, Action::BulkFinished { generation, result: Ok(report) });
    insta::assert_snapshot!("migrate_report", render(&app).backend());
}

#[test]
fn sharded_header_shows_each_provider_and_the_one_down() {
    use rossignol_console::tui::app::{Effect, PROBE_EVERY};

    let mut app = console(vault(std::path::Path::new("/srv/vault")), rows(1..=3), false);
    let generation = app.generation;
    insta::assert_snapshot!("sharded_header_checking", render(&app).backend());
    let down = "could not reach DynamoDB at http://127.0.0.1:9".to_owned();
    send(&mut app, Action::Probed { generation, answers: vec![Ok(()), Ok(()), Err(down)] });
    insta::assert_snapshot!("sharded_header_down", render(&app).backend());
    let status = app.status.as_ref().unwrap();
    assert!(status.error && status.text.contains("provider c does not answer"), "{status:?}");

    // Asked again while the console stays open.
    let later = app.now + PROBE_EVERY;
    send(&mut app, Action::Tick(later));
    assert!(app.effects.iter().any(|e| matches!(e, Effect::Probe)), "{:?}", app.effects);
}

#[test]
fn repair_and_refresh_are_asked_for_checked_and_watched() {
    use rossignol_core::lifecycle::{Operation, Progress, Report};

    let mut app = console(vault(std::path::Path::new("/srv/vault")), rows(1..=3), false);
    send(&mut app, ch(':'));
    type_text(&mut app, "repair d");
    send(&mut app, press(KeyCode::Enter));
    let status = app.status.as_ref().unwrap();
    assert!(status.text.contains("no provider named d; its providers are a, b, c"), "{status:?}");

    send(&mut app, ch(':'));
    type_text(&mut app, "repair c");
    send(&mut app, press(KeyCode::Enter));
    insta::assert_snapshot!("repair_question", render(&app).backend());
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    let generation = app.generation;
    let progress = Progress {
        examined: 40,
        written: 12,
        already_done: 28,
        problems: 0,
        total: None,
        elapsed: Duration::from_secs(2),
    };
    send(&mut app, Action::BulkProgress { generation, progress });
    insta::assert_snapshot!("repair_progress", render(&app).backend());
    send(&mut app, press(KeyCode::Esc));
    assert!(app.bulk.as_ref().unwrap().cancelling, "Esc stops it");

    let report = Report {
        operation: Operation::Repair,
        run_id: "0011223344556677".into(),
        table: "vault".into(),
        source: None,
        target_seal: "local:0123456789abcdef".into(),
        dry_run: false,
        examined: 60,
        written: 12,
        would_write: 0,
        already_done: 28,
        verified: 40,
        not_sealed: 0,
        cleared: 0,
        would_clear: 0,
        changed: Vec::new(),
        failed: Vec::new(),
        elapsed: Duration::from_secs(3),
        cancelled: true,
        scan_error: None,
    };
    send(&mut app, Action::BulkFinished { generation, result: Ok(report) });
    let status = app.status.as_ref().unwrap();
    assert!(
        status.text.contains("the repair is not complete") && status.text.contains(":repair c"),
        "{status:?}"
    );
    insta::assert_snapshot!("repair_report", render(&app).backend());

    // Refresh and repair are for shares; migrate is for whole keys.
    let mut local = console(local(), rows(1..=3), false);
    send(&mut local, ch(':'));
    type_text(&mut local, "refresh");
    send(&mut local, press(KeyCode::Enter));
    let status = local.status.as_ref().unwrap();
    assert!(status.text.contains(":refresh works on the shares of a sharded environment"), "{status:?}");
}
