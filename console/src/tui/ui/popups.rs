//! Dialogs drawn over the screen.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Wrap};

use super::theme::Theme;
use super::{audit, centered};
use crate::tui::app::App;
use crate::tui::app::dialogs::{Button, Confirm, ExportPrompt, Pending, Popup};
use crate::tui::app::model::RevealPurpose;
use crate::tui::{keys, strings};

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let Some(popup) = &app.popup else { return };
    let area = frame.area();
    match popup {
        Popup::Help => help(frame, area, app, theme),
        Popup::Confirm(confirm) => draw_confirm(frame, area, app, confirm, theme),
        Popup::CreatePrompt(input) => {
            let lines = vec![
                Line::from(strings::CREATE_PROMPT),
                Line::from(""),
                Line::from(Span::styled(format!("> {}▏", input.text), theme.header())),
            ];
            dialog(frame, area, &strings::create_title(&app.env.name), lines, 64, 7, theme);
        }
        Popup::Create => draw_create(frame, area, app, theme),
        Popup::Audit => audit::draw(frame, area, app, theme),
        Popup::Migrate => draw_migrate(frame, area, app, theme),
        Popup::Command(input) => {
            let rect = Rect { x: area.x, y: area.bottom().saturating_sub(2), width: area.width, height: 1 };
            frame.render_widget(Clear, rect);
            frame.render_widget(Paragraph::new(format!(":{}▏", input.text)).style(theme.header()), rect);
        }
        Popup::Revealing { address } => {
            let lines = vec![Line::from(address.as_str()), Line::from(""), Line::from(strings::REVEALING)];
            dialog(frame, area, " Reveal ", lines, 70, 6, theme);
        }
        Popup::Revealed { address, secret, until } => {
            let left = until.saturating_duration_since(app.now).as_secs();
            let lines = vec![
                Line::from(address.as_str()),
                Line::from(""),
                Line::from(Span::styled(secret.expose(), theme.danger())),
                Line::from(""),
                Line::from(Span::styled(strings::hides_in(left), theme.dim())),
            ];
            dialog(frame, area, " Private key ", lines, 76, 8, theme);
        }
        Popup::SignPrompt { address, input } => {
            let lines = vec![
                Line::from(address.as_str()),
                Line::from(""),
                Line::from(strings::SIGN_PROMPT),
                Line::from(Span::styled(format!("> {}▏", input.text), theme.header())),
            ];
            dialog(frame, area, strings::SIGN_TITLE, lines, 80, 7, theme);
        }
        Popup::ExportPrompt(prompt) => {
            let (address, prompt_line, field) = match prompt {
                ExportPrompt::Path { address, input } => {
                    (address, strings::EXPORT_PATH_PROMPT, input.text.clone())
                }
                ExportPrompt::Passphrase { address, input, .. } => {
                    (address, strings::EXPORT_PASSPHRASE_PROMPT, input.masked())
                }
                ExportPrompt::Again { address, input, .. } => {
                    (address, strings::EXPORT_AGAIN_PROMPT, input.masked())
                }
            };
            let lines = vec![
                Line::from(address.as_str()),
                Line::from(""),
                Line::from(prompt_line),
                Line::from(Span::styled(format!("> {field}▏"), theme.header())),
            ];
            dialog(frame, area, strings::EXPORT_TITLE, lines, 80, 7, theme);
        }
        Popup::Working { title, address } => {
            let doing = if *title == strings::EXPORT_TITLE { strings::EXPORTING } else { strings::SIGNING };
            let lines = vec![Line::from(address.as_str()), Line::from(""), Line::from(doing)];
            dialog(frame, area, title, lines, 80, 6, theme);
        }
        Popup::Signed { address, lines: values } => {
            let mut lines = vec![Line::from(address.as_str()), Line::from("")];
            for (label, value) in values {
                lines.push(Line::from(Span::styled(*label, theme.dim())));
                lines.push(Line::from(value.as_str()));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(strings::SIGNED_HINT, theme.dim())));
            let height = wrapped_height(&lines, 80);
            dialog(frame, area, strings::SIGN_TITLE, lines, 80, height, theme);
        }
        Popup::Error { title, message } => {
            let lines: Vec<Line> =
                message.lines().map(|l| Line::from(Span::styled(l, Style::new()))).collect();
            let height = (lines.len() as u16 + 4).max(6);
            let block_title = format!(" {title} ");
            dialog_styled(frame, area, &block_title, lines, 80, height, theme.error());
        }
    }
}

/// The height of a bordered dialog `width` wide showing `lines` wrapped.
fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|line| line.width().div_ceil(inner).max(1)).sum();
    u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(2)
}

fn dialog(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line>,
    width: u16,
    height: u16,
    theme: &Theme,
) {
    dialog_styled(frame, area, title, lines, width, height, theme.border());
}

fn dialog_styled(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line>,
    width: u16,
    height: u16,
    border: Style,
) {
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::new().borders(Borders::ALL).border_style(border).title(title.to_owned());
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), rect);
}

