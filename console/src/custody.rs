//! `rossignol sign`, `export`, `disable` and `enable`: one account at a
//! time, each key use recorded in the access trail first.

use std::path::{Path, PathBuf};

use rossignol_core::config::Environment;
use rossignol_core::sign::{Authorization, InvalidField, Payload, Transaction, TypedData, parse_message};
use rossignol_core::{Error, Requester};
use zeroize::Zeroizing;

use crate::Failure;
use crate::commands::{parse_address, who};
use crate::output::Out;

/// Reads a JSON file (`-` for stdin) holding what to sign.
fn read_json(file: &Path, what: &str) -> Result<serde_json::Value, Failure> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| Failure::usage(format!("cannot read the {what} from stdin: {e}")))?
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| Failure::usage(format!("cannot read the {what} file {}: {e}", file.display())))?
    };
    serde_json::from_str(&text).map_err(|e| {
        Failure::usage(format!("{} is not JSON ({e}); give the {what} as a JSON object", file.display()))
    })
}

/// What `rossignol sign` was given: one of its four options.
#[derive(Debug, Default)]
pub struct SignInput {
    pub message: Option<String>,
    pub transaction: Option<PathBuf>,
    pub typed_data: Option<PathBuf>,
    pub authorization: Option<PathBuf>,
}

impl SignInput {
    fn payload(self) -> Result<Payload, Failure> {
        let invalid = |e: InvalidField| Failure::from(Error::InvalidRequest(e));
        Ok(match self {
            SignInput {
                message: Some(message),
                transaction: None,
                typed_data: None,
                authorization: None,
            } => Payload::Message(
                parse_message(&message).map_err(|e| Failure::usage(format!("--message: {}", e.reason)))?,
            ),
            SignInput { message: None, transaction: Some(file), typed_data: None, authorization: None } => {
                let value = read_json(&file, "transaction")?;
                Payload::Transaction(Box::new(Transaction::from_json(&value, None).map_err(invalid)?))
            }
            SignInput { message: None, transaction: None, typed_data: Some(file), authorization: None } => {
                let value = read_json(&file, "typed data")?;
                Payload::TypedData(Box::new(TypedData::from_json(&value, "typed_data").map_err(invalid)?))
            }
            SignInput { message: None, transaction: None, typed_data: None, authorization: Some(file) } => {
                let value = read_json(&file, "authorization")?;
                Payload::Authorization(Authorization::from_json(&value, "authorization").map_err(invalid)?)
            }
            _ => {
                return Err(Failure::usage(
                    "give one of --message, --transaction, --typed-data or --authorization",
                ));
            }
        })
    }
}

pub async fn sign(
    env: &Environment,
    address: &str,
    input: SignInput,
    json: bool,
    out: &mut Out,
) -> Result<(), Failure> {
    let address = parse_address(address)?;
    let payload = input.payload()?;
    let custodian = env.connect().await?;
    let requester = Requester::operator("cli-sign", who());
    let (record, signed) = custodian.sign(&address, &payload, &requester).await?;
    // The signer Lambda's `data`: the same fields, the same names.
    let mut view = serde_json::Map::new();
    view.insert("address".into(), record.address.to_string().into());
    view.insert("scheme".into(), record.scheme.as_str().into());
    if let serde_json::Value::Object(fields) = signed.to_json() {
        view.extend(fields);
    }
    if json {
        return out.json(&view);
    }
    for (name, value) in view.iter().filter(|(name, _)| !matches!(name.as_str(), "address" | "scheme")) {
        let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        out.line(&format!("{name:<16} {value}"))?;
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
