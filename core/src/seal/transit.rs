//! OpenBao (or HashiCorp Vault) transit sealing: the 32-byte secret is
//! encrypted by a transit key that never leaves the server, with the
//! record's binding ([`SealContext::canonical_bytes`]) as the key
//! derivation context. The key is `derived`, so the context picks the
//! encryption key itself: a blob moved to another record, table, share
//! slot, epoch or set of commitments does not open.
//!
//! The token needs `update` on `MOUNT/encrypt/KEY` and `MOUNT/decrypt/KEY`
//! and `read` on `MOUNT/keys/KEY`: before its first seal the sealer reads
//! the key once, since transit's encrypt would otherwise create a missing
//! key on the fly, and a key that is not derived ignores the context.
//! `rossignol init` ([`TransitSealer::init`]) also needs `create` on
//! `MOUNT/keys/KEY`.

mod api;
mod setup;

use std::fmt;
use std::io::Read as _;
use std::path::Path;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hyper::{Method, StatusCode};
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

use self::api::{Api, Reply};
use self::setup::KeyData;
use super::{SealContext, SealInit, Sealer};
use crate::error::{Error, Result};

const PREFIX: &str = "transit:";
/// A transit ciphertext's base64 part; 32 bytes seal to 80 characters.
const MAX_CIPHERTEXT: usize = 2048;

/// Seals with one OpenBao transit key.
pub struct TransitSealer {
    api: Api,
    mount: String,
    key: String,
    id: String,
    /// Set once the key was found derived, before the first seal.
    checked: OnceCell<()>,
}

/// Why OpenBao refused a request, from its answer.
enum Refusal {
    Token,
    MissingKey,
    MissingMount,
    /// The ciphertext did not authenticate under this context, or is no
    /// ciphertext of this key at all.
    Altered,
    /// An answer without OpenBao's JSON: another server at that address.
    NotOpenBao(u16),
    Other(String),
}

impl TransitSealer {
    /// Where `bao secrets enable transit` mounts the engine.
    pub const DEFAULT_MOUNT: &str = "transit";

    /// A sealer over the transit key `key` at `url` (http or https),
    /// mounted at `mount` (default `transit`), using `token`.
    pub fn with_token(url: &str, mount: Option<&str>, key: &str, token: Zeroizing<String>) -> Result<Self> {
        let mount = mount.unwrap_or(Self::DEFAULT_MOUNT).trim_matches('/');
        let segment =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !mount.split('/').all(segment) {
            return Err(Error::Config(format!(
                "`transit_mount` {mount:?} is not an OpenBao mount path; use letters, digits, '-', '_', '.' and '/'"
            )));
        }
        if !segment(key) {
            return Err(Error::Config(format!(
                "`transit_key` {key:?} is not a transit key name; use letters, digits, '-', '_' and '.'"
            )));
        }
        let id = if mount == Self::DEFAULT_MOUNT {
            format!("{PREFIX}{key}")
        } else {
            format!("{PREFIX}{mount}/{key}")
        };
        Ok(TransitSealer {
            api: Api::new(url, token)?,
            mount: mount.to_owned(),
            key: key.to_owned(),
            id,
            checked: OnceCell::new(),
        })
    }

    /// As [`TransitSealer::with_token`], with the token that
    /// [`TransitSealer::find_token`] finds in this process's environment.
    pub fn from_environment(
        url: &str,
        mount: Option<&str>,
        key: &str,
        token_file: Option<&Path>,
    ) -> Result<Self> {
        let token = Self::find_token(|name| std::env::var(name).ok(), token_file)?;
        Self::with_token(url, mount, key, token)
    }

