//! Results from the worker.

use super::dialogs::{ExportPrompt, Pending, Popup};
use super::list::Direct;
use super::model::{Health, Input, RevealPurpose, Row, Secret, SecretInput};
use super::{Action, App, Connection, Effect, REVEAL_FOR, Screen, Trail};
use crate::tui::strings;

/// Results from the worker. Results of an older connection are dropped.
pub fn on_result(app: &mut App, action: Action) {
    let current = app.generation;
    match action {
        Action::Connected { generation, result } if generation == current => match result {
            Ok(()) => {
                app.connection = Connection::Ready;
                app.effects.push(Effect::Describe);
                app.probe();
                app.request_page();
            }
            Err(e) => {
                app.connection = Connection::Failed(e.clone());
                app.popup =
                    Some(Popup::Error { title: strings::CONNECT_FAILED, message: strings::connect_hint(&e) });
            }
        },
        Action::Probed { generation, answers } if generation == current => {
            for (provider, answer) in app.providers.iter_mut().zip(answers) {
                let health = match answer {
                    Ok(()) => Health::Up,
                    Err(why) => Health::Down(why),
                };
                // Said once, when it goes down; the header keeps showing it.
                if let Health::Down(why) = &health
                    && !matches!(provider.health, Health::Down(_))
                {
                    let text = strings::provider_down(&provider.name, why);
                    app.status = Some(super::Status { text, error: true });
                }
                provider.health = health;
            }
        }
        Action::Described { generation, result } if generation == current => match result {
            Ok(count) => app.count = count,
            Err(e) => app.error(strings::count_failed(&e)),
        },
        Action::Page { generation, result } if generation == current => match result {
            Ok((rows, next)) => {
                app.list.append(rows, next);
                if std::mem::take(&mut app.reloading) {
                    app.info(strings::reloaded(app.list.read, app.list.has_more()));
                }
                app.request_page();
            }
            Err(e) => {
                app.reloading = false;
                app.list.failed(e.clone());
                app.error(strings::page_failed(&e));
            }
        },
        Action::LookedUp { generation, address, result } if generation == current => {
            if matches!(&app.list.direct, Some(Direct::Loading(a)) if *a == address) {
                app.list.direct = Some(match result {
                    Ok(Some(row)) => Direct::Found(Box::new(row)),
                    Ok(None) => Direct::Missing(address),
                    Err(e) => Direct::Failed(e),
                });
            }
        }
        Action::SearchFound { generation, needle, scanned, rows } if generation == current => {
            app.list.found(&needle, scanned, rows);
        }
        Action::SearchDone { generation, needle, error } if generation == current => {
            app.list.search_done(&needle, error);
        }
        Action::Opened { generation, address, record, trail } if generation == current => {
            if let Screen::Details(details) = &mut app.screen
                && details.address == address
            {
                match record {
                    Ok(Row::Account(view)) => details.view = Some(view),
                    Ok(Row::Malformed { error, .. }) | Err(error) => details.error = Some(error),
                }
                details.trail = match trail {
                    Ok(entries) => Trail::Loaded(entries),
                    Err(e) => Trail::Failed(e),
                };
            }
        }
        Action::Revealed { generation, address, purpose, result } if generation == current => {
            on_revealed(app, address, purpose, result)
        }
        Action::Created { generation, address } if generation == current => {
            if let Some(job) = &mut app.create {
                job.push(address);
            }
        }
        Action::CreateFinished { generation, error } if generation == current => {
            if let Some(job) = &mut app.create {
                job.finish(error.clone());
                let (done, count) = (job.created.len(), job.count);
                if app.quitting {
                    // Every write in flight is in; now the console closes.
                    app.quit = true;
                    if (done as u64) < count || error.is_some() {
                        app.exit_message = Some(strings::quit_during_create(done, count, &app.env.name));
                    }
                    return;
                }
                match error {
                    Some(e) => app.error(strings::create_failed(done, &e)),
                    None => app.info(strings::created(done)),
                }
                app.reload();
            }
        }
        Action::AuditProgress { generation, progress } if generation == current => {
            if let Some(job) = &mut app.audit {
                job.progress = progress;
            }
        }
        Action::AuditFinished { generation, result } if generation == current => {
            if let Some(job) = &mut app.audit {
                job.finish(result);
            }
        }
        Action::Signed { generation, address, result } if generation == current => {
            refresh_details(app, &address);
            let waiting = matches!(&app.popup, Some(Popup::Working { address: a, .. }) if *a == address);
            match result {
                Ok(lines) => {
                    app.info(strings::SIGNED);
                    if waiting {
                        app.popup = Some(Popup::Signed { address, lines });
                    }
                }
                Err(e) => failed(app, strings::SIGN_FAILED, e),
            }
        }
        Action::Exported { generation, address, result } if generation == current => {
            refresh_details(app, &address);
            if matches!(&app.popup, Some(Popup::Working { address: a, .. }) if *a == address) {
                app.popup = None;
            }
            match result {
                Ok(path) => app.info(strings::exported(&address, &path)),
                Err(e) => failed(app, strings::EXPORT_FAILED, e),
            }
        }
        Action::DisabledSet { generation, address, disable, result } if generation == current => match result
        {
            Ok(changed) => {
                app.info(strings::disabled_set(&address, disable, changed));
                app.reload();
                refresh_details(app, &address);
            }
            Err(e) => failed(app, strings::REFUSED, e),
        },
        Action::BulkProgress { generation, progress } if generation == current => {
            if let Some(job) = &mut app.bulk {
                job.progress = progress;
            }
        }
        Action::BulkFinished { generation, result } if generation == current => {
            let Some(job) = &mut app.bulk else { return };
            let run = job.run.clone();
            job.finish(result.clone());
            match &result {
                Ok(report) if report.is_complete() => app.info(strings::bulk_done(&run, report)),
                Ok(_) => app.error(strings::bulk_incomplete(&run)),
                Err(e) => app.error(strings::bulk_failed(&run, e)),
            }
            app.reload();
        }
        Action::TransactionRead { address, path, result } => {
            let Some(Popup::SignPrompt { address: a, input, reading: true }) = &app.popup else { return };
            if *a != address || input.text.strip_prefix('@').map(str::trim) != Some(path.as_str()) {
                return;
            }
            match result {
                Ok(payload) => app.ask_confirm(Pending::Sign { address, payload }),
                Err(e) => {
                    let input = input.clone();
                    app.error(e);
                    app.popup = Some(Popup::SignPrompt { address, input, reading: false });
                }
            }
        }
        // Only if nothing else was asked for meanwhile.
        Action::ExportPathProposed { address, path }
            if app.popup.is_none() && app.focused_address().as_deref() == Some(address.as_str()) =>
        {
            let input = Input::prefilled(&path);
            app.popup = Some(Popup::ExportPrompt(ExportPrompt::Path { address, input, checking: false }));
        }
        Action::ExportPathChecked { address, path, result } => {
            let Some(Popup::ExportPrompt(ExportPrompt::Path { address: a, input, checking: true })) =
                &app.popup
            else {
                return;
            };
            if *a != address || input.text.trim() != path {
                return;
            }
            let input = input.clone();
            app.popup = Some(Popup::ExportPrompt(match result {
                Ok(()) => ExportPrompt::Passphrase { address, path, input: SecretInput::default() },
                Err(e) => {
                    app.error(e);
                    ExportPrompt::Path { address, input, checking: false }
                }
            }));
        }
        _ => {}
    }
}

