//! Signing policy: what a caller may sign, as configuration, checked in
//! one function ([`Policy::check`]) that names the rule that refused.
//!
//! The rules, each in one place below:
//! - `chain_ids`: the chains a transaction, typed data (its domain's
//!   `chainId`) or an authorization may be for;
//! - `kinds`: `message`, `typed_data`, `transaction`, `authorization`;
//! - `allowed_to`: transaction recipients, EIP-712 `verifyingContract`s and
//!   EIP-7702 delegates (those a transaction carries, too);
//! - `max_value_wei`: the most a transaction may send;
//! - `allow_chain_id_zero`: whether an authorization may be valid on every
//!   chain (chain id 0);
//! - `accounts`: `"all"`, or `"created_by_key"`: only accounts created
//!   through the caller's API key.
//!
//! An environment's policy is its `[environments.NAME.policy]` table; the
//! Lambda reads the same fields as JSON from `ROSSIGNOL_POLICY`, with a
//! `keys` object whose entries override fields per API key id. Without a
//! policy every kind may be signed, for any chain and recipient, except an
//! authorization for chain id 0.

use std::collections::{BTreeMap, BTreeSet};

use ruint::aliases::U256;
use serde::Deserialize;

use crate::account::Address;
use crate::sign::{Kind, Payload};
use crate::store::AccountRecord;

/// A policy as written in the configuration: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub chain_ids: Option<Vec<u64>>,
    pub kinds: Option<Vec<String>>,
    pub allowed_to: Option<Vec<String>>,
    /// A decimal string (TOML and JSON integers cannot hold every U256).
    pub max_value_wei: Option<String>,
    pub allow_chain_id_zero: Option<bool>,
    pub accounts: Option<String>,
}

impl PolicySpec {
    /// `self`, with the fields `over` sets replaced by its.
    fn overridden_by(&self, over: &PolicySpec) -> PolicySpec {
        PolicySpec {
            chain_ids: over.chain_ids.clone().or_else(|| self.chain_ids.clone()),
            kinds: over.kinds.clone().or_else(|| self.kinds.clone()),
            allowed_to: over.allowed_to.clone().or_else(|| self.allowed_to.clone()),
            max_value_wei: over.max_value_wei.clone().or_else(|| self.max_value_wei.clone()),
            allow_chain_id_zero: over.allow_chain_id_zero.or(self.allow_chain_id_zero),
            accounts: over.accounts.clone().or_else(|| self.accounts.clone()),
        }
    }
}

/// Which accounts a caller may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accounts {
    All,
    /// Those whose record names the caller's API key id as their creator.
    CreatedByKey,
}

/// A validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    chain_ids: Option<BTreeSet<u64>>,
    kinds: BTreeSet<Kind>,
    allowed_to: Option<BTreeSet<Address>>,
    max_value_wei: Option<U256>,
    allow_chain_id_zero: bool,
    accounts: Accounts,
}

impl Default for Policy {
    /// Today's behaviour: every kind, any chain, recipient and value; no
    /// authorization for every chain at once.
    fn default() -> Self {
        Policy {
            chain_ids: None,
            kinds: Kind::ALL.into_iter().collect(),
            allowed_to: None,
            max_value_wei: None,
            allow_chain_id_zero: false,
            accounts: Accounts::All,
        }
    }
}

/// Why a request was refused: the rule's configuration name and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused by the signing policy's `{rule}` rule: {reason}")]
pub struct Refusal {
    pub rule: &'static str,
    pub reason: String,
}

fn refuse(rule: &'static str, reason: impl Into<String>) -> Refusal {
    Refusal { rule, reason: reason.into() }
}

