//! Every sentence the console shows, in one place.

use crate::tui::app::jobs::{BulkRun, command, noun};

pub const APP: &str = "ROSSIGNOL";
pub const NOTHING_SELECTED: &str = "no account is selected; move to one with j/k first";
pub const BUSY: &str =
    "a create, an audit or a bulk run is still running; wait for it, or stop it with Esc in its window";
pub const NOT_CONNECTED: &str = "not connected to the store yet; wait, or press R to retry";
pub const KEY_HIDDEN: &str = "the private key is hidden again";
pub const CANCELLED: &str = "cancelled; nothing was done";
pub const CONNECT_FAILED: &str = "Cannot connect";
pub const REVEAL_FAILED: &str = "Nothing was revealed";
pub const REFUSED: &str = "Refused";
pub const CREATE_IN_BACKGROUND: &str = "creating goes on in the background; press c to watch it";
pub const FINDING_HAS_NO_ACCOUNT: &str = "this finding names no account that can be opened";
pub const LOADING_MORE: &str = "… loading more";
pub const LOADING: &str = "loading…";
pub const MORE_BELOW: &str = "… more accounts follow; scroll to load them";
pub const NO_ACCOUNTS: &str = "no accounts yet; press c to create some";
pub const NO_ACCOUNTS_READ_ONLY: &str = "no accounts in this read-only environment";
pub const NO_MATCH: &str = "no account matches; Esc clears the filter";
pub const RELOADING: &str = "reloading the list…";
pub const RECONNECTING: &str = "connecting again…";
pub const NOTHING_CREATED_YET: &str = "no address created yet; wait for the first";
pub const NO_FINDINGS_TO_OPEN: &str = "there are no findings to open: every record checked out";
pub const QUITTING: &str = "Finishing the writes in flight, then quitting…";
pub const ENV_TITLE: &str = " Environments ";
pub const EDITING: &str = "In text fields";
pub const READING_AGAIN: &str = "… reading this page again";
pub const SEARCHING: &str = "… searching the table";

pub fn search_progress(search: &crate::tui::app::list::Search, count: usize) -> String {
    let scanned = search.scanned;
    match (search.done, search.capped) {
        (_, true) => {
            format!("the first {count} matches of {scanned} read; type more of the address to narrow it")
        }
        (true, false) => format!("{count} match (the whole table, {scanned} accounts, searched)"),
        (false, false) => format!("searching… {scanned} read, {count} match so far"),
    }
}

pub fn search_failed(error: &str) -> String {
    format!("the search stopped: {error}; edit the filter to try again")
}
pub const READING_TRANSACTION: &str = "reading the file for its preview…";
pub const CHECKING_PATH: &str = "checking that the file can be written…";
pub const CANDIDATES: &str = "Tab";
pub const HELP_SCROLL_HINT: &str = "j/k scroll · Esc to close";
pub const CONNECTING: &str = "connecting…";
pub const NOT_CONNECTED_SHORT: &str = "not connected: press R to retry, e to switch";
pub const LEGACY: &str = "legacy";
pub const DISABLED: &str = "disabled";
pub const MALFORMED: &str = "MALFORMED";
pub const READ_ONLY: &str = " READ-ONLY ";
pub const WRITABLE: &str = "writable";
pub const PRODUCTION: &str = " PRODUCTION ";
pub const CANCEL: &str = " Cancel ";
pub const REVEALING: &str = "Writing the access trail, then opening the key…";
pub const NO_TRAIL: &str = "no access recorded";
pub const NO_FINDINGS: &str = "no findings: every record checked out";
pub const AUDIT_CANCELLING: &str = "cancelling… (finishing the records in flight)";
pub const HELP_TITLE: &str = " Keys ";
pub const HELP_DIALOGS: &str = "In dialogs";
pub const CLOSE_HINT: &str = "Esc to close";
pub const DETAILS_TITLE: &str = " Account ";
pub const TRAIL_TITLE: &str = " Access trail (latest 20) ";
pub const KEY_MASKED_HINT: &str = "press r to reveal (recorded in the access trail)";
pub const SIGN_TITLE: &str = " Sign ";
pub const SIGN_PROMPT: &str =
    "Message to sign (0x… hex is bytes), or @FILE: a transaction, typed data or authorization in JSON:";
pub const SIGN_NOTHING: &str =
    "type a message, or @ and the path of a JSON file (transaction, typed data or authorization)";
