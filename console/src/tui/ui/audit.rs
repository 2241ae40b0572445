//! The audit: a gauge while it runs, then the summary and its findings.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Row as TableRow, Table, Wrap};

use super::centered;
use super::theme::Theme;
use crate::tui::app::App;
use crate::tui::strings;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(job) = &app.audit else { return };
    // Below the header, which stays visible, and above the footer.
    let below = Rect { y: area.y + 4, height: area.height.saturating_sub(6), ..area };
    let rect = centered(below, below.width.saturating_sub(4), below.height);
    frame.render_widget(Clear, rect);
    let hint = if job.running() { strings::AUDIT_RUNNING_HINT } else { strings::AUDIT_DONE_HINT };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(strings::audit_title(&app.env.name))
        .title_bottom(hint);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [gauge_area, line_area, rest] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(2), Constraint::Min(1)]).areas(inner);

    let progress = &job.progress;
    let checked = job.report.as_ref().map_or(progress.checked, |r| r.checked);
    let ratio = if job.report.is_some() { 1.0 } else { job.ratio().unwrap_or(0.0) };
    let label = match progress.total {
        Some(total) => format!("{checked} / {total}"),
        None => format!("{checked} checked"),
    };
    frame.render_widget(Gauge::default().gauge_style(theme.border()).ratio(ratio).label(label), gauge_area);

    let mut line = Vec::new();
    if job.report.is_none() {
        line.push(Span::raw(strings::audit_line(
            progress.checked,
            progress.total,
            progress.rate(),
            progress.eta().map(|d| d.as_secs()),
            progress.findings,
        )));
    }
    if job.cancelling && job.running() {
        line.push(Span::styled(format!("  {}", strings::AUDIT_CANCELLING), theme.warning()));
    }
    frame.render_widget(Paragraph::new(Line::from(line)), line_area);

    if let Some(error) = &job.error {
        let text = Span::styled(strings::audit_failed(error), theme.error());
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), rest);
        return;
    }
    let Some(report) = &job.report else { return };
    let seals: Vec<String> = report.seals.iter().map(|(seal, n)| format!("{seal}: {n}")).collect();
    let mut summary = vec![
        Line::from(Span::styled(
            strings::audit_summary(
                report.checked,
                report.ok,
                report.findings.len(),
                report.warnings.len(),
                report.elapsed.as_secs_f64(),
                report.cancelled,
            ),
            if report.findings.is_empty() { theme.border() } else { theme.error() },
        )),
        Line::from(format!("seals: {}", if seals.is_empty() { "-".to_owned() } else { seals.join(", ") })),
    ];
    summary.extend(
        report.warnings.iter().map(|w| {
            Line::from(Span::styled(format!("warning: {}: {}", w.subject, w.detail), theme.warning()))
        }),
    );
    let summary_height = summary.len() as u16 + 1;
    let [summary_area, findings_area] =
        Layout::vertical([Constraint::Length(summary_height), Constraint::Min(1)]).areas(rest);
    frame.render_widget(Paragraph::new(summary), summary_area);
    if report.findings.is_empty() {
        frame
            .render_widget(Paragraph::new(Span::styled(strings::NO_FINDINGS, theme.border())), findings_area);
        return;
    }
    let viewport = usize::from(findings_area.height.saturating_sub(3)).max(1);
    let offset = job.selected.saturating_sub(viewport - 1);
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(findings_area);
    if let Some(finding) = report.findings.get(job.selected) {
        let text = format!("{}: {}", finding.kind, finding.detail);
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.warning())).wrap(Wrap { trim: false }),
            detail_area,
        );
    }
    let rows = report.findings.iter().enumerate().skip(offset).take(viewport).map(|(i, f)| {
        let row = TableRow::new(vec![f.kind.as_str().to_owned(), f.address.clone(), f.detail.clone()]);
        if i == job.selected { row.style(theme.selected()) } else { row }
    });
    let widths = [Constraint::Length(22), Constraint::Length(42), Constraint::Fill(1)];
    let header = TableRow::new(["finding", "address", "detail"]).style(theme.dim());
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), table_area);
}
