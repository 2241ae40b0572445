//! Store I/O off the render loop. Each [`Effect`] runs on a tokio task and
//! answers with an [`Action`]; a newer request of the same kind aborts the
//! older one, and results carry the connection's generation so the app can
//! drop stale ones.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;
use rossignol_core::sign::{Payload, Signed, parse_document};
use rossignol_core::store::{AccountRecord, Item, parallel_scan};
use rossignol_core::{Address, Custodian, Error, Requester};
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;
use zeroize::Zeroizing;

use crate::tui::app::jobs::BulkRun;
use crate::tui::app::list::PAGE_SIZE;
use crate::tui::app::model::{AccountView, RevealPurpose, Row, Secret, SecretInput, TrailEntry};
use crate::tui::app::{Action, Effect};
use crate::tui::clipboard::{self, Clear, PendingClears, System};
use rossignol_core::audit::{self, AuditOptions};

/// Writes in flight while creating.
const CREATE_CONCURRENCY: usize = 8;
/// The access trail entries shown in details.
const TRAIL_LENGTH: usize = 20;
/// Segments and page size of a search's parallel scan.
const SEARCH_SEGMENTS: u32 = 8;
const SEARCH_PAGE: usize = 1000;
/// At most this often, audit progress is passed on.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// One slot per kind of request: a new request replaces the one in its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Slot {
    Connect,
    Describe,
    Page,
    Lookup,
    Search,
    Open,
    Reveal,
    Create,
    Audit,
    Sign,
    Export,
    Disable,
    Bulk,
    Health,
}

/// Text for the terminal itself (OSC 52), written by the event loop
/// between frames.
pub type TerminalWrite = Zeroizing<String>;

#[derive(Debug)]
pub struct Worker {
    actions: mpsc::UnboundedSender<Action>,
    terminal: mpsc::UnboundedSender<TerminalWrite>,
    custodian: Arc<Mutex<Option<(u64, Custodian)>>>,
    generation: u64,
    jobs: HashMap<Slot, AbortHandle>,
    audit_cancel: Arc<AtomicBool>,
    bulk_cancel: Arc<AtomicBool>,
    /// Set: the create starts no new write (those in flight finish).
    create_stop: Arc<AtomicBool>,
    clipboard: System,
    clears: PendingClears,
    actor: String,
}

/// Who the access trail and `created_by` name: `console:$USER`.
pub fn actor() -> String {
    crate::operator("console")
}

fn to_row(item: &Item) -> Row {
    match AccountRecord::from_item(item) {
        Ok(record) => Row::Account(AccountView::summary(&record)),
        Err(e) => {
            Row::Malformed { address: item.address().unwrap_or("<missing>").to_owned(), error: e.to_string() }
        }
    }
}

impl Worker {
    pub fn new(
        actions: mpsc::UnboundedSender<Action>,
        terminal: mpsc::UnboundedSender<TerminalWrite>,
    ) -> Self {
        Worker {
            actions,
            terminal,
            custodian: Arc::default(),
            generation: 0,
            jobs: HashMap::new(),
            audit_cancel: Arc::default(),
            bulk_cancel: Arc::default(),
            create_stop: Arc::default(),
            clipboard: System::default(),
            clears: PendingClears::default(),
            actor: actor(),
        }
    }

    fn custodian(&self) -> Option<Custodian> {
        let guard = self.custodian.lock().ok()?;
        guard.as_ref().filter(|(g, _)| *g == self.generation).map(|(_, c)| c.clone())
    }

    fn spawn<F>(&mut self, slot: Slot, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if let Some(old) = self.jobs.remove(&slot) {
            old.abort();
        }
        self.jobs.insert(slot, tokio::spawn(task).abort_handle());
    }

