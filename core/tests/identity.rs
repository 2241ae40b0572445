#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The caller's AWS identity in the access trail: in an AWS environment,
//! STS GetCallerIdentity (moto) is asked once and its ARN recorded beside
//! the local `actor`; when it cannot be resolved, no key is used.

mod support;

use rossignol_core::config::{Config, Source};
use rossignol_core::{Error, Requester};
use support::{DYNAMODB_ENDPOINT, KMS_ENDPOINT, random_suffix, server};

/// A DynamoDB Local environment whose STS is `sts`, its tables made.
async fn environment(dir: &std::path::Path, sts: &str) -> rossignol_core::Custodian {
    let dynamodb = server(DYNAMODB_ENDPOINT, "DynamoDB Local").unwrap();
    let text = format!(
        "default = \"aws\"\n[environments.aws]\ntable = \"identity_{}\"\nregion = \"eu-central-1\"\n\
         endpoint_url = \"{dynamodb}\"\nsts_endpoint_url = \"{sts}\"\nlocal_key_file = \"dev.key\"\n",
        random_suffix()
    );
    let config = Config::parse(&text, Source::File(dir.join("rossignol.toml"))).unwrap();
    let custodian = config.environment(None).unwrap().connect().await.unwrap();
    custodian.init().await.unwrap();
    custodian
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_environment_records_the_callers_arn_beside_the_local_user() {
    let Some(moto) = server(KMS_ENDPOINT, "moto (STS)") else { return };
    if server(DYNAMODB_ENDPOINT, "DynamoDB Local").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let custodian = environment(dir.path(), &moto).await;
    let account = custodian.create("test").await.unwrap();
    let requester = Requester::operator("cli-reveal", "rossignol-cli:mallory-says-alice");
    custodian.reveal(&account.address, &requester).await.unwrap();
    custodian.reveal(&account.address, &requester).await.unwrap();

    let trail = custodian.trail().latest(&account.address, 5).await.unwrap();
    assert_eq!(trail.len(), 2);
    for entry in &trail {
        assert_eq!(entry.actor.as_deref(), Some("rossignol-cli:mallory-says-alice"));
        let arn = entry.aws_identity.as_deref().unwrap_or_default();
        assert!(arn.starts_with("arn:aws:"), "the ARN STS gave: {arn:?}");
    }
    assert_eq!(custodian.aws_identity().await.unwrap().as_deref(), trail[0].aws_identity.as_deref());
}

/// STS answered by a server that is not STS (DynamoDB Local): the reveal
/// fails closed, nothing is recorded and nothing is revealed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_that_cannot_be_resolved_fails_closed() {
    let Some(dynamodb) = server(DYNAMODB_ENDPOINT, "DynamoDB Local") else { return };
    let dir = tempfile::tempdir().unwrap();
    let custodian = environment(dir.path(), &dynamodb).await;
    let account = custodian.create("test").await.unwrap();
    let requester = Requester::operator("cli-reveal", "rossignol-cli:alice");
    let err = custodian.reveal(&account.address, &requester).await.unwrap_err();
    assert!(matches!(err, Error::Identity { .. }), "{err}");
    assert!(err.to_string().contains("sts_endpoint_url"), "{err}");
    assert!(custodian.trail().latest(&account.address, 5).await.unwrap().is_empty());
}

/// Outside AWS (DynamoDB Local without `sts_endpoint_url`, or embedded),
/// no STS is asked and none is needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_environment_needs_no_sts() {
    let Some(dynamodb) = server(DYNAMODB_ENDPOINT, "DynamoDB Local") else { return };
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "default = \"dev\"\n[environments.dev]\ntable = \"identity_{}\"\nregion = \"eu-central-1\"\n\
         endpoint_url = \"{dynamodb}\"\nlocal_key_file = \"dev.key\"\n",
        random_suffix()
    );
    let config = Config::parse(&text, Source::File(dir.path().join("rossignol.toml"))).unwrap();
    let custodian = config.environment(None).unwrap().connect().await.unwrap();
    custodian.init().await.unwrap();
    let account = custodian.create("test").await.unwrap();
    custodian.reveal(&account.address, &Requester::operator("cli-reveal", "alice")).await.unwrap();
    let trail = custodian.trail().latest(&account.address, 5).await.unwrap();
    assert_eq!(trail[0].aws_identity, None);
}
