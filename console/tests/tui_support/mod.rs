//! Fixed environments, accounts and a headless console for the TUI tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{TimeZone as _, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rossignol_console::tui::app::model::{AccountView, RevealPurpose, Row, Secret};
use rossignol_console::tui::app::{Action, App, update};
use rossignol_console::tui::ui;
use rossignol_core::PrivateKey;
use rossignol_core::config::{AwsSpec, Environment, ProviderSpec, SealSpec, StoreSpec};
use rossignol_core::store::record::format_public_key;

pub fn local() -> Environment {
    Environment {
        name: "local".into(),
        table: "rossignol_local".into(),
        store: StoreSpec::Embedded { path: PathBuf::from("/srv/rossignol/local.redb") },
        seal: SealSpec::Local { key_file: PathBuf::from("/srv/rossignol/local.key") },
        also_open: Vec::new(),
        kms: None,
        read_only: false,
        policy: Default::default(),
    }
}

pub fn dynamo(name: &str, read_only: bool) -> Environment {
    Environment {
        name: name.into(),
        table: format!("rossignol_{name}"),
        store: StoreSpec::Dynamodb {
            aws: AwsSpec {
                region: Some("eu-central-1".into()),
                profile: Some("ops".into()),
                endpoint_url: None,
                kms_endpoint_url: None,
                sts_endpoint_url: None,
            },
            sse_kms_key_id: None,
            access_table: format!("rossignol_{name}_access"),
        },
        seal: SealSpec::Kms { key_id: format!("alias/rossignol-{name}") },
        also_open: Vec::new(),
        kms: None,
        read_only,
        policy: Default::default(),
    }
}

/// A sharded 2-of-3 environment of three embedded providers under `dir`.
pub fn vault(dir: &std::path::Path) -> Environment {
    let provider = |name: &str| ProviderSpec {
        name: name.into(),
        table: "rossignol_vault".into(),
        store: StoreSpec::Embedded { path: dir.join(format!("{name}.redb")) },
        seal: SealSpec::Local { key_file: dir.join(format!("{name}.key")) },
        also_open: Vec::new(),
        kms: None,
    };
    Environment {
        name: "vault".into(),
        table: "vault".into(),
        store: StoreSpec::Sharded {
            threshold: 2,
            providers: vec![provider("a"), provider("b"), provider("c")],
        },
        seal: SealSpec::Shares,
        also_open: Vec::new(),
        kms: None,
        read_only: false,
        policy: Default::default(),
    }
}

pub fn environments() -> BTreeMap<String, Environment> {
    [local(), dynamo("staging", false), dynamo("production", true)]
        .into_iter()
        .map(|e| (e.name.clone(), e))
        .collect()
}

/// The key whose last byte is `n` (and the rest zero).
pub fn key(n: u8) -> PrivateKey {
    let mut bytes = [0u8; 32];
    bytes[31] = n;
    PrivateKey::from_bytes(&bytes).unwrap()
}

pub fn account(n: u8) -> AccountView {
    let key = key(n);
    AccountView {
        address: key.address().to_string(),
        scheme: "secp256k1",
        public_key: Some(format_public_key(&key.public_key_uncompressed())),
        seal: Some("local:0123456789abcdef".into()),
        created_at: Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, u32::from(n) % 60).unwrap()),
        created_by: Some("console:alice".into()),
        schema_version: 1,
        legacy: false,
        disabled: None,
        shares: Vec::new(),
    }
}

pub fn rows(range: std::ops::RangeInclusive<u8>) -> Vec<Row> {
    range.map(|n| Row::Account(account(n))).collect()
}

pub fn press(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn ch(c: char) -> Action {
    press(KeyCode::Char(c))
}

/// Applies actions the way the event loop does, follow-ups included.
pub fn send(app: &mut App, action: Action) {
    let mut next = Some(action);
    while let Some(action) = next {
        next = update(app, action);
    }
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        send(app, ch(c));
    }
}

/// A console on `env`, connected, with `rows` loaded and `more` to come.
pub fn console(env: Environment, rows: Vec<Row>, more: bool) -> App {
    let mut app = App::new(environments(), env, Instant::now());
    send(&mut app, Action::Resize { height: 30 });
    let generation = app.generation;
    send(&mut app, Action::Connected { generation, result: Ok(()) });
    send(
        &mut app,
        Action::Described { generation, result: Ok(Some(rows.len() as u64 + if more { 100 } else { 0 })) },
    );
    let next = more.then(|| rossignol_core::store::Cursor(rows.last().unwrap().address().to_lowercase()));
    send(&mut app, Action::Page { generation, result: Ok((rows, next)) });
    app.effects.clear();
    app
}

pub fn render(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal.draw(|frame| ui::draw(frame, app)).unwrap();
    terminal
}

/// The worker's answer to a reveal of account 1, for the current connection.
pub fn answer_reveal(app: &mut App, purpose: RevealPurpose, result: Result<Secret, String>) {
    let generation = app.generation;
    send(app, Action::Revealed { generation, address: account(1).address, purpose, result });
}

/// The two sizes every view is checked at: a small terminal and a large one.
pub const SIZES: [(u16, u16); 2] = [(80, 24), (160, 45)];

/// Resizes the console to `width` x `height` and draws it.
pub fn render_at(app: &mut App, width: u16, height: u16) -> Terminal<TestBackend> {
    send(app, Action::Resize { height });
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::draw(frame, app)).unwrap();
    terminal
}

/// The screen's text, one string per row.
pub fn screen_text(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| (0..buffer.area.width).map(|x| buffer[(x, y)].symbol().to_owned()).collect::<String>())
        .collect()
}
