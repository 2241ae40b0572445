//! Every view at 80x24 and at 160x45: its own footer, nothing cut off
//! silently, and the snapshots to see it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tui_support;

use ratatui::crossterm::event::KeyCode;
use rossignol_console::tui::app::Action;
use rossignol_console::tui::app::App;
use rossignol_console::tui::app::model::{AccountView, Row, TrailEntry};
use rossignol_core::config::Environment;
use tui_support::*;

/// Snapshots `app` at both sizes, and returns the screens' text.
fn both(name: &str, app: &mut App) -> Vec<Vec<String>> {
    SIZES
        .iter()
        .map(|&(w, h)| {
            let terminal = render_at(app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
            screen_text(&terminal)
        })
        .collect()
}

fn footer(screen: &[String]) -> &str {
    screen.last().unwrap()
}

fn flagged_rows() -> Vec<Row> {
    let mut rows = rows(1..=6);
    if let Row::Account(view) = &mut rows[1] {
        view.disabled = Some("since 2026-11-24 12:00:00 UTC by console:ops".into());
    }
    if let Row::Account(view) = &mut rows[2] {
        view.legacy = true;
        view.seal = None;
        view.created_by = Some("rossignol-cli:a-very-long-operator-name@example.org".into());
    }
    rows
}

fn with_endpoint(mut env: Environment) -> Environment {
    if let rossignol_core::config::StoreSpec::Dynamodb { aws, .. } = &mut env.store {
        aws.endpoint_url = Some("http://127.0.0.1:8000/a/long/path/to/the/endpoint".into());
    }
    env
}

#[test]
fn the_list_shows_whole_flags_and_a_footer_that_fits() {
    let mut app = console(with_endpoint(dynamo("staging", false)), flagged_rows(), true);
    let screens = both("list", &mut app);
    for screen in &screens {
        let text = screen.join("\n");
        assert!(text.contains("disabled") && text.contains("legacy"), "{text}");
        assert!(footer(screen).contains("quit") && footer(screen).contains("help"), "{}", footer(screen));
        // Cut, it says so: the header line and created_by end in `…`.
        assert!(!text.contains("a-very-long-operator-name@example.org ") || screen[0].len() > 150);
    }
    let small = screens[0].join("\n");
    assert!(small.contains('…'), "the small header is cut visibly:\n{small}");
    let large = screens[1].join("\n");
    assert!(large.contains("endpoint http://127.0.0.1:8000/a/long/path/to/the/endpoint"), "{large}");
}

#[test]
fn details_show_the_whole_public_key_and_their_own_keys() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, KeyCode::Enter.into_action());
    let generation = app.generation;
    let trail = vec![TrailEntry {
        at: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        action: "console-reveal".into(),
        request_id: "00112233aabbccdd".into(),
        who: "console:alice".into(),
    }];
    send(
        &mut app,
        Action::Opened {
            generation,
            address: account(1).address,
            record: Ok(Row::Account(account(1))),
            trail: Ok(trail),
        },
    );
    let public_key = account(1).public_key.unwrap();
    for screen in both("details", &mut app) {
        // The key's pieces, in order, make the whole key.
        let joined: String = screen
            .iter()
            .filter_map(|line| {
                let body = line.trim_start_matches('│').trim_end_matches('│').trim_end();
                let value = body
                    .strip_prefix("public_key")
                    .or_else(|| (body.starts_with("   ") && !body.trim().is_empty()).then_some(body))?;
                Some(value.trim().to_owned())
            })
            .collect();
        assert!(joined.starts_with(&public_key), "{joined}\n{public_key}");
        let footer = footer(&screen);
        for word in ["reveal", "sign", "back"] {
            assert!(footer.contains(word), "{footer}");
        }
        assert!(!footer.contains("create"), "the list's keys are not the details' keys: {footer}");
    }
}

#[test]
fn details_show_each_providers_share_and_which_did_not_answer() {
    use rossignol_console::tui::app::model::ShareLine;
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, KeyCode::Enter.into_action());
    let generation = app.generation;
    let line = |text: &str, answered| ShareLine { text: text.into(), answered };
    let view = AccountView {
        seal: Some("sharded 2-of-3".into()),
        shares: vec![
            line("aws: share 1, epoch 1, kms:alias/rossignol-vault", true),
            line("pg: did not answer (PostgreSQL at db:5432 is unavailable)", false),
            line("offline: share 3, epoch 1, local:0123456789abcdef", true),
        ],
        ..account(1)
    };
    send(
        &mut app,
        Action::Opened {
            generation,
            address: view.address.clone(),
            record: Ok(Row::Account(view)),
            trail: Ok(Vec::new()),
        },
    );
    let text = screen_text(&render_at(&mut app, 120, 40)).join("\n");
    for expected in
        ["sharded 2-of-3", "shares", "aws: share 1, epoch 1", "pg: did not answer", "offline: share 3"]
    {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
}

