//! One account: every attribute but the key, and its access trail.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row as TableRow, Table, Wrap};

use super::format_time;
use super::theme::Theme;
use crate::tui::app::model::AccountView;
use crate::tui::app::{Details, Trail};
use crate::tui::strings;

pub fn draw(frame: &mut Frame, area: Rect, details: &Details, theme: &Theme) {
    let [top, bottom] = Layout::vertical([Constraint::Length(12), Constraint::Min(3)]).areas(area);
    let block = Block::new().borders(Borders::ALL).border_style(theme.border()).title(strings::DETAILS_TITLE);
    let mut lines = match &details.view {
        Some(view) => attributes(view, theme),
        None => vec![field("address", Span::raw(details.address.as_str()))],
    };
    if let Some(error) = &details.error {
        lines.push(Line::from(Span::styled(error.as_str(), theme.error())));
    }
    frame.render_widget(Paragraph::new(lines).block(block), top);

    let block = Block::new().borders(Borders::ALL).border_style(theme.border()).title(strings::TRAIL_TITLE);
    match &details.trail {
        Trail::Loaded(entries) if !entries.is_empty() => {
            let rows = entries.iter().map(|e| {
                TableRow::new(vec![format_time(&e.at), e.action.clone(), e.request_id.clone(), e.who.clone()])
            });
            let widths =
                [Constraint::Length(19), Constraint::Length(16), Constraint::Length(20), Constraint::Min(10)];
            let header =
                TableRow::new(["when (UTC)", "action", "request id", "api key / actor"]).style(theme.dim());
            frame.render_widget(
                Table::new(rows, widths).header(header).column_spacing(2).block(block),
                bottom,
            );
        }
        Trail::Loaded(_) => frame
            .render_widget(Paragraph::new(Span::styled(strings::NO_TRAIL, theme.dim())).block(block), bottom),
        Trail::Loading => frame.render_widget(Paragraph::new(strings::LOADING_MORE).block(block), bottom),
        Trail::Failed(e) => frame.render_widget(
            Paragraph::new(Span::styled(e.as_str(), theme.error())).block(block).wrap(Wrap { trim: false }),
            bottom,
        ),
    }
}

fn field<'a>(name: &'static str, value: Span<'a>) -> Line<'a> {
    Line::from(vec![Span::raw(format!("{name:<15} ")), value])
}

fn attributes<'a>(view: &'a AccountView, theme: &Theme) -> Vec<Line<'a>> {
    let seal = match &view.seal {
        Some(seal) => Span::raw(seal.as_str()),
        None => Span::styled("none: legacy plaintext key at rest", theme.warning()),
    };
    // 132 characters: split in two so that it never wraps mid-screen.
    let public_key = view.public_key.as_deref().unwrap_or(strings::LOADING);
    let split = public_key.char_indices().nth(68).map_or(public_key.len(), |(i, _)| i);
    let (head, tail) = public_key.split_at(split);
    vec![
        field("address", Span::raw(view.address.as_str())),
        field("scheme", Span::raw(view.scheme)),
        field("public_key", Span::raw(head)),
        field("", Span::raw(tail)),
        field("seal", seal),
        field("created_at", Span::raw(view.created_at.as_ref().map_or_else(|| "-".to_owned(), format_time))),
        field("created_by", Span::raw(view.created_by.as_deref().unwrap_or("-"))),
        field("schema_version", Span::raw(view.schema_version.to_string())),
        match &view.disabled {
            Some(since) => field(
                "status",
                Span::styled(
                    format!("{} {since} · {}", strings::DISABLED_BANNER, strings::DISABLED_HINT),
                    theme.error(),
                ),
            ),
            None => field(
                "private_key",
                Span::styled(format!("•••••••• {}", strings::KEY_MASKED_HINT), theme.dim()),
            ),
        },
    ]
}