pub const SIGNING: &str = "Writing the access trail, then signing… the key is never shown";
pub const SIGNED: &str = "signed (recorded in the access trail)";
pub const SIGN_FAILED: &str = "Nothing was signed";
pub const SIGNED_HINT: &str = "y copies the first value · any other key closes";
pub const EXPORT_TITLE: &str = " Export keystore ";
pub const EXPORT_PATH_PROMPT: &str = "Write the encrypted keystore (V3 JSON, mode 0600) to:";
pub const EXPORT_PASSPHRASE_PROMPT: &str = "Passphrase for the keystore:";
pub const EXPORT_AGAIN_PROMPT: &str = "The same passphrase again:";
pub const EXPORT_NO_PATH: &str = "type the path of the file to write";
pub const EXPORT_SECP256K1_ONLY: &str =
    "only secp256k1 accounts can be exported to a keystore; legacy ed25519 accounts have no V3 form";
pub const EXPORTING: &str = "Writing the access trail, then encrypting (scrypt takes a moment)…";
pub const EXPORT_FAILED: &str = "Nothing was exported";
pub const PASSPHRASES_DIFFER: &str = "the passphrases differ; type it again";
pub const DISABLED_BANNER: &str = "DISABLED";
pub const DISABLED_HINT: &str = "D enables";

pub const PROVIDER_CHECKING: &str = "…";
pub const PROVIDER_UP: &str = "up";
pub const PROVIDER_DOWN: &str = "DOWN";
pub const BULK_RUNNING_HINT: &str = "Esc stops after the rows in flight; running it again finishes the job";
pub const BULK_DONE_HINT: &str = "any key closes";

pub fn bulk_title(run: &BulkRun, env: &str) -> String {
    match run {
        BulkRun::Migrate => format!(" Migrate legacy rows in {env} "),
        BulkRun::Repair { provider } => format!(" Repair provider {provider} in {env} "),
        BulkRun::Refresh => format!(" Refresh every share in {env} "),
    }
}

pub fn bulk_question(run: &BulkRun, env: &str) -> String {
    match run {
        BulkRun::Migrate => format!(
            "Seal every Node-era plaintext key in {env} in place? Each row is one conditional write, verified before and after; nothing is deleted."
        ),
        BulkRun::Repair { provider } => format!(
            "Make provider {provider}'s missing or damaged shares in {env} again from the others? The other providers are not touched, and accounts that never had enough shares are removed."
        ),
        BulkRun::Refresh => format!(
            "Give every account in {env} new shares of the same key? Every provider is needed; no old share is given up before every new one is read back."
        ),
    }
}

pub fn bulk_done(run: &BulkRun, report: &rossignol_core::lifecycle::Report) -> String {
    match run {
        BulkRun::Migrate => format!("migration complete: {} row(s) sealed in place", report.written),
        BulkRun::Repair { provider } => format!(
            "repair of {provider} complete: {} share(s) made again, {} already sound",
            report.written, report.already_done
        ),
        BulkRun::Refresh => format!("refresh complete: {} account(s) given new shares", report.written),
    }
}

pub fn bulk_incomplete(run: &BulkRun) -> String {
    format!(
        "the {} is not complete (rows failed, changed meanwhile, or it was stopped); run {} again",
        noun(run),
        command(run)
    )
}

pub fn bulk_failed(run: &BulkRun, error: &str) -> String {
    format!("the {} stopped: {error}; run {} again to resume", noun(run), command(run))
}

pub fn passphrase_too_short(min: usize) -> String {
    format!("the passphrase is too short: use at least {min} characters")
}

pub fn exported(address: &str, path: &str) -> String {
    format!("exported {address} to {path} (recorded in the access trail)")
}

pub fn disabled_set(address: &str, disable: bool, changed: bool) -> String {
    let state = if disable { "disabled" } else { "enabled" };
    if changed { format!("{address} {state}") } else { format!("{address} was already {state}") }
}

pub fn sign_question(address: &str, env: &str) -> String {
    format!("Sign with the key of {address} in {env}? The key is not shown; the digest is recorded.")
}

pub fn export_question(address: &str, path: &str, env: &str) -> String {
    format!(
        "Export the key of {address} in {env} to {path}? It leaves Rossignol, encrypted under your passphrase."
    )
}

pub fn disable_question(address: &str, disable: bool, env: &str) -> String {
    if disable {
        format!("Disable {address} in {env}? The getter and signer will answer 410 until it is enabled.")
    } else {
        format!("Enable {address} in {env} again? The getter and signer will serve it.")
    }
}

pub fn unknown_env(name: &str, known: &[&str]) -> String {
    format!("no environment named `{name}`; known: {}", known.join(", "))
}

pub fn switching(name: &str) -> String {
    format!("switched to environment {name}")
}

pub fn copied(what: &str) -> String {
    format!("copied the {what} to the clipboard")
}

pub fn copy_failed(error: &str) -> String {
    format!("could not copy: {error}")
}

pub fn connect_hint(error: &str) -> String {
    format!("{error}\n\nPress R to retry, e to switch environment, or q to quit.")
}

