//! Signing, exporting and disabling from the console: what each key asks,
//! what it hands the worker, and how results come back. No terminal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tui_support;

use ratatui::crossterm::event::KeyCode;
use rossignol_console::tui::app::dialogs::{ExportPrompt, Pending, Popup};
use rossignol_console::tui::app::jobs::BulkRun;
use rossignol_console::tui::app::model::Row;
use rossignol_console::tui::app::{Action, Effect};
use rossignol_core::sign::Payload;
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
    let [Effect::Sign { address, payload }] = app.effects.as_slice() else { panic!("{:?}", app.effects) };
    assert_eq!(
        (address.as_str(), payload),
        (account(1).address.as_str(), &Payload::Message(b"hello".to_vec()))
    );
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
    assert!(
        matches!(app.effects.as_slice(), [Effect::CopyText { text, what: "signature" }] if *text == signature)
    );
    assert!(app.popup.is_none());
    send(&mut app, Action::Copied { what: "signature", result: Ok(()) });
    assert_eq!(app.status.as_ref().unwrap().text, "copied the signature to the clipboard");
}

#[test]
fn odd_length_hex_is_refused_before_the_confirmation() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('s'));
    type_text(&mut app, "0xabc");
    send(&mut app, press(KeyCode::Enter));
    assert!(matches!(app.popup, Some(Popup::SignPrompt { .. })), "still asking: {:?}", app.popup);
    let status = app.status.clone().unwrap();
    assert!(
        status.error && status.text.contains("odd length") && status.text.contains("nothing was signed"),
        "{status:?}"
    );
    // Fixed in place: the field keeps the text, End and one more digit.
    send(&mut app, press(KeyCode::End));
    send(&mut app, ch('d'));
    send(&mut app, press(KeyCode::Enter));
    assert!(
        matches!(&app.popup, Some(Popup::Confirm(c)) if c.pending == Pending::Sign { address: account(1).address, payload: Payload::Message(vec![0xab, 0xcd]) })
    );
}

#[test]
fn an_at_sign_signs_a_transaction_file_and_failures_say_why() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('s'));
    type_text(&mut app, "@/tmp/tx.json");
    send(&mut app, press(KeyCode::Enter));
    // The file is read for the preview before anything is confirmed.
    assert!(matches!(
        app.effects.as_slice(),
        [Effect::ReadTransaction { path, .. }] if path == "/tmp/tx.json"
    ));
    assert!(matches!(app.popup, Some(Popup::SignPrompt { reading: true, .. })));
    app.effects.clear();
    let address = account(1).address;
    let path = "/tmp/tx.json".to_owned();
    let error = "/tmp/tx.json: transaction.chainId is missing; nothing was signed".to_owned();
    send(
        &mut app,
        Action::TransactionRead { address: address.clone(), path: path.clone(), result: Err(error.clone()) },
    );
    assert!(matches!(app.popup, Some(Popup::SignPrompt { reading: false, .. })), "asks again");
    assert_eq!(app.status.as_ref().unwrap().text, error);

    send(&mut app, press(KeyCode::Enter));
    app.effects.clear();
    let tx = rossignol_core::sign::Transaction::from_json(
        &serde_json::json!({
            "chainId": 1, "nonce": 7, "to": account(2).address, "value": "1000000000000000000",
            "gas": 21000, "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000"
        }),
        None,
    )
    .unwrap();
    let payload = Payload::Transaction(Box::new(tx));
    send(&mut app, Action::TransactionRead { address, path, result: Ok(payload.clone()) });
    assert!(
        matches!(&app.popup, Some(Popup::Confirm(c)) if matches!(&c.pending, Pending::Sign { payload: p, .. } if *p == payload))
    );
    confirm(&mut app);
    assert!(
        matches!(app.effects.as_slice(), [Effect::Sign { payload: p, .. }] if *p == payload),
        "what was previewed is signed"
    );
    let generation = app.generation;
    let error = "account 0x… is disabled (since 2026-11-24T00:00:00Z); nothing was revealed or signed";
    send(&mut app, Action::Signed { generation, address: account(1).address, result: Err(error.into()) });
    assert!(matches!(&app.popup, Some(Popup::Error { message, .. }) if message == error));
    assert_eq!(app.status.as_ref().unwrap().text, error, "the status says the same");
}

