//! The account list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TableRow, Table};

use super::theme::Theme;
use super::{ellipsize, format_minute};
use crate::tui::app::list::{Direct, Paging};
use crate::tui::app::model::Row;
use crate::tui::app::{App, Connection};
use crate::tui::strings;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let list = &app.list;
    let block = block(app, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let viewport = usize::from(inner.height.saturating_sub(1)).max(1);
    let columns = columns(usize::from(inner.width));
    let end = list.len().min(list.offset + viewport);
    let rows: Vec<TableRow> = (list.offset..end)
        .map(|index| {
            // A row scrolled back to is read again; until then, a placeholder.
            let row = match list.row(index) {
                Some(row) => table_row(row, &columns, theme),
                None => TableRow::new([Cell::from(Span::styled(strings::READING_AGAIN, theme.dim()))]),
            };
            if index == list.selected { row.style(theme.selected()) } else { row }
        })
        .collect();
    let shown = rows.len() as u16;
    let header = TableRow::new(columns.iter().map(|c| c.column.title())).style(theme.dim());
    let widths: Vec<Constraint> = columns.iter().map(|c| Constraint::Length(c.width as u16)).collect();
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), inner);
    // Under the last row, across the whole width: loading, more, or why empty.
    if let Some(note) = trailing_note(app, list.is_empty())
        && shown + 1 < inner.height
    {
        let style = if matches!(list.paging, Paging::Failed(..)) { theme.error() } else { theme.dim() };
        let line = Rect { y: inner.y + 1 + shown, height: 1, ..inner };
        frame.render_widget(Paragraph::new(Span::styled(note, style)), line);
    }
}

fn block<'a>(app: &'a App, theme: &Theme) -> Block<'a> {
    let list = &app.list;
    let mut title = vec![Span::raw(format!(" Accounts ({} loaded) ", list.read))];
    if list.editing || !list.filter.text.is_empty() {
        let (before, after) = list.filter.split();
        let cursor = if list.editing { "▏" } else { "" };
        title.push(Span::styled(format!(" /{before}{cursor}{after} "), theme.header()));
        let count = list.visible().len();
        title.push(match (&list.direct, &list.search) {
            (Some(Direct::Loading(_)), _) => Span::raw(" fetching this address… "),
            (Some(Direct::Missing(_)), _) => Span::raw(" no account has this address "),
            (Some(Direct::Failed(e)), _) => Span::styled(format!(" lookup failed: {e} "), theme.error()),
            (Some(Direct::Found(_)), _) => Span::raw(" fetched directly "),
            (None, Some(search)) if list.searching() => match &search.error {
                Some(e) => Span::styled(format!(" {} ", strings::search_failed(e)), theme.error()),
                None => Span::raw(format!(" {} ", strings::search_progress(search, count))),
            },
            (None, _) => Span::raw(format!(" {count} match ")),
        });
    }
    Block::new().borders(Borders::ALL).border_style(theme.border()).title(Line::from(title))
}

/// The list's columns, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Address,
    Scheme,
    Created,
    CreatedBy,
    Flag,
}

impl Column {
    fn title(self) -> &'static str {
        match self {
            Column::Address => "address",
            Column::Scheme => "scheme",
            Column::Created => "created (UTC)",
            Column::CreatedBy => "created_by",
            Column::Flag => "flag",
        }
    }

    /// Its width: what its widest value needs (created_by: at least this).
    fn width(self) -> usize {
        match self {
            Column::Address => 42,
            Column::Scheme => 9,
            Column::Created => 16,
            Column::CreatedBy => 14,
            Column::Flag => 9,
        }
    }
}

struct Shown {
    column: Column,
    width: usize,
}

/// The columns that fit in `room` columns whole. An address is never cut;
/// columns are left out, least useful first (scheme, then created), rather
/// than squeezed; created_by takes what is left and shows `…` when cut.
fn columns(room: usize) -> Vec<Shown> {
    use Column::*;
    let width = |set: &[Column]| set.iter().map(|c| c.width()).sum::<usize>() + set.len().saturating_sub(1);
    let choices: [&[Column]; 4] = [
        &[Address, Scheme, Created, CreatedBy, Flag],
        &[Address, Created, CreatedBy, Flag],
        &[Address, CreatedBy, Flag],
        &[Address, Flag],
    ];
    let set = choices.iter().find(|set| width(set) <= room).copied().unwrap_or(&[Address]);
    let spare = room.saturating_sub(width(set));
    set.iter()
        .map(|&column| Shown { column, width: column.width() + if column == CreatedBy { spare } else { 0 } })
        .collect()
}

fn table_row<'a>(row: &'a Row, columns: &[Shown], theme: &Theme) -> TableRow<'a> {
    let cells = columns.iter().map(|shown| match row {
        Row::Account(view) => match shown.column {
            Column::Address => Cell::from(view.address.as_str()),
            Column::Scheme => Cell::from(view.scheme),
            Column::Created => {
                Cell::from(view.created_at.as_ref().map_or_else(|| "-".to_owned(), format_minute))
            }
            Column::CreatedBy => {
                Cell::from(ellipsize(view.created_by.as_deref().unwrap_or("-"), shown.width))
            }
            Column::Flag => Cell::from(match (view.disabled.is_some(), view.legacy) {
                (true, _) => Span::styled(strings::DISABLED, theme.error()),
                (false, true) => Span::styled(strings::LEGACY, theme.warning()),
                (false, false) => Span::raw(""),
            }),
        },
        Row::Malformed { address, error } => match shown.column {
            Column::Address => Cell::from(address.as_str()),
            Column::Flag => Cell::from(Span::styled(strings::MALFORMED, theme.error())),
            Column::Scheme | Column::Created => Cell::from("-"),
            // The whole reason is on the details screen.
            Column::CreatedBy => Cell::from(Span::styled(ellipsize(error, shown.width), theme.error())),
        },
    });
    TableRow::new(cells.collect::<Vec<_>>())
}

/// The row under the last account: loading, more to come, or why nothing shows.
fn trailing_note(app: &App, empty: bool) -> Option<String> {
    let list = &app.list;
    if list.direct.is_some() {
        return None;
    }
    if list.searching() {
        let done = list.search.as_ref().is_some_and(|s| s.done);
        return empty.then(|| if done { strings::NO_MATCH } else { strings::SEARCHING }.to_owned());
    }
    match &list.paging {
        Paging::Loading(_) => Some(strings::LOADING_MORE.to_owned()),
        Paging::Failed(_, e) => Some(strings::page_failed(e)),
        Paging::More(_) => match &app.connection {
            Connection::Connecting => Some(strings::CONNECTING.to_owned()),
            Connection::Failed(_) => Some(strings::NOT_CONNECTED_SHORT.to_owned()),
            Connection::Ready => Some(strings::MORE_BELOW.to_owned()),
        },
        Paging::Done if empty && list.read == 0 && app.env.read_only => {
            Some(strings::NO_ACCOUNTS_READ_ONLY.to_owned())
        }
        Paging::Done if empty && list.read == 0 => Some(strings::NO_ACCOUNTS.to_owned()),
        Paging::Done if empty => Some(strings::NO_MATCH.to_owned()),
        Paging::Done => None,
    }
}
