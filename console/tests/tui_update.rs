//! The console's state changes, driven by actions with no terminal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tui_support;

use std::time::Duration;

use ratatui::crossterm::event::KeyCode;
use rossignol_console::tui::app::dialogs::{Button, Pending, Popup};
use rossignol_console::tui::app::list::{Direct, Paging};
use rossignol_console::tui::app::model::{RevealPurpose, Secret};
use rossignol_console::tui::app::{Action, Effect, REVEAL_FOR, Screen};
use tui_support::*;
use zeroize::Zeroizing;

#[test]
fn starts_by_connecting_then_loads_the_first_page() {
    let mut app = rossignol_console::tui::app::App::new(environments(), local(), std::time::Instant::now());
    assert!(matches!(app.effects.as_slice(), [Effect::Connect { generation: 1, .. }]));
    app.effects.clear();
    send(&mut app, Action::Connected { generation: 1, result: Ok(()) });
    assert!(matches!(app.effects.as_slice(), [Effect::Describe, Effect::LoadPage { after: None }]));
}

#[test]
fn j_k_g_and_half_pages_move_within_what_is_loaded() {
    let mut app = console(local(), rows(1..=60), false);
    send(&mut app, ch('j'));
    send(&mut app, press(KeyCode::Down));
    assert_eq!(app.list.selected, 2);
    send(&mut app, ch('k'));
    assert_eq!(app.list.selected, 1);
    send(&mut app, ctrl('d'));
    assert_eq!(app.list.selected, 1 + app.list.viewport / 2);
    send(&mut app, ch('G'));
    assert_eq!(app.list.selected, 59);
    assert!(app.list.offset > 0, "the selection stays on screen");
    send(&mut app, ctrl('u'));
    assert_eq!(app.list.selected, 59 - app.list.viewport / 2);
    send(&mut app, ch('g'));
    assert_eq!((app.list.selected, app.list.offset), (0, 0));
    send(&mut app, ch('k'));
    assert_eq!(app.list.selected, 0);
}

#[test]
fn scrolling_near_the_end_loads_the_next_page_once() {
    let mut app = console(local(), rows(1..=40), true);
    send(&mut app, ch('j'));
    assert!(app.effects.is_empty(), "far from the end: nothing to load");
    for _ in 0..25 {
        send(&mut app, ch('j'));
    }
    let loads = app.effects.iter().filter(|e| matches!(e, Effect::LoadPage { after: Some(_) })).count();
    assert_eq!(loads, 1, "{:?}", app.effects);
    assert!(app.list.is_loading());
}

#[test]
fn capital_g_pages_to_the_end_then_selects_the_last() {
    let mut app = console(local(), rows(1..=10), true);
    // So few rows: the next page is already on its way.
    assert!(app.list.is_loading());
    send(&mut app, ch('G'));
    assert!(app.list.want_end);
    let generation = app.generation;
    let cursor = rossignol_core::store::Cursor(account(20).address.to_lowercase());
    send(&mut app, Action::Page { generation, result: Ok((rows(11..=20), Some(cursor))) });
    assert!(matches!(app.effects.as_slice(), [Effect::LoadPage { after: Some(_) }]), "G keeps paging");
    app.effects.clear();
    send(&mut app, Action::Page { generation, result: Ok((rows(21..=25), None)) });
    assert_eq!(app.list.selected, 24);
    assert_eq!(app.list.paging, Paging::Done);
    assert!(!app.list.want_end);
    assert!(app.effects.is_empty());
}

#[test]
fn results_of_an_older_connection_are_dropped() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, Action::SwitchEnv("staging".into()));
    assert_eq!(app.env.name, "staging");
    assert!(app.list.rows.is_empty());
    send(&mut app, Action::Page { generation: 1, result: Ok((rows(4..=6), None)) });
    assert!(app.list.rows.is_empty(), "a page from local must not show in staging");
}

#[test]
fn filter_is_live_case_insensitive_and_esc_clears_it() {
    let mut app = console(local(), rows(1..=9), false);
    let target = account(3).address;
    send(&mut app, ch('/'));
    type_text(&mut app, &target[2..8].to_uppercase());
    assert!(app.list.visible().iter().any(|r| r.address() == target));
    assert!(app.list.visible().len() < 9);
    send(&mut app, press(KeyCode::Esc));
    assert!(app.list.filter.text.is_empty());
    assert_eq!(app.list.visible().len(), 9);
}

