//! Keys on the list and details screens, and in the filter field.
//!
//! One rule for going back, as in k9s: Esc and `q` go back or close, and
//! `q` quits only from the list (asking first while work runs); Ctrl-c
//! quits from anywhere, asking the same way.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::dialogs::{self, Popup};
use super::model::RevealPurpose;
use super::{Action, App, Connection, Screen};
use crate::tui::{keys, strings};

pub fn on_key(app: &mut App, key: KeyEvent) -> Option<Action> {
    if keys::FORCE_QUIT.matches(&key) {
        app.ask_quit();
        return None;
    }
    if app.popup.is_some() {
        return dialogs::on_key(app, key);
    }
    if app.list.editing {
        on_filter_key(app, key);
        return None;
    }
    // Remapping applies to commands, never to typing.
    let key = app.keymap.translate(key)?;
    let details = matches!(app.screen, Screen::Details(_));
    if keys::HELP.matches(&key) {
        app.popup = Some(Popup::Help { scroll: 0 });
    } else if details && (keys::QUIT.matches(&key) || keys::BACK.matches(&key)) {
        app.back_to_list();
    } else if keys::QUIT.matches(&key) {
        app.ask_quit();
    } else if keys::COMMAND.matches(&key) {
        app.ask_command();
    } else if keys::SWITCH_ENV.matches(&key) {
        app.ask_env();
    } else if keys::REVEAL.matches(&key) {
        app.ask_reveal(RevealPurpose::Show);
    } else if keys::COPY_KEY.matches(&key) {
        app.ask_reveal(RevealPurpose::Copy);
    } else if keys::COPY_ADDRESS.matches(&key) {
        app.copy_address();
    } else if keys::SIGN.matches(&key) {
        app.ask_sign();
    } else if keys::EXPORT.matches(&key) {
        app.ask_export();
    } else if keys::TOGGLE_DISABLED.matches(&key) {
        app.ask_toggle_disabled();
    } else if keys::CREATE.matches(&key) {
        app.ask_create();
    } else if keys::AUDIT.matches(&key) {
        app.start_audit();
    } else if !details {
        on_list_key(app, key);
    }
    None
}

fn on_list_key(app: &mut App, key: KeyEvent) {
    let half = (app.list.viewport / 2).max(1) as isize;
    let page = app.list.viewport.max(1) as isize;
    if keys::DOWN.matches(&key) {
        app.list.move_by(1);
    } else if keys::UP.matches(&key) {
        app.list.move_by(-1);
    } else if keys::TOP.matches(&key) {
        app.list.top();
    } else if keys::BOTTOM.matches(&key) {
        app.list.bottom();
    } else if keys::HALF_DOWN.matches(&key) {
        app.list.move_by(half);
    } else if keys::HALF_UP.matches(&key) {
        app.list.move_by(-half);
    } else if keys::PAGE_DOWN.matches(&key) {
        app.list.move_by(page);
    } else if keys::PAGE_UP.matches(&key) {
        app.list.move_by(-page);
    } else if keys::FILTER.matches(&key) {
        app.list.editing = true;
    } else if keys::DETAILS.matches(&key) {
        match app.list.selected_row().map(|r| r.address().to_owned()) {
            Some(address) => app.open_details(address),
            None => app.error(strings::NOTHING_SELECTED),
        }
    } else if keys::REFRESH.matches(&key) {
        if app.connection == Connection::Ready {
            app.reloading = true;
            app.info(strings::RELOADING);
            app.reload();
        } else {
            app.info(strings::RECONNECTING);
            app.connect();
        }
        return;
    } else if keys::BACK.matches(&key) {
        app.clear_filter();
    }
    app.request_page();
}

fn on_filter_key(app: &mut App, key: KeyEvent) {
    if keys::BACK.matches(&key) {
        app.clear_filter();
    } else if keys::SUBMIT.matches(&key) {
        app.list.editing = false;
    } else if key.code == KeyCode::Down || key.code == KeyCode::Up {
        // Arrows only: j and k are typed.
        app.list.move_by(if key.code == KeyCode::Down { 1 } else { -1 });
    } else if app.list.filter.edit(&key).changed() {
        app.filter_changed();
    }
    app.request_page();
}
