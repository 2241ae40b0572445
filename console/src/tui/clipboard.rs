//! The clipboard: the system one through arboard, else OSC 52 through the
//! terminal (SSH, tmux, no display). A copied key is cleared again after
//! [`CLEAR_AFTER`] where the platform allows.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_wraps_base64() {
        assert_eq!(osc52("hi").as_str(), "\x1b]52;c;aGk=\x07");
    }
}
