//! Text fields: one line editor for every prompt, filter and command line,
//! with the keys a shell has (←/→, Home/End, Ctrl-A/E, Ctrl-U/K/W,
//! Delete), and the passphrase field, which never shows what it holds.

use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use zeroize::Zeroizing;

/// What an editing key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The text changed.
    Changed,
    /// Only the cursor moved.
    Moved,
    /// Not an editing key: the caller decides what it means.
    Ignored,
}

impl Edit {
    pub fn changed(self) -> bool {
        self == Edit::Changed
    }
}

/// A line being typed. A prefilled default is replaced by the first
/// character typed (as a selected default is); moving the cursor keeps it
/// for editing instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    pub text: String,
    /// In characters, `0..=len`.
    cursor: usize,
    /// A default not yet touched: typing replaces it.
    fresh: bool,
}

impl Input {
    /// A field holding `text`, cursor at the end, ready to be edited.
    pub fn with(text: &str) -> Self {
        Input { text: text.to_owned(), cursor: text.chars().count(), fresh: false }
    }

    /// A field showing a default that the first character typed replaces.
    pub fn prefilled(text: &str) -> Self {
        Input { fresh: true, ..Input::with(text) }
    }

    /// The default is still untouched.
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The text before and after the cursor.
    pub fn split(&self) -> (&str, &str) {
        self.text.split_at(self.byte(self.cursor))
    }

    /// Replaces the whole text, cursor at the end.
    pub fn set(&mut self, text: &str) {
        *self = Input::with(text);
    }

    fn len(&self) -> usize {
        self.text.chars().count()
    }

    fn byte(&self, chars: usize) -> usize {
        self.text.char_indices().nth(chars).map_or(self.text.len(), |(i, _)| i)
    }

    fn insert(&mut self, c: char) {
        if std::mem::take(&mut self.fresh) {
            self.text.clear();
            self.cursor = 0;
        }
        let at = self.byte(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    fn backspace(&mut self) {
        if std::mem::take(&mut self.fresh) {
            self.text.clear();
            self.cursor = 0;
            return;
        }
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte(self.cursor);
            self.text.remove(at);
        }
    }

    /// Deletes the characters in `from..to` (character indices).
    fn delete(&mut self, from: usize, to: usize) {
        let (start, end) = (self.byte(from), self.byte(to));
        self.text.replace_range(start..end, "");
        self.cursor = from;
    }

    /// The start of the word before the cursor (shell Ctrl-W).
    fn word_start(&self) -> usize {
        let chars: Vec<char> = self.text.chars().take(self.cursor).collect();
        let mut at = chars.len();
        while at > 0 && chars[at - 1].is_whitespace() {
            at -= 1;
        }
        while at > 0 && !chars[at - 1].is_whitespace() {
            at -= 1;
        }
        at
    }

    /// Applies an editing key; `accept` says which characters may be typed.
    pub fn edit_with(&mut self, key: &KeyEvent, accept: impl Fn(char) -> bool) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let before = (self.text.len(), self.cursor);
        let moved = |input: &mut Input, to: usize| {
            input.fresh = false;
            input.cursor = to;
            Edit::Moved
        };
        match key.code {
            KeyCode::Char(c) if !ctrl && !alt => {
                if !accept(c) {
                    return Edit::Ignored;
                }
                self.insert(c);
                Edit::Changed
            }
            KeyCode::Left => moved(self, self.cursor.saturating_sub(1)),
            KeyCode::Right => moved(self, (self.cursor + 1).min(self.len())),
            KeyCode::Home => moved(self, 0),
            KeyCode::Char('a') if ctrl => moved(self, 0),
            KeyCode::End => moved(self, self.len()),
            KeyCode::Char('e') if ctrl => moved(self, self.len()),
            KeyCode::Backspace => {
                self.backspace();
                self.changed_since(before)
            }
            KeyCode::Delete => {
                self.fresh = false;
                if self.cursor < self.len() {
                    self.delete(self.cursor, self.cursor + 1);
                }
                self.changed_since(before)
            }
            KeyCode::Char('u') if ctrl => {
                self.fresh = false;
                self.delete(0, self.cursor);
                self.changed_since(before)
            }
            KeyCode::Char('k') if ctrl => {
                self.fresh = false;
                self.delete(self.cursor, self.len());
                self.changed_since(before)
            }
            KeyCode::Char('w') if ctrl => {
                self.fresh = false;
                self.delete(self.word_start(), self.cursor);
                self.changed_since(before)
            }
            _ => Edit::Ignored,
        }
    }

