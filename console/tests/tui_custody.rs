//! Signing, exporting and disabling from the console: what each key asks,
//! what it hands the worker, and how results come back. No terminal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tui_support;

use ratatui::crossterm::event::KeyCode;
use rossignol_console::tui::app::dialogs::{ExportPrompt, Pending, Popup, SignInput};
use rossignol_console::tui::app::model::Row;
use rossignol_console::tui::app::{Action, Effect};
use tui_support::*;

fn confirm(app: &mut rossignol_console::tui::app::App) {
    assert!(matches!(app.popup, Some(Popup::Confirm(_))), "{:?}", app.popup);
    send(app, press(KeyCode::Tab));
    send(app, press(KeyCode::Enter));
}

#[test]
fn s_asks_what_to_sign_confirms_and_shows_the_signature() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('s'));
    assert!(matches!(&app.popup, Some(Popup::SignPrompt { address, .. }) if *address == account(1).address));
    send(&mut app, press(KeyCode::Enter));
    assert!(app.status.as_ref().is_some_and(|s| s.error), "an empty message is refused");
    type_text(&mut app, "hello");
    send(&mut app, press(KeyCode::Enter));
    // Enter on the confirmation's default button (Cancel) does nothing.
    send(&mut app, press(KeyCode::Enter));
    assert!(app.effects.is_empty() && app.popup.is_none());

    send(&mut app, ch('s'));
    type_text(&mut app, "hello");
    send(&mut app, press(KeyCode::Enter));
    confirm(&mut app);
    let [Effect::Sign { address, input }] = app.effects.as_slice() else { panic!("{:?}", app.effects) };
    assert_eq!((address.as_str(), input), (account(1).address.as_str(), &SignInput::Message("hello".into())));
    assert!(matches!(app.popup, Some(Popup::Working { .. })));
    app.effects.clear();

    let generation = app.generation;
    let signature = format!("0x{}", "ab".repeat(65));
    send(
        &mut app,
        Action::Signed {
            generation,
            address: account(1).address,
            result: Ok(vec![("signature", signature.clone())]),
        },
    );
    assert!(matches!(&app.popup, Some(Popup::Signed { lines, .. }) if lines[0].1 == signature));
    send(&mut app, ch('y'));
    assert!(matches!(app.effects.as_slice(), [Effect::CopyText(text)] if *text == signature));
    assert!(app.popup.is_none());
}

#[test]
fn an_at_sign_signs_a_transaction_file_and_failures_say_why() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('s'));
    type_text(&mut app, "@/tmp/tx.json");
    send(&mut app, press(KeyCode::Enter));
    confirm(&mut app);
    assert!(matches!(
        app.effects.as_slice(),
        [Effect::Sign { input: SignInput::TransactionFile(path), .. }] if path == "/tmp/tx.json"
    ));
    let generation = app.generation;
    let error = "account 0x… is disabled (since 2026-11-24T00:00:00Z); nothing was revealed or signed";
    send(&mut app, Action::Signed { generation, address: account(1).address, result: Err(error.into()) });
    assert!(matches!(&app.popup, Some(Popup::Error { message, .. }) if message == error));
}

#[test]
fn x_asks_a_path_and_the_passphrase_twice_before_exporting() {
    let mut app = console(local(), rows(1..=3), false);
    let address = account(1).address;
    send(&mut app, ch('x'));
    let Some(Popup::ExportPrompt(ExportPrompt::Path { input, .. })) = &app.popup else {
        panic!("{:?}", app.popup)
    };
    assert_eq!(input.text, format!("{address}.json"));
    send(&mut app, press(KeyCode::Enter));

    type_text(&mut app, "short");
    send(&mut app, press(KeyCode::Enter));
    assert!(app.status.as_ref().is_some_and(|s| s.error && s.text.contains("at least 8")));
    type_text(&mut app, "-but-longer");
    send(&mut app, press(KeyCode::Enter));
    type_text(&mut app, "something else");
    send(&mut app, press(KeyCode::Enter));
    assert!(app.status.as_ref().is_some_and(|s| s.text.contains("differ")));
    assert!(
        matches!(&app.popup, Some(Popup::ExportPrompt(ExportPrompt::Passphrase { input, .. })) if input.is_empty())
    );

    type_text(&mut app, "short-but-longer");
    send(&mut app, press(KeyCode::Enter));
    type_text(&mut app, "short-but-longer");
    send(&mut app, press(KeyCode::Enter));
    // The passphrase never shows in Debug output (logs, panics).
    assert!(!format!("{:?}", app.popup).contains("short-but-longer"));
    assert!(matches!(&app.popup, Some(Popup::Confirm(c)) if matches!(c.pending, Pending::Export { .. })));
    confirm(&mut app);
    let [Effect::Export { address: a, path, passphrase }] = app.effects.as_slice() else {
        panic!("{:?}", app.effects)
    };
    assert_eq!(
        (a, path.as_str(), passphrase.expose()),
        (&address, format!("{address}.json").as_str(), "short-but-longer")
    );
    assert!(!format!("{:?}", app.effects).contains("short-but-longer"));
    app.effects.clear();

    let generation = app.generation;
    send(&mut app, Action::Exported { generation, address: address.clone(), result: Ok("k.json".into()) });
    assert!(app.popup.is_none());
    assert!(app.status.as_ref().is_some_and(|s| !s.error && s.text.contains("k.json")));
}