    /// The token, trimmed: `$BAO_TOKEN`, else `$VAULT_TOKEN` (as `env`
    /// reports them; empty counts as unset), else the contents of
    /// `token_file`, a file only its owner can read.
    pub fn find_token(
        env: impl Fn(&str) -> Option<String>,
        token_file: Option<&Path>,
    ) -> Result<Zeroizing<String>> {
        for name in ["BAO_TOKEN", "VAULT_TOKEN"] {
            let value = Zeroizing::new(env(name).unwrap_or_default());
            if !value.trim().is_empty() {
                return Ok(Zeroizing::new(value.trim().to_owned()));
            }
        }
        let Some(path) = token_file else {
            return Err(Error::Config(
                "no OpenBao token: export BAO_TOKEN (or VAULT_TOKEN), or set `transit_token_file` to a file holding it, or `transit_token_secret` to a Secrets Manager secret holding it".into(),
            ));
        };
        let display = path.display();
        let file = crate::private_fs::open_private(
            path,
            "OpenBao token file",
            std::fs::OpenOptions::new().read(true),
        )?;
        // Sized up front so that reading never reallocates.
        let mut bytes = Zeroizing::new(Vec::with_capacity(4097));
        file.take(4096)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(format!("reading OpenBao token file {display}"), e))?;
        let token = std::str::from_utf8(&bytes).map(str::trim).unwrap_or_default();
        if token.is_empty() {
            return Err(Error::Config(format!(
                "OpenBao token file {display} holds no token; write the token into it, or export BAO_TOKEN"
            )));
        }
        Ok(Zeroizing::new(token.to_owned()))
    }

    /// Refuses to seal under a key that is missing (encrypt would create
    /// it, unchecked) or not derived (it would ignore the binding).
    async fn check_key(&self) -> Result<()> {
        self.checked
            .get_or_try_init(|| async {
                match self.read_key("transit encrypt", Error::Seal).await? {
                    None => Err(Error::Seal(self.explain(&Refusal::MissingKey, "keys"))),
                    Some(KeyData { derived: Some(true), .. }) => Ok(()),
                    Some(_) => Err(Error::Seal(format!(
                        "transit key {} at {} is not derived, so it would ignore which record and slot a key is sealed for; configure a derived key (`rossignol init` creates one)",
                        self.key,
                        self.api.url()
                    ))),
                }
            })
            .await
            .map(|_| ())
    }

    fn path(&self, operation: &str) -> String {
        format!("{}/{operation}/{}", self.mount, self.key)
    }

    fn refusal(&self, reply: &Reply) -> Refusal {
        let Some(errors) = reply.errors() else { return Refusal::NotOpenBao(reply.status.as_u16()) };
        match reply.status {
            StatusCode::FORBIDDEN => Refusal::Token,
            StatusCode::NOT_FOUND if errors.contains("no handler for route") => Refusal::MissingMount,
            StatusCode::BAD_REQUEST if errors.contains("encryption key not found") => Refusal::MissingKey,
            StatusCode::BAD_REQUEST
                if errors.contains("message authentication failed")
                    || errors.contains("invalid ciphertext") =>
            {
                Refusal::Altered
            }
            status => Refusal::Other(format!("HTTP {}: {errors}", status.as_u16())),
        }
    }

    /// What a refusal means and what to do, in one sentence.
    fn explain(&self, refusal: &Refusal, operation: &str) -> String {
        let (url, mount, key) = (self.api.url(), &self.mount, &self.key);
        match refusal {
            Refusal::Token => format!(
                "OpenBao at {url} refused the token for {}; check BAO_TOKEN, VAULT_TOKEN, `transit_token_file` or `transit_token_secret`, and that the token's policy allows that path",
                self.path(operation)
            ),
            Refusal::MissingKey => format!(
                "transit key {key} does not exist at {url} (mount {mount}); run `rossignol init` to create it, or restore it if keys were sealed under it"
            ),
            Refusal::MissingMount => format!(
                "OpenBao at {url} has no secrets engine mounted at {mount}/; enable one with `bao secrets enable -path={mount} transit`"
            ),
            Refusal::Altered => {
                "OpenBao refused it: the sealed key was altered, or belongs to another record or slot".into()
            }
            Refusal::NotOpenBao(status) => format!(
                "{url} answered HTTP {status}, but not as OpenBao does; check that `transit_url` is the OpenBao server's address"
            ),
            Refusal::Other(what) => {
                format!("OpenBao at {url} refused transit {operation} with key {key}: {what}")
            }
        }
    }
}

