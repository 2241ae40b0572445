//! `rossignol sign`, `export`, `disable` and `enable`: one account at a
//! time, each key use recorded in the access trail first.

use std::path::{Path, PathBuf};

use rossignol_core::config::Environment;
use rossignol_core::sign::{Payload, Signed, Transaction, parse_message};
use rossignol_core::{Error, Requester};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::Failure;
use crate::commands::{parse_address, who};
use crate::output::Out;

/// What `sign --json` prints: the signer Lambda's `data`.
#[derive(Debug, Serialize)]
struct SignedView {
    address: String,
    scheme: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_transaction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Reads `--transaction FILE` (`-` for stdin) as a JSON transaction.
fn read_transaction(file: &Path) -> Result<Transaction, Failure> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| Failure::usage(format!("cannot read the transaction from stdin: {e}")))?
    } else {
        std::fs::read_to_string(file).map_err(|e| {
            Failure::usage(format!("cannot read the transaction file {}: {e}", file.display()))
        })?
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Failure::usage(format!("{} is not JSON ({e}); give a transaction object", file.display()))
    })?;
    Transaction::from_json(&value).map_err(|e| Failure::from(Error::InvalidRequest(e)))
}

pub async fn sign(
    env: &Environment,
    address: &str,
    message: Option<String>,
    transaction: Option<PathBuf>,
    json: bool,
    out: &mut Out,
) -> Result<(), Failure> {
    let address = parse_address(address)?;
    let payload = match (message, transaction) {
        (Some(message), None) => Payload::Message(
            parse_message(&message).map_err(|e| Failure::usage(format!("--message: {}", e.reason)))?,
        ),
        (None, Some(file)) => Payload::Transaction(read_transaction(&file)?),
        _ => return Err(Failure::usage("give either --message or --transaction")),
    };
    let custodian = env.connect().await?;
    let requester = Requester::operator("cli-sign", who());
    let (record, signed) = custodian.sign(&address, &payload, &requester).await?;
    let mut view = SignedView {
        address: record.address.to_string(),
        scheme: record.scheme.as_str(),
        signature: None,
        raw_transaction: None,
        hash: None,
    };
    match &signed {
        Signed::Message { signature, .. } | Signed::Ed25519Message { signature, .. } => {
            view.signature = Some(hex0x(signature));
        }
        Signed::Transaction { raw, hash, .. } => {
            view.raw_transaction = Some(hex0x(raw));
            view.hash = Some(hex0x(hash));
        }
    }
    if json {
        return out.json(&view);
    }
    for (name, value) in
        [("signature", &view.signature), ("raw_transaction", &view.raw_transaction), ("hash", &view.hash)]
    {
        if let Some(value) = value {
            out.line(&format!("{name:<16} {value}"))?;
        }
    }
    Ok(())
}

/// The shortest passphrase an export accepts.
pub const MIN_PASSPHRASE: usize = 8;

pub async fn export(
    env: &Environment,
    address: &str,
    file: &Path,
    passphrase_file: Option<&Path>,
    out: &mut Out,
) -> Result<(), Failure> {
    let address = parse_address(address)?;
    // Checked again when the file is made; here so nobody types a
    // passphrase for an export that cannot happen.
    if file.exists() {
        return Err(already_exists(file));
    }
    let passphrase = match passphrase_file {
        Some(path) => read_passphrase_file(path)?,
        None => ask_passphrase()?,
    };
    check_passphrase(&passphrase)?;
    // Before the key is revealed and the export recorded: a directory that
    // cannot take the file fails here, with nothing in the trail.
    let target = PrivateFile::create(file)?;
    let custodian = env.connect().await?;
    let requester = Requester::operator("cli-export", who());
    let json = custodian
        .export_keystore(&address, Zeroizing::new(passphrase.as_bytes().to_vec()), &requester)
        .await?;
    target.commit(json.as_bytes())?;
    out.line(&format!("exported {address} to {} (V3 keystore, scrypt n=2^18; mode 0600)", file.display()))
}

fn check_passphrase(passphrase: &str) -> Result<(), Failure> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(Failure::usage(format!(
            "the passphrase is too short: use at least {MIN_PASSPHRASE} characters"
        )));
    }
    Ok(())
}

/// The first line of `path`, without its line ending.
fn read_passphrase_file(path: &Path) -> Result<Zeroizing<String>, Failure> {
    let text =
        Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(format!("cannot read the passphrase file {}: {e}", path.display()))
        })?);
    let line = text.lines().next().unwrap_or_default();
    Ok(Zeroizing::new(line.to_owned()))
}