impl Policy {
    /// Validates `spec`; a mistake names `path.field` and what it takes.
    pub fn from_spec(spec: &PolicySpec, path: &str) -> Result<Self, String> {
        let mut policy = Policy::default();
        if let Some(ids) = &spec.chain_ids {
            if ids.is_empty() {
                return Err(format!(
                    "`{path}.chain_ids` is empty, which would refuse every chain; remove it to allow any chain"
                ));
            }
            policy.chain_ids = Some(ids.iter().copied().collect());
        }
        if let Some(kinds) = &spec.kinds {
            policy.kinds = kinds
                .iter()
                .map(|name| {
                    Kind::parse(name).ok_or_else(|| {
                        format!(
                            "`{path}.kinds` names {name:?}; the kinds are message, typed_data, transaction and authorization"
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(allowed) = &spec.allowed_to {
            policy.allowed_to = Some(
                allowed
                    .iter()
                    .map(|text| {
                        Address::parse(text.trim()).map_err(|e| {
                            format!("`{path}.allowed_to` holds {text:?}, which is not an address: {e}")
                        })
                    })
                    .collect::<Result<_, _>>()?,
            );
        }
        if let Some(max) = &spec.max_value_wei {
            let max = max.trim();
            if max.is_empty() || !max.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "`{path}.max_value_wei` is {max:?}; write the largest value in wei as a decimal string, e.g. \"1000000000000000000\" for 1 ETH"
                ));
            }
            policy.max_value_wei = Some(
                U256::from_str_radix(max, 10)
                    .map_err(|_| format!("`{path}.max_value_wei` does not fit in 256 bits"))?,
            );
        }
        policy.allow_chain_id_zero = spec.allow_chain_id_zero.unwrap_or(false);
        policy.accounts = match spec.accounts.as_deref().map(str::trim) {
            None | Some("all") => Accounts::All,
            Some("created_by_key") => Accounts::CreatedByKey,
            Some(other) => {
                return Err(format!("`{path}.accounts` is {other:?}; write \"all\" or \"created_by_key\""));
            }
        };
        Ok(policy)
    }

    /// Whether the caller (by API key id) may use `record` at all.
    pub fn may_use(&self, record: &AccountRecord, api_key_id: Option<&str>) -> Result<(), Refusal> {
        match self.accounts {
            Accounts::All => Ok(()),
            Accounts::CreatedByKey => match (record.created_api_key.as_deref(), api_key_id) {
                (Some(creator), Some(caller)) if creator == caller => Ok(()),
                (_, None) => Err(refuse(
                    "accounts",
                    "this policy allows only accounts created through the caller's API key, and the call came with no API key id",
                )),
                _ => Err(refuse(
                    "accounts",
                    format!("account {} was not created through this API key", record.address),
                )),
            },
        }
    }

    /// Checks one signature of `payload` with `record`'s key by the
    /// caller with `api_key_id`: every rule, in the order of the module
    /// documentation. The first rule that refuses is named.
    pub fn check(
        &self,
        payload: &Payload,
        record: &AccountRecord,
        api_key_id: Option<&str>,
    ) -> Result<(), Refusal> {
        let kind = payload.kind();
        if !self.kinds.contains(&kind) {
            let allowed: Vec<&str> = self.kinds.iter().map(|k| k.as_str()).collect();
            return Err(refuse(
                "kinds",
                format!("signing {kind} is not allowed here; allowed: {}", list_or_nothing(&allowed)),
            ));
        }
        self.may_use(record, api_key_id)?;
        match payload {
            Payload::Message(_) => Ok(()),
            Payload::TypedData(typed) => {
                match typed.chain_id() {
                    Some(id) => self.chain(id, "the typed data's domain")?,
                    None if self.chain_ids.is_some() => {
                        return Err(refuse(
                            "chain_ids",
                            "the typed data's domain has no chainId, so it is valid on any chain; this policy allows only some chains",
                        ));
                    }
                    None => {}
                }
                self.target(typed.verifying_contract(), "the typed data's verifyingContract")
            }
            Payload::Transaction(tx) => {
                self.chain(tx.chain_id, "the transaction")?;
                self.target(tx.to, "the transaction's recipient")?;
                for delegate in tx.delegates() {
                    self.target(Some(delegate), "an authorization's delegate in the transaction")?;
                }
                match self.max_value_wei {
                    Some(max) if tx.value > max => Err(refuse(
                        "max_value_wei",
                        format!("the transaction sends {} wei; the most allowed is {max} wei", tx.value),
                    )),
                    _ => Ok(()),
                }
            }
            Payload::Authorization(auth) => {
                if auth.chain_id == 0 {
                    if !self.allow_chain_id_zero {
                        return Err(refuse(
                            "allow_chain_id_zero",
                            "an authorization for chain id 0 is valid on every chain; give the chain it is for, or set allow_chain_id_zero = true in this environment's policy",
                        ));
                    }
                } else {
                    self.chain(auth.chain_id, "the authorization")?;
                }
                self.target(Some(auth.delegate), "the authorization's delegate")
            }
        }
    }

    fn chain(&self, id: u64, what: &str) -> Result<(), Refusal> {
        match &self.chain_ids {
            Some(ids) if !ids.contains(&id) => {
                let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
                Err(refuse(
                    "chain_ids",
                    format!("{what} is for chain {id}; allowed chains: {}", ids.join(", ")),
                ))
            }
            _ => Ok(()),
        }
    }

    fn target(&self, address: Option<Address>, what: &str) -> Result<(), Refusal> {
        match (&self.allowed_to, address) {
            (None, _) => Ok(()),
            (Some(allowed), Some(address)) if allowed.contains(&address) => Ok(()),
            (Some(_), Some(address)) => {
                Err(refuse("allowed_to", format!("{what} {address} is not among the allowed addresses")))
            }
            (Some(_), None) => Err(refuse(
                "allowed_to",
                format!(
                    "{what} is missing (a contract creation, or a domain without one); this policy allows only listed addresses"
                ),
            )),
        }
    }
}

fn list_or_nothing(items: &[&str]) -> String {
    if items.is_empty() { "nothing".to_owned() } else { items.join(", ") }
}

/// The policies of one environment or function: a default, and per API
/// key id the fields that differ from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyBook {
    default: Policy,
    keys: BTreeMap<String, Policy>,
}

/// The Lambda's `ROSSIGNOL_POLICY`: the policy's fields, and `keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BookSpec {
    #[serde(flatten)]
    default: PolicySpec,
    #[serde(default)]
    keys: BTreeMap<String, PolicySpec>,
}

impl PolicyBook {
    /// One policy for every caller.
    pub fn single(policy: Policy) -> Self {
        PolicyBook { default: policy, keys: BTreeMap::new() }
    }