#[test]
fn a_full_address_in_the_filter_is_fetched_directly() {
    let mut app = console(local(), rows(1..=3), false);
    let wanted = account(42).address;
    send(&mut app, ch('/'));
    type_text(&mut app, &wanted);
    assert!(
        matches!(app.effects.as_slice(), [Effect::Lookup { address }] if *address == wanted),
        "{:?}",
        app.effects
    );
    let generation = app.generation;
    let row = rows(42..=42).remove(0);
    send(&mut app, Action::LookedUp { generation, address: wanted.clone(), result: Ok(Some(row)) });
    assert!(matches!(app.list.direct, Some(Direct::Found(_))));
    assert_eq!(app.list.visible().len(), 1);
    assert_eq!(app.list.selected_row().unwrap().address(), wanted);
}

#[test]
fn enter_opens_details_and_asks_for_the_trail() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('j'));
    send(&mut app, press(KeyCode::Enter));
    let Screen::Details(details) = &app.screen else { panic!("details expected") };
    assert_eq!(details.address, account(2).address);
    assert!(details.view.is_some(), "what the list knows shows at once");
    assert!(matches!(app.effects.as_slice(), [Effect::Open { .. }]));
    send(&mut app, press(KeyCode::Esc));
    assert!(matches!(app.screen, Screen::List));
}

#[test]
fn reveal_asks_first_with_cancel_focused() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('r'));
    let Some(Popup::Confirm(confirm)) = &app.popup else { panic!("a confirmation expected") };
    assert_eq!(confirm.focus, Button::Cancel);
    assert!(confirm.required.is_none(), "local needs no typed name");
    // Enter on the default does nothing.
    send(&mut app, press(KeyCode::Enter));
    assert!(app.popup.is_none());
    assert!(app.effects.is_empty());
}

#[test]
fn a_confirmed_reveal_shows_then_hides_on_any_key() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('r'));
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    let address = account(1).address;
    assert!(matches!(app.effects.as_slice(),
        [Effect::Reveal { address: a, purpose: RevealPurpose::Show }] if *a == address));
    let secret = Secret::new(key(1).reveal_hex());
    answer_reveal(&mut app, RevealPurpose::Show, Ok(secret));
    assert!(matches!(app.popup, Some(Popup::Revealed { .. })));
    let shown = format!("{:?}", app);
    assert!(!shown.contains(&key(1).reveal_hex()[2..]), "Debug must not show the key");
    send(&mut app, ch('x'));
    assert!(app.popup.is_none());
    assert!(app.list.selected == 0, "the hiding key does nothing else");
}

#[test]
fn a_revealed_key_hides_after_thirty_seconds() {
    let mut app = console(local(), rows(1..=3), false);
    app.popup = Some(Popup::Revealing { address: account(1).address });
    answer_reveal(&mut app, RevealPurpose::Show, Ok(Secret::new(Zeroizing::new("0xsecret".into()))));
    let start = app.now;
    send(&mut app, Action::Tick(start + REVEAL_FOR - Duration::from_secs(1)));
    assert!(matches!(app.popup, Some(Popup::Revealed { .. })));
    send(&mut app, Action::Tick(start + REVEAL_FOR));
    assert!(app.popup.is_none());
}

#[test]
fn a_failed_reveal_shows_the_error_and_nothing_else() {
    let mut app = console(local(), rows(1..=3), false);
    app.popup = Some(Popup::Revealing { address: account(1).address });
    answer_reveal(&mut app, RevealPurpose::Copy, Err("the access trail is down".into()));
    assert!(
        matches!(&app.popup, Some(Popup::Error { message, .. }) if message.contains("access trail is down"))
    );
    assert!(app.effects.is_empty(), "nothing copied");
}

#[test]
fn esc_while_revealing_cancels_a_copy() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('Y'));
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    assert!(matches!(app.popup, Some(Popup::Revealing { .. })));
    app.effects.clear();
    send(&mut app, press(KeyCode::Esc));
    assert!(app.popup.is_none());
    answer_reveal(&mut app, RevealPurpose::Copy, Ok(Secret::new(key(1).reveal_hex())));
    assert!(
        !app.effects.iter().any(|e| matches!(e, Effect::CopySecret(_))),
        "a cancelled copy puts nothing on the clipboard: {:?}",
        app.effects
    );

    // Not cancelled, it copies.
    send(&mut app, ch('Y'));
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    answer_reveal(&mut app, RevealPurpose::Copy, Ok(Secret::new(key(1).reveal_hex())));
    assert!(app.effects.iter().any(|e| matches!(e, Effect::CopySecret(_))), "{:?}", app.effects);
}

