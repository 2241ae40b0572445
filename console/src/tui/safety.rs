//! What an environment allows, in one place: read-only and production
//! environments refuse writes and need the environment's name typed to
//! confirm a reveal.

use rossignol_core::config::Environment;

/// Names that mean production, whatever the configuration says.
const PRODUCTION_NAMES: &[&str] = &["prod", "production", "prd", "live", "mainnet"];

pub fn is_production(env: &Environment) -> bool {
    let name = env.name.to_ascii_lowercase();
    PRODUCTION_NAMES.iter().any(|p| name == *p || name.starts_with(&format!("{p}-")))
        || name.starts_with("prod")
}

/// Read-only or production: shown in red, and reveals need the name typed.
pub fn is_guarded(env: &Environment) -> bool {
    env.read_only || is_production(env)
}

/// The text the operator must type to confirm a sensitive action, if any.
pub fn typed_confirmation(env: &Environment) -> Option<String> {
    is_guarded(env).then(|| env.name.clone())
}

/// Why a write is refused here, if it is.
pub fn refuse_write(env: &Environment, action: &'static str) -> Option<String> {
    env.read_only.then(|| rossignol_core::Error::ReadOnly { env: env.name.clone(), action }.to_string())
}
