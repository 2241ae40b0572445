//! The footer: the keys of what has the keyboard now (the list, the
//! filter, the details screen, or the popup on top), most useful first.
//! What does not fit is left out from the least useful end, never the
//! way back or out, which is always last.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme::Theme;
use crate::tui::app::dialogs::{ExportPrompt, Popup};
use crate::tui::app::{App, Screen};
use crate::tui::keys::{self, Key};

/// One entry: the key as shown and what it does, in a word or two.
struct Hint {
    key: String,
    does: &'static str,
    /// Help: it stays whatever the width, like the last hint.
    stays: bool,
}

/// The hints for the current view, most useful first.
fn hints(app: &App) -> Vec<Hint> {
    let bound = |key: &Key, does: &'static str| Hint {
        key: app.keymap.label(key),
        does,
        stays: key.label == keys::HELP.label,
    };
    let fixed = |key: &'static str, does: &'static str| Hint { key: key.to_owned(), does, stays: false };
    let editing = || fixed("←→ Home End ^U", "edit");
    if let Some(popup) = &app.popup {
        return match popup {
            Popup::Help { .. } => vec![fixed("j/k", "scroll"), fixed("Esc", "close")],
            Popup::Confirm(confirm) if !confirm.armed() => {
                vec![fixed("type", "the name"), editing(), fixed("Esc", "cancel")]
            }
            Popup::Confirm(confirm) if confirm.required.is_some() => {
                vec![fixed("Enter", "choose"), fixed("Tab", "buttons"), editing(), fixed("Esc", "cancel")]
            }
            Popup::Confirm(_) => {
                vec![fixed("Enter", "choose"), fixed("Tab/←→", "buttons"), fixed("Esc", "cancel")]
            }
            Popup::CreatePrompt(_) | Popup::SignPrompt { .. } => {
                vec![fixed("Enter", "continue"), editing(), fixed("Esc", "cancel")]
            }
            Popup::ExportPrompt(ExportPrompt::Path { .. }) => {
                vec![fixed("Enter", "continue"), editing(), fixed("Esc", "cancel")]
            }
            Popup::ExportPrompt(_) => {
                vec![fixed("Enter", "continue"), fixed("^U", "start over"), fixed("Esc", "cancel")]
            }
            Popup::Command(_) => vec![
                fixed("Enter", "run"),
                fixed("Tab", "complete"),
                fixed("↑↓", "history"),
                editing(),
                fixed("Esc", "cancel"),
            ],
            Popup::EnvPicker { .. } => {
                vec![fixed("j/k", "move"), fixed("Enter", "switch"), fixed("Esc", "cancel")]
            }
            Popup::Create if app.create.as_ref().is_some_and(|j| j.running()) => {
                vec![fixed("j/k", "move"), bound(&keys::COPY_ADDRESS, "copy"), fixed("Esc", "hide")]
            }
            Popup::Create => {
                vec![fixed("j/k", "move"), bound(&keys::COPY_ADDRESS, "copy"), fixed("Esc", "close")]
            }
            Popup::Audit if app.audit.as_ref().is_some_and(|j| j.running()) => vec![fixed("Esc", "cancel")],
            Popup::Audit => vec![fixed("j/k", "move"), fixed("Enter", "open"), fixed("Esc", "close")],
            Popup::Bulk if app.bulk.as_ref().is_some_and(|j| j.running()) => vec![fixed("Esc", "stop")],
            Popup::Bulk => vec![fixed("any key", "close")],
            Popup::Revealing { .. } => vec![fixed("Esc", "cancel")],
            Popup::Revealed { .. } => vec![fixed("any key", "hide")],
            Popup::Signed { .. } => vec![bound(&keys::COPY_ADDRESS, "copy"), fixed("Esc", "close")],
            Popup::Error { .. } => vec![fixed("Esc", "close")],
            Popup::Working { .. } | Popup::Quitting => vec![fixed("…", "please wait")],
        };
    }
    if app.list.editing {
        return vec![fixed("Enter", "keep"), fixed("↑↓", "move"), editing(), fixed("Esc", "clear")];
    }
    match &app.screen {
        Screen::Details(details) => {
            let disabled = details.view.as_ref().is_some_and(|v| v.disabled.is_some());
            let mut hints = Vec::new();
            if !disabled {
                hints.extend([
                    bound(&keys::REVEAL, "reveal"),
                    bound(&keys::SIGN, "sign"),
                    bound(&keys::EXPORT, "export"),
                    bound(&keys::COPY_KEY, "copy key"),
                ]);
            }
            hints.push(bound(&keys::TOGGLE_DISABLED, if disabled { "enable" } else { "disable" }));
            hints.extend([
                bound(&keys::COPY_ADDRESS, "copy"),
                bound(&keys::HELP, "help"),
                fixed("Esc/q", "back"),
            ]);
            hints
        }
        Screen::List => vec![
            bound(&keys::DETAILS, "open"),
            bound(&keys::FILTER, "filter"),
            bound(&keys::REVEAL, "reveal"),
            bound(&keys::SIGN, "sign"),
            bound(&keys::COPY_ADDRESS, "copy"),
            bound(&keys::CREATE, "create"),
            bound(&keys::AUDIT, "audit"),
            bound(&keys::SWITCH_ENV, "env"),
            bound(&keys::HELP, "help"),
            bound(&keys::QUIT, "quit"),
        ],
    }
}

fn width(hint: &Hint) -> usize {
    // " key " then "does ", as drawn.
    hint.key.chars().count() + hint.does.chars().count() + 3
}

/// The hints that fit in `room` columns, left out from the least useful
/// end; help and the last hint (the way back or out) always stay.
fn fit(mut hints: Vec<Hint>, room: usize) -> Vec<Hint> {
    while hints.iter().map(width).sum::<usize>() > room {
        let before_last = hints.len().saturating_sub(1);
        let Some(drop) = hints[..before_last].iter().rposition(|h| !h.stays) else { break };
        hints.remove(drop);
    }
    hints
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    for hint in fit(hints(app), usize::from(area.width)) {
        spans.push(Span::styled(format!(" {} ", hint.key), theme.header()));
        spans.push(Span::raw(format!("{} ", hint.does)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