#[test]
fn production_needs_the_name_typed() {
    let mut app = console(dynamo("production", true), rows(1..=3), false);
    send(&mut app, ch('Y'));
    let Some(Popup::Confirm(confirm)) = &app.popup else { panic!("a confirmation expected") };
    assert_eq!(confirm.required.as_deref(), Some("production"));
    assert!(matches!(confirm.pending, Pending::Reveal { purpose: RevealPurpose::Copy, .. }));
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    assert!(app.effects.is_empty(), "not armed before the name is typed");
    assert!(app.status.as_ref().unwrap().error);
    type_text(&mut app, "production");
    send(&mut app, press(KeyCode::Enter));
    assert!(matches!(app.effects.as_slice(), [Effect::Reveal { purpose: RevealPurpose::Copy, .. }]));
}

#[test]
fn a_name_like_prod_is_guarded_even_if_writable() {
    let mut app = console(dynamo("prod-eu", false), rows(1..=3), false);
    send(&mut app, ch('r'));
    let Some(Popup::Confirm(confirm)) = &app.popup else { panic!("a confirmation expected") };
    assert_eq!(confirm.required.as_deref(), Some("prod-eu"));
}

#[test]
fn read_only_refuses_create() {
    let mut app = console(dynamo("production", true), rows(1..=3), false);
    send(&mut app, ch('c'));
    assert!(matches!(&app.popup, Some(Popup::Error { message, .. }) if message.contains("read-only")));
    let status = app.status.clone().unwrap();
    assert!(status.error && status.text.contains("read-only"), "{status:?}");
    send(&mut app, press(KeyCode::Esc));
    send(&mut app, ch(':'));
    type_text(&mut app, "create 5");
    send(&mut app, press(KeyCode::Enter));
    assert!(app.effects.is_empty());
}

#[test]
fn create_asks_a_count_then_confirms_then_runs() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('c'));
    assert!(matches!(app.popup, Some(Popup::CreatePrompt(_))));
    send(&mut app, press(KeyCode::Backspace));
    type_text(&mut app, "3");
    send(&mut app, press(KeyCode::Enter));
    let Some(Popup::Confirm(confirm)) = &app.popup else { panic!("a confirmation expected") };
    assert_eq!(confirm.pending, Pending::Create { count: 3 });
    assert_eq!(confirm.focus, Button::Cancel);
    send(&mut app, press(KeyCode::Right));
    send(&mut app, press(KeyCode::Enter));
    assert!(matches!(app.effects.as_slice(), [Effect::Create { count: 3 }]));
    assert!(app.busy());
    let generation = app.generation;
    send(&mut app, Action::Created { generation, address: account(9).address });
    send(&mut app, Action::CreateFinished { generation, error: None });
    assert!(!app.busy());
    assert_eq!(app.create.as_ref().unwrap().created, vec![account(9).address]);
}

#[test]
fn quit_asks_while_work_runs() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('a'));
    assert!(matches!(app.popup, Some(Popup::Audit)));
    send(&mut app, press(KeyCode::Esc));
    assert!(app.effects.iter().any(|e| matches!(e, Effect::CancelAudit)), "Esc cancels a running audit");
    app.popup = None;
    send(&mut app, ch('q'));
    assert!(!app.quit);
    assert!(
        matches!(&app.popup, Some(Popup::Confirm(c)) if c.pending == Pending::Quit && c.focus == Button::Cancel)
    );
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    assert!(app.quit);
}

#[test]
fn q_quits_at_once_when_idle() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('q'));
    assert!(app.quit);
}

#[test]
fn command_line_completes_and_switches_environment() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch(':'));
    type_text(&mut app, "en");
    send(&mut app, press(KeyCode::Tab));
    type_text(&mut app, "st");
    send(&mut app, press(KeyCode::Tab));
    assert!(matches!(&app.popup, Some(Popup::Command(line)) if line.input.text == "env staging"));
    send(&mut app, press(KeyCode::Enter));
    assert_eq!(app.env.name, "staging");
    assert!(matches!(app.effects.last(), Some(Effect::Connect { .. })));
}

