//! Popups: confirmations (Cancel focused by default), prompts, the command
//! line, progress of running work, help and errors.

use std::time::Instant;

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use rossignol_core::sign::{Payload, parse_message};

use super::field::Edit;
use super::jobs::BulkRun;
use super::model::{Input, RevealPurpose, Secret, SecretInput};
use super::{Action, App, Effect};
use crate::tui::{keys, strings};

/// The largest batch `c` creates at once.
pub const MAX_CREATE: u64 = 10_000;

#[derive(Debug, Clone)]
pub enum Popup {
    /// The keys; `scroll` lines scrolled down.
    Help {
        scroll: u16,
    },
    Confirm(Confirm),
    CreatePrompt(Input),
    /// Progress and result of the create job.
    Create,
    /// Progress and findings of the audit job.
    Audit,
    Command(CommandLine),
    /// Every configured environment, to switch to one.
    EnvPicker {
        selected: usize,
    },
    Revealing {
        address: String,
    },
    Revealed {
        address: String,
        secret: Secret,
        until: Instant,
    },
    Error {
        title: &'static str,
        message: String,
    },
    /// What to sign: a message, or `@FILE` for a transaction in JSON.
    SignPrompt {
        address: String,
        input: Input,
        /// The transaction file is being read for the preview.
        reading: bool,
    },
    /// Where to export, then the passphrase twice.
    ExportPrompt(ExportPrompt),
    /// Signing, exporting or disabling in progress.
    Working {
        title: &'static str,
        address: String,
    },
    /// A signature (public): `y` copies it.
    Signed {
        address: String,
        lines: Vec<(&'static str, String)>,
    },
    /// Progress and result of a migrate, repair or refresh.
    Bulk,
    /// Quit confirmed during a create: its writes in flight finish first.
    Quitting,
}

/// The `:` line: what is typed, the completions Tab found, and where in
/// the history Up and Down are.
#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    pub input: Input,
    /// More than one completion: shown above the line.
    pub candidates: Vec<String>,
    /// Index into [`super::App::history`] while browsing it.
    pub recalled: Option<usize>,
}

/// The export dialog's steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportPrompt {
    /// `checking`: the path is being checked before the passphrase is asked.
    Path {
        address: String,
        input: Input,
        checking: bool,
    },
    Passphrase {
        address: String,
        path: String,
        input: SecretInput,
    },
    Again {
        address: String,
        path: String,
        first: SecretInput,
        input: SecretInput,
    },
}

/// The shortest passphrase an export accepts.
pub const MIN_PASSPHRASE: usize = 8;

/// What a confirmation will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Reveal {
        address: String,
        purpose: RevealPurpose,
    },
    Create {
        count: u64,
    },
    /// Exactly what the confirmation previews is what is signed.
    Sign {
        address: String,
        payload: Payload,
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
    /// Migrate, repair or refresh the whole environment.
    Bulk(BulkRun),
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Cancel,
    Confirm,
}

#[derive(Debug, Clone)]
pub struct Confirm {
    pub pending: Pending,
    pub focus: Button,
    /// The text that must be typed first (the environment's name), if any.
    pub required: Option<String>,
    pub typed: Input,
}

impl Confirm {
    pub fn new(pending: Pending, required: Option<String>) -> Self {
        Confirm { pending, focus: Button::Cancel, required, typed: Input::default() }
    }

    pub fn armed(&self) -> bool {
        self.required.as_ref().is_none_or(|r| *r == self.typed.text)
    }

    /// What the confirm button says, and the typed-name prompt with it.
    pub fn label(&self) -> &'static str {
        match &self.pending {
            Pending::Reveal { purpose: RevealPurpose::Show, .. } => "Reveal",
            Pending::Reveal { purpose: RevealPurpose::Copy, .. } => "Copy key",
            Pending::Create { .. } => "Create",
            Pending::Sign { .. } => "Sign",
            Pending::Export { .. } => "Export",
            Pending::SetDisabled { disable: true, .. } => "Disable",
            Pending::SetDisabled { disable: false, .. } => "Enable",
            Pending::Bulk(BulkRun::Migrate) => "Migrate",
            Pending::Bulk(BulkRun::Repair { .. }) => "Repair",
            Pending::Bulk(BulkRun::Refresh) => "Refresh",
            Pending::Quit => "Quit",
        }
    }
}

