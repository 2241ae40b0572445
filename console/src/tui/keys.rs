//! Every key the console answers to, named once. The help overlay and the
//! footer are built from these lists.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One binding: the keys that trigger it and how help shows it.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    codes: &'static [(KeyCode, KeyModifiers)],
    pub label: &'static str,
    /// One word, for the footer.
    pub short: &'static str,
    pub help: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

impl Key {
    pub fn matches(&self, event: &KeyEvent) -> bool {
        // Shift is implied by an upper-case character; terminals differ in
        // whether they report it.
        let mods =
            if matches!(event.code, KeyCode::Char(_)) { event.modifiers - SHIFT } else { event.modifiers };
        self.codes.iter().any(|(code, m)| {
            let m = if matches!(code, KeyCode::Char(_)) { *m - SHIFT } else { *m };
            *code == event.code && m == mods
        })
    }
}

macro_rules! key {
    ($name:ident, $label:literal, $short:literal, $help:literal, $($code:expr => $mods:expr),+ $(,)?) => {
        pub const $name: Key = Key { codes: &[$(($code, $mods)),+], label: $label, short: $short, help: $help };
    };
}

key!(DOWN, "j/↓", "down", "move down", KeyCode::Char('j') => NONE, KeyCode::Down => NONE);
key!(UP, "k/↑", "up", "move up", KeyCode::Char('k') => NONE, KeyCode::Up => NONE);
key!(TOP, "g", "top", "go to the first account", KeyCode::Char('g') => NONE, KeyCode::Home => NONE);
key!(BOTTOM, "G", "bottom", "go to the last account (loads the rest)", KeyCode::Char('G') => SHIFT, KeyCode::End => NONE);
key!(HALF_DOWN, "Ctrl-d", "half down", "half a page down", KeyCode::Char('d') => CTRL);
key!(HALF_UP, "Ctrl-u", "half up", "half a page up", KeyCode::Char('u') => CTRL);
key!(PAGE_DOWN, "PgDn", "page down", "a page down", KeyCode::PageDown => NONE);
key!(PAGE_UP, "PgUp", "page up", "a page up", KeyCode::PageUp => NONE);
key!(FILTER, "/", "filter", "filter by address (a full address is fetched directly)", KeyCode::Char('/') => NONE);
key!(DETAILS, "Enter", "details", "open details", KeyCode::Enter => NONE);
key!(REVEAL, "r", "reveal", "reveal the private key (asks first)", KeyCode::Char('r') => NONE);
key!(COPY_ADDRESS, "y", "copy", "copy the address", KeyCode::Char('y') => NONE);
key!(COPY_KEY, "Y", "copy key", "copy the private key (asks first)", KeyCode::Char('Y') => SHIFT);
key!(SIGN, "s", "sign", "sign with the key, which is never shown (asks first)", KeyCode::Char('s') => NONE);
key!(EXPORT, "x", "export", "export to an encrypted V3 keystore file (asks first)", KeyCode::Char('x') => NONE);
key!(TOGGLE_DISABLED, "D", "disable", "disable the account, or enable it again (asks first)", KeyCode::Char('D') => SHIFT);
key!(CREATE, "c", "create", "create accounts", KeyCode::Char('c') => NONE);
key!(AUDIT, "a", "audit", "run the integrity audit", KeyCode::Char('a') => NONE);
key!(SWITCH_ENV, "e", "env", "switch environment (pick from the list)", KeyCode::Char('e') => NONE);
key!(COMMAND, ":", "command", "commands: :env :audit :create N :migrate :repair P :refresh :q (↑/↓ history)", KeyCode::Char(':') => NONE);
key!(REFRESH, "R", "reload", "reload the list", KeyCode::Char('R') => SHIFT);
key!(HELP, "?", "help", "this help", KeyCode::Char('?') => NONE);
key!(BACK, "Esc", "back", "back, cancel, close, clear the filter", KeyCode::Esc => NONE);
key!(QUIT, "q", "quit", "back; on the list, quit (asks if work is running)", KeyCode::Char('q') => NONE);
key!(FORCE_QUIT, "Ctrl-c", "quit", "quit from anywhere (asks if work is running)", KeyCode::Char('c') => CTRL);

