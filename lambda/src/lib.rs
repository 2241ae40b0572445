//! Rossignol's Lambdas: the setter creates sealed accounts, the getter
//! reveals one to the app's backend, recorded in the access trail first.

mod configured;
pub mod handlers;
pub mod settings;

pub use handlers::{Service, handle};
pub use settings::{ApiKeyCheck, Backend, Entry, Settings, StartupError};
