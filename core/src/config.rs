//! Environments: which table, where, as whom, sealed how, and whether
//! writes are allowed.
//!
//! The configuration comes from `$ROSSIGNOL_CONFIG`, else
//! `$XDG_CONFIG_HOME/rossignol/config.toml` (`~/.config/...`), else a
//! built-in `local` environment: the embedded store and a local key in the
//! data directory. `local` is always available unless the file defines its
//! own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::policy::{Policy, PolicyBook, PolicySpec};
use crate::store::dynamo::DynamoTrail;

pub const LOCAL: &str = "local";

/// The file format.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    default: Option<String>,
    #[serde(default)]
    environments: BTreeMap<String, EnvironmentFile>,
    #[serde(default)]
    keys: BTreeMap<String, String>,
    #[serde(default)]
    theme: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    #[default]
    Dynamodb,
    Embedded,
    Postgres,
    /// Each key split across `[[environments.NAME.providers]]`.
    Sharded,
}

/// One environment as written, or one of a sharded environment's
/// providers: the same keys mean the same things in both. `name` is for
/// providers only; `threshold`, `providers`, `read_only` and `policy` are
/// for environments only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentFile {
    name: Option<String>,
    threshold: Option<u8>,
    #[serde(default)]
    providers: Vec<EnvironmentFile>,
    #[serde(default)]
    store: StoreKind,
    table: Option<String>,
    path: Option<PathBuf>,
    /// PostgreSQL: `postgres://USER[:PASSWORD]@HOST:PORT/DB[?sslmode=...]`.
    url: Option<String>,
    /// PostgreSQL: the AWS Secrets Manager secret (id or ARN) whose
    /// SecretString is the URL, instead of `url`.
    url_secret: Option<String>,
    region: Option<String>,
    profile: Option<String>,
    endpoint_url: Option<String>,
    kms_endpoint_url: Option<String>,
    sts_endpoint_url: Option<String>,
    kms_key_id: Option<String>,
    local_key_file: Option<PathBuf>,
    transit_url: Option<String>,
    transit_key: Option<String>,
    transit_mount: Option<String>,
    transit_token_file: Option<PathBuf>,
    /// The AWS Secrets Manager secret (id or ARN) whose SecretString is the
    /// OpenBao/Vault token.
    transit_token_secret: Option<String>,
    sse_kms_key_id: Option<String>,
    access_table: Option<String>,
    #[serde(default)]
    also_open: Vec<String>,
    #[serde(default)]
    read_only: bool,
    /// The signing policy (see [`crate::policy`]); absent, every kind.
    policy: Option<PolicySpec>,
}

impl EnvironmentFile {
    /// The keys only a DynamoDB store takes, and whether each is set.
    fn dynamodb_fields(&self) -> [(&'static str, bool); 7] {
        [
            ("region", self.region.is_some()),
            ("profile", self.profile.is_some()),
            ("endpoint_url", self.endpoint_url.is_some()),
            ("kms_endpoint_url", self.kms_endpoint_url.is_some()),
            ("sts_endpoint_url", self.sts_endpoint_url.is_some()),
            ("sse_kms_key_id", self.sse_kms_key_id.is_some()),
            ("access_table", self.access_table.is_some()),
        ]
    }
}

/// Where an environment's accounts live.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "store", rename_all = "lowercase")]
pub enum StoreSpec {
    Dynamodb {
        aws: AwsSpec,
        /// A customer-managed key for table encryption (`init`).
        sse_kms_key_id: Option<String>,
        /// The access trail's table; `<table>_access` by default.
        access_table: String,
    },
    Embedded {
        path: PathBuf,
    },
    /// A PostgreSQL database: the accounts in `table`, the trail in
    /// `<table>_access`.
    Postgres {
        url: DatabaseUrl,
    },
    /// Each key split into shares, any `threshold` of which rebuild it,
    /// one per provider. A provider's place in the list is its share's
    /// slot: the first holds share 1.
    Sharded {
        threshold: u8,
        providers: Vec<ProviderSpec>,
    },
}

/// A database URL, which may hold a password, as written (`url`) or as
/// the AWS Secrets Manager secret that holds it (`url_secret`, read when
/// connecting). Shown and serialised with the password as `***`, or as the
/// secret's id.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(UrlSource);

#[derive(Clone, PartialEq, Eq)]
enum UrlSource {
    Written(String),
    Secret(String),
}

impl DatabaseUrl {
    /// The URL as written, password included: for the database client
    /// only. `None` when it is kept in Secrets Manager.
    pub fn expose(&self) -> Option<&str> {
        match &self.0 {
            UrlSource::Written(url) => Some(url),
            UrlSource::Secret(_) => None,
        }
    }

    /// The id or ARN of the Secrets Manager secret whose value is the URL.
    pub fn secret_id(&self) -> Option<&str> {
        match &self.0 {
            UrlSource::Written(_) => None,
            UrlSource::Secret(id) => Some(id),
        }
    }

    fn shown(&self) -> String {
        match &self.0 {
            UrlSource::Written(url) => crate::store::postgres::redact_url(url),
            UrlSource::Secret(id) => format!("(the URL in secret {id})"),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl serde::Serialize for DatabaseUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.shown())
    }
}

/// One provider of a sharded environment: a store and a seal of its own.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProviderSpec {
    pub name: String,
    pub table: String,
    pub store: StoreSpec,
    pub seal: SealSpec,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_open: Vec<SealSpec>,
    /// Where a KMS seal reaches KMS, and a named secret (`url_secret`,
    /// `transit_token_secret`) AWS Secrets Manager, when the store is not
    /// DynamoDB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms: Option<AwsSpec>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AwsSpec {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub kms_endpoint_url: Option<String>,
    /// Where to ask STS who the caller is. Unset: AWS's own STS, unless
    /// `endpoint_url` points DynamoDB elsewhere (DynamoDB Local), where no
    /// AWS identity is recorded.
    pub sts_endpoint_url: Option<String>,
}

