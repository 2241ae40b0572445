//! The console's state and the one place it changes: `update(&mut App,
//! Action)`. No drawing, no I/O: store work is asked for by pushing an
//! [`Effect`], which the worker carries out and answers with an action.

pub mod dialogs;
pub mod field;
mod input;
pub mod jobs;
pub mod list;
pub mod model;
mod results;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::KeyEvent;
use rossignol_core::config::{Environment, StoreSpec};
use rossignol_core::store::Cursor;

use self::dialogs::{CommandLine, Confirm, Pending, Popup};
use self::jobs::{AuditJob, BulkJob, BulkRun, CreateJob};
use self::list::{FilterChange, List};
use self::model::{
    AccountView, Health, Input, ProviderHealth, RevealPurpose, Row, Secret, SecretInput, TrailEntry,
};
use crate::tui::{safety, strings};
use rossignol_core::audit::{AuditReport, Progress};
use rossignol_core::sign::Payload;

/// How long a revealed key stays on screen.
pub const REVEAL_FOR: Duration = Duration::from_secs(30);
/// How often a sharded environment's providers are asked whether they
/// answer, while the console is open.
pub const PROBE_EVERY: Duration = Duration::from_secs(30);
/// Screen rows that are not list rows: header (4), table borders and
/// column names (3), status line and footer (2).
pub const CHROME_ROWS: u16 = 9;

/// Store work for the worker. Results come back as actions.
#[derive(Debug, Clone)]
pub enum Effect {
    Connect {
        env: Box<Environment>,
        generation: u64,
    },
    Describe,
    LoadPage {
        after: Option<Cursor>,
    },
    Lookup {
        address: String,
    },
    /// Scans the whole table for addresses containing `needle`.
    Search {
        needle: String,
    },
    CancelSearch,
    Open {
        address: String,
    },
    Reveal {
        address: String,
        purpose: RevealPurpose,
    },
    Create {
        count: u64,
    },
    Audit,
    CancelAudit,
    /// Public text for the clipboard, and what it is ("address", "signature").
    CopyText {
        text: String,
        what: &'static str,
    },
    CopySecret(Secret),
    /// Reads and parses a transaction file, for the preview before signing.
    ReadTransaction {
        address: String,
        path: String,
    },
    Sign {
        address: String,
        payload: Payload,
    },
    /// Picks a file name for an export that does not exist yet.
    ProposeExportPath {
        address: String,
    },
    /// Checks that an export can be written there, before the passphrase.
    CheckExportPath {
        address: String,
        path: String,
    },
    Export {
        address: String,
        path: String,
        passphrase: SecretInput,
    },
    SetDisabled {
        address: String,
        disable: bool,
    },
    /// Ask every provider whether it answers.
    Probe,
    /// Start a migrate, repair or refresh of the whole environment.
    Bulk(BulkRun),
    CancelBulk,
    /// No new create writes; those in flight finish.
    StopCreate,
}

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Resize {
        height: u16,
    },
    Tick(Instant),
    Connected {
        generation: u64,
        result: Result<(), String>,
    },
    Described {
        generation: u64,
        result: Result<Option<u64>, String>,
    },
    Page {
        generation: u64,
        result: Result<(Vec<Row>, Option<Cursor>), String>,
    },
    LookedUp {
        generation: u64,
        address: String,
        result: Result<Option<Row>, String>,
    },
    /// Matches among `scanned` more rows read by the search for `needle`.
    SearchFound {
        generation: u64,
        needle: String,
        scanned: u64,
        rows: Vec<Row>,
    },
    SearchDone {
        generation: u64,
        needle: String,
        error: Option<String>,
    },
    Opened {
        generation: u64,
        address: String,
        record: Result<Row, String>,
        trail: Result<Vec<TrailEntry>, String>,
    },
    Revealed {
        generation: u64,
        address: String,
        purpose: RevealPurpose,
        result: Result<Secret, String>,
    },
    Created {
        generation: u64,
        address: String,
    },
    CreateFinished {
        generation: u64,
        error: Option<String>,
    },
    AuditProgress {
        generation: u64,
        progress: Progress,
    },
    AuditFinished {
        generation: u64,
        result: Result<AuditReport, String>,
    },
    Copied {
        what: &'static str,
        result: Result<(), String>,
    },
    TransactionRead {
        address: String,
        path: String,
        result: Result<Payload, String>,
    },
    ExportPathProposed {
        address: String,
        path: String,
    },
    ExportPathChecked {
        address: String,
        path: String,
        result: Result<(), String>,
    },
    Signed {
        generation: u64,
        address: String,
        /// Labelled hex values: the signature, or the raw transaction and its hash.
        result: Result<Vec<(&'static str, String)>, String>,
    },
    Exported {
        generation: u64,
        address: String,
        /// The file written.
        result: Result<String, String>,
    },
    DisabledSet {
        generation: u64,
        address: String,
        disable: bool,
        /// False when it already was so.
        result: Result<bool, String>,
    },
    /// Each provider's answer to [`Effect::Probe`], in configured order.
    Probed {
        generation: u64,
        answers: Vec<Result<(), String>>,
    },
    BulkProgress {
        generation: u64,
        progress: rossignol_core::lifecycle::Progress,
    },
    BulkFinished {
        generation: u64,
        result: Result<rossignol_core::lifecycle::Report, String>,
    },
    /// Switch to the named environment.
    SwitchEnv(String),
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Ready,
    Failed(String),
}

