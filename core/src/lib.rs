//! Rossignol's domain: accounts, sealing, stores and audit. No terminal,
//! no Lambda runtime.

pub mod access;
pub mod account;
pub mod audit;
pub mod aws;
pub mod error;
pub mod identity;
pub mod keygen;
pub mod keystore;
pub mod lifecycle;
pub mod logging;
pub mod policy;
pub mod private_fs;
pub mod rpc;
pub mod seal;
pub mod secret;
pub mod sign;
pub mod store;
pub mod vss;

pub use account::{Address, AddressError};
pub use error::{Error, Result};
pub use secret::{KeyMaterial, LegacyKey, PrivateKey};
pub mod config;
pub mod connect;
pub mod custodian;
pub mod custody;

pub use custodian::{Custodian, Requester};