/// How an environment seals keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "seal", rename_all = "lowercase")]
pub enum SealSpec {
    Kms {
        key_id: String,
    },
    Local {
        key_file: PathBuf,
    },
    /// An OpenBao or Vault transit key (`derived = true`); the token is
    /// the value of the Secrets Manager secret `token_secret` when one is
    /// named, else it comes from `$BAO_TOKEN`, `$VAULT_TOKEN` or
    /// `token_file`.
    Transit {
        url: String,
        key: String,
        mount: Option<String>,
        token_file: Option<PathBuf>,
        #[serde(skip_serializing_if = "Option::is_none")]
        token_secret: Option<String>,
    },
    /// A sharded environment's: each share sealed by its own provider's
    /// seal (see [`StoreSpec::Sharded`]).
    Shares,
}

impl SealSpec {
    /// Parses `kms:KEY` (a key id, ARN or alias) or `local:FILE`, as
    /// `also_open` and `rossignol reseal --to` take them. A relative file is
    /// taken from `base`.
    pub fn parse(text: &str, base: &Path) -> std::result::Result<Self, String> {
        let text = text.trim();
        if let Some(key_id) = text.strip_prefix("kms:") {
            if key_id.trim().is_empty() {
                return Err("`kms:` needs a key id, ARN or alias after it".into());
            }
            Ok(SealSpec::Kms { key_id: key_id.trim().to_owned() })
        } else if let Some(file) = text.strip_prefix("local:") {
            if file.trim().is_empty() {
                return Err("`local:` needs the path of a key file after it".into());
            }
            Ok(SealSpec::Local { key_file: expand(Path::new(file.trim()), base) })
        } else {
            Err(format!("{text:?} names no seal; write `kms:KEY` (id, ARN or alias) or `local:FILE`"))
        }
    }

    /// The `kms:KEY` or `local:FILE` form [`SealSpec::parse`] reads.
    pub fn to_arg(&self) -> String {
        match self {
            SealSpec::Kms { key_id } => format!("kms:{key_id}"),
            SealSpec::Local { key_file } => format!("local:{}", key_file.display()),
            SealSpec::Transit { url, key, mount, .. } => {
                let mount = mount.as_deref().map(|m| format!("{m}/")).unwrap_or_default();
                format!("transit:{mount}{key} at {url}")
            }
            SealSpec::Shares => "shares".to_owned(),
        }
    }
}

/// One resolved environment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Environment {
    pub name: String,
    /// The table keys are bound to; a sharded environment's name (each of
    /// its providers has a table of its own).
    pub table: String,
    pub store: StoreSpec,
    /// Seals new keys, and opens what it sealed.
    pub seal: SealSpec,
    /// Seals kept only to open records sealed before a rotation (`also_open`
    /// in the file), until `rossignol audit` shows none left under them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_open: Vec<SealSpec>,
    /// Where a KMS seal reaches KMS when the store is not DynamoDB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms: Option<AwsSpec>,
    pub read_only: bool,
    /// What may be signed here, checked before any key is opened.
    #[serde(skip)]
    pub policy: PolicyBook,
}

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    BuiltIn,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub default: String,
    pub environments: BTreeMap<String, Environment>,
    pub source: Source,
    /// The console's key remapping, `action = "key"`, as written; the
    /// console validates it.
    pub keys: BTreeMap<String, String>,
    /// The console's colour per environment, `name = "colour"`, as written.
    pub theme: BTreeMap<String, String>,
}

/// The data directory: `$ROSSIGNOL_DATA_DIR`, else `$XDG_DATA_HOME/rossignol`
/// (`~/.local/share/rossignol`).
pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("ROSSIGNOL_DATA_DIR").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir().map(|d| d.join("rossignol")).ok_or_else(|| {
        Error::Config("no data directory is known for this user; set ROSSIGNOL_DATA_DIR".into())
    })
}

/// The file that would be read when no `--config` is given, if any.
pub fn default_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ROSSIGNOL_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    dirs::config_dir().map(|d| d.join("rossignol").join("config.toml")).filter(|p| p.exists())
}

impl Config {
    /// Loads `explicit` if given, else the default path, else the built-in.
    pub fn load(explicit: Option<&Path>) -> Result<Self> {
        match explicit.map(Path::to_owned).or_else(default_path) {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Error::Config(format!(
                        "cannot read {}: {e}; check the path given by --config or ROSSIGNOL_CONFIG",
                        path.display()
                    ))
                })?;
                Self::parse(&text, Source::File(path))
            }
            None => Self::parse("", Source::BuiltIn),
        }
    }

    /// Parses configuration text. Relative paths are taken from the file's
    /// directory.
    pub fn parse(text: &str, source: Source) -> Result<Self> {
        let origin = match &source {
            Source::File(path) => path.display().to_string(),
            Source::BuiltIn => "the built-in configuration".to_owned(),
        };
        let base = match &source {
            Source::File(path) => path.parent().map(Path::to_owned).unwrap_or_default(),
            Source::BuiltIn => PathBuf::new(),
        };
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| Error::Config(format!("{origin} is not valid: {e}")))?;
        let data = data_dir()?;
        let mut environments = BTreeMap::new();
        for (name, env) in file.environments {
            let resolved = resolve(&name, env, &base, &data)
                .map_err(|e| Error::Config(format!("{origin}: environment `{name}`: {e}")))?;
            environments.insert(name, resolved);
        }
        environments.entry(LOCAL.to_owned()).or_insert_with(|| builtin_local(&data));
        let default = file.default.unwrap_or_else(|| LOCAL.to_owned());
        if !environments.contains_key(&default) {
            return Err(Error::Config(format!(
                "{origin}: `default = \"{default}\"` names no environment; define [environments.{default}] or change it"
            )));
        }
        Ok(Config { default, environments, source, keys: file.keys, theme: file.theme })
    }

    /// The named environment, or the default.
    pub fn environment(&self, name: Option<&str>) -> Result<&Environment> {
        let name = name.unwrap_or(&self.default);
        self.environments.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.environments.keys().map(String::as_str).collect();
            Error::Config(format!("no environment named `{name}`; known: {}", known.join(", ")))
        })
    }
}

