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
use std::sync::Arc;

use crate::policy::{Policy, PolicyBook, PolicySpec};
use serde::Deserialize;

use crate::access::AccessTrail;
use crate::aws::{self, AwsSettings};
use crate::custodian::Custodian;
use crate::error::{Error, Result};
use crate::identity::AwsIdentity;
use crate::seal::{KmsSealer, LocalSealer, SealRing, Sealer};
use crate::store::AccountStore;
use crate::store::dynamo::{DynamoStore, DynamoTrail};
use crate::store::embedded::EmbeddedStore;

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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentFile {
    #[serde(default)]
    store: StoreKind,
    table: Option<String>,
    path: Option<PathBuf>,
    region: Option<String>,
    profile: Option<String>,
    endpoint_url: Option<String>,
    kms_endpoint_url: Option<String>,
    sts_endpoint_url: Option<String>,
    kms_key_id: Option<String>,
    local_key_file: Option<PathBuf>,
    sse_kms_key_id: Option<String>,
    access_table: Option<String>,
    #[serde(default)]
    also_open: Vec<String>,
    #[serde(default)]
    read_only: bool,
    /// The signing policy (see [`crate::policy`]); absent, every kind.
    policy: Option<PolicySpec>,
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
    Kms { key_id: String },
    Local { key_file: PathBuf },
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
        }
    }
}

/// One resolved environment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Environment {
    pub name: String,
    pub table: String,
    pub store: StoreSpec,
    /// Seals new keys, and opens what it sealed.
    pub seal: SealSpec,
    /// Seals kept only to open records sealed before a rotation (`also_open`
    /// in the file), until `rossignol audit` shows none left under them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_open: Vec<SealSpec>,
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
    env: EnvironmentFile,
    base: &Path,
    data: &Path,
) -> std::result::Result<Environment, String> {
    let seal = match (env.kms_key_id, env.local_key_file) {
        (Some(_), Some(_)) => return Err("set either `kms_key_id` or `local_key_file`, not both".into()),
        (Some(key_id), None) if key_id.trim().is_empty() => return Err("`kms_key_id` is empty".into()),
        (Some(key_id), None) => SealSpec::Kms { key_id },
        (None, Some(file)) => SealSpec::Local { key_file: expand(&file, base) },
        (None, None) if env.store == StoreKind::Embedded => {
            SealSpec::Local { key_file: data.join(format!("{name}.key")) }
        }
        (None, None) => {
            return Err(
                "a DynamoDB environment needs `kms_key_id` (or `local_key_file` for development)".into()
            );
        }
    };
    let (store, table) = match env.store {
        StoreKind::Dynamodb => {
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
            if let Some(field) = [
                ("region", env.region.is_some()),
                ("profile", env.profile.is_some()),
                ("endpoint_url", env.endpoint_url.is_some()),
                ("kms_endpoint_url", env.kms_endpoint_url.is_some()),
                ("sts_endpoint_url", env.sts_endpoint_url.is_some()),
                ("sse_kms_key_id", env.sse_kms_key_id.is_some()),
                ("access_table", env.access_table.is_some()),
            ]
            .iter()
            .find_map(|(field, set)| set.then_some(field))
            {
                return Err(format!("`{field}` is only for `store = \"dynamodb\"`"));
            }
            if matches!(seal, SealSpec::Kms { .. }) {
                return Err("the embedded store seals with a local key; remove `kms_key_id`".into());
            }
            let path =
                env.path.map(|p| expand(&p, base)).unwrap_or_else(|| data.join(format!("{name}.redb")));
            (StoreSpec::Embedded { path }, env.table.unwrap_or_else(|| format!("rossignol_{name}")))
        }
    };
    let mut also_open = Vec::new();
    for text in &env.also_open {
        let spec = SealSpec::parse(text, base).map_err(|e| format!("`also_open`: {e}"))?;
        if matches!(store, StoreSpec::Embedded { .. }) && matches!(spec, SealSpec::Kms { .. }) {
            return Err(format!("`also_open`: the embedded store only opens local keys, not {text:?}"));
        }
        if spec != seal && !also_open.contains(&spec) {
            also_open.push(spec);
        }
    }
    let policy = match &env.policy {
        Some(spec) => PolicyBook::single(Policy::from_spec(spec, "policy")?),
        None => PolicyBook::default(),
    };
    Ok(Environment { name: name.to_owned(), table, store, seal, also_open, read_only: env.read_only, policy })
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
        let primary = match &self.seal {
            SealSpec::Kms { key_id } => format!("kms:{key_id}"),
            SealSpec::Local { key_file } => format!("local key {}", key_file.display()),
        };
        if self.also_open.is_empty() {
            primary
        } else {
            let also: Vec<String> = self.also_open.iter().map(SealSpec::to_arg).collect();
            format!("{primary}, also opens {}", also.join(", "))
        }
    }

    /// Builds the store and sealer. Nothing is contacted yet. With
    /// `also_open` seals, the sealer is a [`SealRing`]: it seals with `seal`
    /// and opens under any of them.
    pub async fn connect(&self) -> Result<Custodian> {
        type Parts = (
            Arc<dyn AccountStore>,
            Arc<dyn AccessTrail>,
            Option<aws_sdk_kms::Client>,
            Option<Arc<AwsIdentity>>,
        );
        let (store, trail, kms_client, identity): Parts = match &self.store {
            StoreSpec::Embedded { path } => {
                let store = Arc::new(EmbeddedStore::open(path, &self.table)?);
                (store.clone(), store, None, None)
            }
            StoreSpec::Dynamodb { aws: spec, sse_kms_key_id, access_table } => {
                let sdk = self.sdk_config(spec).await?;
                let mut dynamo = aws_sdk_dynamodb::config::Builder::from(&sdk);
                if let Some(url) = &spec.endpoint_url {
                    dynamo = dynamo.endpoint_url(url);
                }
                let client = aws_sdk_dynamodb::Client::from_conf(dynamo.build());
                let store = DynamoStore::new(client.clone(), &self.table)
                    .with_custom_endpoint(spec.endpoint_url.clone())
                    .with_sse_kms_key(sse_kms_key_id.clone());
                let trail = DynamoTrail::new(client, access_table).with_sse_kms_key(sse_kms_key_id.clone());
                (Arc::new(store), Arc::new(trail), Some(kms_client(&sdk, spec)), aws_identity(&sdk, spec))
            }
        };
        let primary = build_sealer(&self.seal, kms_client.as_ref(), true)?;
        let sealer: Arc<dyn Sealer> = if self.also_open.is_empty() {
            primary
        } else {
            let also_open = self
                .also_open
                .iter()
                .map(|spec| build_sealer(spec, kms_client.as_ref(), false))
                .collect::<Result<Vec<_>>>()?;
            Arc::new(SealRing::new(primary, also_open))
        };
        Ok(Custodian::new(store, sealer, trail)
            .with_aws_identity(identity)
            .with_policies(self.policy.clone()))
    }

    /// A sealer for `spec` in this environment (its AWS settings for KMS),
    /// such as the target of `rossignol reseal`. A local key file is
    /// created (0600) when missing; the embedded store takes local keys only.
    pub async fn sealer(&self, spec: &SealSpec) -> Result<Arc<dyn Sealer>> {
        let client = match (&self.store, spec) {
            (StoreSpec::Dynamodb { aws, .. }, SealSpec::Kms { .. }) => {
                Some(kms_client(&self.sdk_config(aws).await?, aws))
            }
            _ => None,
        };
        build_sealer(spec, client.as_ref(), true)
    }

    async fn sdk_config(&self, spec: &AwsSpec) -> Result<aws_config::SdkConfig> {
        let sdk =
            aws::load(&AwsSettings { region: spec.region.clone(), profile: spec.profile.clone() }).await;
        if sdk.region().is_none() {
            return Err(Error::Config(format!(
                "environment `{}` has no region; set `region` in its configuration or AWS_REGION",
                self.name
            )));
        }
        Ok(sdk)
    }
}