pub fn count_failed(error: &str) -> String {
    format!("could not count the accounts: {error}")
}

pub fn page_failed(error: &str) -> String {
    format!("could not load accounts: {error}; press R to reload")
}

pub fn create_failed(done: usize, error: &str) -> String {
    format!("created {done} account(s), then failed: {error}")
}

pub fn created(done: usize) -> String {
    format!("created {done} account(s)")
}

pub fn reveal_failed(error: &str) -> String {
    format!("{error}\n\nNo key was shown or copied. Press Esc to go back.")
}

pub fn type_to_confirm(name: &str, label: &str) -> String {
    format!("type `{name}` to enable {label}, or press Esc to cancel")
}

pub fn reloaded(rows: usize, more: bool) -> String {
    if more { format!("reloaded: the first {rows} accounts") } else { format!("reloaded: {rows} accounts") }
}

pub fn disabled_refused(address: &str, doing: &str, key: &str) -> String {
    format!("{address} is disabled, so its key can't be {doing}; press {key} to enable it first")
}

pub fn bad_message(error: &str) -> String {
    format!("{error}; nothing was signed")
}

pub fn quit_during_create(done: usize, count: u64, env: &str) -> String {
    format!(
        "quit during a create: {done} of {count} accounts were created in {env}; \
         see them with `rossignol --env {env} list`"
    )
}

pub fn bad_count(text: &str, max: u64) -> String {
    format!("{text:?} is not a count; type a number from 1 to {max}")
}

pub fn only_sharded(run: &BulkRun, env: &str) -> String {
    format!(
        "{} works on the shares of a sharded environment, and {env} holds whole keys in one store",
        command(run)
    )
}

pub fn only_whole_keys(env: &str) -> String {
    format!("migrate works on one store's whole keys, and {env} holds its keys in shares")
}

pub fn unknown_provider(provider: &str, names: &[&str]) -> String {
    format!("this environment has no provider named {provider}; its providers are {}", names.join(", "))
}

pub fn provider_down(provider: &str, why: &str) -> String {
    format!("provider {provider} does not answer: {why}")
}

pub fn unknown_command(line: &str) -> String {
    format!("unknown command `{line}`; try :env NAME, :audit, :create N, :help or :q")
}

pub fn accounts(count: Option<u64>) -> String {
    match count {
        Some(n) => format!("{n} accounts"),
        None => "counting…".to_owned(),
    }
}

pub fn reveal_question(address: &str, env: &str) -> String {
    format!("Reveal the private key of {address} in environment {env}?")
}

pub fn copy_key_question(address: &str, env: &str) -> String {
    format!("Copy the private key of {address} in environment {env} to the clipboard?")
}

pub fn create_question(count: u64, env: &str) -> String {
    format!("Create {count} new account(s) in environment {env}?")
}

pub const QUIT_QUESTION: &str =
    "Work is still running. Quit anyway? (an audit is cancelled; creates in flight finish)";
pub const RECORDED_NOTE: &str = "This is recorded in the access trail.";

pub fn type_name_prompt(name: &str, label: &str) -> String {
    format!("Type the environment's name ({name}) to enable {label}:")
}

pub fn confirm_button(pending_label: &str) -> String {
    format!(" {pending_label} ")
}

pub fn hides_in(seconds: u64) -> String {
    format!("hidden again in {seconds}s or on any key")
}

pub fn create_progress(done: usize, count: u64) -> String {
    format!("{done} of {count} created")
}

pub fn create_title(env: &str) -> String {
    format!(" Create accounts in {env} ")
}

pub const CREATE_PROMPT: &str = "How many accounts? (Enter to continue, Esc to cancel)";

pub fn audit_line(checked: u64, total: Option<u64>, rate: f64, eta: Option<u64>, findings: u64) -> String {
    let total = total.map_or_else(|| "?".to_owned(), |t| t.to_string());
    let eta = eta.map_or_else(|| "-".to_owned(), |s| format!("{s}s"));
    format!("{checked} of {total} checked · {rate:.0}/s · ETA {eta} · {findings} findings")
}

pub fn audit_title(env: &str) -> String {
    format!(" Audit of {env} ")
}

pub fn audit_summary(
    checked: u64,
    ok: u64,
    findings: usize,
    warnings: usize,
    secs: f64,
    cancelled: bool,
) -> String {
    format!(
        "{}{checked} checked, {ok} ok, {findings} findings, {warnings} warnings in {secs:.1}s",
        if cancelled { "CANCELLED: " } else { "" }
    )
}

pub fn audit_failed(error: &str) -> String {
    format!("the audit failed: {error}")
}

pub const AUDIT_RUNNING_HINT: &str = "Esc cancels";
pub const AUDIT_DONE_HINT: &str = "j/k move · Enter opens the account · Esc closes";