impl fmt::Debug for TransitSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransitSealer")
            .field("id", &self.id)
            .field("url", &self.api.url())
            .field("mount", &self.mount)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Sealer for TransitSealer {
    fn id(&self) -> &str {
        &self.id
    }

    async fn init(&self) -> Result<Option<SealInit>> {
        self.set_up().await.map(Some)
    }

    /// Reads the transit key afresh: the server answers, the token may
    /// read it, and it exists.
    async fn probe(&self) -> Result<()> {
        match self.read_key("transit keys", Error::Seal).await? {
            Some(_) => Ok(()),
            None => Err(Error::Seal(self.explain(&Refusal::MissingKey, "keys"))),
        }
    }

    async fn seal_secret(&self, ctx: SealContext<'_>, secret: &Zeroizing<[u8; 32]>) -> Result<Vec<u8>> {
        self.check_key().await?;
        let plaintext = Zeroizing::new(BASE64.encode(secret.as_slice()));
        let context = BASE64.encode(ctx.canonical_bytes());
        let body = json_object(&[("plaintext", &plaintext), ("context", &context)]);
        let reply = self.api.send(Method::POST, &self.path("encrypt"), Some(body), "transit encrypt").await?;
        if !reply.status.is_success() {
            return Err(Error::Seal(self.explain(&self.refusal(&reply), "encrypt")));
        }
        #[derive(serde::Deserialize)]
        struct Encrypted {
            data: Ciphertext,
        }
        #[derive(serde::Deserialize)]
        struct Ciphertext {
            ciphertext: String,
        }
        let ciphertext = serde_json::from_slice::<Encrypted>(&reply.body)
            .map_err(|_| Error::Seal("OpenBao answered encrypt without a ciphertext".into()))?
            .data
            .ciphertext;
        check_shape(&self.id, ciphertext.as_bytes()).map_err(|why| {
            Error::Seal(format!("OpenBao answered encrypt with no transit ciphertext: {why}"))
        })?;
        Ok(ciphertext.into_bytes())
    }

    async fn open_secret(
        &self,
        ctx: SealContext<'_>,
        seal_id: &str,
        blob: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>> {
        if seal_id != self.id {
            return Err(ctx.foreign_seal(seal_id, &self.id));
        }
        check_shape(seal_id, blob).map_err(|why| ctx.unseal_error(why))?;
        let ciphertext =
            std::str::from_utf8(blob).map_err(|_| ctx.unseal_error("the sealed key is not text"))?;
        let context = BASE64.encode(ctx.canonical_bytes());
        let body = json_object(&[("ciphertext", ciphertext), ("context", &context)]);
        let reply = self.api.send(Method::POST, &self.path("decrypt"), Some(body), "transit decrypt").await?;
        if !reply.status.is_success() {
            return Err(ctx.unseal_error(self.explain(&self.refusal(&reply), "decrypt")));
        }
        // Borrowed from the zeroized body: base64 needs no JSON escapes.
        #[derive(serde::Deserialize)]
        struct Decrypted<'a> {
            #[serde(borrow)]
            data: Plaintext<'a>,
        }
        #[derive(serde::Deserialize)]
        struct Plaintext<'a> {
            plaintext: &'a str,
        }
        let encoded = serde_json::from_slice::<Decrypted>(&reply.body)
            .map_err(|_| ctx.unseal_error("OpenBao answered decrypt without a plaintext"))?
            .data
            .plaintext;
        let mut plain = Zeroizing::new(Vec::with_capacity(base64::decoded_len_estimate(encoded.len())));
        BASE64
            .decode_vec(encoded, &mut plain)
            .map_err(|_| ctx.unseal_error("OpenBao answered decrypt with a plaintext that is not base64"))?;
        ctx.exact_secret(plain, "OpenBao")
    }
}

/// `{"name":"value",...}` in a buffer sized up front, so that it never
/// reallocates and leaves no unwiped copy of a plaintext behind. Values
/// are base64 or transit ciphertexts, which need no JSON escaping.
fn json_object(fields: &[(&str, &str)]) -> Zeroizing<Vec<u8>> {
    let len = 2 + fields.iter().map(|(name, value)| name.len() + value.len() + 6).sum::<usize>();
    let mut body = Zeroizing::new(Vec::with_capacity(len));
    body.push(b'{');
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        for part in [b"\"", name.as_bytes(), b"\":\"", value.as_bytes(), b"\""] {
            body.extend_from_slice(part);
        }
    }
    body.push(b'}');
    body
}