fn builtin_local(data: &Path) -> Environment {
    Environment {
        name: LOCAL.to_owned(),
        table: "rossignol_local".to_owned(),
        store: StoreSpec::Embedded { path: data.join("local.redb") },
        seal: SealSpec::Local { key_file: data.join("local.key") },
        also_open: Vec::new(),
        kms: None,
        read_only: false,
        policy: PolicyBook::default(),
    }
}

fn expand(path: &Path, base: &Path) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    if path.is_relative() { base.join(path) } else { path.to_owned() }
}

fn resolve(
    name: &str,
    mut env: EnvironmentFile,
    base: &Path,
    data: &Path,
) -> std::result::Result<Environment, String> {
    if env.name.is_some() {
        return Err("`name` is for providers (`[[environments.NAME.providers]]`), not environments".into());
    }
    let policy = match &env.policy {
        Some(spec) => PolicyBook::single(Policy::from_spec(spec, "policy")?),
        None => PolicyBook::default(),
    };
    let read_only = env.read_only;
    if env.store == StoreKind::Sharded {
        let (threshold, providers) = resolve_sharded(name, env, base, data)?;
        return Ok(Environment {
            name: name.to_owned(),
            table: name.to_owned(),
            store: StoreSpec::Sharded { threshold, providers },
            seal: SealSpec::Shares,
            also_open: Vec::new(),
            kms: None,
            read_only,
            policy,
        });
    }
    if let Some(field) = [("threshold", env.threshold.is_some()), ("providers", !env.providers.is_empty())]
        .iter()
        .find_map(|(field, set)| set.then_some(field))
    {
        return Err(format!("`{field}` is only for `store = \"sharded\"`"));
    }
    env.policy = None;
    let provider = resolve_provider(name, &format!("rossignol_{name}"), env, base, data)?;
    Ok(Environment {
        name: name.to_owned(),
        table: provider.table,
        store: provider.store,
        seal: provider.seal,
        also_open: provider.also_open,
        kms: provider.kms,
        read_only,
        policy,
    })
}

/// A sharded environment's threshold (2 by default) and providers, each
/// named once and sharing no store or key file with another.
fn resolve_sharded(
    name: &str,
    env: EnvironmentFile,
    base: &Path,
    data: &Path,
) -> std::result::Result<(u8, Vec<ProviderSpec>), String> {
    let provider_only = [
        ("table", env.table.is_some()),
        ("path", env.path.is_some()),
        ("kms_key_id", env.kms_key_id.is_some()),
        ("local_key_file", env.local_key_file.is_some()),
        ("also_open", !env.also_open.is_empty()),
        ("url_secret", env.url_secret.is_some()),
        ("transit_token_secret", env.transit_token_secret.is_some()),
    ];
    if let Some(field) =
        provider_only.iter().chain(&env.dynamodb_fields()).find_map(|(field, set)| set.then_some(field))
    {
        return Err(format!(
            "`{field}` belongs inside each `[[environments.{name}.providers]]` of a sharded environment"
        ));
    }
    let threshold = env.threshold.unwrap_or(2);
    let count = env.providers.len();
    if count < 2 {
        return Err(format!(
            "a sharded environment needs at least 2 providers (`[[environments.{name}.providers]]`), not {count}"
        ));
    }
    if threshold < 2 || usize::from(threshold) > count || count > usize::from(crate::vss::MAX_SHARES) {
        return Err(format!(
            "`threshold = {threshold}` with {count} providers cannot be: it must be at least 2 and at most the number of providers ({} at most)",
            crate::vss::MAX_SHARES
        ));
    }
    let mut providers: Vec<ProviderSpec> = Vec::with_capacity(count);
    for file in env.providers {
        let provider_name = match file.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => return Err("every provider needs a `name`".into()),
        };
        if providers.iter().any(|p| p.name == provider_name) {
            return Err(format!(
                "provider `{provider_name}` is named twice; give each provider its own name"
            ));
        }
        let nested = [
            ("threshold", file.threshold.is_some()),
            ("providers", !file.providers.is_empty()),
            ("read_only", file.read_only),
            ("policy", file.policy.is_some()),
        ];
        if let Some(field) = nested.iter().find_map(|(field, set)| set.then_some(field)) {
            return Err(format!(
                "provider `{provider_name}`: `{field}` belongs to the environment, not a provider"
            ));
        }
        if file.store == StoreKind::Sharded {
            return Err(format!("provider `{provider_name}`: a provider is one store, not `sharded`"));
        }
        let default_file = format!("{name}-{provider_name}");
        let provider = resolve_provider(&default_file, &format!("rossignol_{name}"), file, base, data)
            .map_err(|e| format!("provider `{provider_name}`: {e}"))?;
        if let Some(other) = providers.iter().find(|p| shares_anything(p, &provider)) {
            return Err(format!(
                "providers `{}` and `{provider_name}` share a store or a key; each provider must hold its own",
                other.name
            ));
        }
        providers.push(ProviderSpec { name: provider_name, ..provider });
    }
    Ok((threshold, providers))
}