#[test]
fn unknown_environment_and_command_are_explained() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, Action::SwitchEnv("nope".into()));
    assert!(app.status.as_ref().unwrap().text.contains("known: local, production, staging"));
    send(&mut app, ch(':'));
    type_text(&mut app, "frobnicate");
    send(&mut app, press(KeyCode::Enter));
    assert!(app.status.as_ref().unwrap().text.contains("unknown command"));
}

#[test]
fn a_failed_page_and_connection_keep_the_console_usable() {
    let mut app = console(local(), rows(1..=30), true);
    for _ in 0..15 {
        send(&mut app, ch('j'));
    }
    let generation = app.generation;
    send(&mut app, Action::Page { generation, result: Err("DynamoDB Scan failed: timeout".into()) });
    assert!(matches!(app.list.paging, Paging::Failed(..)));
    assert_eq!(app.list.rows.len(), 30);
    send(&mut app, ch('k'));
    assert_eq!(app.list.selected, 14);

    send(&mut app, Action::SwitchEnv("staging".into()));
    let generation = app.generation;
    send(&mut app, Action::Connected { generation, result: Err("no AWS credentials were found".into()) });
    assert!(matches!(app.popup, Some(Popup::Error { .. })));
    send(&mut app, press(KeyCode::Esc));
    send(&mut app, ch('R'));
    assert!(matches!(app.effects.last(), Some(Effect::Connect { .. })), "R reconnects");
}

#[test]
fn a_finding_opens_its_account_and_esc_returns_to_the_findings() {
    use rossignol_core::audit::FindingKind;
    use rossignol_core::audit::{AuditReport, Finding};
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('a'));
    let generation = app.generation;
    let finding = Finding {
        address: account(2).address.to_lowercase(),
        provider: None,
        kind: FindingKind::AddressMismatch,
        detail: "derives another address".into(),
    };
    let report = AuditReport { checked: 3, ok: 2, findings: vec![finding], ..AuditReport::default() };
    send(&mut app, Action::AuditFinished { generation, result: Ok(report) });
    assert!(!app.busy());
    send(&mut app, press(KeyCode::Enter));
    assert!(matches!(&app.screen, Screen::Details(d) if d.from_audit));
    assert!(app.popup.is_none());
    send(&mut app, press(KeyCode::Esc));
    assert!(matches!(app.popup, Some(Popup::Audit)));
}

#[test]
fn a_full_address_in_any_case_is_fetched_in_checksum_form() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('/'));
    type_text(&mut app, &account(7).address.to_uppercase().replace("0X", "0x"));
    assert!(matches!(app.effects.as_slice(), [Effect::Lookup { address }] if *address == account(7).address));
}

#[test]
fn y_copies_the_address() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('y'));
    assert!(
        matches!(app.effects.as_slice(), [Effect::CopyText { text, what: "address" }] if *text == account(1).address)
    );
}

#[test]
fn remapped_keys_trigger_their_action_and_free_the_default() {
    let mut app = console(local(), rows(1..=3), false);
    let remap: std::collections::BTreeMap<String, String> =
        [("reveal".to_owned(), "v".to_owned())].into_iter().collect();
    app.keymap = rossignol_console::tui::keys::Keymap::from_config(&remap).unwrap();
    send(&mut app, ch('r'));
    assert!(app.popup.is_none(), "the default key no longer reveals");
    send(&mut app, ch('v'));
    assert!(matches!(app.popup, Some(Popup::Confirm(_))));
    // Typing in the filter is never remapped.
    send(&mut app, press(KeyCode::Esc));
    send(&mut app, ch('/'));
    send(&mut app, ch('v'));
    assert_eq!(app.list.filter.text, "v");
}

#[test]
fn typing_a_create_count_replaces_the_default() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('c'));
    type_text(&mut app, "200");
    send(&mut app, press(KeyCode::Enter));
    let Some(Popup::Confirm(confirm)) = &app.popup else { panic!("{:?}", app.popup) };
    assert_eq!(confirm.pending, Pending::Create { count: 200 });
}