/// Keys in a popup. Popups with a text field type `q`; the others close
/// on Esc or `q`.
pub fn on_key(app: &mut App, key: KeyEvent) -> Option<Action> {
    let popup = app.popup.take()?;
    let close = keys::BACK.matches(&key) || keys::QUIT.matches(&key);
    app.popup = match popup {
        Popup::Help { scroll } => on_help_key(scroll, key),
        Popup::Error { .. } if close || keys::SUBMIT.matches(&key) => None,
        // Other keys act once the error is closed, so that "press R to
        // retry" works from the dialog.
        Popup::Error { .. } => return Some(Action::Key(key)),
        // Any key hides a revealed key.
        Popup::Revealed { .. } => {
            app.info(strings::KEY_HIDDEN);
            None
        }
        // Esc cancels a reveal or copy still on its way.
        Popup::Revealing { .. } if close => {
            app.info(strings::CANCELLED);
            None
        }
        Popup::Revealing { .. } | Popup::Working { .. } | Popup::Quitting => Some(popup),
        Popup::Confirm(confirm) => return on_confirm_key(app, confirm, key),
        Popup::CreatePrompt(input) => on_create_prompt(app, input, key),
        Popup::Create => on_create_key(app, key),
        Popup::Audit => on_audit_key(app, key),
        Popup::Command(line) => return on_command_key(app, line, key),
        Popup::EnvPicker { selected } => return on_env_key(app, selected, key),
        Popup::SignPrompt { address, input, reading } => on_sign_prompt(app, address, input, reading, key),
        Popup::ExportPrompt(prompt) => on_export_prompt(app, prompt, key),
        Popup::Signed { lines, .. } if keys::COPY_ADDRESS.matches(&key) => {
            // `y` copies what was signed (the signature or raw transaction).
            if let Some((what, text)) = lines.into_iter().next() {
                app.effects.push(Effect::CopyText { text, what });
            }
            None
        }
        Popup::Signed { .. } => None,
        Popup::Bulk => on_bulk_key(app, key),
    };
    None
}

/// Help scrolls with the movement keys; any other key closes it.
fn on_help_key(scroll: u16, key: KeyEvent) -> Option<Popup> {
    let scroll = if keys::DOWN.matches(&key) {
        scroll.saturating_add(1)
    } else if keys::UP.matches(&key) {
        scroll.saturating_sub(1)
    } else if keys::HALF_DOWN.matches(&key) || keys::PAGE_DOWN.matches(&key) {
        scroll.saturating_add(10)
    } else if keys::HALF_UP.matches(&key) || keys::PAGE_UP.matches(&key) {
        scroll.saturating_sub(10)
    } else if keys::TOP.matches(&key) {
        0
    } else if keys::BOTTOM.matches(&key) {
        u16::MAX
    } else {
        return None;
    };
    // The drawing clamps `scroll` to what there is to scroll.
    Some(Popup::Help { scroll })
}

fn on_bulk_key(app: &mut App, key: KeyEvent) -> Option<Popup> {
    let job = app.bulk.as_mut()?;
    if job.running() {
        // Esc stops it between rows; a later run finishes the job.
        if keys::BACK.matches(&key) && !job.cancelling {
            job.cancelling = true;
            app.effects.push(Effect::CancelBulk);
        }
        return Some(Popup::Bulk);
    }
    None
}

/// Checks what to sign before anything is confirmed: a message is parsed
/// here, a transaction file is read by the worker for its preview.
fn on_sign_prompt(
    app: &mut App,
    address: String,
    mut input: Input,
    reading: bool,
    key: KeyEvent,
) -> Option<Popup> {
    if keys::BACK.matches(&key) {
        app.info(strings::CANCELLED);
        return None;
    }
    if reading {
        return Some(Popup::SignPrompt { address, input, reading });
    }
    if keys::SUBMIT.matches(&key) {
        let text = input.text.clone();
        match text.strip_prefix('@').map(str::trim) {
            Some("") => app.error(strings::SIGN_NOTHING),
            Some(path) => {
                app.effects.push(Effect::ReadTransaction { address: address.clone(), path: path.to_owned() });
                return Some(Popup::SignPrompt { address, input, reading: true });
            }
            None if text.trim().is_empty() => app.error(strings::SIGN_NOTHING),
            None => match parse_message(&text) {
                Ok(bytes) => {
                    app.ask_confirm(Pending::Sign { address, payload: Payload::Message(bytes) });
                    return app.popup.take();
                }
                Err(e) => app.error(strings::bad_message(&e.to_string())),
            },
        }
        return Some(Popup::SignPrompt { address, input, reading });
    }
    input.edit(&key);
    Some(Popup::SignPrompt { address, input, reading })
}