/// Whether two providers would hold their shares in the same place, or
/// under the same key: then one of them could reveal both.
fn shares_anything(a: &ProviderSpec, b: &ProviderSpec) -> bool {
    let same_store = match (&a.store, &b.store) {
        (StoreSpec::Embedded { path: x }, StoreSpec::Embedded { path: y }) => x == y,
        (StoreSpec::Postgres { url: x }, StoreSpec::Postgres { url: y }) => x == y && a.table == b.table,
        (StoreSpec::Dynamodb { aws: x, .. }, StoreSpec::Dynamodb { aws: y, .. }) => {
            a.table == b.table && x.endpoint_url == y.endpoint_url && x.region == y.region
        }
        _ => false,
    };
    same_store || a.seal == b.seal
}

/// One store and its seal: a single-store environment, or one provider of
/// a sharded one. `default_file` names the embedded store's and the local
/// key's files when they are not given; `default_table` the embedded
/// store's table.
fn resolve_provider(
    default_file: &str,
    default_table: &str,
    env: EnvironmentFile,
    base: &Path,
    data: &Path,
) -> std::result::Result<ProviderSpec, String> {
    let seal = resolve_seal(&env, default_file, base, data)?;
    let mut kms = None;
    let (store, table) = match env.store {
        StoreKind::Dynamodb => {
            only_postgres(&env)?;
            let table = env.table.ok_or("`table` is required for `store = \"dynamodb\"`")?;
            validate_table_name(&table)?;
            if env.path.is_some() {
                return Err("`path` is only for `store = \"embedded\"`".into());
            }
            let aws = AwsSpec {
                region: env.region,
                profile: env.profile,
                endpoint_url: env.endpoint_url,
                kms_endpoint_url: env.kms_endpoint_url,
                sts_endpoint_url: env.sts_endpoint_url,
            };
            let access_table = env.access_table.unwrap_or_else(|| DynamoTrail::default_table(&table));
            validate_table_name(&access_table)?;
            (StoreSpec::Dynamodb { aws, sse_kms_key_id: env.sse_kms_key_id, access_table }, table)
        }
        StoreKind::Embedded => {
            kms = kms_reach(&env, &seal)?;
            only_postgres(&env)?;
            let path = env
                .path
                .map(|p| expand(&p, base))
                .unwrap_or_else(|| data.join(format!("{default_file}.redb")));
            (StoreSpec::Embedded { path }, env.table.unwrap_or_else(|| default_table.to_owned()))
        }
        StoreKind::Postgres => {
            kms = kms_reach(&env, &seal)?;
            if env.path.is_some() {
                return Err("`path` is only for `store = \"embedded\"`; PostgreSQL takes `url`".into());
            }
            let url = database_url(&env)?;
            let table = env.table.clone().ok_or("`table` is required for `store = \"postgres\"`")?;
            (StoreSpec::Postgres { url }, table)
        }
        StoreKind::Sharded => unreachable!("sharded environments are resolved by resolve_sharded"),
    };
    let mut also_open = Vec::new();
    for text in &env.also_open {
        let spec = SealSpec::parse(text, base).map_err(|e| format!("`also_open`: {e}"))?;
        let reaches_kms = matches!(store, StoreSpec::Dynamodb { .. }) || kms.is_some();
        if !reaches_kms && matches!(spec, SealSpec::Kms { .. }) {
            return Err(format!(
                "`also_open`: {text:?} needs KMS, which this store reaches only with `kms_key_id` and its `region`"
            ));
        }
        if spec != seal && !also_open.contains(&spec) {
            also_open.push(spec);
        }
    }
    Ok(ProviderSpec { name: default_file.to_owned(), table, store, seal, also_open, kms })
}

/// `url` and `url_secret` name a PostgreSQL database.
fn only_postgres(env: &EnvironmentFile) -> std::result::Result<(), String> {
    match [("url", env.url.is_some()), ("url_secret", env.url_secret.is_some())]
        .iter()
        .find_map(|(field, set)| set.then_some(field))
    {
        Some(field) => Err(format!("`{field}` is only for `store = \"postgres\"`")),
        None => Ok(()),
    }
}

/// Exactly one of `url` and `url_secret`.
fn database_url(env: &EnvironmentFile) -> std::result::Result<DatabaseUrl, String> {
    match (&env.url, env.url_secret.as_deref().map(str::trim)) {
        (Some(_), Some(_)) => Err("set either `url` or `url_secret`, not both".into()),
        (None, Some("")) => Err("`url_secret` is empty; set it to the id or ARN of the Secrets Manager secret that holds the URL".into()),
        (None, Some(id)) => Ok(DatabaseUrl(UrlSource::Secret(id.to_owned()))),
        (Some(url), None) => Ok(DatabaseUrl(UrlSource::Written(url.clone()))),
        (None, None) => Err(
            "`url` is required for `store = \"postgres\"` (or `url_secret`, the Secrets Manager secret that holds it)"
                .into(),
        ),
    }
}