#[test]
fn help_scrolls_to_its_last_line_at_80x24() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, tui_support::ch('?'));
    let top = screen_text(&render_at(&mut app, 80, 24)).join("\n");
    assert!(!top.contains("In text fields"), "too tall for 80x24: the end is below");
    assert!(top.contains("j/k scroll"), "and it says how to get there:\n{top}");
    send(&mut app, tui_support::ch('G'));
    both("help_end", &mut app);
    let end = screen_text(&render_at(&mut app, 80, 24)).join("\n");
    assert!(end.contains("In dialogs") && end.contains("In text fields"), "{end}");
}

#[test]
fn the_environment_picker_lists_each_with_its_store_region_and_flag() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, tui_support::ch('e'));
    for screen in both("env_picker", &mut app) {
        let text = screen.join("\n");
        for expected in ["local (current)", "embedded", "production", "eu-central-1", "read-only", "staging"]
        {
            assert!(text.contains(expected), "{expected}:\n{text}");
        }
        assert!(footer(&screen).contains("switch"), "{}", footer(&screen));
    }
}

#[test]
fn the_sign_confirmation_previews_the_transaction() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, tui_support::ch('s'));
    type_text(&mut app, "@tx.json");
    send(&mut app, KeyCode::Enter.into_action());
    let tx = rossignol_core::sign::Transaction::from_json(
        &serde_json::json!({
            "chainId": 1, "nonce": 7, "to": account(2).address, "value": "1500000000000000000",
            "gas": 21000, "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000"
        }),
        None,
    )
    .unwrap();
    send(
        &mut app,
        Action::TransactionRead {
            address: account(1).address,
            path: "tx.json".into(),
            result: Ok(rossignol_core::sign::Payload::Transaction(Box::new(tx))),
        },
    );
    for screen in both("sign_preview", &mut app) {
        let text = screen.join("\n");
        for expected in
            ["EIP-1559 (type 2)", "1 (Ethereum mainnet)", &account(2).address, "1.5 ETH", "nonce", "30 gwei"]
        {
            assert!(text.contains(expected), "{expected}:\n{text}");
        }
    }
}

#[test]
fn a_typed_name_confirmation_names_its_button() {
    let mut app = console(dynamo("production", true), rows(1..=3), false);
    send(&mut app, tui_support::ch('r'));
    for screen in both("typed_name_confirmation", &mut app) {
        let text = screen.join("\n");
        assert!(text.contains("(production) to enable Reveal:") && text.contains(" Reveal "), "{text}");
        assert!(footer(&screen).contains("type"), "{}", footer(&screen));
    }
}

#[test]
fn the_create_prompt_shows_its_default_selected_and_its_keys() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, tui_support::ch('c'));
    for screen in both("create_prompt_default", &mut app) {
        assert!(
            footer(&screen).contains("edit") && footer(&screen).contains("cancel"),
            "{}",
            footer(&screen)
        );
    }
}

#[test]
fn the_create_result_lists_every_address_scrolled_to_the_cursor() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, tui_support::ch(':'));
    type_text(&mut app, "create 200");
    send(&mut app, KeyCode::Enter.into_action());
    send(&mut app, KeyCode::Tab.into_action());
    send(&mut app, KeyCode::Enter.into_action());
    let generation = app.generation;
    for n in 1..=200u32 {
        send(&mut app, Action::Created { generation, address: format!("0x{n:040x}") });
    }
    send(&mut app, Action::CreateFinished { generation, error: None });
    send(&mut app, tui_support::ch('g'));
    for _ in 0..30 {
        send(&mut app, tui_support::ch('j'));
    }
    for screen in both("create_result", &mut app) {
        let text = screen.join("\n");
        assert!(text.contains(&format!("0x{:040x}", 31)), "the cursor's address is in view:\n{text}");
        assert!(footer(&screen).contains("copy"), "{}", footer(&screen));
    }
}

#[test]
fn the_command_line_shows_tab_candidates() {
    let mut app = console(local(), rows(1..=3), false);
    send(&mut app, tui_support::ch(':'));
    type_text(&mut app, "env ");
    send(&mut app, KeyCode::Tab.into_action());
    for screen in both("command_candidates", &mut app) {
        let text = screen.join("\n");
        assert!(text.contains("local  production  staging"), "{text}");
    }
}

/// `KeyCode::Enter.into_action()`, for reading.
trait IntoAction {
    fn into_action(self) -> Action;
}

impl IntoAction for KeyCode {
    fn into_action(self) -> Action {
        press(self)
    }
}