fn kms_client(sdk: &aws_config::SdkConfig, spec: &AwsSpec) -> aws_sdk_kms::Client {
    let mut kms = aws_sdk_kms::config::Builder::from(sdk);
    if let Some(url) = &spec.kms_endpoint_url {
        kms = kms.endpoint_url(url);
    }
    aws_sdk_kms::Client::from_conf(kms.build())
}

/// Who the caller is, asked of STS on first key use, in an AWS
/// environment: one whose DynamoDB is AWS's (no `endpoint_url`), or one
/// given an `sts_endpoint_url`. A DynamoDB Local environment has none.
fn aws_identity(sdk: &aws_config::SdkConfig, spec: &AwsSpec) -> Option<Arc<AwsIdentity>> {
    let mut sts = aws_sdk_sts::config::Builder::from(sdk);
    match (&spec.sts_endpoint_url, &spec.endpoint_url) {
        (Some(url), _) => sts = sts.endpoint_url(url),
        (None, Some(_)) => return None,
        (None, None) => {}
    }
    Some(Arc::new(AwsIdentity::new(aws_sdk_sts::Client::from_conf(sts.build()))))
}

/// `create` makes a missing local key file; a key kept only to open old
/// records must already exist.
fn build_sealer(spec: &SealSpec, kms: Option<&aws_sdk_kms::Client>, create: bool) -> Result<Arc<dyn Sealer>> {
    Ok(match (spec, kms) {
        (SealSpec::Local { key_file }, _) if create => Arc::new(LocalSealer::open_or_create(key_file)?),
        (SealSpec::Local { key_file }, _) => Arc::new(LocalSealer::open_existing(key_file)?),
        (SealSpec::Kms { key_id }, Some(client)) => Arc::new(KmsSealer::new(client.clone(), key_id.clone())),
        (SealSpec::Kms { .. }, None) => {
            return Err(Error::Config(
                "the embedded store seals with a local key; use a local key file (local:FILE)".into(),
            ));
        }
    })
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

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("default = \"nope\"", "names no environment"),
            ("[environments.x]\ntable = \"t_x\"", "needs `kms_key_id`"),
            ("[environments.x]\ntable = \"t_x\"\nkms_key_id = \"k\"\nlocal_key_file = \"f\"", "not both"),
            ("[environments.x]\nkms_key_id = \"k\"", "`table` is required"),
            ("[environments.x]\ntable = \"a b\"\nkms_key_id = \"k\"", "not a valid DynamoDB table name"),
            ("[environments.x]\nstore = \"embedded\"\nregion = \"eu-west-1\"", "`region` is only for"),
            ("[environments.x]\nstore = \"embedded\"\nkms_key_id = \"k\"", "remove `kms_key_id`"),
            ("[environments.x]\ntabel = \"t\"", "unknown field `tabel`"),
            ("[environments.x]\nstore = \"s3\"", "unknown variant `s3`"),
            ("[environments.x]\nstore = \"embedded\"\nalso_open = [\"kms:k\"]", "only opens local keys"),
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
