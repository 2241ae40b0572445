//! Popups: confirmations (Cancel focused by default), prompts, the command
//! line, progress of running work, help and errors.

use ratatui::crossterm::event::KeyEvent;

use super::model::{Input, RevealPurpose, Secret, SecretInput};
use super::{Action, App, Effect};
use crate::tui::{keys, strings};
use std::time::Instant;

/// The largest batch `c` creates at once.
pub const MAX_CREATE: u64 = 10_000;

#[derive(Debug, Clone)]
pub enum Popup {
    Help,
    Confirm(Confirm),
    CreatePrompt(Input),
    /// Progress and result of the create job.
    Create,
    /// Progress and findings of the audit job.
    Audit,
    Command(Input),
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
    /// Progress and result of the migration of legacy rows.
    Migrate,
}

/// The export dialog's steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportPrompt {
    Path { address: String, input: Input },
    Passphrase { address: String, path: String, input: SecretInput },
    Again { address: String, path: String, first: SecretInput, input: SecretInput },
}

/// The shortest passphrase an export accepts.
pub const MIN_PASSPHRASE: usize = 8;

/// What is signed: a message as typed, or a transaction file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInput {
    Message(String),
    TransactionFile(String),
}

impl SignInput {
    pub fn parse(text: &str) -> Self {
        match text.strip_prefix('@') {
            Some(path) => SignInput::TransactionFile(path.trim().to_owned()),
            None => SignInput::Message(text.to_owned()),
        }
    }
}

/// What a confirmation will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Reveal { address: String, purpose: RevealPurpose },
    Create { count: u64 },
    Sign { address: String, input: SignInput },
    Export { address: String, path: String, passphrase: SecretInput },
    SetDisabled { address: String, disable: bool },
    Migrate,
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
}

pub fn on_key(app: &mut App, key: KeyEvent) -> Option<Action> {
    let popup = app.popup.take()?;
    app.popup = match popup {
        // Any key closes help.
        Popup::Help => None,
        // Any key closes an error; keys other than Esc and Enter then act,
        // so that "press R to retry" works from the dialog.
        Popup::Error { .. } => {
            app.popup = None;
            return (!keys::BACK.matches(&key) && !keys::SUBMIT.matches(&key)).then_some(Action::Key(key));
        }
        // Any key hides a revealed key.
        Popup::Revealed { .. } => {
            app.info(strings::KEY_HIDDEN);
            None
        }
        // Esc cancels a reveal or copy still on its way.
        Popup::Revealing { .. } if keys::BACK.matches(&key) => {
            app.info(strings::CANCELLED);
            None
        }
        Popup::Revealing { .. } => Some(popup),
        Popup::Confirm(confirm) => return on_confirm_key(app, confirm, key),
        Popup::CreatePrompt(input) => on_create_prompt(app, input, key),
        Popup::Create => on_create_key(app, key),
        Popup::Audit => on_audit_key(app, key),
        Popup::Command(input) => return on_command_key(app, input, key),
        Popup::SignPrompt { address, input } => on_sign_prompt(app, address, input, key),
        Popup::ExportPrompt(prompt) => on_export_prompt(app, prompt, key),
        Popup::Working { .. } => Some(popup),
        Popup::Signed { lines, .. } => {
            // `y` copies what was signed (the signature or raw transaction).
            if keys::COPY_ADDRESS.matches(&key)
                && let Some((_, value)) = lines.first()
            {
                app.effects.push(Effect::CopyText(value.clone()));
            }
            None
        }
        Popup::Migrate => on_migrate_key(app, key),
    };
    None
}

fn on_migrate_key(app: &mut App, key: KeyEvent) -> Option<Popup> {
    let job = app.migrate.as_mut()?;
    if job.running() {
        // Esc stops it between rows; a later run finishes the job.
        if keys::BACK.matches(&key) && !job.cancelling {
            job.cancelling = true;
            app.effects.push(Effect::CancelMigrate);
        }
        return Some(Popup::Migrate);
    }
    None
}

