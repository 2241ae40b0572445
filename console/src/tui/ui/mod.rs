//! Drawing: pure functions of `&App`. Nothing here changes state.

mod audit;
mod details;
mod footer;
mod header;
mod list;
mod popups;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use self::theme::Theme;
use crate::tui::app::model::Input;
use crate::tui::app::{App, Screen};

pub fn draw(frame: &mut Frame, app: &App) {
    let theme = Theme::for_env(&app.env, app.colours.get(&app.env.name).copied());
    let [header_area, main, status, footer] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    header::draw(frame, header_area, app, &theme);
    match &app.screen {
        Screen::List => list::draw(frame, main, app, &theme),
        Screen::Details(details) => details::draw(frame, main, details, &theme),
    }
    draw_status(frame, status, app, &theme);
    footer::draw(frame, footer, app, &theme);
    popups::draw(frame, app, &theme);
}

fn draw_status(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if let Some(status) = &app.status {
        let style = if status.error { theme.error() } else { theme.dim() };
        let text = ellipsize(&status.text, usize::from(area.width));
        frame.render_widget(Paragraph::new(Span::styled(text, style)), area);
    }
}

/// `text` cut to `width` columns with a visible `…` where it was cut.
pub(crate) fn ellipsize(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A text field as typed: `> ` then the text with the cursor in it. A
/// default that typing replaces is shown selected.
pub(crate) fn input_line<'a>(input: &Input, theme: &Theme) -> Line<'a> {
    let (before, after) = input.split();
    if input.is_fresh() {
        return Line::from(vec![
            Span::styled("> ", theme.header()),
            Span::styled(input.text.clone(), theme.selected()),
            Span::styled("▏", theme.header()),
        ]);
    }
    Line::from(Span::styled(format!("> {before}▏{after}"), theme.header()))
}

/// A rectangle of `width` x `height` centred in `area`, clamped to it.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }
}

pub(crate) fn format_time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// To the minute, for the list.
pub(crate) fn format_minute(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}
