//! The interactive console: `rossignol` with no subcommand.
//!
//! Elm-style: [`app`] holds the state and changes it in `update`, [`ui`]
//! draws it, and [`worker`] does the store I/O on tokio tasks whose results
//! come back as actions, so drawing never waits on the network.
//!
//! SIGTERM and SIGHUP end the loop like `q`, so that a copied key is
//! cleared from the clipboard on those exits too.

pub mod app;
pub mod clipboard;
pub mod keys;
pub mod safety;
pub mod strings;
pub mod ui;
pub mod worker;

use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::style::Color;
use rossignol_core::config::{Config, Environment};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use self::app::{Action, App, update};
use self::worker::Worker;
use crate::Failure;

/// How often the clock advances (reveal countdown) without other events.
const TICK: Duration = Duration::from_millis(250);
/// How long the input thread waits for an event before checking for exit.
const POLL: Duration = Duration::from_millis(100);

pub async fn run(config: &Config, env: &Environment) -> Result<(), Failure> {
    // Mistakes in `[keys]` and `[theme]` are reported before the screen opens.
    let keymap = keys::Keymap::from_config(&config.keys).map_err(Failure::usage)?;
    let colours = colours(&config.theme).map_err(Failure::usage)?;
    // Installs a panic hook that restores the terminal before the message.
    let mut terminal =
        ratatui::try_init().map_err(|e| Failure::failed(format!("cannot open the terminal: {e}")))?;
    let result = event_loop(&mut terminal, config, env, keymap, colours).await;
    ratatui::restore();
    result
}

/// Reads terminal events on a thread of its own; they arrive on the channel.
fn spawn_input(stop: Arc<AtomicBool>) -> mpsc::UnboundedReceiver<io::Result<Event>> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let next = match event::poll(POLL) {
                Ok(false) => continue,
                Ok(true) => event::read(),
                Err(e) => Err(e),
            };
            let failed = next.is_err();
            if tx.send(next).is_err() || failed {
                return;
            }
        }
    });
    rx
}

/// Reads `[theme]`: environment name -> colour (a name or `#rrggbb`).
pub fn colours(theme: &BTreeMap<String, String>) -> Result<BTreeMap<String, Color>, String> {
    theme
        .iter()
        .map(|(env, colour)| {
            Color::from_str(colour).map(|c| (env.clone(), c)).map_err(|_| {
                format!("[theme] {env} = {colour:?}: not a colour (a name such as yellow, or #rrggbb)")
            })
        })
        .collect()
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    config: &Config,
    env: &Environment,
    keymap: keys::Keymap,
    colours: BTreeMap<String, Color>,
) -> Result<(), Failure> {
    let terminal_error = |e: io::Error| Failure::failed(format!("the terminal failed: {e}"));
    let (action_tx, mut actions) = mpsc::unbounded_channel();
    let (write_tx, mut writes) = mpsc::unbounded_channel::<worker::TerminalWrite>();
    let mut worker = Worker::new(action_tx, write_tx);
    // A copied key still on the clipboard is cleared on the way out,
    // whichever way that is: quit, error, signal or panic.
    let _clear_on_exit = worker.pending_clears().clear_on_exit();
    let mut terminate = signal(SignalKind::terminate()).map_err(terminal_error)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(terminal_error)?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut input = spawn_input(Arc::clone(&stop));
    let mut app = App::new(config.environments.clone(), env.clone(), Instant::now());
    app.keymap = keymap;
    app.colours = colours;
    let size = terminal.size().map_err(terminal_error)?;
    update(&mut app, Action::Resize { height: size.height });
    let mut tick = tokio::time::interval(TICK);
    let result = loop {
        for effect in std::mem::take(&mut app.effects) {
            worker.run(effect);
        }
        if app.quit {
            // Work cut short by the operator is not a success: say what was done.
            break match app.exit_message.take() {
                Some(message) => Err(Failure::failed(message)),
                None => Ok(()),
            };
        }
        if let Err(e) = terminal.draw(|frame| ui::draw(frame, &app)) {
            break Err(terminal_error(e));
        }
        let action = tokio::select! {
            Some(event) = input.recv() => match event {
                Ok(Event::Key(key)) if key.kind == KeyEventKind::Press => Action::Key(key),
                Ok(Event::Resize(_, height)) => Action::Resize { height },
                Ok(_) => continue,
                Err(e) => break Err(terminal_error(e)),
            },
            Some(action) = actions.recv() => action,
            Some(text) = writes.recv() => {
                // OSC 52, between frames so it cannot tear one.
                let mut out = io::stdout();
                if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                    app.error(strings::copy_failed(&e.to_string()));
                }
                continue;
            }
            _ = tick.tick() => Action::Tick(Instant::now()),
            Some(()) = terminate.recv() => break Ok(()),
            Some(()) = hangup.recv() => break Ok(()),
        };
        let mut next = Some(action);
        while let Some(action) = next {
            next = update(&mut app, action);
        }
    };
    stop.store(true, Ordering::Relaxed);
    result
}