/// Where a store other than DynamoDB reaches AWS: KMS for a `kms_key_id`
/// seal, Secrets Manager for a named secret. Its `region` and `profile`
/// go with either, `kms_endpoint_url` with a KMS seal only; the other
/// DynamoDB keys never apply.
fn kms_reach(env: &EnvironmentFile, seal: &SealSpec) -> std::result::Result<Option<AwsSpec>, String> {
    let is_kms = matches!(seal, SealSpec::Kms { .. });
    let names_secret = env.url_secret.is_some() || env.transit_token_secret.is_some();
    let allowed = |field: &str| match field {
        "region" | "profile" => is_kms || names_secret,
        "kms_endpoint_url" => is_kms,
        _ => false,
    };
    if let Some(field) =
        env.dynamodb_fields().iter().find_map(|(field, set)| (*set && !allowed(field)).then_some(field))
    {
        return Err(if ["region", "profile", "kms_endpoint_url"].contains(field) {
            format!(
                "`{field}` is for a DynamoDB store, or a KMS seal (`kms_key_id`), or a named secret (`url_secret`, `transit_token_secret`)"
            )
        } else {
            format!("`{field}` is only for `store = \"dynamodb\"`")
        });
    }
    Ok((is_kms || names_secret).then(|| AwsSpec {
        region: env.region.clone(),
        profile: env.profile.clone(),
        kms_endpoint_url: env.kms_endpoint_url.clone(),
        ..AwsSpec::default()
    }))
}

/// The one seal a store is given: a KMS key, a transit key or a local key
/// file (an embedded store's own by default).
fn resolve_seal(
    env: &EnvironmentFile,
    default_file: &str,
    base: &Path,
    data: &Path,
) -> std::result::Result<SealSpec, String> {
    let given: Vec<&str> = [
        ("kms_key_id", env.kms_key_id.is_some()),
        ("transit_key", env.transit_key.is_some()),
        ("local_key_file", env.local_key_file.is_some()),
    ]
    .iter()
    .filter_map(|(field, set)| set.then_some(*field))
    .collect();
    if let [first, second, ..] = given[..] {
        return Err(format!("set one seal: either `{first}` or `{second}`, not both"));
    }
    if env.transit_key.is_none()
        && let Some(field) = [
            ("transit_url", env.transit_url.is_some()),
            ("transit_mount", env.transit_mount.is_some()),
            ("transit_token_file", env.transit_token_file.is_some()),
            ("transit_token_secret", env.transit_token_secret.is_some()),
        ]
        .iter()
        .find_map(|(field, set)| set.then_some(field))
    {
        return Err(format!("`{field}` goes with `transit_key`, which is not set"));
    }
    let nonempty = |field: &str, value: &Option<String>| match value.as_deref().map(str::trim) {
        Some("") => Err(format!("`{field}` is empty")),
        other => Ok(other.map(str::to_owned)),
    };
    if let Some(key_id) = nonempty("kms_key_id", &env.kms_key_id)? {
        return Ok(SealSpec::Kms { key_id });
    }
    if let Some(key) = nonempty("transit_key", &env.transit_key)? {
        let url = nonempty("transit_url", &env.transit_url)?
            .ok_or("`transit_key` needs `transit_url`, the OpenBao or Vault address")?;
        let token_secret = nonempty("transit_token_secret", &env.transit_token_secret)?;
        if token_secret.is_some() && env.transit_token_file.is_some() {
            return Err("set either `transit_token_file` or `transit_token_secret`, not both".into());
        }
        return Ok(SealSpec::Transit {
            url,
            key,
            mount: nonempty("transit_mount", &env.transit_mount)?,
            token_file: env.transit_token_file.as_deref().map(|file| expand(file, base)),
            token_secret,
        });
    }
    match &env.local_key_file {
        Some(file) => Ok(SealSpec::Local { key_file: expand(file, base) }),
        None if env.store == StoreKind::Embedded => {
            Ok(SealSpec::Local { key_file: data.join(format!("{default_file}.key")) })
        }
        None => Err(
            "a DynamoDB store needs `kms_key_id` (or `transit_key` with `transit_url`, or `local_key_file` for development)"
                .into(),
        ),
    }
}

/// DynamoDB's rule: 3 to 255 of `a-z A-Z 0-9 _ - .`.
fn validate_table_name(table: &str) -> std::result::Result<(), String> {
    let ok_chars = table.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if (3..=255).contains(&table.len()) && ok_chars {
        Ok(())
    } else {
        Err(format!(
            "`table = {table:?}` is not a valid DynamoDB table name (3-255 of a-z, A-Z, 0-9, _, -, .)"
        ))
    }
}

impl Environment {
    /// Short description of the seal, for listings.
    pub fn seal_label(&self) -> String {
        let primary = match (&self.seal, &self.store) {
            (_, StoreSpec::Sharded { threshold, providers }) => {
                let each: Vec<String> =
                    providers.iter().map(|p| format!("{} {}", p.name, p.seal.to_arg())).collect();
                format!("sharded {threshold}-of-{} ({})", providers.len(), each.join(", "))
            }
            (SealSpec::Kms { key_id }, _) => format!("kms:{key_id}"),
            (SealSpec::Local { key_file }, _) => format!("local key {}", key_file.display()),
            (transit @ SealSpec::Transit { .. }, _) => transit.to_arg(),
            (SealSpec::Shares, _) => "shares".to_owned(),
        };
        if self.also_open.is_empty() {
            primary
        } else {
            let also: Vec<String> = self.also_open.iter().map(SealSpec::to_arg).collect();
            format!("{primary}, also opens {}", also.join(", "))
        }
    }