fn on_sign_prompt(app: &mut App, address: String, mut input: Input, key: KeyEvent) -> Option<Popup> {
    if keys::BACK.matches(&key) {
        app.info(strings::CANCELLED);
        return None;
    }
    if keys::SUBMIT.matches(&key) {
        if input.text.trim().is_empty() || input.text.trim() == "@" {
            app.error(strings::SIGN_NOTHING);
            return Some(Popup::SignPrompt { address, input });
        }
        let pending = Pending::Sign { address, input: SignInput::parse(&input.text) };
        return Some(Popup::Confirm(Confirm::new(pending, crate::tui::safety::typed_confirmation(&app.env))));
    }
    if keys::ERASE.matches(&key) {
        input.pop();
    } else if let Some(c) = keys::typed(&key) {
        input.push(c);
    }
    Some(Popup::SignPrompt { address, input })
}

fn on_export_prompt(app: &mut App, prompt: ExportPrompt, key: KeyEvent) -> Option<Popup> {
    if keys::BACK.matches(&key) {
        app.info(strings::CANCELLED);
        return None;
    }
    let submit = keys::SUBMIT.matches(&key);
    let erase = keys::ERASE.matches(&key);
    let typed = keys::typed(&key);
    let next = match prompt {
        ExportPrompt::Path { address, mut input } => {
            if submit {
                if input.text.trim().is_empty() {
                    app.error(strings::EXPORT_NO_PATH);
                    ExportPrompt::Path { address, input }
                } else {
                    let path = input.text.trim().to_owned();
                    ExportPrompt::Passphrase { address, path, input: SecretInput::default() }
                }
            } else {
                if erase {
                    input.pop();
                } else if let Some(c) = typed {
                    input.push(c);
                }
                ExportPrompt::Path { address, input }
            }
        }
        ExportPrompt::Passphrase { address, path, mut input } => {
            if submit {
                if input.len() < MIN_PASSPHRASE {
                    app.error(strings::passphrase_too_short(MIN_PASSPHRASE));
                    ExportPrompt::Passphrase { address, path, input }
                } else {
                    ExportPrompt::Again { address, path, first: input, input: SecretInput::default() }
                }
            } else {
                if erase {
                    input.pop();
                } else if let Some(c) = typed {
                    input.push(c);
                }
                ExportPrompt::Passphrase { address, path, input }
            }
        }
        ExportPrompt::Again { address, path, first, mut input } => {
            if submit {
                if input != first {
                    app.error(strings::PASSPHRASES_DIFFER);
                    ExportPrompt::Passphrase { address, path, input: SecretInput::default() }
                } else {
                    let pending = Pending::Export { address, path, passphrase: input };
                    let required = crate::tui::safety::typed_confirmation(&app.env);
                    return Some(Popup::Confirm(Confirm::new(pending, required)));
                }
            } else {
                if erase {
                    input.pop();
                } else if let Some(c) = typed {
                    input.push(c);
                }
                ExportPrompt::Again { address, path, first, input }
            }
        }
    };
    Some(Popup::ExportPrompt(next))
}

fn on_confirm_key(app: &mut App, mut confirm: Confirm, key: KeyEvent) -> Option<Action> {
    if keys::BACK.matches(&key) {
        app.info(strings::CANCELLED);
        return None;
    }
    if keys::SUBMIT.matches(&key) {
        match confirm.focus {
            Button::Cancel => app.info(strings::CANCELLED),
            Button::Confirm if confirm.armed() => app.confirmed(confirm.pending),
            Button::Confirm => {
                let name = confirm.required.clone().unwrap_or_default();
                app.error(strings::type_to_confirm(&name));
                app.popup = Some(Popup::Confirm(confirm));
            }
        }
        return None;
    }
    if keys::NEXT_BUTTON.matches(&key) {
        confirm.focus = match confirm.focus {
            Button::Cancel => Button::Confirm,
            Button::Confirm => Button::Cancel,
        };
    } else if confirm.required.is_some() {
        if keys::ERASE.matches(&key) {
            confirm.typed.pop();
        } else if let Some(c) = keys::typed(&key) {
            confirm.typed.push(c);
        }
    }
    app.popup = Some(Popup::Confirm(confirm));
    None
}

