//! Dialogs drawn over the screen.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Wrap};

use super::theme::Theme;
use super::{audit, centered, input_line};
use crate::tui::app::App;
use crate::tui::app::dialogs::{Button, CommandLine, Confirm, ExportPrompt, Pending, Popup};
use crate::tui::app::model::RevealPurpose;
use crate::tui::{keys, strings};

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let Some(popup) = &app.popup else { return };
    let area = frame.area();
    match popup {
        Popup::Help { scroll } => help(frame, area, app, *scroll, theme),
        Popup::Confirm(confirm) => draw_confirm(frame, area, app, confirm, theme),
        Popup::CreatePrompt(input) => {
            let mut lines =
                vec![Line::from(strings::CREATE_PROMPT), Line::from(""), input_line(input, theme)];
            lines.extend(field_error(app, theme));
            let height = wrapped_height(&lines, 64).max(7);
            dialog(frame, area, &strings::create_title(&app.env.name), lines, 64, height, theme);
        }
        Popup::Create => draw_create(frame, area, app, theme),
        Popup::Audit => audit::draw(frame, area, app, theme),
        Popup::Bulk => draw_bulk(frame, area, app, theme),
        Popup::Command(line) => draw_command(frame, area, line, theme),
        Popup::EnvPicker { selected } => draw_env_picker(frame, area, app, *selected, theme),
        Popup::Quitting => {
            let done = app.create.as_ref().map_or(0, |j| j.created.len());
            let count = app.create.as_ref().map_or(0, |j| j.count);
            let lines = vec![
                Line::from(strings::QUITTING),
                Line::from(""),
                Line::from(strings::create_progress(done, count)),
            ];
            dialog(frame, area, " Quit ", lines, 64, 6, theme);
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
        Popup::SignPrompt { address, input, reading } => {
            let mut lines = vec![
                Line::from(address.as_str()),
                Line::from(""),
                Line::from(strings::SIGN_PROMPT),
                input_line(input, theme),
            ];
            if *reading {
                lines.push(Line::from(Span::styled(strings::READING_TRANSACTION, theme.dim())));
            }
            lines.extend(field_error(app, theme));
            let height = wrapped_height(&lines, 80);
            dialog(frame, area, strings::SIGN_TITLE, lines, 80, height, theme);
        }
        Popup::ExportPrompt(prompt) => {
            let masked = |text: String| Line::from(Span::styled(format!("> {text}▏"), theme.header()));
            let (address, prompt_line, field) = match prompt {
                ExportPrompt::Path { address, input, .. } => {
                    (address, strings::EXPORT_PATH_PROMPT, input_line(input, theme))
                }
                ExportPrompt::Passphrase { address, input, .. } => {
                    (address, strings::EXPORT_PASSPHRASE_PROMPT, masked(input.masked()))
                }
                ExportPrompt::Again { address, input, .. } => {
                    (address, strings::EXPORT_AGAIN_PROMPT, masked(input.masked()))
                }
            };
            let mut lines =
                vec![Line::from(address.as_str()), Line::from(""), Line::from(prompt_line), field];
            if matches!(prompt, ExportPrompt::Path { checking: true, .. }) {
                lines.push(Line::from(Span::styled(strings::CHECKING_PATH, theme.dim())));
            }
            lines.extend(field_error(app, theme));
            let height = wrapped_height(&lines, 80);
            dialog(frame, area, strings::EXPORT_TITLE, lines, 80, height, theme);
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

/// Why what was typed was refused, under the field, whole (the status line
/// may be too narrow for it).
fn field_error<'a>(app: &'a App, theme: &Theme) -> Option<Line<'a>> {
    let status = app.status.as_ref().filter(|s| s.error)?;
    Some(Line::from(Span::styled(status.text.as_str(), theme.error())))
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
    let label = confirm.label();
    let question = match &confirm.pending {
        Pending::Reveal { address, purpose: RevealPurpose::Show } => strings::reveal_question(address, env),
        Pending::Reveal { address, purpose: RevealPurpose::Copy } => strings::copy_key_question(address, env),
        Pending::Create { count } => strings::create_question(*count, env),
        Pending::Sign { address, .. } => strings::sign_question(address, env),
        Pending::Export { address, path, .. } => strings::export_question(address, path, env),
        Pending::SetDisabled { address, disable } => strings::disable_question(address, *disable, env),
        Pending::Bulk(run) => strings::bulk_question(run, env),
        Pending::Quit => strings::QUIT_QUESTION.to_owned(),
    };
    let mut lines = vec![Line::from(question), Line::from("")];
    // What will be signed, exactly as it will be signed.
    if let Pending::Sign { payload, .. } = &confirm.pending {
        for (name, value) in payload.preview() {
            lines.push(Line::from(vec![Span::styled(format!("{name:<17} "), theme.dim()), Span::raw(value)]));
        }
        lines.push(Line::from(""));
    }
    if matches!(confirm.pending, Pending::Reveal { .. } | Pending::Sign { .. } | Pending::Export { .. }) {
        lines.push(Line::from(Span::styled(strings::RECORDED_NOTE, theme.dim())));
        lines.push(Line::from(""));
    }
    if let Some(required) = &confirm.required {
        lines.push(Line::from(strings::type_name_prompt(required, label)));
        lines.push(input_line(&confirm.typed, theme));
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
    let rect = centered(area, 64, area.height.saturating_sub(4).clamp(8, 24));
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
    // Every address made, scrolled to keep the cursor in view.
    let room = usize::from(inner.height.saturating_sub(2)).saturating_sub(lines.len()).max(1);
    let first = (job.selected + 1).saturating_sub(room).min(job.created.len().saturating_sub(room));
    for (at, address) in job.created.iter().enumerate().skip(first).take(room) {
        let style = if at == job.selected { theme.selected() } else { Style::new() };
        lines.push(Line::from(Span::styled(format!("{:>5}  {address}", at + 1), style)));
    }
    let list_area = Rect { y: inner.y + 2, height: inner.height.saturating_sub(2), ..inner };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), list_area);
}