    /// The environment as one provider, when it is a single store.
    pub fn single_provider(&self) -> Option<ProviderSpec> {
        (!matches!(self.store, StoreSpec::Sharded { .. })).then(|| ProviderSpec {
            name: self.name.clone(),
            table: self.table.clone(),
            store: self.store.clone(),
            seal: self.seal.clone(),
            also_open: self.also_open.clone(),
            kms: self.kms.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Source::File(PathBuf::from("/etc/rossignol/config.toml")))
    }

    #[test]
    fn builtin_has_the_embedded_local_default() {
        let config = Config::parse("", Source::BuiltIn).unwrap();
        assert_eq!(config.default, "local");
        let env = config.environment(None).unwrap();
        assert!(matches!(env.store, StoreSpec::Embedded { .. }));
        assert!(matches!(env.seal, SealSpec::Local { .. }));
        assert!(!env.read_only);
    }

    #[test]
    fn the_documented_example_parses() {
        let config = parse(include_str!("../../assets/config.example.toml")).unwrap();
        let staging = config.environment(Some("staging")).unwrap();
        assert_eq!(staging.table, "rossignol_staging");
        let StoreSpec::Dynamodb { aws, .. } = &staging.store else { panic!("dynamodb expected") };
        assert_eq!(aws.region.as_deref(), Some("eu-central-1"));
        assert!(matches!(&staging.seal, SealSpec::Kms { key_id } if key_id == "alias/rossignol-staging"));
        assert_eq!(staging.also_open, vec![SealSpec::Kms { key_id: "alias/rossignol-staging-2023".into() }]);
        assert!(config.environment(Some("production")).unwrap().read_only);
        assert!(config.environment(Some("local")).is_ok());
        assert_eq!(config.keys.get("reveal").map(String::as_str), Some("v"));
        assert_eq!(config.theme.get("staging").map(String::as_str), Some("yellow"));
        assert_ne!(staging.policy, PolicyBook::default(), "the staging policy is read");
        assert_eq!(config.environment(Some("production")).unwrap().policy, PolicyBook::default());
        let StoreSpec::Sharded { threshold, providers } = &config.environment(Some("vault")).unwrap().store
        else {
            panic!("the example's vault is sharded")
        };
        let kinds: Vec<&str> = providers
            .iter()
            .map(|p| match (&p.store, &p.seal) {
                (StoreSpec::Dynamodb { .. }, SealSpec::Kms { .. }) => "aws",
                (StoreSpec::Postgres { .. }, SealSpec::Transit { .. }) => "pg",
                (StoreSpec::Embedded { .. }, SealSpec::Local { .. }) => "offline",
                _ => "unexpected",
            })
            .collect();
        assert_eq!((*threshold, kinds), (2, vec!["aws", "pg", "offline"]));
    }

    #[test]
    fn a_policy_mistake_names_the_environment_and_the_field() {
        let text =
            "[environments.dev]\nstore = \"embedded\"\n[environments.dev.policy]\nkinds = [\"messages\"]\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("environment `dev`") && err.contains("`policy.kinds`"), "{err}");
        let err =
            parse("[environments.dev]\nstore = \"embedded\"\n[environments.dev.policy]\nchain_id = [1]\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("chain_id"), "{err}");
    }

    #[test]
    fn relative_paths_are_taken_from_the_file() {
        let config = parse(
            "[environments.dev]\nstore = \"embedded\"\npath = \"dev.redb\"\nlocal_key_file = \"keys/dev.key\"\n",
        )
        .unwrap();
        let dev = config.environment(Some("dev")).unwrap();
        assert!(
            matches!(&dev.store, StoreSpec::Embedded { path } if path == Path::new("/etc/rossignol/dev.redb"))
        );
        assert!(
            matches!(&dev.seal, SealSpec::Local { key_file } if key_file == Path::new("/etc/rossignol/keys/dev.key"))
        );
    }

    #[test]
    fn also_open_lists_the_seals_kept_for_a_rotation() {
        let config = parse(
            "[environments.dev]\ntable = \"t_dev\"\nkms_key_id = \"new\"\n\
             also_open = [\"kms:old\", \"local:keys/old.key\", \"kms:new\", \"kms:old\"]\n",
        )
        .unwrap();
        let dev = config.environment(Some("dev")).unwrap();
        assert_eq!(
            dev.also_open,
            vec![
                SealSpec::Kms { key_id: "old".into() },
                SealSpec::Local { key_file: PathBuf::from("/etc/rossignol/keys/old.key") },
            ]
        );
        assert_eq!(dev.also_open[1].to_arg(), "local:/etc/rossignol/keys/old.key");
        assert!(dev.seal_label().contains("also opens kms:old"), "{}", dev.seal_label());
        assert!(config.environment(Some("local")).unwrap().also_open.is_empty());
    }

    const VAULT: &str = r#"
[environments.vault]
store = "sharded"
threshold = 2
read_only = true
[[environments.vault.providers]]
name = "aws"
store = "dynamodb"
table = "rossignol_vault"
region = "eu-central-1"
endpoint_url = "http://127.0.0.1:8000"
kms_key_id = "alias/rossignol-vault"
[[environments.vault.providers]]
name = "offline"
store = "embedded"
path = "/secure/vault.redb"
local_key_file = "/secure/vault.key"
[[environments.vault.providers]]
name = "second"
store = "embedded"
"#;

    #[test]
    fn a_sharded_environment_lists_its_providers_in_order() {
        let config = parse(VAULT).unwrap();
        let vault = config.environment(Some("vault")).unwrap();
        assert!(vault.read_only);
        assert_eq!(vault.seal, SealSpec::Shares);
        assert!(vault.single_provider().is_none());
        let StoreSpec::Sharded { threshold, providers } = &vault.store else { panic!("sharded expected") };
        assert_eq!(*threshold, 2);
        let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["aws", "offline", "second"]);
        assert!(matches!(&providers[0].seal, SealSpec::Kms { key_id } if key_id == "alias/rossignol-vault"));
        assert_eq!(
            providers[1].table, "rossignol_vault",
            "an embedded provider's table defaults to the environment's"
        );
        let data = data_dir().unwrap();
        assert!(
            matches!(&providers[2].store, StoreSpec::Embedded { path } if *path == data.join("vault-second.redb"))
        );
        assert_eq!(providers[2].seal, SealSpec::Local { key_file: data.join("vault-second.key") });
        assert!(
            vault.seal_label().starts_with("sharded 2-of-3 (aws kms:alias/rossignol-vault"),
            "{}",
            vault.seal_label()
        );
    }

    #[test]
    fn a_transit_seal_goes_with_any_store() {
        let config = parse(
            "[environments.t]\nstore = \"embedded\"\ntransit_url = \"https://bao.example:8200\"\n\
             transit_key = \"rossignol-t\"\ntransit_token_file = \"bao.token\"\n",
        )
        .unwrap();
        assert_eq!(
            config.environment(Some("t")).unwrap().seal,
            SealSpec::Transit {
                url: "https://bao.example:8200".into(),
                key: "rossignol-t".into(),
                mount: None,
                token_file: Some(PathBuf::from("/etc/rossignol/bao.token")),
                token_secret: None,
            }
        );
        let cases = [
            ("transit_key = \"k\"", "`transit_key` needs `transit_url`"),
            ("transit_url = \"http://127.0.0.1:8200\"", "`transit_url` goes with `transit_key`"),
            (
                "transit_key = \"k\"\ntransit_url = \"u\"\nkms_key_id = \"a\"",
                "either `kms_key_id` or `transit_key`, not both",
            ),
            ("transit_key = \" \"\ntransit_url = \"u\"", "`transit_key` is empty"),
        ];
        for (fields, expected) in cases {
            let err =
                parse(&format!("[environments.t]\ntable = \"t_t\"\n{fields}\n")).unwrap_err().to_string();
            assert!(err.contains(expected), "{fields:?}: {err}");
        }
    }

    #[test]
    fn postgres_stores_and_kms_seals_beside_any_store() {
        let config = parse(
            "[environments.p]\nstore = \"postgres\"\nurl = \"postgres://rossignol:hunter2@db.example:5432/rossignol\"\n\
             table = \"rossignol_p\"\nkms_key_id = \"alias/p\"\nregion = \"eu-west-1\"\n",
        )
        .unwrap();
        let p = config.environment(Some("p")).unwrap();
        let StoreSpec::Postgres { url } = &p.store else { panic!("postgres expected") };
        assert_eq!(url.expose(), Some("postgres://rossignol:hunter2@db.example:5432/rossignol"));
        for shown in [format!("{p:?}"), serde_json::to_string(p).unwrap()] {
            assert!(!shown.contains("hunter2") && shown.contains("rossignol:***@"), "{shown}");
        }
        assert_eq!(p.kms.as_ref().and_then(|k| k.region.as_deref()), Some("eu-west-1"));
        let embedded =
            parse("[environments.e]\nstore = \"embedded\"\nkms_key_id = \"alias/e\"\nprofile = \"ops\"\n")
                .unwrap();
        assert!(matches!(embedded.environment(Some("e")).unwrap().seal, SealSpec::Kms { .. }));
        let cases = [
            ("store = \"postgres\"\ntable = \"t\"\nlocal_key_file = \"k\"", "`url` is required"),
            ("store = \"postgres\"\nurl = \"postgres://h/d\"\nlocal_key_file = \"k\"", "`table` is required"),
            ("store = \"embedded\"\nurl = \"postgres://h/d\"", "`url` is only for `store = \"postgres\"`"),
            (
                "store = \"embedded\"\nregion = \"eu-west-1\"",
                "`region` is for a DynamoDB store, or a KMS seal",
            ),
            (
                "store = \"embedded\"\nkms_key_id = \"k\"\nendpoint_url = \"http://x\"",
                "`endpoint_url` is only for",
            ),
        ];
        for (fields, expected) in cases {
            let err = parse(&format!("[environments.x]\n{fields}\n")).unwrap_err().to_string();
            assert!(err.contains(expected), "{fields:?}: {err}");
        }
    }

    #[test]
    fn the_url_and_the_transit_token_may_come_from_secrets_manager() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rossignol-pg-AbCdEf";
        let config = parse(&format!(
            "[environments.p]\nstore = \"postgres\"\nurl_secret = \"{arn}\"\ntable = \"rossignol_p\"\n\
             transit_url = \"https://bao.example:8200\"\ntransit_key = \"rossignol-p\"\n\
             transit_token_secret = \"rossignol/bao-token\"\nregion = \"eu-west-1\"\n"
        ))
        .unwrap();
        let p = config.environment(Some("p")).unwrap();
        let StoreSpec::Postgres { url } = &p.store else { panic!("postgres expected") };
        assert_eq!((url.expose(), url.secret_id()), (None, Some(arn)));
        assert!(
            matches!(&p.seal, SealSpec::Transit { token_secret: Some(id), token_file: None, .. } if id == "rossignol/bao-token")
        );
        assert_eq!(p.kms.as_ref().and_then(|reach| reach.region.as_deref()), Some("eu-west-1"));
        let shown = serde_json::to_string(p).unwrap();
        assert!(shown.contains(arn) && shown.contains("rossignol/bao-token"), "{shown}");
        let cases = [
            (
                "store = \"postgres\"\nlocal_key_file = \"k\"\ntable = \"t\"\nurl = \"postgres://h/d\"\nurl_secret = \"s\"",
                "either `url` or `url_secret`, not both",
            ),
            (
                "store = \"postgres\"\nlocal_key_file = \"k\"\ntable = \"t\"\nurl_secret = \" \"",
                "`url_secret` is empty",
            ),
            (
                "store = \"postgres\"\nlocal_key_file = \"k\"\ntable = \"t\"",
                "`url` is required for `store = \"postgres\"` (or `url_secret`",
            ),
            ("store = \"embedded\"\nurl_secret = \"s\"", "`url_secret` is only for `store = \"postgres\"`"),
            (
                "table = \"t_x\"\nkms_key_id = \"k\"\nurl_secret = \"s\"",
                "`url_secret` is only for `store = \"postgres\"`",
            ),
            (
                "store = \"embedded\"\ntransit_token_secret = \"s\"",
                "`transit_token_secret` goes with `transit_key`",
            ),
            (
                "store = \"embedded\"\ntransit_url = \"u\"\ntransit_key = \"k\"\ntransit_token_secret = \"s\"\ntransit_token_file = \"f\"",
                "either `transit_token_file` or `transit_token_secret`, not both",
            ),
            ("store = \"embedded\"\nregion = \"eu-west-1\"", "or a named secret (`url_secret`"),
            (
                "store = \"postgres\"\nlocal_key_file = \"k\"\ntable = \"t\"\nurl_secret = \"s\"\nkms_endpoint_url = \"http://x\"",
                "`kms_endpoint_url` is for a DynamoDB store, or a KMS seal",
            ),
        ];
        for (fields, expected) in cases {
            let err = parse(&format!("[environments.x]\n{fields}\n")).unwrap_err().to_string();
            assert!(err.contains(expected), "{fields:?}: {err}");
        }
        let err = parse(&VAULT.replacen(
            "[[environments.vault.providers]]",
            "url_secret = \"s\"\n[[environments.vault.providers]]",
            1,
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("`url_secret` belongs inside each"), "{err}");
    }

    #[test]
    fn sharding_mistakes_are_named() {
        let vault = |edit: &dyn Fn(&str) -> String| parse(&edit(VAULT)).unwrap_err().to_string();
        let cases: [(String, &str); 9] = [
            (vault(&|t| t.replace("threshold = 2", "threshold = 4")), "`threshold = 4` with 3 providers"),
            (vault(&|t| t.replace("threshold = 2", "threshold = 1")), "at least 2"),
            (vault(&|t| t.replace("name = \"second\"", "name = \"aws\"")), "provider `aws` is named twice"),
            (vault(&|t| t.replace("name = \"second\"\n", "")), "every provider needs a `name`"),
            (vault(&|t| t.replace("read_only = true", "table = \"t_vault\"")), "`table` belongs inside each"),
            (
                vault(&|t| format!("{t}read_only = true\n")),
                "provider `second`: `read_only` belongs to the environment",
            ),
            (
                vault(&|t| format!("{t}local_key_file = \"/secure/vault.key\"\n")),
                "providers `offline` and `second` share",
            ),
            (
                vault(&|t| {
                    format!("{t}[[environments.vault.providers]]\nname = \"n\"\nstore = \"sharded\"\n")
                }),
                "a provider is one store, not `sharded`",
            ),
            (
                parse("[environments.x]\nstore = \"embedded\"\nthreshold = 2").unwrap_err().to_string(),
                "only for `store = \"sharded\"`",
            ),
        ];
        for (err, expected) in cases {
            assert!(err.contains(expected), "expected {expected:?} in: {err}");
            assert!(err.contains("environment `"), "{err}");
        }
        let one = "[environments.v]\nstore = \"sharded\"\n[[environments.v.providers]]\nname = \"a\"\nstore = \"embedded\"\n";
        assert!(parse(one).unwrap_err().to_string().contains("at least 2 providers"));
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("default = \"nope\"", "names no environment"),
            ("[environments.x]\ntable = \"t_x\"", "needs `kms_key_id`"),
            ("[environments.x]\ntable = \"t_x\"\nkms_key_id = \"k\"\nlocal_key_file = \"f\"", "not both"),
            ("[environments.x]\nkms_key_id = \"k\"", "`table` is required"),
            ("[environments.x]\ntable = \"a b\"\nkms_key_id = \"k\"", "not a valid DynamoDB table name"),
            (
                "[environments.x]\nstore = \"embedded\"\nregion = \"eu-west-1\"",
                "`region` is for a DynamoDB store",
            ),
            ("[environments.x]\ntabel = \"t\"", "unknown field `tabel`"),
            ("[environments.x]\nstore = \"s3\"", "unknown variant `s3`"),
            ("[environments.x]\nstore = \"embedded\"\nalso_open = [\"kms:k\"]", "needs KMS"),
            ("[environments.x]\nstore = \"embedded\"\nalso_open = [\"old.key\"]", "names no seal"),
            ("[environments.x]\nstore = \"embedded\"\nalso_open = [\"kms:\"]", "needs a key id"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
        let err = Config::parse("", Source::BuiltIn).unwrap().environment(Some("prod")).unwrap_err();
        assert!(err.to_string().contains("known: local"), "{err}");
    }
}
