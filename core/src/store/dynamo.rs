//! The DynamoDB store: one table per environment, partition key `address`
//! (S), no sort key.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, ScalarAttributeType, SseSpecification, SseStatus, SseType, TableStatus,
};

use super::{
    ADDRESS, AccountStore, Attr, CheckStatus, Cursor, InitOutcome, Item, Page, Segment, SettingCheck,
    TableReport,
};
use crate::account::Address;
use crate::aws::sdk_error;
use crate::error::{Error, Result};

const SERVICE: &str = "DynamoDB";

/// How long `init` waits for a new table to become active.
const CREATE_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// A custom endpoint (DynamoDB Local) reports less than AWS does.
    custom_endpoint: Option<String>,
    /// A customer-managed KMS key for table encryption; AWS-managed if unset.
    sse_kms_key_id: Option<String>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into(), custom_endpoint: None, sse_kms_key_id: None }
    }

    /// Marks the store as talking to a non-AWS endpoint such as DynamoDB
    /// Local, which does not report encryption or backup settings.
    pub fn with_custom_endpoint(mut self, endpoint: Option<String>) -> Self {
        self.custom_endpoint = endpoint;
        self
    }

    pub fn with_sse_kms_key(mut self, key_id: Option<String>) -> Self {
        self.sse_kms_key_id = key_id;
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn location(&self) -> String {
        self.custom_endpoint.clone().unwrap_or_else(|| "AWS".to_owned())
    }

    fn table_missing(&self) -> Error {
        Error::TableMissing { table: self.table.clone() }
    }
}

fn to_attribute(attr: &Attr) -> AttributeValue {
    match attr {
        Attr::S(s) => AttributeValue::S(s.clone()),
        Attr::N(n) => AttributeValue::N(n.clone()),
        Attr::B(b) => AttributeValue::B(Blob::new(b.clone())),
        Attr::Bool(b) => AttributeValue::Bool(*b),
    }
}

fn to_item(attributes: HashMap<String, AttributeValue>) -> Item {
    let mut item = Item::default();
    for (name, value) in attributes {
        let attr = match value {
            AttributeValue::S(s) => Attr::S(s),
            AttributeValue::N(n) => Attr::N(n),
            AttributeValue::B(b) => Attr::B(b.into_inner()),
            AttributeValue::Bool(b) => Attr::Bool(b),
            // Rossignol writes none of the others; keep the name visible to
            // audits without guessing at a value.
            other => Attr::S(format!("<unsupported DynamoDB type {:?}>", attribute_type(&other))),
        };
        item.0.insert(name, attr);
    }
    item
}

fn attribute_type(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::L(_) => "L",
        AttributeValue::M(_) => "M",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        AttributeValue::Null(_) => "NULL",
        _ => "unknown",
    }
}

#[async_trait]
impl AccountStore for DynamoStore {
    fn table(&self) -> &str {
        &self.table
    }