#[test]
fn a_typed_name_arms_the_named_button_and_enter_confirms() {
    let mut app = console(dynamo("production", true), rows(1..=3), false);
    send(&mut app, ch('r'));
    // Before the name matches, no key reaches the confirm button.
    for key in [KeyCode::Right, KeyCode::Tab, KeyCode::Left] {
        send(&mut app, press(key));
        let Some(Popup::Confirm(confirm)) = &app.popup else { panic!("{:?}", app.popup) };
        assert_eq!(confirm.focus, Button::Cancel, "{key:?}");
    }
    send(&mut app, press(KeyCode::Enter));
    assert!(matches!(app.popup, Some(Popup::Confirm(_))), "Enter before the name does not cancel");
    assert_eq!(
        app.status.as_ref().unwrap().text,
        "type `production` to enable Reveal, or press Esc to cancel"
    );
    type_text(&mut app, "production");
    let Some(Popup::Confirm(confirm)) = &app.popup else { panic!("{:?}", app.popup) };
    assert_eq!((confirm.focus, confirm.label()), (Button::Confirm, "Reveal"));
    send(&mut app, press(KeyCode::Enter));
    assert!(matches!(app.effects.as_slice(), [Effect::Reveal { purpose: RevealPurpose::Show, .. }]));
}

#[test]
fn esc_and_q_go_back_and_q_quits_only_from_the_list() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, press(KeyCode::Enter));
    send(&mut app, ch('q'));
    assert!(matches!(app.screen, Screen::List) && !app.quit, "q leaves the details screen, not the app");
    send(&mut app, ch('?'));
    send(&mut app, ch('q'));
    assert!(app.popup.is_none() && !app.quit, "q closes help");
    send(&mut app, ch('e'));
    send(&mut app, ch('q'));
    assert!(app.popup.is_none() && !app.quit, "q closes the environment picker");
    // In a text field, q is a letter.
    send(&mut app, ch('s'));
    send(&mut app, ch('q'));
    assert!(matches!(&app.popup, Some(Popup::SignPrompt { input, .. }) if input.text == "q"));
    send(&mut app, press(KeyCode::Esc));
    send(&mut app, ch('q'));
    assert!(app.quit);
}

#[test]
fn ctrl_c_quits_from_anywhere_and_asks_while_work_runs() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('s'));
    send(&mut app, ctrl('c'));
    assert!(app.quit);

    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('a'));
    send(&mut app, ctrl('c'));
    assert!(!app.quit);
    assert!(matches!(&app.popup, Some(Popup::Confirm(c)) if c.pending == Pending::Quit));
}

#[test]
fn ctrl_d_and_ctrl_u_move_half_a_page_each() {
    let mut app = console(local(), rows(1..=60), false);
    let half = app.list.viewport / 2;
    send(&mut app, ctrl('d'));
    send(&mut app, ctrl('d'));
    assert_eq!(app.list.selected, 2 * half);
    send(&mut app, ctrl('u'));
    assert_eq!(app.list.selected, half);
    send(&mut app, press(KeyCode::PageDown));
    assert_eq!(app.list.selected, half + app.list.viewport);
}

#[test]
fn help_scrolls_and_closes() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('?'));
    send(&mut app, ch('j'));
    send(&mut app, ch('j'));
    assert!(matches!(app.popup, Some(Popup::Help { scroll: 2 })));
    send(&mut app, ch('k'));
    assert!(matches!(app.popup, Some(Popup::Help { scroll: 1 })));
    send(&mut app, press(KeyCode::Esc));
    assert!(app.popup.is_none());
}

#[test]
fn e_picks_an_environment_from_the_list() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('e'));
    // Sorted by name: local (current), production, staging.
    assert!(matches!(app.popup, Some(Popup::EnvPicker { selected: 0 })));
    send(&mut app, ch('j'));
    send(&mut app, ch('j'));
    send(&mut app, ch('j'));
    assert!(matches!(app.popup, Some(Popup::EnvPicker { selected: 2 })), "clamped at the last");
    send(&mut app, press(KeyCode::Enter));
    assert_eq!(app.env.name, "staging");
    assert!(app.popup.is_none());
}

