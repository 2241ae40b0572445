//! The account list: what is loaded, where the next page starts, the
//! selection, the scroll position and the filter.

use rossignol_core::Address;
use rossignol_core::store::Cursor;

use super::model::{Input, Row};

/// Accounts read per store request.
pub const PAGE_SIZE: usize = 100;
/// Load the next page when the selection comes this close to the end.
const PREFETCH: usize = 20;

/// Where paging stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// More to read from this cursor (`None`: the first page).
    More(Option<Cursor>),
    Loading(Option<Cursor>),
    Failed(Option<Cursor>, String),
    Done,
}

/// A full address typed into the filter, fetched directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direct {
    Loading(String),
    Found(Box<Row>),
    Missing(String),
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct List {
    pub rows: Vec<Row>,
    pub paging: Paging,
    pub selected: usize,
    pub offset: usize,
    /// Rows that fit on screen.
    pub viewport: usize,
    pub filter: Input,
    /// The filter field has the keyboard.
    pub editing: bool,
    pub direct: Option<Direct>,
    /// `G` was pressed: keep loading, then select the last row.
    pub want_end: bool,
    /// After a reload: the account to select again, and how many rows
    /// were loaded before (pages are read up to there to find it).
    pub restore: Option<(String, usize)>,
}

impl Default for List {
    fn default() -> Self {
        List {
            rows: Vec::new(),
            paging: Paging::More(None),
            selected: 0,
            offset: 0,
            viewport: 20,
            filter: Input::default(),
            editing: false,
            direct: None,
            want_end: false,
            restore: None,
        }
    }
}

impl List {
    /// The rows shown, by index into `rows` (or the direct lookup's row).
    pub fn visible(&self) -> Vec<&Row> {
        if let Some(direct) = &self.direct {
            return match direct {
                Direct::Found(row) => vec![row.as_ref()],
                _ => Vec::new(),
            };
        }
        let needle = self.filter.text.trim().to_ascii_lowercase();
        if needle.is_empty() {
            return self.rows.iter().collect();
        }
        self.rows.iter().filter(|r| r.address().to_ascii_lowercase().contains(&needle)).collect()
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.visible().get(self.selected).copied()
    }

    pub fn has_more(&self) -> bool {
        self.direct.is_none() && !matches!(self.paging, Paging::Done)
    }

    pub fn is_loading(&self) -> bool {
        matches!(self.paging, Paging::Loading(_))
    }

    /// Moves the selection by `delta` rows, clamped.
    pub fn move_by(&mut self, delta: isize) {
        let len = self.visible().len();
        if len == 0 {
            self.selected = 0;
        } else {
            self.selected = self.selected.saturating_add_signed(delta).min(len - 1);
        }
        self.scroll();
    }

    pub fn top(&mut self) {
        self.want_end = false;
        self.selected = 0;
        self.scroll();
    }

    /// The last loaded row; if more remain, keep loading until the end.
    pub fn bottom(&mut self) {
        let len = self.visible().len();
        self.selected = len.saturating_sub(1);
        self.want_end = self.has_more();
        self.scroll();
    }

    /// Keeps the selection on screen.
    pub fn scroll(&mut self) {
        let viewport = self.viewport.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + viewport {
            self.offset = self.selected + 1 - viewport;
        }
    }

    /// The cursor of the page to request now, if one should be requested:
    /// nothing loaded yet, the selection near the end, or `G` pending.
    pub fn next_request(&mut self) -> Option<Option<Cursor>> {
        let Paging::More(cursor) = &self.paging else { return None };
        if self.direct.is_some() {
            return None;
        }
        let near_end = self.selected + PREFETCH >= self.visible().len();
        let restoring = self.restore.as_ref().is_some_and(|(_, rows)| self.rows.len() < *rows);
        if self.rows.is_empty() || near_end || self.want_end || restoring {
            let cursor = cursor.clone();
            self.paging = Paging::Loading(cursor.clone());
            return Some(cursor);
        }
        None
    }

    /// A page arrived.
    pub fn append(&mut self, rows: Vec<Row>, next: Option<Cursor>) {
        self.rows.extend(rows);
        self.paging = match next {
            Some(cursor) => Paging::More(Some(cursor)),
            None => Paging::Done,
        };
        if self.want_end && matches!(self.paging, Paging::Done) {
            self.want_end = false;
            self.selected = self.visible().len().saturating_sub(1);
        }
        if let Some((address, rows)) = &self.restore {
            let found = self.visible().iter().position(|r| r.address() == address);
            if let Some(at) = found {
                self.selected = at;
            }
            if found.is_some() || self.rows.len() >= *rows || matches!(self.paging, Paging::Done) {
                self.restore = None;
            }
        }
        self.scroll();
    }

    /// Forgets the rows to read them again, keeping the filter, the
    /// viewport and (once its page is back) the selected account.
    pub fn reload(&mut self) {
        let restore = self.selected_row().map(|r| (r.address().to_owned(), self.rows.len()));
        let kept = List {
            viewport: self.viewport,
            filter: std::mem::take(&mut self.filter),
            editing: self.editing,
            restore,
            ..List::default()
        };
        *self = kept;
    }

    /// A page failed: remember where to retry from.
    pub fn failed(&mut self, error: String) {
        let cursor = match &self.paging {
            Paging::Loading(c) | Paging::More(c) | Paging::Failed(c, _) => c.clone(),
            Paging::Done => return,
        };
        self.want_end = false;
        self.paging = Paging::Failed(cursor, error);
    }

    /// Asks to retry a failed page.
    pub fn retry(&mut self) {
        if let Paging::Failed(cursor, _) = &self.paging {
            self.paging = Paging::More(cursor.clone());
        }
    }

    /// The filter changed: a full address is looked up directly (returned),
    /// anything else filters what is loaded.
    pub fn filter_changed(&mut self) -> Option<String> {
        self.selected = 0;
        self.offset = 0;
        // Any case is accepted here: the checksum form is what is fetched.
        let text = self.filter.text.trim().to_ascii_lowercase();
        if let (42, Ok(address)) = (text.len(), Address::parse(&text)) {
            let address = address.to_string();
            self.direct = Some(Direct::Loading(address.clone()));
            Some(address)
        } else {
            self.direct = None;
            None
        }
    }

    pub fn clear_filter(&mut self) {
        self.filter = Input::default();
        self.editing = false;
        self.direct = None;
        self.selected = 0;
        self.offset = 0;
    }
}
