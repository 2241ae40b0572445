//! What the Lambda reads at cold start: which entry point, and its
//! configuration from environment variables. Anything missing or malformed
//! stops the cold start with a message that names it.

use std::fmt;

use rossignol_core::config::Environment;
use rossignol_core::policy::PolicyBook;

/// The entry points of the one binary, picked by the function's handler
/// setting (`_HANDLER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Setter,
    Getter,
    Signer,
}

impl Entry {
    pub fn parse(handler: Option<&str>) -> Result<Self, StartupError> {
        match handler.map(str::trim) {
            Some("setter") => Ok(Entry::Setter),
            Some("getter") => Ok(Entry::Getter),
            Some("signer") => Ok(Entry::Signer),
            Some(other) => Err(StartupError(format!(
                "the handler is {other:?}; set the function's handler (_HANDLER) to `setter`, `getter` or `signer`"
            ))),
            None => Err(StartupError(
                "_HANDLER is not set; set the function's handler to `setter`, `getter` or `signer`".into(),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Entry::Setter => "setter",
            Entry::Getter => "getter",
            Entry::Signer => "signer",
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cold-start failure. The message names the variable and the fix.
#[derive(Debug, thiserror::Error)]
#[error("rossignol-lambda cannot start: {0}")]
pub struct StartupError(pub String);

/// A configuration in the console's own format (the text of a
/// config.toml, not a path); with it the function serves one of its
/// environments, single-store or sharded.
pub const CONFIG: &str = "ROSSIGNOL_CONFIG";
/// Which environment of [`CONFIG`]; optional when it defines one.
pub const ENV: &str = "ROSSIGNOL_ENV";
pub const TABLE: &str = "DYNAMO_DB_TABLE_NAME";
pub const KMS_KEY: &str = "ROSSIGNOL_KMS_KEY_ID";
pub const ACCESS_TABLE: &str = "ROSSIGNOL_ACCESS_TABLE_NAME";
pub const API_KEY_SHA256: &str = "ROSSIGNOL_API_KEY_SHA256";
pub const GETTER_ENABLED: &str = "ROSSIGNOL_GETTER_ENABLED";
/// The signing policy as JSON: the fields of `[environments.NAME.policy]`,
/// and `keys`, per API key id, for the fields that differ.
pub const POLICY: &str = "ROSSIGNOL_POLICY";
/// The value of [`API_KEY_SHA256`] that turns the function's own key check
/// off, for local runs and tests.
pub const UNCHECKED: &str = "unchecked";

/// How the function checks `X-Api-Key` itself, whatever API Gateway did:
/// a direct invocation carries no proof of having passed the gateway.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyCheck {
    /// `X-Api-Key` must hash (SHA-256) to this.
    Sha256([u8; 32]),
    /// Every caller passes and the trail calls its identity claimed
    /// (`ROSSIGNOL_API_KEY_SHA256=unchecked`).
    Unchecked,
}

impl fmt::Debug for ApiKeyCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApiKeyCheck::Sha256(_) => "Sha256(..)",
            ApiKeyCheck::Unchecked => "Unchecked",
        })
    }
}

impl ApiKeyCheck {
    fn parse(value: Option<&str>) -> Result<Self, StartupError> {
        match value.map(str::trim) {
            None | Some("") => Err(StartupError(format!(
                "{API_KEY_SHA256} is not set; set it to the hex SHA-256 of the API key (`printf %s KEY | sha256sum`), or to `{UNCHECKED}` to turn the function's own key check off in a local run"
            ))),
            Some(UNCHECKED) => Ok(ApiKeyCheck::Unchecked),
            Some(hex_digest) => {
                let mut digest = [0u8; 32];
                hex::decode_to_slice(hex_digest, &mut digest).map_err(|_| {
                    StartupError(format!(
                        "{API_KEY_SHA256} must be the 64 hex digits of the SHA-256 of the API key (`printf %s KEY | sha256sum`), or `{UNCHECKED}`"
                    ))
                })?;
                Ok(ApiKeyCheck::Sha256(digest))
            }
        }
    }
}

/// Where the function keeps its accounts.
#[derive(Debug, Clone)]
pub enum Backend {
    /// One DynamoDB table sealed by one KMS key: [`TABLE`], [`KMS_KEY`]
    /// and [`ACCESS_TABLE`].
    Dynamo { table: String, kms_key_id: String, access_table: String },
    /// An environment of [`CONFIG`], connected through `rossignol-core`
    /// as the console connects it.
    Configured(Box<Environment>),
}

