//! `ROSSIGNOL_CONFIG`: the function serves one environment of a
//! configuration in the console's own format, read by `rossignol-core`'s
//! configuration code. What makes no sense in a function stops the cold
//! start here, before anything is contacted.

use std::path::{Path, PathBuf};

use rossignol_core::config::{Config, Environment, LOCAL, ProviderSpec, SealSpec, Source, StoreSpec};

use crate::settings::{CONFIG, ENV, StartupError};

/// The environment `name` of the configuration `text`; without a name,
/// its `default`, or the one environment it defines.
pub(crate) fn environment(text: &str, name: Option<&str>) -> Result<Environment, StartupError> {
    // A "file" named after the variable, so that core's messages say where
    // the mistake is; relative paths are taken from the working directory.
    let config = Config::parse(text, Source::File(PathBuf::from(CONFIG)))
        .map_err(|e| StartupError(one_sentence(&reason(&e))))?;
    let defined: Vec<&str> = config.environments.keys().map(String::as_str).filter(|n| *n != LOCAL).collect();
    let name = match (name, defined.as_slice()) {
        (Some(name), _) => name,
        (None, _) if config.default != LOCAL => config.default.as_str(),
        (None, [one]) => one,
        (None, []) => {
            return Err(StartupError(format!(
                "{CONFIG} defines no environment; add an `[environments.NAME]` table, or unset {CONFIG} to use {}",
                crate::settings::TABLE
            )));
        }
        (None, many) => {
            return Err(StartupError(format!(
                "{CONFIG} defines {} environments ({}); set {ENV} to the one this function serves",
                many.len(),
                many.join(", ")
            )));
        }
    };
    let Ok(env) = config.environment(Some(name)) else {
        return Err(StartupError(format!(
            "{ENV} is {name:?}, which {CONFIG} does not define; set it to one of: {}",
            defined.join(", ")
        )));
    };
    for provider in providers(env) {
        fits_a_function(env, &provider)?;
    }
    Ok(env.clone())
}

/// What went wrong, without core's "configuration error" heading: the
/// startup error has its own.
pub(crate) fn reason(error: &rossignol_core::Error) -> String {
    match error {
        rossignol_core::Error::Config(reason) => reason.clone(),
        other => other.to_string(),
    }
}

/// A configuration error can quote the offending line, which may hold a
/// password: only its first and last lines (where and what) are kept.
fn one_sentence(message: &str) -> String {
    let lines: Vec<&str> = message.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    match lines.as_slice() {
        [first, .., last] if !last.starts_with('|') => format!("{first}: {last}"),
        [first, ..] => (*first).to_owned(),
        [] => format!("{CONFIG} is not valid"),
    }
}

fn providers(env: &Environment) -> Vec<ProviderSpec> {
    match (&env.store, env.single_provider()) {
        (StoreSpec::Sharded { providers, .. }, _) => providers.clone(),
        (_, single) => single.into_iter().collect(),
    }
}

/// A function writes only where it may (`/tmp`, a mounted file system),
/// and never makes a key of its own: each instance would hold a different
/// one, and what it sealed would be lost with the instance.
fn fits_a_function(env: &Environment, provider: &ProviderSpec) -> Result<(), StartupError> {
    let who = if matches!(env.store, StoreSpec::Sharded { .. }) {
        format!("provider `{}` of environment `{}`", provider.name, env.name)
    } else {
        format!("environment `{}`", env.name)
    };
    if let StoreSpec::Embedded { path } = &provider.store
        && !writable(path)
    {
        return Err(StartupError(format!(
            "{CONFIG}: {who} keeps its embedded store at {}, which this function cannot write; set its `path` under /tmp or a mounted file system",
            path.display()
        )));
    }
    for seal in std::iter::once(&provider.seal).chain(&provider.also_open) {
        if let SealSpec::Local { key_file } = seal
            && !key_file.is_file()
        {
            return Err(StartupError(format!(
                "{CONFIG}: {who} seals with the local key file {}, which does not exist; a function never makes a key, so ship the file with it or on a mounted file system",
                key_file.display()
            )));
        }
    }
    Ok(())
}

/// Whether `path` can be opened for writing, or made in its directory.
fn writable(path: &Path) -> bool {
    if path.exists() {
        return std::fs::OpenOptions::new().write(true).open(path).is_ok();
    }
    let Some(dir) = path.parent().filter(|d| d.is_dir()) else { return false };
    let probe = dir.join(format!(".rossignol-probe-{}", std::process::id()));
    let made = std::fs::OpenOptions::new().write(true).create_new(true).open(&probe).is_ok();
    if made {
        let _ = std::fs::remove_file(&probe);
    }
    made
}