// In dialogs.
key!(NEXT_BUTTON, "Tab/←/→", "buttons", "move between buttons", KeyCode::Tab => NONE, KeyCode::BackTab => SHIFT,
    KeyCode::Left => NONE, KeyCode::Right => NONE);
key!(COMPLETE, "Tab", "complete", "complete a command or environment", KeyCode::Tab => NONE);
key!(SUBMIT, "Enter", "confirm", "confirm the focused button / run", KeyCode::Enter => NONE);
key!(ERASE, "Backspace", "erase", "erase", KeyCode::Backspace => NONE);

/// Help, in the order shown.
pub const LIST_KEYS: &[Key] = &[
    DOWN,
    UP,
    TOP,
    BOTTOM,
    HALF_DOWN,
    HALF_UP,
    PAGE_DOWN,
    PAGE_UP,
    FILTER,
    DETAILS,
    REVEAL,
    COPY_ADDRESS,
    COPY_KEY,
    SIGN,
    EXPORT,
    TOGGLE_DISABLED,
    CREATE,
    AUDIT,
    SWITCH_ENV,
    COMMAND,
    REFRESH,
    HELP,
    BACK,
    QUIT,
    FORCE_QUIT,
];
pub const DIALOG_KEYS: &[Key] = &[NEXT_BUTTON, SUBMIT, COMPLETE, ERASE, BACK];

/// The editing keys of every text field, for help.
pub const EDITING_HELP: &str =
    "←/→ Home End (Ctrl-a/e) move · Backspace Delete · Ctrl-u/k/w delete to start/end/word";

/// The character a plain key types into a field, if any.
pub fn typed(event: &KeyEvent) -> Option<char> {
    match event.code {
        KeyCode::Char(c) if !event.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => Some(c),
        _ => None,
    }
}

/// The bindings an operator may remap, by the name the config file uses.
pub const REMAPPABLE: &[(&str, Key)] = &[
    ("down", DOWN),
    ("up", UP),
    ("top", TOP),
    ("bottom", BOTTOM),
    ("half_page_down", HALF_DOWN),
    ("half_page_up", HALF_UP),
    ("page_down", PAGE_DOWN),
    ("page_up", PAGE_UP),
    ("filter", FILTER),
    ("details", DETAILS),
    ("reveal", REVEAL),
    ("copy_address", COPY_ADDRESS),
    ("copy_key", COPY_KEY),
    ("sign", SIGN),
    ("export", EXPORT),
    ("disable", TOGGLE_DISABLED),
    ("create", CREATE),
    ("audit", AUDIT),
    ("env", SWITCH_ENV),
    ("command", COMMAND),
    ("reload", REFRESH),
    ("help", HELP),
    ("quit", QUIT),
];

type Chord = (KeyCode, KeyModifiers);

/// The operator's remapping (`[keys]` in the config file). A remapped
/// binding answers to its new key only; text fields are never remapped.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    /// New key -> the binding it triggers, with its label.
    custom: Vec<(Chord, Key, String)>,
}

impl Keymap {
    /// Reads `action = "key"` pairs. Says which entry is wrong and why.
    pub fn from_config(entries: &std::collections::BTreeMap<String, String>) -> Result<Self, String> {
        let mut keymap = Keymap::default();
        for (action, spec) in entries {
            let Some((_, key)) = REMAPPABLE.iter().find(|(name, _)| name == action) else {
                let names: Vec<&str> = REMAPPABLE.iter().map(|(name, _)| *name).collect();
                return Err(format!("[keys] {action}: no such action; the actions are {}", names.join(", ")));
            };
            let chord = parse_chord(spec).ok_or_else(|| {
                format!(
                    "[keys] {action} = {spec:?}: not a key (a character, Ctrl-x, Enter, Esc, Tab, F5, ...)"
                )
            })?;
            keymap.custom.push((chord, *key, spec.clone()));
        }
        // A new key must not shadow a binding that keeps its default.
        for (chord, key, spec) in &keymap.custom {
            let event = KeyEvent::new(chord.0, chord.1);
            if let Some((other, _)) = REMAPPABLE
                .iter()
                .find(|(_, other)| other.label != key.label && other.matches(&event) && !keymap.remaps(other))
            {
                return Err(format!(
                    "[keys] {spec:?} is already the key for {other}; remap {other} too, or pick another key"
                ));
            }
        }
        Ok(keymap)
    }