/// The account trail as loaded for the details screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trail {
    Loading,
    Loaded(Vec<TrailEntry>),
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Details {
    pub address: String,
    /// Opened from the audit's findings: Esc goes back to them.
    pub from_audit: bool,
    pub view: Option<AccountView>,
    pub error: Option<String>,
    pub trail: Trail,
}

#[derive(Debug, Clone)]
pub enum Screen {
    List,
    Details(Box<Details>),
}

/// A line under the list: what just happened, or what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

#[derive(Debug)]
pub struct App {
    pub env: Environment,
    pub environments: BTreeMap<String, Environment>,
    /// Bumped on every (re)connect; results of an older one are dropped.
    pub generation: u64,
    pub connection: Connection,
    pub count: Option<u64>,
    pub list: List,
    pub screen: Screen,
    pub popup: Option<Popup>,
    pub status: Option<Status>,
    pub create: Option<CreateJob>,
    pub audit: Option<AuditJob>,
    pub bulk: Option<BulkJob>,
    /// A sharded environment's providers and whether each answers; empty
    /// for a single store.
    pub providers: Vec<ProviderHealth>,
    /// When the providers were last asked.
    pub probed_at: Option<Instant>,
    pub now: Instant,
    pub quit: bool,
    /// Work for the worker, drained by the event loop.
    pub effects: Vec<Effect>,
    /// The operator's key remapping (`[keys]`).
    pub keymap: crate::tui::keys::Keymap,
    /// The operator's colour per environment (`[theme]`).
    pub colours: BTreeMap<String, ratatui::style::Color>,
    /// Command lines run with `:`, oldest first.
    pub history: Vec<String>,
    /// `R` was pressed: say so when the first page is back.
    pub reloading: bool,
    /// Quit was confirmed while a create ran: its writes in flight finish first.
    pub quitting: bool,
    /// What to print when the console closes, when the operator cut work short.
    pub exit_message: Option<String>,
}

impl App {
    /// A console on `env`; it starts by connecting.
    pub fn new(environments: BTreeMap<String, Environment>, env: Environment, now: Instant) -> Self {
        let mut app = App {
            env,
            environments,
            generation: 0,
            connection: Connection::Connecting,
            count: None,
            list: List::default(),
            screen: Screen::List,
            popup: None,
            status: None,
            create: None,
            audit: None,
            bulk: None,
            providers: Vec::new(),
            probed_at: None,
            now,
            quit: false,
            effects: Vec::new(),
            keymap: crate::tui::keys::Keymap::default(),
            colours: BTreeMap::new(),
            history: Vec::new(),
            reloading: false,
            quitting: false,
            exit_message: None,
        };
        app.connect();
        app
    }