#[test]
fn tab_shows_the_candidates_and_up_recalls_history() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch(':'));
    type_text(&mut app, "env ");
    send(&mut app, press(KeyCode::Tab));
    let Some(Popup::Command(line)) = &app.popup else { panic!("{:?}", app.popup) };
    assert_eq!(line.candidates, ["local", "production", "staging"]);
    type_text(&mut app, "s");
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    assert_eq!(app.env.name, "staging");

    send(&mut app, ch(':'));
    type_text(&mut app, "audit");
    send(&mut app, press(KeyCode::Enter));
    app.popup = None;
    send(&mut app, ch(':'));
    send(&mut app, press(KeyCode::Up));
    assert!(matches!(&app.popup, Some(Popup::Command(l)) if l.input.text == "audit"));
    send(&mut app, press(KeyCode::Up));
    assert!(matches!(&app.popup, Some(Popup::Command(l)) if l.input.text == "env staging"));
    send(&mut app, press(KeyCode::Down));
    send(&mut app, press(KeyCode::Down));
    assert!(matches!(&app.popup, Some(Popup::Command(l)) if l.input.text.is_empty()));
}

#[test]
fn the_create_result_scrolls_and_y_copies_the_selected_address() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch(':'));
    type_text(&mut app, "create 200");
    send(&mut app, press(KeyCode::Enter));
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    let generation = app.generation;
    let made: Vec<String> = (1..=200).map(|n| format!("0x{n:040x}")).collect();
    for address in &made {
        send(&mut app, Action::Created { generation, address: address.clone() });
    }
    send(&mut app, Action::CreateFinished { generation, error: None });
    assert!(matches!(app.popup, Some(Popup::Create)));
    assert_eq!(app.create.as_ref().unwrap().selected, 199, "the cursor followed the newest");
    send(&mut app, ch('g'));
    send(&mut app, ch('j'));
    app.effects.clear();
    send(&mut app, ch('y'));
    assert!(
        matches!(app.effects.as_slice(), [Effect::CopyText { text, what: "address" }] if *text == made[1])
    );
}

#[test]
fn quitting_during_a_create_lets_the_writes_in_flight_finish_then_says_how_many() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch(':'));
    type_text(&mut app, "create 10000");
    send(&mut app, press(KeyCode::Enter));
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    let generation = app.generation;
    send(&mut app, Action::Created { generation, address: account(9).address });
    app.effects.clear();
    send(&mut app, press(KeyCode::Esc));
    send(&mut app, ch('q'));
    assert!(matches!(&app.popup, Some(Popup::Confirm(c)) if c.pending == Pending::Quit), "asks first");
    send(&mut app, press(KeyCode::Tab));
    send(&mut app, press(KeyCode::Enter));
    assert!(matches!(app.effects.as_slice(), [Effect::StopCreate]));
    assert!(!app.quit, "not before the writes in flight are in");
    assert!(matches!(app.popup, Some(Popup::Quitting)));
    send(&mut app, Action::Created { generation, address: account(10).address });
    send(&mut app, Action::CreateFinished { generation, error: None });
    assert!(app.quit);
    assert_eq!(
        app.exit_message.as_deref(),
        Some(
            "quit during a create: 2 of 10000 accounts were created in local; see them with `rossignol --env local list`"
        )
    );
}

#[test]
fn enter_on_an_audit_without_findings_says_so() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('a'));
    let generation = app.generation;
    let report = rossignol_core::audit::AuditReport { checked: 3, ok: 3, ..Default::default() };
    send(&mut app, Action::AuditFinished { generation, result: Ok(report) });
    send(&mut app, press(KeyCode::Enter));
    assert_eq!(app.status.as_ref().unwrap().text, "there are no findings to open: every record checked out");
}

#[test]
fn r_says_it_reloads_and_then_what_it_found() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, ch('R'));
    assert_eq!(app.status.as_ref().unwrap().text, "reloading the list…");
    let generation = app.generation;
    send(&mut app, Action::Page { generation, result: Ok((rows(1..=4), None)) });
    assert_eq!(app.status.as_ref().unwrap().text, "reloaded: 4 accounts");
}

#[test]
fn a_new_key_clears_a_stale_status() {
    let mut app = console(local(), rows(1..=3), false);
    let generation = app.generation;
    send(&mut app, Action::Exported { generation, address: account(1).address, result: Ok("a.json".into()) });
    assert!(app.status.is_some());
    send(&mut app, ch('j'));
    assert!(app.status.is_none(), "nothing stale under what comes next");
}

/// Row `n` of a large synthetic table, in address order.
fn big_row(n: usize) -> rossignol_console::tui::app::model::Row {
    let mut view = account(1);
    view.address = format!("0x{n:040x}");
    rossignol_console::tui::app::model::Row::Account(view)
}

