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
    let visible = list.visible();
    let block = block(app, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let viewport = usize::from(inner.height.saturating_sub(1)).max(1);
    let columns = columns(usize::from(inner.width));
    let rows: Vec<TableRow> = visible
        .iter()
        .enumerate()
        .skip(list.offset)
        .take(viewport)
        .map(|(index, row)| {
            let row = table_row(row, &columns, theme);
            if index == list.selected { row.style(theme.selected()) } else { row }
        })
        .collect();
    let shown = rows.len() as u16;
    let header = TableRow::new(columns.iter().map(|c| c.column.title())).style(theme.dim());
    let widths: Vec<Constraint> = columns.iter().map(|c| Constraint::Length(c.width as u16)).collect();
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
    match &list.paging {
        Paging::More(_) | Paging::Loading(_) if empty && !list.rows.is_empty() => {
            Some(strings::NO_MATCH_YET.to_owned())
        }
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