    /// Starts the work an effect asks for.
    pub fn run(&mut self, effect: Effect) {
        let tx = self.actions.clone();
        let generation = self.generation;
        if let Effect::Connect { env, generation } = effect {
            return self.connect(*env, generation);
        }
        match effect {
            Effect::CopyText { text, what } => return self.copy(text.into(), what, false),
            Effect::CopySecret(secret) => {
                return self.copy(Zeroizing::new(secret.expose().to_owned()), "private key", true);
            }
            Effect::CancelAudit => return self.audit_cancel.store(true, Ordering::SeqCst),
            Effect::CancelBulk => return self.bulk_cancel.store(true, Ordering::SeqCst),
            Effect::StopCreate => return self.create_stop.store(true, Ordering::SeqCst),
            // Aborting the task drops the scan's receiver, which stops its segments.
            Effect::CancelSearch => {
                if let Some(job) = self.jobs.remove(&Slot::Search) {
                    job.abort();
                }
                return;
            }
            // Local files only: no store needed.
            Effect::ReadTransaction { address, path } => {
                tokio::spawn(async move {
                    let result = read_transaction(&path).await;
                    let _ = tx.send(Action::TransactionRead { address, path, result });
                });
                return;
            }
            Effect::ProposeExportPath { address } => {
                tokio::task::spawn_blocking(move || {
                    let path = free_export_path(&address);
                    let _ = tx.send(Action::ExportPathProposed { address, path });
                });
                return;
            }
            Effect::CheckExportPath { address, path } => {
                tokio::task::spawn_blocking(move || {
                    // The same check the export makes, then nothing is left behind.
                    let result = crate::custody::PrivateFile::create(std::path::Path::new(&path))
                        .map(drop)
                        .map_err(|failure| failure.message);
                    let _ = tx.send(Action::ExportPathChecked { address, path, result });
                });
                return;
            }
            _ => {}
        }
        let Some(custodian) = self.custodian() else { return };
        match effect {
            Effect::Probe => self.spawn(Slot::Health, async move {
                let providers = custodian.custody().providers();
                let answers = futures::future::join_all(providers.iter().map(|p| p.probe())).await;
                let _ = tx.send(Action::Probed { generation, answers });
            }),
            Effect::Describe => self.spawn(Slot::Describe, async move {
                let result =
                    custodian.store().describe().await.map(|r| r.item_count).map_err(|e| e.to_string());
                let _ = tx.send(Action::Described { generation, result });
            }),
            Effect::LoadPage { after } => self.spawn(Slot::Page, async move {
                let result = match custodian.page(after.as_ref(), PAGE_SIZE).await {
                    Ok(page) => Ok((page.items.iter().map(to_row).collect(), page.next)),
                    Err(e) => Err(e.to_string()),
                };
                let _ = tx.send(Action::Page { generation, result });
            }),
            Effect::Lookup { address } => self.spawn(Slot::Lookup, async move {
                let result = lookup(&custodian, &address).await;
                let _ = tx.send(Action::LookedUp { generation, address, result });
            }),
            Effect::Search { needle } => {
                self.spawn(Slot::Search, search(custodian, needle, generation, tx));
            }
            Effect::Open { address } => self.spawn(Slot::Open, async move {
                let (record, trail) = open(&custodian, &address).await;
                let _ = tx.send(Action::Opened { generation, address, record, trail });
            }),
            Effect::Reveal { address, purpose } => {
                let action = match purpose {
                    RevealPurpose::Show => "console-reveal",
                    RevealPurpose::Copy => "console-copy",
                };
                let requester = Requester::operator(action, self.actor.clone());
                self.spawn(Slot::Reveal, async move {
                    let result = match Address::parse(&address) {
                        Ok(parsed) => custodian
                            .reveal(&parsed, &requester)
                            .await
                            .map(|(_, key)| Secret::new(key.reveal_text()))
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = tx.send(Action::Revealed { generation, address, purpose, result });
                });
            }
            Effect::Create { count } => {
                let actor = self.actor.clone();
                self.create_stop = Arc::default();
                let stop = Arc::clone(&self.create_stop);
                self.spawn(Slot::Create, create(custodian, count, actor, stop, generation, tx));
            }
            Effect::Audit => {
                self.audit_cancel = Arc::default();
                let cancel = Arc::clone(&self.audit_cancel);
                let requester = Requester::operator("console-audit", self.actor.clone());
                self.spawn(Slot::Audit, run_audit(custodian, requester, cancel, generation, tx));
            }
            Effect::Sign { address, payload } => {
                let requester = Requester::operator("console-sign", self.actor.clone());
                self.spawn(Slot::Sign, async move {
                    let result = sign(&custodian, &address, &payload, &requester).await;
                    let _ = tx.send(Action::Signed { generation, address, result });
                });
            }
            Effect::Export { address, path, passphrase } => {
                let requester = Requester::operator("console-export", self.actor.clone());
                self.spawn(Slot::Export, async move {
                    let result = export(&custodian, &address, &path, passphrase, &requester).await;
                    let _ = tx.send(Action::Exported { generation, address, result });
                });
            }
            Effect::SetDisabled { address, disable } => {
                let actor = self.actor.clone();
                self.spawn(Slot::Disable, async move {
                    let result = match Address::parse(&address) {
                        Ok(parsed) => custodian
                            .set_disabled(&parsed, disable.then_some(actor.as_str()))
                            .await
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = tx.send(Action::DisabledSet { generation, address, disable, result });
                });
            }
            Effect::Bulk(run) => {
                self.bulk_cancel = Arc::default();
                let cancel = Arc::clone(&self.bulk_cancel);
                let action = format!("console-{}", run.operation().as_str());
                let requester = Requester::operator(action, self.actor.clone());
                self.spawn(Slot::Bulk, run_bulk(custodian, run, requester, cancel, generation, tx));
            }
            Effect::Connect { .. }
            | Effect::CopyText { .. }
            | Effect::CopySecret(_)
            | Effect::CancelAudit
            | Effect::CancelBulk
            | Effect::StopCreate
            | Effect::CancelSearch
            | Effect::ReadTransaction { .. }
            | Effect::ProposeExportPath { .. }
            | Effect::CheckExportPath { .. } => {}
        }
    }

    fn connect(&mut self, env: rossignol_core::config::Environment, generation: u64) {
        for (_, job) in self.jobs.drain() {
            job.abort();
        }
        self.audit_cancel.store(true, Ordering::SeqCst);
        self.bulk_cancel.store(true, Ordering::SeqCst);
        self.generation = generation;
        let shared = Arc::clone(&self.custodian);
        let tx = self.actions.clone();
        self.spawn(Slot::Connect, async move {
            let result = match env.connect().await {
                Ok(custodian) => match shared.lock() {
                    Ok(mut guard) => {
                        *guard = Some((generation, custodian));
                        Ok(())
                    }
                    Err(_) => Err("the console's connection state is broken; restart it".to_owned()),
                },
                Err(e) => Err(e.to_string()),
            };
            let _ = tx.send(Action::Connected { generation, result });
        });
    }

    /// The copied keys still to clear, for the exit path.
    pub fn pending_clears(&self) -> PendingClears {
        self.clears.clone()
    }

    fn copy(&self, text: Zeroizing<String>, what: &'static str, secret: bool) {
        let tx = self.actions.clone();
        let terminal = self.terminal.clone();
        let system = self.clipboard.clone();
        let clears = self.clears.clone();
        tokio::spawn(async move {
            // Each clear is armed before the key is handed over: an exit
            // from then on clears it.
            let via_terminal = || {
                let armed = secret.then(|| clears.arm(Clear::Terminal));
                terminal.send(clipboard::osc52(&text)).map(|()| armed).map_err(|e| e.to_string())
            };
            let result = if clipboard::has_display() {
                let armed = secret
                    .then(|| clears.arm(Clear::System { clipboard: system.clone(), text: text.clone() }));
                let (system, copy) = (system.clone(), text.clone());
                match tokio::task::spawn_blocking(move || system.set(&copy)).await {
                    Ok(Ok(())) => Ok(armed),
                    _ => {
                        armed.map(|id| clears.take(id));
                        via_terminal()
                    }
                }
            } else {
                via_terminal()
            };
            let armed = result.as_ref().ok().copied().flatten();
            let _ = tx.send(Action::Copied { what, result: result.map(drop) });
            if let Some(id) = armed {
                clear_later(id, clears, terminal).await;
            }
        });
    }
}

/// Clears a copied key after [`clipboard::CLEAR_AFTER`], unless the exit
/// path got to it first.
async fn clear_later(id: u64, clears: PendingClears, terminal: mpsc::UnboundedSender<TerminalWrite>) {
    tokio::time::sleep(clipboard::CLEAR_AFTER).await;
    match clears.take(id) {
        Some(Clear::System { clipboard, text }) => {
            let _ = tokio::task::spawn_blocking(move || clipboard.clear_if(&text)).await;
        }
        Some(Clear::Terminal) => {
            let _ = terminal.send(Zeroizing::new(clipboard::OSC52_CLEAR.to_owned()));
        }
        None => {}
    }
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Reads what a JSON file holds to be signed (a transaction, typed data
/// or an authorization), for its preview and then its signature.
async fn read_transaction(path: &str) -> Result<Payload, String> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| format!("cannot read the file {path}: {e}; check the path after @"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON ({e}); nothing was signed"))?;
    parse_document(&value).map_err(|e| format!("{path}: {e}; nothing was signed"))
}

/// `ADDRESS.json` in the working directory, or the first free
/// `ADDRESS-N.json`: an export never proposes a file that exists.
fn free_export_path(address: &str) -> String {
    let taken = |path: &str| std::fs::symlink_metadata(path).is_ok();
    let first = format!("{address}.json");
    if !taken(&first) {
        return first;
    }
    (2..1000).map(|n| format!("{address}-{n}.json")).find(|p| !taken(p)).unwrap_or(first)
}

/// Signs exactly the payload the operator saw previewed, and labels the result.
async fn sign(
    custodian: &Custodian,
    address: &str,
    payload: &Payload,
    requester: &Requester,
) -> Result<Vec<(&'static str, String)>, String> {
    let parsed = Address::parse(address).map_err(|e| e.to_string())?;
    let (_, signed) = custodian.sign(&parsed, payload, requester).await.map_err(|e| e.to_string())?;
    Ok(match signed {
        Signed::Message { signature, .. } | Signed::Ed25519Message { signature, .. } => {
            vec![("signature", hex0x(&signature))]
        }
        Signed::Transaction { raw, hash, .. } => {
            vec![("raw transaction", hex0x(&raw)), ("hash", hex0x(&hash))]
        }
        Signed::Authorization { signed, .. } => vec![("authorization", signed.to_json().to_string())],
    })
}

/// Exports a V3 keystore to a new 0600 file; the path written.
async fn export(
    custodian: &Custodian,
    address: &str,
    path: &str,
    passphrase: SecretInput,
    requester: &Requester,
) -> Result<String, String> {
    let parsed = Address::parse(address).map_err(|e| e.to_string())?;
    let path = std::path::PathBuf::from(path);
    // Before the key is revealed and the export recorded, as the CLI does.
    let file = crate::custody::PrivateFile::create(&path).map_err(|failure| failure.message)?;
    let passphrase = Zeroizing::new(passphrase.expose().as_bytes().to_vec());
    let json = custodian.export_keystore(&parsed, passphrase, requester).await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || file.commit(json.as_bytes()))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|failure| failure.message)?;
    Ok(path.display().to_string())
}

/// Scans the whole table for addresses containing `needle` (lower case),
/// passing on the matches of each page as it is read.
async fn search(custodian: Custodian, needle: String, generation: u64, tx: mpsc::UnboundedSender<Action>) {
    let mut pages = parallel_scan(Arc::clone(custodian.store()), SEARCH_SEGMENTS, SEARCH_PAGE);
    while let Some(page) = pages.recv().await {
        match page {
            Ok(items) => {
                let rows = items
                    .iter()
                    .filter(|item| item.address().is_some_and(|a| a.to_ascii_lowercase().contains(&needle)))
                    .map(to_row)
                    .collect();
                let scanned = items.len() as u64;
                let found = Action::SearchFound { generation, needle: needle.clone(), scanned, rows };
                if tx.send(found).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Action::SearchDone { generation, needle, error: Some(e.to_string()) });
                return;
            }
        }
    }
    let _ = tx.send(Action::SearchDone { generation, needle, error: None });
}

async fn lookup(custodian: &Custodian, address: &str) -> Result<Option<Row>, String> {
    let parsed = Address::parse(address).map_err(|e| e.to_string())?;
    match custodian.get(&parsed).await {
        Ok(record) => Ok(Some(Row::Account(AccountView::summary(&record)))),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e @ Error::MalformedRecord { .. }) => {
            Ok(Some(Row::Malformed { address: address.to_owned(), error: e.to_string() }))
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn open(
    custodian: &Custodian,
    address: &str,
) -> (Result<Row, String>, Result<Vec<TrailEntry>, String>) {
    let parsed = match Address::parse(address) {
        Ok(parsed) => parsed,
        Err(e) => return (Err(e.to_string()), Err(e.to_string())),
    };
    let (record, trail) =
        tokio::join!(custodian.get(&parsed), custodian.latest_access(&parsed, TRAIL_LENGTH));
    let record = match record {
        Ok(record) => Ok(Row::Account(AccountView::from(&record))),
        Err(e) => Err(e.to_string()),
    };
    let trail =
        trail.map(|entries| entries.iter().map(TrailEntry::from).collect()).map_err(|e| e.to_string());
    (record, trail)
}

async fn create(
    custodian: Custodian,
    count: u64,
    actor: String,
    stop: Arc<AtomicBool>,
    generation: u64,
    tx: mpsc::UnboundedSender<Action>,
) {
    let mut results = std::pin::pin!(custodian.create_many(count, &actor, CREATE_CONCURRENCY, stop.clone()));
    let mut error = None;
    while let Some(result) = results.next().await {
        match result {
            Ok(record) => {
                let _ = tx.send(Action::Created { generation, address: record.address.to_string() });
            }
            // No new write; those in flight finish and are shown.
            Err(e) => {
                stop.store(true, Ordering::SeqCst);
                error.get_or_insert(e.to_string());
            }
        }
    }
    let _ = tx.send(Action::CreateFinished { generation, error });
}

async fn run_audit(
    custodian: Custodian,
    requester: Requester,
    cancel: Arc<AtomicBool>,
    generation: u64,
    tx: mpsc::UnboundedSender<Action>,
) {
    let (progress_tx, mut progress_rx) = watch::channel(audit::Progress::default());
    let forward = tx.clone();
    let forwarder = tokio::spawn(async move {
        while progress_rx.changed().await.is_ok() {
            let progress = progress_rx.borrow_and_update().clone();
            let _ = forward.send(Action::AuditProgress { generation, progress });
            tokio::time::sleep(PROGRESS_EVERY).await;
        }
    });
    let result = audit::run(&custodian, AuditOptions::default(), &requester, progress_tx, cancel).await;
    forwarder.abort();
    let _ = tx.send(Action::AuditFinished { generation, result: result.map_err(|e| e.to_string()) });
}

async fn run_bulk(
    custodian: Custodian,
    run: BulkRun,
    requester: Requester,
    cancel: Arc<AtomicBool>,
    generation: u64,
    tx: mpsc::UnboundedSender<Action>,
) {
    use rossignol_core::lifecycle;

    let (progress_tx, mut progress_rx) = watch::channel(lifecycle::Progress::default());
    let forward = tx.clone();
    let forwarder = tokio::spawn(async move {
        while progress_rx.changed().await.is_ok() {
            let progress = progress_rx.borrow_and_update().clone();
            let _ = forward.send(Action::BulkProgress { generation, progress });
            tokio::time::sleep(PROGRESS_EVERY).await;
        }
    });
    let options = lifecycle::Options::default();
    let result = run.start(&custodian, options, &requester, progress_tx, cancel).await;
    forwarder.abort();
    let _ = tx.send(Action::BulkFinished { generation, result: result.map_err(|e| e.to_string()) });
}
