//! What only the DynamoDB store does: table bootstrap and settings checks
//! on DynamoDB Local, and the failures DynamoDB Local cannot produce
//! (throttling), scripted with aws-smithy-mocks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use aws_sdk_dynamodb::error::ErrorMetadata;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::types::error::ProvisionedThroughputExceededException;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use rossignol_core::store::dynamo::DynamoStore;
use rossignol_core::store::{AccountStore, Attr, CheckStatus, Item};
use rossignol_core::{Address, Error};
use support::TestTable;

#[tokio::test]
async fn init_creates_the_table_and_says_what_this_endpoint_does_not_report() {
    let Some(table) = TestTable::unmade("init").await else { return };
    let outcome = table.store.init().await.unwrap();
    assert!(outcome.created);
    let checks = &outcome.report.checks;
    let status = |name: &str| checks.iter().find(|c| c.setting == name).map(|c| (c.status, c.detail.clone()));
    assert_eq!(status("key schema").unwrap().0, CheckStatus::Ok);
    assert_eq!(status("billing").unwrap().0, CheckStatus::Ok);
    for setting in ["encryption at rest", "point-in-time recovery"] {
        let (status, detail) = status(setting).unwrap();
        assert_eq!(status, CheckStatus::NotReported, "{setting}");
        assert_eq!(detail, "not reported by this endpoint");
    }
    assert!(outcome.report.is_healthy());

    let described = table.client.describe_table().table_name(&table.name).send().await.unwrap();
    let description = described.table.unwrap();
    assert_eq!(description.key_schema().len(), 1);
    assert_eq!(description.key_schema()[0].attribute_name(), "address");

    let again = table.store.init().await.unwrap();
    assert!(!again.created);
}

#[tokio::test]
async fn a_missing_table_says_to_run_init() {
    let Some(table) = TestTable::unmade("missing").await else { return };
    let err = table.store.get(&Address::from_bytes([1; 20])).await.unwrap_err();
    assert!(matches!(err, Error::TableMissing { .. }), "{err}");
    assert!(err.to_string().contains("rossignol init"), "{err}");
    let mut item = Item::default();
    item.insert("address", Attr::S(Address::from_bytes([1; 20]).to_storage()));
    assert!(matches!(table.store.create(&item).await, Err(Error::TableMissing { .. })));
    assert!(matches!(table.store.describe().await, Err(Error::TableMissing { .. })));
}

#[tokio::test]
async fn a_table_with_the_wrong_key_schema_is_flagged() {
    let Some(table) = TestTable::unmade("wrongkey").await else { return };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key =
        |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap();
    table
        .client
        .create_table()
        .table_name(&table.name)
        .attribute_definitions(attribute("address"))
        .attribute_definitions(attribute("created_at"))
        .key_schema(key("address", KeyType::Hash))
        .key_schema(key("created_at", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let report = table.store.describe().await.unwrap();
    let check = report.checks.iter().find(|c| c.setting == "key schema").unwrap();
    assert_eq!(check.status, CheckStatus::Wrong);
    assert!(check.detail.contains("created_at (RANGE)"), "{}", check.detail);
    assert!(!report.is_healthy());
}

/// The error as DynamoDB sends it: the code travels in the metadata.
fn throttled() -> PutItemError {
    let code = "ProvisionedThroughputExceededException";
    PutItemError::ProvisionedThroughputExceededException(
        ProvisionedThroughputExceededException::builder()
            .message("slow down")
            .meta(ErrorMetadata::builder().code(code).message("slow down").build())
            .build(),
    )
}

fn item() -> Item {
    let mut item = Item::default();
    item.insert("address", Attr::S(Address::from_bytes([2; 20]).to_storage()));
    item
}

#[tokio::test]
async fn throttling_is_retried_with_backoff() {
    let rule = mock!(aws_sdk_dynamodb::Client::put_item)
        .sequence()
        .error(throttled)
        .times(3)
        .output(|| PutItemOutput::builder().build())
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&rule], |config| {
        config.retry_config(rossignol_core::aws::retry_config())
    });
    DynamoStore::new(client, "t").create(&item()).await.unwrap();
    assert_eq!(rule.num_calls(), 4);
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_says_so() {
    let rule = mock!(aws_sdk_dynamodb::Client::put_item).sequence().error(throttled).times(20).build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&rule], |config| {
        config.retry_config(rossignol_core::aws::retry_config())
    });
    let err = DynamoStore::new(client, "t").create(&item()).await.unwrap_err();
    assert!(matches!(err, Error::Throttled { .. }), "{err}");
    assert!(err.to_string().contains("after retries with backoff"), "{err}");
    assert_eq!(rule.num_calls(), 8);
}