/// A failure: a dialog to read it whole, and the same sentence as the status.
fn failed(app: &mut App, title: &'static str, message: String) {
    app.error(message.clone());
    app.popup = Some(Popup::Error { title, message });
}

/// Reloads the details screen of `address` (its trail or state changed).
fn refresh_details(app: &mut App, address: &str) {
    if matches!(&app.screen, Screen::Details(d) if d.address == address) {
        app.effects.push(Effect::Open { address: address.to_owned() });
    }
}

fn on_revealed(app: &mut App, address: String, purpose: RevealPurpose, result: Result<Secret, String>) {
    // The reveal (or its failed attempt) is in the trail now: show it.
    refresh_details(app, &address);
    let waiting = matches!(&app.popup, Some(Popup::Revealing { address: a }) if *a == address);
    match result {
        Err(e) => {
            app.error(e.clone());
            app.popup =
                Some(Popup::Error { title: strings::REVEAL_FAILED, message: strings::reveal_failed(&e) });
        }
        Ok(secret) => match purpose {
            // Esc while revealing cancelled the copy: nothing reaches the clipboard.
            RevealPurpose::Copy if waiting => {
                app.popup = None;
                app.effects.push(Effect::CopySecret(secret));
            }
            RevealPurpose::Copy => {}
            // A reveal the operator has since dismissed is not shown.
            RevealPurpose::Show if waiting => {
                app.popup =
                    Some(Popup::Revealed { address: address.clone(), secret, until: app.now + REVEAL_FOR });
            }
            RevealPurpose::Show => {}
        },
    }
}