    fn connect(&mut self) {
        self.generation += 1;
        self.connection = Connection::Connecting;
        self.count = None;
        let viewport = self.list.viewport;
        self.list = List::with_viewport(viewport);
        self.screen = Screen::List;
        self.providers = match &self.env.store {
            StoreSpec::Sharded { providers, .. } => providers
                .iter()
                .map(|p| ProviderHealth { name: p.name.clone(), health: Health::Checking })
                .collect(),
            _ => Vec::new(),
        };
        self.probed_at = None;
        self.effects.push(Effect::Connect { env: Box::new(self.env.clone()), generation: self.generation });
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: false });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: true });
    }

    /// Create, audit or a bulk run still running.
    pub fn busy(&self) -> bool {
        self.create.as_ref().is_some_and(CreateJob::running)
            || self.audit.as_ref().is_some_and(AuditJob::running)
            || self.bulk.as_ref().is_some_and(BulkJob::running)
    }

    /// Asks before a bulk run over the whole environment; shows the one
    /// running instead, if there is one.
    pub fn ask_bulk(&mut self, run: BulkRun) {
        if self.connection != Connection::Ready {
            return self.error(strings::NOT_CONNECTED);
        }
        if self.bulk.as_ref().is_some_and(BulkJob::running) {
            self.popup = Some(Popup::Bulk);
            return;
        }
        if let Some(reason) = safety::refuse_write(&self.env, run.operation().as_str()) {
            return self.refuse(reason);
        }
        if let Some(reason) = self.refuse_bulk(&run) {
            return self.error(reason);
        }
        if self.busy() {
            return self.error(strings::BUSY);
        }
        let required = safety::typed_confirmation(&self.env);
        self.popup = Some(Popup::Confirm(Confirm::new(Pending::Bulk(run), required)));
    }

    /// Why `run` makes no sense in this environment, said before asking.
    fn refuse_bulk(&self, run: &BulkRun) -> Option<String> {
        let providers = match &self.env.store {
            StoreSpec::Sharded { providers, .. } => providers,
            _ if matches!(run, BulkRun::Migrate) => return None,
            _ => return Some(strings::only_sharded(run, &self.env.name)),
        };
        match run {
            BulkRun::Migrate => Some(strings::only_whole_keys(&self.env.name)),
            BulkRun::Repair { provider } if !providers.iter().any(|p| p.name == *provider) => {
                let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
                Some(strings::unknown_provider(provider, &names))
            }
            _ => None,
        }
    }

    /// The address the current screen is about.
    pub fn focused_address(&self) -> Option<String> {
        match &self.screen {
            Screen::Details(details) => Some(details.address.clone()),
            Screen::List => self.list.selected_row().map(|r| r.address().to_owned()),
        }
    }

    fn request_page(&mut self) {
        if self.connection != Connection::Ready {
            return;
        }
        if let Some(after) = self.list.next_request() {
            self.effects.push(Effect::LoadPage { after });
        }
    }

    /// Reads the list again from the start, keeping the filter and the
    /// selected account.
    fn reload(&mut self) {
        self.list.reload();
        self.filter_changed();
        self.effects.push(Effect::Describe);
        self.probe();
        self.request_page();
    }

    /// Asks every provider of a sharded environment whether it answers.
    fn probe(&mut self) {
        if !self.providers.is_empty() && self.connection == Connection::Ready {
            self.probed_at = Some(self.now);
            self.effects.push(Effect::Probe);
        }
    }

    /// Asks the worker for what a new filter needs: a lookup or a search.
    fn filter_changed(&mut self) {
        let searching = self.list.search.is_some();
        match self.list.filter_changed() {
            FilterChange::Lookup(address) => self.effects.push(Effect::Lookup { address }),
            FilterChange::Search(needle) => self.effects.push(Effect::Search { needle }),
            FilterChange::Nothing if searching => self.effects.push(Effect::CancelSearch),
            FilterChange::Nothing => {}
        }
    }

    /// Clears the filter, stopping its search if one runs.
    fn clear_filter(&mut self) {
        if self.list.search.is_some() {
            self.effects.push(Effect::CancelSearch);
        }
        self.list.clear_filter();
    }

    /// The focused account, unless it is disabled: then the reason it is
    /// refused, pointing to `D`, before anything is asked.
    fn usable_address(&mut self, doing: &str) -> Option<String> {
        let Some(address) = self.focused_address() else {
            self.error(strings::NOTHING_SELECTED);
            return None;
        };
        if self.focused_view().is_some_and(|v| v.disabled.is_some()) {
            let key = self.keymap.label(&crate::tui::keys::TOGGLE_DISABLED);
            self.refuse(strings::disabled_refused(&address, doing, &key));
            return None;
        }
        Some(address)
    }

    /// Asks before showing or copying a key; Cancel has the focus.
    pub fn ask_reveal(&mut self, purpose: RevealPurpose) {
        let doing = match purpose {
            RevealPurpose::Show => "revealed",
            RevealPurpose::Copy => "copied",
        };
        let Some(address) = self.usable_address(doing) else { return };
        self.popup = Some(Popup::Confirm(Confirm::new(
            Pending::Reveal { address, purpose },
            safety::typed_confirmation(&self.env),
        )));
    }

    /// The focused account's view, when it is loaded.
    fn focused_view(&self) -> Option<&AccountView> {
        match &self.screen {
            Screen::Details(details) => details.view.as_ref(),
            Screen::List => self.list.selected_row().and_then(Row::account),
        }
    }

    /// Asks what to sign: a message, or `@FILE` for a transaction.
    pub fn ask_sign(&mut self) {
        let Some(address) = self.usable_address("signed with") else { return };
        self.popup = Some(Popup::SignPrompt { address, input: Input::default(), reading: false });
    }

    /// Asks where to export (a file that does not exist yet is proposed),
    /// then for the passphrase twice.
    pub fn ask_export(&mut self) {
        let Some(address) = self.usable_address("exported") else { return };
        if self.focused_view().is_some_and(|v| v.scheme != "secp256k1") {
            return self.refuse(strings::EXPORT_SECP256K1_ONLY.to_owned());
        }
        self.effects.push(Effect::ProposeExportPath { address });
    }

    /// A confirmation for `pending`, with the environment's name to type
    /// first where the environment asks for it.
    pub fn ask_confirm(&mut self, pending: Pending) {
        self.popup = Some(Popup::Confirm(Confirm::new(pending, safety::typed_confirmation(&self.env))));
    }

    /// The environment picker, on the current environment.
    pub fn ask_env(&mut self) {
        let selected = self.environments.keys().position(|n| *n == self.env.name).unwrap_or(0);
        self.popup = Some(Popup::EnvPicker { selected });
    }

    /// The command line, with its history.
    pub fn ask_command(&mut self) {
        self.popup = Some(Popup::Command(CommandLine::default()));
    }

    /// Disables the focused account, or enables it if it is disabled.
    pub fn ask_toggle_disabled(&mut self) {
        let Some(view) = self.focused_view() else {
            return self.error(strings::NOTHING_SELECTED);
        };
        let disable = view.disabled.is_none();
        let action = if disable { "disable" } else { "enable" };
        if let Some(reason) = safety::refuse_write(&self.env, action) {
            return self.refuse(reason);
        }
        let pending = Pending::SetDisabled { address: view.address.clone(), disable };
        self.popup = Some(Popup::Confirm(Confirm::new(pending, safety::typed_confirmation(&self.env))));
    }

    /// A refused action: a dialog, so that the reason can be read whole.
    pub fn refuse(&mut self, reason: String) {
        self.error(reason.clone());
        self.popup = Some(Popup::Error { title: strings::REFUSED, message: reason });
    }

    pub fn ask_create(&mut self) {
        if let Some(reason) = safety::refuse_write(&self.env, "create") {
            return self.refuse(reason);
        }
        if self.create.as_ref().is_some_and(CreateJob::running) {
            self.popup = Some(Popup::Create);
            return;
        }
        if self.busy() {
            return self.error(strings::BUSY);
        }
        self.popup = Some(Popup::CreatePrompt(model::Input::prefilled("1")));
    }

    pub fn start_audit(&mut self) {
        if self.connection != Connection::Ready {
            return self.error(strings::NOT_CONNECTED);
        }
        if self.audit.as_ref().is_some_and(AuditJob::running) {
            self.popup = Some(Popup::Audit);
            return;
        }
        self.audit = Some(AuditJob::new(self.count));
        self.popup = Some(Popup::Audit);
        self.effects.push(Effect::Audit);
    }

    pub fn open_details(&mut self, address: String) {
        let view =
            self.list.visible().into_iter().find(|r| r.address() == address).and_then(Row::account).cloned();
        self.screen = Screen::Details(Box::new(Details {
            address: address.clone(),
            from_audit: false,
            view,
            error: None,
            trail: Trail::Loading,
        }));
        self.effects.push(Effect::Open { address });
    }

    fn copy_address(&mut self) {
        match self.focused_address() {
            Some(text) => self.effects.push(Effect::CopyText { text, what: "address" }),
            None => self.error(strings::NOTHING_SELECTED),
        }
    }

    /// Back from the details screen to the list (or the audit it came from).
    fn back_to_list(&mut self) {
        if let Screen::Details(details) = &self.screen
            && details.from_audit
            && self.audit.is_some()
        {
            self.popup = Some(Popup::Audit);
        }
        self.screen = Screen::List;
    }

    pub fn ask_quit(&mut self) {
        if self.quitting {
            return;
        }
        if self.busy() {
            self.popup = Some(Popup::Confirm(Confirm::new(Pending::Quit, None)));
        } else {
            self.quit = true;
        }
    }

    pub fn switch_env(&mut self, name: &str) {
        let Some(env) = self.environments.get(name).cloned() else {
            let known: Vec<&str> = self.environments.keys().map(String::as_str).collect();
            return self.error(strings::unknown_env(name, &known));
        };
        if self.busy() {
            return self.error(strings::BUSY);
        }
        self.popup = None;
        self.env = env;
        self.create = None;
        self.audit = None;
        self.bulk = None;
        self.connect();
        self.info(strings::switching(name));
    }

    /// A confirmed destructive or sensitive action.
    pub fn confirmed(&mut self, pending: Pending) {
        self.popup = None;
        match pending {
            Pending::Reveal { address, purpose } => {
                self.popup = Some(Popup::Revealing { address: address.clone() });
                self.effects.push(Effect::Reveal { address, purpose });
            }
            Pending::Create { count } => {
                if let Some(reason) = safety::refuse_write(&self.env, "create") {
                    return self.refuse(reason);
                }
                self.create = Some(CreateJob::new(count, self.now));
                self.popup = Some(Popup::Create);
                self.effects.push(Effect::Create { count });
            }
            Pending::Sign { address, payload } => {
                self.popup = Some(Popup::Working { title: strings::SIGN_TITLE, address: address.clone() });
                self.effects.push(Effect::Sign { address, payload });
            }
            Pending::Export { address, path, passphrase } => {
                self.popup = Some(Popup::Working { title: strings::EXPORT_TITLE, address: address.clone() });
                self.effects.push(Effect::Export { address, path, passphrase });
            }
            Pending::SetDisabled { address, disable } => {
                let action = if disable { "disable" } else { "enable" };
                if let Some(reason) = safety::refuse_write(&self.env, action) {
                    return self.refuse(reason);
                }
                self.effects.push(Effect::SetDisabled { address, disable });
            }
            Pending::Bulk(run) => {
                if let Some(reason) = safety::refuse_write(&self.env, run.operation().as_str()) {
                    return self.refuse(reason);
                }
                // A migrate scans one table, whose size is known; repair and
                // refresh go over every provider's.
                let total = matches!(run, BulkRun::Migrate).then_some(self.count).flatten();
                self.bulk = Some(BulkJob::new(run.clone(), total));
                self.popup = Some(Popup::Bulk);
                self.effects.push(Effect::Bulk(run));
            }
            Pending::Quit => {
                if self.bulk.as_ref().is_some_and(BulkJob::running) {
                    self.effects.push(Effect::CancelBulk);
                }
                if self.audit.as_ref().is_some_and(AuditJob::running) {
                    self.effects.push(Effect::CancelAudit);
                }
                if self.create.as_ref().is_some_and(CreateJob::running) {
                    // The writes in flight finish; CreateFinished then quits.
                    self.effects.push(Effect::StopCreate);
                    self.quitting = true;
                    self.popup = Some(Popup::Quitting);
                } else {
                    self.quit = true;
                }
            }
        }
    }
}

/// Applies one action. Returns a follow-up action, if any.
pub fn update(app: &mut App, action: Action) -> Option<Action> {
    match action {
        Action::Key(key) => {
            // A status tells what the last key did; a new key starts afresh.
            app.status = None;
            return input::on_key(app, key);
        }
        Action::Resize { height } => {
            app.list.viewport = usize::from(height.saturating_sub(CHROME_ROWS).max(1));
            app.list.scroll();
        }
        Action::Tick(now) => {
            app.now = now;
            if app.probed_at.is_some_and(|at| now.duration_since(at) >= PROBE_EVERY) {
                app.probe();
            }
            if let Some(Popup::Revealed { until, .. }) = &app.popup
                && now >= *until
            {
                app.popup = None;
                app.info(strings::KEY_HIDDEN);
            }
        }
        Action::SwitchEnv(name) => app.switch_env(&name),
        Action::Quit => app.ask_quit(),
        Action::Copied { what, result } => match result {
            Ok(()) => app.info(strings::copied(what)),
            Err(e) => app.error(strings::copy_failed(&e)),
        },
        result => results::on_result(app, result),
    }
    None
}