/// One view per item of the console issue that the tests above do not
/// draw: how it is reached, and what must show at both sizes.
struct Scenario {
    name: &'static str,
    setup: fn(&mut App),
    shows: &'static [&'static str],
}

fn disabled_first() -> Vec<Row> {
    let mut rows = rows(1..=3);
    if let Row::Account(view) = &mut rows[0] {
        view.disabled = Some("since 2026-11-24 12:00:00 UTC by console:ops".into());
    }
    rows
}

const SCENARIOS: &[Scenario] = &[
    // 1: the typed count replaced the default.
    Scenario {
        name: "create_count_typed",
        setup: |app| {
            send(app, tui_support::ch('c'));
            type_text(app, "200");
        },
        shows: &["> 200▏", "Enter continue"],
    },
    // 3: odd-length hex refused before any confirmation, in the status line.
    Scenario {
        name: "odd_hex_refused",
        setup: |app| {
            send(app, tui_support::ch('s'));
            type_text(app, "0xabc");
            send(app, KeyCode::Enter.into_action());
        },
        shows: &["hex of odd length", "nothing was signed", "Esc cancel"],
    },
    // 3: a taken export path refused before the passphrase.
    Scenario {
        name: "export_path_taken",
        setup: |app| {
            let address = account(1).address;
            send(app, tui_support::ch('x'));
            send(app, Action::ExportPathProposed { address: address.clone(), path: "taken.json".into() });
            send(app, KeyCode::Enter.into_action());
            let refusal =
                "taken.json already exists; nothing was overwritten. Choose another file".to_owned();
            send(app, Action::ExportPathChecked { address, path: "taken.json".into(), result: Err(refusal) });
        },
        shows: &["already exists", "Write the encrypted keystore", "Esc cancel"],
    },
    // 5: the status says what y copied.
    Scenario {
        name: "copied_signature_status",
        setup: |app| {
            send(app, Action::Copied { what: "signature", result: Ok(()) });
        },
        shows: &["copied the signature to the clipboard"],
    },
    // 7: quitting while work runs asks first; its footer has its own keys.
    Scenario {
        name: "quit_while_auditing",
        setup: |app| {
            send(app, tui_support::ch('a'));
            send(app, tui_support::ctrl('c'));
        },
        shows: &["Quit anyway?", "Esc cancel"],
    },
    // 12: quitting during a create waits for the writes in flight.
    Scenario {
        name: "quitting_during_create",
        setup: |app| {
            send(app, tui_support::ch(':'));
            type_text(app, "create 10000");
            send(app, KeyCode::Enter.into_action());
            send(app, KeyCode::Tab.into_action());
            send(app, KeyCode::Enter.into_action());
            let generation = app.generation;
            send(app, Action::Created { generation, address: account(9).address });
            send(app, KeyCode::Esc.into_action());
            send(app, tui_support::ch('q'));
            send(app, KeyCode::Tab.into_action());
            send(app, KeyCode::Enter.into_action());
        },
        shows: &["Finishing the writes in flight", "1 of 10000 created", "please wait"],
    },
    // 13: Enter on an audit without findings.
    Scenario {
        name: "audit_without_findings",
        setup: |app| {
            send(app, tui_support::ch('a'));
            let generation = app.generation;
            let report = rossignol_core::audit::AuditReport { checked: 3, ok: 3, ..Default::default() };
            send(app, Action::AuditFinished { generation, result: Ok(report) });
            send(app, KeyCode::Enter.into_action());
        },
        shows: &["there are no findings to open", "Esc close"],
    },
    // 14: a search of a table not all read, with its progress.
    Scenario {
        name: "search_progress",
        setup: |app| {
            send(app, tui_support::ch('/'));
            type_text(app, "7e5f");
            let generation = app.generation;
            let rows = vec![Row::Account(account(1))];
            send(app, Action::SearchFound { generation, needle: "7e5f".into(), scanned: 12_345, rows });
        },
        shows: &["searching… 12345 read, 1 match so far", "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"],
    },
];

#[test]
fn each_view_of_the_issue_at_both_sizes() {
    for scenario in SCENARIOS {
        let mut app = console(local(), rows(1..=3), scenario.name == "search_progress");
        (scenario.setup)(&mut app);
        for screen in both(scenario.name, &mut app) {
            let text = screen.join("\n");
            for expected in scenario.shows {
                assert!(text.contains(expected), "{}: {expected:?} missing:\n{text}", scenario.name);
            }
        }
    }
}

#[test]
fn a_disabled_account_is_refused_on_screen_pointing_to_d() {
    let mut app = console(local(), disabled_first(), false);
    send(&mut app, tui_support::ch('r'));
    for screen in both("disabled_refused", &mut app) {
        let text = screen.join("\n");
        assert!(text.contains("press D to enable it first"), "{text}");
    }
}