/// Checks a transit blob's shape without opening it: `vault:v<N>:` and
/// base64 of a sane length.
pub(crate) fn check_shape(seal_id: &str, blob: &[u8]) -> std::result::Result<(), String> {
    debug_assert!(seal_id.starts_with(PREFIX));
    let text = std::str::from_utf8(blob).map_err(|_| "the transit ciphertext is not text".to_owned())?;
    let shape = || "the transit ciphertext is not vault:v<N>:<base64>".to_owned();
    let rest = text.strip_prefix("vault:v").ok_or_else(shape)?;
    let (version, encoded) = rest.split_once(':').ok_or_else(shape)?;
    if version.is_empty()
        || version.len() > 9
        || !version.bytes().all(|b| b.is_ascii_digit())
        || version.starts_with('0')
    {
        return Err(shape());
    }
    if encoded.len() > MAX_CIPHERTEXT {
        return Err(format!(
            "the transit ciphertext is {} characters, far more than a key needs",
            text.len()
        ));
    }
    match BASE64.decode(encoded) {
        Ok(bytes) if !bytes.is_empty() => Ok(()),
        _ => Err(shape()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn the_token_is_bao_token_then_vault_token_then_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "from-file\n").unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let file = Some(path.as_path());
        let found = |pairs| TransitSealer::find_token(env(pairs), file).unwrap();
        assert_eq!(found(&[("BAO_TOKEN", " bao\n"), ("VAULT_TOKEN", "vault")]).as_str(), "bao");
        assert_eq!(found(&[("BAO_TOKEN", "  "), ("VAULT_TOKEN", "vault")]).as_str(), "vault");
        assert_eq!(found(&[]).as_str(), "from-file");
        std::fs::write(&path, " \n").unwrap();
        let err = TransitSealer::find_token(env(&[]), file).unwrap_err();
        assert!(err.to_string().contains("holds no token"), "{err}");
    }

    #[test]
    fn the_address_names_and_token_are_checked_up_front() {
        let token = || Zeroizing::new("t".to_owned());
        let with =
            |url, mount, key| TransitSealer::with_token(url, mount, key, token()).map(|s| s.id().to_owned());
        assert_eq!(with("http://127.0.0.1:8200", None, "k").unwrap(), "transit:k");
        assert_eq!(with("https://bao.example:8200/", Some("/transit/"), "k").unwrap(), "transit:k");
        assert_eq!(
            with("http://bao:8200", Some("custody/transit"), "k").unwrap(),
            "transit:custody/transit/k"
        );
        for url in ["bao.example:8200", "ftp://bao.example", "http://", "http://bao:8200/?x=1", ""] {
            assert!(with(url, None, "k").unwrap_err().to_string().contains("`transit_url`"), "{url:?}");
        }
        for key in ["", "a/b", "k?", "k k"] {
            assert!(
                with("http://bao:8200", None, key).unwrap_err().to_string().contains("`transit_key`"),
                "{key:?}"
            );
        }
        for mount in ["", "a//b", "a b"] {
            let err = with("http://bao:8200", Some(mount), "k").unwrap_err();
            assert!(err.to_string().contains("`transit_mount`"), "{mount:?}");
        }
        let err = TransitSealer::with_token("http://bao:8200", None, "k", Zeroizing::new("a\nb".into()))
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)) && !err.to_string().contains("a\nb"), "{err}");
    }

    #[test]
    fn debug_shows_where_not_the_token() {
        let sealer =
            TransitSealer::with_token("http://bao:8200", None, "k", Zeroizing::new("s.secret-token".into()))
                .unwrap();
        let debug = format!("{sealer:?}");
        assert!(debug.contains("transit:k") && debug.contains("http://bao:8200"), "{debug}");
        assert!(!debug.contains("secret-token"), "{debug}");
    }
}