fn on_create_prompt(app: &mut App, mut input: Input, key: KeyEvent) -> Option<Popup> {
    if keys::BACK.matches(&key) {
        return None;
    }
    if keys::SUBMIT.matches(&key) {
        return match input.text.trim().parse::<u64>() {
            Ok(count) if (1..=MAX_CREATE).contains(&count) => Some(Popup::Confirm(Confirm::new(
                Pending::Create { count },
                crate::tui::safety::typed_confirmation(&app.env),
            ))),
            _ => {
                app.error(strings::bad_count(&input.text, MAX_CREATE));
                Some(Popup::CreatePrompt(input))
            }
        };
    }
    if keys::ERASE.matches(&key) {
        input.pop();
    } else if let Some(c) = keys::typed(&key).filter(char::is_ascii_digit) {
        input.push(c);
    }
    Some(Popup::CreatePrompt(input))
}

fn on_create_key(app: &mut App, key: KeyEvent) -> Option<Popup> {
    let running = app.create.as_ref().is_some_and(|j| j.running());
    if keys::BACK.matches(&key) || keys::SUBMIT.matches(&key) || keys::QUIT.matches(&key) {
        if running {
            // The writes go on; the popup can come back with `c`.
            app.info(strings::CREATE_IN_BACKGROUND);
        }
        return None;
    }
    Some(Popup::Create)
}

fn on_audit_key(app: &mut App, key: KeyEvent) -> Option<Popup> {
    let job = app.audit.as_mut()?;
    if job.running() {
        if keys::BACK.matches(&key) && !job.cancelling {
            job.cancelling = true;
            app.effects.push(Effect::CancelAudit);
        }
        return Some(Popup::Audit);
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

/// The command line's commands, for completion.
const COMMANDS: &[&str] = &["env ", "audit", "create ", "migrate", "help", "q"];

fn on_command_key(app: &mut App, mut input: Input, key: KeyEvent) -> Option<Action> {
    if keys::BACK.matches(&key) {
        return None;
    }
    if keys::SUBMIT.matches(&key) {
        return run_command(app, input.text.trim());
    }
    if keys::COMPLETE.matches(&key) {
        input.text = complete(app, &input.text);
    } else if keys::ERASE.matches(&key) {
        input.pop();
    } else if let Some(c) = keys::typed(&key) {
        input.push(c);
    }
    app.popup = Some(Popup::Command(input));
    None
}

fn run_command(app: &mut App, line: &str) -> Option<Action> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (None, ..) => None,
        (Some("q" | "quit" | "q!"), None, _) => Some(Action::Quit),
        (Some("help"), None, _) => {
            app.popup = Some(Popup::Help);
            None
        }
        (Some("env"), Some(name), None) => Some(Action::SwitchEnv(name.to_owned())),
        (Some("audit"), None, _) => {
            app.start_audit();
            None
        }
        (Some("migrate"), None, _) => {
            app.ask_migrate();
            None
        }

        (Some("create"), count, None) => {
            app.ask_create();
            if let (Some(Popup::CreatePrompt(input)), Some(count)) = (&mut app.popup, count) {
                *input = Input::with(count);
                let enter = KeyEvent::from(ratatui::crossterm::event::KeyCode::Enter);
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
/// longest prefix shared by every candidate.
pub fn complete(app: &App, text: &str) -> String {
    let (stem, candidates): (&str, Vec<String>) = match text.strip_prefix("env ") {
        Some(partial) => (
            "env ",
            app.environments.keys().filter(|n| n.starts_with(partial.trim_start())).cloned().collect(),
        ),
        None => ("", COMMANDS.iter().filter(|c| c.starts_with(text)).map(|c| (*c).to_owned()).collect()),
    };
    let Some(first) = candidates.first() else { return text.to_owned() };
    let mut common = first.clone();
    for candidate in &candidates[1..] {
        let shared = common.chars().zip(candidate.chars()).take_while(|(a, b)| a == b).count();
        common = common.chars().take(shared).collect();
    }
    if common.len() + stem.len() < text.len() { text.to_owned() } else { format!("{stem}{common}") }
}
