//! The account list: a bounded window of rows over the table, the cursors
//! to read any page again, the selection, the scroll position, the filter
//! and the search behind it.
//!
//! Memory stays flat however large the table: at most [`WINDOW_PAGES`]
//! pages of rows are held; each page read keeps only the cursor it was
//! read from, so scrolling back reads it again. Indices (`selected`,
//! `offset`) count rows from the start of the table, not of the window.
//!
//! A filter over a table that is all in memory filters it there, at once.
//! Over a larger one it is a search: a parallel scan of the whole table,
//! streamed, keeping only the matches (at most [`MAX_MATCHES`]).

use rossignol_core::Address;
use rossignol_core::store::Cursor;

use super::model::{Input, Row};

/// Accounts read per store request.
pub const PAGE_SIZE: usize = 100;
/// Read ahead when the view comes this close to what is in memory.
const PREFETCH: usize = 20;
/// Pages held at most (about 0.3 KiB a row: some 600 KiB).
pub const WINDOW_PAGES: usize = 20;
/// Matches a search keeps; past this it says so and asks for a longer filter.
pub const MAX_MATCHES: usize = 10_000;

/// Where reading forward stands.
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

/// A filter run over the whole table by the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// Lower case, as matched.
    pub needle: String,
    /// Sorted by address.
    pub matches: Vec<Row>,
    /// Items read so far.
    pub scanned: u64,
    pub done: bool,
    /// More matched than [`MAX_MATCHES`]; the rest were not kept.
    pub capped: bool,
    pub error: Option<String>,
}

/// What a change of the filter asks of the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterChange {
    /// A full address: fetch it.
    Lookup(String),
    /// Search the table for this (lower case) text.
    Search(String),
    /// Filtered in memory, or cleared: nothing to ask.
    Nothing,
}

/// What the list shows: the table, a direct lookup's row, a search's
/// matches, or the rows in memory that a filter keeps.
enum View<'a> {
    Table,
    Direct(Option<&'a Row>),
    Matches(&'a [Row]),
    Filtered(String),
}

/// Where a page read begins: the row index and the cursor to read it from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PageStart {
    at: usize,
    after: Option<Cursor>,
}

#[derive(Debug, Clone)]
pub struct List {
    /// The rows in memory: whole pages, `rows[0]` being row `base`.
    pub rows: Vec<Row>,
    pub base: usize,
    /// The page `rows[0]` begins, and how many pages `rows` holds.
    first_page: usize,
    window_pages: usize,
    /// Every page read so far, in table order.
    pages: Vec<PageStart>,
    /// Rows read from the start of the table (pages read once, in order).
    pub read: usize,
    pub paging: Paging,
    /// A page being read again (scrolled back to, or past the window's end).
    rereading: Option<usize>,
    pub selected: usize,
    pub offset: usize,
    /// Rows that fit on screen.
    pub viewport: usize,
    pub filter: Input,
    /// The filter field has the keyboard.
    pub editing: bool,
    pub direct: Option<Direct>,
    pub search: Option<Search>,
    /// `G` was pressed: keep loading, then select the last row.
    pub want_end: bool,
    /// After a reload: the account to select again, and how many rows
    /// were read before (pages are read up to there to find it).
    restore: Option<(String, usize)>,
}

impl Default for List {
    fn default() -> Self {
        List {
            rows: Vec::new(),
            base: 0,
            first_page: 0,
            window_pages: 0,
            pages: Vec::new(),
            read: 0,
            paging: Paging::More(None),
            rereading: None,
            selected: 0,
            offset: 0,
            viewport: 20,
            filter: Input::default(),
            editing: false,
            direct: None,
            search: None,
            want_end: false,
            restore: None,
        }
    }
}

impl List {
    /// An empty list, `viewport` rows tall.
    pub fn with_viewport(viewport: usize) -> Self {
        List { viewport, ..List::default() }
    }

    fn needle(&self) -> String {
        self.filter.text.trim().to_ascii_lowercase()
    }

    /// Every row of the table is in memory.
    fn all_in_memory(&self) -> bool {
        self.paging == Paging::Done && self.base == 0 && self.rows.len() == self.read
    }

    /// A filter is typed and runs as a search of the table.
    pub fn searching(&self) -> bool {
        self.direct.is_none() && !self.needle().is_empty() && !self.all_in_memory()
    }