fn draw_confirm(frame: &mut Frame, area: Rect, app: &App, confirm: &Confirm, theme: &Theme) {
    let env = app.env.name.as_str();
    let (question, label) = match &confirm.pending {
        Pending::Reveal { address, purpose: RevealPurpose::Show } => {
            (strings::reveal_question(address, env), "Reveal")
        }
        Pending::Reveal { address, purpose: RevealPurpose::Copy } => {
            (strings::copy_key_question(address, env), "Copy key")
        }
        Pending::Create { count } => (strings::create_question(*count, env), "Create"),
        Pending::Sign { address, .. } => (strings::sign_question(address, env), "Sign"),
        Pending::Export { address, path, .. } => (strings::export_question(address, path, env), "Export"),
        Pending::SetDisabled { address, disable } => {
            (strings::disable_question(address, *disable, env), if *disable { "Disable" } else { "Enable" })
        }
        Pending::Migrate => (strings::migrate_question(env), "Migrate"),
        Pending::Quit => (strings::QUIT_QUESTION.to_owned(), "Quit"),
    };
    let mut lines = vec![Line::from(question), Line::from("")];
    if matches!(confirm.pending, Pending::Reveal { .. } | Pending::Sign { .. } | Pending::Export { .. }) {
        lines.push(Line::from(Span::styled(strings::RECORDED_NOTE, theme.dim())));
        lines.push(Line::from(""));
    }
    if let Some(required) = &confirm.required {
        lines.push(Line::from(strings::type_name_prompt(required)));
        lines.push(Line::from(Span::styled(format!("> {}▏", confirm.typed.text), theme.header())));
        lines.push(Line::from(""));
    }
    let button = |text: String, focused: bool, enabled: bool| {
        let style = match (focused, enabled) {
            (true, _) => theme.selected(),
            (false, true) => Style::new(),
            (false, false) => theme.dim(),
        };
        let text = if focused { format!("[{text}]") } else { format!(" {text} ") };
        Span::styled(text, style)
    };
    lines.push(
        Line::from(vec![
            button(strings::CANCEL.to_owned(), confirm.focus == Button::Cancel, true),
            Span::raw("    "),
            button(strings::confirm_button(label), confirm.focus == Button::Confirm, confirm.armed()),
        ])
        .alignment(Alignment::Center),
    );
    let height = wrapped_height(&lines, 84);
    let title = format!(" Confirm in {env} ");
    let border = if theme.guarded { theme.danger() } else { theme.border() };
    dialog_styled(frame, area, &title, lines, 84, height, border);
}

fn draw_create(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(job) = &app.create else { return };
    let rect = centered(area, 64, 16);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(strings::create_title(&app.env.name))
        .title_bottom(strings::CLOSE_HINT);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let gauge_area = Rect { height: 1, ..inner };
    let label = strings::create_progress(job.created.len(), job.count);
    frame.render_widget(
        Gauge::default().gauge_style(theme.border()).ratio(job.ratio()).label(label),
        gauge_area,
    );
    let mut lines: Vec<Line> = Vec::new();
    if let Some(error) = &job.error {
        lines.push(Line::from(Span::styled(error.as_str(), theme.error())));
    }
    let room = usize::from(inner.height.saturating_sub(2));
    let skip = job.created.len().saturating_sub(room.saturating_sub(lines.len()));
    lines.extend(job.created.iter().skip(skip).map(|a| Line::from(a.as_str())));
    let list_area = Rect { y: inner.y + 2, height: inner.height.saturating_sub(2), ..inner };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), list_area);
}

fn draw_migrate(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    use rossignol_core::lifecycle::Operation;

    let Some(job) = &app.migrate else { return };
    let rect = centered(area, 90, 16);
    frame.render_widget(Clear, rect);
    let hint = if job.running() { strings::MIGRATE_RUNNING_HINT } else { strings::MIGRATE_DONE_HINT };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(strings::migrate_title(&app.env.name))
        .title_bottom(hint);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let gauge_area = Rect { height: 1, ..inner };
    let examined = job.report.as_ref().map_or(job.progress.examined, |r| r.examined);
    let ratio = if job.report.is_some() { 1.0 } else { job.ratio().unwrap_or(0.0) };
    let label = match job.progress.total {
        Some(total) => format!("{examined} / {total}"),
        None => format!("{examined} examined"),
    };
    frame.render_widget(Gauge::default().gauge_style(theme.border()).ratio(ratio).label(label), gauge_area);
    let mut lines = Vec::new();
    match (&job.report, &job.error) {
        (_, Some(error)) => {
            lines.push(Line::from(Span::styled(strings::migrate_failed(error), theme.error())))
        }
        (Some(report), None) => {
            let style = if report.is_complete() { Style::new() } else { theme.warning() };
            lines.extend(
                crate::lifecycle::summary_lines(report)
                    .into_iter()
                    .map(|l| Line::from(Span::styled(l, style))),
            );
        }
        (None, None) => {
            lines.push(Line::from(crate::lifecycle::progress_line(&job.progress, Operation::Migrate, false)));
            if job.cancelling {
                lines.push(Line::from(Span::styled(strings::AUDIT_CANCELLING, theme.warning())));
            }
        }
    }
    let text_area = Rect { y: inner.y + 2, height: inner.height.saturating_sub(2), ..inner };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);
}

fn help(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let row = |key: &keys::Key| {
        Line::from(vec![
            Span::styled(format!("  {:<10}", app.keymap.label(key)), theme.border()),
            Span::raw(key.help),
        ])
    };
    let mut lines: Vec<Line> = keys::LIST_KEYS.iter().map(row).collect();
    lines.push(Line::from(""));
    // Dialog keys on one line: the list is already as tall as a small terminal.
    let dialog_keys: Vec<String> =
        keys::DIALOG_KEYS.iter().map(|key| format!("{} {}", app.keymap.label(key), key.short)).collect();
    lines.push(Line::from(vec![
        Span::styled(format!("{}: ", strings::HELP_DIALOGS), theme.dim()),
        Span::raw(dialog_keys.join(" · ")),
    ]));
    let height = wrapped_height(&lines, 72);
    let rect = centered(area, 72, height);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(strings::HELP_TITLE)
        .title_bottom(strings::CLOSE_HINT);
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), rect);
}
