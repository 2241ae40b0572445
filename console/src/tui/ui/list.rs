//! The account list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TableRow, Table};

use super::format_minute;
use super::theme::Theme;
use crate::tui::app::list::{Direct, Paging};
use crate::tui::app::model::Row;
use crate::tui::app::{App, Connection};
use crate::tui::strings;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let list = &app.list;
    let visible = list.visible();
    let block = block(app, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let viewport = usize::from(inner.height.saturating_sub(1)).max(1);
    let rows: Vec<TableRow> = visible
        .iter()
        .enumerate()
        .skip(list.offset)
        .take(viewport)
        .map(|(index, row)| {
            let row = table_row(row, theme);
            if index == list.selected { row.style(theme.selected()) } else { row }
        })
        .collect();
    let shown = rows.len() as u16;
    let header =
        TableRow::new(["address", "scheme", "created (UTC)", "created_by", "flag"]).style(theme.dim());
    let widths = [
        Constraint::Length(42),
        Constraint::Length(9),
        Constraint::Length(16),
        Constraint::Fill(1),
        Constraint::Length(6),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), inner);
    // Under the last row, across the whole width: loading, more, or why empty.
    if let Some(note) = trailing_note(app, visible.is_empty())
        && shown + 1 < inner.height
    {
        let style = if matches!(list.paging, Paging::Failed(..)) { theme.error() } else { theme.dim() };
        let line = Rect { y: inner.y + 1 + shown, height: 1, ..inner };
        frame.render_widget(Paragraph::new(Span::styled(note, style)), line);
    }
}

fn block<'a>(app: &'a App, theme: &Theme) -> Block<'a> {
    let list = &app.list;
    let mut title = vec![Span::raw(format!(" Accounts ({} loaded) ", list.rows.len()))];
    if list.editing || !list.filter.text.is_empty() {
        let cursor = if list.editing { "▏" } else { "" };
        title.push(Span::styled(format!(" /{}{cursor} ", list.filter.text), theme.header()));
        let count = list.visible().len();
        title.push(Span::raw(match &list.direct {
            Some(Direct::Loading(_)) => " fetching this address… ".to_owned(),
            Some(Direct::Missing(_)) => " no account has this address ".to_owned(),
            Some(Direct::Failed(e)) => format!(" lookup failed: {e} "),
            Some(Direct::Found(_)) => " fetched directly ".to_owned(),
            None => format!(" {count} match "),
        }));
    }
    Block::new().borders(Borders::ALL).border_style(theme.border()).title(Line::from(title))
}

fn table_row<'a>(row: &'a Row, theme: &Theme) -> TableRow<'a> {
    match row {
        Row::Account(view) => {
            let flags = match (view.disabled.is_some(), view.legacy) {
                (true, _) => Span::styled(strings::DISABLED, theme.error()),
                (false, true) => Span::styled(strings::LEGACY, theme.warning()),
                (false, false) => Span::raw(""),
            };
            TableRow::new(vec![
                Cell::from(view.address.as_str()),
                Cell::from(view.scheme),
                Cell::from(view.created_at.as_ref().map_or_else(|| "-".to_owned(), format_minute)),
                Cell::from(view.created_by.as_deref().unwrap_or("-")),
                Cell::from(flags),
            ])
        }
        Row::Malformed { address, error } => TableRow::new(vec![
            Cell::from(address.as_str()),
            Cell::from(Span::styled(strings::MALFORMED, theme.error())),
            Cell::from("-"),
            Cell::from(Span::styled(error.as_str(), theme.error())),
        ]),
    }
}

/// The row under the last account: loading, more to come, or why nothing shows.
fn trailing_note(app: &App, empty: bool) -> Option<String> {
    let list = &app.list;
    if list.direct.is_some() {
        return None;
    }
    match &list.paging {
        Paging::Loading(_) => Some(strings::LOADING_MORE.to_owned()),
        Paging::Failed(_, e) => Some(strings::page_failed(e)),
        Paging::More(_) => match &app.connection {
            Connection::Connecting => Some(strings::CONNECTING.to_owned()),
            Connection::Failed(_) => Some(strings::NOT_CONNECTED_SHORT.to_owned()),
            Connection::Ready => Some(strings::MORE_BELOW.to_owned()),
        },
        Paging::Done if empty && list.rows.is_empty() && app.env.read_only => {
            Some(strings::NO_ACCOUNTS_READ_ONLY.to_owned())
        }
        Paging::Done if empty && list.rows.is_empty() => Some(strings::NO_ACCOUNTS.to_owned()),
        Paging::Done if empty => Some(strings::NO_MATCH.to_owned()),
        Paging::Done => None,
    }
}
