//! `rossignol init` for a transit seal: create the key when it is
//! missing, then check what keeps sealed keys safe.

use hyper::{Method, StatusCode};
use zeroize::Zeroizing;

use super::TransitSealer;
use crate::error::{Error, Result};
use crate::seal::SealInit;
use crate::store::{CheckStatus, SettingCheck};

impl TransitSealer {
    /// Creates the key when it is missing (AES-256-GCM, derived), then
    /// reads it back and checks what keeps sealed keys safe: derived,
    /// not deletable, never exportable. An existing key is never changed;
    /// what is wrong with it is reported, for the operator to decide.
    pub async fn set_up(&self) -> Result<SealInit> {
        const SETUP: &str = "transit key setup";
        let failed = |message| Error::Service { service: "OpenBao", operation: SETUP, message };
        let mut created = false;
        let data = match self.read_key(SETUP, failed).await? {
            Some(data) => data,
            None => {
                let body = Zeroizing::new(br#"{"type":"aes256-gcm96","derived":true}"#.to_vec());
                let reply = self.api.send(Method::POST, &self.path("keys"), Some(body), SETUP).await?;
                if !reply.status.is_success() {
                    return Err(failed(self.explain(&self.refusal(&reply), "keys")));
                }
                created = true;
                self.read_key(SETUP, failed).await?.ok_or_else(|| {
                    failed(format!("transit key {} was created but cannot be read back", self.key))
                })?
            }
        };
        Ok(SealInit { seal: self.id.clone(), created, checks: key_checks(&data, &self.path("keys")) })
    }

    /// The key's description, or `None` when there is no such key; a
    /// refusal becomes `failed(why)`.
    pub(super) async fn read_key(
        &self,
        operation: &'static str,
        failed: impl Fn(String) -> Error,
    ) -> Result<Option<KeyData>> {
        let reply = self.api.send(Method::GET, &self.path("keys"), None, operation).await?;
        // OpenBao's answer for a missing key, not a bare 404 from whatever else answers there.
        if reply.status == StatusCode::NOT_FOUND && reply.errors().is_some_and(|e| e.is_empty()) {
            return Ok(None);
        }
        if !reply.status.is_success() {
            return Err(failed(self.explain(&self.refusal(&reply), "keys")));
        }
        #[derive(serde::Deserialize)]
        struct Described {
            data: KeyData,
        }
        serde_json::from_slice::<Described>(&reply.body).map(|d| Some(d.data)).map_err(|_| {
            failed(format!(
                "{} described transit key {} in a form Rossignol does not know",
                self.api.url(),
                self.key
            ))
        })
    }
}

/// What `GET MOUNT/keys/KEY` says about a key; a field the server does
/// not report is `None`.
#[derive(Debug, serde::Deserialize)]
pub(super) struct KeyData {
    #[serde(rename = "type")]
    kind: Option<String>,
    pub(super) derived: Option<bool>,
    deletion_allowed: Option<bool>,
    exportable: Option<bool>,
    allow_plaintext_backup: Option<bool>,
}

fn key_checks(key: &KeyData, path: &str) -> Vec<SettingCheck> {
    let check = |setting, value: Option<bool>, good: bool, ok: &str, wrong: String| {
        let (status, detail) = match value {
            None => (CheckStatus::NotReported, "not reported by this server".to_owned()),
            Some(v) if v == good => (CheckStatus::Ok, ok.to_owned()),
            Some(_) => (CheckStatus::Wrong, wrong),
        };
        SettingCheck { setting, status, detail }
    };
    let kind = match key.kind.as_deref() {
        None => (CheckStatus::NotReported, "not reported by this server".to_owned()),
        Some(kind @ ("aes256-gcm96" | "chacha20-poly1305")) => {
            (CheckStatus::Ok, format!("{kind}, a 256-bit AEAD"))
        }
        Some(kind) => {
            (CheckStatus::Wrong, format!("{kind} is not a 256-bit AEAD; create an aes256-gcm96 key"))
        }
    };
    vec![
        SettingCheck { setting: "type", status: kind.0, detail: kind.1 },
        check(
            "derived",
            key.derived,
            true,
            "derived: each record and slot gets its own encryption key",
            "not derived, so it cannot bind shares (a sealed key would open for any record or slot) and Rossignol refuses to seal with it; create a derived key and configure that one".into(),
        ),
        check(
            "deletion_allowed",
            key.deletion_allowed,
            false,
            "deletion is refused",
            format!("deletion is allowed, so one API call destroys every key sealed under it; run `bao write {path}/config deletion_allowed=false`"),
        ),
        check(
            "exportable",
            key.exportable,
            false,
            "never leaves OpenBao",
            "exportable, so it can leave OpenBao (this cannot be undone); create a new key and reseal onto it".into(),
        ),
        check(
            "allow_plaintext_backup",
            key.allow_plaintext_backup,
            false,
            "no plaintext backup",
            "a plaintext backup is allowed, so the key can leave OpenBao (this cannot be undone); create a new key and reseal onto it".into(),
        ),
    ]
}