    fn remaps(&self, key: &Key) -> bool {
        self.custom.iter().any(|(_, k, _)| k.label == key.label)
    }

    /// The key event the bindings expect: a remapped key becomes its
    /// binding's default; a default that was remapped away answers nothing.
    pub fn translate(&self, event: KeyEvent) -> Option<KeyEvent> {
        let pressed = (event.code, event.modifiers - KeyModifiers::SHIFT);
        if let Some((_, key, _)) =
            self.custom.iter().find(|(chord, _, _)| (chord.0, chord.1 - KeyModifiers::SHIFT) == pressed)
        {
            let (code, modifiers) = key.codes[0];
            return Some(KeyEvent::new(code, modifiers));
        }
        let remapped_away = self.custom.iter().any(|(_, key, _)| key.matches(&event));
        (!remapped_away).then_some(event)
    }

    /// How help and the footer show `key`.
    pub fn label(&self, key: &Key) -> String {
        self.custom
            .iter()
            .find(|(_, k, _)| k.label == key.label)
            .map_or_else(|| key.label.to_owned(), |(_, _, spec)| spec.clone())
    }
}

fn parse_chord(spec: &str) -> Option<Chord> {
    let (mods, rest) = match spec.strip_prefix("Ctrl-").or_else(|| spec.strip_prefix("ctrl-")) {
        Some(rest) => (CTRL, rest),
        None => (NONE, spec),
    };
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) => KeyCode::Char(if mods == CTRL { c.to_ascii_lowercase() } else { c }),
        _ => match rest.to_ascii_lowercase().as_str() {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            f if f.starts_with('f') => KeyCode::F(f[1..].parse().ok().filter(|n| (1..=12).contains(n))?),
            _ => return None,
        },
    };
    Some((code, mods))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keymap(pairs: &[(&str, &str)]) -> Result<Keymap, String> {
        Keymap::from_config(&pairs.iter().map(|(a, k)| (a.to_string(), k.to_string())).collect())
    }

    fn press(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), NONE)
    }

    #[test]
    fn a_remapped_binding_answers_to_its_new_key_only() {
        let map = keymap(&[("reveal", "v"), ("quit", "Ctrl-x")]).unwrap();
        assert!(REVEAL.matches(&map.translate(press('v')).unwrap()));
        assert_eq!(map.translate(press('r')), None);
        assert!(QUIT.matches(&map.translate(KeyEvent::new(KeyCode::Char('x'), CTRL)).unwrap()));
        assert_eq!(map.translate(press('j')), Some(press('j')));
        assert_eq!(map.label(&REVEAL), "v");
        assert_eq!(map.label(&DOWN), "j/↓");
    }

    #[test]
    fn mistakes_are_named() {
        let err = keymap(&[("reveel", "v")]).unwrap_err();
        assert!(err.contains("no such action") && err.contains("reveal"), "{err}");
        let err = keymap(&[("reveal", "Ctrl-")]).unwrap_err();
        assert!(err.contains("not a key"), "{err}");
        let err = keymap(&[("reveal", "c")]).unwrap_err();
        assert!(err.contains("already the key for create"), "{err}");
        assert!(keymap(&[("reveal", "c"), ("create", "n")]).is_ok());
        assert_eq!(parse_chord("F5"), Some((KeyCode::F(5), NONE)));
        assert_eq!(parse_chord("F13"), None);
    }
}
