//! Dialogs drawn over the screen.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Wrap};

use super::theme::Theme;
use super::{audit, centered};
use crate::tui::app::App;
use crate::tui::app::dialogs::{Button, Confirm, Pending, Popup};
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
        Popup::Error { title, message } => {
            let lines: Vec<Line> =
                message.lines().map(|l| Line::from(Span::styled(l, Style::new()))).collect();
            let height = (lines.len() as u16 + 4).max(6);
            let block_title = format!(" {title} ");
            dialog_styled(frame, area, &block_title, lines, 80, height, theme.error());
        }
    }
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
        Pending::Quit => (strings::QUIT_QUESTION.to_owned(), "Quit"),
    };
    let mut lines = vec![Line::from(question), Line::from("")];
    if matches!(confirm.pending, Pending::Reveal { .. }) {
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
    let height = lines.len() as u16 + 2;
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

fn help(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let row = |key: &keys::Key| {
        Line::from(vec![
            Span::styled(format!("  {:<10}", app.keymap.label(key)), theme.border()),
            Span::raw(key.help),
        ])
    };
    let mut lines: Vec<Line> = keys::LIST_KEYS.iter().map(row).collect();
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(strings::HELP_DIALOGS, theme.dim())));
    lines.extend(keys::DIALOG_KEYS.iter().map(row));
    let height = lines.len() as u16 + 2;
    let rect = centered(area, 72, height);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(strings::HELP_TITLE)
        .title_bottom(strings::CLOSE_HINT);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
