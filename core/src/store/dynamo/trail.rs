//! The access trail on DynamoDB: its own table, partition key `address`,
//! sort key `accessed`.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, KeyType};

use super::{SERVICE, table, to_attributes, to_item};
use crate::access::{ACCESSED, AccessRecord, AccessTrail, RUNS, RunRecord};
use crate::account::Address;
use crate::aws::sdk_error;
use crate::error::{Error, Result};
use crate::store::{ADDRESS, Item};

#[derive(Debug, Clone)]
pub struct DynamoTrail {
    client: Client,
    table: String,
    sse_kms_key_id: Option<String>,
}

impl DynamoTrail {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoTrail { client, table: table.into(), sse_kms_key_id: None }
    }

    pub fn with_sse_kms_key(mut self, key_id: Option<String>) -> Self {
        self.sse_kms_key_id = key_id;
        self
    }

    /// The default name beside an accounts table.
    pub fn default_table(accounts_table: &str) -> String {
        format!("{accounts_table}_access")
    }

    fn missing(&self) -> Error {
        Error::TableMissing { table: self.table.clone() }
    }

    /// Puts `item`, never over an existing entry; `subject` names it in errors.
    async fn put(&self, item: Item, subject: &str) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attributes(&item)))
            .condition_expression("attribute_not_exists(#accessed)")
            .expression_attribute_names("#accessed", ACCESSED)
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("ResourceNotFoundException") => self.missing(),
                Some("ConditionalCheckFailedException") => {
                    Error::AlreadyExists { address: subject.to_owned(), table: self.table.clone() }
                }
                _ => sdk_error(SERVICE, "PutItem", e),
            })?;
        Ok(())
    }

    /// The latest `limit` entries of one partition, newest first.
    async fn query(&self, partition: &str, limit: usize) -> Result<Vec<Item>> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#address = :address")
            .expression_attribute_names("#address", ADDRESS)
            .expression_attribute_values(":address", AttributeValue::S(partition.to_owned()))
            .scan_index_forward(false)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("ResourceNotFoundException") => self.missing(),
                _ => sdk_error(SERVICE, "Query", e),
            })?;
        Ok(output.items.unwrap_or_default().into_iter().map(to_item).collect())
    }
}

#[async_trait]
impl AccessTrail for DynamoTrail {
    fn name(&self) -> &str {
        &self.table
    }

    async fn append(&self, record: &AccessRecord) -> Result<()> {
        self.put(record.to_item(), &record.address.to_string()).await
    }

    async fn latest(&self, address: &Address, limit: usize) -> Result<Vec<AccessRecord>> {
        let items = self.query(&address.to_storage(), limit).await?;
        items.iter().map(AccessRecord::from_item).collect()
    }

    async fn append_run(&self, run: &RunRecord) -> Result<()> {
        self.put(run.to_item(), RUNS).await
    }

    async fn latest_runs(&self, limit: usize) -> Result<Vec<RunRecord>> {
        let items = self.query(RUNS, limit).await?;
        items.iter().map(RunRecord::from_item).collect()
    }

    async fn init(&self) -> Result<bool> {
        match self.client.describe_table().table_name(&self.table).send().await {
            Ok(_) => Ok(false),
            Err(e) if e.code() == Some("ResourceNotFoundException") => {
                let keys = [(ADDRESS, KeyType::Hash), (ACCESSED, KeyType::Range)];
                table::create(&self.client, &self.table, &keys, self.sse_kms_key_id.as_deref()).await?;
                table::enable_point_in_time_recovery(&self.client, &self.table).await?;
                Ok(true)
            }
            Err(e) => Err(sdk_error(SERVICE, "DescribeTable", e)),
        }
    }
}
