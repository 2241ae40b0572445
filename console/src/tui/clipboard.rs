//! The clipboard: the system one through arboard, else OSC 52 through the
//! terminal (SSH, tmux, no display). A copied key is cleared again after
//! [`CLEAR_AFTER`] where the platform allows, or when the console exits,
//! whichever comes first: [`PendingClears`] holds what is still to clear.

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

/// How long a copied key stays on the clipboard.
pub const CLEAR_AFTER: Duration = Duration::from_secs(30);

/// OSC 52 with a payload that is not base64: terminals clear the selection.
pub const OSC52_CLEAR: &str = "\x1b]52;c;!\x07";

/// The OSC 52 sequence that puts `text` on the terminal's clipboard.
pub fn osc52(text: &str) -> Zeroizing<String> {
    let encoded = Zeroizing::new(BASE64.encode(text.as_bytes()));
    let mut out = Zeroizing::new(String::with_capacity(encoded.len() + 8));
    out.push_str("\x1b]52;c;");
    out.push_str(&encoded);
    out.push('\x07');
    out
}

/// Whether a system clipboard can be reached at all.
pub fn has_display() -> bool {
    if cfg!(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd", target_os = "netbsd")) {
        ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
    } else {
        true
    }
}

/// The system clipboard, opened on first use and kept open: on X11 the
/// copied text is served by this process for as long as it lives.
#[derive(Clone, Default)]
pub struct System {
    inner: Arc<Mutex<Option<arboard::Clipboard>>>,
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("System clipboard")
    }
}

impl System {
    /// Blocking: call from a blocking task.
    pub fn set(&self, text: &str) -> Result<(), String> {
        self.with(|clipboard| clipboard.set_text(text.to_owned()))
    }

    /// Empties the clipboard if it still holds `text` (blocking).
    pub fn clear_if(&self, text: &str) -> Result<(), String> {
        self.with(|clipboard| match clipboard.get_text().map(Zeroizing::new) {
            Ok(current) if current.as_str() == text => clipboard.clear(),
            _ => Ok(()),
        })
    }

    fn with(
        &self,
        f: impl FnOnce(&mut arboard::Clipboard) -> Result<(), arboard::Error>,
    ) -> Result<(), String> {
        let mut guard = self.inner.lock().map_err(|_| "the clipboard is unavailable".to_owned())?;
        if guard.is_none() {
            *guard = Some(arboard::Clipboard::new().map_err(|e| e.to_string())?);
        }
        match guard.as_mut() {
            Some(clipboard) => f(clipboard).map_err(|e| e.to_string()),
            None => Err("the clipboard is unavailable".to_owned()),
        }
    }
}

/// How one copied key is cleared again. Its `Debug` never shows the key.
pub enum Clear {
    /// Empty the system clipboard if it still holds the key.
    System { clipboard: System, text: Zeroizing<String> },
    /// Send the terminal [`OSC52_CLEAR`].
    Terminal,
}

impl std::fmt::Debug for Clear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Clear::System { clipboard, .. } => {
                f.debug_struct("System").field("clipboard", clipboard).field("text", &"[REDACTED]").finish()
            }
            Clear::Terminal => f.write_str("Terminal"),
        }
    }
}

impl Clear {
    /// Clears now, writing to stdout directly (the exit path, once the
    /// event loop no longer writes). Blocking.
    pub fn run_at_exit(self) {
        match self {
            Clear::System { clipboard, text } => {
                let _ = clipboard.clear_if(&text);
            }
            Clear::Terminal => {
                let mut out = std::io::stdout();
                let _ = out.write_all(OSC52_CLEAR.as_bytes()).and_then(|()| out.flush());
            }
        }
    }
}

/// The copied keys not cleared yet, shared by their timers and the exit
/// path: whichever comes first takes a clear and runs it, the other finds
/// nothing. A clear is armed before the key reaches the clipboard, so no
/// exit can fall between the copy and the arming.
#[derive(Debug, Clone, Default)]
pub struct PendingClears {
    pending: Arc<Mutex<Vec<(u64, Clear)>>>,
    next: Arc<AtomicU64>,
}

impl PendingClears {
    /// Remembers `clear`; the id takes it back.
    pub fn arm(&self, clear: Clear) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut pending) = self.pending.lock() {
            pending.push((id, clear));
        }
        id
    }

    /// The clear armed as `id`, if nothing ran it yet.
    pub fn take(&self, id: u64) -> Option<Clear> {
        let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let index = pending.iter().position(|(armed, _)| *armed == id)?;
        Some(pending.swap_remove(index).1)
    }

    /// Every clear not run yet.
    pub fn take_all(&self) -> Vec<Clear> {
        let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.drain(..).map(|(_, clear)| clear).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.lock().map_or(true, |pending| pending.is_empty())
    }

    /// Runs every pending clear when dropped: on return from the console
    /// and while a panic unwinds through it.
    pub fn clear_on_exit(&self) -> ClearOnExit {
        ClearOnExit(self.clone())
    }
}

/// See [`PendingClears::clear_on_exit`].
#[derive(Debug)]
pub struct ClearOnExit(PendingClears);

impl Drop for ClearOnExit {
    fn drop(&mut self) {
        for clear in self.0.take_all() {
            clear.run_at_exit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_wraps_base64() {
        assert_eq!(osc52("hi").as_str(), "\x1b]52;c;aGk=\x07");
    }

    #[test]
    fn a_clear_is_taken_once_by_its_timer_or_by_the_exit() {
        let clears = PendingClears::default();
        let first = clears.arm(Clear::Terminal);
        let second = clears.arm(Clear::Terminal);
        assert!(clears.take(first).is_some());
        assert!(clears.take(first).is_none(), "the timer ran it; the exit finds nothing");
        assert_eq!(clears.take_all().len(), 1);
        assert!(clears.take(second).is_none(), "the exit ran it; the timer finds nothing");
        assert!(clears.is_empty());
    }
}
