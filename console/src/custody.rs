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
    if file.exists() {
        return Err(Failure::usage(format!(
            "{} already exists; nothing was overwritten. Choose another --out",
            file.display()
        )));
    }
    let passphrase = match passphrase_file {
        Some(path) => read_passphrase_file(path)?,
        None => ask_passphrase()?,
    };
    check_passphrase(&passphrase)?;
    let custodian = env.connect().await?;
    let requester = Requester::operator("cli-export", who());
    let json = custodian
        .export_keystore(&address, Zeroizing::new(passphrase.as_bytes().to_vec()), &requester)
        .await?;
    write_private_file(file, json.as_bytes())?;
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

/// Writes a new file readable by its owner only. Never overwrites; a
/// failed write leaves no partial file.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(
        |e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Failure::usage(format!(
                "{} already exists; nothing was overwritten. Choose another file",
                path.display()
            )),
            _ => Failure::failed(format!("cannot create {}: {e}", path.display())),
        },
    )?;
    if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(Failure::failed(format!(
            "cannot write {}: {e}; nothing was left behind",
            path.display()
        )));
    }
    Ok(())
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