fn on_export_prompt(app: &mut App, prompt: ExportPrompt, key: KeyEvent) -> Option<Popup> {
    if keys::BACK.matches(&key) {
        app.info(strings::CANCELLED);
        return None;
    }
    let submit = keys::SUBMIT.matches(&key);
    let next = match prompt {
        ExportPrompt::Path { address, input, checking: true } => {
            ExportPrompt::Path { address, input, checking: true }
        }
        ExportPrompt::Path { address, mut input, checking: false } => {
            if !submit {
                input.edit(&key);
                ExportPrompt::Path { address, input, checking: false }
            } else if input.text.trim().is_empty() {
                app.error(strings::EXPORT_NO_PATH);
                ExportPrompt::Path { address, input, checking: false }
            } else {
                // Checked now, before the passphrase is asked for.
                let path = input.text.trim().to_owned();
                app.effects.push(Effect::CheckExportPath { address: address.clone(), path });
                ExportPrompt::Path { address, input, checking: true }
            }
        }
        ExportPrompt::Passphrase { address, path, mut input } => {
            if !submit {
                input.edit(&key);
                ExportPrompt::Passphrase { address, path, input }
            } else if input.len() < MIN_PASSPHRASE {
                app.error(strings::passphrase_too_short(MIN_PASSPHRASE));
                ExportPrompt::Passphrase { address, path, input }
            } else {
                ExportPrompt::Again { address, path, first: input, input: SecretInput::default() }
            }
        }
        ExportPrompt::Again { address, path, first, mut input } => {
            if !submit {
                input.edit(&key);
                ExportPrompt::Again { address, path, first, input }
            } else if input != first {
                app.error(strings::PASSPHRASES_DIFFER);
                ExportPrompt::Passphrase { address, path, input: SecretInput::default() }
            } else {
                app.ask_confirm(Pending::Export { address, path, passphrase: input });
                return app.popup.take();
            }
        }
    };
    Some(Popup::ExportPrompt(next))
}

/// A confirmation. Where the environment's name must be typed, the
/// confirm button can't be chosen until it matches, and then has the
/// focus: the name and Enter confirm.
fn on_confirm_key(app: &mut App, mut confirm: Confirm, key: KeyEvent) -> Option<Action> {
    if keys::BACK.matches(&key) {
        app.info(strings::CANCELLED);
        return None;
    }
    let typing = confirm.required.is_some();
    if keys::SUBMIT.matches(&key) {
        match confirm.focus {
            Button::Confirm if confirm.armed() => app.confirmed(confirm.pending),
            Button::Cancel if typing && !confirm.armed() => {
                let name = confirm.required.clone().unwrap_or_default();
                app.error(strings::type_to_confirm(&name, confirm.label()));
                app.popup = Some(Popup::Confirm(confirm));
            }
            Button::Cancel | Button::Confirm => app.info(strings::CANCELLED),
        }
        return None;
    }
    let switch = if typing {
        key.code == KeyCode::Tab || key.code == KeyCode::BackTab
    } else {
        keys::NEXT_BUTTON.matches(&key)
    };
    if switch {
        if confirm.armed() {
            confirm.focus = match confirm.focus {
                Button::Cancel => Button::Confirm,
                Button::Confirm => Button::Cancel,
            };
        }
    } else if typing {
        let was = confirm.armed();
        confirm.typed.edit(&key);
        if confirm.armed() != was {
            confirm.focus = if confirm.armed() { Button::Confirm } else { Button::Cancel };
        }
    }
    app.popup = Some(Popup::Confirm(confirm));
    None
}