impl Backend {
    /// What the cold-start log line names: a table, or an environment.
    pub fn label(&self) -> String {
        match self {
            Backend::Dynamo { table, .. } => format!("table {table}"),
            Backend::Configured(env) => format!("environment {} ({})", env.name, env.seal_label()),
        }
    }
}

/// The Lambda's configuration.
#[derive(Clone)]
pub struct Settings {
    pub entry: Entry,
    pub backend: Backend,
    /// Required: the function checks `X-Api-Key` itself unless told not to.
    pub api_key: ApiKeyCheck,
    /// `false` turns the getter off: callers must use the signer.
    pub getter_enabled: bool,
    /// `None`: no policy was configured, and every kind may be signed.
    pub policies: Option<PolicyBook>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("entry", &self.entry)
            .field("backend", &self.backend)
            .field("api_key", &self.api_key)
            .field("getter_enabled", &self.getter_enabled)
            .field("policies", &self.policies)
            .finish()
    }
}

impl Settings {
    /// Reads the settings through `var` (the process environment in `main`).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, StartupError> {
        let entry = Entry::parse(var("_HANDLER").as_deref())?;
        let required = |name: &str, what: &str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| StartupError(format!("{name} is not set; set it to {what}")))
        };
        let backend = match var(CONFIG).filter(|v| !v.trim().is_empty()) {
            Some(text) => {
                let name = var(ENV).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
                Backend::Configured(Box::new(crate::configured::environment(&text, name.as_deref())?))
            }
            None => {
                let table = required(TABLE, "the accounts table, e.g. rossignol_staging")?;
                let kms_key_id =
                    required(KMS_KEY, "the KMS key that seals the keys, e.g. alias/rossignol-staging")?;
                let access_table = var(ACCESS_TABLE)
                    .filter(|v| !v.trim().is_empty())
                    .unwrap_or_else(|| format!("{table}_access"));
                Backend::Dynamo { table, kms_key_id, access_table }
            }
        };
        let api_key = ApiKeyCheck::parse(var(API_KEY_SHA256).as_deref())?;
        let getter_enabled = match var(GETTER_ENABLED).as_deref().map(str::trim) {
            None | Some("") | Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(other) => {
                return Err(StartupError(format!(
                    "{GETTER_ENABLED} is {other:?}; set it to `true` or `false` (unset means true)"
                )));
            }
        };
        let policies = match var(POLICY).filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(text) => Some(PolicyBook::from_json(&text, POLICY).map_err(StartupError)?),
        };
        if let Backend::Configured(env) = &backend {
            if policies.is_some() && env.policy != PolicyBook::default() {
                return Err(StartupError(format!(
                    "both {POLICY} and environment `{}` in {CONFIG} set a signing policy; keep one of them",
                    env.name
                )));
            }
            if entry == Entry::Setter && env.read_only {
                return Err(StartupError(format!(
                    "environment `{}` is `read_only` in {CONFIG}, so the setter cannot create accounts in it; serve a writable environment",
                    env.name
                )));
            }
        }
        Ok(Settings { entry, backend, api_key, getter_enabled, policies })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, StartupError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_vars(|name| map.get(name).cloned())
    }

    const DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn the_handler_picks_the_entry_point() {
        let base = [(TABLE, "rossignol_staging"), (KMS_KEY, "alias/k"), (API_KEY_SHA256, DIGEST)];
        for (handler, entry) in
            [("setter", Entry::Setter), ("getter", Entry::Getter), ("signer", Entry::Signer)]
        {
            let vars: Vec<_> = base.iter().copied().chain([("_HANDLER", handler)]).collect();
            let s = settings(&vars).unwrap();
            assert_eq!(s.entry, entry);
            assert!(
                matches!(&s.backend, Backend::Dynamo { access_table, .. } if access_table == "rossignol_staging_access")
            );
            assert!(s.getter_enabled);
        }
        let vars: Vec<_> = base.iter().copied().chain([("_HANDLER", "index.setter")]).collect();
        let err = settings(&vars).unwrap_err().to_string();
        assert!(err.contains("\"index.setter\"") && err.contains("`getter` or `signer`"), "{err}");
        assert!(settings(&base).unwrap_err().to_string().contains("_HANDLER is not set"));
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = settings(&[("_HANDLER", "getter"), (KMS_KEY, "k"), (API_KEY_SHA256, DIGEST)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("DYNAMO_DB_TABLE_NAME is not set"), "{err}");
        let err = settings(&[("_HANDLER", "getter"), (TABLE, "t_1"), (API_KEY_SHA256, DIGEST)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("ROSSIGNOL_KMS_KEY_ID is not set"), "{err}");
    }

    #[test]
    fn the_api_key_check_is_required_and_off_only_when_said() {
        for missing in [None, Some(""), Some("  ")] {
            let mut vars = vec![("_HANDLER", "getter"), (TABLE, "t_1"), (KMS_KEY, "k")];
            vars.extend(missing.map(|v| (API_KEY_SHA256, v)));
            let err = settings(&vars).unwrap_err().to_string();
            assert!(
                err.contains("ROSSIGNOL_API_KEY_SHA256 is not set") && err.contains("`unchecked`"),
                "{err}"
            );
        }
        let s =
            settings(&[("_HANDLER", "getter"), (TABLE, "t_1"), (KMS_KEY, "k"), (API_KEY_SHA256, UNCHECKED)])
                .unwrap();
        assert_eq!(s.api_key, ApiKeyCheck::Unchecked);
    }

    #[test]
    fn the_optional_variables_are_read_and_checked() {
        let s = settings(&[
            ("_HANDLER", "getter"),
            (TABLE, "t_1"),
            (KMS_KEY, "k"),
            (ACCESS_TABLE, "trail"),
            (API_KEY_SHA256, DIGEST),
        ])
        .unwrap();
        assert!(matches!(&s.backend, Backend::Dynamo { access_table, .. } if access_table == "trail"));
        let mut digest = [0u8; 32];
        hex::decode_to_slice(DIGEST, &mut digest).unwrap();
        assert_eq!(s.api_key, ApiKeyCheck::Sha256(digest));
        assert!(!format!("{s:?}").contains(DIGEST));
        let err =
            settings(&[("_HANDLER", "getter"), (TABLE, "t_1"), (KMS_KEY, "k"), (API_KEY_SHA256, "xyz")])
                .unwrap_err()
                .to_string();
        assert!(err.contains("64 hex digits"), "{err}");
    }

    #[test]
    fn the_getter_switch_takes_true_or_false() {
        let base = [("_HANDLER", "getter"), (TABLE, "t_1"), (KMS_KEY, "k"), (API_KEY_SHA256, DIGEST)];
        let with = |value: &str| {
            let vars: Vec<_> = base.iter().copied().chain([(GETTER_ENABLED, value)]).collect();
            settings(&vars)
        };
        assert!(!with("false").unwrap().getter_enabled);
        assert!(!with("0").unwrap().getter_enabled);
        assert!(with("true").unwrap().getter_enabled);
        let err = with("off").unwrap_err().to_string();
        assert!(err.contains("ROSSIGNOL_GETTER_ENABLED") && err.contains("`true` or `false`"), "{err}");
    }

    #[test]
    fn the_policy_is_read_and_its_mistakes_stop_the_cold_start() {
        let base = [("_HANDLER", "signer"), (TABLE, "t_1"), (KMS_KEY, "k"), (API_KEY_SHA256, DIGEST)];
        let with = |value: &str| {
            let vars: Vec<_> = base.iter().copied().chain([(POLICY, value)]).collect();
            settings(&vars)
        };
        assert_eq!(settings(&base).unwrap().policies, None);
        assert_eq!(with("  ").unwrap().policies, None);
        assert!(
            with(r#"{"chain_ids": [1], "keys": {"abc": {"kinds": ["message"]}}}"#)
                .unwrap()
                .policies
                .is_some()
        );
        let err = with(r#"{"kinds": ["messages"]}"#).unwrap_err().to_string();
        assert!(err.contains("ROSSIGNOL_POLICY.kinds") && err.contains("\"messages\""), "{err}");
        let err = with("chain_ids = [1]").unwrap_err().to_string();
        assert!(err.contains("ROSSIGNOL_POLICY is not a valid policy"), "{err}");
    }

    /// A sharded environment whose providers fit a function: an embedded
    /// store in `dir` with its key file made beforehand, and one on
    /// DynamoDB. Nothing is contacted while reading it.
    fn vault(dir: &std::path::Path) -> String {
        std::fs::write(dir.join("offline.key"), [7u8; 32]).unwrap();
        format!(
            "[environments.vault]\nstore = \"sharded\"\n\
             [[environments.vault.providers]]\nname = \"aws\"\ntable = \"rossignol_vault\"\nkms_key_id = \"alias/v\"\n\
             [[environments.vault.providers]]\nname = \"offline\"\nstore = \"embedded\"\n\
             path = \"{0}/offline.redb\"\nlocal_key_file = \"{0}/offline.key\"\n",
            dir.display()
        )
    }

    fn configured(handler: &str, config: &str, extra: &[(&str, &str)]) -> Result<Settings, StartupError> {
        let mut vars = vec![("_HANDLER", handler), (CONFIG, config), (API_KEY_SHA256, DIGEST)];
        vars.extend_from_slice(extra);
        settings(&vars)
    }

    #[test]
    fn rossignol_config_replaces_the_table_and_key_variables() {
        let dir = tempfile::tempdir().unwrap();
        let config = vault(dir.path());
        let s = configured("getter", &config, &[]).unwrap();
        let Backend::Configured(env) = &s.backend else { panic!("configured expected") };
        assert_eq!(env.name, "vault");
        assert!(matches!(env.store, rossignol_core::config::StoreSpec::Sharded { threshold: 2, .. }));
        assert!(s.backend.label().starts_with("environment vault (sharded 2-of-2"), "{}", s.backend.label());
        // Several environments: ROSSIGNOL_ENV picks one, or the file's default.
        let two = format!(
            "{config}[environments.other]\nstore = \"embedded\"\npath = \"{}/o.redb\"\nlocal_key_file = \"{}/offline.key\"\n",
            dir.path().display(),
            dir.path().display()
        );
        let err = configured("getter", &two, &[]).unwrap_err().to_string();
        assert!(err.contains("defines 2 environments (other, vault); set ROSSIGNOL_ENV"), "{err}");
        let s = configured("getter", &two, &[(ENV, "other")]).unwrap();
        assert!(matches!(&s.backend, Backend::Configured(env) if env.name == "other"));
        let s = configured("getter", &format!("default = \"vault\"\n{two}"), &[]).unwrap();
        assert!(matches!(&s.backend, Backend::Configured(env) if env.name == "vault"));
        let err = configured("getter", &two, &[(ENV, "prod")]).unwrap_err().to_string();
        assert!(err.contains("ROSSIGNOL_ENV is \"prod\", which ROSSIGNOL_CONFIG does not define; set it to one of: other, vault"), "{err}");
        let err = configured("getter", "default = \"local\"\n", &[]).unwrap_err().to_string();
        assert!(err.contains("ROSSIGNOL_CONFIG defines no environment"), "{err}");
        // Unset, everything is as before.
        assert!(
            settings(&[("_HANDLER", "getter"), (CONFIG, "  "), (API_KEY_SHA256, DIGEST)])
                .unwrap_err()
                .to_string()
                .contains("DYNAMO_DB_TABLE_NAME is not set")
        );
    }

    #[test]
    fn what_makes_no_sense_in_a_function_stops_the_cold_start_in_one_sentence() {
        let dir = tempfile::tempdir().unwrap();
        let config = vault(dir.path());
        let shown = dir.path().display().to_string();
        let cases = [
            (
                config.replace("store = \"sharded\"", "store = \"sharded\nthreshold = 3"),
                "ROSSIGNOL_CONFIG is not valid",
            ),
            (
                config.replace("store = \"sharded\"", "store = \"sharded\"\nthreshold = 3"),
                "`threshold = 3` with 2 providers",
            ),
            (
                config.replace(&format!("{shown}/offline.redb"), "/proc/rossignol/offline.redb"),
                "cannot write; set its `path` under /tmp",
            ),
            (
                config.replace("offline.key", "missing.key"),
                "which does not exist; a function never makes a key",
            ),
        ];
        for (text, expected) in cases {
            let err = configured("getter", &text, &[]).unwrap_err().to_string();
            assert!(err.starts_with("rossignol-lambda cannot start: ROSSIGNOL_CONFIG"), "{err}");
            assert!(err.contains(expected) && !err.contains('\n'), "{expected:?}: {err}");
        }
        // A line quoted by the parser may hold a password: it is left out.
        let err = configured(
            "getter",
            "[environments.p]\nstore = \"postgres\"\nurl = \"postgres://u:hunter2@h/d\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("ROSSIGNOL_CONFIG is not valid") && !err.contains("hunter2"), "{err}");
        let read_only = config.replace("store = \"sharded\"", "store = \"sharded\"\nread_only = true");
        assert!(configured("getter", &read_only, &[]).is_ok());
        let err = configured("setter", &read_only, &[]).unwrap_err().to_string();
        assert!(err.contains("`read_only` in ROSSIGNOL_CONFIG, so the setter cannot"), "{err}");
        let with_policy = format!("{config}[environments.vault.policy]\nkinds = [\"message\"]\n");
        assert!(configured("signer", &with_policy, &[]).is_ok());
        let err = configured("signer", &with_policy, &[(POLICY, r#"{"kinds": ["message"]}"#)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("both ROSSIGNOL_POLICY and environment `vault`"), "{err}");
    }
}