    /// Applies an editing key; any character may be typed.
    pub fn edit(&mut self, key: &KeyEvent) -> Edit {
        self.edit_with(key, |_| true)
    }

    fn changed_since(&self, (len, cursor): (usize, usize)) -> Edit {
        if self.text.len() != len || self.cursor != cursor { Edit::Changed } else { Edit::Moved }
    }
}

/// A passphrase being typed: zeroized on drop, never printed, shown as
/// bullets. Backspace and Ctrl-U edit it; the cursor stays at the end.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretInput(Zeroizing<String>);

impl SecretInput {
    pub fn push(&mut self, c: char) {
        self.0.push(c);
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn masked(&self) -> String {
        "•".repeat(self.len())
    }

    /// Applies an editing key: a character, Backspace, or Ctrl-U to start over.
    pub fn edit(&mut self, key: &KeyEvent) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => self.push(c),
            KeyCode::Backspace => self.pop(),
            // Zeroizing<String>::clear keeps the buffer, which is wiped on drop.
            KeyCode::Char('u') if ctrl => self.0.clear(),
            _ => return Edit::Ignored,
        }
        Edit::Changed
    }
}

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretInput([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn typed(input: &mut Input, text: &str) {
        for c in text.chars() {
            input.edit(&key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn typing_replaces_a_default_and_moving_keeps_it() {
        let mut count = Input::prefilled("1");
        typed(&mut count, "200");
        assert_eq!(count.text, "200");

        let mut path = Input::prefilled("0xabc.json");
        path.edit(&key(KeyCode::End));
        typed(&mut path, "x");
        assert_eq!(path.text, "0xabc.jsonx");

        let mut gone = Input::prefilled("default");
        gone.edit(&key(KeyCode::Backspace));
        assert_eq!(gone.text, "");
    }

    #[test]
    fn the_usual_line_editing_keys() {
        let mut input = Input::with("/tmp/some dir/file.json");
        input.edit(&ctrl('w'));
        assert_eq!(input.text, "/tmp/some ");
        input.edit(&key(KeyCode::Home));
        input.edit(&key(KeyCode::Delete));
        assert_eq!(input.text, "tmp/some ");
        input.edit(&key(KeyCode::Right));
        input.edit(&key(KeyCode::Right));
        input.edit(&key(KeyCode::Right));
        assert_eq!(input.split(), ("tmp", "/some "));
        typed(&mut input, "2");
        assert_eq!(input.text, "tmp2/some ");
        input.edit(&ctrl('k'));
        assert_eq!(input.text, "tmp2");
        input.edit(&ctrl('u'));
        assert_eq!((input.text.as_str(), input.cursor()), ("", 0));
        typed(&mut input, "éa");
        input.edit(&key(KeyCode::Left));
        input.edit(&key(KeyCode::Backspace));
        assert_eq!(input.text, "a");
        assert_eq!(input.edit(&key(KeyCode::Enter)), Edit::Ignored);
    }

    #[test]
    fn a_filter_can_refuse_characters() {
        let mut count = Input::prefilled("1");
        assert_eq!(count.edit_with(&key(KeyCode::Char('x')), |c| c.is_ascii_digit()), Edit::Ignored);
        assert_eq!(count.text, "1");
    }

    #[test]
    fn a_passphrase_starts_over_with_ctrl_u_and_never_prints() {
        let mut secret = SecretInput::default();
        for c in "hunter22".chars() {
            secret.edit(&key(KeyCode::Char(c)));
        }
        assert_eq!(secret.masked().chars().count(), 8);
        assert_eq!(format!("{secret:?}"), "SecretInput([REDACTED])");
        secret.edit(&ctrl('u'));
        assert!(secret.is_empty());
    }
}
