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
    // Values get what the borders and the name column leave.
    let room = usize::from(area.width.saturating_sub(2)).saturating_sub(LABEL + 1).max(1);
    let mut lines = match &details.view {
        Some(view) => attributes(view, room, theme),
        None => vec![field("address", Span::raw(details.address.as_str()))],
    };
    if let Some(error) = &details.error {
        lines.push(Line::from(Span::styled(error.as_str(), theme.error())));
    }
    // The attributes whole (wrapped, never cut), the trail below them.
    let wanted = u16::try_from(lines.len()).unwrap_or(u16::MAX).saturating_add(2);
    let [top, bottom] = Layout::vertical([Constraint::Length(wanted), Constraint::Min(3)]).areas(area);
    let block = Block::new().borders(Borders::ALL).border_style(theme.border()).title(strings::DETAILS_TITLE);
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), top);

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

/// The width of the attribute names.
const LABEL: usize = 15;

fn field<'a>(name: &'static str, value: Span<'a>) -> Line<'a> {
    Line::from(vec![Span::raw(format!("{name:<LABEL$} ")), value])
}

/// `value` over as many lines as `room` needs: whole, never cut.
fn wrapped<'a>(name: &'static str, value: &'a str, room: usize) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let mut rest = value;
    while !rest.is_empty() || lines.is_empty() {
        let split = rest.char_indices().nth(room).map_or(rest.len(), |(i, _)| i);
        let (head, tail) = rest.split_at(split);
        lines.push(field(if lines.is_empty() { name } else { "" }, Span::raw(head)));
        rest = tail;
    }
    lines
}

fn attributes<'a>(view: &'a AccountView, room: usize, theme: &Theme) -> Vec<Line<'a>> {
    let seal = match &view.seal {
        Some(seal) => Span::raw(seal.as_str()),
        None => Span::styled("none: legacy plaintext key at rest", theme.warning()),
    };
    // 132 characters: on as many whole lines as the width needs, aligned.
    let public_key = view.public_key.as_deref().unwrap_or(strings::LOADING);
    let mut lines =
        vec![field("address", Span::raw(view.address.as_str())), field("scheme", Span::raw(view.scheme))];
    lines.extend(wrapped("public_key", public_key, room));
    lines.push(field("seal", seal));
    for (i, share) in view.shares.iter().enumerate() {
        let style = if share.answered { theme.dim() } else { theme.warning() };
        lines.push(field(if i == 0 { "shares" } else { "" }, Span::styled(share.text.as_str(), style)));
    }
    lines.extend([
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
    ]);
    lines
}