    async fn create(&self, item: &Item) -> Result<()> {
        let address = item.address().unwrap_or_default().to_owned();
        let attributes: HashMap<String, AttributeValue> =
            item.0.iter().map(|(name, attr)| (name.clone(), to_attribute(attr))).collect();
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attributes))
            .condition_expression("attribute_not_exists(#address)")
            .expression_attribute_names("#address", ADDRESS)
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("ConditionalCheckFailedException") => {
                    Error::AlreadyExists { address, table: self.table.clone() }
                }
                Some("ResourceNotFoundException") => self.table_missing(),
                _ => sdk_error(SERVICE, "PutItem", e),
            })?;
        Ok(())
    }

    async fn get(&self, address: &Address) -> Result<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ADDRESS, AttributeValue::S(address.to_storage()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("ResourceNotFoundException") => self.table_missing(),
                _ => sdk_error(SERVICE, "GetItem", e),
            })?;
        Ok(output.item.map(to_item))
    }

    async fn scan_segment(&self, segment: Segment, after: Option<&Cursor>, limit: usize) -> Result<Page> {
        let mut request =
            self.client.scan().table_name(&self.table).limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX));
        if segment.total > 1 {
            request = request.segment(segment.index as i32).total_segments(segment.total as i32);
        }
        if let Some(cursor) = after {
            request = request.exclusive_start_key(ADDRESS, AttributeValue::S(cursor.0.clone()));
        }
        let output = request.send().await.map_err(|e| match e.code() {
            Some("ResourceNotFoundException") => self.table_missing(),
            _ => sdk_error(SERVICE, "Scan", e),
        })?;
        let next = output
            .last_evaluated_key
            .and_then(|mut key| key.remove(ADDRESS))
            .and_then(|value| value.as_s().ok().cloned())
            .map(Cursor);
        let items = output.items.unwrap_or_default().into_iter().map(to_item).collect();
        Ok(Page { items, next })
    }

    async fn describe(&self) -> Result<TableReport> {
        let output =
            self.client.describe_table().table_name(&self.table).send().await.map_err(|e| {
                match e.code() {
                    Some("ResourceNotFoundException") => self.table_missing(),
                    _ => sdk_error(SERVICE, "DescribeTable", e),
                }
            })?;
        let table = output.table.ok_or_else(|| self.table_missing())?;
        let mut checks = vec![key_schema_check(&table), billing_check(&table), self.encryption_check(&table)];
        checks.push(self.backup_check().await?);
        Ok(TableReport {
            table: self.table.clone(),
            location: self.location(),
            item_count: table.item_count.and_then(|n| u64::try_from(n).ok()),
            item_count_is_estimate: true,
            checks,
        })
    }

    async fn init(&self) -> Result<InitOutcome> {
        let created = match self.describe().await {
            Ok(_) => false,
            Err(Error::TableMissing { .. }) => {
                self.create_table().await?;
                true
            }
            Err(e) => return Err(e),
        };
        if created {
            self.enable_point_in_time_recovery().await?;
        }
        Ok(InitOutcome { created, report: self.describe().await? })
    }
}

