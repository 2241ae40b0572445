//! Popups: confirmations (Cancel focused by default), prompts, the command
//! line, progress of running work, help and errors.

use ratatui::crossterm::event::KeyEvent;

use super::model::{Input, RevealPurpose, Secret};
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
}

/// What a confirmation will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Reveal { address: String, purpose: RevealPurpose },
    Create { count: u64 },
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
        Popup::Revealing { .. } => (!keys::BACK.matches(&key)).then_some(popup),
        Popup::Confirm(confirm) => return on_confirm_key(app, confirm, key),
        Popup::CreatePrompt(input) => on_create_prompt(app, input, key),
        Popup::Create => on_create_key(app, key),
        Popup::Audit => on_audit_key(app, key),
        Popup::Command(input) => return on_command_key(app, input, key),
    };
    None
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
const COMMANDS: &[&str] = &["env ", "audit", "create ", "help", "q"];

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