fn big_page(page: usize) -> Vec<rossignol_console::tui::app::model::Row> {
    (page * 100..page * 100 + 100).map(big_row).collect()
}

fn cursor_after(page: usize) -> rossignol_core::store::Cursor {
    rossignol_core::store::Cursor(format!("0x{:040x}", page * 100 + 99))
}

#[test]
fn browsing_a_large_table_keeps_a_bounded_window_and_reads_pages_again() {
    use rossignol_console::tui::app::list::{PAGE_SIZE, WINDOW_PAGES};
    const PAGES: usize = 60;
    let mut app = console(local(), big_page(0), true);
    let generation = app.generation;
    // The console asked for the first page as it connected; answer that one in the helper.
    send(&mut app, ch('G'));
    for page in 1..PAGES {
        let asked: Vec<_> = app.effects.drain(..).collect();
        assert!(
            matches!(asked.as_slice(), [Effect::LoadPage { after: Some(c) }] if *c == cursor_after(page - 1)),
            "page {page}: {asked:?}"
        );
        let next = (page + 1 < PAGES).then(|| cursor_after(page));
        send(&mut app, Action::Page { generation, result: Ok((big_page(page), next)) });
        assert!(
            app.list.rows.len() <= WINDOW_PAGES * PAGE_SIZE,
            "page {page}: {} rows held",
            app.list.rows.len()
        );
    }
    assert_eq!(app.list.read, PAGES * 100);
    assert_eq!(app.list.selected, PAGES * 100 - 1);
    assert_eq!(app.list.selected_row().unwrap().address(), format!("0x{:040x}", PAGES * 100 - 1));
    app.effects.clear();

    // Back to the top: the first page is read again from its saved cursor.
    send(&mut app, ch('g'));
    assert!(matches!(app.effects.as_slice(), [Effect::LoadPage { after: None }]), "{:?}", app.effects);
    assert!(app.list.selected_row().is_none(), "not in memory until read again");
    app.effects.clear();
    send(&mut app, Action::Page { generation, result: Ok((big_page(0), Some(cursor_after(0)))) });
    assert_eq!(app.list.selected_row().unwrap().address(), format!("0x{:040x}", 0));
    assert_eq!(app.list.read, PAGES * 100, "reading again reads nothing new");

    // Down past the first page: the second is read again from the first's cursor.
    for _ in 0..100 {
        send(&mut app, ch('j'));
    }
    assert!(
        app.effects.iter().any(|e| matches!(e, Effect::LoadPage { after: Some(c) } if *c == cursor_after(0)))
    );
    send(&mut app, Action::Page { generation, result: Ok((big_page(1), Some(cursor_after(1)))) });
    assert_eq!(app.list.selected_row().unwrap().address(), format!("0x{:040x}", 100));
}

#[test]
fn a_filter_over_a_table_not_all_read_searches_the_whole_table() {
    let mut app = console(local(), big_page(0), true);
    let generation = app.generation;
    app.effects.clear();
    send(&mut app, ch('/'));
    type_text(&mut app, "AB");
    let searches: Vec<&str> = app
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Search { needle } => Some(needle.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(searches, ["a", "ab"], "lower case, one search per change");
    // A stale search's matches are dropped; the current one's kept, sorted.
    send(
        &mut app,
        Action::SearchFound { generation, needle: "a".into(), scanned: 1000, rows: vec![big_row(0xa)] },
    );
    send(
        &mut app,
        Action::SearchFound {
            generation,
            needle: "ab".into(),
            scanned: 1000,
            rows: vec![big_row(0xab1), big_row(0xab0)],
        },
    );
    let shown: Vec<&str> = app.list.visible().iter().map(|r| r.address()).collect();
    assert_eq!(shown, [format!("0x{:040x}", 0xab0), format!("0x{:040x}", 0xab1)]);
    send(&mut app, Action::SearchDone { generation, needle: "ab".into(), error: None });
    let search = app.list.search.as_ref().unwrap();
    assert!(search.done && search.scanned == 1000);
    app.effects.clear();
    send(&mut app, press(KeyCode::Esc));
    assert!(matches!(app.effects.as_slice(), [Effect::CancelSearch, ..]), "{:?}", app.effects);
    assert!(app.list.search.is_none());
    assert_eq!(app.list.selected_row().unwrap().address(), format!("0x{:040x}", 0));
}