fn on_create_prompt(app: &mut App, mut input: Input, key: KeyEvent) -> Option<Popup> {
    if keys::BACK.matches(&key) {
        app.info(strings::CANCELLED);
        return None;
    }
    if keys::SUBMIT.matches(&key) {
        return match input.text.trim().parse::<u64>() {
            Ok(count) if (1..=MAX_CREATE).contains(&count) => {
                app.ask_confirm(Pending::Create { count });
                app.popup.take()
            }
            _ => {
                app.error(strings::bad_count(&input.text, MAX_CREATE));
                Some(Popup::CreatePrompt(input))
            }
        };
    }
    input.edit_with(&key, |c| c.is_ascii_digit());
    Some(Popup::CreatePrompt(input))
}

/// The create popup: progress, then every address made, to scroll and copy.
fn on_create_key(app: &mut App, key: KeyEvent) -> Option<Popup> {
    let job = app.create.as_mut()?;
    let page = (app.list.viewport / 2).max(1);
    if keys::BACK.matches(&key) || keys::SUBMIT.matches(&key) || keys::QUIT.matches(&key) {
        if job.running() {
            // The writes go on; the popup can come back with `c`.
            app.info(strings::CREATE_IN_BACKGROUND);
        }
        return None;
    }
    if keys::COPY_ADDRESS.matches(&key) {
        match job.selected_address() {
            Some(text) => app.effects.push(Effect::CopyText { text: text.to_owned(), what: "address" }),
            None => app.error(strings::NOTHING_CREATED_YET),
        }
    } else if keys::DOWN.matches(&key) {
        job.move_by(1);
    } else if keys::UP.matches(&key) {
        job.move_by(-1);
    } else if keys::HALF_DOWN.matches(&key) || keys::PAGE_DOWN.matches(&key) {
        job.move_by(page as isize);
    } else if keys::HALF_UP.matches(&key) || keys::PAGE_UP.matches(&key) {
        job.move_by(-(page as isize));
    } else if keys::TOP.matches(&key) {
        job.move_by(isize::MIN);
    } else if keys::BOTTOM.matches(&key) {
        job.follow_end();
    }
    Some(Popup::Create)
}

fn on_audit_key(app: &mut App, key: KeyEvent) -> Option<Popup> {
    let job = app.audit.as_mut()?;
    if job.running() {
        if keys::BACK.matches(&key) && !job.cancelling {
            job.cancelling = true;
            app.effects.push(Effect::CancelAudit);
            return Some(Popup::Audit);
        }
        // `q` hides it; `a` brings it back.
        return (!keys::QUIT.matches(&key)).then_some(Popup::Audit);
    }
    let findings = job.report.as_ref().map_or(0, |r| r.findings.len());
    if keys::BACK.matches(&key) || keys::QUIT.matches(&key) {
        return None;
    }
    if keys::DOWN.matches(&key) {
        job.selected = (job.selected + 1).min(findings.saturating_sub(1));
    } else if keys::UP.matches(&key) {
        job.selected = job.selected.saturating_sub(1);
    } else if keys::DETAILS.matches(&key) {
        if findings == 0 {
            app.info(strings::NO_FINDINGS_TO_OPEN);
            return Some(Popup::Audit);
        }
        let address =
            job.report.as_ref().and_then(|r| r.findings.get(job.selected)).map(|f| f.address.clone());
        if let Some(address) = address.filter(|a| rossignol_core::Address::parse(a).is_ok()) {
            app.open_details(address);
            if let super::Screen::Details(details) = &mut app.screen {
                details.from_audit = true;
            }
            return None;
        }
        app.error(strings::FINDING_HAS_NO_ACCOUNT);
    }
    Some(Popup::Audit)
}

/// The environment picker: j/k (or arrows) and Enter.
fn on_env_key(app: &mut App, selected: usize, key: KeyEvent) -> Option<Action> {
    let last = app.environments.len().saturating_sub(1);
    if keys::BACK.matches(&key) || keys::QUIT.matches(&key) {
        return None;
    }
    if keys::SUBMIT.matches(&key) {
        let name = app.environments.keys().nth(selected)?.clone();
        return Some(Action::SwitchEnv(name));
    }
    let selected = if keys::DOWN.matches(&key) {
        (selected + 1).min(last)
    } else if keys::UP.matches(&key) {
        selected.saturating_sub(1)
    } else if keys::TOP.matches(&key) {
        0
    } else if keys::BOTTOM.matches(&key) {
        last
    } else {
        selected
    };
    app.popup = Some(Popup::EnvPicker { selected });
    None
}