fn draw_command(frame: &mut Frame, area: Rect, line: &CommandLine, theme: &Theme) {
    let rect = Rect { x: area.x, y: area.bottom().saturating_sub(2), width: area.width, height: 1 };
    frame.render_widget(Clear, rect);
    let (before, after) = line.input.split();
    frame.render_widget(Paragraph::new(format!(":{before}▏{after}")).style(theme.header()), rect);
    if !line.candidates.is_empty() {
        let above = Rect { y: rect.y.saturating_sub(1), ..rect };
        frame.render_widget(Clear, above);
        let text = format!(" {}: {}", strings::CANDIDATES, line.candidates.join("  "));
        frame.render_widget(Paragraph::new(Span::styled(text, theme.dim())), above);
    }
}

/// Every environment with its store, region and read-only flag, each
/// name in its configured colour.
fn draw_env_picker(frame: &mut Frame, area: Rect, app: &App, selected: usize, theme: &Theme) {
    use rossignol_core::config::StoreSpec;

    let mut lines = Vec::new();
    for (at, (name, env)) in app.environments.iter().enumerate() {
        let (store, region) = match &env.store {
            StoreSpec::Dynamodb { aws, .. } => {
                ("dynamodb", aws.region.clone().unwrap_or_else(|| "default".into()))
            }
            StoreSpec::Embedded { .. } => ("embedded", "-".to_owned()),
            StoreSpec::Postgres { .. } => ("postgres", "-".to_owned()),
            StoreSpec::Sharded { threshold, providers } => {
                ("sharded", format!("{threshold}-of-{}", providers.len()))
            }
        };
        let colour = app.colours.get(name).copied();
        let name_style = colour.map_or_else(Style::new, |c| Style::new().fg(c));
        let marker = if at == selected { "▶ " } else { "  " };
        let current = if *name == app.env.name { " (current)" } else { "" };
        let mut spans = vec![
            Span::raw(marker),
            Span::styled(format!("{:<20}", format!("{name}{current}")), name_style),
            Span::raw(format!(" {store:<9} {region:<15}")),
        ];
        spans.push(if env.read_only {
            Span::styled("read-only", theme.danger())
        } else {
            Span::styled("writable", theme.dim())
        });
        let line = Line::from(spans);
        lines.push(if at == selected { line.style(theme.selected()) } else { line });
    }
    let height = u16::try_from(lines.len()).unwrap_or(u16::MAX).saturating_add(2);
    dialog(frame, area, strings::ENV_TITLE, lines, 64, height, theme);
}

fn draw_bulk(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(job) = &app.bulk else { return };
    let rect = centered(area, 90, 16);
    frame.render_widget(Clear, rect);
    let hint = if job.running() { strings::BULK_RUNNING_HINT } else { strings::BULK_DONE_HINT };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(strings::bulk_title(&job.run, &app.env.name))
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
            lines.push(Line::from(Span::styled(strings::bulk_failed(&job.run, error), theme.error())))
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
            lines.push(Line::from(crate::lifecycle::progress_line(
                &job.progress,
                job.run.operation(),
                false,
            )));
            if job.cancelling {
                lines.push(Line::from(Span::styled(strings::AUDIT_CANCELLING, theme.warning())));
            }
        }
    }
    let text_area = Rect { y: inner.y + 2, height: inner.height.saturating_sub(2), ..inner };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);
}

fn help(frame: &mut Frame, area: Rect, app: &App, scroll: u16, theme: &Theme) {
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
    lines.push(Line::from(vec![
        Span::styled(format!("{}: ", strings::EDITING), theme.dim()),
        Span::raw(keys::EDITING_HELP),
    ]));
    // As tall as it needs, or as the screen; then it scrolls.
    let height = wrapped_height(&lines, 72).min(area.height);
    let rows = wrapped_height(&lines, 72).saturating_sub(2);
    let scroll = scroll.min(rows.saturating_sub(height.saturating_sub(2)));
    let more = scroll + height.saturating_sub(2) < rows;
    let rect = centered(area, 72, height);
    frame.render_widget(Clear, rect);
    let hint = if more || scroll > 0 { strings::HELP_SCROLL_HINT } else { strings::CLOSE_HINT };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(strings::HELP_TITLE)
        .title_bottom(hint);
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).scroll((scroll, 0)),
        rect,
    );
}