/// Asks twice on the terminal, without echo.
fn ask_passphrase() -> Result<Zeroizing<String>, Failure> {
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt).map(Zeroizing::new).map_err(|e| {
            Failure::usage(format!(
                "cannot read a passphrase from the terminal ({e}); use --passphrase-file FILE"
            ))
        })
    };
    let first = ask("Passphrase for the keystore: ")?;
    let again = ask("The same passphrase again: ")?;
    if first != again {
        return Err(Failure::usage("the passphrases differ; nothing was exported"));
    }
    Ok(first)
}

/// How the temporary files of [`PrivateFile`] begin.
pub const PRIVATE_TEMP_PREFIX: &str = ".rossignol-export-";

/// A new file readable by its owner only, written whole under a temporary
/// name in the same directory and then linked to its final name, which is
/// never replaced. Dropped before [`PrivateFile::commit`], or on any
/// error, it removes the temporary file and leaves the final name absent.
#[derive(Debug)]
pub struct PrivateFile {
    path: PathBuf,
    dir: PathBuf,
    temp: tempfile::NamedTempFile,
}

fn already_exists(path: &Path) -> Failure {
    Failure::usage(format!("{} already exists; nothing was overwritten. Choose another file", path.display()))
}

impl PrivateFile {
    /// Refuses an existing `path` and creates the temporary file (mode
    /// 0600 from creation) beside it.
    pub fn create(path: &Path) -> Result<Self, Failure> {
        use std::os::unix::fs::PermissionsExt as _;

        if std::fs::symlink_metadata(path).is_ok() {
            return Err(already_exists(path));
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(PRIVATE_TEMP_PREFIX)
            .suffix(".tmp")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(&dir)
            .map_err(|e| {
                Failure::failed(format!(
                    "cannot create a file in {} for {}: {e}; nothing was written. \
                     Choose a directory you can write to",
                    dir.display(),
                    path.display()
                ))
            })?;
        Ok(PrivateFile { path: path.to_path_buf(), dir, temp })
    }

    /// Writes `bytes` to the temporary file, syncs it, links it to the
    /// final name (failing if that appeared meanwhile), removes the
    /// temporary name and syncs the directory.
    pub fn commit(mut self, bytes: &[u8]) -> Result<(), Failure> {
        use std::io::Write as _;

        let file = self.temp.as_file_mut();
        if let Err(e) = file.write_all(bytes).and_then(|()| file.flush()).and_then(|()| file.sync_all()) {
            return Err(Failure::failed(format!(
                "cannot write {}: {e}; nothing was left behind",
                self.path.display()
            )));
        }
        if let Err(e) = std::fs::hard_link(self.temp.path(), &self.path) {
            return Err(match e.kind() {
                std::io::ErrorKind::AlreadyExists => already_exists(&self.path),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::Unsupported => {
                    Failure::failed(format!(
                        "cannot put {} in place: {e}; the filesystem of {} does not seem to support \
                         hard links. Nothing was written; choose a file on another filesystem",
                        self.path.display(),
                        self.dir.display()
                    ))
                }
                _ => Failure::failed(format!(
                    "cannot put {} in place: {e}; nothing was written",
                    self.path.display()
                )),
            });
        }
        let temp_path = self.temp.path().to_path_buf();
        if let Err(e) = self.temp.close() {
            let _ = std::fs::remove_file(&self.path);
            return Err(Failure::failed(format!(
                "cannot remove the temporary file {}: {e}; {} was removed again. \
                 Delete {} by hand (it holds the encrypted keystore)",
                temp_path.display(),
                self.path.display(),
                temp_path.display()
            )));
        }
        if let Err(e) = sync_dir(&self.dir) {
            let _ = std::fs::remove_file(&self.path);
            return Err(Failure::failed(format!(
                "cannot sync the directory {} after writing {}: {e}; nothing was left behind",
                self.dir.display(),
                self.path.display()
            )));
        }
        Ok(())
    }
}

/// Makes a new directory entry durable; a filesystem that cannot sync
/// directories is not an error.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::File::open(dir).and_then(|dir| dir.sync_all()) {
        Err(e) if matches!(e.kind(), std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported) => {
            Ok(())
        }
        result => result,
    }
}

pub async fn set_disabled(
    env: &Environment,
    address: &str,
    disabled: bool,
    out: &mut Out,
) -> Result<(), Failure> {
    let address = parse_address(address)?;
    if env.read_only {
        let action = if disabled { "disable" } else { "enable" };
        return Err(Error::ReadOnly { env: env.name.clone(), action }.into());
    }
    let custodian = env.connect().await?;
    let by = who();
    let changed = custodian.set_disabled(&address, disabled.then_some(by.as_str())).await?;
    let state = if disabled { "disabled" } else { "enabled" };
    out.line(&if changed {
        format!("{address} {state}")
    } else {
        format!("{address} was already {state}; nothing changed")
    })
}
