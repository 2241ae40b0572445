//! From a validated environment to a [`Custodian`]: the clients, stores,
//! seals and custody it describes. Configuration parsing and validation
//! stay in [`crate::config`]; each kind of store is built in a file of
//! its own here, and each kind of seal in `seal.rs`. Nothing is contacted
//! while building.

mod aws;
mod dynamodb;
mod embedded;
mod postgres;
mod seal;
mod secrets;

use std::sync::Arc;

use crate::config::{Environment, ProviderSpec, SealSpec, StoreSpec};
use crate::custodian::Custodian;
use crate::custody::{Custody, Provider, ShardedCustody, SingleCustody};
use crate::error::Result;
use crate::identity::AwsIdentity;
use crate::seal::Sealer;

/// A provider's store and trail, and what its seal may need from them.
struct Built {
    store: Arc<dyn crate::store::AccountStore>,
    trail: Arc<dyn crate::access::AccessTrail>,
    /// A KMS client in the store's AWS account and region, for KMS seals.
    kms: Option<aws_sdk_kms::Client>,
    identity: Option<Arc<AwsIdentity>>,
}

impl Environment {
    /// Builds the environment's custody: one provider, or k-of-n across
    /// its providers.
    pub async fn connect(&self) -> Result<Custodian> {
        let (custody, identity): (Arc<dyn Custody>, Option<Arc<AwsIdentity>>) = match &self.store {
            StoreSpec::Sharded { threshold, providers } => {
                let mut built = Vec::with_capacity(providers.len());
                let mut identity = None;
                for spec in providers {
                    let (provider, provider_identity) = connect_provider(spec, &self.name).await?;
                    identity = identity.or(provider_identity);
                    built.push(provider);
                }
                (Arc::new(ShardedCustody::new(&self.name, *threshold, built)?), identity)
            }
            _ => {
                let spec = self.single_provider().unwrap_or_else(|| unreachable!("not sharded"));
                let (provider, identity) = connect_provider(&spec, &self.name).await?;
                (Arc::new(SingleCustody::new(provider)), identity)
            }
        };
        Ok(Custodian::with_custody(custody).with_aws_identity(identity).with_policies(self.policy.clone()))
    }

    /// A sealer for `spec` in this environment (its AWS settings for KMS),
    /// such as the target of `rossignol reseal`. A local key file is
    /// created (0600) when missing; the embedded store takes local keys only.
    pub async fn sealer(&self, spec: &SealSpec) -> Result<Arc<dyn Sealer>> {
        let reach = match &self.store {
            StoreSpec::Dynamodb { aws, .. } => Some(aws),
            _ => self.kms.as_ref(),
        };
        let kms = match (reach, spec) {
            (Some(reach), SealSpec::Kms { .. }) => {
                Some(aws::kms_client(&aws::sdk_config(&self.name, reach).await?, reach))
            }
            _ => None,
        };
        let secrets = secrets::Secrets { env: &self.name, provider: &self.name, reach };
        seal::build(spec, kms.as_ref(), &secrets, true).await
    }
}

/// One provider: its store and trail by kind, then its seal. With
/// `also_open` seals, the sealer is a [`crate::seal::SealRing`].
async fn connect_provider(spec: &ProviderSpec, env: &str) -> Result<(Provider, Option<Arc<AwsIdentity>>)> {
    let reach = match &spec.store {
        StoreSpec::Dynamodb { aws, .. } => Some(aws),
        _ => spec.kms.as_ref(),
    };
    let secrets = secrets::Secrets { env, provider: &spec.name, reach };
    let mut built = match &spec.store {
        StoreSpec::Embedded { path } => embedded::build(path, &spec.table)?,
        StoreSpec::Postgres { url } => postgres::build(url, &spec.table, &secrets).await?,
        StoreSpec::Dynamodb { aws, sse_kms_key_id, access_table } => {
            dynamodb::build(env, &spec.table, aws, sse_kms_key_id.as_deref(), access_table).await?
        }
        StoreSpec::Sharded { .. } => {
            return Err(crate::Error::Config(format!("provider `{}` cannot itself be sharded", spec.name)));
        }
    };
    if let Some(reach) = &spec.kms {
        built.kms = Some(aws::kms_client(&aws::sdk_config(env, reach).await?, reach));
    }
    let sealer = seal::with_also_open(&spec.seal, &spec.also_open, built.kms.as_ref(), &secrets).await?;
    let provider = Provider { name: spec.name.clone(), store: built.store, sealer, trail: built.trail };
    Ok((provider, built.identity))
}