    /// What the list shows now, decided once per question asked of it.
    fn view(&self) -> View<'_> {
        if let Some(direct) = &self.direct {
            return View::Direct(match direct {
                Direct::Found(row) => Some(row.as_ref()),
                _ => None,
            });
        }
        let needle = self.needle();
        if needle.is_empty() {
            View::Table
        } else if self.all_in_memory() {
            View::Filtered(needle)
        } else {
            View::Matches(self.search.as_ref().map_or(&[], |s| s.matches.as_slice()))
        }
    }

    /// The rows a filter shows (all of them in memory, or the search's
    /// matches); without a filter, the rows in memory.
    pub fn visible(&self) -> Vec<&Row> {
        match self.view() {
            View::Direct(row) => row.into_iter().collect(),
            View::Table => self.rows.iter().collect(),
            View::Matches(matches) => matches.iter().collect(),
            View::Filtered(needle) => self.filtered(needle).collect(),
        }
    }

    /// The rows in memory whose address contains `needle` (lower case).
    fn filtered(&self, needle: String) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.address().to_ascii_lowercase().contains(&needle))
    }

    /// Rows the selection moves over: the table read so far, or what the
    /// filter shows.
    pub fn len(&self) -> usize {
        match self.view() {
            View::Direct(row) => usize::from(row.is_some()),
            View::Table => self.read,
            View::Matches(matches) => matches.len(),
            View::Filtered(needle) => self.filtered(needle).count(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `index` (counted as [`List::len`] counts), if it is in memory.
    pub fn row(&self, index: usize) -> Option<&Row> {
        match self.view() {
            View::Direct(row) => row.filter(|_| index == 0),
            View::Table => index.checked_sub(self.base).and_then(|i| self.rows.get(i)),
            View::Matches(matches) => matches.get(index),
            View::Filtered(needle) => self.filtered(needle).nth(index),
        }
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.row(self.selected)
    }

    pub fn has_more(&self) -> bool {
        self.direct.is_none() && !matches!(self.paging, Paging::Done)
    }

    pub fn is_loading(&self) -> bool {
        matches!(self.paging, Paging::Loading(_)) || self.rereading.is_some()
    }

    /// Moves the selection by `delta` rows, clamped.
    pub fn move_by(&mut self, delta: isize) {
        let len = self.len();
        self.selected = if len == 0 { 0 } else { self.selected.saturating_add_signed(delta).min(len - 1) };
        self.scroll();
    }

    pub fn top(&mut self) {
        self.want_end = false;
        self.selected = 0;
        self.scroll();
    }

    /// The last row read; if more remain, keep reading until the end.
    pub fn bottom(&mut self) {
        self.selected = self.len().saturating_sub(1);
        self.want_end = self.has_more() && !self.searching();
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

    /// Rows in page `page`.
    fn page_len(&self, page: usize) -> usize {
        let end = self.pages.get(page + 1).map_or(self.read, |next| next.at);
        end - self.pages[page].at
    }

    /// The cursor of the page to request now, if one should be: a page
    /// the view needs that is not in memory (read again from its saved
    /// cursor), or the next page of the table (nothing read yet, the view
    /// near the end, `G`, or a reload finding its row). One at a time.
    pub fn next_request(&mut self) -> Option<Option<Cursor>> {
        if self.direct.is_some() || !self.needle().is_empty() || self.is_loading() {
            return None;
        }
        // The rows on screen (or selected), and a margin around them.
        let first = self.offset.min(self.selected);
        let last = (self.offset + self.viewport).max(self.selected + 1).min(self.read).saturating_sub(1);
        let window_end = self.base + self.rows.len();
        if self.read > 0 && (first < self.base || first >= window_end) {
            // Jumped away from what is in memory: read that page again.
            return self.reread(self.page_of(first));
        }
        if last >= window_end && last < self.read {
            return self.reread(self.first_page + self.window_pages);
        }
        if first.saturating_sub(PREFETCH) < self.base && self.first_page > 0 {
            return self.reread(self.first_page - 1);
        }
        if last + PREFETCH >= window_end && window_end < self.read {
            return self.reread(self.first_page + self.window_pages);
        }
        let Paging::More(cursor) = &self.paging else { return None };
        let restoring = self.restore.as_ref().is_some_and(|(_, rows)| self.read < *rows);
        let near_end = self.selected + PREFETCH >= self.read;
        if self.read == 0 || near_end || self.want_end || restoring {
            let cursor = cursor.clone();
            self.paging = Paging::Loading(cursor.clone());
            return Some(cursor);
        }
        None
    }

    /// The page holding row `index` (of those read).
    fn page_of(&self, index: usize) -> usize {
        self.pages.partition_point(|p| p.at <= index).saturating_sub(1)
    }

    fn reread(&mut self, page: usize) -> Option<Option<Cursor>> {
        let after = self.pages.get(page)?.after.clone();
        self.rereading = Some(page);
        Some(after)
    }

    /// A page arrived: a page read again, or the next one of the table.
    pub fn append(&mut self, mut rows: Vec<Row>, next: Option<Cursor>) {
        let page = match self.rereading.take() {
            Some(page) => {
                // The table may have changed since: keep the page's length.
                rows.truncate(self.page_len(page));
                page
            }
            None => {
                let after = match &self.paging {
                    Paging::Loading(cursor) | Paging::More(cursor) => cursor.clone(),
                    Paging::Failed(cursor, _) => cursor.clone(),
                    Paging::Done => return,
                };
                self.pages.push(PageStart { at: self.read, after });
                self.read += rows.len();
                self.paging = match next {
                    Some(cursor) => Paging::More(Some(cursor)),
                    None => Paging::Done,
                };
                self.pages.len() - 1
            }
        };
        // `G`: the selection follows the end as pages arrive, so the
        // window slides with it.
        if self.want_end {
            self.selected = self.len().saturating_sub(1);
            self.want_end = self.paging != Paging::Done;
        }
        self.place(page, rows);
        self.trim();
        if let Some((address, rows)) = &self.restore {
            let found = if self.needle().is_empty() {
                self.rows.iter().position(|r| r.address() == address).map(|i| i + self.base)
            } else {
                self.visible().iter().position(|r| r.address() == address)
            };
            if let Some(at) = found {
                self.selected = at;
            }
            if found.is_some() || self.read >= *rows || self.paging == Paging::Done {
                self.restore = None;
            }
        }
        self.scroll();
    }

    /// Puts page `page` in the window: before it, after it, or instead.
    fn place(&mut self, page: usize, rows: Vec<Row>) {
        if self.window_pages > 0 && page + 1 == self.first_page {
            self.rows.splice(0..0, rows);
            self.first_page = page;
            self.window_pages += 1;
        } else if self.window_pages > 0 && page == self.first_page + self.window_pages {
            self.rows.extend(rows);
            self.window_pages += 1;
        } else {
            self.rows = rows;
            self.first_page = page;
            self.window_pages = 1;
        }
        self.base = self.pages[self.first_page].at;
    }

    /// Drops pages beyond [`WINDOW_PAGES`], from the end farther from the
    /// selection.
    fn trim(&mut self) {
        while self.window_pages > WINDOW_PAGES {
            let above = self.selected.saturating_sub(self.base);
            let below = (self.base + self.rows.len()).saturating_sub(self.selected);
            if above > below {
                let len = self.page_len(self.first_page);
                self.rows.drain(..len.min(self.rows.len()));
                self.first_page += 1;
            } else {
                let len = self.page_len(self.first_page + self.window_pages - 1);
                self.rows.truncate(self.rows.len().saturating_sub(len));
            }
            self.window_pages -= 1;
            self.base = self.pages[self.first_page].at;
        }
    }

    /// A page failed: a forward read remembers where to retry from.
    pub fn failed(&mut self, error: String) {
        if self.rereading.take().is_some() {
            return;
        }
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

    /// The filter changed: a full address is looked up directly, a table
    /// all in memory is filtered there, anything else is searched for.
    pub fn filter_changed(&mut self) -> FilterChange {
        self.selected = 0;
        self.offset = 0;
        self.search = None;
        self.direct = None;
        // Any case is accepted here: the checksum form is what is fetched.
        let needle = self.needle();
        if let (42, Ok(address)) = (needle.len(), Address::parse(&needle)) {
            let address = address.to_string();
            self.direct = Some(Direct::Loading(address.clone()));
            return FilterChange::Lookup(address);
        }
        if self.searching() {
            self.search = Some(Search {
                needle: needle.clone(),
                matches: Vec::new(),
                scanned: 0,
                done: false,
                capped: false,
                error: None,
            });
            return FilterChange::Search(needle);
        }
        FilterChange::Nothing
    }

    /// Matches found by the search for `needle`, among `scanned` more rows.
    pub fn found(&mut self, needle: &str, scanned: u64, rows: Vec<Row>) {
        let Some(search) = self.search.as_mut().filter(|s| s.needle == needle) else { return };
        search.scanned += scanned;
        for row in rows {
            if search.matches.len() >= MAX_MATCHES {
                search.capped = true;
                break;
            }
            let at = search.matches.partition_point(|r| r.address() < row.address());
            search.matches.insert(at, row);
        }
    }

    /// The search for `needle` has read the whole table, or failed.
    pub fn search_done(&mut self, needle: &str, error: Option<String>) {
        if let Some(search) = self.search.as_mut().filter(|s| s.needle == needle) {
            search.done = true;
            search.error = error;
        }
    }

    pub fn clear_filter(&mut self) {
        self.filter = Input::default();
        self.editing = false;
        self.direct = None;
        self.search = None;
        self.selected = 0;
        self.offset = 0;
    }

    /// Forgets the rows to read them again, keeping the filter, the
    /// viewport and (once its page is back) the selected account.
    pub fn reload(&mut self) {
        let upto = if self.needle().is_empty() { self.selected + 1 } else { self.read };
        let restore = self.selected_row().map(|r| (r.address().to_owned(), upto));
        let kept = List {
            viewport: self.viewport,
            filter: std::mem::take(&mut self.filter),
            editing: self.editing,
            restore,
            ..List::default()
        };
        *self = kept;
    }
}