    /// A default and per-key overrides, each validated; errors name
    /// `name.field` or `name.keys.ID.field`.
    pub fn from_specs(
        default: &PolicySpec,
        keys: &BTreeMap<String, PolicySpec>,
        name: &str,
    ) -> Result<Self, String> {
        let book = PolicyBook {
            default: Policy::from_spec(default, name)?,
            keys: keys
                .iter()
                .map(|(id, spec)| {
                    let policy =
                        Policy::from_spec(&default.overridden_by(spec), &format!("{name}.keys.{id}"))?;
                    Ok((id.clone(), policy))
                })
                .collect::<Result<_, String>>()?,
        };
        Ok(book)
    }

    /// Reads the Lambda's JSON form (see the module documentation).
    pub fn from_json(text: &str, name: &str) -> Result<Self, String> {
        let spec: BookSpec = serde_json::from_str(text).map_err(|e| {
            format!("{name} is not a valid policy ({e}); see the README's \"Signing policy\" for its fields")
        })?;
        Self::from_specs(&spec.default, &spec.keys, name)
    }

    /// The policy for a caller with this API key id.
    pub fn for_caller(&self, api_key_id: Option<&str>) -> &Policy {
        api_key_id.and_then(|id| self.keys.get(id)).unwrap_or(&self.default)
    }
}