/// The command line's commands, for completion.
const COMMANDS: &[&str] = &["env ", "audit", "create ", "migrate", "repair ", "refresh", "help", "q"];

fn on_command_key(app: &mut App, mut line: CommandLine, key: KeyEvent) -> Option<Action> {
    if keys::BACK.matches(&key) {
        return None;
    }
    if keys::SUBMIT.matches(&key) {
        let text = line.input.text.trim().to_owned();
        if !text.is_empty() && app.history.last() != Some(&text) {
            app.history.push(text.clone());
        }
        return run_command(app, &text);
    }
    if key.code == KeyCode::Tab {
        let (text, candidates) = complete(app, &line.input.text);
        line.input.set(&text);
        line.candidates = if candidates.len() > 1 { candidates } else { Vec::new() };
    } else if key.code == KeyCode::Up || key.code == KeyCode::Down {
        recall(app, &mut line, key.code == KeyCode::Up);
    } else if line.input.edit(&key) == Edit::Changed {
        line.candidates.clear();
        line.recalled = None;
    }
    app.popup = Some(Popup::Command(line));
    None
}

/// Up and Down through the command history, as a shell does.
fn recall(app: &App, line: &mut CommandLine, older: bool) {
    let len = app.history.len();
    line.recalled = match (line.recalled, older) {
        (None, true) if len > 0 => Some(len - 1),
        (Some(at), true) => Some(at.saturating_sub(1)),
        (Some(at), false) if at + 1 < len => Some(at + 1),
        (_, _) => None,
    };
    let text = line.recalled.and_then(|at| app.history.get(at)).map_or("", String::as_str);
    line.input.set(text);
    line.candidates.clear();
}

fn run_command(app: &mut App, line: &str) -> Option<Action> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (None, ..) => None,
        (Some("q" | "quit" | "q!"), None, _) => Some(Action::Quit),
        (Some("help"), None, _) => {
            app.popup = Some(Popup::Help { scroll: 0 });
            None
        }
        (Some("env"), None, _) => {
            app.ask_env();
            None
        }
        (Some("env"), Some(name), None) => Some(Action::SwitchEnv(name.to_owned())),
        (Some("audit"), None, _) => {
            app.start_audit();
            None
        }
        (Some("migrate"), None, _) => {
            app.ask_bulk(BulkRun::Migrate);
            None
        }
        (Some("refresh"), None, _) => {
            app.ask_bulk(BulkRun::Refresh);
            None
        }
        (Some("repair"), Some(provider), None) => {
            app.ask_bulk(BulkRun::Repair { provider: provider.to_owned() });
            None
        }
        (Some("create"), count, None) => {
            app.ask_create();
            if let (Some(Popup::CreatePrompt(input)), Some(count)) = (&mut app.popup, count) {
                *input = Input::with(count);
                let enter = KeyEvent::from(KeyCode::Enter);
                return on_key(app, enter);
            }
            None
        }
        _ => {
            app.error(strings::unknown_command(line));
            None
        }
    }
}

/// Completes a command name, or an environment name after `env `: the
/// longest prefix shared by every candidate, and the candidates.
pub fn complete(app: &App, text: &str) -> (String, Vec<String>) {
    let (stem, candidates): (&str, Vec<String>) = match text.strip_prefix("env ") {
        Some(partial) => (
            "env ",
            app.environments.keys().filter(|n| n.starts_with(partial.trim_start())).cloned().collect(),
        ),
        None => ("", COMMANDS.iter().filter(|c| c.starts_with(text)).map(|c| (*c).to_owned()).collect()),
    };
    let Some(first) = candidates.first() else { return (text.to_owned(), candidates) };
    let mut common = first.clone();
    for candidate in &candidates[1..] {
        let shared = common.chars().zip(candidate.chars()).take_while(|(a, b)| a == b).count();
        common = common.chars().take(shared).collect();
    }
    let completed =
        if common.len() + stem.len() < text.len() { text.to_owned() } else { format!("{stem}{common}") };
    (completed, candidates)
}
