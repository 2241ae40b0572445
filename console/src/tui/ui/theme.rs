//! Colours per environment. Read-only and production environments are red,
//! whatever their name; the others each get a colour of their own.

use ratatui::style::{Color, Modifier, Style};
use rossignol_core::config::Environment;

use crate::tui::safety;

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub accent: Color,
    pub guarded: bool,
}

/// Colours for environments that are neither read-only nor production.
const PALETTE: &[Color] = &[Color::Cyan, Color::Blue, Color::Magenta, Color::Yellow];

impl Theme {
    /// The environment's theme; `chosen` is the operator's colour for it
    /// (`[theme]`), which wins even for guarded environments.
    pub fn for_env(env: &Environment, chosen: Option<Color>) -> Self {
        if safety::is_guarded(env) {
            return Theme { accent: chosen.unwrap_or(Color::Red), guarded: true };
        }
        if let Some(accent) = chosen {
            return Theme { accent, guarded: false };
        }
        let accent = match env.name.as_str() {
            "local" => Color::Green,
            name => {
                let hash = name.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b)));
                PALETTE[hash % PALETTE.len()]
            }
        };
        Theme { accent, guarded: false }
    }

    pub fn header(&self) -> Style {
        if self.guarded {
            Style::new().fg(Color::White).bg(self.accent).add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(Color::Black).bg(self.accent).add_modifier(Modifier::BOLD)
        }
    }

    pub fn border(&self) -> Style {
        Style::new().fg(self.accent)
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn warning(&self) -> Style {
        Style::new().fg(Color::Yellow)
    }

    pub fn error(&self) -> Style {
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        Style::new().fg(Color::DarkGray)
    }

    pub fn danger(&self) -> Style {
        Style::new().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD)
    }
}
