//! The header: where the console points, always visible.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use rossignol_core::config::{SealSpec, StoreSpec};

use super::ellipsize;
use super::theme::Theme;
use crate::tui::app::model::Health;
use crate::tui::app::{App, Connection};
use crate::tui::{safety, strings};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let env = &app.env;
    let mut first = vec![
        Span::styled(format!(" {} ", strings::APP), theme.header()),
        Span::raw(" env "),
        Span::styled(format!(" {} ", env.name), theme.header()),
        Span::raw("  "),
    ];
    if safety::is_production(env) {
        first.push(Span::styled(strings::PRODUCTION, theme.danger()));
        first.push(Span::raw(" "));
    }
    if env.read_only {
        first.push(Span::styled(strings::READ_ONLY, theme.danger()));
    } else {
        first.push(Span::styled(strings::WRITABLE, theme.border()));
    }
    let count = match &app.connection {
        Connection::Connecting => strings::CONNECTING.to_owned(),
        Connection::Ready => strings::accounts(app.count),
        Connection::Failed(_) => strings::NOT_CONNECTED_SHORT.to_owned(),
    };
    first.push(Span::raw(format!("  {count}")));

    // A sharded environment's providers come first, so that one down is
    // never cut off.
    let mut second: Vec<Span> = Vec::new();
    if !app.providers.is_empty() {
        second.push(Span::raw(" providers"));
        for (at, provider) in app.providers.iter().enumerate() {
            let comma = if at + 1 < app.providers.len() { "," } else { "" };
            second.push(Span::raw(format!(" {} ", provider.name)));
            second.push(match &provider.health {
                Health::Checking => Span::styled(strings::PROVIDER_CHECKING, theme.border()),
                Health::Up => Span::raw(strings::PROVIDER_UP),
                Health::Down(_) => Span::styled(strings::PROVIDER_DOWN, theme.danger()),
            });
            second.push(Span::raw(comma));
        }
        second.push(Span::raw(" "));
    }
    let mut rest = format!(" table {}", env.table);
    match &env.store {
        StoreSpec::Dynamodb { aws, .. } => {
            rest.push_str(&format!("  region {}", aws.region.as_deref().unwrap_or("default")));
            rest.push_str(&format!("  profile {}", aws.profile.as_deref().unwrap_or("default")));
            if let Some(url) = &aws.endpoint_url {
                rest.push_str(&format!("  endpoint {url}"));
            }
        }
        StoreSpec::Embedded { path } => rest.push_str(&format!("  embedded {}", path.display())),
        StoreSpec::Postgres { url } => rest.push_str(&format!("  postgres {url:?}")),
        StoreSpec::Sharded { .. } => {}
    }
    rest.push_str(&format!("  seal {}", seal(env)));
    // Cut visibly; `rossignol status` shows it all.
    let used: usize = second.iter().map(Span::width).sum();
    second.push(Span::raw(ellipsize(&rest, usize::from(area.width.saturating_sub(2)).saturating_sub(used))));
    let second = Line::from(second);

    let mut block = Block::new().borders(Borders::ALL).border_style(theme.border());
    if theme.guarded {
        // Unmistakable: the whole header is red.
        block = block.border_style(theme.danger()).style(theme.danger());
    }
    frame.render_widget(Paragraph::new(vec![Line::from(first), second]).block(block), area);
}

fn seal(env: &rossignol_core::config::Environment) -> String {
    match &env.seal {
        SealSpec::Kms { key_id } => format!("kms {key_id}"),
        SealSpec::Local { .. } => "local key".to_owned(),
        SealSpec::Transit { key, .. } => format!("transit {key}"),
        SealSpec::Shares => crate::output::sharded_label(&env.store),
    }
}