#[test]
fn legacy_accounts_cannot_be_exported() {
    let mut legacy = rows(1..=2);
    if let Row::Account(view) = &mut legacy[0] {
        view.scheme = "ed25519";
        view.legacy = true;
    }
    let mut app = console(local(), legacy, false);
    send(&mut app, ch('x'));
    assert!(matches!(&app.popup, Some(Popup::Error { message, .. }) if message.contains("secp256k1")));
    assert!(app.effects.is_empty());
}

#[test]
fn capital_d_disables_or_enables_after_confirmation_and_reloads() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('D'));
    confirm(&mut app);
    assert!(matches!(app.effects.as_slice(), [Effect::SetDisabled { disable: true, .. }]));
    app.effects.clear();
    let generation = app.generation;
    send(
        &mut app,
        Action::DisabledSet { generation, address: account(1).address, disable: true, result: Ok(true) },
    );
    assert!(app.status.as_ref().is_some_and(|s| s.text.ends_with("disabled")));
    assert!(app.effects.iter().any(|e| matches!(e, Effect::LoadPage { after: None })), "{:?}", app.effects);

    // A disabled row offers to enable.
    let mut disabled = rows(1..=2);
    if let Row::Account(view) = &mut disabled[0] {
        view.disabled = Some("since 2026-11-24 by ops".into());
    }
    let mut app = console(local(), disabled, false);
    send(&mut app, ch('D'));
    confirm(&mut app);
    assert!(matches!(app.effects.as_slice(), [Effect::SetDisabled { disable: false, .. }]));
}

#[test]
fn read_only_refuses_disable_but_allows_signing() {
    let mut app = console(dynamo("production", true), rows(1..=3), false);
    send(&mut app, ch('D'));
    assert!(matches!(&app.popup, Some(Popup::Error { message, .. }) if message.contains("read-only")));
    assert!(app.effects.is_empty());
    send(&mut app, press(KeyCode::Esc));
    send(&mut app, ch('s'));
    assert!(matches!(app.popup, Some(Popup::SignPrompt { .. })));
}

#[test]
fn colon_migrate_confirms_then_runs_and_reports() {
    use rossignol_core::lifecycle::Progress;

    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch(':'));
    type_text(&mut app, "migrate");
    send(&mut app, press(KeyCode::Enter));
    confirm(&mut app);
    assert!(matches!(app.effects.as_slice(), [Effect::Migrate]));
    assert!(matches!(app.popup, Some(Popup::Migrate)));
    assert!(app.busy());
    app.effects.clear();

    let generation = app.generation;
    let progress = Progress { examined: 40, written: 30, total: Some(100), ..Progress::default() };
    send(&mut app, Action::MigrateProgress { generation, progress });
    assert_eq!(app.migrate.as_ref().unwrap().ratio(), Some(0.4));
    // Esc stops it; the popup stays until it has stopped.
    send(&mut app, press(KeyCode::Esc));
    assert!(matches!(app.effects.as_slice(), [Effect::CancelMigrate]));
    assert!(matches!(app.popup, Some(Popup::Migrate)));
}

#[test]
fn read_only_refuses_migrate() {
    let mut app = console(dynamo("production", true), rows(1..=3), false);
    send(&mut app, ch(':'));
    type_text(&mut app, "migrate");
    send(&mut app, press(KeyCode::Enter));
    assert!(
        matches!(&app.popup, Some(Popup::Error { message, .. }) if message.contains("read-only; migrate"))
    );
    assert!(app.effects.is_empty());
}