#[test]
fn x_asks_a_path_and_the_passphrase_twice_before_exporting() {
    let mut app = console(local(), rows(1..=3), false);
    let address = account(1).address;
    send(&mut app, ch('x'));
    // A free file name is proposed first.
    assert!(matches!(app.effects.as_slice(), [Effect::ProposeExportPath { address: a }] if *a == address));
    app.effects.clear();
    let taken = format!("{address}.json");
    let free = format!("{address}-2.json");
    send(&mut app, Action::ExportPathProposed { address: address.clone(), path: free.clone() });
    let Some(Popup::ExportPrompt(ExportPrompt::Path { input, .. })) = &app.popup else {
        panic!("{:?}", app.popup)
    };
    assert_eq!(input.text, free);
    // Typing replaces the proposal; a taken path is refused before any passphrase.
    type_text(&mut app, &taken);
    send(&mut app, press(KeyCode::Enter));
    assert!(matches!(app.effects.as_slice(), [Effect::CheckExportPath { path, .. }] if *path == taken));
    app.effects.clear();
    let refusal = format!("{taken} already exists; nothing was overwritten. Choose another file");
    send(
        &mut app,
        Action::ExportPathChecked {
            address: address.clone(),
            path: taken.clone(),
            result: Err(refusal.clone()),
        },
    );
    assert!(matches!(app.popup, Some(Popup::ExportPrompt(ExportPrompt::Path { checking: false, .. }))));
    assert_eq!(app.status.as_ref().unwrap().text, refusal);
    // Ctrl-U clears the field in one key.
    send(&mut app, ctrl('u'));
    type_text(&mut app, &free);
    send(&mut app, press(KeyCode::Enter));
    app.effects.clear();
    send(
        &mut app,
        Action::ExportPathChecked { address: address.clone(), path: free.clone(), result: Ok(()) },
    );
    assert!(matches!(app.popup, Some(Popup::ExportPrompt(ExportPrompt::Passphrase { .. }))));

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
    assert_eq!((a, path.as_str(), passphrase.expose()), (&address, free.as_str(), "short-but-longer"));
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
    assert!(matches!(app.effects.as_slice(), [Effect::Bulk(BulkRun::Migrate)]));
    assert!(matches!(app.popup, Some(Popup::Bulk)));
    assert!(app.busy());
    app.effects.clear();

    let generation = app.generation;
    let progress = Progress { examined: 40, written: 30, total: Some(100), ..Progress::default() };
    send(&mut app, Action::BulkProgress { generation, progress });
    assert_eq!(app.bulk.as_ref().unwrap().ratio(), Some(0.4));
    // Esc stops it; the popup stays until it has stopped.
    send(&mut app, press(KeyCode::Esc));
    assert!(matches!(app.effects.as_slice(), [Effect::CancelBulk]));
    assert!(matches!(app.popup, Some(Popup::Bulk)));
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

#[test]
fn a_disabled_account_is_refused_at_once_pointing_to_d() {
    let mut disabled = rows(1..=2);
    if let Row::Account(view) = &mut disabled[0] {
        view.disabled = Some("since 2026-11-24 by ops".into());
    }
    for key in ['r', 'Y', 's', 'x'] {
        let mut app = console(local(), disabled.clone(), false);
        send(&mut app, ch(key));
        let Some(Popup::Error { message, .. }) = &app.popup else { panic!("{key}: {:?}", app.popup) };
        assert!(
            message.contains("is disabled") && message.contains("press D to enable it first"),
            "{key}: {message}"
        );
        assert!(app.effects.is_empty(), "{key}: nothing asked of the worker");
    }
}

#[test]
fn d_then_esc_keeps_the_filter_and_the_cursor() {
    let mut app = console(local(), rows(1..=40), false);
    send(&mut app, ch('/'));
    type_text(&mut app, "0x");
    send(&mut app, press(KeyCode::Enter));
    for _ in 0..5 {
        send(&mut app, ch('j'));
    }
    let chosen = app.list.selected_row().unwrap().address().to_owned();
    send(&mut app, press(KeyCode::Enter));
    send(&mut app, ch('D'));
    confirm(&mut app);
    app.effects.clear();
    let generation = app.generation;
    send(
        &mut app,
        Action::DisabledSet { generation, address: chosen.clone(), disable: true, result: Ok(true) },
    );
    // The list is read again; the same account is selected once its page is back.
    send(&mut app, Action::Page { generation, result: Ok((rows(1..=40), None)) });
    send(&mut app, press(KeyCode::Esc));
    assert_eq!(app.list.filter.text, "0x");
    assert_eq!(app.list.selected_row().unwrap().address(), chosen);
}
