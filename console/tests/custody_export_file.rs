//! `rossignol export --out FILE`: the keystore file appears whole or not
//! at all, never over an existing file, and a file that cannot be written
//! records no export.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use predicates::prelude::*;

mod cli_support;

use cli_support::Sandbox;

const TEMP_PREFIX: &str = ".rossignol-export-";

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn no_temp_files(dir: &Path) {
    let names = names(dir);
    assert!(
        !names.iter().any(|name| name.starts_with(TEMP_PREFIX)),
        "temporary file left in {}: {names:?}",
        dir.display()
    );
}

/// A sandbox with one account and a passphrase file; the address and
/// the passphrase file.
fn setup() -> (Sandbox, String, std::path::PathBuf) {
    let sandbox = Sandbox::new();
    let address = sandbox.stdout(&["create"]).trim().to_owned();
    let passphrase = sandbox.path().join("passphrase");
    std::fs::write(&passphrase, "correct horse battery staple\n").unwrap();
    (sandbox, address, passphrase)
}

fn export(sandbox: &Sandbox, address: &str, out: &str, passphrase: &Path) -> assert_cmd::assert::Assert {
    sandbox
        .cmd()
        .args(["export", address, "--out", out, "--passphrase-file", passphrase.to_str().unwrap()])
        .assert()
}

#[test]
fn a_successful_export_leaves_one_private_file_and_no_temporary_file() {
    let (sandbox, address, passphrase) = setup();
    let dir = sandbox.path().join("out");
    std::fs::create_dir(&dir).unwrap();

    // A path relative to the working directory (the sandbox).
    export(&sandbox, &address, "out/account.json", &passphrase).success();
    assert_eq!(names(&dir), ["account.json"]);
    let file = dir.join("account.json");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let key =
        rossignol_core::keystore::decrypt(&std::fs::read(&file).unwrap(), b"correct horse battery staple")
            .unwrap();
    assert_eq!(key.address().to_string(), address);

    // A bare file name: written in the working directory itself.
    export(&sandbox, &address, "bare.json", &passphrase).success();
    let bare = sandbox.path().join("bare.json");
    assert_eq!(std::fs::metadata(&bare).unwrap().permissions().mode() & 0o777, 0o600);
    no_temp_files(sandbox.path());

    let trail = sandbox.local_trail(&address);
    assert_eq!(trail.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), ["cli-export", "cli-export"]);
}

#[test]
fn an_existing_file_is_left_untouched_and_nothing_is_recorded() {
    let (sandbox, address, passphrase) = setup();
    let dir = sandbox.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("account.json");
    std::fs::write(&file, "keep me").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();

    export(&sandbox, &address, file.to_str().unwrap(), &passphrase).code(2).stderr(
        predicate::str::contains("already exists").and(predicate::str::contains("nothing was overwritten")),
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o644);
    assert_eq!(names(&dir), ["account.json"]);
    assert!(sandbox.local_trail(&address).is_empty());
}

#[test]
fn a_directory_that_cannot_take_the_file_fails_before_the_key_is_revealed() {
    let (sandbox, address, passphrase) = setup();
    let missing = sandbox.path().join("missing");

    export(&sandbox, &address, missing.join("account.json").to_str().unwrap(), &passphrase).code(1).stderr(
        predicate::str::contains("cannot create a file in")
            .and(predicate::str::contains("nothing was written")),
    );
    assert!(!missing.exists());
    no_temp_files(sandbox.path());
    assert!(sandbox.local_trail(&address).is_empty(), "an export that wrote nothing was recorded");
}

#[test]
fn a_name_taken_while_writing_is_not_replaced_and_the_temporary_file_goes() {
    use rossignol_console::custody::{PRIVATE_TEMP_PREFIX, PrivateFile};

    assert_eq!(PRIVATE_TEMP_PREFIX, TEMP_PREFIX);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("account.json");

    // The temporary file is private from its creation.
    let target = PrivateFile::create(&file).unwrap();
    let temp = names(dir.path());
    assert_eq!(temp.len(), 1);
    assert!(temp[0].starts_with(TEMP_PREFIX), "{temp:?}");
    assert_eq!(std::fs::metadata(dir.path().join(&temp[0])).unwrap().permissions().mode() & 0o777, 0o600);

    // Someone takes the name meanwhile.
    std::fs::write(&file, "theirs").unwrap();
    let failure = target.commit(b"ours").unwrap_err();
    assert_eq!(failure.code, 2);
    assert!(
        failure.message.contains("already exists") && failure.message.contains("nothing was overwritten")
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "theirs");
    assert_eq!(names(dir.path()), ["account.json"]);

    // Abandoned before commit: nothing is left.
    std::fs::remove_file(&file).unwrap();
    drop(PrivateFile::create(&file).unwrap());
    assert!(names(dir.path()).is_empty());

    // Committed: the whole file, and only it.
    PrivateFile::create(&file).unwrap().commit(b"ours").unwrap();
    assert_eq!(names(dir.path()), ["account.json"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "ours");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
}