impl DynamoStore {
    async fn create_table(&self) -> Result<()> {
        let definition = AttributeDefinition::builder()
            .attribute_name(ADDRESS)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let key = KeySchemaElement::builder()
            .attribute_name(ADDRESS)
            .key_type(KeyType::Hash)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let sse = SseSpecification::builder()
            .enabled(true)
            .sse_type(SseType::Kms)
            .set_kms_master_key_id(self.sse_kms_key_id.clone())
            .build();
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(definition)
            .key_schema(key)
            .billing_mode(BillingMode::PayPerRequest)
            .sse_specification(sse)
            .send()
            .await;
        match created {
            Ok(_) => {}
            // Someone else created it meanwhile: fine, it is checked below.
            Err(e) if e.code() == Some("ResourceInUseException") => {}
            Err(e) => return Err(sdk_error(SERVICE, "CreateTable", e)),
        }

        let deadline = tokio::time::Instant::now() + CREATE_TIMEOUT;
        loop {
            let status = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .ok()
                .and_then(|o| o.table)
                .and_then(|t| t.table_status);
            if status == Some(TableStatus::Active) {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Service {
                    service: SERVICE,
                    operation: "CreateTable",
                    message: format!("table {} did not become active within {CREATE_TIMEOUT:?}", self.table),
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn enable_point_in_time_recovery(&self) -> Result<()> {
        let spec = PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(true)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        match self
            .client
            .update_continuous_backups()
            .table_name(&self.table)
            .point_in_time_recovery_specification(spec)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // DynamoDB Local does not implement continuous backups; the
            // report says so instead of pretending.
            Err(e) if e.code() == Some("UnknownOperationException") => Ok(()),
            Err(e) => Err(sdk_error(SERVICE, "UpdateContinuousBackups", e)),
        }
    }

    fn encryption_check(&self, table: &aws_sdk_dynamodb::types::TableDescription) -> SettingCheck {
        let setting = "encryption at rest";
        match table.sse_description.as_ref() {
            Some(sse) if sse.status == Some(SseStatus::Enabled) && sse.sse_type == Some(SseType::Kms) => {
                let key = sse.kms_master_key_arn.as_deref().unwrap_or("an AWS-managed key");
                SettingCheck { setting, status: CheckStatus::Ok, detail: format!("KMS ({key})") }
            }
            Some(sse) => SettingCheck {
                setting,
                status: CheckStatus::Wrong,
                detail: format!(
                    "SSE is {:?} with type {:?}; use a KMS key (AWS-managed or customer-managed)",
                    sse.status, sse.sse_type
                ),
            },
            None if self.custom_endpoint.is_some() => SettingCheck {
                setting,
                status: CheckStatus::NotReported,
                detail: "not reported by this endpoint".into(),
            },
            None => SettingCheck {
                setting,
                status: CheckStatus::Wrong,
                detail: "encrypted with an AWS-owned key only; switch the table to a KMS key (AWS-managed or customer-managed)".into(),
            },
        }
    }

    async fn backup_check(&self) -> Result<SettingCheck> {
        let setting = "point-in-time recovery";
        match self.client.describe_continuous_backups().table_name(&self.table).send().await {
            Ok(output) => {
                let enabled = output
                    .continuous_backups_description
                    .and_then(|d| d.point_in_time_recovery_description)
                    .and_then(|p| p.point_in_time_recovery_status)
                    .map(|s| s.as_str() == "ENABLED")
                    .unwrap_or(false);
                Ok(if enabled {
                    SettingCheck { setting, status: CheckStatus::Ok, detail: "enabled".into() }
                } else {
                    SettingCheck {
                        setting,
                        status: CheckStatus::Wrong,
                        detail: "disabled; enable it so that a mistaken write can be undone".into(),
                    }
                })
            }
            Err(e) if e.code() == Some("UnknownOperationException") => Ok(SettingCheck {
                setting,
                status: CheckStatus::NotReported,
                detail: "not reported by this endpoint".into(),
            }),
            Err(e) => Err(sdk_error(SERVICE, "DescribeContinuousBackups", e)),
        }
    }
}

fn key_schema_check(table: &aws_sdk_dynamodb::types::TableDescription) -> SettingCheck {
    let setting = "key schema";
    let keys = table.key_schema();
    let hash_is_address = keys.len() == 1
        && keys[0].attribute_name() == ADDRESS
        && keys[0].key_type() == &KeyType::Hash
        && table
            .attribute_definitions()
            .iter()
            .any(|d| d.attribute_name() == ADDRESS && d.attribute_type() == &ScalarAttributeType::S);
    if hash_is_address {
        SettingCheck {
            setting,
            status: CheckStatus::Ok,
            detail: "partition key `address` (S), no sort key".into(),
        }
    } else {
        let found: Vec<String> =
            keys.iter().map(|k| format!("{} ({})", k.attribute_name(), k.key_type().as_str())).collect();
        SettingCheck {
            setting,
            status: CheckStatus::Wrong,
            detail: format!(
                "expected partition key `address` (S) and no sort key, found {}",
                found.join(", ")
            ),
        }
    }
}

fn billing_check(table: &aws_sdk_dynamodb::types::TableDescription) -> SettingCheck {
    let setting = "billing";
    let mode = table.billing_mode_summary.as_ref().and_then(|b| b.billing_mode.clone());
    match mode {
        Some(BillingMode::PayPerRequest) => {
            SettingCheck { setting, status: CheckStatus::Ok, detail: "on-demand".into() }
        }
        Some(other) => SettingCheck {
            setting,
            status: CheckStatus::Wrong,
            detail: format!(
                "{}; on-demand is expected so that bulk creation is not throttled",
                other.as_str()
            ),
        },
        None => SettingCheck {
            setting,
            status: CheckStatus::Wrong,
            detail: "provisioned capacity; on-demand is expected so that bulk creation is not throttled"
                .into(),
        },
    }
}
